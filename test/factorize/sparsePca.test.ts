import { describe, expect, it } from 'vitest';
import { sparsePca, sparsePcaPath, sparsePcaTransform } from '../../src/factorize/sparsePca.js';
import { DataError, InvalidOptionError } from '../../src/errors.js';
import type { Matrix } from '../../src/linalg/matrix.js';
import { truncatedSvd } from '../../src/linalg/small.js';
import { matchColumns, planted, relDiff, relError } from './helpers.js';

// Signed planted model: W 60×4 with 10 non-zeros per column, unit-norm Gaussian rows of H, 2% noise.
const p = planted(60, 200, 4, 10, 11, { nonneg: false, noise: 0.02 });

/** Support agreement after matching columns: true zeros kept exactly 0, true non-zeros kept non-zero. */
function support(W: Matrix, West: Matrix): { zeros: number; kept: number } {
  const { index } = matchColumns(W, West);
  let z = 0, zt = 0, nz = 0, nzt = 0;
  for (let t = 0; t < W.cols; t++) for (let i = 0; i < W.rows; i++) {
    const tv = W.data[i * W.cols + t]!, ev = West.data[i * West.cols + index[t]!]!;
    if (tv === 0) { zt++; if (ev === 0) z++; } else { nzt++; if (ev !== 0) nz++; }
  }
  return { zeros: z / zt, kept: nz / nzt };
}

/** Orthogonal projector onto the column span of A (d×r), as a d×d Float64Array. */
function projector(A: Matrix): Float64Array {
  const { rows: d, cols: r } = A;
  const Q = A.data.slice();
  for (let c = 0; c < r; c++) {
    for (let q = 0; q < c; q++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += Q[i * r + q]! * Q[i * r + c]!;
      for (let i = 0; i < d; i++) Q[i * r + c]! -= s * Q[i * r + q]!;
    }
    let n = 0;
    for (let i = 0; i < d; i++) n += Q[i * r + c]! ** 2;
    for (let i = 0; i < d; i++) Q[i * r + c]! /= Math.sqrt(n);
  }
  const P = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
    let s = 0;
    for (let c = 0; c < r; c++) s += Q[i * r + c]! * Q[j * r + c]!;
    P[i * d + j] = s;
  }
  return P;
}

describe('sparsePca', () => {
  it('recovers the planted signed sparse W: support and values (alpha = 0.01)', () => {
    const res = sparsePca(p.X, { rank: 4, alpha: 0.01 });
    const { cosine } = matchColumns(p.W, res.W);
    const s = support(p.W, res.W);
    expect(Math.min(...cosine.map(Math.abs)), 'every planted column found with |cosine| > 0.99').toBeGreaterThan(0.99);
    expect(s.zeros, 'fraction of true zeros that are exact zeros ≥ 0.95').toBeGreaterThanOrEqual(0.95);
    expect(s.kept, 'fraction of true non-zeros kept ≥ 0.9').toBeGreaterThanOrEqual(0.9);
    expect(res.error, `relative error ${res.error} < 0.05 (noise is 0.02)`).toBeLessThan(0.05);
    expect(res.lambda).toBeCloseTo(0.01 * res.lambdaRef, 12);
    expect(res.converged).toBe(true);
  });

  it('alpha = 0 reduces to PCA: same subspace and error as the top-r SVD (from a random start)', () => {
    const r = 4;
    const res = sparsePca(p.X, { rank: r, alpha: 0, init: 'random', tol: 1e-12, maxIter: 2000 });
    const { U, s, V } = truncatedSvd(p.X, r, 0, 8);
    const PW = projector(res.W), PU = projector(U);
    expect(relDiff(PW, PU), '‖P_W − P_U‖/‖P_U‖ < 1e-4').toBeLessThan(1e-4);
    const US = { rows: U.rows, cols: r, data: U.data.map((v, i) => v * s[i % r]!) };
    const Vt = { rows: r, cols: V.rows, data: new Float64Array(r * V.rows) };
    for (let j = 0; j < V.rows; j++) for (let t = 0; t < r; t++) Vt.data[t * V.rows + j] = V.data[j * r + t]!;
    expect(res.error).toBeCloseTo(relError(p.X, US, Vt), 6);
    expect(res.sparsity).toBe(0);
  });

  it('alpha ≥ 1 gives W = 0 (λ ≥ max row norm ≥ |X Hᵀ|)', () => {
    const res = sparsePca(p.X, { rank: 4, alpha: 1 });
    expect(res.sparsity).toBe(1);
  });

  it('the objective ½‖X − WH‖² + λ‖W‖₁ never increases', () => {
    const res = sparsePca(p.X, { rank: 4, alpha: 0.02, init: 'random', tol: 0, maxIter: 100 });
    const o = res.objective;
    expect(o).toHaveLength(res.iterations + 1);
    for (let i = 1; i < o.length; i++) expect(o[i]!, `iteration ${i}`).toBeLessThanOrEqual(o[i - 1]! * (1 + 1e-12));
  });

  it('the returned H is the ridge refit (= transform of X); refitH: false returns unit-ball rows', () => {
    const a = sparsePca(p.X, { rank: 4, alpha: 0.01 });
    expect(relDiff(a.H, sparsePcaTransform(a.W, p.X, 1e-6))).toBeLessThan(1e-12);
    const b = sparsePca(p.X, { rank: 4, alpha: 0.01, refitH: false });
    for (let t = 0; t < 4; t++) {
      let n = 0;
      for (let j = 0; j < b.H.cols; j++) n += b.H.data[t * b.H.cols + j]! ** 2;
      expect(Math.sqrt(n)).toBeLessThanOrEqual(1 + 1e-12);
    }
    expect(a.error).toBeLessThanOrEqual(b.error + 1e-12); // least squares can only lower the error
  });

  it('same seed ⇒ identical; different seed (random start) ⇒ different', () => {
    const o = { rank: 4, alpha: 0.01, init: 'random' as const, maxIter: 20 };
    const a = sparsePca(p.X, { ...o, seed: 1 }), b = sparsePca(p.X, { ...o, seed: 1 }), c = sparsePca(p.X, { ...o, seed: 2 });
    expect(b.W.data).toEqual(a.W.data);
    expect(b.H.data).toEqual(a.H.data);
    expect(relDiff(c.W, a.W)).toBeGreaterThan(1e-6);
  });

  it('onProgress can stop the fit', () => {
    const res = sparsePca(p.X, { rank: 4, alpha: 0.01, init: 'random', tol: 0 }, (it) => it === 3);
    expect(res.iterations).toBe(3);
  });
});

describe('sparsePcaPath', () => {
  const alphas = [0.03, 0, 0.01, 0.3];
  const path = sparsePcaPath(p.X, alphas, { rank: 4 });

  it('returns one result per alpha in the caller\'s order, λ = alpha·lambdaRef', () => {
    expect(path.alphas).toEqual(alphas);
    path.results.forEach((res, i) => {
      expect(res.alpha).toBe(alphas[i]);
      expect(res.lambda).toBeCloseTo(alphas[i]! * res.lambdaRef, 12);
    });
  });

  it('sparsity grows and training error grows with alpha', () => {
    const byAlpha = [...path.results].sort((a, b) => a.alpha - b.alpha);
    for (let i = 1; i < byAlpha.length; i++) {
      expect(byAlpha[i]!.sparsity).toBeGreaterThanOrEqual(byAlpha[i - 1]!.sparsity);
      expect(byAlpha[i]!.error).toBeGreaterThanOrEqual(byAlpha[i - 1]!.error - 1e-9);
    }
  });

  it('the fit at each alpha is good: alpha = 0.01 recovers the support', () => {
    const s = support(p.W, path.results[2]!.W);
    expect(s.zeros).toBeGreaterThanOrEqual(0.95);
    expect(s.kept).toBeGreaterThanOrEqual(0.9);
  });

  it('does not depend on the order of the grid; a one-alpha path equals sparsePca', () => {
    const again = sparsePcaPath(p.X, [0.3, 0.01, 0, 0.03], { rank: 4 });
    expect(again.results[1]!.W.data).toEqual(path.results[2]!.W.data);
    const one = sparsePcaPath(p.X, [0.02], { rank: 4 }).results[0]!;
    expect(one.W.data).toEqual(sparsePca(p.X, { rank: 4, alpha: 0.02 }).W.data);
  });

  it('rejects a bad grid', () => {
    expect(() => sparsePcaPath(p.X, [])).toThrow(InvalidOptionError);
    expect(() => sparsePcaPath(p.X, [0.1, -1], { rank: 4 })).toThrow(/option 'alphas\[1\]' must be a finite number ≥ 0; got -1/);
  });
});

describe('sparsePca input validation', () => {
  it('accepts signed data but refuses NaN, naming the entry', () => {
    const X = { ...p.X, data: p.X.data.slice() };
    X.data[5 * 200 + 7] = NaN;
    expect(() => sparsePca(X, { rank: 4 })).toThrow(DataError);
    expect(() => sparsePca(X, { rank: 4 })).toThrow(/sparsePca \(input X\): entry at row 5, column 7 is NaN/);
  });

  it('rank > min(d, m) and bad options are refused', () => {
    expect(() => sparsePca(p.X, { rank: 61 })).toThrow(/option 'rank' must be an integer ≤ min\(d, m\) = 60/);
    expect(() => sparsePca(p.X, { alpha: -0.1 })).toThrow(/option 'alpha' must be a finite number in \[0, ∞\); got -0.1/);
    expect(() => sparsePca(p.X, { init: 'pca' as 'svd' })).toThrow(/option 'init' must be one of 'svd', 'random'/);
    expect(() => sparsePca(p.X, { refitH: 1 as unknown as boolean })).toThrow(/option 'refitH' must be a boolean; got 1/);
  });
});
