/**
 * Factor-update kernels shared by the batch, online and compressed factorizations.
 *
 * Every kernel updates ONE factor F (n×r, row-major; row i holds the r loadings of item i) of a
 * model X ≈ F·Oᵀ from sufficient statistics only:
 *
 *   B = X·O   (n×r)     the data projected on the other factor O
 *   G = Oᵀ·O  (r×r)     the Gram matrix of the other factor
 *
 * so the subproblem is  min_F ½‖X − F Oᵀ‖² + l1·Σ|F| + ½·l2·‖F‖²  =  ½ tr(F G Fᵀ) − ⟨F, B⟩ + ...
 * (+ const). For NMF, W (d×r) uses B = X Hᵀ, G = H Hᵀ; Hᵀ (m×r) uses B = Xᵀ W, G = Wᵀ W. An
 * online model passes its running A = Σ h hᵀ as G and B = Σ y hᵀ as B. No kernel allocates, checks
 * shapes, or does I/O; callers own every buffer (outputs and workspaces last).
 *
 * Kernel surface:
 *   gemmNT4   C = A·Bᵀ, 4×4 register-blocked (the d×m by m×r products B = X Hᵀ, Xᵀ W)
 *   halsUpdate one HALS pass over the columns of a non-negative factor (cdSweep, nonneg)
 *   cdSweep   one pass of exact coordinate minimisation over the r columns of F (HALS for NMF,
 *             a lasso sweep for sparse PCA, a projected block update for unit-ball constraints)
 *   cdSolve   repeated cdSweep until the change is small (NNLS / lasso / ridge to tolerance)
 *   solveNormalRows  least squares from the normal equations, refined by cdSolve (NMF / CP transform)
 *   pgdStep   one projected-gradient step with Lin's (2007) Armijo search (the paper's NMF)
 * The small Gram products come from src/linalg/kernels (gramRows, gramCols).
 *
 * References:
 *   A. Cichocki, A.-H. Phan (2009), Fast local algorithms for large scale nonnegative matrix and
 *     tensor factorizations, IEICE Trans. Fundamentals E92-A(3).
 *   N. Gillis, F. Glineur (2012), Accelerated multiplicative updates and hierarchical ALS algorithms
 *     for nonnegative matrix factorization, Neural Computation 24(4).
 *   C.-J. Lin (2007), Projected gradient methods for nonnegative matrix factorization, Neural
 *     Computation 19(10).
 */
import { cholesky, choleskySolve } from '../linalg/small.js';

/**
 * One coordinate-descent sweep over the columns t = 0..r−1 of F (n×r), each column solved exactly
 * with the others fixed (Gauss–Seidel order, so later columns see the updated earlier ones):
 *
 *   num      = B[i,t] − Σ_{l≠t} G[t,l]·F[i,l]
 *   F[i,t]   = nonneg ? max(0, num − l1) / (G[t,t] + l2)          (HALS with penalties)
 *                     : sign(num)·max(0, |num| − l1) / (G[t,t] + l2)   (lasso / ridge)
 *
 * A column whose curvature G[t,t] + l2 is not positive is skipped (its other factor is dead).
 * If `nonneg` and `floor` > 0, a column that became entirely zero, or whose other factor is dead,
 * is set to `floor` everywhere (Gillis & Glineur's guard against dead components: the next update
 * of the other factor then re-fits that component to the residual; the objective is unchanged). If `maxNorm` > 0 each updated column is projected onto
 * the ℓ2 ball of that radius (the exact block minimiser, since the block's curvature is isotropic).
 *
 * @returns Σ (F_new − F_old)² over the sweep.
 */
export function cdSweep(
  F: Float64Array, B: Float64Array, G: Float64Array, n: number, r: number,
  l1: number, l2: number, nonneg: boolean, floor: number, maxNorm: number,
): number {
  let change = 0;
  for (let t = 0; t < r; t++) {
    const gt = t * r;
    const gtt = G[gt + t]!;
    const curv = gtt + l2;
    if (!(curv > 0)) {
      // The other factor's column t is zero (G[t,t] = ‖o_t‖² = 0): component t contributes nothing
      // whatever F[:,t] is. With a floor, seed it so the other factor's next update can revive it.
      if (nonneg && floor > 0) {
        for (let k = 0; k < n; k++) {
          const old = F[k * r + t]!;
          F[k * r + t] = floor;
          change += (floor - old) * (floor - old);
        }
      }
      continue;
    }
    const inv = 1 / curv;
    // Per-column sums: Σ v², Σ v·old, Σ old², Σ old, Σ (v − old)², max v.
    let colSq = 0, cross = 0, oldSq = 0, oldSum = 0, colChange = 0, colMax = 0;
    let i = 0;
    // Four rows at a time: each load of G[t, l] feeds four multiply-adds.
    for (; i + 4 <= n; i += 4) {
      const f0 = i * r, f1 = f0 + r, f2 = f1 + r, f3 = f2 + r;
      let s0 = B[f0 + t]!, s1 = B[f1 + t]!, s2 = B[f2 + t]!, s3 = B[f3 + t]!;
      for (let l = 0; l < r; l++) {
        const g = G[gt + l]!;
        s0 -= g * F[f0 + l]!; s1 -= g * F[f1 + l]!; s2 -= g * F[f2 + l]!; s3 -= g * F[f3 + l]!;
      }
      const o0 = F[f0 + t]!, o1 = F[f1 + t]!, o2 = F[f2 + t]!, o3 = F[f3 + t]!;
      // Add back the l = t terms subtracted above: s = B − Σ_{l≠t} G[t,l]·F[·,l].
      s0 += gtt * o0; s1 += gtt * o1; s2 += gtt * o2; s3 += gtt * o3;
      const v0 = shrink(s0, l1, inv, nonneg), v1 = shrink(s1, l1, inv, nonneg);
      const v2 = shrink(s2, l1, inv, nonneg), v3 = shrink(s3, l1, inv, nonneg);
      F[f0 + t] = v0; F[f1 + t] = v1; F[f2 + t] = v2; F[f3 + t] = v3;
      colChange += (v0 - o0) * (v0 - o0) + (v1 - o1) * (v1 - o1) + (v2 - o2) * (v2 - o2) + (v3 - o3) * (v3 - o3);
      colSq += v0 * v0 + v1 * v1 + v2 * v2 + v3 * v3;
      cross += v0 * o0 + v1 * o1 + v2 * o2 + v3 * o3;
      oldSq += o0 * o0 + o1 * o1 + o2 * o2 + o3 * o3;
      oldSum += o0 + o1 + o2 + o3;
      colMax = Math.max(colMax, v0, v1, v2, v3);
    }
    for (; i < n; i++) {
      const fi = i * r;
      let s = B[fi + t]!;
      for (let l = 0; l < r; l++) s -= G[gt + l]! * F[fi + l]!;
      const o = F[fi + t]!;
      s += gtt * o;
      const v = shrink(s, l1, inv, nonneg);
      F[fi + t] = v;
      colChange += (v - o) * (v - o);
      colSq += v * v;
      cross += v * o;
      oldSq += o * o;
      oldSum += o;
      if (v > colMax) colMax = v;
    }
    if (nonneg && floor > 0 && colMax === 0) {
      for (let k = 0; k < n; k++) F[k * r + t] = floor;
      colChange = oldSq - 2 * floor * oldSum + n * floor * floor; // Σ (floor − old)²
    } else if (maxNorm > 0 && colSq > maxNorm * maxNorm) {
      const sc = maxNorm / Math.sqrt(colSq);
      for (let k = 0; k < n; k++) F[k * r + t]! *= sc;
      colChange = Math.max(0, sc * sc * colSq - 2 * sc * cross + oldSq); // Σ (sc·v − old)²
    }
    change += colChange;
  }
  return change;
}

/**
 * One HALS update of a non-negative factor F (n×r) from its sufficient statistics: B = X·O
 * (for W: X Hᵀ; online: Σ y hᵀ) and G = Oᵀ·O (for W: H Hᵀ; online: Σ h hᵀ). `cdSweep` with
 * `nonneg = true` and no ball constraint. @returns Σ (F_new − F_old)².
 */
export function halsUpdate(
  F: Float64Array, B: Float64Array, G: Float64Array, n: number, r: number, l1 = 0, l2 = 0, floor = 0,
): number {
  return cdSweep(F, B, G, n, r, l1, l2, true, floor, 0);
}

/** The coordinate minimiser from its unpenalised numerator: clamp (nonneg) or soft-threshold, then scale. */
function shrink(s: number, l1: number, inv: number, nonneg: boolean): number {
  if (s > l1) return (s - l1) * inv;
  if (!nonneg && s < -l1) return (s + l1) * inv;
  return 0;
}

/**
 * Repeats `cdSweep` (no floor, no ball) until a sweep changes F by at most `tol`·‖F‖ (Frobenius)
 * or `maxSweeps` sweeps ran: an NNLS (nonneg), lasso (l1 > 0) or ridge solve from the start in F.
 * @returns the number of sweeps run.
 */
export function cdSolve(
  F: Float64Array, B: Float64Array, G: Float64Array, n: number, r: number,
  l1: number, l2: number, nonneg: boolean, maxSweeps: number, tol: number,
): number {
  const len = n * r;
  for (let s = 1; s <= maxSweeps; s++) {
    const change = cdSweep(F, B, G, n, r, l1, l2, nonneg, 0, 0);
    let norm = 0;
    for (let i = 0; i < len; i++) norm += F[i]! * F[i]!;
    if (change <= tol * tol * norm) return s;
  }
  return maxSweeps;
}

/**
 * Rows of F (m×r) minimising ½ tr(F G Fᵀ) − ⟨F, B⟩ + l1·ΣF + ½·l2‖F‖² (each row independent): the
 * least-squares solution of the normal equations (tiny ridge) first; for nonneg or l1 > 0 it is
 * clipped (nonneg) and refined by `cdSolve`. The transform step of NMF and of CP, written into `out`.
 */
export function solveNormalRows(
  G: Float64Array, B: Float64Array, m: number, r: number, l1: number, l2: number, nonneg: boolean,
  maxSweeps: number, tol: number, out: Float64Array,
): void {
  const L = G.slice(0, r * r);
  let tr = 0;
  for (let t = 0; t < r; t++) tr += G[t * r + t]!;
  for (let t = 0; t < r; t++) L[t * r + t]! += 1e-10 * (tr / r || 1) + l2;
  out.set(B.subarray(0, m * r));
  if (cholesky(L, r, 1e-10)) for (let i = 0; i < m; i++) choleskySolve(L, r, out.subarray(i * r, (i + 1) * r));
  else out.fill(0, 0, m * r);
  if (!nonneg && l1 === 0) return;
  if (nonneg) for (let i = 0; i < m * r; i++) if (!(out[i]! > 0)) out[i] = 0;
  cdSolve(out, B, G, m, r, l1, l2, nonneg, maxSweeps, tol);
}

/**
 * One projected-gradient step on  min_{F ≥ 0} ½ tr(F Q Fᵀ) − ⟨F, B⟩ + l1·ΣF + ½·l2·‖F‖²
 * exactly as the paper's repository (`nlssubprob`, after Lin 2007), in the transposed layout
 * (F n×r, gradient g = F Q − B + l1 + l2·F):
 *
 *   trial:  Fn = max(0, F − α g),  D = Fn − F,
 *           sufficient decrease  ⇔  0.99·⟨g, D⟩ + 0.5·⟨D, (Q + l2 I) D⟩ < 0   (σ = 0.01);
 *   trial 1 fails → shrink α ← α·β until a trial passes, accept that Fn;
 *   trial 1 passes → grow α ← α/β while trials pass and Fn keeps changing; keep the last passing Fn;
 *   at most `maxTrials` trials; if they run out (all failed, or all passed while growing) F is
 *   left unchanged.
 *
 * F is updated in place. `grad`, `cand` and `keep` are n·r workspaces.
 * @returns the step size to carry into the next call (the last one tried, as in Lin's code).
 */
export function pgdStep(
  F: Float64Array, B: Float64Array, Q: Float64Array, n: number, r: number,
  alpha: number, beta: number, maxTrials: number, l1: number, l2: number,
  grad: Float64Array, cand: Float64Array, keep: Float64Array,
): number {
  const len = n * r;
  for (let i = 0; i < n; i++) {
    const fi = i * r;
    for (let a = 0; a < r; a++) {
      let s = l1 - B[fi + a]! + l2 * F[fi + a]!;
      for (let b = 0; b < r; b++) s += F[fi + b]! * Q[b * r + a]!;
      grad[fi + a] = s;
    }
  }
  let decrease = false;
  let keepIsF = true; // `Hp = H` in Lin's code
  let kp = keep, cd = cand; // swapped instead of copied
  for (let trial = 0; trial < maxTrials; trial++) {
    let gd = 0, dqd = 0;
    for (let i = 0; i < n; i++) {
      const fi = i * r;
      for (let a = 0; a < r; a++) {
        const f = F[fi + a]!;
        const x = f - alpha * grad[fi + a]!;
        const v = x > 0 ? x : 0;
        cd[fi + a] = v;
        gd += grad[fi + a]! * (v - f);
      }
      // ⟨D_i, (Q + l2 I) D_i⟩ for row i
      for (let a = 0; a < r; a++) {
        const da = cd[fi + a]! - F[fi + a]!;
        if (da === 0) continue;
        let s = l2 * da;
        for (let b = 0; b < r; b++) s += Q[a * r + b]! * (cd[fi + b]! - F[fi + b]!);
        dqd += da * s;
      }
    }
    const sufficient = 0.99 * gd + 0.5 * dqd < 0;
    if (trial === 0) decrease = !sufficient;
    if (decrease) {
      if (sufficient) {
        F.set(cd.subarray(0, len));
        return alpha;
      }
      alpha *= beta;
    } else {
      const prev = keepIsF ? F : kp;
      let same = true;
      if (sufficient) {
        for (let i = 0; i < len; i++) if (prev[i] !== cd[i]) { same = false; break; }
      }
      if (!sufficient || same) {
        if (!keepIsF) F.set(kp.subarray(0, len));
        return alpha;
      }
      alpha /= beta;
      const t = kp; kp = cd; cd = t;
      keepIsF = false;
    }
  }
  return alpha;
}

/**
 * C(m×n) = A(m×k)·B(n×k)ᵀ (dot products of rows), register-blocked 4×4 with 4×2 / 4×1 / 1×n
 * tails. About 1.5× faster than `gemmNT` when n is small (n = r) and k long: each load of A feeds
 * four multiply-adds. Same contract as src/linalg's kernels (output last, overwrites C).
 */
export function gemmNT4(a: Float64Array, b: Float64Array, m: number, k: number, n: number, c: Float64Array): void {
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    const a0 = i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
    const c0 = i * n, c1 = c0 + n, c2 = c1 + n, c3 = c2 + n;
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const b0 = j * k, b1 = b0 + k, b2 = b1 + k, b3 = b2 + k;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let p = 0; p < k; p++) {
        const y0 = b[b0 + p]!, y1 = b[b1 + p]!, y2 = b[b2 + p]!, y3 = b[b3 + p]!;
        let x = a[a0 + p]!; s00 += x * y0; s01 += x * y1; s02 += x * y2; s03 += x * y3;
        x = a[a1 + p]!; s10 += x * y0; s11 += x * y1; s12 += x * y2; s13 += x * y3;
        x = a[a2 + p]!; s20 += x * y0; s21 += x * y1; s22 += x * y2; s23 += x * y3;
        x = a[a3 + p]!; s30 += x * y0; s31 += x * y1; s32 += x * y2; s33 += x * y3;
      }
      c[c0 + j] = s00; c[c0 + j + 1] = s01; c[c0 + j + 2] = s02; c[c0 + j + 3] = s03;
      c[c1 + j] = s10; c[c1 + j + 1] = s11; c[c1 + j + 2] = s12; c[c1 + j + 3] = s13;
      c[c2 + j] = s20; c[c2 + j + 1] = s21; c[c2 + j + 2] = s22; c[c2 + j + 3] = s23;
      c[c3 + j] = s30; c[c3 + j + 1] = s31; c[c3 + j + 2] = s32; c[c3 + j + 3] = s33;
    }
    for (; j + 2 <= n; j += 2) {
      const b0 = j * k, b1 = b0 + k;
      let s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s30 = 0, s31 = 0;
      for (let p = 0; p < k; p++) {
        const y0 = b[b0 + p]!, y1 = b[b1 + p]!;
        let x = a[a0 + p]!; s00 += x * y0; s01 += x * y1;
        x = a[a1 + p]!; s10 += x * y0; s11 += x * y1;
        x = a[a2 + p]!; s20 += x * y0; s21 += x * y1;
        x = a[a3 + p]!; s30 += x * y0; s31 += x * y1;
      }
      c[c0 + j] = s00; c[c0 + j + 1] = s01; c[c1 + j] = s10; c[c1 + j + 1] = s11;
      c[c2 + j] = s20; c[c2 + j + 1] = s21; c[c3 + j] = s30; c[c3 + j + 1] = s31;
    }
    for (; j < n; j++) {
      const b0 = j * k;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let p = 0; p < k; p++) {
        const y = b[b0 + p]!;
        s0 += a[a0 + p]! * y; s1 += a[a1 + p]! * y; s2 += a[a2 + p]! * y; s3 += a[a3 + p]! * y;
      }
      c[c0 + j] = s0; c[c1 + j] = s1; c[c2 + j] = s2; c[c3 + j] = s3;
    }
  }
  for (; i < m; i++) {
    const ai = i * k, ci = i * n;
    for (let j = 0; j < n; j++) {
      const bj = j * k;
      let s0 = 0, s1 = 0;
      let p = 0;
      for (; p + 2 <= k; p += 2) { s0 += a[ai + p]! * b[bj + p]!; s1 += a[ai + p + 1]! * b[bj + p + 1]!; }
      if (p < k) s0 += a[ai + p]! * b[bj + p]!;
      c[ci + j] = s0 + s1;
    }
  }
}
