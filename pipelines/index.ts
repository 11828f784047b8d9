/**
 * The RxJS operators of the streaming pipeline, one per file:
 *
 * ```
 * frames ─detectGaps─validateFrames─[compress]─batchFrames─onlineNmf─share()─┬─reconstruct─▶ factors
 *            │            │              │           │          │             └─metrics─────▶ metrics
 *            └────────────┴──────────────┴───────────┴──────────┴──── onEvent ─▶ side channel (events.ts)
 * ```
 *
 * Every operator creates its state per subscription, checks its options when it is built, and
 * reports bad data on the side channel instead of erroring the stream.
 *
 * Branching with `share()`: all branches must subscribe before the source emits. That holds for
 * sources that emit asynchronously (devices, sockets, timers); for a synchronous source (an
 * array, a file read in one go) use `connectable(...)` and `connect()` after subscribing, or a
 * late branch re-runs the source with fresh operator state.
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
