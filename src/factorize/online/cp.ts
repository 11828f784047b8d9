/**
 * Online compressed non-negative CP for a stream of windowed 3-way tensors: OnlineCP (Zhou, Erfani
 * & Bailey 2016) with non-negativity, a forgetting factor, and the time mode compressed as in the
 * paper's tensor Factorize-Recover (PAPER.md §1.2, §2.3 Algorithm 2).
 *
 * Model. Window w is X_w (L×m1×m2: time × mode 2 × mode 3) ≈ [[A_w, B, C]], with a temporal
 * factor A_w (L×r) of its own and B (m1×r), C (m2×r) shared by all windows, everything ≥ 0. The
 * model only sees the compressed window T~_w = X_w ×₁ P (d×m1×m2, P d×L), which is ≈ [[Ã_w, B, C]]
 * with Ã_w = P·A_w: it learns B, C, and returns Ã_w per window, from which A_w = R_P(Ã_w) is
 * recovered outside (r sparse recoveries; pipelines/onlineCp.ts).
 *
 *   window T~_w ──▶ Ã_w = argmin_{Ã≥0} ‖T~_w − [[Ã, B, C]]‖²       (NNLS against the current B, C)
 *               ──▶ P_B ← λ P_B + T~_(2)(Ã_w ⊙ C),  Q_B ← λ Q_B + Ã_wᵀÃ_w ∗ CᵀC;  B ← HALS on (P_B, Q_B)
 *               ──▶ P_C ← λ P_C + T~_(3)(Ã_w ⊙ B),  Q_C ← λ Q_C + Ã_wᵀÃ_w ∗ BᵀB;  C ← HALS on (P_C, Q_C)
 *
 * (⊙ Khatri–Rao, ∗ Hadamard, T~_(n) the mode-n unfolding; no Khatri–Rao product is formed: the
 * products are MTTKRPs, cp/mttkrp.ts.) (P_B, Q_B) are the sufficient statistics of the surrogate
 * Σ_w λ^{W−w} ½‖T~_w − [[Ã_w, B, C_w]]‖² with each window's Ã_w and C_w frozen when it was seen
 * (Mairal et al. 2010's surrogate, carried to CP by OnlineCP), so nothing grows with the number
 * of windows W. B is updated before C's statistics are formed (Gauss–Seidel), so C sees the new B.
 *
 * Per window, in order (all buffers allocated when d is fixed by the first call; none after):
 *   1. Check the window (dims, finiteness) and take ‖T~_w‖²: one pass, d·m1·m2.
 *   2. Ã_w: MTTKRP₁ = T~_(1)(B ⊙ C) (d×r, cost d·m1·m2·r) and V = BᵀB ∗ CᵀC (r×r); start from
 *      the clipped least-squares solution max(0, MTTKRP₁·V⁻¹) (Cholesky, r³/3 + d·r²), then up to
 *      `innerIterations` HALS sweeps (`cdSolve`, nonneg; d·r² each; early stop at a 1e-6 relative
 *      change). Ã_w is solved against B and C as they were when the window arrived.
 *   3. B: MTTKRP₂ (m1×r, d·m1·m2·r) into P_B, Ã_wᵀÃ_w ∗ CᵀC into Q_B, `factorSweeps` HALS sweeps
 *      (`halsUpdate`, m1·r² each). 4. C likewise with the new B (d·m1·m2·r + m2·r²).
 *   5. Normalisation: B's and C's columns are scaled to unit norm after their update and the
 *      scales moved into Ã_w, so [[Ã_w, B, C]] is unchanged; the statistics are rescaled with them
 *      (P[:,t] ← s_t·P[:,t], Q[t,l] ← s_t·s_l·Q[t,l]: the same surrogate, reparametrised), so the
 *      scale lives in the temporal factor and `weights` reports it: w_t = √(Σ λ^age ‖ã_t‖² / Σ λ^age),
 *      the discounted RMS norm of column t of Ã over the windows seen.
 *   6. Fit: ‖T~_w − [[Ã_w, B, C]]‖/‖T~_w‖ of the returned Ã_w with the updated B, C, from the last
 *      MTTKRP and the Grams (no model tensor is formed).
 *   Cost per window: 3·d·m1·m2·r for the three MTTKRPs (the bulk) + (innerIterations·d +
 *   factorSweeps·(m1 + m2))·r² + O(r³); memory 2·(m1 + m2)·r + 2·r² statistics and factors plus
 *   max(d, m1, m2)·r of workspace — both independent of the number of windows.
 *
 * Start: `warmStartWindows` = N ≥ 1 buffers the first N windows (N·d·m1·m2 values, once), fits
 * their stack along mode 1 ((N·d)×m1×m2, which is the model: shared B and C, a temporal block per
 * window) by batch non-negative CP (`cp`, 'nn-hals', negatives clipped on a copy), takes its B and
 * C, replays the N windows through steps 2–4 with B and C frozen, then updates them once (with the
 * last window). Before that, `partialFit` returns null. N = 0 draws B and C at random (|N(0,1)|
 * entries from `Rng(seed)`, B row-major then C, unit-norm columns). A column of B or C that dies
 * (all entries clamped to 0) is set flat by the HALS floor; the normalisation then scales its
 * statistics by ≈ 1e-12, i.e. clears them, and the next windows re-fit it.
 *
 * Non-negativity: B, C and Ã_w are ≥ 0, which needs P ≥ 0 (the paper's sparse-binary P) for
 * Ã_w = P·A_w to be feasible. The windows themselves may hold negative entries (noise); only NaN,
 * ±Infinity and wrong shapes are refused (a DataError thrown before anything changes).
 *
 * @example
 * const model = new OnlineCP({ rank: 4, shape: [16, 32] });
 * const Ac = matrix(d, 4);
 * for (const Tw of windows) model.partialFit(Tw, Ac);      // Tw: d×16×32 compressed window
 * const { B, C, weights } = model.components();
 * const copy = new OnlineCP({ rank: 4, shape: [16, 32] }).restore(JSON.parse(JSON.stringify(model.state())));
 *
 * @see cp (batch CP), OnlineNMF (the matrix counterpart), pipelines/onlineCp.ts (compression + recovery)
 *
 * References:
 *   S. Zhou, N. X. Vinh, J. Bailey, Y. Jia, I. Davidson (2016), Accelerating online CP
 *     decompositions for higher order tensors, KDD (OnlineCP: the statistics P, Q per mode).
 *   J. Mairal, F. Bach, J. Ponce, G. Sapiro (2010), Online learning for matrix factorization and
 *     sparse coding, JMLR 11 (the frozen-code surrogate, block-coordinate updates).
 *   A. Cichocki, A.-H. Phan (2009), IEICE Trans. E92-A(3) (HALS for non-negative CP).
 */
import { DataError, InvalidOptionError, NotFittedError, ShapeMismatchError } from '../../errors.js';
import { gramCols } from '../../linalg/kernels.js';
import type { Matrix } from '../../linalg/matrix.js';
import { Rng } from '../../linalg/random.js';
import { cholesky, choleskySolve } from '../../linalg/small.js';
import type { Tensor3 } from '../../sensing/operator.js';
import { cp } from '../cp/cp.js';
import { hadamardInto, mttkrpInto } from '../cp/mttkrp.js';
import { checkHeader, matrixFromJson, matrixToJson, type MatrixJson } from '../estimator.js';
import { cdSolve, halsUpdate } from '../kernels.js';
import { resolveOptions, type ConstraintTable } from '../validate.js';

/** Options of `OnlineCP`. */
export interface OnlineCpOptions {
  /** required; number of components r ≥ 1 (at most d, the compressed window length). */
  rank: number;
  /** required; [m1, m2], the sizes of the two uncompressed modes (integers ≥ 1): each window is d×m1×m2. */
  shape: readonly [number, number];
  /** 0.9; forgetting factor λ per window, in (0, 1]: P ← λP + new, Q ← λQ + new; memory ≈ 1/(1−λ) = 10 windows; 1 = plain sums. */
  forgetting: number;
  /** 20; cap on the HALS sweeps of each window's NNLS for Ã_w (started from the clipped least-squares solution; early stop at a 1e-6 relative change; 0 = that start only). */
  innerIterations: number;
  /** 1; HALS sweeps over the columns of B, then of C, on their statistics per window. */
  factorSweeps: number;
  /** 1; 0 = random start; N ≥ 1 = buffer the first N windows, fit their stack by batch non-negative CP (nn-hals), replay them. */
  warmStartWindows: number;
  /** 200; cap on the sweeps of the warm start's batch CP (it stops earlier at a 1e-6 change of the relative error). */
  warmStartIterations: number;
  /** 0; integer seed of the random start and of the warm start's batch CP. */
  seed: number;
}

/** The options that have defaults (rank and shape are required). */
type DefaultedOptions = Omit<OnlineCpOptions, 'rank' | 'shape'>;

/** The defaults (rank and shape have none: they are required). */
export const DEFAULT_ONLINE_CP_OPTIONS: Readonly<DefaultedOptions> = Object.freeze({
  forgetting: 0.9,
  innerIterations: 20,
  factorSweeps: 1,
  warmStartWindows: 1,
  warmStartIterations: 200,
  seed: 0,
});

/** Allowed values of each scalar option (`shape` is checked on its own: a pair of integers ≥ 1). */
export const ONLINE_CP_CONSTRAINTS: ConstraintTable<Omit<OnlineCpOptions, 'shape'>> = Object.freeze({
  rank: { type: 'int', min: 1 },
  forgetting: { type: 'number', min: 0, minExclusive: true, max: 1 },
  innerIterations: { type: 'int', min: 0 },
  factorSweeps: { type: 'int', min: 1 },
  warmStartWindows: { type: 'int', min: 0 },
  warmStartIterations: { type: 'int', min: 1 },
  seed: { type: 'seed' },
});

/** Relative change of Ã_w below which its HALS sweeps stop early. */
const CODE_TOL = 1e-6;
/** Ridge of the least-squares start, relative to mean(diag V). */
const CODE_RIDGE = 1e-10;
/** HALS floor for B and C: a dead column is set to this everywhere (then normalised: a flat column, cleared statistics). */
const FACTOR_FLOOR = 1e-12;
/** Relative change of the error at which the warm start's batch CP stops. */
const WARM_TOL = 1e-6;

/** Validates and resolves OnlineCP options (a new frozen object with its own `shape`; `given` is not touched). */
export function resolveOnlineCpOptions(given: Partial<OnlineCpOptions> | undefined, owner = 'OnlineCP'): Readonly<OnlineCpOptions> {
  if (given === undefined || typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new InvalidOptionError(owner, 'options', 'an object with at least rank and shape', given);
  }
  const { shape, ...rest } = given;
  const o = resolveOptions(owner, ONLINE_CP_CONSTRAINTS, DEFAULT_ONLINE_CP_OPTIONS as Readonly<Omit<OnlineCpOptions, 'shape'>>, rest);
  if (!Array.isArray(shape) || shape.length !== 2 || !shape.every((v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 1)) {
    throw new InvalidOptionError(owner, 'shape', 'a pair [m1, m2] of integers ≥ 1 (required)', shape);
  }
  return Object.freeze({ ...o, shape: Object.freeze([shape[0], shape[1]] as const) });
}

/** Snapshot of an `OnlineCP` (version 1). Matrices are row-major JSON. */
export interface OnlineCpState {
  kind: 'OnlineCP';
  version: 1;
  options: Omit<OnlineCpOptions, 'shape'> & { shape: [number, number] };
  /** Compressed window length (mode-1 size of T~_w). */
  d: number;
  /** Windows accepted so far (buffered warm-start windows included). */
  windowsSeen: number;
  /** B (m1×r) and C (m2×r), unit-norm columns; null while warm-start windows are being buffered. */
  B: MatrixJson | null;
  C: MatrixJson | null;
  /** P_B = Σ λ^age T~_(2)(Ã ⊙ C) (m1×r) and Q_B = Σ λ^age ÃᵀÃ ∗ CᵀC (r×r); null while buffering. */
  PB: MatrixJson | null;
  QB: MatrixJson | null;
  /** P_C (m2×r) and Q_C (r×r), likewise with B; null while buffering. */
  PC: MatrixJson | null;
  QC: MatrixJson | null;
  /** Σ λ^age ‖ã_t‖² per component (r), and Σ λ^age: the weights' numerator and denominator. */
  scale: number[];
  mass: number;
  /** Relative compressed fit of the last window (null before the first coded window). */
  fitError: number | null;
  /** Buffered warm-start windows stacked along mode 1: (count·d)×(m1·m2); null once the warm start ran (or without one). */
  warmStartBuffer: MatrixJson | null;
}

/** What `components` returns: the shared factors with unit-norm columns and the component scales. */
export interface OnlineCpComponents {
  /** m1×r, unit-norm columns, ≥ 0. */
  B: Matrix;
  /** m2×r, unit-norm columns, ≥ 0. */
  C: Matrix;
  /** r scales: the discounted RMS norm of each column of Ã_w over the windows seen (see the module header). */
  weights: Float64Array;
}

/**
 * Online non-negative CP of compressed windows d×m1×m2 (see the module header). `partialFit` is
 * the zero-allocation hot path when given an output matrix; `transform` codes a window without
 * learning from it.
 */
export class OnlineCP {
  private opts: Readonly<OnlineCpOptions>;
  /** Compressed window length, 0 until the first call. */
  private d = 0;
  private windows = 0;
  private ready = false;
  private fitErr = NaN;
  private normSq = 0;
  // Factors (row-major, unit-norm columns), their Grams, the statistics.
  private B = new Float64Array(0);
  private C = new Float64Array(0);
  private GB = new Float64Array(0);
  private GC = new Float64Array(0);
  private PB = new Float64Array(0);
  private QB = new Float64Array(0);
  private PC = new Float64Array(0);
  private QC = new Float64Array(0);
  private scale2 = new Float64Array(0);
  private mass = 0;
  // The window's Ã (d×r) and its Gram; workspaces.
  private A = new Float64Array(0);
  private GA = new Float64Array(0);
  private M = new Float64Array(0);
  private V = new Float64Array(0);
  private L = new Float64Array(0);
  private row = new Float64Array(0);
  private tmp = new Float64Array(0);
  private norms = new Float64Array(0);
  // Warm-start buffer (warmCount windows of d·m1·m2 values).
  private warm: Float64Array | null = null;
  private warmCount = 0;

  /** Validates (InvalidOptionError) and freezes the options; `rank` and `shape` are required. */
  constructor(options: Partial<OnlineCpOptions> & { rank: number; shape: readonly [number, number] }) {
    this.opts = resolveOnlineCpOptions(options);
  }

  /** The resolved, frozen options. */
  get options(): Readonly<OnlineCpOptions> { return this.opts; }
  /** Windows accepted since the start (or the last `fit`), buffered warm-start windows included. */
  get windowsSeen(): number { return this.windows; }
  /** Compressed time slices accepted (windowsSeen · d). */
  get framesSeen(): number { return this.windows * this.d; }
  /** Compressed window length d (0 before the first call). */
  get windowLength(): number { return this.d; }
  /** ‖T~_w − [[Ã_w, B, C]]‖/‖T~_w‖ of the last window `partialFit` coded (NaN before any). */
  get lastFitError(): number { return this.fitErr; }
  /** True once B and C exist (after the first window, or the warm-start buffer filled). */
  get fitted(): boolean { return this.ready; }

  /**
   * Learns from one compressed window T~_w (dims [d, m1, m2]; the first call fixes d) and returns
   * its compressed temporal factor Ã_w (d×r, ≥ 0), written into `out` if given (d×r, reused:
   * nothing is allocated then), else a new matrix; null while warm-start windows are buffered.
   * Throws DataError (wrong dims or length, NaN, ±Infinity) before anything is updated.
   */
  partialFit(window: Tensor3, out?: Matrix): Matrix | null {
    const where = 'OnlineCP.partialFit';
    const d = this.checkWindow(window, where);
    if (out) this.checkOut(out, d, where);
    if (this.d === 0) this.commitDimension(d);
    if (!this.ready) {
      if (this.opts.warmStartWindows > 0) {
        this.bufferWindow(window);
        if (this.warmCount < this.opts.warmStartWindows) return null;
        this.warmStart();
        return this.copyA(this.A, out);
      }
      this.randomStart();
    }
    this.code(window, this.A);
    this.absorb(window, true);
    this.windows++;
    return this.copyA(this.A, out);
  }

  /**
   * Ã (d×r, ≥ 0) of a compressed window with B and C fixed — step 2 of `partialFit` without the
   * update (same sweeps), into `out` if given. Never changes the model. NotFittedError before B, C exist.
   */
  transform(window: Tensor3, out?: Matrix): Matrix {
    const where = 'OnlineCP.transform';
    if (!this.ready) throw new NotFittedError('OnlineCP');
    const d = this.checkWindow(window, where);
    if (out) this.checkOut(out, d, where);
    const target = out ?? { rows: d, cols: this.opts.rank, data: new Float64Array(d * this.opts.rank) };
    this.code(window, target.data);
    return target;
  }

  /** Resets the model, then `partialFit` over the windows in order (all are checked first). */
  fit(windows: readonly Tensor3[]): this {
    const where = 'OnlineCP.fit';
    if (!Array.isArray(windows) || windows.length === 0) throw new DataError('expected a non-empty array of windows', where);
    let d = 0;
    windows.forEach((w, i) => {
      const di = this.checkWindow(w, `${where} (window ${i})`, true);
      if (i > 0 && di !== d) throw new DataError(`window ${i} has d = ${di}; window 0 has d = ${d}`, where);
      d = di;
    });
    this.commitDimension(d);
    for (const w of windows) this.partialFit(w);
    return this;
  }

  /** Copies of B (m1×r), C (m2×r) — unit-norm columns — and the weights (r). */
  components(): OnlineCpComponents {
    if (!this.ready) throw new NotFittedError('OnlineCP');
    const r = this.opts.rank;
    const [m1, m2] = this.opts.shape;
    const weights = new Float64Array(r);
    for (let t = 0; t < r; t++) weights[t] = this.mass > 0 ? Math.sqrt(this.scale2[t]! / this.mass) : 0;
    return { B: { rows: m1, cols: r, data: this.B.slice() }, C: { rows: m2, cols: r, data: this.C.slice() }, weights };
  }

  /** Versioned JSON snapshot; continuing a restored copy is bit-for-bit identical to continuing this one. */
  state(): OnlineCpState {
    if (this.d === 0) throw new NotFittedError('OnlineCP');
    const r = this.opts.rank;
    const [m1, m2] = this.opts.shape;
    const mj = (rows: number, cols: number, data: Float64Array): MatrixJson | null => (this.ready ? matrixToJson({ rows, cols, data }) : null);
    return {
      kind: 'OnlineCP', version: 1, options: { ...this.opts, shape: [m1, m2] }, d: this.d, windowsSeen: this.windows,
      B: mj(m1, r, this.B), C: mj(m2, r, this.C), PB: mj(m1, r, this.PB), QB: mj(r, r, this.QB), PC: mj(m2, r, this.PC), QC: mj(r, r, this.QC),
      scale: Array.from(this.scale2), mass: this.mass, fitError: Number.isNaN(this.fitErr) ? null : this.fitErr,
      warmStartBuffer: this.warm ? matrixToJson({ rows: this.warmCount * this.d, cols: m1 * m2, data: this.warm.subarray(0, this.warmCount * this.d * m1 * m2) }) : null,
    };
  }

  /** Replaces the model with a snapshot (checks kind, version, options, shapes, finiteness, signs); returns itself. */
  restore(s: OnlineCpState): this {
    const where = 'OnlineCP.restore';
    checkHeader(s, 'OnlineCP', 'OnlineCP', 1);
    const st = s as Partial<OnlineCpState>;
    const opts = resolveOnlineCpOptions(st.options, 'OnlineCP');
    const r = opts.rank;
    const [m1, m2] = opts.shape;
    const d = st.d;
    if (typeof d !== 'number' || !Number.isInteger(d) || d < r) throw new DataError(`d must be an integer ≥ rank = ${r}; got ${String(d)}`, where);
    const seen = st.windowsSeen;
    if (typeof seen !== 'number' || !Number.isSafeInteger(seen) || seen < 0) throw new DataError(`windowsSeen must be an integer ≥ 0; got ${String(seen)}`, where);
    const scale = st.scale;
    if (!Array.isArray(scale) || scale.length !== r || !scale.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
      throw new DataError(`scale must be ${r} finite numbers ≥ 0`, where);
    }
    const mass = st.mass;
    if (typeof mass !== 'number' || !Number.isFinite(mass) || mass < 0) throw new DataError(`mass must be a finite number ≥ 0; got ${String(mass)}`, where);
    const fitError = st.fitError;
    if (fitError !== null && (typeof fitError !== 'number' || !Number.isFinite(fitError) || fitError < 0)) {
      throw new DataError(`fitError must be null or a finite number ≥ 0; got ${String(fitError)}`, where);
    }
    const ready = st.B !== null && st.B !== undefined;
    let F: Record<'B' | 'C' | 'PB' | 'QB' | 'PC' | 'QC', Matrix> | undefined;
    let buffer: Matrix | undefined;
    if (ready) {
      F = {
        B: matrixFromJson(st.B, `${where} (B)`, m1, r), C: matrixFromJson(st.C, `${where} (C)`, m2, r),
        PB: matrixFromJson(st.PB, `${where} (PB)`, m1, r), QB: matrixFromJson(st.QB, `${where} (QB)`, r, r),
        PC: matrixFromJson(st.PC, `${where} (PC)`, m2, r), QC: matrixFromJson(st.QC, `${where} (QC)`, r, r),
      };
      for (const name of ['B', 'C'] as const) {
        const bad = F[name].data.findIndex((v) => v < 0);
        if (bad >= 0) throw new DataError(`entry ${bad} is negative; must be ≥ 0`, `${where} (${name})`);
      }
      if (st.warmStartBuffer !== null && st.warmStartBuffer !== undefined) throw new DataError('warmStartBuffer must be null once B is set', where);
    } else {
      if (opts.warmStartWindows === 0) throw new DataError('B is required without a warm start', where);
      if (st.C !== null || st.PB !== null || st.QB !== null || st.PC !== null || st.QC !== null) {
        throw new DataError('C, PB, QB, PC and QC must be null while B is null', where);
      }
      buffer = matrixFromJson(st.warmStartBuffer, `${where} (warmStartBuffer)`, undefined, m1 * m2);
      if (buffer.rows !== seen * d || seen >= opts.warmStartWindows || seen < 1) {
        throw new DataError(`warmStartBuffer must hold windowsSeen = ${seen} (1 ≤ windowsSeen < warmStartWindows = ${opts.warmStartWindows}) windows of d = ${d} rows; got ${buffer.rows} rows`, where);
      }
    }
    // All checked: commit.
    this.opts = opts;
    this.commitDimension(d);
    this.windows = seen;
    this.scale2.set(scale);
    this.mass = mass;
    this.fitErr = fitError === null || fitError === undefined ? NaN : fitError;
    if (F) {
      this.B.set(F.B.data); this.C.set(F.C.data);
      this.PB.set(F.PB.data); this.QB.set(F.QB.data); this.PC.set(F.PC.data); this.QC.set(F.QC.data);
      gramCols(this.B, m1, r, this.GB);
      gramCols(this.C, m2, r, this.GC);
      this.ready = true;
    } else {
      this.warm = new Float64Array(opts.warmStartWindows * d * m1 * m2);
      this.warm.set(buffer!.data);
      this.warmCount = seen;
    }
    return this;
  }

  // -------------------------------------------------------------------------------------------
  // Update path (inputs already checked).

  /** Step 2: Ã (d×r) of window T into `A`: clipped least squares against B, C, then HALS sweeps. Touches only workspaces. */
  private code(T: Tensor3, A: Float64Array): void {
    const r = this.opts.rank, d = this.d;
    const { M, V, L, row } = this;
    mttkrpInto(T, A, this.B, this.C, r, 0, M, this.tmp); // mode 0 does not read A
    hadamardInto(this.GB, this.GC, r, V);
    L.set(V);
    let tr = 0;
    for (let t = 0; t < r; t++) tr += V[t * r + t]!;
    const ridge = CODE_RIDGE * (tr / r || 1);
    for (let t = 0; t < r; t++) L[t * r + t]! += ridge;
    if (cholesky(L, r, CODE_RIDGE)) {
      for (let i = 0; i < d; i++) {
        const o = i * r;
        for (let t = 0; t < r; t++) row[t] = M[o + t]!;
        choleskySolve(L, r, row);
        for (let t = 0; t < r; t++) A[o + t] = row[t]! > 0 ? row[t]! : 0;
      }
    } else {
      A.fill(0, 0, d * r);
    }
    if (this.opts.innerIterations > 0) cdSolve(A, M, V, d, r, 0, 0, true, this.opts.innerIterations, CODE_TOL);
  }

  /**
   * Steps 3–6 for window T with its Ã in this.A: the statistics absorb it; with `update`, B and C
   * are updated and normalised (rescaling this.A and the statistics). Sets the fit error.
   */
  private absorb(T: Tensor3, update: boolean): void {
    const r = this.opts.rank, d = this.d, lam = this.opts.forgetting;
    const [m1, m2] = this.opts.shape;
    const { B, C, A, PB, QB, PC, QC, GA, GB, GC, M, V, tmp } = this;
    gramCols(A, d, r, GA);
    // B: statistics, then HALS on them.
    mttkrpInto(T, A, B, C, r, 1, M, tmp);
    for (let i = 0; i < m1 * r; i++) PB[i] = lam * PB[i]! + M[i]!;
    hadamardInto(GA, GC, r, V);
    for (let i = 0; i < r * r; i++) QB[i] = lam * QB[i]! + V[i]!;
    if (update) {
      for (let s = 0; s < this.opts.factorSweeps; s++) halsUpdate(B, PB, QB, m1, r, 0, 0, FACTOR_FLOOR);
      this.normalize(B, m1, PB, QB);
      gramCols(B, m1, r, GB);
    }
    // C: statistics with the new B, then HALS.
    mttkrpInto(T, A, B, C, r, 2, M, tmp);
    for (let i = 0; i < m2 * r; i++) PC[i] = lam * PC[i]! + M[i]!;
    hadamardInto(GA, GB, r, V);
    for (let i = 0; i < r * r; i++) QC[i] = lam * QC[i]! + V[i]!;
    if (update) for (let s = 0; s < this.opts.factorSweeps; s++) halsUpdate(C, PC, QC, m2, r, 0, 0, FACTOR_FLOOR);
    // Fit of [[Ã, B, C]]: ‖T‖² − 2⟨MTTKRP₃, C⟩ + Σ GA ∗ GB ∗ GC (C before its normalisation).
    gramCols(C, m2, r, GC);
    let inner = 0, model = 0;
    for (let i = 0; i < m2 * r; i++) inner += M[i]! * C[i]!;
    for (let i = 0; i < r * r; i++) model += GA[i]! * GB[i]! * GC[i]!;
    const errSq = Math.max(0, this.normSq - 2 * inner + model);
    this.fitErr = this.normSq > 0 ? Math.sqrt(errSq / this.normSq) : Math.sqrt(errSq);
    if (update) {
      this.normalize(C, m2, PC, QC);
      gramCols(C, m2, r, GC);
    }
    for (let t = 0; t < r; t++) this.scale2[t] = lam * this.scale2[t]! + GA[t * r + t]!;
    this.mass = lam * this.mass + 1;
  }

  /**
   * Scales the columns of F (n×r) to unit norm and moves each scale s_t into Ã (this.A, column t)
   * and its Gram GA (s_t·s_l), and into the statistics of F: P[:,t] ·= s_t, Q[t,l] ·= s_t·s_l.
   */
  private normalize(F: Float64Array, n: number, P: Float64Array, Q: Float64Array): void {
    const r = this.opts.rank, d = this.d;
    const { norms, A, GA } = this;
    norms.fill(0);
    for (let i = 0; i < n; i++) for (let t = 0; t < r; t++) norms[t]! += F[i * r + t]! * F[i * r + t]!;
    for (let t = 0; t < r; t++) norms[t] = norms[t]! > 0 ? Math.sqrt(norms[t]!) : 1;
    for (let i = 0; i < n; i++) {
      for (let t = 0; t < r; t++) {
        F[i * r + t]! /= norms[t]!;
        P[i * r + t]! *= norms[t]!;
      }
    }
    for (let i = 0; i < d; i++) for (let t = 0; t < r; t++) A[i * r + t]! *= norms[t]!;
    for (let t = 0; t < r; t++) {
      for (let l = 0; l < r; l++) {
        const s = norms[t]! * norms[l]!;
        Q[t * r + l]! *= s;
        GA[t * r + l]! *= s;
      }
    }
  }

  /** Random start: |N(0,1)| entries of B then C (row-major) from Rng(seed), unit-norm columns. */
  private randomStart(): void {
    const rng = new Rng(this.opts.seed);
    const r = this.opts.rank;
    const [m1, m2] = this.opts.shape;
    for (let i = 0; i < m1 * r; i++) this.B[i] = Math.abs(rng.normal());
    for (let i = 0; i < m2 * r; i++) this.C[i] = Math.abs(rng.normal());
    this.normalizeFactorsOnly();
    this.ready = true;
  }

  /** Unit-norm columns of B and C (no statistics yet), and their Grams. */
  private normalizeFactorsOnly(): void {
    const r = this.opts.rank;
    const [m1, m2] = this.opts.shape;
    for (const [F, n] of [[this.B, m1], [this.C, m2]] as const) {
      for (let t = 0; t < r; t++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += F[i * r + t]! * F[i * r + t]!;
        if (!(s > 0)) continue;
        const sc = 1 / Math.sqrt(s);
        for (let i = 0; i < n; i++) F[i * r + t]! *= sc;
      }
    }
    gramCols(this.B, m1, r, this.GB);
    gramCols(this.C, m2, r, this.GC);
  }

  /** Appends a checked window to the warm-start buffer. */
  private bufferWindow(T: Tensor3): void {
    const size = T.data.length;
    if (!this.warm) this.warm = new Float64Array(this.opts.warmStartWindows * size);
    this.warm.set(T.data, this.warmCount * size);
    this.warmCount++;
    this.windows++;
  }

  /** Batch nn-HALS CP of the buffered windows' stack; its B and C; the windows replayed with them frozen; one update with the last. */
  private warmStart(): void {
    const N = this.warmCount, d = this.d, r = this.opts.rank;
    const [m1, m2] = this.opts.shape;
    const size = d * m1 * m2;
    const buf = this.warm!;
    const clipped = new Float64Array(N * size); // once per model
    let total = 0;
    for (let i = 0; i < clipped.length; i++) {
      const v = buf[i]! > 0 ? buf[i]! : 0;
      clipped[i] = v;
      total += v;
    }
    if (total > 0) {
      const res = cp({ dims: [N * d, m1, m2], data: clipped }, {
        rank: r, method: 'nn-hals', maxIter: this.opts.warmStartIterations, tol: WARM_TOL, seed: this.opts.seed,
      });
      this.B.set(res.factors[1].data);
      this.C.set(res.factors[2].data);
      this.normalizeFactorsOnly();
      this.ready = true;
    } else {
      this.randomStart(); // all-zero windows: nothing to learn from
    }
    for (let w = 0; w < N; w++) {
      const Tw: Tensor3 = { dims: [d, m1, m2], data: buf.subarray(w * size, (w + 1) * size) };
      this.normSq = sumSquares(Tw.data);
      this.code(Tw, this.A);
      this.absorb(Tw, w === N - 1);
    }
    this.warm = null;
    this.warmCount = 0;
  }

  // -------------------------------------------------------------------------------------------
  // Buffers and checks.

  /** Forgets everything learned and fixes d: fresh zero statistics and workspaces. */
  private commitDimension(d: number): void {
    const r = this.opts.rank;
    const [m1, m2] = this.opts.shape;
    this.d = d;
    this.windows = 0;
    this.ready = false;
    this.fitErr = NaN;
    this.warm = null;
    this.warmCount = 0;
    this.B = new Float64Array(m1 * r);
    this.C = new Float64Array(m2 * r);
    this.PB = new Float64Array(m1 * r);
    this.PC = new Float64Array(m2 * r);
    this.GB = new Float64Array(r * r);
    this.GC = new Float64Array(r * r);
    this.QB = new Float64Array(r * r);
    this.QC = new Float64Array(r * r);
    this.GA = new Float64Array(r * r);
    this.V = new Float64Array(r * r);
    this.L = new Float64Array(r * r);
    this.scale2 = new Float64Array(r);
    this.mass = 0;
    this.A = new Float64Array(d * r);
    this.M = new Float64Array(Math.max(d, m1, m2) * r);
    this.row = new Float64Array(r);
    this.tmp = new Float64Array(r);
    this.norms = new Float64Array(r);
  }

  /**
   * Checks a window (a Tensor3 of dims [d, m1, m2], d fixed after the first call unless `fresh`,
   * d ≥ rank, every entry finite) and records ‖T‖²; returns d. Changes nothing else.
   */
  private checkWindow(T: Tensor3, where: string, fresh = false): number {
    if (!T || typeof T !== 'object' || !(T.data instanceof Float64Array) || !Array.isArray(T.dims) || T.dims.length !== 3) {
      throw new DataError('expected a Tensor3 {dims: [d, m1, m2], data: Float64Array}', where);
    }
    const [d, J, K] = T.dims;
    const [m1, m2] = this.opts.shape;
    if (!Number.isInteger(d) || d < 1 || J !== m1 || K !== m2) {
      throw new DataError(`window dims are [${T.dims.join(', ')}]; expected [d, ${m1}, ${m2}] with an integer d ≥ 1`, where);
    }
    if (!fresh && this.d !== 0 && d !== this.d) throw new DataError(`window has d = ${d} compressed slices; this model's d is ${this.d}`, where);
    if (T.data.length !== d * m1 * m2) throw new DataError(`window data has ${T.data.length} entries; expected d·m1·m2 = ${d * m1 * m2}`, where);
    if ((fresh || this.d === 0) && this.opts.rank > d) {
      throw new InvalidOptionError('OnlineCP', 'rank', `an integer ≤ the compressed window length d = ${d}`, this.opts.rank);
    }
    const x = T.data;
    let s = 0;
    for (let p = 0; p < x.length; p++) {
      const v = x[p]!;
      if (!Number.isFinite(v)) {
        const k = p % m2, j = Math.floor(p / m2) % m1, i = Math.floor(p / (m1 * m2));
        throw new DataError(`entry (${i}, ${j}, ${k}) is ${v}; window entries must be finite`, where);
      }
      s += v * v;
    }
    if (!Number.isFinite(s)) throw new DataError('‖window‖² overflows; rescale the data', where);
    this.normSq = s;
    return d;
  }

  /** Checks an output matrix for Ã (d×r, Float64Array storage). */
  private checkOut(out: Matrix, d: number, where: string): void {
    const r = this.opts.rank;
    if (!out || !(out.data instanceof Float64Array) || out.rows !== d || out.cols !== r || out.data.length !== d * r) {
      throw new ShapeMismatchError(`${where} (out)`, `${d}x${r} with Float64Array data`, out ? `${out.rows}x${out.cols}` : String(out));
    }
  }

  /** Ã into `out` (or a new d×r matrix). */
  private copyA(A: Float64Array, out?: Matrix): Matrix {
    const r = this.opts.rank;
    if (out) {
      out.data.set(A);
      return out;
    }
    return { rows: this.d, cols: r, data: A.slice() };
  }
}

/** Σ x². */
function sumSquares(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return s;
}
