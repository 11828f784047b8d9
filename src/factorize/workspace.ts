/**
 * Buffers shared by the alternating solvers (HALS, PGD, sparse PCA): the products each half-step
 * needs, allocated once per fit so no iteration allocates.
 */
import type { Matrix } from '../linalg/matrix.js';

/** Per-fit buffers of an alternating X (d×m) ≈ W (d×r) · H (r×m) solver. */
export interface AlternatingWorkspace {
  /** H (r×m). */
  H: Float64Array;
  /** Wᵀ (r×d). */
  Wt: Float64Array;
  /** X·Hᵀ (d×r) for the W update. */
  BW: Float64Array;
  /** H·Hᵀ (r×r). */
  GW: Float64Array;
  /** Xᵀ·W (m×r) for the H update. */
  BH: Float64Array;
  /** Wᵀ·W (r×r). */
  GH: Float64Array;
  HtM: Matrix;
  HM: Matrix;
  WM: Matrix;
  WtM: Matrix;
}

/** Allocates the buffers around the caller's W (d×r) and Hᵀ (m×r). */
export function alternatingWorkspace(d: number, m: number, r: number, W: Float64Array, Ht: Float64Array): AlternatingWorkspace {
  const H = new Float64Array(r * m);
  const Wt = new Float64Array(r * d);
  return {
    H, Wt,
    BW: new Float64Array(d * r), GW: new Float64Array(r * r),
    BH: new Float64Array(m * r), GH: new Float64Array(r * r),
    HtM: { rows: m, cols: r, data: Ht }, HM: { rows: r, cols: m, data: H },
    WM: { rows: d, cols: r, data: W }, WtM: { rows: r, cols: d, data: Wt },
  };
}

/** ‖residual‖/‖X‖ from a squared residual and ‖X‖² (clamped at 0 against rounding). */
export function relativeError(sq: number, xx: number): number {
  return xx > 0 ? Math.sqrt(Math.max(0, sq) / xx) : 0;
}
