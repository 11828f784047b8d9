/**
 * Dense kernels for factorization. Pure functions on caller-owned row-major `Float64Array`s:
 * dimensions explicit, output last, no allocation and no checks inside (callers check shapes once
 * at the boundary). Register-blocked where the loop is hot: 4 rows of the left operand share each
 * load of the right operand.
 *
 * Kernel surface (the only algebra the factorization algorithms call):
 *   gemm      C = A·B        (A m×k, B k×n)
 *   gemmTN    C = Aᵀ·B       (A k×m, B k×n)
 *   gemmNT    C = A·Bᵀ       (A m×k, B n×k)
 *   gramRows  G = A·Aᵀ       (A m×k → m×m)
 *   gramCols  G = Aᵀ·A       (A k×m → m×m)
 *   dot, sumSquares, frobDiffSq, scale, axpy
 */

/** C(m×n) = A(m×k)·B(k×n); `beta` scales the old C (0 overwrites). */
export function gemm(
  a: Float64Array, b: Float64Array, m: number, k: number, n: number, c: Float64Array, beta = 0,
): void {
  if (beta === 0) c.fill(0, 0, m * n);
  else if (beta !== 1) for (let i = 0; i < m * n; i++) c[i]! *= beta;
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    const c0 = i * n, c1 = c0 + n, c2 = c1 + n, c3 = c2 + n;
    const a0 = i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
    for (let p = 0; p < k; p++) {
      const x0 = a[a0 + p]!, x1 = a[a1 + p]!, x2 = a[a2 + p]!, x3 = a[a3 + p]!;
      const bp = p * n;
      for (let j = 0; j < n; j++) {
        const bv = b[bp + j]!;
        c[c0 + j]! += x0 * bv;
        c[c1 + j]! += x1 * bv;
        c[c2 + j]! += x2 * bv;
        c[c3 + j]! += x3 * bv;
      }
    }
  }
  for (; i < m; i++) {
    const ci = i * n, ai = i * k;
    for (let p = 0; p < k; p++) {
      const x = a[ai + p]!;
      if (x === 0) continue;
      const bp = p * n;
      for (let j = 0; j < n; j++) c[ci + j]! += x * b[bp + j]!;
    }
  }
}

/** C(m×n) = Aᵀ·B with A k×m and B k×n (rank-1 updates row by row, cache friendly). */
export function gemmTN(
  a: Float64Array, b: Float64Array, k: number, m: number, n: number, c: Float64Array, beta = 0,
): void {
  if (beta === 0) c.fill(0, 0, m * n);
  else if (beta !== 1) for (let i = 0; i < m * n; i++) c[i]! *= beta;
  for (let p = 0; p < k; p++) {
    const ap = p * m, bp = p * n;
    let i = 0;
    for (; i + 4 <= m; i += 4) {
      const x0 = a[ap + i]!, x1 = a[ap + i + 1]!, x2 = a[ap + i + 2]!, x3 = a[ap + i + 3]!;
      const c0 = i * n, c1 = c0 + n, c2 = c1 + n, c3 = c2 + n;
      for (let j = 0; j < n; j++) {
        const bv = b[bp + j]!;
        c[c0 + j]! += x0 * bv;
        c[c1 + j]! += x1 * bv;
        c[c2 + j]! += x2 * bv;
        c[c3 + j]! += x3 * bv;
      }
    }
    for (; i < m; i++) {
      const x = a[ap + i]!;
      if (x === 0) continue;
      const ci = i * n;
      for (let j = 0; j < n; j++) c[ci + j]! += x * b[bp + j]!;
    }
  }
}

/** C(m×n) = A·Bᵀ with A m×k and B n×k (dot products of rows, 2×2 register block). */
export function gemmNT(
  a: Float64Array, b: Float64Array, m: number, k: number, n: number, c: Float64Array, beta = 0,
): void {
  let i = 0;
  for (; i + 2 <= m; i += 2) {
    const a0 = i * k, a1 = a0 + k;
    let j = 0;
    for (; j + 2 <= n; j += 2) {
      const b0 = j * k, b1 = b0 + k;
      let s00 = 0, s01 = 0, s10 = 0, s11 = 0;
      for (let p = 0; p < k; p++) {
        const x0 = a[a0 + p]!, x1 = a[a1 + p]!, y0 = b[b0 + p]!, y1 = b[b1 + p]!;
        s00 += x0 * y0; s01 += x0 * y1; s10 += x1 * y0; s11 += x1 * y1;
      }
      const c0 = i * n + j, c1 = c0 + n;
      if (beta === 0) { c[c0] = s00; c[c0 + 1] = s01; c[c1] = s10; c[c1 + 1] = s11; }
      else {
        c[c0] = beta * c[c0]! + s00; c[c0 + 1] = beta * c[c0 + 1]! + s01;
        c[c1] = beta * c[c1]! + s10; c[c1 + 1] = beta * c[c1 + 1]! + s11;
      }
    }
    for (; j < n; j++) {
      const bj = j * k;
      let s0 = 0, s1 = 0;
      for (let p = 0; p < k; p++) { const y = b[bj + p]!; s0 += a[a0 + p]! * y; s1 += a[a1 + p]! * y; }
      const c0 = i * n + j;
      c[c0] = beta === 0 ? s0 : beta * c[c0]! + s0;
      c[c0 + n] = beta === 0 ? s1 : beta * c[c0 + n]! + s1;
    }
  }
  for (; i < m; i++) {
    const ai = i * k;
    for (let j = 0; j < n; j++) {
      const bj = j * k;
      let s = 0;
      for (let p = 0; p < k; p++) s += a[ai + p]! * b[bj + p]!;
      const ci = i * n + j;
      c[ci] = beta === 0 ? s : beta * c[ci]! + s;
    }
  }
}

/** G(m×m) = A·Aᵀ for A m×k (symmetric; computes the upper triangle and mirrors it). */
export function gramRows(a: Float64Array, m: number, k: number, g: Float64Array): void {
  for (let i = 0; i < m; i++) {
    const ai = i * k;
    for (let j = i; j < m; j++) {
      const aj = j * k;
      let s = 0;
      for (let p = 0; p < k; p++) s += a[ai + p]! * a[aj + p]!;
      g[i * m + j] = s;
      g[j * m + i] = s;
    }
  }
}

/** G(m×m) = Aᵀ·A for A k×m. */
export function gramCols(a: Float64Array, k: number, m: number, g: Float64Array): void {
  g.fill(0, 0, m * m);
  for (let p = 0; p < k; p++) {
    const ap = p * m;
    for (let i = 0; i < m; i++) {
      const x = a[ap + i]!;
      if (x === 0) continue;
      const gi = i * m;
      for (let j = i; j < m; j++) g[gi + j]! += x * a[ap + j]!;
    }
  }
  for (let i = 0; i < m; i++) for (let j = 0; j < i; j++) g[i * m + j] = g[j * m + i]!;
}

/** Σ x_i y_i over the first `len` entries (offsets allow rows/columns of matrices). */
export function dot(x: Float64Array, y: Float64Array, len = x.length, xo = 0, yo = 0): number {
  let s0 = 0, s1 = 0;
  let i = 0;
  for (; i + 2 <= len; i += 2) {
    s0 += x[xo + i]! * y[yo + i]!;
    s1 += x[xo + i + 1]! * y[yo + i + 1]!;
  }
  if (i < len) s0 += x[xo + i]! * y[yo + i]!;
  return s0 + s1;
}

/** Σ x_i² (the squared Frobenius norm of a matrix's data). */
export function sumSquares(x: Float64Array, len = x.length): number {
  let s0 = 0, s1 = 0;
  let i = 0;
  for (; i + 2 <= len; i += 2) { s0 += x[i]! * x[i]!; s1 += x[i + 1]! * x[i + 1]!; }
  if (i < len) s0 += x[i]! * x[i]!;
  return s0 + s1;
}

/** Σ (x_i − y_i)². */
export function frobDiffSq(x: Float64Array, y: Float64Array, len = x.length): number {
  let s = 0;
  for (let i = 0; i < len; i++) { const d = x[i]! - y[i]!; s += d * d; }
  return s;
}

/** x ← α·x. */
export function scale(x: Float64Array, alpha: number, len = x.length): void {
  for (let i = 0; i < len; i++) x[i]! *= alpha;
}

/** y ← y + α·x. */
export function axpy(alpha: number, x: Float64Array, y: Float64Array, len = x.length): void {
  for (let i = 0; i < len; i++) y[i]! += alpha * x[i]!;
}
