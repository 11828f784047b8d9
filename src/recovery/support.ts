/**
 * Least squares restricted to a support S ("polish") and the two optimality certificates the
 * fast solver uses to decide that a polished x̂ (P x̂ = y, supp x̂ ⊆ S) IS the basis-pursuit
 * solution:
 *
 *  - lasso dual: if x_λ solves the lasso at λ (KKT: P_jᵀr = λ·s_j on S, |P_jᵀr| ≤ λ off S,
 *    r = y − P x_λ) and x̂ agrees in sign with x_λ on S, then z = r/λ is dual feasible for
 *    min ||x||₁ s.t. Px = y and satisfies complementary slackness with x̂ (Osborne, Presnell &
 *    Turlach 2000). Same for the nonneg LP (Pᵀz ≤ 1, equality on S).
 *  - Fuchs: z = P_S (P_SᵀP_S)⁻¹ sign(x̂_S) has P_Sᵀz = sign(x̂_S); if |P_jᵀz| ≤ 1 off S, x̂ is
 *    optimal (Fuchs 2004). Needs no lasso iterate, so it certifies a warm start directly.
 *
 * The Gram matrix P_SᵀP_S is built by scattering one column into a dense d-vector and dotting
 * the others' stored entries against it: O(|S|²·p) for a sparse-binary P.
 */
import { cholesky, choleskySolve } from '../linalg/small.js';
import { columnDot, type ColumnMatrix } from './columns.js';

/** Polished coefficients below POLISH_ZERO·max|w| are set to exactly 0. */
export const POLISH_ZERO = 1e-10;

/** Buffers for the polish step; the Gram buffer grows to the largest support seen. */
export class PolishWorkspace {
  gram = new Float64Array(0);
  readonly colBuf: Float64Array;
  readonly res: Float64Array;
  readonly z: Float64Array;
  w: Float64Array;
  corr: Float64Array;
  constructor(readonly d: number) {
    this.colBuf = new Float64Array(d);
    this.res = new Float64Array(d);
    this.z = new Float64Array(d);
    this.w = new Float64Array(0);
    this.corr = new Float64Array(0);
  }
  /** Makes room for a support of size m. */
  reserve(m: number): void {
    if (this.gram.length < m * m) this.gram = new Float64Array(m * m);
    if (this.w.length < m) { this.w = new Float64Array(m); this.corr = new Float64Array(m); }
  }
}

/**
 * Solves min ||P_S w − y|| for the m columns listed in S (Cholesky of P_SᵀP_S plus one step of
 * iterative refinement). Leaves w in ws.w, the Cholesky factor in ws.gram and y − P_S w in
 * ws.res. Returns ||y − P_S w||, or NaN if P_S is numerically rank deficient.
 */
export function polishOnSupport(A: ColumnMatrix, S: Int32Array, m: number, y: Float64Array, ws: PolishWorkspace): number {
  ws.reserve(m);
  const { colPtr, rowIdx, values } = A;
  const G = ws.gram, buf = ws.colBuf, w = ws.w;
  for (let a = 0; a < m; a++) {
    const ja = S[a]!;
    const ea = colPtr[ja + 1]!;
    for (let q = colPtr[ja]!; q < ea; q++) buf[rowIdx[q]!] = values === null ? 1 : values[q]!;
    for (let b = a; b < m; b++) {
      const g = columnDot(S[b]!, buf, colPtr, rowIdx, values);
      G[a * m + b] = g;
      G[b * m + a] = g;
    }
    for (let q = colPtr[ja]!; q < ea; q++) buf[rowIdx[q]!] = 0;
    w[a] = columnDot(ja, y, colPtr, rowIdx, values);
  }
  if (!cholesky(G, m, 0)) return NaN;
  choleskySolve(G, m, w);
  let res = residualOnSupport(A, S, m, w, y, ws.res);
  // One refinement step: Gram-based normal equations lose half the digits on their own.
  const corr = ws.corr;
  for (let a = 0; a < m; a++) corr[a] = columnDot(S[a]!, ws.res, colPtr, rowIdx, values);
  choleskySolve(G, m, corr);
  let wMax = 0;
  for (let a = 0; a < m; a++) { w[a]! += corr[a]!; wMax = Math.max(wMax, Math.abs(w[a]!)); }
  // Coefficients that are zero in exact arithmetic (a false positive of S when S ⊋ supp x)
  // come out at rounding level with a random sign; make them exact zeros so sign tests work.
  const tiny = POLISH_ZERO * wMax;
  for (let a = 0; a < m; a++) if (Math.abs(w[a]!) <= tiny) w[a] = 0;
  res = residualOnSupport(A, S, m, w, y, ws.res);
  return res;
}

/** out = y − P_S w; returns ||out||. */
export function residualOnSupport(
  A: ColumnMatrix, S: Int32Array, m: number, w: Float64Array, y: Float64Array, out: Float64Array,
): number {
  const { colPtr, rowIdx, values } = A;
  out.set(y.subarray(0, A.rows));
  for (let a = 0; a < m; a++) {
    const j = S[a]!, wa = w[a]!, e = colPtr[j + 1]!;
    if (values === null) for (let q = colPtr[j]!; q < e; q++) out[rowIdx[q]!]! -= wa;
    else for (let q = colPtr[j]!; q < e; q++) out[rowIdx[q]!]! -= wa * values[q]!;
  }
  let s = 0;
  for (let i = 0; i < A.rows; i++) s += out[i]! * out[i]!;
  return Math.sqrt(s);
}

/**
 * Fuchs' certificate for the w left in ws by polishOnSupport (factor still in ws.gram): true if
 * z = P_S G⁻¹ sign(w) satisfies |P_jᵀz| ≤ 1 (nonneg: P_jᵀz ≤ 1) for every listed j outside S.
 * `inS` flags the support columns; `cand` lists the columns to check (nCand of them).
 */
export function fuchsCertificate(
  A: ColumnMatrix, S: Int32Array, m: number, nonneg: boolean, inS: Uint8Array,
  cand: Int32Array, nCand: number, ws: PolishWorkspace,
): boolean {
  const { colPtr, rowIdx, values } = A;
  const v = ws.corr, w = ws.w, z = ws.z;
  for (let a = 0; a < m; a++) {
    const wa = w[a]!;
    if (wa === 0 || (nonneg && wa < 0)) return false;
    v[a] = wa > 0 ? 1 : -1;
  }
  choleskySolve(ws.gram, m, v);
  z.fill(0);
  for (let a = 0; a < m; a++) {
    const j = S[a]!, va = v[a]!, e = colPtr[j + 1]!;
    if (values === null) for (let q = colPtr[j]!; q < e; q++) z[rowIdx[q]!]! += va;
    else for (let q = colPtr[j]!; q < e; q++) z[rowIdx[q]!]! += va * values[q]!;
  }
  const lim = 1 + 1e-9;
  for (let t = 0; t < nCand; t++) {
    const j = cand[t]!;
    if (inS[j]) continue;
    const g = columnDot(j, z, colPtr, rowIdx, values);
    if (nonneg ? g > lim : Math.abs(g) > lim) return false;
  }
  return true;
}
