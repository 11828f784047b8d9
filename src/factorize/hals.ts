/**
 * Accelerated HALS for NMF (the default NMF solver).
 *
 * Model X ≈ W H, X d×m ≥ 0, W d×r ≥ 0, H r×m ≥ 0. Objective
 *   ½‖X − W H‖²_F + l1W·ΣW + l1H·ΣH + ½·l2W·‖W‖² + ½·l2H·‖H‖².
 * Update rule (per outer iteration):
 *   1. B_W = X Hᵀ (d×r) and G_W = H Hᵀ (r×r), once;
 *      then up to `inner_W` sweeps of exact column updates (`cdSweep`, Gauss–Seidel):
 *        W[:,t] ← max(0, (B_W[:,t] − Σ_{l≠t} W[:,l] G_W[l,t] − l1W) / (G_W[t,t] + l2W));
 *   2. B_H = Xᵀ W (m×r) and G_H = Wᵀ W, once; the same sweeps on Hᵀ (m×r);
 *   3. the relative error from the Gram identity
 *        ‖X − W H‖² = ‖X‖² − 2⟨Hᵀ, Xᵀ W⟩ + ⟨Wᵀ W, H Hᵀ⟩   (no d×m temporary);
 *   stop when the error improves by less than `tol`·(previous error), or after `maxIter`.
 * Inner sweeps (Gillis & Glineur 2012): the products cost ρ ≈ m(d+r)/(d(r+1)) sweeps of W (and
 * d(m+r)/(m(r+1)) of Hᵀ), so up to ⌊1 + ½ρ⌋ sweeps reuse them; the sweeps stop early once one
 * changes the factor by less than 10% of the first sweep's change. `innerSweeps` > 0 fixes the cap.
 * Dead components: a column of W (or row of H) that becomes entirely zero, or whose partner in the
 * other factor is zero, is reset to a tiny floor (1e-16·sqrt(mean(X)/r)) so the other factor's next
 * update re-fits that component to the residual instead of leaving it dead for good.
 *
 * References: A. Cichocki, A.-H. Phan (2009), IEICE Trans. E92-A(3); N. Gillis, F. Glineur (2012),
 * Neural Computation 24(4); scikit-learn `_cdnmf_fast.pyx` (the same column update).
 */
import { gramCols, sumSquares, dot } from '../linalg/kernels.js';
import { transpose, type Matrix } from '../linalg/matrix.js';
import { cdSweep, gemmNT4 } from './kernels.js';
import type { ProgressCallback } from './types.js';
import { alternatingWorkspace, relativeError } from './workspace.js';
import type { NmfOptions } from './nmf.js';

/** Solver settings for `halsLoop` (already validated): the NMF options it reads. */
export type HalsSettings = Pick<NmfOptions, 'maxIter' | 'tol' | 'l1W' | 'l1H' | 'l2W' | 'l2H' | 'innerSweeps'>;

/** Relative decrease of a sweep's change, relative to the first sweep's, that ends the inner loop. */
const INNER_EPS = 0.1;
/** Gillis & Glineur's α: inner sweeps may cost up to α × the products they reuse. */
const INNER_ALPHA = 0.5;

/**
 * Runs accelerated HALS from the start in `W` (d×r) and `Ht` (m×r = Hᵀ), both updated in place.
 * `Xt` is Xᵀ (m×d, row-major). Returns the iteration count, the relative errors (index 0 = start)
 * and whether the tolerance test stopped it.
 */
export function halsLoop(
  X: Matrix, Xt: Float64Array, W: Float64Array, Ht: Float64Array, r: number,
  s: HalsSettings, onProgress?: ProgressCallback,
): { iterations: number; errors: number[]; converged: boolean } {
  const { rows: d, cols: m, data: x } = X;
  const xx = sumSquares(x);
  let mean = 0;
  for (let i = 0; i < x.length; i++) mean += x[i]!;
  mean /= x.length;
  const floor = 1e-16 * Math.sqrt(mean / r);
  const capW = s.innerSweeps > 0 ? s.innerSweeps : Math.floor(1 + INNER_ALPHA * (1 + (m * (d + r)) / (d * (r + 1))));
  const capH = s.innerSweeps > 0 ? s.innerSweeps : Math.floor(1 + INNER_ALPHA * (1 + (d * (m + r)) / (m * (r + 1))));

  // Workspaces, allocated once.
  const { H, Wt, BW, GW, BH, GH, HtM, HM, WM, WtM } = alternatingWorkspace(d, m, r, W, Ht);

  const relError = (sq: number): number => relativeError(sq, xx);
  const innerLoop = (F: Float64Array, B: Float64Array, G: Float64Array, n: number, cap: number, l1: number, l2: number) => {
    let first = 0;
    for (let k = 0; k < cap; k++) {
      const change = cdSweep(F, B, G, n, r, l1, l2, true, floor, 0);
      if (k === 0) first = change;
      else if (change <= INNER_EPS * INNER_EPS * first) break;
    }
  };

  transpose(HtM, HM);
  gramCols(Ht, m, r, GW);
  gemmNT4(x, H, d, m, r, BW);
  gramCols(W, d, r, GH);
  let err = relError(xx - 2 * dot(W, BW, d * r) + dot(GH, GW, r * r));
  const errors = [err];
  let iterations = 0;
  let converged = false;
  for (let it = 1; it <= s.maxIter; it++) {
    if (it > 1) gemmNT4(x, H, d, m, r, BW); // G_W was refreshed at the end of the last iteration
    innerLoop(W, BW, GW, d, capW, s.l1W, s.l2W);
    transpose(WM, WtM);
    gemmNT4(Xt, Wt, m, d, r, BH);
    gramCols(W, d, r, GH);
    innerLoop(Ht, BH, GH, m, capH, s.l1H, s.l2H);
    transpose(HtM, HM);
    gramCols(Ht, m, r, GW);
    const prev = err;
    err = relError(xx - 2 * dot(Ht, BH, m * r) + dot(GH, GW, r * r));
    errors.push(err);
    iterations = it;
    if (onProgress?.(it, err) === true) break;
    if (!(prev - err > s.tol * prev)) {
      converged = true;
      break;
    }
  }
  return { iterations, errors, converged };
}
