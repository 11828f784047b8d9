/**
 * `cfstream bench stream`: the synthetic model through the real pipeline operators in process
 * (pipelines/bench/stream.ts); frames/s, per-frame latency, RSS, and the quality of the
 * factors after the last reconstruction.
 */
import { benchStream } from '../../../pipelines/bench/stream.js';
import { num, parseFlags, UsageError } from '../args.js';
import { fmt, printJson, table } from '../output.js';
import { progress } from '../progress.js';

const FLAGS = {
  n: { type: 'string' }, d: { type: 'string' }, r: { type: 'string' }, k: { type: 'string' }, p: { type: 'string' },
  noise: { type: 'string' }, frames: { type: 'string' }, batch: { type: 'string' }, 'warm-start': { type: 'string' },
  seed: { type: 'string' }, pool: { type: 'string' }, chunk: { type: 'string' }, 'reconstruct-ms': { type: 'string' },
  'max-wait-ms': { type: 'string' }, jit: { type: 'string' }, holdout: { type: 'string' }, raw: { type: 'boolean' }, json: { type: 'boolean' },
} as const;

/** Usage line (for the CLI help). */
export const BENCH_STREAM_USAGE =
  'cfstream bench stream [--n 2000 --d 400 --r 10 --k 40 --p 5 --noise 0.1 --frames 20000 --batch 32 --warm-start 0 --seed 0]\n' +
  '                      [--pool 4096 --chunk 1024 --reconstruct-ms 1000 --max-wait-ms 100 --jit 4000] [--holdout 0] [--raw] [--json]';

/** Entry point of `cfstream bench stream` (argv after the benchmark name); resolves to the exit code. */
export async function benchStreamCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseFlags('bench stream', argv, FLAGS);
  if (positionals.length) throw new UsageError(`bench stream: unexpected argument ${JSON.stringify(positionals[0])}`);
  const n = num('n', v.n, { int: true, min: 2, def: 2000 });
  const d = num('d', v.d, { int: true, min: 1, max: n - 1, def: 400 });
  const r = num('r', v.r, { int: true, min: 1, max: d, def: 10 });
  const k = num('k', v.k, { int: true, min: 1, max: n, def: 40 });
  const p = num('p', v.p, { int: true, min: 1, max: d, def: 5 });
  const noise = num('noise', v.noise, { min: 0, def: 0.1 });
  const frames = num('frames', v.frames, { int: true, min: 1, def: 20_000 });
  const batch = num('batch', v.batch, { int: true, min: 1, max: 4096, def: 32 });
  const warmStartFrames = num('warm-start', v['warm-start'], { int: true, min: 0, def: 0 });
  if (warmStartFrames > 0 && warmStartFrames < r) throw new UsageError(`--warm-start must be 0 or ≥ r = ${r}; got ${warmStartFrames}`);
  if (warmStartFrames >= frames) throw new UsageError(`--warm-start must be below --frames = ${frames}; got ${warmStartFrames}`);
  const seed = num('seed', v.seed, { int: true, def: 0 });
  const pool = num('pool', v.pool, { int: true, min: 1, def: 4096 });
  const chunk = num('chunk', v.chunk, { int: true, min: 1, max: 32_768, def: 1024 });
  const reconstructEveryMs = num('reconstruct-ms', v['reconstruct-ms'], { min: 0, def: 1000 });
  const maxWaitMs = num('max-wait-ms', v['max-wait-ms'], { min: 0, def: 100 });
  const jitFrames = num('jit', v.jit, { int: true, min: 0, def: 4000 });
  const holdout = num('holdout', v.holdout, { int: true, min: 0, max: d - r, def: 0 });
  const raw = Boolean(v.raw);

  const bar = progress('bench stream', !v.json);
  const res = await benchStream({
    n, d, r, k, p, noise, frames, batch, warmStartFrames, seed, pool, chunk, reconstructEveryMs, maxWaitMs, jitFrames, holdout, raw,
    onProgress: (f) => bar.update(f),
  });
  bar.done();
  if (v.json) {
    printJson({ options: { n, d, r, k, p, noise, frames, batch, warmStartFrames, seed, pool, chunk, reconstructEveryMs, maxWaitMs, jitFrames, holdout, raw }, ...res });
    return 0;
  }
  const out = process.stdout;
  out.write(`bench stream: n=${n} d=${d} r=${r} k=${k} p=${p} noise=${noise} frames=${frames} batch=${batch} warm-start=${warmStartFrames} seed=${seed}\n`);
  out.write(`source: ${pool} ${raw ? 'raw frames (compress operator in the pipeline)' : 'pre-compressed frames'}, cycled, ${chunk} per macrotask; kernels: ${res.backend}\n`);
  out.write(table(
    ['frames/s', 'p50 ms', 'p99 ms', 'max ms', 'RSS MB', 'errCompressed', 'errW'],
    [[Math.round(res.framesPerSecond).toString(), fmt(res.p50Ms, 4), fmt(res.p99Ms, 4), fmt(res.maxMs, 2), fmt(res.rssEndMB, 1), fmt(res.errCompressed, 4), fmt(res.errW, 4)]],
  ) + '\n');
  out.write(`reconstructions: ${res.reconstructions} (skipped ${res.skipped}, failed ${res.failures}); last took ${fmt(res.lastReconstructionSeconds, 3)} s (sliced: the event loop was held ≤ ${fmt(res.longestSliceMs, 1)} ms at a time), residual ${res.reconstructionResidual.toExponential(1)}\n`);
  if (warmStartFrames > 0) out.write(`warm start: ${fmt(res.warmStartSeconds, 3)} s (its ${warmStartFrames} frames are left out of frames/s and the percentiles)\n`);
  if (res.quality) {
    out.write(`quality without ground truth (${holdout} held-out rows, last 256 frames): held-out error ${fmt(res.quality.heldOutError, 4)}, compressed fit ${fmt(res.quality.compressedError, 4)}; true ‖x − W·h‖/‖x‖ over the pool ${fmt(res.quality.trueError, 4)}\n`);
  }
  out.write(`clipped negative entries: ${res.clipped}; rejected frames: ${res.rejects}; gaps: ${res.gaps}\n`);
  if (Number.isFinite(res.rssAt100kMB)) {
    out.write(`RSS after 100,000 frames: ${fmt(res.rssAt100kMB, 1)} MB; at the end (${frames} frames): ${fmt(res.rssEndMB, 1)} MB (${res.rssGrowth >= 0 ? '+' : ''}${fmt(100 * res.rssGrowth, 1)}%)\n`);
  }
  return 0;
}
