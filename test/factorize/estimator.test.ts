import { describe, expect, it } from 'vitest';
import { NMF, SparsePCA, factorize, matrixFromJson, type NmfState, type SparsePcaState } from '../../src/factorize/estimator.js';
import { DataError, InvalidOptionError, NotFittedError, ShapeMismatchError } from '../../src/errors.js';
import { planted, relDiff } from './helpers.js';

const nn = planted(40, 60, 3, 12, 21, { noise: 0.05 });
const signed = planted(40, 60, 3, 12, 22, { nonneg: false, noise: 0.02 });
const roundTrip = <T>(s: T): T => JSON.parse(JSON.stringify(s)) as T;

describe.each([
  ['NMF', () => new NMF({ rank: 3, tol: 1e-7, maxIter: 3000 }), nn.X],
  ['NMF (pgd)', () => new NMF({ rank: 3, solver: 'pgd', maxIter: 300 }), nn.X],
  ['SparsePCA', () => new SparsePCA({ rank: 3, alpha: 0.01 }), signed.X],
] as const)('%s estimator', (name, make, X) => {
  it('fit returns the estimator itself; components are copies', () => {
    const model = make();
    expect(model.fit(X)).toBe(model);
    const a = model.components();
    a.W.data[0] = 12345;
    expect(model.components().W.data[0]).not.toBe(12345);
    expect(a.W.rows).toBe(X.rows);
    expect(a.H.cols).toBe(X.cols);
  });

  it('transform of the training data ≈ the fitted H, and never mutates the model or X', () => {
    const model = make().fit(X);
    const before = model.components();
    const Xcopy = X.data.slice();
    const H = model.transform(X);
    const tolH = name === 'NMF (pgd)' ? 5e-2 : 1e-3;
    expect(relDiff(H, before.H), `‖transform(X) − H‖/‖H‖ < ${tolH}`).toBeLessThan(tolH);
    expect(model.components()).toEqual(before);
    expect(X.data).toEqual(Xcopy);
  });

  it('state() → JSON → restore() reproduces components and transform exactly', () => {
    const model = make().fit(X);
    const state = roundTrip(model.state());
    expect(state.version).toBe(1);
    expect(Array.isArray(state.W.data)).toBe(true);
    const copy = (name === 'SparsePCA' ? new SparsePCA() : new NMF()) as ReturnType<typeof make>;
    (copy as { restore(s: unknown): unknown }).restore(state);
    expect(copy.components()).toEqual(model.components());
    expect(copy.transform(X)).toEqual(model.transform(X));
    expect(copy.options).toEqual(model.options);
  });

  it('unfitted: components, transform and state throw NotFittedError', () => {
    const model = make();
    expect(() => model.components()).toThrow(NotFittedError);
    expect(() => model.transform(X)).toThrow(NotFittedError);
    expect(() => model.state()).toThrow(NotFittedError);
  });

  it('transform checks the number of rows', () => {
    const model = make().fit(X);
    expect(() => model.transform({ rows: X.rows + 1, cols: 2, data: new Float64Array(2 * X.rows + 2) })).toThrow(ShapeMismatchError);
  });
});

describe('restore checks', () => {
  const model = new NMF({ rank: 3, maxIter: 50 }).fit(nn.X);
  const good = () => roundTrip(model.state());

  it('kind and version', () => {
    expect(() => new NMF().restore({ ...good(), version: 2 } as unknown as NmfState)).toThrow(/unsupported state version 2/);
    expect(() => new NMF().restore({ ...good(), kind: 'SparsePCA' } as unknown as NmfState)).toThrow(/state kind must be 'NMF'/);
    expect(() => new SparsePCA().restore(good() as unknown as SparsePcaState)).toThrow(DataError);
  });

  it('shapes and entries', () => {
    const s = good();
    s.W.data.pop();
    expect(() => new NMF().restore(s)).toThrow(ShapeMismatchError);
    const t = good();
    t.H = { rows: 2, cols: t.H.cols, data: t.H.data.slice(0, 2 * t.H.cols) };
    expect(() => new NMF().restore(t)).toThrow(/NMF.restore \(H\): expected shape 3x\*/);
    const u = good();
    u.W.data[4] = -1;
    expect(() => new NMF().restore(u)).toThrow(/entry 4 is negative/);
    const v = good();
    (v.W.data as unknown[])[2] = null; // what JSON makes of NaN
    expect(() => new NMF().restore(v)).toThrow(/entry 2 is null/);
  });

  it('options are validated', () => {
    const s = good();
    s.options.solver = 'mu' as 'hals';
    expect(() => new NMF().restore(s)).toThrow(InvalidOptionError);
  });

  it('matrixFromJson refuses non-matrices', () => {
    expect(() => matrixFromJson({ rows: 1 }, 'x')).toThrow(DataError);
  });
});

describe('constructors validate and freeze options', () => {
  it('NMF', () => {
    expect(() => new NMF({ rank: 0 })).toThrow(/NMF: option 'rank' must be an integer ≥ 1; got 0/);
    const given = { rank: 4 };
    const model = new NMF(given);
    expect(Object.isFrozen(model.options)).toBe(true);
    expect(given).toEqual({ rank: 4 }); // the caller's object is not written into
  });

  it('SparsePCA', () => {
    expect(() => new SparsePCA({ ridge: -1 })).toThrow(/SparsePCA: option 'ridge' must be a finite number in \[0, ∞\); got -1/);
    expect(Object.isFrozen(new SparsePCA().options)).toBe(true);
  });
});

describe('factorize', () => {
  it('nmf (HALS by default, PGD by nmfSolver) and spca', () => {
    const a = factorize(nn.X, { solver: 'nmf', rank: 3, maxIter: 40 });
    expect(a.solver).toBe('nmf');
    expect(a.W.cols).toBe(3);
    expect(a.detail).toHaveProperty('converged');
    const b = factorize(nn.X, { solver: 'nmf', nmfSolver: 'pgd', rank: 3, maxIter: 7 });
    expect(b.iterations).toBe(7);
    const c = factorize(signed.X, { solver: 'spca', rank: 3, alpha: 0.01 });
    expect(c.solver).toBe('spca');
    expect(c.error).toBeLessThan(0.1);
  });

  it('refuses an unknown method and bad options', () => {
    expect(() => factorize(nn.X, { solver: 'ica', rank: 3 } as never)).toThrow(/factorize: option 'solver' must be one of 'nmf', 'spca'; got "ica"/);
    expect(() => factorize(nn.X, { solver: 'nmf', rank: 3, nmfSolver: 'mu' as 'hals' })).toThrow(/option 'solver' must be one of 'hals', 'pgd'/);
  });
});
