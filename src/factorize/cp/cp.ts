/**
 * CP (CANDECOMP/PARAFAC) decomposition of a 3-way tensor: T (I×J×K) ≈ [[w; A, B, C]], i.e.
 * T[i,j,k] ≈ Σ_t w_t·A[i,t]·B[j,t]·C[k,t], fitted by alternating updates of A, B, C (in that order
 * in every sweep), each from its MTTKRP M and the Hadamard product V of the other two r×r Grams
 * (the normal equations of the mode's least-squares subproblem are F·V = M):
 *
 * - `als`: F = M·V⁻¹ (Cholesky of V + a tiny ridge); with `nonneg` clipped to ≥ 0 ("projected").
 * - `nn-hals`: non-negative CP by HALS (Cichocki & Phan 2009): one exact column-wise coordinate
 *   sweep on ½tr(F V Fᵀ) − ⟨F, M⟩ with F ≥ 0 (the NMF kernel `halsUpdate`); the error never increases.
 * - `orth-als` (Sharan & Valiant 2017): in the first `orthSweeps` sweeps the two factors used by a
 *   mode's update are first orthonormalised (modified Gram–Schmidt on their columns), then the ALS
 *   update; plain ALS afterwards; `nonneg` clips after every update (the paper's "projected
 *   Orth-ALS"). Projection detail: an updated column with no positive entry (common right after an
 *   orthonormalisation, which gives the factors of non-negative data mixed signs) is replaced by its
 *   absolute values instead of being clipped to zero, which would kill that component for good.
 *
 * The relative error ‖T − T̂‖/‖T‖ per sweep is computed without reconstruction from the last mode's
 * MTTKRP and the Grams (see `mttkrp.ts`); its accuracy is limited to ≈ 1e-8 by cancellation.
 * Stops when a sweep changes the relative error by less than `tol` (absolute, as TensorLy) or after
 * `maxIter` sweeps. The factors are returned with unit-norm columns and the scales in `weights`
 * (TensorLy's `cp_normalize` convention; a zero column keeps weight 0).
 *
 * @example
 * const { weights, factors: [A, B, C], errors } = cp(T, { rank: 10, method: 'nn-hals' });
 *
 * References: T. G. Kolda, B. W. Bader (2009), Tensor decompositions and applications, SIAM Review
 * 51(3); A. Cichocki, A.-H. Phan (2009), IEICE Trans. E92-A(3); V. Sharan, G. Valiant (2017),
 * Orthogonalized ALS, ICML.
 */
import { DataError, ShapeMismatchError } from '../../errors.js';
import { gramCols } from '../../linalg/kernels.js';
import { matrix, normalizeColumnsInPlace, type Matrix } from '../../linalg/matrix.js';
import { Rng } from '../../linalg/random.js';
import { cholesky, choleskySolve, orthonormalizeColumns } from '../../linalg/small.js';
import type { Tensor3 } from '../../sensing/operator.js';
import { halsUpdate } from '../kernels.js';
import type { ProgressCallback } from '../types.js';
import { resolveOptions, type ConstraintTable } from '../validate.js';
import {
  cpNormSqFromGrams, hadamardInto, innerFromMttkrp, mttkrpInto, tensorNormSq, type CpMode,
} from './mttkrp.js';

/** CP fitting methods. */
export type CpMethod = 'als' | 'nn-hals' | 'orth-als';

/** The accepted method names. */
export const CP_METHODS: readonly CpMethod[] = Object.freeze(['als', 'nn-hals', 'orth-als'] as CpMethod[]);

/** Options of `cp`. */
export interface CpOptions {
  /** 10; number of components r ≥ 1 (may exceed the tensor's dimensions). */
  rank: number;
  /** 'als'; 'als' = least squares per mode, 'nn-hals' = non-negative HALS, 'orth-als' = Orth-ALS (Sharan & Valiant 2017). */
  method: CpMethod;
  /** 200; cap on the number of sweeps (one sweep updates A, B and C once). */
  maxIter: number;
  /** 1e-6; stop when a sweep changes the relative error by less than tol (absolute change). */
  tol: number;
  /** 5; orth-als only: the number of initial sweeps that orthonormalise the factors before use. */
  orthSweeps: number;
  /** false; 'als' / 'orth-als': clip every updated factor to ≥ 0 (projected ALS) and require T ≥ 0. Implied by 'nn-hals'. */
  nonneg: boolean;
  /** 1e-12; ridge added to the r×r normal matrix as ridge·mean(diag) before the ALS Cholesky solve. */
  ridge: number;
  /** 0; integer seed of the random start (N(0,1) entries, |N(0,1)| when non-negative, rescaled to ‖T‖). */
  seed: number;
}

/** The defaults, frozen. */
export const DEFAULT_CP_OPTIONS: Readonly<CpOptions> = Object.freeze({
  rank: 10,
  method: 'als',
  maxIter: 200,
  tol: 1e-6,
  orthSweeps: 5,
  nonneg: false,
  ridge: 1e-12,
  seed: 0,
});

/** Allowed values of each CP option. */
export const CP_CONSTRAINTS: ConstraintTable<CpOptions> = Object.freeze({
  rank: { type: 'int', min: 1 },
  method: { type: 'enum', values: CP_METHODS },
  maxIter: { type: 'int', min: 1 },
  tol: { type: 'number', min: 0 },
  orthSweeps: { type: 'int', min: 0 },
  nonneg: { type: 'boolean' },
  ridge: { type: 'number', min: 0 },
  seed: { type: 'seed' },
});

/** Validates (InvalidOptionError naming `owner`) and freezes CP options over the defaults. */
export function resolveCpOptions(options?: Partial<CpOptions>, owner = 'cp'): Readonly<CpOptions> {
  return resolveOptions(owner, CP_CONSTRAINTS, DEFAULT_CP_OPTIONS, options);
}

/** Result of `cp`. */
export interface CpResult {
  /** r component scales ‖a_t‖·‖b_t‖·‖c_t‖ (≥ 0). */
  weights: Float64Array;
  /** [A (I×r), B (J×r), C (K×r)] with unit-norm (or zero) columns. */
  factors: [Matrix, Matrix, Matrix];
  /** Relative error ‖T − T̂‖/‖T‖: index 0 at the start, index i after sweep i. */
  errors: number[];
  /** Sweeps run. */
  iterations: number;
  /** True when stopped by `tol` (false: maxIter reached or stopped by the callback). */
  converged: boolean;
  /** Wall-clock seconds of the fit. */
  seconds: number;
}

/**
 * Checks a Tensor3 once at a public boundary: integer dims ≥ 1, data length I·J·K, every entry
 * finite and (if `nonNegative`) ≥ 0. The DataError names `where` and the first bad entry's (i, j, k).
 */
export function checkTensor3(T: Tensor3, where: string, nonNegative: boolean): void {
  if (!T || !(T.data instanceof Float64Array) || !Array.isArray(T.dims) || T.dims.length !== 3) {
    throw new DataError('expected a Tensor3 {dims: [I, J, K], data: Float64Array}', where);
  }
  const [I, J, K] = T.dims;
  if (![I, J, K].every((d) => Number.isInteger(d) && d >= 1)) {
    throw new DataError(`tensor dims must be integers ≥ 1; got [${T.dims.join(', ')}]`, where);
  }
  if (T.data.length !== I * J * K) {
    throw new ShapeMismatchError(where, `${I}x${J}x${K} (${I * J * K} entries)`, `${T.data.length} entries`);
  }
  const x = T.data;
  for (let p = 0; p < x.length; p++) {
    const v = x[p]!;
    if (Number.isFinite(v) && !(nonNegative && v < 0)) continue;
    const k = p % K, j = Math.floor(p / K) % J, i = Math.floor(p / (J * K));
    const rule = Number.isFinite(v) ? 'all entries must be ≥ 0' : 'all entries must be finite';
    throw new DataError(`entry at (${i}, ${j}, ${k}) is ${v}; ${rule}`, where);
  }
}

/**
 * Fits a rank-r CP model to T (see the module header). `onProgress(sweep, relError)` is called after
 * every sweep; returning true stops the fit. Throws InvalidOptionError for bad options and DataError
 * for non-finite entries (or negative ones with 'nn-hals' / `nonneg`), naming the entry.
 */
export function cp(T: Tensor3, options?: Partial<CpOptions>, onProgress?: ProgressCallback): CpResult {
  const start = performance.now();
  const o = resolveCpOptions(options);
  const nonneg = o.nonneg || o.method === 'nn-hals';
  checkTensor3(T, 'cp (tensor)', nonneg);
  const r = o.rank;
  const dims = T.dims;

  // Random start, rescaled so the model norm equals ‖T‖.
  const rng = new Rng(o.seed);
  const F: [Float64Array, Float64Array, Float64Array] = [
    new Float64Array(dims[0] * r), new Float64Array(dims[1] * r), new Float64Array(dims[2] * r),
  ];
  for (const f of F) for (let p = 0; p < f.length; p++) f[p] = nonneg ? Math.abs(rng.normal()) : rng.normal();
  const G: [Float64Array, Float64Array, Float64Array] = [
    new Float64Array(r * r), new Float64Array(r * r), new Float64Array(r * r),
  ];
  const gram = (n: CpMode): void => gramCols(F[n], dims[n], r, G[n]);
  gram(0); gram(1); gram(2);
  const normT2 = tensorNormSq(T);
  const normT = Math.sqrt(normT2);
  {
    const model2 = cpNormSqFromGrams(G[0], G[1], G[2], r);
    const s = model2 > 0 ? Math.cbrt(normT / Math.sqrt(model2)) : 1;
    if (s !== 1) {
      for (const f of F) for (let p = 0; p < f.length; p++) f[p]! *= s;
      for (const g of G) for (let p = 0; p < g.length; p++) g[p]! *= s * s;
    }
  }

  const maxDim = Math.max(dims[0], dims[1], dims[2]);
  const M = new Float64Array(maxDim * r);
  const V = new Float64Array(r * r);
  const L = new Float64Array(r * r);
  const tmp = new Float64Array(r);
  const rowBuf = new Float64Array(r);
  const colMax = new Float64Array(r);
  const relErr = (errSq: number): number => (normT > 0 ? Math.sqrt(Math.max(0, errSq)) / normT : Math.sqrt(Math.max(0, errSq)));

  const errors: number[] = [];
  mttkrpInto(T, F[0], F[1], F[2], r, 2, M, tmp);
  errors.push(relErr(normT2 - 2 * innerFromMttkrp(M, F[2], dims[2], r) + cpNormSqFromGrams(G[0], G[1], G[2], r)));

  let iterations = 0;
  let converged = false;
  for (let it = 1; it <= o.maxIter; it++) {
    const orth = o.method === 'orth-als' && it <= o.orthSweeps;
    for (let n = 0 as CpMode; n < 3; n = (n + 1) as CpMode) {
      const a = ((n + 1) % 3) as CpMode, b = ((n + 2) % 3) as CpMode;
      if (orth) {
        for (const m of [a, b]) {
          orthonormalizeColumns(F[m], dims[m], r);
          gram(m);
        }
      }
      mttkrpInto(T, F[0], F[1], F[2], r, n, M, tmp);
      hadamardInto(G[a], G[b], r, V);
      const rows = dims[n];
      const f = F[n];
      if (o.method === 'nn-hals') {
        halsUpdate(f, M, V, rows, r);
      } else {
        L.set(V);
        let meanDiag = 0;
        for (let t = 0; t < r; t++) meanDiag += V[t * r + t]!;
        meanDiag = meanDiag / r || 1;
        for (let t = 0; t < r; t++) L[t * r + t]! += o.ridge * meanDiag;
        if (!cholesky(L, r)) {
          // Singular even with jitter: a stronger ridge keeps the update defined.
          L.set(V);
          for (let t = 0; t < r; t++) L[t * r + t]! += 1e-8 * meanDiag;
          cholesky(L, r, 1e-6);
        }
        colMax.fill(0);
        for (let i = 0; i < rows; i++) {
          const fi = i * r;
          for (let t = 0; t < r; t++) rowBuf[t] = M[fi + t]!;
          choleskySolve(L, r, rowBuf);
          for (let t = 0; t < r; t++) {
            const v = rowBuf[t]!;
            f[fi + t] = v;
            if (v > colMax[t]!) colMax[t] = v;
          }
        }
        if (nonneg) {
          // Projection. A column with no positive entry (typical right after an orthonormalisation,
          // which gives non-negative data's factors mixed signs) would be clipped to zero and its
          // component lost for good; it is sign-flipped instead (|·|), which keeps it alive.
          for (let i = 0; i < rows; i++) {
            const fi = i * r;
            for (let t = 0; t < r; t++) {
              const v = f[fi + t]!;
              f[fi + t] = colMax[t]! > 0 ? (v > 0 ? v : 0) : Math.abs(v);
            }
          }
        }
      }
      gram(n);
    }
    // After the C update M holds MTTKRP₂ with the current A, B: ⟨T, T̂⟩ = ⟨M, C⟩.
    const errSq = normT2 - 2 * innerFromMttkrp(M, F[2], dims[2], r) + cpNormSqFromGrams(G[0], G[1], G[2], r);
    const e = relErr(errSq);
    errors.push(e);
    iterations = it;
    const prev = errors[errors.length - 2]!;
    const stop = onProgress?.(it, e) === true;
    if (Math.abs(prev - e) < o.tol && !(o.method === 'orth-als' && it <= o.orthSweeps)) {
      converged = true;
      break;
    }
    if (stop) break;
  }

  // TensorLy's cp_normalize: unit-norm columns, scales into the weights.
  const weights = new Float64Array(r).fill(1);
  for (let n = 0; n < 3; n++) {
    const norms = normalizeColumnsInPlace(F[n as CpMode], dims[n as CpMode], r);
    for (let t = 0; t < r; t++) weights[t]! *= norms[t]!;
  }
  return {
    weights,
    factors: [matrix(dims[0], r, F[0]), matrix(dims[1], r, F[1]), matrix(dims[2], r, F[2])],
    errors,
    iterations,
    converged,
    seconds: (performance.now() - start) / 1000,
  };
}
