import { describe, expect, it } from 'vitest';
import {
  axpy, dot, frobDiffSq, gemm, gemmNT, gemmTN, gramCols, gramRows, scale, sumSquares,
} from '../../src/linalg/kernels.js';
import { Rng } from '../../src/linalg/random.js';

const rand = (len: number, seed: number) => new Rng(seed).fillNormal(new Float64Array(len));
/** Naive reference: C = op(A)·op(B) with explicit index functions. */
function naive(m: number, n: number, k: number, a: (i: number, p: number) => number, b: (p: number, j: number) => number) {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += a(i, p) * b(p, j);
    c[i * n + j] = s;
  }
  return c;
}
function expectClose(x: Float64Array, y: Float64Array, tol = 1e-10) {
  expect(x.length).toBe(y.length);
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
  expect(worst, `max abs difference ${worst}`).toBeLessThan(tol);
}

// Odd sizes exercise the remainder paths of the 4-row and 2×2 blocks.
const shapes: [number, number, number][] = [[1, 1, 1], [3, 5, 2], [4, 4, 4], [7, 9, 6], [10, 3, 13]];

describe('dense kernels vs naive reference', () => {
  for (const [m, k, n] of shapes) {
    it(`gemm / gemmTN / gemmNT at m=${m} k=${k} n=${n}`, () => {
      const A = rand(m * k, 1), B = rand(k * n, 2);
      const C = new Float64Array(m * n);
      gemm(A, B, m, k, n, C);
      expectClose(C, naive(m, n, k, (i, p) => A[i * k + p]!, (p, j) => B[p * n + j]!));

      const At = rand(k * m, 3); // k×m, used as Aᵀ
      gemmTN(At, B, k, m, n, C);
      expectClose(C, naive(m, n, k, (i, p) => At[p * m + i]!, (p, j) => B[p * n + j]!));

      const Bt = rand(n * k, 4); // n×k, used as Bᵀ
      gemmNT(A, Bt, m, k, n, C);
      expectClose(C, naive(m, n, k, (i, p) => A[i * k + p]!, (p, j) => Bt[j * k + p]!));
    });
  }

  it('beta accumulates into C for all three products', () => {
    const m = 5, k = 3, n = 6;
    const A = rand(m * k, 5), B = rand(k * n, 6), C0 = rand(m * n, 7);
    const ref = naive(m, n, k, (i, p) => A[i * k + p]!, (p, j) => B[p * n + j]!);
    for (let i = 0; i < ref.length; i++) ref[i]! += 0.5 * C0[i]!;
    const C = C0.slice();
    gemm(A, B, m, k, n, C, 0.5);
    expectClose(C, ref);
    const Bt = new Float64Array(n * k);
    for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) Bt[j * k + p] = B[p * n + j]!;
    const C2 = C0.slice();
    gemmNT(A, Bt, m, k, n, C2, 0.5);
    expectClose(C2, ref);
    const At = new Float64Array(k * m);
    for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) At[p * m + i] = A[i * k + p]!;
    const C3 = C0.slice();
    gemmTN(At, B, k, m, n, C3, 0.5);
    expectClose(C3, ref);
  });

  it('gramRows = A·Aᵀ and gramCols = Aᵀ·A', () => {
    const m = 7, k = 5;
    const A = rand(m * k, 8);
    const G = new Float64Array(m * m);
    gramRows(A, m, k, G);
    expectClose(G, naive(m, m, k, (i, p) => A[i * k + p]!, (p, j) => A[j * k + p]!));
    const G2 = new Float64Array(k * k);
    gramCols(A, m, k, G2);
    expectClose(G2, naive(k, k, m, (i, p) => A[p * k + i]!, (p, j) => A[p * k + j]!));
  });

  it('vector helpers', () => {
    const x = new Float64Array([1, 2, 3]), y = new Float64Array([4, -5, 6]);
    expect(dot(x, y)).toBe(12);
    expect(dot(x, y, 2, 1, 1)).toBe(2 * -5 + 3 * 6);
    expect(sumSquares(x)).toBe(14);
    expect(frobDiffSq(x, y)).toBe(9 + 49 + 9);
    const z = x.slice(); scale(z, 2); expect(Array.from(z)).toEqual([2, 4, 6]);
    axpy(-1, x, z); expect(Array.from(z)).toEqual([1, 2, 3]);
  });
});
