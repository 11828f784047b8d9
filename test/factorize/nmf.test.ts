import { describe, expect, it } from 'vitest';
import { nmf, nmfTransform } from '../../src/factorize/nmf.js';
import { initializeNmf, nndsvdInit, randomInit } from '../../src/factorize/init.js';
import { DataError, InvalidOptionError, ShapeMismatchError } from '../../src/errors.js';
import { Rng } from '../../src/linalg/random.js';
import { matchColumns, planted, relDiff, relError } from './helpers.js';

// Exact non-negative rank-4 data: 60×80, W with 20 non-zeros per column, unit-norm rows of H.
const exact = planted(60, 80, 4, 20, 1);

describe('nmf — HALS (default solver)', () => {
  it('recovers an exactly rank-r non-negative X to relative error < 1e-4', () => {
    const res = nmf(exact.X, { rank: 4, tol: 1e-8, maxIter: 3000 });
    const err = relError(exact.X, res.W, res.H);
    expect(err, `HALS relative error ${err} after ${res.iterations} iterations must be < 1e-4`).toBeLessThan(1e-4);
    expect(res.error).toBeCloseTo(err, 6); // the Gram-identity error agrees with the naive one
    const { cosine } = matchColumns(exact.W, res.W);
    expect(Math.min(...cosine), 'every planted column of W found with cosine > 0.999').toBeGreaterThan(0.999);
    expect(Math.min(...res.W.data)).toBeGreaterThanOrEqual(0);
    expect(Math.min(...res.H.data)).toBeGreaterThanOrEqual(0);
  });

  it('never increases the error (exact coordinate minimisation), on exact and on noisy data', () => {
    const noisy = planted(50, 70, 5, 15, 2, { noise: 0.2 });
    for (const [X, r] of [[exact.X, 4], [noisy.X, 5]] as const) {
      for (const innerSweeps of [0, 1]) {
        const { errors } = nmf(X, { rank: r, tol: 0, maxIter: 150, innerSweeps });
        for (let i = 1; i < errors.length; i++) {
          expect(errors[i]!, `error rose at iteration ${i}: ${errors[i - 1]} → ${errors[i]}`).toBeLessThanOrEqual(errors[i - 1]! * (1 + 1e-12) + 1e-15);
        }
      }
    }
  });

  it('stops on the tolerance, reports convergence, and errors has iterations + 1 entries', () => {
    const noisy = planted(50, 70, 5, 15, 3, { noise: 0.2 });
    const res = nmf(noisy.X, { rank: 5, tol: 1e-3 });
    expect(res.converged).toBe(true);
    expect(res.iterations).toBeLessThan(1000);
    expect(res.errors).toHaveLength(res.iterations + 1);
    const last = res.errors.at(-1)!, prev = res.errors.at(-2)!;
    expect((prev - last) / prev).toBeLessThan(1e-3);
    expect(res.seconds).toBeGreaterThan(0);
  });

  it('revives a dead component (zero column of W and zero row of H) instead of keeping it dead', () => {
    const fit = nmf(exact.X, { rank: 4, tol: 1e-8, maxIter: 3000 });
    const W = { ...fit.W, data: fit.W.data.slice() }, H = { ...fit.H, data: fit.H.data.slice() };
    for (let i = 0; i < W.rows; i++) W.data[i * 4 + 2] = 0;
    H.data.fill(0, 2 * H.cols, 3 * H.cols);
    const res = nmf(exact.X, { rank: 4, tol: 1e-8, maxIter: 3000 }, undefined, { W, H });
    expect(res.errors[0], 'the damaged start is a rank-3 fit').toBeGreaterThan(0.1);
    expect(res.error, `error after revival ${res.error} < 1e-3`).toBeLessThan(1e-3);
  });

  it('with l1W produces a sparser W than without', () => {
    const noisy = planted(50, 70, 5, 15, 4, { noise: 0.1 });
    const zeros = (a: Float64Array) => a.filter((v) => v === 0).length;
    const plain = nmf(noisy.X, { rank: 5, maxIter: 200 });
    const sparse = nmf(noisy.X, { rank: 5, maxIter: 200, l1W: 0.05 });
    expect(zeros(sparse.W.data)).toBeGreaterThan(zeros(plain.W.data));
  });
});

describe('nmf — PGD (the paper\'s solver)', () => {
  it('decreases the error (monotonically up to 1e-9 relative) and reaches < 2e-3 in 1000 iterations', () => {
    const res = nmf(exact.X, { rank: 4, solver: 'pgd' });
    expect(res.iterations).toBe(1000); // fixed count, no tolerance
    expect(res.converged).toBe(false);
    const e = res.errors;
    for (let i = 1; i < e.length; i++) expect(e[i]!, `iteration ${i}`).toBeLessThanOrEqual(e[i - 1]! * (1 + 1e-9));
    expect(e[0]! / e.at(-1)!, 'error reduced at least 20× from the random start').toBeGreaterThan(20);
    expect(e.at(-1)!, `PGD error after 1000 iterations ${e.at(-1)} must be < 2e-3`).toBeLessThan(2e-3);
    expect(relError(exact.X, res.W, res.H)).toBeCloseTo(e.at(-1)!, 8);
  });

  it('runs exactly maxIter iterations (the paper\'s 250 on gene data)', () => {
    const res = nmf(exact.X, { rank: 4, solver: 'pgd', maxIter: 250 });
    expect(res.iterations).toBe(250);
    expect(res.errors).toHaveLength(251);
  });

  it('starts from the paper\'s random init (same W0, H0 as randomInit)', () => {
    const res = nmf(exact.X, { rank: 4, solver: 'pgd', maxIter: 1 }, () => true);
    const { W, H } = randomInit(exact.X, 4, 0);
    expect(res.errors[0]).toBeCloseTo(relError(exact.X, W, H), 10);
  });
});

describe('initialisations', () => {
  it('random: entries sqrt(mean(X)/r)·|N(0,1)|, W row-major first, then H', () => {
    const X = planted(5, 6, 2, 3, 5).X;
    const { W, H } = randomInit(X, 2, 42);
    const mean = X.data.reduce((a, b) => a + b, 0) / X.data.length;
    const c = Math.sqrt(mean / 2);
    const rng = new Rng(42);
    const expected = Array.from({ length: 5 * 2 + 2 * 6 }, () => c * Math.abs(rng.normal()));
    expect([...W.data, ...H.data]).toEqual(expected);
  });

  it('NNDSVD variants start closer than random on exactly rank-r non-negative data', () => {
    const r = 4;
    const rand = randomInit(exact.X, r, 0);
    const eRand = relError(exact.X, rand.W, rand.H);
    for (const v of ['nndsvd', 'nndsvda', 'nndsvdar'] as const) {
      const s = nndsvdInit(exact.X, r, 0, v);
      const e = relError(exact.X, s.W, s.H);
      expect(e, `${v} start error ${e} vs random ${eRand}`).toBeLessThan(eRand);
      expect(e, `${v} start error ${e}`).toBeLessThan(0.6);
      expect(Math.min(...s.W.data, ...s.H.data)).toBeGreaterThanOrEqual(0);
    }
  });

  it('nndsvd leaves exact zeros, nndsvda fills them with mean(X), nndsvdar with small positives', () => {
    const a = nndsvdInit(exact.X, 4, 0, 'nndsvd');
    const b = nndsvdInit(exact.X, 4, 0, 'nndsvda');
    const c = nndsvdInit(exact.X, 4, 0, 'nndsvdar');
    const mean = exact.X.data.reduce((s, v) => s + v, 0) / exact.X.data.length;
    const zeros = [...a.W.data].flatMap((v, i) => (v === 0 ? [i] : []));
    expect(zeros.length).toBeGreaterThan(0);
    for (const i of zeros) {
      expect(b.W.data[i]).toBe(mean);
      expect(c.W.data[i]).toBeGreaterThan(0);
      expect(c.W.data[i]).toBeLessThan(mean);
    }
  });

  it('each init gives a converging HALS fit', () => {
    for (const init of ['random', 'nndsvd', 'nndsvda', 'nndsvdar'] as const) {
      const res = nmf(exact.X, { rank: 4, init, tol: 1e-7, maxIter: 2000 });
      expect(res.error, `${init}: final error`).toBeLessThan(1e-3);
      expect(res.init).toBe(init);
    }
  });

  it('initializeNmf dispatches by name', () => {
    expect(initializeNmf(exact.X, 3, 'random', 7)).toEqual(randomInit(exact.X, 3, 7));
    expect(initializeNmf(exact.X, 3, 'nndsvda', 7)).toEqual(nndsvdInit(exact.X, 3, 7, 'nndsvda'));
  });
});

describe('determinism', () => {
  for (const solver of ['hals', 'pgd'] as const) {
    it(`${solver}: same seed ⇒ identical output; different seed ⇒ different`, () => {
      const o = { rank: 4, solver, maxIter: 50 };
      const a = nmf(exact.X, { ...o, seed: 3 });
      const b = nmf(exact.X, { ...o, seed: 3 });
      const c = nmf(exact.X, { ...o, seed: 4 });
      expect(b.W.data).toEqual(a.W.data);
      expect(b.H.data).toEqual(a.H.data);
      expect(b.errors).toEqual(a.errors);
      expect(relDiff(c.W, a.W)).toBeGreaterThan(1e-6);
    });
  }
});

describe('progress and warm start', () => {
  it('onProgress sees every iteration and returning true stops the fit', () => {
    const seen: [number, number][] = [];
    const res = nmf(exact.X, { rank: 4, tol: 0 }, (it, e) => { seen.push([it, e]); return it === 7; });
    expect(res.iterations).toBe(7);
    expect(seen.map((s) => s[0])).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(seen.map((s) => s[1])).toEqual(res.errors.slice(1));
  });

  it('a warm start from a fitted model continues from its error', () => {
    const first = nmf(exact.X, { rank: 4, maxIter: 20, tol: 0 });
    const cont = nmf(exact.X, { rank: 4, maxIter: 5, tol: 0 }, undefined, { W: first.W, H: first.H });
    expect(cont.init).toBe('start');
    expect(cont.errors[0]).toBeCloseTo(first.error, 10);
    expect(cont.error).toBeLessThanOrEqual(first.error);
    expect(() => nmf(exact.X, { rank: 4 }, undefined, { W: first.H, H: first.H })).toThrow(ShapeMismatchError);
  });
});

describe('nmfTransform', () => {
  it('solves the NNLS for new samples: recovers H exactly for exact data', () => {
    const H = nmfTransform(exact.W, exact.X);
    expect(relDiff(H, exact.H)).toBeLessThan(1e-8);
  });

  it('does not modify its inputs and checks the row count', () => {
    const W = { ...exact.W, data: exact.W.data.slice() };
    const X = { ...exact.X, data: exact.X.data.slice() };
    nmfTransform(W, X);
    expect(W.data).toEqual(exact.W.data);
    expect(X.data).toEqual(exact.X.data);
    expect(() => nmfTransform(W, planted(7, 5, 2, 3, 1).X)).toThrow(ShapeMismatchError);
  });
});

describe('input validation', () => {
  const X = () => planted(6, 8, 2, 3, 9).X;
  it('NaN / Infinity: DataError naming row and column', () => {
    const a = X(); a.data[2 * 8 + 5] = NaN;
    expect(() => nmf(a, { rank: 2 })).toThrow(DataError);
    expect(() => nmf(a, { rank: 2 })).toThrow(/nmf \(input X\): entry at row 2, column 5 is NaN/);
    const b = X(); b.data[1] = Infinity;
    expect(() => nmf(b, { rank: 2 })).toThrow(/row 0, column 1 is Infinity/);
  });

  it('negative entries: DataError naming the first one', () => {
    const a = X(); a.data[3 * 8 + 1] = -0.5; a.data[4 * 8 + 2] = -1;
    expect(() => nmf(a, { rank: 2 })).toThrow(/row 3, column 1 is -0.5; all entries must be ≥ 0/);
  });

  it('rank > min(d, m): InvalidOptionError with the limit', () => {
    expect(() => nmf(X(), { rank: 7 })).toThrow(InvalidOptionError);
    expect(() => nmf(X(), { rank: 7 })).toThrow(/nmf: option 'rank' must be an integer ≤ min\(d, m\) = 6 for X of shape 6x8; got 7/);
  });

  it('bad options: InvalidOptionError naming option, allowed values and value', () => {
    expect(() => nmf(X(), { rank: 2, solver: 'mu' as 'hals' })).toThrow(/nmf: option 'solver' must be one of 'hals', 'pgd'; got "mu"/);
    expect(() => nmf(X(), { rank: 0 })).toThrow(/option 'rank' must be an integer ≥ 1; got 0/);
    expect(() => nmf(X(), { rank: 2, tol: -1 })).toThrow(/option 'tol' must be a finite number in \[0, ∞\); got -1/);
    expect(() => nmf(X(), { rank: 2, bogus: 1 } as object)).toThrow(/option 'bogus' must be a known option/);
  });

  it('all-zero X and empty X are refused', () => {
    expect(() => nmf({ rows: 3, cols: 3, data: new Float64Array(9) }, { rank: 1 })).toThrow(/all zeros/);
    expect(() => nmf({ rows: 0, cols: 3, data: new Float64Array(0) }, { rank: 1 })).toThrow(DataError);
  });

  it('rank = min(d, m) is allowed', () => {
    const res = nmf(X(), { rank: 6, maxIter: 30 });
    expect(res.W.cols).toBe(6);
  });
});
