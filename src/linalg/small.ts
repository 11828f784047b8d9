/**
 * Small dense decompositions: Cholesky for r×r systems and a randomized truncated SVD (Halko,
 * Martinsson & Tropp 2011) whose only large work is gemm with r+oversample columns. ml-matrix
 * handles the final small SVD.
 */
import { SingularValueDecomposition, Matrix as MlMatrix } from 'ml-matrix';
import { gemm, gemmTN } from './kernels.js';
import type { Matrix } from './matrix.js';
import { Rng } from './random.js';

/**
 * In-place Cholesky of a symmetric positive definite n×n matrix (lower factor left in `a`).
 * A tiny `jitter`·mean(diag) is added when a pivot is not positive. Returns false if it still fails.
 */
export function cholesky(a: Float64Array, n: number, jitter = 1e-12): boolean {
  let meanDiag = 0;
  for (let i = 0; i < n; i++) meanDiag += a[i * n + i]!;
  meanDiag = meanDiag / Math.max(1, n) || 1;
  for (let j = 0; j < n; j++) {
    let s = a[j * n + j]!;
    for (let k = 0; k < j; k++) s -= a[j * n + k]! * a[j * n + k]!;
    if (!(s > 0)) {
      s += jitter * meanDiag;
      if (!(s > 0)) return false;
    }
    const l = Math.sqrt(s);
    a[j * n + j] = l;
    for (let i = j + 1; i < n; i++) {
      let t = a[i * n + j]!;
      for (let k = 0; k < j; k++) t -= a[i * n + k]! * a[j * n + k]!;
      a[i * n + j] = t / l;
    }
  }
  return true;
}

/** Solves L·Lᵀ x = b in place in `b` given the lower Cholesky factor from `cholesky`. */
export function choleskySolve(l: Float64Array, n: number, b: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * n + k]! * b[k]!;
    b[i] = s / l[i * n + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let k = i + 1; k < n; k++) s -= l[k * n + i]! * b[k]!;
    b[i] = s / l[i * n + i]!;
  }
}

/** Truncated SVD result: A ≈ U·diag(s)·Vᵀ with U m×r, V n×r (both column blocks row-major). */
export interface TruncatedSvd {
  U: Matrix;
  s: Float64Array;
  V: Matrix;
}

/**
 * Rank-r truncated SVD by randomized subspace iteration (seeded). Exact up to rounding when
 * rank(A) ≤ r + oversample; `powerIters` sharpens a slowly decaying spectrum.
 */
export function truncatedSvd(A: Matrix, r: number, seed = 0, powerIters = 4, oversample = 8): TruncatedSvd {
  const { rows: m, cols: n } = A;
  const l = Math.min(r + oversample, m, n);
  const rng = new Rng(seed);
  const omega = rng.fillNormal(new Float64Array(n * l));
  let Y = new Float64Array(m * l);
  gemm(A.data, omega, m, n, l, Y);
  let Q = orthonormalize(Y, m, l);
  const Z = new Float64Array(n * l);
  for (let it = 0; it < powerIters; it++) {
    gemmTN(A.data, Q, m, n, l, Z); // Z = Aᵀ Q
    const Qz = orthonormalize(Z, n, l);
    Y = new Float64Array(m * l);
    gemm(A.data, Qz, m, n, l, Y);
    Q = orthonormalize(Y, m, l);
  }
  // B = Qᵀ A (l×n). Its SVD via a QR of Bᵀ = Q2·R keeps ml-matrix's work to an l×l matrix:
  // R = Ur·S·Vrᵀ ⇒ B = Vr·S·(Q2·Ur)ᵀ, so A ≈ (Q·Vr)·S·(Q2·Ur)ᵀ.
  const B = new Float64Array(l * n);
  gemmTN(Q, A.data, m, l, n, B);
  const Bt = new Float64Array(n * l);
  for (let i = 0; i < l; i++) for (let j = 0; j < n; j++) Bt[j * l + i] = B[i * n + j]!;
  const Q2 = orthonormalize(Bt, n, l);
  const R = new Float64Array(l * l);
  gemmTN(Q2, Bt, n, l, l, R);
  const rm = new MlMatrix(l, l);
  for (let i = 0; i < l; i++) for (let j = 0; j < l; j++) rm.set(i, j, R[i * l + j]!);
  const svd = new SingularValueDecomposition(rm);
  const Ur = svd.leftSingularVectors;
  const Vr = svd.rightSingularVectors;
  const sv = svd.diagonal;
  const k = Math.min(r, sv.length);
  const U = new Float64Array(m * k);
  const V = new Float64Array(n * k);
  const s = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    s[c] = sv[c]!;
    for (let i = 0; i < m; i++) {
      let t = 0;
      for (let q = 0; q < l; q++) t += Q[i * l + q]! * Vr.get(q, c);
      U[i * k + c] = t;
    }
    for (let j = 0; j < n; j++) {
      let t = 0;
      for (let q = 0; q < l; q++) t += Q2[j * l + q]! * Ur.get(q, c);
      V[j * k + c] = t;
    }
  }
  return { U: { rows: m, cols: k, data: U }, s, V: { rows: n, cols: k, data: V } };
}

/** Modified Gram–Schmidt on the l columns of a row-major m×l block; returns a new orthonormal block. */
function orthonormalize(Y: Float64Array, m: number, l: number): Float64Array {
  const Q = Y.slice();
  orthonormalizeColumns(Q, m, l, 2);
  return Q;
}

/**
 * Modified Gram–Schmidt on the columns of F (n×r, row-major) in place, `passes` projection passes
 * (2 = re-orthogonalised, for bases that must be orthonormal to rounding). A (numerically)
 * dependent or zero column is left as it is; with more columns than rows the extra ones are only
 * normalised.
 */
export function orthonormalizeColumns(F: Float64Array, n: number, r: number, passes = 1): void {
  for (let t = 0; t < r; t++) {
    let orig = 0;
    for (let i = 0; i < n; i++) orig += F[i * r + t]! * F[i * r + t]!;
    if (t < n) {
      for (let pass = 0; pass < passes; pass++) {
        for (let s = 0; s < t; s++) {
          let d = 0;
          for (let i = 0; i < n; i++) d += F[i * r + s]! * F[i * r + t]!;
          for (let i = 0; i < n; i++) F[i * r + t]! -= d * F[i * r + s]!;
        }
      }
    }
    let nrm = 0;
    for (let i = 0; i < n; i++) nrm += F[i * r + t]! * F[i * r + t]!;
    if (!(nrm > 1e-20 * orig)) continue;
    const inv = 1 / Math.sqrt(nrm);
    for (let i = 0; i < n; i++) F[i * r + t]! *= inv;
  }
}
