/**
 * Online compressed NMF: the dictionary W̃ (d×r ≥ 0) of a stream of non-negative frames y_t (d),
 * updated per frame or mini-batch with memory and time per frame independent of the stream length
 * (Mairal, Bach, Ponce & Sapiro 2010, with non-negativity and a forgetting factor).
 * Like scikit-learn's MiniBatchNMF, but with exact NNLS codes, Mairal's block-coordinate
 * dictionary update on the statistics A, B, and a per-frame forgetting factor.
 *
 *   frame y_t ──▶ code h_t = argmin_{h≥0} ½‖y_t − W̃h‖² + l1H·Σh          (NNLS against W̃)
 *             ──▶ queue (y_t, h_t); once U = max(32, r) frames are queued:
 *                 A ← β^n A + Σ_j β^{n−1−j} h_j h_jᵀ,   B ← β^n B + Σ_j β^{n−1−j} y_j h_jᵀ
 *                 W̃ ← `dictSweeps` sweeps of block-coordinate descent on
 *                      ½ tr(W̃ A W̃ᵀ) − tr(W̃ᵀ B)  s.t.  W̃ ≥ 0, ‖w̃_t‖ ≤ 1
 *
 * Objective: the surrogate of the discounted loss Σ_s β^{T−s} ½‖y_s − W̃h_s‖² with each code
 * frozen when its frame was seen (Mairal et al., Eq. 6); A (r×r) and B (d×r) are its sufficient
 * statistics, so nothing grows with the number of frames T.
 *
 * Per frame (buffers preallocated in one arena, kernels.ts; Float32 input is converted on
 * the copy into it, then checked there):
 *   1. c = W̃ᵀy: O(d·r) (`codes`, SIMD WebAssembly 2×4 tiles).
 *   2. The code: the clipped least-squares solution max(0, G⁻¹(c − l1H)), G = W̃ᵀW̃ with its
 *      Cholesky factor cached per dictionary update (O(r²)), then up to `codingSweeps` exact
 *      coordinate sweeps (O(r²) each), stopping early at a 1e-4 relative change. The codes are
 *      thus warm-started from the clipped least-squares solution — not from zero, not from the
 *      previous frame (frames need not be correlated in time). They are computed when the frame
 *      arrives, so `components().H` always holds the codes of the last call's frames.
 * Per update, once U = max(ONLINE_NMF_UPDATE_FRAMES = 32, r) frames are queued (every call for
 * mini-batches of ≥ 32 frames, every 32nd call for one frame per call):
 *   3. Statistics, with a per-FRAME forgetting factor β (n frames discount the past by β^n, so
 *      the memory is ≈ 1/(1−β) frames whatever the batch size): O(d·r) per frame, as one blocked
 *      product (`accumulateB`) instead of n rank-1 updates.
 *   4. Dictionary: `dictSweeps` HALS sweeps over W̃'s columns on (A, B) — Mairal's Algorithm 2
 *      with the clamp at 0 and the projection on the unit ball — then G and its Cholesky factor:
 *      O(d·r²) per update, O(d·r²/32) per frame. A column that died (all clamped to 0) or is
 *      unused (A[t,t] = 0) is re-seeded from the positive residual of the worst-coded queued
 *      frame, and its statistics are cleared.
 *   One frame per call (the trade-off): updating W̃ after every frame would cost O(d·r²) per frame
 *   (a sweep plus G) — at d = 400, r = 10 about 15× steps 1–3. Queueing instead makes one frame
 *   per call compute exactly what mini-batches of 32 compute (bit for bit: the codes see the
 *   same W̃ either way), at nearly the same cost per frame, and the 32nd frame carries the update
 *   (≈ 0.05 ms). The price: W̃ lags the stream by at most 31 frames, small next to the memory of
 *   1/(1−β) = 200 frames. Calls with more than ONLINE_NMF_MAX_BATCH frames are checked as a
 *   whole, then processed as consecutive calls of that size (the workspaces stay bounded).
 *
 * Start: `warmStartFrames` = 0 draws W̃ at random on the first call (|N(0,1)| entries from
 * `Rng(seed)`, row-major over W̃ (d×r), columns scaled to unit norm). N > 0 buffers the first N
 * frames, fits them by batch NMF (`nmf`, HALS, same rank / l1H / seed), scales its columns to unit
 * norm, replays the N frames through steps 1–3 (mini-batches of 32) with that dictionary frozen,
 * then runs step 4 once: A and B start consistent with the batch solution, where a replay with
 * updates would let the first few frames' statistics pull W̃ away from it. The call that
 * completes the buffer pays for the batch fit (≈ 0.6 s for 2000 frames at d = 400, r = 10).
 *
 * Forgetting (default β = 0.995, a memory of ≈ 200 frames = 20·r at r = 10): each code is
 * computed once, with the dictionary of its time, so a random start improves only as fast as
 * the memory renews; a long memory averages the noise better but converges and tracks slowly.
 * Measured on the paper's synthetic stream (n = 2000, d = 400, r = 10, k = 40, 10% noise;
 * benchOnline.ts, 20,000 frames in batches of 32), errW = matched error of R_P(W̃) vs W:
 *   β        0.995   0.997   0.998   0.999   1
 *   random   0.061   0.081   0.106   0.188   0.60
 *   warm     0.044   0.040   0.039   0.040   0.044    (warmStartFrames = 2000)
 * (batch FR: ≈ 0.03). 0.995 is the longest memory that meets errW ≤ 0.10 from a random start
 * with a margin, and costs ≈ 10% of accuracy against 0.998 once warm-started. β = 1 keeps plain
 * sums (Mairal's original without t-weighting); old codes then never leave the statistics.
 *
 * Dimensions are fixed by the first call (d ≥ rank). Bad frames (wrong length, NaN, ±Infinity,
 * negative) throw a DataError naming the frame and the entry BEFORE anything is updated.
 *
 * @example
 * const model = new OnlineNMF({ rank: 10, warmStartFrames: 2000 });
 * for (const batch of batches) model.partialFitFrames(batch, 32);   // 32 frames × d, row-major
 * const { W } = model.components();                                 // W̃ (d×r)
 * const copy = new OnlineNMF({ rank: 10 }).restore(JSON.parse(JSON.stringify(model.state())));
 *
 * @see NMF (batch), kernels.ts (the kernels), experiments/benchOnline.ts (speed, quality)
 *
 * References:
 *   J. Mairal, F. Bach, J. Ponce, G. Sapiro (2010), Online learning for matrix factorization and
 *     sparse coding, JMLR 11 (Algorithms 1 and 2; Sect. 3.4: mini-batches, dead atoms).
 *   A. Lefèvre, F. Bach, C. Févotte (2011), Online algorithms for nonnegative matrix factorization
 *     with the Itakura-Saito divergence, WASPAA (the forgetting factor; scikit-learn MiniBatchNMF).
 *   A. Cichocki, A.-H. Phan (2009), IEICE Trans. E92-A(3) (HALS column updates).
 */
import { DataError, InvalidOptionError, NotFittedError } from '../../errors.js';
import type { Matrix } from '../../linalg/matrix.js';
import { Rng } from '../../linalg/random.js';
import { cholesky } from '../../linalg/small.js';
import { checkHeader, matrixFromJson, matrixToJson, type Factorizer, type MatrixJson } from '../estimator.js';
import { nmf, nmfTransform } from '../nmf.js';
import {
  accumulateA, copyFramesF32, copyFramesF64, createArena, wasmKernelsAvailable,
  type KernelArena, type KernelBackend,
} from './kernels.js';
import { resolveOptions, type ConstraintTable } from '../validate.js';

/** Options of `OnlineNMF`. */
export interface OnlineNmfOptions {
  /** required; number of components r ≥ 1 (at most d, the frame length). */
  rank: number;
  /** 0.995; forgetting factor β per frame, in (0, 1]: A ← β A + h hᵀ, B ← β B + y hᵀ; memory ≈ 1/(1−β) = 200 frames (see the module header for the choice); 1 = plain sums. */
  forgetting: number;
  /** 5; cap on the coordinate sweeps of each frame's NNLS code (warm-started from the clipped least-squares solution; early stop at a 1e-4 relative change; 0 = that start only). */
  codingSweeps: number;
  /** 1; HALS sweeps over W̃'s columns per dictionary update (one update per max(32, r) frames). */
  dictSweeps: number;
  /** 0; ℓ1 weight on the codes h (absolute, in the units of ½‖y − W̃h‖²). */
  l1H: number;
  /** 0; 0 = random start; N ≥ rank = buffer the first N frames, fit them by batch NMF (HALS), replay them through the online update. */
  warmStartFrames: number;
  /** 0; integer seed of the random start and of the warm start's batch NMF. */
  seed: number;
}

/** The defaults (rank has none: it is required). */
export const DEFAULT_ONLINE_NMF_OPTIONS: Readonly<Omit<OnlineNmfOptions, 'rank'>> = Object.freeze({
  forgetting: 0.995,
  codingSweeps: 5,
  dictSweeps: 1,
  l1H: 0,
  warmStartFrames: 0,
  seed: 0,
});

/** Allowed values of each option (drives validation and the generic option test). */
export const ONLINE_NMF_CONSTRAINTS: ConstraintTable<OnlineNmfOptions> = Object.freeze({
  rank: { type: 'int', min: 1, max: 4096 }, // the r×r statistics and per-call buffers stay small
  forgetting: { type: 'number', min: 0, minExclusive: true, max: 1 },
  codingSweeps: { type: 'int', min: 0 },
  dictSweeps: { type: 'int', min: 1 },
  l1H: { type: 'number', min: 0 },
  warmStartFrames: { type: 'int', min: 0 },
  seed: { type: 'seed' },
});

/** Calls with more frames are processed as consecutive calls of this many (after checking all). */
export const ONLINE_NMF_MAX_BATCH = 256;
/** Mini-batch size of `fit` and of the warm start's replay. */
export const ONLINE_NMF_FIT_BATCH = 32;
/** The statistics and W̃ are updated once max(this, rank) frames are queued. */
export const ONLINE_NMF_UPDATE_FRAMES = 32;
/** Relative change of the codes below which the coding sweeps stop early. */
const CODE_TOL = 1e-4;
/** Ridge of the least-squares start, relative to mean(diag G). */
const CODE_RIDGE = 1e-10;

/** Validates and resolves OnlineNMF options (a new frozen object; `given` is not touched). */
export function resolveOnlineNmfOptions(given: Partial<OnlineNmfOptions> | undefined, owner = 'OnlineNMF'): Readonly<OnlineNmfOptions> {
  const o = resolveOptions(owner, ONLINE_NMF_CONSTRAINTS, DEFAULT_ONLINE_NMF_OPTIONS as Readonly<OnlineNmfOptions>, given);
  if (o.warmStartFrames > 0 && o.warmStartFrames < o.rank) {
    throw new InvalidOptionError(owner, 'warmStartFrames', `0 or an integer ≥ rank = ${o.rank}`, o.warmStartFrames);
  }
  return o;
}

/** Snapshot of an `OnlineNMF` (version 1). Matrices are row-major JSON. */
export interface OnlineNmfState {
  kind: 'OnlineNMF';
  version: 1;
  options: OnlineNmfOptions;
  /** Frame length. */
  d: number;
  /** Frames accepted so far (buffered warm-start frames included). */
  framesSeen: number;
  /** W̃ (d×r); null while warm-start frames are being buffered. */
  W: MatrixJson | null;
  /** A = Σ β^age h hᵀ (r×r); null while buffering. */
  A: MatrixJson | null;
  /** B = Σ β^age y hᵀ (d×r); null while buffering. */
  B: MatrixJson | null;
  /** Codes of the last call's frames (r×b; r×0 before any). */
  H: MatrixJson;
  /** Frames coded but not yet in A and B (q×d, q < max(32, r)). */
  queuedFrames: MatrixJson;
  /** Their codes (q×r, row = frame). */
  queuedCodes: MatrixJson;
  /** Buffered warm-start frames (count×d), or null once the warm start ran (or without one). */
  warmStartBuffer: MatrixJson | null;
}

/** Runtime choices that do not change the model (not part of its state). */
export interface OnlineNmfRuntime {
  /** 'auto'; kernels: 'wasm' (SIMD WebAssembly), 'js', or 'auto' (wasm when available). Backends agree to rounding; bit-exact continuation after `restore` holds within one backend. */
  backend?: KernelBackend;
}

/** Element offsets of the buffers in the arena (see kernels.ts). */
interface Layout {
  dp: number; capQ: number; capB: number;
  wt: number; bt: number; a: number; g: number; l: number; y: number; hq: number; hw: number; c: number; h: number; u: number;
  total: number;
}

function layoutOf(d: number, r: number, capQ: number, capB: number): Layout {
  const even = (n: number) => n + (n & 1);
  const dp = even(d);
  const wt = 0, bt = wt + r * dp, a = bt + r * dp, g = a + even(r * r), l = g + even(r * r), y = l + even(r * r);
  const hq = y + capQ * dp, hw = hq + even(capQ * r), c = hw + even(capQ * r), h = c + even(capB * r), u = h + even(capB * r);
  return { dp, capQ, capB, wt, bt, a, g, l, y, hq, hw, c, h, u, total: u + dp };
}

/**
 * Online NMF estimator for streams of non-negative frames (see the module header).
 * `partialFitFrames` is the zero-allocation hot path; `partialFit` takes a d×b matrix of frames
 * (columns); `fit` = reset + `partialFit` over mini-batches of ONLINE_NMF_FIT_BATCH columns.
 */
export class OnlineNMF implements Factorizer<OnlineNmfState> {
  private opts: Readonly<OnlineNmfOptions>;
  private readonly backend: KernelBackend;
  /** Frame length, 0 until the first call. */
  private d = 0;
  private seen = 0;
  private ready = false;
  /** Frames per update, max(ONLINE_NMF_UPDATE_FRAMES, rank). */
  private U = 0;
  /** pow[k] = β^k for k = 0..U − 1 + ONLINE_NMF_MAX_BATCH. */
  private pow = new Float64Array(0);
  // The arena and views of its buffers: Wt = W̃ᵀ and Bt = Bᵀ (r×dp), A, G = W̃ᵀW̃ and L (r×r),
  // the queue Y (capQ×dp) with codes Hq and weighted codes Hw (capQ×r), the call's C and H (capB×r).
  private arena: KernelArena | null = null;
  private lay: Layout = layoutOf(0, 0, 0, 0);
  private Wt: Float64Array = new Float64Array(0);
  private Bt: Float64Array = new Float64Array(0);
  private A: Float64Array = new Float64Array(0);
  private G: Float64Array = new Float64Array(0);
  private Y: Float64Array = new Float64Array(0);
  private Hq: Float64Array = new Float64Array(0);
  private Hw: Float64Array = new Float64Array(0);
  private C: Float64Array = new Float64Array(0);
  private H: Float64Array = new Float64Array(0);
  /** Cholesky factor of G + ridge (r×r). */
  private L: Float64Array = new Float64Array(0);
  private hasL = false;
  private queued = 0;
  private lastCount = 0;
  // Warm-start buffer (count×d).
  private warm: Float64Array | null = null;
  private warmCount = 0;
  private usedFrames = new Int32Array(0);

  /** Validates (InvalidOptionError) and freezes the options; `rank` is required. */
  constructor(options: Partial<OnlineNmfOptions> & { rank: number }, runtime: OnlineNmfRuntime = {}) {
    this.opts = resolveOnlineNmfOptions(options);
    const backend = runtime.backend ?? 'auto';
    if (!['auto', 'wasm', 'js'].includes(backend)) throw new InvalidOptionError('OnlineNMF', 'backend', "one of 'auto', 'wasm', 'js'", backend);
    if (backend === 'wasm' && !wasmKernelsAvailable()) throw new InvalidOptionError('OnlineNMF', 'backend', "'auto' or 'js' (this engine has no SIMD WebAssembly)", backend);
    this.backend = backend;
    this.setSchedule();
  }

  /** The resolved, frozen options. */
  get options(): Readonly<OnlineNmfOptions> { return this.opts; }
  /** Frames accepted since the start (or the last `fit`). */
  get framesSeen(): number { return this.seen; }
  /** Frame length d (0 before the first call). */
  get frameLength(): number { return this.d; }
  /** The kernels in use ('wasm' or 'js'; null before the first call). */
  get kernelBackend(): 'wasm' | 'js' | null { return this.arena?.backend ?? null; }

  /**
   * Updates the model with the frames in the columns of `batch` (d×b). The first call fixes d.
   * Throws DataError (frame = column, entry = row) before anything is updated if an entry is not
   * finite or is negative, or if the row count differs from d.
   */
  partialFit(batch: Matrix): this {
    const where = 'OnlineNMF.partialFit';
    const d = this.checkFrameLength(batch, where, false);
    this.checkMatrixFrames(batch, where);
    if (this.d === 0) this.commitDimension(d);
    this.feedColumns(batch, ONLINE_NMF_MAX_BATCH);
    return this;
  }

  /**
   * Updates the model with `count` frames stored row-major in `values` (count×d, exactly
   * count·d entries; pass a `subarray` view for a partly filled buffer). The first call fixes
   * d = values.length / count. Allocation-free once the workspaces fit the batch size. Throws
   * DataError naming the frame and the entry before anything is updated.
   */
  partialFitFrames(values: Float32Array | Float64Array, count: number): this {
    const where = 'OnlineNMF.partialFitFrames';
    if (!(values instanceof Float64Array || values instanceof Float32Array)) {
      throw new DataError('values must be a Float32Array or a Float64Array', where);
    }
    if (!Number.isInteger(count) || count < 1) throw new DataError(`count must be an integer ≥ 1; got ${String(count)}`, where);
    let d = this.d;
    if (d === 0) {
      if (values.length === 0 || values.length % count !== 0) {
        throw new DataError(`values.length ${values.length} is not a positive multiple of count ${count}`, where);
      }
      d = values.length / count;
      this.checkRankFits(d);
    } else if (values.length !== count * d) {
      throw new DataError(`expected count·d = ${count}·${d} = ${count * d} values; got ${values.length}`, where);
    }
    const f64 = values instanceof Float64Array;
    if (count <= ONLINE_NMF_MAX_BATCH && this.d === d) {
      // Copy into the queue's free rows, then check there (nothing else is touched).
      this.ensureWorkspace(count);
      const { Y } = this;
      const dp = this.lay.dp, q = this.queued;
      if (dp === d) {
        Y.set(values, q * dp);
        const bad = this.arena!.check(this.lay.y + q * dp, count * d);
        if (bad >= 0) throw this.entryError(where, Math.floor(bad / d), bad % d, values[bad]!);
      } else {
        for (let j = 0; j < count; j++) {
          const bad = f64 ? copyFramesF64(values, j * d, d, Y, (q + j) * dp) : copyFramesF32(values, j * d, d, Y, (q + j) * dp);
          if (bad >= 0) throw this.entryError(where, j, bad, values[j * d + bad]!);
        }
      }
      this.consume(count);
      return this;
    }
    // The first call, or a long one: check every frame, then copy and process up to ONLINE_NMF_MAX_BATCH at a time.
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!(v >= 0 && v < Infinity)) throw this.entryError(where, Math.floor(i / d), i % d, v);
    }
    if (this.d === 0) this.commitDimension(d);
    for (let j0 = 0; j0 < count; j0 += ONLINE_NMF_MAX_BATCH) {
      const n = Math.min(ONLINE_NMF_MAX_BATCH, count - j0);
      this.ensureWorkspace(n);
      const { Y } = this;
      const dp = this.lay.dp, q = this.queued;
      for (let j = 0; j < n; j++) {
        if (f64) copyFramesF64(values, (j0 + j) * d, d, Y, (q + j) * dp);
        else copyFramesF32(values, (j0 + j) * d, d, Y, (q + j) * dp);
      }
      this.consume(n);
    }
    return this;
  }

  /** Resets the model, then `partialFit` over the columns of X in mini-batches of ONLINE_NMF_FIT_BATCH. */
  fit(X: Matrix): this {
    const where = 'OnlineNMF.fit';
    const d = this.checkFrameLength(X, where, true);
    this.checkMatrixFrames(X, where);
    this.commitDimension(d);
    this.feedColumns(X, ONLINE_NMF_FIT_BATCH);
    return this;
  }

  /** Codes H (r×m) of the columns of X (d×m, ≥ 0) with W̃ fixed: NNLS to convergence (`nmfTransform`). Never mutates. */
  transform(X: Matrix): Matrix {
    if (!this.ready) throw new NotFittedError('OnlineNMF');
    return nmfTransform(this.dictionary(), X, { l1H: this.opts.l1H });
  }

  /** Copies of W̃ (d×r) and of the codes of the last call's frames (r×b; r×0 before any). */
  components(): { W: Matrix; H: Matrix } {
    if (!this.ready) throw new NotFittedError('OnlineNMF');
    return { W: this.dictionary(), H: this.lastCodes() };
  }

  /** Versioned JSON snapshot; continuing a restored copy is bit-for-bit identical to continuing this one (same backend). */
  state(): OnlineNmfState {
    if (this.d === 0) throw new NotFittedError('OnlineNMF');
    const { d, queued: q } = this;
    const r = this.opts.rank;
    return {
      kind: 'OnlineNMF', version: 1, options: { ...this.opts }, d, framesSeen: this.seen,
      W: this.ready ? matrixToJson(this.dictionary()) : null,
      A: this.ready ? matrixToJson({ rows: r, cols: r, data: this.A }) : null,
      B: this.ready ? matrixToJson(fromRows(this.Bt, r, d, this.lay.dp, true)) : null,
      H: matrixToJson(this.lastCodes()),
      queuedFrames: matrixToJson(fromRows(this.Y, q, d, this.lay.dp, false)),
      queuedCodes: matrixToJson({ rows: q, cols: r, data: this.Hq.subarray(0, q * r) }),
      warmStartBuffer: this.warm ? matrixToJson({ rows: this.warmCount, cols: d, data: this.warm.subarray(0, this.warmCount * d) }) : null,
    };
  }

  /** Replaces the model with a snapshot (checks kind, version, options, shapes, finiteness, signs). */
  restore(s: OnlineNmfState): this {
    const where = 'OnlineNMF.restore';
    checkHeader(s, 'OnlineNMF', 'OnlineNMF', 1);
    const st = s as Partial<OnlineNmfState>;
    const opts = resolveOnlineNmfOptions(st.options, 'OnlineNMF');
    const r = opts.rank;
    const U = Math.max(ONLINE_NMF_UPDATE_FRAMES, r);
    const d = st.d;
    if (typeof d !== 'number' || !Number.isInteger(d) || d < r) throw new DataError(`d must be an integer ≥ rank = ${r}; got ${String(d)}`, where);
    const seen = st.framesSeen;
    if (typeof seen !== 'number' || !Number.isSafeInteger(seen) || seen < 0) throw new DataError(`framesSeen must be an integer ≥ 0; got ${String(seen)}`, where);
    const H = matrixFromJson(st.H, `${where} (H)`, r);
    if (H.cols > ONLINE_NMF_MAX_BATCH) throw new DataError(`H has ${H.cols} columns; at most ${ONLINE_NMF_MAX_BATCH}`, `${where} (H)`);
    const Qy = matrixFromJson(st.queuedFrames, `${where} (queuedFrames)`, undefined, d);
    const Qh = matrixFromJson(st.queuedCodes, `${where} (queuedCodes)`, Qy.rows, r);
    if (Qy.rows >= U) throw new DataError(`queuedFrames has ${Qy.rows} frames; fewer than ${U} expected`, where);
    const ready = st.W !== null && st.W !== undefined;
    let W: Matrix | undefined, A: Matrix | undefined, B: Matrix | undefined, P: Matrix | undefined;
    if (ready) {
      W = matrixFromJson(st.W, `${where} (W)`, d, r);
      A = matrixFromJson(st.A, `${where} (A)`, r, r);
      B = matrixFromJson(st.B, `${where} (B)`, d, r);
      if (st.warmStartBuffer !== null && st.warmStartBuffer !== undefined) throw new DataError('warmStartBuffer must be null once W is set', where);
    } else {
      if (opts.warmStartFrames === 0) throw new DataError('W is required without a warm start', where);
      if (st.A !== null || st.B !== null) throw new DataError('A and B must be null while W is null', where);
      P = matrixFromJson(st.warmStartBuffer, `${where} (warmStartBuffer)`, undefined, d);
      if (P.rows >= opts.warmStartFrames || P.rows !== seen || Qy.rows > 0 || H.cols > 0) {
        throw new DataError(`warmStartBuffer must hold framesSeen = ${seen} < warmStartFrames = ${opts.warmStartFrames} frames, with nothing queued or coded; got ${P.rows}`, where);
      }
    }
    for (const [name, M] of [['W', W], ['B', B], ['H', H], ['queuedFrames', Qy], ['queuedCodes', Qh], ['warmStartBuffer', P]] as const) {
      if (!M) continue;
      const bad = M.data.findIndex((v) => v < 0);
      if (bad >= 0) throw new DataError(`entry ${bad} is negative; must be ≥ 0`, `${where} (${name})`);
    }
    // All checked: commit.
    this.opts = opts;
    this.setSchedule();
    this.commitDimension(d, Math.max(Qy.rows + 1, H.cols));
    const dp = this.lay.dp;
    this.seen = seen;
    if (ready) {
      for (let i = 0; i < d; i++) {
        for (let t = 0; t < r; t++) {
          this.Wt[t * dp + i] = W!.data[i * r + t]!;
          this.Bt[t * dp + i] = B!.data[i * r + t]!;
        }
      }
      this.A.set(A!.data);
      this.ready = true;
      this.refreshDerived();
    } else {
      this.warm = new Float64Array(opts.warmStartFrames * d);
      this.warm.set(P!.data);
      this.warmCount = P!.rows;
    }
    for (let j = 0; j < Qy.rows; j++) for (let i = 0; i < d; i++) this.Y[j * dp + i] = Qy.data[j * d + i]!;
    this.Hq.set(Qh.data);
    this.queued = Qy.rows;
    for (let j = 0; j < H.cols; j++) for (let t = 0; t < r; t++) this.H[j * r + t] = H.data[t * H.cols + j]!;
    this.lastCount = H.cols;
    return this;
  }

  // -------------------------------------------------------------------------------------------
  // Update path (inputs already checked).

  /** Copies the columns of X (checked) into the queue and consumes them, `step` frames at a time. */
  private feedColumns(X: Matrix, step: number): void {
    const { d } = this;
    const x = X.data, m = X.cols;
    for (let j0 = 0; j0 < m; j0 += step) {
      const n = Math.min(step, m - j0);
      this.ensureWorkspace(n);
      const { Y } = this;
      const dp = this.lay.dp, q = this.queued;
      for (let i = 0; i < d; i++) {
        const row = i * m + j0;
        for (let j = 0; j < n; j++) Y[(q + j) * dp + i] = x[row + j]!;
      }
      this.consume(n);
    }
  }

  /** Consumes `count` checked frames in queue rows queued..queued+count−1: warm-start buffer, codes, and an update when due. */
  private consume(count: number): void {
    const r = this.opts.rank;
    let b = count;
    if (!this.ready) {
      if (this.opts.warmStartFrames > 0) {
        b = this.bufferWarmStart(count);
        if (b === 0) return;
      } else {
        this.randomStart();
      }
    }
    const q = this.queued;
    const lay = this.lay;
    this.arena!.codes(lay.y + q * lay.dp, b, lay.dp, lay.wt, r, lay.c);
    this.arena!.codeFrames(lay.c, lay.g, lay.l, this.hasL, b, r, this.opts.l1H, this.opts.codingSweeps, CODE_TOL, lay.h);
    const { H, Hq } = this;
    for (let i = 0, o = q * r; i < b * r; i++) Hq[o + i] = H[i]!;
    this.lastCount = b;
    this.queued = q + b;
    this.seen += b;
    if (this.queued >= this.U) {
      this.accumulate(lay.y, Hq, this.queued);
      this.updateDictionary(lay.y, Hq, this.queued);
      this.queued = 0;
    }
  }

  /**
   * Not ready, with a warm start: moves the first frames of the call (queue rows 0..count−1;
   * nothing is queued yet) into the warm-start buffer, runs the warm start once it is full, and
   * leaves the rest of the call in rows 0.. @returns how many frames are left to code.
   */
  private bufferWarmStart(count: number): number {
    const { d } = this;
    const N = this.opts.warmStartFrames;
    const dp = this.lay.dp;
    if (!this.warm) this.warm = new Float64Array(N * d);
    const take = Math.min(count, N - this.warmCount);
    const { warm, Y } = this;
    for (let j = 0; j < take; j++) for (let i = 0; i < d; i++) warm[(this.warmCount + j) * d + i] = Y[j * dp + i]!;
    this.warmCount += take;
    this.seen += take;
    if (this.warmCount < N) return 0;
    const rest = count - take;
    const stash = rest > 0 ? this.Y.slice(take * dp, count * dp) : null; // once per model
    this.warmStart();
    if (stash) this.Y.set(stash);
    return rest;
  }

  /** A and B absorb n frames (queue rows from element `y`) with codes `Hsrc` (rows 0..n−1), frame j weighted β^{n−1−j}. */
  private accumulate(y: number, Hsrc: Float64Array, n: number): void {
    const { Hw, pow, lay } = this;
    const r = this.opts.rank;
    for (let j = 0; j < n; j++) {
      const w = pow[n - 1 - j]!;
      for (let t = 0; t < r; t++) Hw[j * r + t] = w * Hsrc[j * r + t]!;
    }
    accumulateA(Hsrc, Hw, n, r, pow[n]!, this.A);
    this.arena!.accumulateB(y, lay.hw, n, lay.dp, r, lay.bt, pow[n]!);
  }

  /** `dictSweeps` sweeps of W̃ on (A, B), re-seeding dead columns from the n frames just absorbed; then G and L. */
  private updateDictionary(y: number, Hsrc: Float64Array, n: number): void {
    const { lay, Wt, A } = this;
    const r = this.opts.rank, dp = lay.dp;
    this.arena!.dictionarySweeps(lay.wt, lay.bt, lay.a, r, dp, this.opts.dictSweeps, lay.u);
    let reseeded = 0;
    for (let t = 0; t < r; t++) {
      let alive = A[t * r + t]! > 0;
      if (alive) {
        alive = false;
        for (let i = t * dp, end = i + this.d; i < end; i++) if (Wt[i]! > 0) { alive = true; break; }
      }
      if (!alive) this.reseed(t, y, Hsrc, n, reseeded++);
    }
    this.refreshDerived();
  }

  /**
   * Re-seeds dead column t with the positive part of the largest residual y_j − W̃h_j among the n
   * frames not used by this update's earlier re-seeds (the frame itself if that part is zero, a
   * flat column if the frame is zero too), normalised; clears its statistics. Rare; O(n·d·r).
   */
  private reseed(t: number, y: number, Hsrc: Float64Array, n: number, used: number): void {
    const { d, Wt, A, Bt, usedFrames } = this;
    const f = this.arena!.f64;
    const r = this.opts.rank, dp = this.lay.dp;
    const residual = (j: number, i: number): number => {
      let e = f[y + j * dp + i]!;
      for (let l = 0; l < r; l++) e -= Wt[l * dp + i]! * Hsrc[j * r + l]!;
      return e;
    };
    let best = -1, bestJ = -1;
    for (let j = 0; j < n; j++) {
      let taken = false;
      for (let k = 0; k < used; k++) if (usedFrames[k] === j) taken = true;
      if (taken) continue;
      let sq = 0;
      for (let i = 0; i < d; i++) { const e = residual(j, i); sq += e * e; }
      if (sq > best) { best = sq; bestJ = j; }
    }
    if (bestJ >= 0) usedFrames[used] = bestJ;
    const u = f.subarray(this.lay.u, this.lay.u + dp);
    let pos = 0;
    for (let i = 0; i < d; i++) {
      const e = bestJ >= 0 ? residual(bestJ, i) : 0;
      u[i] = e > 0 ? e : 0;
      pos += u[i]! * u[i]!;
    }
    if (!(pos > 0) && bestJ >= 0) for (let i = 0; i < d; i++) { u[i] = f[y + bestJ * dp + i]!; pos += u[i]! * u[i]!; }
    if (!(pos > 0)) { u.fill(1, 0, d); pos = d; }
    const sc = 1 / Math.sqrt(pos);
    for (let i = 0; i < d; i++) Wt[t * dp + i] = u[i]! * sc;
    for (let l = 0; l < r; l++) { A[t * r + l] = 0; A[l * r + t] = 0; }
    Bt.fill(0, t * dp, (t + 1) * dp);
  }

  /** Random start: |N(0,1)| entries of W̃ (d×r) drawn row-major from Rng(seed), unit-norm columns. */
  private randomStart(): void {
    const rng = new Rng(this.opts.seed);
    const { d, Wt } = this;
    const r = this.opts.rank, dp = this.lay.dp;
    for (let i = 0; i < d; i++) for (let t = 0; t < r; t++) Wt[t * dp + i] = Math.abs(rng.normal());
    this.normalizeColumns();
    this.ready = true;
    this.refreshDerived();
  }

  /** Batch NMF (HALS) on the buffered frames, their replay with that W̃ frozen, then one dictionary update. */
  private warmStart(): void {
    const { d } = this;
    const N = this.warmCount;
    const r = this.opts.rank;
    const P = this.warm!;
    let total = 0;
    for (let i = 0; i < N * d; i++) total += P[i]!;
    if (total > 0) {
      const X = transposed(P, N, d); // d×N, columns = frames
      const res = nmf(X, { rank: r, solver: 'hals', l1H: this.opts.l1H, seed: this.opts.seed });
      const dp = this.lay.dp;
      for (let i = 0; i < d; i++) for (let t = 0; t < r; t++) this.Wt[t * dp + i] = res.W.data[i * r + t]!;
      this.normalizeColumns();
      this.ready = true;
      this.refreshDerived();
    } else {
      this.randomStart(); // all-zero frames: nothing to learn from
    }
    this.ensureWorkspace(ONLINE_NMF_FIT_BATCH);
    const lay = this.lay, dp = lay.dp;
    let n = 0;
    for (let j0 = 0; j0 < N; j0 += n) {
      n = Math.min(ONLINE_NMF_FIT_BATCH, N - j0);
      const { Y } = this;
      for (let j = 0; j < n; j++) for (let i = 0; i < d; i++) Y[j * dp + i] = P[(j0 + j) * d + i]!;
      this.arena!.codes(lay.y, n, dp, lay.wt, r, lay.c);
      this.arena!.codeFrames(lay.c, lay.g, lay.l, this.hasL, n, r, this.opts.l1H, this.opts.codingSweeps, CODE_TOL, lay.h);
      this.accumulate(lay.y, this.H, n);
    }
    this.lastCount = n;
    this.updateDictionary(lay.y, this.H, n);
    this.warm = null;
    this.warmCount = 0;
  }

  /** Scales each column of W̃ (row of Wt) to unit norm (zero columns stay zero). */
  private normalizeColumns(): void {
    const { d, Wt } = this;
    const dp = this.lay.dp;
    for (let t = 0; t < this.opts.rank; t++) {
      let s = 0;
      for (let i = t * dp; i < t * dp + d; i++) s += Wt[i]! * Wt[i]!;
      if (!(s > 0)) continue;
      const sc = 1 / Math.sqrt(s);
      for (let i = t * dp; i < t * dp + d; i++) Wt[i]! *= sc;
    }
  }

  /** G = W̃ᵀW̃ (the codes kernel on Wt itself) and L = chol(G + ε·mean(diag G)·I): functions of W̃ alone. */
  private refreshDerived(): void {
    const { G, L, lay } = this;
    const r = this.opts.rank;
    this.arena!.codes(lay.wt, r, lay.dp, lay.wt, r, lay.g);
    let tr = 0;
    for (let t = 0; t < r; t++) tr += G[t * r + t]!;
    L.set(G.subarray(0, r * r));
    const ridge = CODE_RIDGE * (tr / r);
    for (let t = 0; t < r; t++) L[t * r + t]! += ridge;
    this.hasL = tr > 0 && cholesky(L, r, CODE_RIDGE);
  }

  // -------------------------------------------------------------------------------------------
  // Buffers and checks.

  /** U and the table pow[k] = β^k (k up to the largest update, U − 1 + ONLINE_NMF_MAX_BATCH). */
  private setSchedule(): void {
    const beta = this.opts.forgetting;
    this.U = Math.max(ONLINE_NMF_UPDATE_FRAMES, this.opts.rank);
    const len = this.U + ONLINE_NMF_MAX_BATCH;
    this.pow = new Float64Array(len);
    for (let k = 0; k < len; k++) this.pow[k] = beta === 1 ? 1 : Math.pow(beta, k);
  }

  /** Forgets everything learned and fixes d: a fresh arena (zero statistics) with room for `count` frames. */
  private commitDimension(d: number, count = 1): void {
    const r = this.opts.rank;
    this.d = d;
    this.seen = 0;
    this.ready = false;
    this.hasL = false;
    this.warm = null;
    this.warmCount = 0;
    this.queued = 0;
    this.lastCount = 0;
    this.arena = null;
    this.usedFrames = new Int32Array(r);
    this.allocate(Math.max(count, ONLINE_NMF_FIT_BATCH), Math.max(count, ONLINE_NMF_FIT_BATCH));
  }

  /** Room for `count` more frames after the queued ones. A no-op in the steady state (allocates only when the batch grows). */
  private ensureWorkspace(count: number): void {
    const needQ = this.queued + count;
    if (this.lay.capQ >= needQ && this.lay.capB >= count) return;
    this.allocate(Math.max(needQ, this.lay.capQ), Math.max(count, this.lay.capB));
  }

  /** A new arena of the given capacities, keeping the model, the queue and the last codes. */
  private allocate(capQ: number, capB: number): void {
    const r = this.opts.rank;
    const lay = layoutOf(this.d, r, capQ, capB);
    const arena = createArena(lay.total, this.backend);
    const f = arena.f64, old = this.arena;
    if (old) {
      const o = this.lay, g = old.f64;
      f.set(g.subarray(o.wt, o.wt + 2 * r * o.dp), lay.wt); // Wt and Bt (same dp)
      f.set(g.subarray(o.a, o.a + 3 * (o.g - o.a)), lay.a); // A, G and L
      f.set(g.subarray(o.y, o.y + this.queued * o.dp), lay.y);
      f.set(g.subarray(o.hq, o.hq + this.queued * r), lay.hq);
      f.set(g.subarray(o.h, o.h + this.lastCount * r), lay.h);
    }
    this.arena = arena;
    this.lay = lay;
    this.Wt = f.subarray(lay.wt, lay.wt + r * lay.dp);
    this.Bt = f.subarray(lay.bt, lay.bt + r * lay.dp);
    this.A = f.subarray(lay.a, lay.a + r * r);
    this.G = f.subarray(lay.g, lay.g + r * r);
    this.L = f.subarray(lay.l, lay.l + r * r);
    this.Y = f.subarray(lay.y, lay.y + capQ * lay.dp);
    this.Hq = f.subarray(lay.hq, lay.hq + capQ * r);
    this.Hw = f.subarray(lay.hw, lay.hw + capQ * r);
    this.C = f.subarray(lay.c, lay.c + capB * r);
    this.H = f.subarray(lay.h, lay.h + capB * r);
  }

  /** Checks a frames matrix's storage and row count (d, or any d ≥ rank when `fresh` or unset); returns its rows. */
  private checkFrameLength(X: Matrix, where: string, fresh: boolean): number {
    if (!X || !(X.data instanceof Float64Array) || !Number.isInteger(X.rows) || !Number.isInteger(X.cols) || X.rows < 1 || X.cols < 1) {
      throw new DataError('expected a Matrix (d×b, columns = frames) with at least one row and column and Float64Array data', where);
    }
    if (X.data.length !== X.rows * X.cols) throw new DataError(`data has ${X.data.length} entries; expected rows·cols = ${X.rows * X.cols}`, where);
    if (!fresh && this.d !== 0 && X.rows !== this.d) throw new DataError(`frames have ${X.rows} entries (rows); this model's frame length d is ${this.d}`, where);
    if (fresh || this.d === 0) this.checkRankFits(X.rows);
    return X.rows;
  }

  /** Every entry of X (d×b) finite and ≥ 0, else a DataError naming the frame (column) and entry (row). */
  private checkMatrixFrames(X: Matrix, where: string): void {
    const { data, cols } = X;
    for (let k = 0; k < data.length; k++) {
      const v = data[k]!;
      if (!(v >= 0 && v < Infinity)) throw this.entryError(where, k % cols, Math.floor(k / cols), v);
    }
  }

  private checkRankFits(d: number): void {
    if (this.opts.rank > d) {
      throw new InvalidOptionError('OnlineNMF', 'rank', `an integer ≤ the frame length d = ${d}`, this.opts.rank);
    }
  }

  private entryError(where: string, frame: number, entry: number, v: number): DataError {
    const what = Number.isNaN(v) ? 'NaN' : v === Infinity || v === -Infinity ? String(v) : `negative (${v})`;
    return new DataError(
      `frame ${frame} of the batch (stream frame ${this.seen + frame}), entry ${entry} is ${what}; frames must be finite and ≥ 0 (NMF)`,
      where,
    );
  }

  /** W̃ as a new d×r matrix. */
  private dictionary(): Matrix {
    return fromRows(this.Wt, this.opts.rank, this.d, this.lay.dp, true);
  }

  /** Codes of the last call's frames as a new r×b matrix. */
  private lastCodes(): Matrix {
    return transposed(this.H, this.lastCount, this.opts.rank);
  }
}

/** The transpose of a rows×cols row-major array, as a new cols×rows matrix. */
function transposed(a: Float64Array, rows: number, cols: number): Matrix {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j]!;
  return { rows: cols, cols: rows, data: out };
}

/** `rows` padded rows (stride `stride`, first `cols` entries used) as a new matrix: rows×cols, or its transpose. */
function fromRows(a: Float64Array, rows: number, cols: number, stride: number, transpose: boolean): Matrix {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = a[i * stride + j]!;
      if (transpose) out[j * rows + i] = v; else out[i * cols + j] = v;
    }
  }
  return transpose ? { rows: cols, cols: rows, data: out } : { rows, cols, data: out };
}
