/**
 * The factorization step of FR / RF / full, as one small spec. Maps onto `factorize` from
 * src/factorize; the relative sparse-PCA weight `alpha` and the NMF algorithm are chosen here.
 */
import { factorize, type FactorizeOptions } from '../factorize/index.js';
import type { Matrix } from '../linalg/matrix.js';

/** `x` itself if it has no negative entry, else a copy with negatives set to 0 (the input is left alone). */
export function withoutNegatives(x: Float64Array): Float64Array {
  for (let i = 0; i < x.length; i++) if (x[i]! < 0) return x.map((v) => (v < 0 ? 0 : v));
  return x;
}

/** Which factorization runs in the chosen domain. */
export type Solver = 'nmf' | 'spca';

/** What to fit. */
export interface FactorizationSpec {
  /** 'nmf' or 'spca'. */
  solver: Solver;
  /** Rank r. */
  rank: number;
  /** Seed of the initialisation. */
  seed: number;
  /** NMF: 'hals' (default) or 'pgd' (the paper's projected gradient). */
  nmfAlgorithm?: 'hals' | 'pgd';
  /** Iteration cap (PGD: the fixed count). Default: the solver's own. */
  iters?: number;
  /** Sparse PCA: relative ℓ1 weight (see src/factorize/sparsePca.ts). */
  alpha?: number;
}

/**
 * Fits the factorization of X (features × samples). NMF needs X ≥ 0: noisy compressed data can
 * have a few slightly negative entries, which are set to 0 on a copy (the objective is unchanged
 * up to those entries; the caller's matrix is left alone).
 */
export function fitFactorization(X: Matrix, spec: FactorizationSpec, onProgress?: (fraction: number) => void): { W: Matrix; H: Matrix; error: number } {
  const iters = spec.iters;
  const progress = onProgress && iters ? (it: number) => { onProgress(it / iters); } : undefined;
  let options: FactorizeOptions;
  let data = X;
  if (spec.solver === 'nmf') {
    data = { rows: X.rows, cols: X.cols, data: withoutNegatives(X.data) };
    options = { solver: 'nmf', rank: spec.rank, seed: spec.seed, nmfSolver: spec.nmfAlgorithm ?? 'hals', ...(iters ? { maxIter: iters } : {}) };
  } else {
    options = { solver: 'spca', rank: spec.rank, seed: spec.seed, ...(iters ? { maxIter: iters } : {}), ...(spec.alpha !== undefined ? { alpha: spec.alpha } : {}) };
  }
  const res = factorize(data, options, progress);
  return { W: res.W, H: res.H, error: res.error };
}
