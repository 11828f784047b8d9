/**
 * The RxJS operators of the streaming pipeline, one per file, and the config and builder that
 * assemble them from YAML:
 *
 * ```
 * frames ─detectGaps─validateFrames─┬─[stft]─[compress]─batchFrames─onlineNmf─share()─┬─reconstruct─▶ factors
 *                                   │  (matrix path)                                   └─metrics─────▶ metrics
 *                                   └─[stft]─window─onlineCp─────────────────────────────────────────▶ CP window updates
 *                                      (tensor path)
 * every operator ─onEvent─▶ side channel (events.ts)
 * YAML ─parsePipelineConfig (config.ts)─▶ checked stages ─buildPipeline (builder.ts)─▶ the operators, wired
 * ```
 *
 * The two paths are alternatives, not branches. `stft` turns raw samples into spectral frames
 * (bins × channels). The matrix path compresses and batches frames for `onlineNmf`; the tensor
 * path cuts them into `window`s for `onlineCp`, which compresses the time mode itself and
 * recovers each window's temporal factor, so its updates end the pipeline.
 *
 * Every operator creates its state per subscription, checks its options when it is built, and
 * reports bad data on the side channel instead of erroring the stream.
 *
 * Branching with `share()`: all branches must subscribe before the source emits. That holds for
 * sources that emit asynchronously (devices, sockets, timers); for a synchronous source (an
 * array, a file read in one go) use `connectable(...)` and `connect()` after subscribing, or a
 * late branch re-runs the source with fresh operator state (`buildPipeline(...).run` puts the
 * `connectable`s in for you).
 */
export * from './events.js';
export * from './types.js';
export * from './validate.js';
export * from './detectGaps.js';
export * from './compress.js';
export * from './batch.js';
export * from './onlineNmf.js';
export * from './reconstruct.js';
export * from './metrics.js';
export * from './window.js';
export * from './stft.js';
export * from './onlineCp.js';
export * from './config.js';
export * from './sinks/mqtt.js';
export * from './builder.js';
