/**
 * Benchmark of the online compressed NMF alone (no RxJS, no I/O): the paper's synthetic model
 * streamed as compressed frames through `OnlineNMF.partialFitFrames`, timing every update call.
 *
 *   frames  the m = 2000 columns of P·M (generateSyntheticModel: |W| k-sparse, |H| with unit-norm
 *           rows, 10% noise), then fresh frames drawn from the same distribution:
 *           h ~ |N(0,1)|/√m (so a block of m frames has rows of norm ≈ 1), x = W h + e with
 *           e ~ N(0, σ²I_n), σ² = noise²·E‖Wh‖²/n (the batch model's ‖E‖_F = noise·‖WH‖_F),
 *           y = P x. Noise leaves a few entries slightly negative; they are set to 0, as the
 *           batch FR does before NMF (compressed/factorization.ts), since NMF refuses negative
 *           frames. Frames are drawn into a preallocated buffer OUTSIDE the timed region.
 *   timing  each partialFitFrames call (one mini-batch); the warm-start call, which runs a batch
 *           NMF on the buffered frames, is reported separately (warmStartSeconds) and, with the
 *           calls that only buffer frames for it, left out of framesPerSecond and of the
 *           percentiles. A throw-away model first streams `jitFrames` frames so the JIT has
 *           compiled the kernels (not counted). On a shared machine the mean (framesPerSecond)
 *           also counts time the process was descheduled; p50 shows the undisturbed cost.
 *   quality W̃ is scaled as the batch metric does (normalizeFactors with its codes of the first
 *           m frames, so the code rows have unit norm like the true H), then
 *           errCompressed = matchedError(P·W, W̃), errW = matchedError(W, R_P(W̃)) with
 *           recoverColumns(P, W̃, { method: 'fast' }).
 * Seeds: data from `seed`, P from `seed + 1`, the model from `seed + 2`, fresh frames from `seed + 3`.
 */
import { OnlineNMF, type OnlineNmfOptions } from '../factorize/online/nmf.js';
import type { KernelBackend } from '../factorize/online/kernels.js';
import type { Matrix } from '../linalg/matrix.js';
import { Rng } from '../linalg/random.js';
import { makeProjection, type Projection } from '../sensing/index.js';
import { recoverColumns } from '../recovery/index.js';
import { matchedError, normalizeFactors } from '../compressed/metrics.js';
import { generateSyntheticModel } from './syntheticModel.js';

/** Options of `benchOnlineNmf`. */
export interface BenchOnlineOptions {
  /** Uncompressed dimension (paper: 2000). */
  n: number;
  /** Frame length = compressed dimension (paper: 400). */
  d: number;
  /** Rank (paper: 10). */
  r: number;
  /** Non-zeros per column of W (paper point: 40). */
  k: number;
  /** Frames streamed through the measured model. */
  frames: number;
  /** Frames per partialFitFrames call. */
  batch: number;
  seed: number;
  /** OnlineNMF warm start (0 = random start). */
  warmStartFrames: number;
  /** 5: non-zeros per column of P. */
  p?: number;
  /** 0.1: relative noise. */
  noise?: number;
  /** 2000: the batch model's m (the first frames, and the scale of h). */
  m?: number;
  /** Further OnlineNMF options (forgetting, codingSweeps, dictSweeps, l1H). */
  model?: Partial<Omit<OnlineNmfOptions, 'rank' | 'warmStartFrames' | 'seed'>>;
  /** 2000: frames streamed through a throw-away model first (JIT warm-up); 0 = none. */
  jitFrames?: number;
  /** 'auto': the model's kernels ('wasm', 'js'). */
  backend?: KernelBackend;
}

/** Result of `benchOnlineNmf`. */
export interface BenchOnlineResult {
  /** Frames per second of the update calls after the warm start (see the module header). */
  framesPerSecond: number;
  /** Median and 99th percentile of the per-call update time (ms), warm-start call excluded. */
  p50Ms: number;
  p99Ms: number;
  /** Largest per-call time (ms), warm-start call excluded. */
  maxMs: number;
  /** Seconds of the warm-start call (batch NMF + replay), 0 without a warm start. */
  warmStartSeconds: number;
  /** Matched error of W̃ vs P·W. */
  errCompressed: number;
  /** Matched error of R_P(W̃) vs W. */
  errW: number;
  /** Seconds in all update calls (warm-start call included). */
  seconds: number;
  /** The kernels that ran. */
  backend: 'wasm' | 'js';
}

/** A frame source for the synthetic stream: the columns of P·M, then fresh frames. */
export class SyntheticFrameStream {
  readonly P: Projection;
  readonly W: Matrix;
  /** P·M (d×m) with negatives set to 0: the first m frames. */
  readonly Mc: Matrix;
  private next = 0;
  private readonly rng: Rng;
  private readonly sigma: number;
  private readonly scaleH: number;
  private readonly x: Float64Array;
  private readonly y: Float64Array;
  private readonly h: Float64Array;
  /** W's non-zeros: rows and values per column (r·k entries). */
  private readonly nzRow: Int32Array;
  private readonly nzVal: Float64Array;
  private readonly nzStart: Int32Array;

  constructor(o: { n: number; d: number; r: number; k: number; m: number; p: number; noise: number; seed: number }) {
    const model = generateSyntheticModel({ n: o.n, m: o.m, r: o.r, k: o.k, noise: o.noise, nonneg: true, seed: o.seed });
    this.P = makeProjection({ ensemble: 'sparse-binary', n: o.n, d: o.d, p: o.p, seed: o.seed + 1 });
    this.W = model.W;
    const Mc = this.P.applyColumns(model.M);
    for (let i = 0; i < Mc.data.length; i++) if (Mc.data[i]! < 0) Mc.data[i] = 0;
    this.Mc = Mc;
    this.rng = new Rng(o.seed + 3);
    this.scaleH = 1 / Math.sqrt(o.m);
    // E‖Wh‖² for h_a i.i.d. |N(0,1)|·s: s²·(tr(WᵀW) + (2/π)·Σ_{a≠b} (WᵀW)_ab).
    const { n, r } = o;
    let diag = 0, off = 0;
    for (let a = 0; a < r; a++) {
      for (let b = 0; b < r; b++) {
        let g = 0;
        for (let i = 0; i < n; i++) g += this.W.data[i * r + a]! * this.W.data[i * r + b]!;
        if (a === b) diag += g; else off += g;
      }
    }
    const ewh = this.scaleH ** 2 * (diag + (2 / Math.PI) * off);
    this.sigma = o.noise * Math.sqrt(ewh / n);
    this.x = new Float64Array(n);
    this.y = new Float64Array(o.d);
    this.h = new Float64Array(r);
    const rows: number[] = [], vals: number[] = [], start = [0];
    for (let c = 0; c < r; c++) {
      for (let i = 0; i < n; i++) {
        const v = this.W.data[i * r + c]!;
        if (v !== 0) { rows.push(i); vals.push(v); }
      }
      start.push(rows.length);
    }
    this.nzRow = Int32Array.from(rows);
    this.nzVal = Float64Array.from(vals);
    this.nzStart = Int32Array.from(start);
  }

  /** Writes the next `count` frames row-major into `out` (count×d). */
  fill(out: Float64Array, count: number): void {
    const { d, n } = this.P;
    const m = this.Mc.cols;
    for (let j = 0; j < count; j++) {
      const o = j * d;
      if (this.next < m) {
        for (let i = 0; i < d; i++) out[o + i] = this.Mc.data[i * m + this.next]!;
      } else {
        const { x, h, rng } = this;
        for (let i = 0; i < n; i++) x[i] = this.sigma * rng.normal();
        for (let c = 0; c < h.length; c++) {
          const hc = this.scaleH * Math.abs(rng.normal());
          for (let q = this.nzStart[c]!; q < this.nzStart[c + 1]!; q++) x[this.nzRow[q]!]! += this.nzVal[q]! * hc;
        }
        this.P.apply(x, this.y);
        for (let i = 0; i < d; i++) { const v = this.y[i]!; out[o + i] = v > 0 ? v : 0; }
      }
      this.next++;
    }
  }
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/** Streams `frames` synthetic frames through a fresh OnlineNMF and reports speed and quality. */
export async function benchOnlineNmf(o: BenchOnlineOptions): Promise<BenchOnlineResult> {
  const p = o.p ?? 5, noise = o.noise ?? 0.1, m = o.m ?? 2000;
  const streamOpts = { n: o.n, d: o.d, r: o.r, k: o.k, m, p, noise, seed: o.seed };
  const modelOpts = { ...o.model, rank: o.r, warmStartFrames: o.warmStartFrames, seed: o.seed + 2 };
  const buf = new Float64Array(o.batch * o.d);

  const jit = o.jitFrames ?? 2000;
  if (jit > 0) {
    const s = new SyntheticFrameStream({ ...streamOpts, seed: o.seed + 100 });
    const warm = new OnlineNMF({ ...modelOpts, warmStartFrames: 0 }, { backend: o.backend ?? 'auto' });
    for (let done = 0; done < jit; done += o.batch) {
      const c = Math.min(o.batch, jit - done);
      s.fill(buf, c);
      warm.partialFitFrames(c === o.batch ? buf : buf.subarray(0, c * o.d), c);
    }
  }

  const stream = new SyntheticFrameStream(streamOpts);
  const model = new OnlineNMF(modelOpts, { backend: o.backend ?? 'auto' });
  const times: number[] = [];
  let warmStartSeconds = 0, steady = 0, steadyFrames = 0, total = 0;
  for (let done = 0; done < o.frames; done += o.batch) {
    const c = Math.min(o.batch, o.frames - done);
    stream.fill(buf, c);
    const view = c === o.batch ? buf : buf.subarray(0, c * o.d);
    const before = model.framesSeen;
    const wasBuffering = o.warmStartFrames > 0 && before < o.warmStartFrames;
    const t0 = performance.now();
    model.partialFitFrames(view, c);
    const ms = performance.now() - t0;
    total += ms;
    if (wasBuffering && model.framesSeen >= o.warmStartFrames) warmStartSeconds = ms / 1000;
    else if (!wasBuffering) { times.push(ms); steady += ms; steadyFrames += c; }
  }
  times.sort((a, b) => a - b);

  const { W: Wc } = model.components();
  const H = model.transform(stream.Mc);
  const Wn = normalizeFactors(Wc, H).W;
  const errCompressed = matchedError(stream.P.applyColumns(stream.W), Wn).error;
  const rec = await recoverColumns(stream.P, Wn, { method: 'fast' });
  const errW = matchedError(stream.W, rec.W).error;
  return {
    framesPerSecond: steadyFrames / (steady / 1000),
    p50Ms: percentile(times, 0.5),
    p99Ms: percentile(times, 0.99),
    maxMs: times.at(-1) ?? NaN,
    warmStartSeconds,
    errCompressed,
    errW,
    seconds: total / 1000,
    backend: model.kernelBackend ?? 'js',
  };
}
