/**
 * The non-sparse regime of the fast solver: y is noisy or its signal is not sparse, and the
 * basis-pursuit solution has hundreds to thousands of non-zeros (up to d). There the lasso path
 * slows down (CD on a support of size ~d is ill-conditioned) and the exact polish of support.ts
 * (Cholesky, O(|S|³)) is out of reach. Two cheaper routes:
 *
 *  - cone case (P ≥ 0 with constant column sums c, y ≥ 0): ||x||₁ ≥ 1ᵀx = 1ᵀy/c on the feasible
 *    set, with equality iff x ≥ 0, so ANY x ≥ 0 with P x = y is a basis-pursuit optimum
 *    (certificate z = 1/c, as for nonneg recovery; see fast.ts). nonnegFit looks for one by CD on
 *    min ||P x − y||² over x ≥ 0 at λ = 0 (NNLS). When y is inside the cone such solutions are far
 *    from unique and use many more than d columns, so P_S is wide and well-conditioned and CD
 *    converges linearly in a few hundred passes (measured on esGolub gene columns, n = 5000,
 *    d = 1000–2500: 4–18 ms per column), while the lasso path must cross the ill-conditioned
 *    |S| ≈ d stretch. Raw gene columns (RF) are always in the cone (y = P g, g ≥ 0).
 *  - otherwise feasibleRefit: from the lasso iterate x_λ (residual r) the minimum-norm change on
 *    T = supp x_λ ∪ {j : |P_jᵀr| ≥ θλ} that makes P x̂ = y, δ = P_Tᵀ(P_T P_Tᵀ)⁻¹ r, by
 *    Jacobi-preconditioned CG on the d×d matrix P_T P_Tᵀ (never formed; one product costs
 *    2·nnz(P_T)). If δ flips no sign and vanishes off supp x_λ, ||x̂||₁ = ||x_λ||₁ + ||r||²/λ
 *    exactly when the lasso is solved exactly (z = r/λ is then a dual certificate for x̂);
 *    otherwise each column j outside supp x_λ adds |δ_j| − δ_j·P_jᵀr/λ ≥ 0, which θ keeps small.
 *    ||x̂||₁ − BP shrinks roughly in proportion to λ along the path.
 */
import { columnDot, norm2, type ColumnMatrix } from './columns.js';
import { setResidual, sweep, type Ctx } from './cd.js';

/**
 * Refit columns: supp x plus those with |P_jᵀr| ≥ REFIT_THETA·λ. Measured at d = 400: θ = 0.9
 * leaves about half the ℓ1 excess of θ = 0.5 (whose larger T needs 3–5× fewer CG iterations).
 */
const REFIT_THETA = 0.9;
/** CG iteration cap of one refit (typically 100–300 with |T| ≈ 1.1–1.3·d). */
const REFIT_MAX_ITERS = 600;
/** CG is abandoned when its residual grows this much above its minimum (inconsistent system). */
const REFIT_DIVERGED = 1e4;
/** nonnegFit gives up when its linear rate predicts more work than this many full passes. */
const NONNEG_FIT_MAX_SWEEPS = 2000;
/**
 * Passes over the positive coordinates between full passes in nonnegFit. Measured (synthetic FR
 * and gene columns): 8 needs 20–60% fewer coordinate updates than 0 (only full passes); 4 and 16
 * are within 10% of 8.
 */
const NONNEG_ACTIVE_SWEEPS = 8;

/**
 * CD at λ = 0 with x ≥ 0 over the candidates ws.allowed[0..nAllowed), from the x ≥ 0 in ws.x:
 * cycles of one full pass and NONNEG_ACTIVE_SWEEPS passes over the positive coordinates.
 * True if ||P x − y|| ≤ fitTolerance·||y|| (x, r then hold the fit); false once the residual's
 * rate per cycle predicts more than NONNEG_FIT_MAX_SWEEPS full passes of work (y is then most
 * likely outside the cone: the NNLS residual converges to a non-zero vector).
 */
export function nonnegFit(c: Ctx): boolean {
  const { A, ws, stats, o } = c;
  const { x, r, activeList, allowed } = ws;
  const target = o.fitTolerance * c.yNorm;
  // Aim below the target: the recomputed residual differs from the updated one by rounding.
  const aim = 0.5 * target;
  const budget = NONNEG_FIT_MAX_SWEEPS * c.nAllowed;
  let rPrev = norm2(r, A.rows), work = 0;
  for (let cycle = 1; stats.sweeps < o.maxSweeps; cycle++) {
    sweep(A, allowed, c.nAllowed, x, r, 0, true);
    let na = 0;
    for (let t = 0; t < c.nAllowed; t++) { const j = allowed[t]!; if (x[j]! > 0) activeList[na++] = j; }
    for (let k = 0; k < NONNEG_ACTIVE_SWEEPS; k++) sweep(A, activeList, na, x, r, 0, true);
    const cycleWork = c.nAllowed + NONNEG_ACTIVE_SWEEPS * na;
    work += cycleWork;
    stats.sweeps += 1 + NONNEG_ACTIVE_SWEEPS;
    stats.coordinateUpdates += cycleWork;
    const rn = norm2(r, A.rows);
    if (rn <= aim) break;
    const rate = rn / rPrev;
    rPrev = rn;
    if (cycle < 2) continue;
    if (!(rate < 0.999) || work + cycleWork * (Math.log(aim / rn) / Math.log(rate)) > budget) return false;
  }
  setResidual(c);
  return norm2(r, A.rows) <= target;
}

/**
 * Feasible refit of the lasso iterate in ws.x (residual ws.r, gradient ws.g = Pᵀr valid) at λ:
 * x̂ = x + P_Tᵀ u with (P_T P_Tᵀ) u = r (see the header). Returns ||x̂||₁ and, if it is below
 * bestL1, stores x̂ in ws.feasible; NaN if CG did not reach the fit tolerance.
 */
export function feasibleRefit(c: Ctx, lam: number, bestL1: number): number {
  const { A, ws } = c;
  const d = A.rows;
  const T = ws.refitCols, x = ws.x, g = ws.g;
  const lim = REFIT_THETA * lam;
  let m = 0;
  for (let t = 0; t < c.nAllowed; t++) {
    const j = ws.allowed[t]!;
    if (x[j] !== 0 || Math.abs(g[j]!) >= lim) T[m++] = j;
  }
  m = coverRows(c, m);
  if (m < d) return NaN;
  const it = solveNormal(c, m);
  c.stats.refitIterations += it < 0 ? -1 - it : it;
  return it < 0 ? NaN : refitL1(c, m, bestL1);
}

/**
 * Jacobi-preconditioned CG for (P_T P_Tᵀ) u = r over the m columns in ws.refitCols, u in ws.cgU.
 * Returns the iteration count if ||r − P_T P_Tᵀ u|| reached 0.1·fitTolerance·||y||, else −1 − count.
 */
function solveNormal(c: Ctx, m: number): number {
  const { A, ws, o } = c;
  const { colPtr, rowIdx, values } = A;
  const d = A.rows, T = ws.refitCols;
  const u = ws.cgU, res = ws.cgRes, dir = ws.cgDir, q = ws.cgQ, diag = ws.cgDiag, z = ws.cgZ;
  // Jacobi preconditioner: (P_T P_Tᵀ)_ii = Σ P_ij² over j ∈ T, the row coverage, which varies a
  // lot (measured 20–25% fewer iterations).
  diag.fill(0, 0, d);
  for (let a = 0; a < m; a++) {
    const j = T[a]!, e = colPtr[j + 1]!;
    if (values === null) for (let k = colPtr[j]!; k < e; k++) diag[rowIdx[k]!]! += 1;
    else for (let k = colPtr[j]!; k < e; k++) diag[rowIdx[k]!]! += values[k]! * values[k]!;
  }
  for (let i = 0; i < d; i++) diag[i] = diag[i]! > 0 ? 1 / diag[i]! : 1;
  u.fill(0);
  res.set(ws.r.subarray(0, d));
  for (let i = 0; i < d; i++) z[i] = diag[i]! * res[i]!;
  dir.set(z);
  let rs = dot(res, res, d), rz = dot(res, z, d), minRs = rs;
  // CG residual well below the fit tolerance: the recomputed P x̂ − y must still pass it.
  const stop = (0.1 * o.fitTolerance * c.yNorm) ** 2;
  let it = 0;
  for (; it < REFIT_MAX_ITERS && rs > stop && rs <= REFIT_DIVERGED * minRs; it++) {
    mulNormal(A, T, m, dir, q);
    const dq = dot(dir, q, d);
    if (!(dq > 0)) break;
    const alpha = rz / dq;
    let rn = 0, rzn = 0;
    for (let i = 0; i < d; i++) {
      u[i]! += alpha * dir[i]!;
      const v = res[i]! - alpha * q[i]!;
      res[i] = v;
      rn += v * v;
      const zi = diag[i]! * v;
      z[i] = zi;
      rzn += v * zi;
    }
    const beta = rzn / rz;
    rs = rn;
    rz = rzn;
    if (rn < minRs) minRs = rn;
    for (let i = 0; i < d; i++) dir[i] = z[i]! + beta * dir[i]!;
  }
  return rs <= stop ? it : -1 - it;
}

/** ||x + P_Tᵀu||₁ over the candidates; if below bestL1, x + P_Tᵀu is stored in ws.feasible. */
function refitL1(c: Ctx, m: number, bestL1: number): number {
  const { A, ws } = c;
  const { colPtr, rowIdx, values } = A;
  const T = ws.refitCols, x = ws.x, u = ws.cgU;
  // T lists candidates in the order of ws.allowed, so one merged pass gives ||x̂||₁.
  let l1 = 0;
  for (let t = 0, a = 0; t < c.nAllowed; t++) {
    const j = ws.allowed[t]!;
    let v = x[j]!;
    if (a < m && T[a] === j) { v += columnDot(j, u, colPtr, rowIdx, values); a++; }
    l1 += Math.abs(v);
  }
  if (!(l1 < bestL1)) return l1;
  const xf = ws.feasible;
  for (let t = 0; t < c.nAllowed; t++) { const j = ws.allowed[t]!; xf[j] = x[j]!; }
  for (let a = 0; a < m; a++) { const j = T[a]!; xf[j]! += columnDot(j, u, colPtr, rowIdx, values); }
  return l1;
}

/**
 * Adds to T (m columns, in the order of ws.allowed) the column with the largest |P_jᵀr| touching
 * each row that T covers at most once: an uncovered row with r_i ≠ 0 makes P_T δ = r
 * inconsistent (CG then diverges; measured: several such rows per refit at d = 400 with zero
 * rows in y), and a singly covered row is fragile. Returns the new count. O(nnz); uses ws.inSet
 * as marks (left cleared) and the CG vectors as per-row scratch.
 */
function coverRows(c: Ctx, m: number): number {
  const { A, ws } = c;
  const { colPtr, rowIdx } = A;
  const d = A.rows, T = ws.refitCols, g = ws.g, mark = ws.inSet;
  const cover = ws.cgRes, bestG = ws.cgQ, bestJ = ws.cgDir;
  cover.fill(0, 0, d);
  bestG.fill(-1, 0, d);
  for (let a = 0; a < m; a++) {
    const j = T[a]!;
    mark[j] = 1;
    for (let k = colPtr[j]!; k < colPtr[j + 1]!; k++) cover[rowIdx[k]!]!++;
  }
  for (let t = 0; t < c.nAllowed; t++) {
    const j = ws.allowed[t]!;
    if (mark[j]) continue;
    const gj = Math.abs(g[j]!);
    for (let k = colPtr[j]!; k < colPtr[j + 1]!; k++) {
      const i = rowIdx[k]!;
      if (cover[i]! <= 1 && gj > bestG[i]!) { bestG[i] = gj; bestJ[i] = j; }
    }
  }
  let added = 0;
  for (let i = 0; i < d; i++) {
    if (bestG[i]! < 0) continue;
    const j = bestJ[i]!;
    if (!mark[j]) { mark[j] = 1; added++; }
  }
  if (added > 0) {
    m = 0;
    for (let t = 0; t < c.nAllowed; t++) { const j = ws.allowed[t]!; if (mark[j]) T[m++] = j; }
  }
  for (let a = 0; a < m; a++) mark[T[a]!] = 0;
  return m;
}

/** out = P_T P_Tᵀ v over the m columns listed in T. */
function mulNormal(A: ColumnMatrix, T: Int32Array, m: number, v: Float64Array, out: Float64Array): void {
  const { colPtr, rowIdx, values } = A;
  out.fill(0, 0, A.rows);
  if (A.binaryStride === 5) {
    // Unrolled like cd.ts's sweepBinary5 (this product is the refit's only O(nnz) work).
    for (let a = 0; a < m; a++) {
      const p = 5 * T[a]!;
      const i0 = rowIdx[p]!, i1 = rowIdx[p + 1]!, i2 = rowIdx[p + 2]!, i3 = rowIdx[p + 3]!, i4 = rowIdx[p + 4]!;
      const s = v[i0]! + v[i1]! + v[i2]! + v[i3]! + v[i4]!;
      out[i0]! += s; out[i1]! += s; out[i2]! += s; out[i3]! += s; out[i4]! += s;
    }
    return;
  }
  for (let a = 0; a < m; a++) {
    const j = T[a]!, e = colPtr[j + 1]!;
    const s = columnDot(j, v, colPtr, rowIdx, values);
    if (values === null) for (let k = colPtr[j]!; k < e; k++) out[rowIdx[k]!]! += s;
    else for (let k = colPtr[j]!; k < e; k++) out[rowIdx[k]!]! += s * values[k]!;
  }
}

function dot(a: Float64Array, b: Float64Array, len: number): number {
  let s = 0;
  for (let i = 0; i < len; i++) s += a[i]! * b[i]!;
  return s;
}
