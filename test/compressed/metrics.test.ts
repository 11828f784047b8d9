import { describe, expect, it } from 'vitest';
import {
  absPearson, matchedCorrelation, matchedError, normalizeFactors, reconstructionError, relError,
} from '../../src/compressed/metrics.js';
import { fromRows, matrix } from '../../src/linalg/matrix.js';
import { gemm } from '../../src/linalg/kernels.js';
import { Rng } from '../../src/linalg/random.js';

const randM = (r: number, c: number, seed: number) => matrix(r, c, new Rng(seed).fillNormal(new Float64Array(r * c)));

/** Permutes the columns of X by perm (new column j = old column perm[j]) and flips signs. */
function permuteCols(X: ReturnType<typeof matrix>, perm: number[], signs: number[]) {
  const out = matrix(X.rows, X.cols);
  for (let i = 0; i < X.rows; i++) for (let j = 0; j < X.cols; j++) out.data[i * X.cols + j] = signs[j]! * X.data[i * X.cols + perm[j]!]!;
  return out;
}

describe('metrics', () => {
  it('relError is ‖X−R‖/‖R‖', () => {
    expect(relError(fromRows([[1, 1]]), fromRows([[1, 0]]))).toBeCloseTo(1, 12);
    expect(relError(fromRows([[3, 4]]), fromRows([[3, 4]]))).toBe(0);
    expect(() => relError(fromRows([[1]]), fromRows([[1, 2]]))).toThrow(/relError/);
  });

  it('reconstructionError matches the dense computation (block boundary crossed)', () => {
    const W = randM(150, 3, 1), H = randM(3, 20, 2), M = randM(150, 20, 3);
    const WH = matrix(150, 20);
    gemm(W.data, H.data, 150, 3, 20, WH.data);
    expect(reconstructionError(W, H, M)).toBeCloseTo(relError(WH, M), 12);
  });

  it('normalizeFactors gives unit-norm rows of H and keeps W·H', () => {
    const W = randM(6, 2, 4), H = randM(2, 5, 5);
    const { W: Wn, H: Hn } = normalizeFactors(W, H);
    for (let c = 0; c < 2; c++) {
      let s = 0;
      for (let j = 0; j < 5; j++) s += Hn.data[c * 5 + j]! ** 2;
      expect(s).toBeCloseTo(1, 12);
    }
    const a = new Float64Array(30), b = new Float64Array(30);
    gemm(W.data, H.data, 6, 2, 5, a);
    gemm(Wn.data, Hn.data, 6, 2, 5, b);
    for (let i = 0; i < 30; i++) expect(b[i]).toBeCloseTo(a[i]!, 12);
  });

  it('matchedError is invariant to permutation and sign, and finds the permutation', () => {
    const W = randM(40, 5, 6);
    const perm = [3, 0, 4, 1, 2], signs = [1, -1, 1, -1, -1];
    const Wp = permuteCols(W, perm, signs);
    const m = matchedError(W, Wp);
    expect(m.error).toBeLessThan(1e-12);
    // true column perm[j] was moved to estimated column j
    for (let j = 0; j < 5; j++) expect(m.perm[perm[j]!]).toBe(j);
    expect(m.signs[perm[1]!]).toBe(-1);
  });

  it('matchedError equals the plain error for a small perturbation in place and beats a wrong assignment', () => {
    const W = randM(30, 4, 7);
    const E = randM(30, 4, 8);
    const Wn = matrix(30, 4, W.data.map((v, i) => v + 0.01 * E.data[i]!));
    expect(matchedError(W, Wn).error).toBeCloseTo(relError(Wn, W), 12);
  });

  it('matchedError by rows (H)', () => {
    const H = randM(3, 50, 9);
    const Hp = matrix(3, 50);
    Hp.data.set(H.data.subarray(100, 150), 0);
    Hp.data.set(H.data.subarray(0, 50), 50);
    Hp.data.set(H.data.subarray(50, 100), 100);
    expect(matchedError(H, Hp, true).error).toBeLessThan(1e-12);
  });

  it('absPearson and matchedCorrelation (mean, median, perm)', () => {
    expect(absPearson([1, 2, 3], [-2, -4, -6])).toBeCloseTo(1, 12);
    expect(absPearson([1, 1, 1], [1, 2, 3])).toBe(0);
    const X = randM(100, 3, 10);
    const Y = permuteCols(X, [2, 0, 1], [1, -1, 1]);
    const c = matchedCorrelation(X, Y);
    expect(c.mean).toBeCloseTo(1, 12);
    expect(c.median).toBeCloseTo(1, 12);
    expect(c.perm).toEqual([1, 2, 0]);
    const Z = randM(100, 3, 11);
    expect(matchedCorrelation(X, Z).mean).toBeLessThan(0.4);
  });
});
