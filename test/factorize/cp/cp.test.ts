import { describe, expect, it } from 'vitest';
import { cp, cpReconstruct, DEFAULT_CP_OPTIONS, CP_CONSTRAINTS } from '../../../src/factorize/cp/index.js';
import { DataError, InvalidOptionError } from '../../../src/errors.js';
import { matchedCorrelation } from '../../../src/compressed/metrics.js';
import { explicitRelError, plantedCp } from './helpers.js';

const dims: [number, number, number] = [20, 15, 10];

describe('cp — exact recovery of a planted rank-3 tensor (20×15×10)', () => {
  for (const method of ['als', 'nn-hals'] as const) {
    it(`${method} reaches relative error < 1e-6 and finds the planted factors`, () => {
      const { T, factors: truth } = plantedCp(dims, 3, 1, method === 'nn-hals');
      const res = cp(T, { rank: 3, method, tol: 1e-12, maxIter: 2000, seed: 3 });
      const err = explicitRelError(T, cpReconstruct(res.factors, res.weights));
      expect(err, `${method}: explicit relative error ${err} after ${res.iterations} sweeps must be < 1e-6`).toBeLessThan(1e-6);
      const last = res.errors[res.errors.length - 1]!;
      expect(Math.abs(last - err), `${method}: cheap error ${last} agrees with the explicit ${err} to 1e-7`).toBeLessThan(1e-7);
      for (let n = 0; n < 3; n++) {
        const { mean } = matchedCorrelation(truth[n]!, res.factors[n]!);
        expect(mean, `${method}: factor ${'ABC'[n]} matched |correlation| mean ${mean} must be ≥ 0.999`).toBeGreaterThanOrEqual(0.999);
        // unit-norm columns
        const F = res.factors[n]!;
        for (let t = 0; t < 3; t++) {
          let s = 0;
          for (let i = 0; i < F.rows; i++) s += F.data[i * 3 + t]! ** 2;
          expect(s).toBeCloseTo(1, 10);
        }
      }
      if (method === 'nn-hals') {
        for (const F of res.factors) expect(Math.min(...F.data)).toBeGreaterThanOrEqual(0);
      }
      expect(res.errors.length).toBe(res.iterations + 1);
      expect(res.seconds).toBeGreaterThanOrEqual(0);
    });
  }

  it('nn-hals never increases the error', () => {
    const { T } = plantedCp(dims, 3, 2, true);
    const res = cp(T, { rank: 4, method: 'nn-hals', tol: 0, maxIter: 150, seed: 5 });
    for (let i = 1; i < res.errors.length; i++) {
      expect(res.errors[i]!, `nn-hals error rose at sweep ${i}: ${res.errors[i - 1]} → ${res.errors[i]}`)
        .toBeLessThanOrEqual(res.errors[i - 1]! * (1 + 1e-9) + 1e-12);
    }
  });

  it('projected orth-als fits a non-negative rank-3 tensor and keeps factors ≥ 0', () => {
    const { T, factors: truth } = plantedCp(dims, 3, 4, true);
    const res = cp(T, { rank: 3, method: 'orth-als', nonneg: true, tol: 1e-12, maxIter: 2000, seed: 1 });
    const err = explicitRelError(T, cpReconstruct(res.factors, res.weights));
    expect(err, `orth-als explicit relative error ${err} after ${res.iterations} sweeps must be < 1e-6`).toBeLessThan(1e-6);
    for (const F of res.factors) expect(Math.min(...F.data)).toBeGreaterThanOrEqual(0);
    for (let n = 0; n < 3; n++) {
      const { mean } = matchedCorrelation(truth[n]!, res.factors[n]!);
      expect(mean, `orth-als factor ${'ABC'[n]} matched |correlation| mean ${mean} must be ≥ 0.999`).toBeGreaterThanOrEqual(0.999);
    }
  });

  it('same seed ⇒ same result; different seed ⇒ different start', () => {
    const { T } = plantedCp([8, 7, 6], 2, 9, true);
    for (const method of ['als', 'nn-hals', 'orth-als'] as const) {
      const a = cp(T, { rank: 2, method, maxIter: 20, seed: 7 });
      const b = cp(T, { rank: 2, method, maxIter: 20, seed: 7 });
      expect(Array.from(a.weights)).toEqual(Array.from(b.weights));
      for (let n = 0; n < 3; n++) expect(Array.from(a.factors[n]!.data)).toEqual(Array.from(b.factors[n]!.data));
      expect(a.errors).toEqual(b.errors);
      const c = cp(T, { rank: 2, method, maxIter: 20, seed: 8 });
      expect(c.errors[0]).not.toBe(a.errors[0]);
    }
  });

  it('stops on tol (converged) or maxIter, and on the progress callback', () => {
    const { T } = plantedCp([8, 7, 6], 2, 9, false);
    const loose = cp(T, { rank: 2, maxIter: 500, tol: 1e-3 });
    expect(loose.converged).toBe(true);
    const capped = cp(T, { rank: 2, maxIter: 3, tol: 0 });
    expect(capped.converged).toBe(false);
    expect(capped.iterations).toBe(3);
    const seen: number[] = [];
    const stopped = cp(T, { rank: 2, maxIter: 100, tol: 0 }, (it, e) => { seen.push(e); return it === 4; });
    expect(stopped.iterations).toBe(4);
    expect(seen).toEqual(stopped.errors.slice(1));
  });
});

describe('cp — validation', () => {
  const { T } = plantedCp([4, 3, 2], 2, 1, true);

  it('defaults are frozen and every field has a constraint', () => {
    expect(Object.isFrozen(DEFAULT_CP_OPTIONS)).toBe(true);
    expect(Object.keys(CP_CONSTRAINTS).sort()).toEqual(Object.keys(DEFAULT_CP_OPTIONS).sort());
  });

  it('rejects bad options naming the option', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ rank: 0 }, /'rank'.*integer ≥ 1; got 0/],
      [{ method: 'hals' }, /'method'.*'als', 'nn-hals', 'orth-als'; got "hals"/],
      [{ tol: -1 }, /'tol'/],
      [{ maxIter: 1.5 }, /'maxIter'/],
      [{ orthSweeps: -1 }, /'orthSweeps'/],
      [{ nonneg: 1 }, /'nonneg'.*boolean/],
      [{ ridge: Number.NaN }, /'ridge'/],
      [{ seed: 0.5 }, /'seed'/],
      [{ rnak: 3 }, /'rnak'/],
    ];
    for (const [opts, msg] of bad) {
      expect(() => cp(T, opts as never)).toThrow(InvalidOptionError);
      expect(() => cp(T, opts as never)).toThrow(msg);
    }
  });

  it('rejects NaN input naming the entry, and negative input for non-negative methods', () => {
    const data = T.data.slice();
    data[(1 * 3 + 2) * 2 + 1] = Number.NaN;
    expect(() => cp({ dims: T.dims, data }, { rank: 2 })).toThrow(DataError);
    expect(() => cp({ dims: T.dims, data }, { rank: 2 })).toThrow(/entry at \(1, 2, 1\) is NaN; all entries must be finite/);
    const neg = T.data.slice();
    neg[5] = -1;
    expect(() => cp({ dims: T.dims, data: neg }, { rank: 2, method: 'nn-hals' })).toThrow(/entry at \(0, 2, 1\) is -1; all entries must be ≥ 0/);
    expect(() => cp({ dims: T.dims, data: neg }, { rank: 2, method: 'als', nonneg: true })).toThrow(DataError);
    expect(() => cp({ dims: T.dims, data: neg }, { rank: 2, method: 'als' })).not.toThrow();
    expect(() => cp({ dims: [4, 3, 3], data: T.data }, { rank: 2 })).toThrow(/4x3x3/);
  });
});
