/**
 * `CP`: the estimator form of `cp`, with the contract of `NMF` and `SparsePCA` (estimator.ts)
 * carried over to 3-way tensors. Mode 1 plays the part of W's rows: `transform` takes new mode-1
 * slices (new time bins, say) and returns their mode-1 factor rows with B, C and the weights fixed,
 * which is how an online model scores frames it was not fitted on.
 *
 * @example
 * const model = new CP({ rank: 10, method: 'nn-hals' }).fit(T);
 * const { weights, factors } = model.components();
 * const Anew = model.transform(Tnew);                 // Tnew: I'×J×K → I'×r
 * const copy = new CP().restore(JSON.parse(JSON.stringify(model.state())));
 */
import { DataError, NotFittedError, ShapeMismatchError } from '../../errors.js';
import { gramCols } from '../../linalg/kernels.js';
import { clone, matrix, type Matrix } from '../../linalg/matrix.js';
import type { Tensor3 } from '../../sensing/operator.js';
import { solveNormalRows } from '../kernels.js';
import type { ProgressCallback } from '../types.js';
import { checkHeader, matrixFromJson, matrixToJson, type MatrixJson } from '../estimator.js';
import { checkTensor3, cp, resolveCpOptions, type CpOptions } from './cp.js';
import { cpErrorSq, hadamardInto, mttkrpInto, tensorNormSq } from './mttkrp.js';

/** Snapshot of a fitted `CP`. */
export interface CpState {
  kind: 'CP';
  version: 1;
  options: CpOptions;
  weights: number[];
  /** [A, B, C] with unit-norm columns. */
  factors: [MatrixJson, MatrixJson, MatrixJson];
  iterations: number;
  errors: number[];
}

/** The fitted model: weights and unit-norm factors (TensorLy's convention). */
export interface CpComponents {
  weights: Float64Array;
  factors: [Matrix, Matrix, Matrix];
}

/** CP estimator for 3-way tensors; see `cp` for the methods and options. */
export class CP {
  private opts: Readonly<CpOptions>;
  private w?: Float64Array;
  private F?: [Matrix, Matrix, Matrix];
  private iters = 0;
  private errs: number[] = [];

  /** Validates (InvalidOptionError naming 'CP') and freezes the options. */
  constructor(options?: Partial<CpOptions>) {
    this.opts = resolveCpOptions(options, 'CP');
  }

  /** The resolved, frozen options. */
  get options(): Readonly<CpOptions> { return this.opts; }
  /** Sweeps of the last fit. */
  get iterations(): number { return this.iters; }
  /** Relative error curve of the last fit (copy). */
  get errors(): number[] { return this.errs.slice(); }
  private get nonneg(): boolean { return this.opts.nonneg || this.opts.method === 'nn-hals'; }

  /** Fits T ≈ [[w; A, B, C]]; `onProgress` as in `cp`. */
  fit(T: Tensor3, onProgress?: ProgressCallback): this {
    const res = cp(T, this.opts, onProgress);
    this.w = res.weights;
    this.F = res.factors;
    this.iters = res.iterations;
    this.errs = res.errors;
    return this;
  }

  /**
   * Mode-1 factor rows (I'×r, weights folded in) of new slices T' (I'×J×K) with B, C fixed: least
   * squares, or non-negative least squares for a non-negative model, on the normal equations
   * (MTTKRP and the Hadamard product of the Grams; no Khatri–Rao product is formed).
   */
  transform(T: Tensor3): Matrix {
    if (!this.F || !this.w) throw new NotFittedError('CP');
    const [, B, C] = this.F;
    checkTensor3(T, 'CP.transform (tensor)', this.nonneg);
    if (T.dims[1] !== B.rows || T.dims[2] !== C.rows) {
      throw new ShapeMismatchError('CP.transform (tensor)', `I'×${B.rows}×${C.rows}`, T.dims.join('×'));
    }
    const r = this.opts.rank, rows = T.dims[0];
    const M = new Float64Array(rows * r);
    mttkrpInto(T, new Float64Array(rows * r), B.data, C.data, r, 0, M, new Float64Array(r));
    const GB = new Float64Array(r * r), GC = new Float64Array(r * r), V = new Float64Array(r * r);
    gramCols(B.data, B.rows, r, GB);
    gramCols(C.data, C.rows, r, GC);
    hadamardInto(GB, GC, r, V);
    const A = new Float64Array(rows * r);
    solveNormalRows(V, M, rows, r, 0, 0, this.nonneg, 1000, 1e-10, A);
    return matrix(rows, r, A);
  }

  /** Copies of the weights and the unit-norm factors [A, B, C]. */
  components(): CpComponents {
    if (!this.F || !this.w) throw new NotFittedError('CP');
    return { weights: this.w.slice(), factors: [clone(this.F[0]), clone(this.F[1]), clone(this.F[2])] };
  }

  /** ‖T − model‖/‖T‖ for a tensor of the fitted shape (no model tensor is formed). */
  score(T: Tensor3): number {
    if (!this.F || !this.w) throw new NotFittedError('CP');
    checkTensor3(T, 'CP.score (tensor)', false);
    const nt = tensorNormSq(T);
    const e = cpErrorSq(T, this.F, this.w);
    return nt === 0 ? Math.sqrt(Math.max(0, e)) : Math.sqrt(Math.max(0, e) / nt);
  }

  /** Versioned JSON snapshot. */
  state(): CpState {
    if (!this.F || !this.w) throw new NotFittedError('CP');
    return {
      kind: 'CP', version: 1, options: { ...this.opts }, weights: Array.from(this.w),
      factors: [matrixToJson(this.F[0]), matrixToJson(this.F[1]), matrixToJson(this.F[2])],
      iterations: this.iters, errors: this.errs.slice(),
    };
  }

  /** Restores a snapshot (its options replace this model's, after validation). */
  restore(state: CpState): this {
    checkHeader(state, 'CP', 'CP', 1);
    const s = state as Partial<CpState>;
    const opts = resolveCpOptions(s.options, 'CP');
    const r = opts.rank;
    if (!Array.isArray(s.weights) || s.weights.length !== r || !s.weights.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0)) {
      throw new DataError(`weights must be ${r} finite numbers ≥ 0`, 'CP.restore');
    }
    if (!Array.isArray(s.factors) || s.factors.length !== 3) throw new DataError('factors must be [A, B, C]', 'CP.restore');
    const F = s.factors.map((f, n) => matrixFromJson(f, `CP.restore (factor ${'ABC'[n]})`, undefined, r)) as [Matrix, Matrix, Matrix];
    const nonneg = opts.nonneg || opts.method === 'nn-hals';
    if (nonneg) {
      F.forEach((M, n) => {
        const bad = M.data.findIndex((v) => v < 0);
        if (bad >= 0) throw new DataError(`entry ${bad} is negative; a non-negative CP model's factors must be ≥ 0`, `CP.restore (factor ${'ABC'[n]})`);
      });
    }
    this.opts = opts;
    this.w = Float64Array.from(s.weights);
    this.F = F;
    this.iters = Number.isInteger(s.iterations) ? s.iterations! : 0;
    this.errs = Array.isArray(s.errors) ? s.errors.filter((e) => typeof e === 'number') : [];
    return this;
  }
}
