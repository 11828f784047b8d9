import { describe, expect, it } from 'vitest';
import { cholesky, choleskySolve, truncatedSvd } from '../../src/linalg/small.js';
import { gemm, gemmNT } from '../../src/linalg/kernels.js';
import { Rng } from '../../src/linalg/random.js';

describe('small decompositions', () => {
  it('cholesky solves an SPD system', () => {
    const n = 6, rng = new Rng(1);
    const B = rng.fillNormal(new Float64Array(n * n));
    const A = new Float64Array(n * n);
    gemmNT(B, B, n, n, n, A);
    for (let i = 0; i < n; i++) A[i * n + i]! += 1;
    const x = rng.fillNormal(new Float64Array(n));
    const b = new Float64Array(n);
    gemm(A, x, n, n, 1, b);
    const L = A.slice();
    expect(cholesky(L, n)).toBe(true);
    choleskySolve(L, n, b);
    for (let i = 0; i < n; i++) expect(b[i]).toBeCloseTo(x[i]!, 9);
  });

  it('cholesky reports a matrix that is not positive definite', () => {
    expect(cholesky(new Float64Array([1, 2, 2, 1]), 2)).toBe(false);
  });

  it('truncatedSvd reproduces an exactly rank-3 matrix and orders singular values', () => {
    const m = 40, n = 30, r = 3, rng = new Rng(5);
    const U = rng.fillNormal(new Float64Array(m * r)), V = rng.fillNormal(new Float64Array(r * n));
    const A = new Float64Array(m * n);
    gemm(U, V, m, r, n, A);
    const svd = truncatedSvd({ rows: m, cols: n, data: A }, r, 7);
    expect(svd.s.length).toBe(3);
    expect(svd.s[0]! >= svd.s[1]! && svd.s[1]! >= svd.s[2]!).toBe(true);
    // Rebuild U·diag(s)·Vᵀ.
    const US = svd.U.data.slice();
    for (let i = 0; i < m; i++) for (let c = 0; c < r; c++) US[i * r + c]! *= svd.s[c]!;
    const R = new Float64Array(m * n);
    gemmNT(US, svd.V.data, m, r, n, R);
    let err = 0, nrm = 0;
    for (let i = 0; i < A.length; i++) { err += (R[i]! - A[i]!) ** 2; nrm += A[i]! ** 2; }
    expect(Math.sqrt(err / nrm)).toBeLessThan(1e-10);
  });
});
