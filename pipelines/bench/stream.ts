/**
 * `cfstream bench stream`: the paper's synthetic model streamed through the REAL pipeline
 * operators, in process:
 *
 *   source (Observable<Frame>) → detectGaps → validateFrames → [compress, with `raw`]
 *     → batchFrames → onlineNmf → share() ─┬─ reconstruct (every `reconstructEveryMs`, and a final one)
 *                                            └─ metrics
 *
 *   frames   a pool of `pool` frames drawn from the model, generated before timing and cycled:
 *            W (n×r) = the paper's W for `seed` (generateSyntheticModel: k non-zeros per column,
 *            |N(0,1)| values), h ~ |N(0,1)|/√pool (so the codes of one pool pass have rows of
 *            norm ≈ 1, like the batch model's H), x = W h + e with e ~ N(0, σ²I_n),
 *            σ² = noise²·E‖Wh‖²/n (the batch model's ‖E‖_F = noise·‖WH‖_F, as benchOnline.ts),
 *            y = P x. The compressed frames are NOT clipped at the source (a hardware front-end
 *            outputs the noisy y as it is): onlineNmf clips the negative entries and counts them.
 *            By default the pool holds compressed frames (the front-end ran "in hardware");
 *            with `raw` it holds x and the `compress` operator runs in the pipeline.
 *   source   emits `chunk` frames per macrotask (setImmediate between chunks, as a device's
 *            reads arrive), each a new Frame { seq, t = seq/rate, values: a view into the pool }.
 *            It records the time of each emission (performance.now).
 *   timing   latency per frame = its emission by the source → the end of the model update that
 *            took it (ModelUpdate.doneAt); frames/s = steady frames / (last update done − start),
 *            start = the first emission, or with a warm start the end of the warm-start update
 *            (which runs a batch NMF; its frames and that call are left out of the rate and the
 *            percentiles, as in benchOnline.ts). Everything on the event loop counts: the
 *            operators, the source, metrics, and the slices of periodic reconstructions.
 *            A throw-away run of `jitFrames` frames first lets the JIT compile (not counted).
 *   memory   RSS every 100,000 frames; `rssGrowth` = RSS at the end / RSS after 100,000 − 1.
 *   quality  after the final reconstruction (the model after the last frame): W̃ and W = R_P(W̃)
 *            from the last `FactorsMessage`, columns rescaled as benchOnline.ts does (so the
 *            model's codes of the pool have unit-norm rows, like the true H; R_P is positively
 *            homogeneous, so scaling W̃ or W is the same): errCompressed = matchedError(P·W, W̃),
 *            errW = matchedError(W, R_P(W̃)).
 * Seeds: W from `seed`, P from `seed + 1`, the model from `seed + 2`, the pool from `seed + 3`.
 */
import { Observable, share, Subject, tap } from 'rxjs';
import { matchedError } from '../../src/compressed/metrics.js';
import type { Frame, StreamInfo } from '../../src/frames/index.js';
import type { OnlineNMF } from '../../src/factorize/online/nmf.js';
import { fromColumns, scaleColumns, type Matrix } from '../../src/linalg/matrix.js';
import { Rng } from '../../src/linalg/random.js';
import { makeProjection, rowBlock, type Projection, type ProjectionSpec } from '../../src/sensing/index.js';
import { generateSyntheticModel } from '../../src/experiments/syntheticModel.js';
import type { BenchOnlineOptions } from '../../src/experiments/benchOnline.js';
import {
  batchFrames, compress, detectGaps, metrics, onlineNmf, reconstruct, validateFrames,
  type FactorsMessage, type MetricsSnapshot, type ModelUpdate, type PipelineEvent,
} from '../index.js';

/** Options of `benchStream`. */
export interface BenchStreamOptions
  extends Pick<BenchOnlineOptions, 'n' | 'd' | 'r' | 'k' | 'frames' | 'batch' | 'warmStartFrames' | 'seed' | 'p' | 'noise'> {
  /** 4096: frames in the pregenerated pool. */
  pool?: number;
  /** 0: onlineNmf's holdoutRows; > 0 reports `quality`, the held-out estimate next to the true error. */
  holdout?: number;
  /** false: pool of raw frames x and the `compress` operator in the pipeline. */
  raw?: boolean;
  /** 1024: frames the source emits per macrotask. */
  chunk?: number;
  /** 1000: reconstruct's everyMs (0 = only the final reconstruction). */
  reconstructEveryMs?: number;
  /** 100: batchFrames' maxWaitMs. */
  maxWaitMs?: number;
  /** 4000: frames of the JIT warm-up run (0 = none). */
  jitFrames?: number;
  /** Nominal frame rate for the time stamps t = seq / rate (250). */
  rate?: number;
  /** Called with the fraction of frames done. */
  onProgress?: (fraction: number) => void;
}

/** Result of `benchStream`. */
export interface BenchStreamResult {
  /** Steady frames per second through the whole pipeline (see the module header). */
  framesPerSecond: number;
  /** Per-frame latency, source emission → model updated (ms). */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Seconds from the first emission to the last model update. */
  seconds: number;
  /** Seconds of the warm-start update (batch NMF), 0 without one. */
  warmStartSeconds: number;
  /** Matched errors after the final reconstruction (see the module header). */
  errCompressed: number;
  errW: number;
  /** Reconstructions emitted (the final one included), skipped while one ran, and failed. */
  reconstructions: number;
  skipped: number;
  failures: number;
  /** Seconds of the last reconstruction (r column solves, sliced). */
  lastReconstructionSeconds: number;
  /** The longest single column solve of any reconstruction (ms): the longest a reconstruction held the event loop. */
  longestSliceMs: number;
  /** Residual ‖P·W − W̃‖/‖W̃‖ of the last reconstruction. */
  reconstructionResidual: number;
  /** RSS (MB) every 100,000 frames: [frames, MB]. */
  rss: Array<[number, number]>;
  /** RSS (MB) after 100,000 frames (NaN for shorter runs) and at the end of the stream. */
  rssAt100kMB: number;
  rssEndMB: number;
  /** rssEndMB / rssAt100kMB − 1 (NaN for shorter runs). */
  rssGrowth: number;
  /** Negative entries clipped by onlineNmf; frames rejected and gaps (0 on this clean stream). */
  clipped: number;
  rejects: number;
  gaps: number;
  /** The metrics operator's last snapshot (covers the tail of the stream). */
  lastMetrics: MetricsSnapshot | undefined;
  /** The kernels that ran. */
  backend: string;
  /**
   * With `holdout`: the last reconstruction's held-out estimate and compressed fit (from the last
   * 256 frames, no ground truth) next to the true ‖x − W·h‖/‖x‖ over the whole pool (h = the
   * model's codes of the training rows); null without.
   */
  quality: { heldOutError: number; compressedError: number; trueError: number } | null;
}

/** The pregenerated stream: ground truth, P and `size` frames (row-major). */
interface Pool {
  P: Projection;
  spec: ProjectionSpec;
  /** True factors (n×r). */
  W: Matrix;
  /** size × d compressed frames (unclipped). */
  y: Float64Array;
  /** size × n raw frames (only with `raw`). */
  x: Float64Array | null;
  size: number;
  /** Regenerates the raw frames x in order (same draws), for errors against the truth without keeping them. */
  replay: (visit: (j: number, x: Float64Array) => void) => void;
}

function makePool(o: { n: number; d: number; r: number; k: number; p: number; noise: number; seed: number; size: number; raw: boolean }): Pool {
  const { n, d, r, size } = o;
  const { W } = generateSyntheticModel({ n, m: 1, r, k: o.k, noise: 0, nonneg: true, seed: o.seed }); // W is drawn first: the paper's W for this seed
  const spec: ProjectionSpec = { ensemble: 'sparse-binary', n, d, p: o.p, seed: o.seed + 1 };
  const P = makeProjection(spec);
  const scaleH = 1 / Math.sqrt(size);
  let diag = 0, off = 0; // E‖Wh‖² = s²·(tr(WᵀW) + (2/π)·Σ_{a≠b}(WᵀW)_ab) for h_a i.i.d. |N(0,1)|·s
  for (let a = 0; a < r; a++) {
    for (let b = 0; b < r; b++) {
      let g = 0;
      for (let i = 0; i < n; i++) g += W.data[i * r + a]! * W.data[i * r + b]!;
      if (a === b) diag += g; else off += g;
    }
  }
  const sigma = o.noise * Math.sqrt((scaleH ** 2 * (diag + (2 / Math.PI) * off)) / n);
  const y = new Float64Array(size * d);
  const xs = o.raw ? new Float64Array(size * n) : null;
  const out = new Float64Array(d);
  const replay = (visit: (j: number, x: Float64Array) => void): void => {
    const rng = new Rng(o.seed + 3);
    const x = new Float64Array(n), h = new Float64Array(r);
    for (let j = 0; j < size; j++) {
      for (let c = 0; c < r; c++) h[c] = scaleH * Math.abs(rng.normal());
      for (let i = 0; i < n; i++) {
        let v = sigma * rng.normal();
        for (let c = 0; c < r; c++) v += W.data[i * r + c]! * h[c]!;
        x[i] = v;
      }
      visit(j, x);
    }
  };
  replay((j, x) => {
    P.apply(x, out);
    y.set(out, j * d);
    xs?.set(x, j * n);
  });
  return { P, spec, W, y, x: xs, size, replay };
}

/** The frame source: `total` frames cycling through the pool, `chunk` per macrotask, emission times in `emitted` (indexed seq & mask). */
function poolSource(pool: Pool, raw: boolean, total: number, chunk: number, rate: number, emitted: Float64Array, onProgress?: (f: number) => void): Observable<Frame> {
  const len = raw ? pool.P.n : pool.P.d;
  const data = raw ? pool.x! : pool.y;
  const views: Float64Array[] = [];
  for (let j = 0; j < pool.size; j++) views.push(data.subarray(j * len, (j + 1) * len));
  const mask = emitted.length - 1;
  return new Observable<Frame>((subscriber) => {
    let seq = 0;
    let handle: NodeJS.Immediate | undefined;
    const step = (): void => {
      const end = Math.min(total, seq + chunk);
      for (; seq < end && !subscriber.closed; seq++) {
        emitted[seq & mask] = performance.now();
        subscriber.next({ seq, t: seq / rate, values: views[seq % pool.size]! });
      }
      onProgress?.(seq / total);
      if (seq < total && !subscriber.closed) handle = setImmediate(step);
      else subscriber.complete();
    };
    handle = setImmediate(step);
    return () => clearImmediate(handle);
  });
}

interface RunResult {
  latencies: Float64Array;
  steadyFrom: number;
  startedAt: number;
  warmDoneAt: number;
  lastDoneAt: number;
  warmStartSeconds: number;
  rss: Array<[number, number]>;
  rssEndMB: number;
  factors: FactorsMessage[];
  lastMetrics: MetricsSnapshot | undefined;
  model: OnlineNMF | undefined;
  clipped: number;
  rejects: number;
  gaps: number;
  skipped: number;
  failures: number;
}

/** One run of the pipeline over `total` frames. */
function run(pool: Pool, o: Required<Omit<BenchStreamOptions, 'onProgress'>>, total: number, modelSeed: number, onProgress?: (f: number) => void): Promise<RunResult> {
  const { n, r } = o;
  const emitted = new Float64Array(1 << 16); // > chunk + batch frames in flight
  const mask = emitted.length - 1;
  const latencies = new Float64Array(total).fill(NaN); // touch every page now, so RSS does not grow as it fills
  const info: StreamInfo = o.raw
    ? { id: 'bench', kind: 'raw', n, rate: o.rate }
    : { id: 'bench', kind: 'compressed', n, rate: o.rate, projection: pool.spec };
  const events = new Subject<PipelineEvent>();
  let rejects = 0, gaps = 0, skipped = 0, failures = 0;
  events.subscribe((e) => {
    if (e.type === 'reject') rejects++;
    else if (e.type === 'gap') gaps++;
    else if (e.type === 'skip') skipped++;
    else failures++;
  });
  const onEvent = (e: PipelineEvent): void => events.next(e);
  const res: RunResult = {
    latencies, steadyFrom: o.warmStartFrames, startedAt: NaN, warmDoneAt: NaN, lastDoneAt: NaN, warmStartSeconds: 0,
    rss: [], rssEndMB: NaN, factors: [], lastMetrics: undefined, model: undefined, clipped: 0, rejects: 0, gaps: 0, skipped: 0, failures: 0,
  };
  let nextRss = 100_000;
  let prevDone = NaN;
  const record = (u: ModelUpdate): void => {
    const first = u.seq, last = u.lastSeq;
    for (let s = first; s <= last; s++) latencies[s] = u.doneAt - emitted[s & mask]!;
    if (Number.isNaN(res.startedAt)) res.startedAt = emitted[first & mask]!;
    if (o.warmStartFrames > 0 && Number.isNaN(res.warmDoneAt) && u.framesSeen >= o.warmStartFrames) {
      res.warmDoneAt = u.doneAt;
      res.warmStartSeconds = (u.doneAt - (Number.isNaN(prevDone) ? res.startedAt : prevDone)) / 1000;
      res.steadyFrom = last + 1;
    }
    prevDone = u.doneAt;
    res.lastDoneAt = u.doneAt;
    res.clipped = u.clippedTotal;
    res.model = u.model;
    if (u.framesSeen >= nextRss) {
      res.rss.push([u.framesSeen, process.memoryUsage.rss() / 2 ** 20]);
      nextRss += 100_000;
    }
  };

  let frames$ = poolSource(pool, o.raw, total, o.chunk, o.rate, emitted, onProgress).pipe(
    detectGaps({ onEvent }), // before validation: gaps count transport losses only
    validateFrames(info, { onEvent }),
  );
  if (o.raw) frames$ = frames$.pipe(compress(pool.spec, { onEvent }));
  const updates = frames$.pipe(
    batchFrames({ maxBatch: o.batch, maxWaitMs: o.maxWaitMs, onEvent }),
    onlineNmf({ rank: r, warmStartFrames: o.warmStartFrames, seed: modelSeed }, { onEvent, holdoutRows: o.holdout }),
    tap({ next: record, complete: () => { res.rssEndMB = process.memoryUsage.rss() / 2 ** 20; } }),
    share(),
  );
  return new Promise<RunResult>((resolve, reject) => {
    let open = 2;
    const finish = (): void => {
      if (--open > 0) return;
      Object.assign(res, { rejects, gaps, skipped, failures });
      resolve(res);
    };
    updates.pipe(metrics({ events, intervalMs: 1000 })).subscribe({
      next: (m) => { res.lastMetrics = m; },
      error: reject,
      complete: finish,
    });
    updates.pipe(reconstruct(pool.P, { everyMs: o.reconstructEveryMs, onEvent })).subscribe({
      next: (f) => { res.factors.push(f); },
      error: reject,
      complete: finish,
    });
  });
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}


/** Streams the synthetic model through the pipeline operators and reports speed, latency, memory and quality. */
export async function benchStream(options: BenchStreamOptions): Promise<BenchStreamResult> {
  const o: Required<Omit<BenchStreamOptions, 'onProgress'>> = {
    p: 5, noise: 0.1, pool: 4096, holdout: 0, raw: false, chunk: 1024, reconstructEveryMs: 1000, maxWaitMs: 100, jitFrames: 4000, rate: 250,
    ...options,
  };
  const pool = makePool({ n: o.n, d: o.d, r: o.r, k: o.k, p: o.p, noise: o.noise, seed: o.seed, size: o.pool, raw: o.raw });
  if (o.jitFrames > 0) await run(pool, { ...o, warmStartFrames: 0 }, o.jitFrames, o.seed + 100);
  const res = await run(pool, o, o.frames, o.seed + 2, options.onProgress);

  const steady = res.latencies.subarray(Math.min(res.steadyFrom, o.frames)).filter((v) => !Number.isNaN(v)).sort(); // NaN: never reached the model
  const start = o.warmStartFrames > 0 ? res.warmDoneAt : res.startedAt;
  const steadyFrames = o.frames - Math.min(res.steadyFrom, o.frames);
  const last = res.factors.at(-1);
  let errCompressed = NaN, errW = NaN;
  let quality: BenchStreamResult['quality'] = null;
  if (last && res.model) {
    // Scale as benchOnline.ts: s_c = ‖row c of the model's codes of the pool‖ (true H rows have norm ≈ 1).
    // With a hold-out the model knows only the first d − holdout rows.
    const size = pool.size, dFull = o.d, d = dFull - o.holdout;
    const Ptrain = o.holdout > 0 ? rowBlock(pool.P, 0, d) : pool.P;
    const Y = new Float64Array(d * size);
    for (let j = 0; j < size; j++) for (let i = 0; i < d; i++) { const v = pool.y[j * dFull + i]!; Y[i * size + j] = v > 0 ? v : 0; }
    const H = res.model.transform({ rows: d, cols: size, data: Y });
    if (last.quality) {
      let num = 0, den = 0;
      pool.replay((j, x) => {
        for (let i = 0; i < x.length; i++) {
          let pred = 0;
          for (let c = 0; c < o.r; c++) pred += last.W[c]![i]! * H.data[c * size + j]!;
          num += (x[i]! - pred) ** 2;
          den += x[i]! ** 2;
        }
      });
      quality = { heldOutError: last.quality.heldOutError, compressedError: last.quality.compressedError, trueError: Math.sqrt(num / den) };
    }
    const s = new Float64Array(o.r);
    for (let c = 0; c < o.r; c++) {
      let q = 0;
      for (let j = 0; j < size; j++) q += H.data[c * size + j]! ** 2;
      s[c] = Math.sqrt(q);
    }
    errCompressed = matchedError(Ptrain.applyColumns(pool.W), scaleColumns(fromColumns(last.Wc), s)).error;
    errW = matchedError(pool.W, scaleColumns(fromColumns(last.W), s)).error;
  }
  const at100k = res.rss.find(([f]) => f >= 100_000)?.[1] ?? NaN;
  return {
    framesPerSecond: steadyFrames / ((res.lastDoneAt - start) / 1000),
    p50Ms: percentile(steady, 0.5),
    p99Ms: percentile(steady, 0.99),
    maxMs: steady.length ? steady[steady.length - 1]! : NaN,
    seconds: (res.lastDoneAt - res.startedAt) / 1000,
    warmStartSeconds: res.warmStartSeconds,
    errCompressed,
    errW,
    reconstructions: res.factors.length,
    skipped: res.skipped,
    failures: res.failures,
    lastReconstructionSeconds: last?.seconds ?? NaN,
    longestSliceMs: res.factors.length ? Math.max(...res.factors.map((f) => f.longestSliceMs)) : NaN,
    reconstructionResidual: last?.error ?? NaN,
    rss: res.rss,
    rssAt100kMB: at100k,
    rssEndMB: res.rssEndMB,
    rssGrowth: res.rssEndMB / at100k - 1,
    clipped: res.clipped,
    rejects: res.rejects,
    gaps: res.gaps,
    lastMetrics: res.lastMetrics,
    backend: res.model?.kernelBackend ?? 'none',
    quality,
  };
}
