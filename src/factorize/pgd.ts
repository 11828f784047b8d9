/**
 * Projected-gradient NMF exactly as the paper's repository (`nmf()` + `nlssubprob()`, after Lin 2007).
 *
 * Model X ≈ W H, X d×m ≥ 0, W, H ≥ 0. Objective ½‖X − W H‖²_F + l1W·ΣW + l1H·ΣH
 * (+ ½·l2W‖W‖² + ½·l2H‖H‖², an extension; the paper and repo use no penalty).
 * Update rule, for a FIXED number of outer iterations (no tolerance; repo default 1000, the paper's
 * gene-expression runs 250):
 *   1. ONE projected-gradient step on the W subproblem (the repo solves Xᵀ ≈ Hᵀ Wᵀ; here the same
 *      problem in W's own layout): Q = H Hᵀ, g = W Q − X Hᵀ + l1W;
 *   2. ONE step on the H subproblem (on Hᵀ): Q = Wᵀ W, g = Hᵀ Q − Xᵀ W + l1H;
 *   each step is `pgdStep`: Armijo test 0.99⟨g, D⟩ + ½⟨D, Q D⟩ < 0, β = 0.1, at most 10 trials,
 *   shrink-or-grow search, separate step sizes α_W, α_H carried across iterations (both start at 1;
 *   the carried value is the last one tried).
 * The products X Hᵀ and Xᵀ W are computed once per step; trials only touch d×r / m×r buffers.
 * The relative error per iteration comes from the Gram identity (see `hals.ts`).
 *
 * References: C.-J. Lin (2007), Projected gradient methods for nonnegative matrix factorization,
 * Neural Computation 19(10); github.com/kaishengtai/compressed-factorization `matrix_factorization.py`.
 */
import { dot, gramCols, sumSquares } from '../linalg/kernels.js';
import { transpose, type Matrix } from '../linalg/matrix.js';
import { gemmNT4, pgdStep } from './kernels.js';
import type { ProgressCallback } from './types.js';
import { alternatingWorkspace, relativeError } from './workspace.js';

/** Solver settings for `pgdLoop` (already validated). */
export interface PgdSettings {
  maxIter: number;
  l1W: number;
  l1H: number;
  l2W: number;
  l2H: number;
}

/** Step-size factor of the line search (the repo's β). */
export const PGD_BETA = 0.1;
/** Line-search trials per step (the repo's `max_ls_iters`). */
export const PGD_MAX_TRIALS = 10;

/**
 * Runs projected-gradient NMF from the start in `W` (d×r) and `Ht` (m×r = Hᵀ), updated in place.
 * `Xt` is Xᵀ (m×d). Returns the iteration count, relative errors (index 0 = start) and final step sizes.
 */
export function pgdLoop(
  X: Matrix, Xt: Float64Array, W: Float64Array, Ht: Float64Array, r: number,
  s: PgdSettings, onProgress?: ProgressCallback,
): { iterations: number; errors: number[]; alphaW: number; alphaH: number } {
  const { rows: d, cols: m, data: x } = X;
  const xx = sumSquares(x);
  const n = Math.max(d, m);
  const grad = new Float64Array(n * r);
  const cand = new Float64Array(n * r);
  const keep = new Float64Array(n * r);
  const { H, Wt, BW, GW, BH, GH, HtM, HM, WM, WtM } = alternatingWorkspace(d, m, r, W, Ht);
  const relError = (sq: number): number => relativeError(sq, xx);

  let alphaW = 1, alphaH = 1;
  transpose(HtM, HM);
  gramCols(Ht, m, r, GW);
  gemmNT4(x, H, d, m, r, BW);
  gramCols(W, d, r, GH);
  const errors = [relError(xx - 2 * dot(W, BW, d * r) + dot(GH, GW, r * r))];
  let iterations = 0;
  for (let it = 1; it <= s.maxIter; it++) {
    if (it > 1) gemmNT4(x, H, d, m, r, BW);
    alphaW = pgdStep(W, BW, GW, d, r, alphaW, PGD_BETA, PGD_MAX_TRIALS, s.l1W, s.l2W, grad, cand, keep);
    transpose(WM, WtM);
    gemmNT4(Xt, Wt, m, d, r, BH);
    gramCols(W, d, r, GH);
    alphaH = pgdStep(Ht, BH, GH, m, r, alphaH, PGD_BETA, PGD_MAX_TRIALS, s.l1H, s.l2H, grad, cand, keep);
    transpose(HtM, HM);
    gramCols(Ht, m, r, GW);
    const err = relError(xx - 2 * dot(Ht, BH, m * r) + dot(GH, GW, r * r));
    errors.push(err);
    iterations = it;
    if (onProgress?.(it, err) === true) break;
  }
  return { iterations, errors, alphaW, alphaH };
}
