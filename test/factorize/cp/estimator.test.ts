import { describe, expect, it } from 'vitest';
import { DataError, InvalidOptionError, NotFittedError } from '../../../src/errors.js';
import { CP } from '../../../src/factorize/index.js';
import { cpReconstruct } from '../../../src/factorize/cp/index.js';
import { matchedCorrelation } from '../../../src/compressed/metrics.js';
import { matrix } from '../../../src/linalg/matrix.js';
import { Rng } from '../../../src/linalg/random.js';

function planted(I: number, J: number, K: number, r: number, seed: number) {
  const rng = new Rng(seed);
  const F = [matrix(I, r), matrix(J, r), matrix(K, r)] as const;
  for (const M of F) M.data.forEach((_, i) => (M.data[i] = 0.1 + rng.uniform()));
  return { F, T: cpReconstruct([F[0], F[1], F[2]]) };
}

describe('CP estimator', () => {
  const { F, T } = planted(30, 12, 9, 3, 11);

  it('fits a planted non-negative tensor; components are copies with unit-norm columns', () => {
    const model = new CP({ rank: 3, method: 'nn-hals', maxIter: 3000, tol: 1e-12, seed: 1 }).fit(T);
    expect(model.score(T)).toBeLessThan(1e-3);
    const c = model.components();
    for (let n = 0; n < 3; n++) expect(matchedCorrelation(F[n]!, c.factors[n]!).mean).toBeGreaterThan(0.999);
    c.factors[0].data.fill(0);
    expect(model.components().factors[0].data.some((v) => v !== 0)).toBe(true);
    expect(model.iterations).toBeGreaterThan(0);
    expect(model.errors.at(-1)).toBeLessThan(1e-3);
  });

  it('transform gives the mode-1 rows of new slices with B, C fixed (weights folded in)', () => {
    const model = new CP({ rank: 3, method: 'nn-hals', maxIter: 3000, tol: 1e-12, seed: 1 }).fit(T);
    // New slices from new mode-1 rows under the same B, C.
    const { F: G } = planted(7, 12, 9, 3, 99);
    const Anew = G[0];
    const Tnew = cpReconstruct([Anew, F[1], F[2]]);
    const Ahat = model.transform(Tnew);
    expect([Ahat.rows, Ahat.cols]).toEqual([7, 3]);
    const { weights, factors } = model.components();
    const fitted = cpReconstruct([Ahat, factors[1], factors[2]]);
    let e = 0, nt = 0;
    for (let i = 0; i < fitted.data.length; i++) { e += (fitted.data[i]! - Tnew.data[i]!) ** 2; nt += Tnew.data[i]! ** 2; }
    expect(Math.sqrt(e / nt)).toBeLessThan(1e-3);
    expect(Ahat.data.every((v) => v >= 0)).toBe(true);
    expect(weights.length).toBe(3);
    expect(() => model.transform({ dims: [2, 11, 9], data: new Float64Array(198) })).toThrow(/I'×12×9/);
  });

  it('state → JSON → restore reproduces the model and checks what it reads', () => {
    const model = new CP({ rank: 3, method: 'nn-hals', maxIter: 200, seed: 2 }).fit(T);
    const json = JSON.parse(JSON.stringify(model.state()));
    const copy = new CP().restore(json);
    expect(copy.score(T)).toBeCloseTo(model.score(T), 12);
    expect(copy.options.rank).toBe(3);
    expect(() => new CP().restore({ ...json, kind: 'NMF' })).toThrow(/kind must be 'CP'/);
    expect(() => new CP().restore({ ...json, version: 2 })).toThrow(/version 2/);
    expect(() => new CP().restore({ ...json, weights: [1, 2] })).toThrow(/weights must be 3/);
    const neg = JSON.parse(JSON.stringify(json));
    neg.factors[1].data[4] = -1;
    expect(() => new CP().restore(neg)).toThrow(DataError);
    expect(() => new CP().restore(neg)).toThrow(/factor B/);
  });

  it('validates options up front and refuses to answer before fit', () => {
    expect(() => new CP({ rank: 0 })).toThrow(InvalidOptionError);
    expect(() => new CP({ method: 'mu' as never })).toThrow(/'CP'|CP/);
    expect(() => new CP().components()).toThrow(NotFittedError);
    expect(() => new CP().transform(T)).toThrow(NotFittedError);
    expect(() => new CP({ rank: 2 }).fit({ dims: [0, 3, 3], data: new Float64Array(0) })).toThrow(/integers ≥ 1/);
  });
});
