import { describe, expect, it } from 'vitest';
import { matchedModeCorrelation, perModeCorrelation, runEegExperiment } from '../../src/experiments/eeg.js';
import { cpReconstruct } from '../../src/factorize/cp/index.js';
import { matrix, type Matrix } from '../../src/linalg/matrix.js';
import { Rng } from '../../src/linalg/random.js';

const rng = new Rng(5);
const dense = (rows: number, r: number) => {
  const M = matrix(rows, r);
  M.data.forEach((_, i) => (M.data[i] = 0.1 + rng.uniform()));
  return M;
};
const sparse = (rows: number, r: number, k: number) => {
  const M = matrix(rows, r);
  for (let c = 0; c < r; c++) {
    const s = new Set<number>();
    while (s.size < k) s.add(rng.int(rows));
    for (const i of s) M.data[i * r + c] = 1 + rng.uniform();
  }
  return M;
};
const permuteColumns = (M: Matrix, perm: number[]) => {
  const out = matrix(M.rows, M.cols);
  for (let i = 0; i < M.rows; i++) perm.forEach((p, c) => (out.data[i * M.cols + c] = M.data[i * M.cols + p]!));
  return out;
};

describe('EEG experiment', () => {
  it('matchedModeCorrelation pairs components once for all modes', () => {
    const F: [Matrix, Matrix, Matrix] = [dense(20, 3), dense(15, 3), dense(10, 3)];
    const perm = [2, 0, 1];
    const same = matchedModeCorrelation(F, [permuteColumns(F[0], perm), permuteColumns(F[1], perm), permuteColumns(F[2], perm)]);
    expect(same.time).toBeCloseTo(1, 12);
    expect(same.frequency).toBeCloseTo(1, 12);
    expect(same.channel).toBeCloseTo(1, 12);
    // Scramble the channel factor only: the pairing stays right (time and frequency agree) and only channel drops.
    const other = dense(10, 3);
    const mixed = matchedModeCorrelation(F, [permuteColumns(F[0], perm), permuteColumns(F[1], perm), other]);
    expect(mixed.time).toBeCloseTo(1, 12);
    expect(mixed.frequency).toBeCloseTo(1, 12);
    expect(mixed.channel).toBeLessThan(0.95);
    expect(() => matchedModeCorrelation(F, [F[0], F[1], dense(9, 3)])).toThrow(/10×3/);
    // Mode by mode, a time factor permuted differently from the others still scores 1; jointly it cannot.
    const split: [Matrix, Matrix, Matrix] = [permuteColumns(F[0], [1, 2, 0]), permuteColumns(F[1], perm), permuteColumns(F[2], perm)];
    expect(perModeCorrelation(F, split).time).toBeCloseTo(1, 12);
    const joint = matchedModeCorrelation(F, split);
    expect(Math.min(joint.time, joint.frequency, joint.channel)).toBeLessThan(0.999);
  });

  it('compressing a mode whose factors are sparse: FR and RF reproduce the uncompressed model', async () => {
    // time × frequency × channel with a sparse *frequency* factor (narrow-band components).
    const r = 3;
    const F: [Matrix, Matrix, Matrix] = [dense(30, r), sparse(120, r, 4), dense(8, r)];
    const T = cpReconstruct(F);
    const res = await runEegExperiment(T, {
      rank: r, compressions: [3], rfAt: [3], mode: 'frequency', basis: 'identity', p: 5, seed: 1,
      cpMethod: 'nn-hals', maxIter: 3000, tol: 1e-12, recovery: 'lp', lift: 'factor', refit: 5,
    });
    expect(res.dims).toEqual([30, 120, 8]);
    expect(res.full.error).toBeLessThan(1e-3);
    const row = res.rows[0]!;
    expect(row.d).toBe(40);
    for (const m of [row.fr, row.rf!]) {
      expect(m.error).toBeLessThan(0.01);
      expect(Math.min(m.correlation.time, m.correlation.frequency, m.correlation.channel)).toBeGreaterThan(0.999);
      expect(Math.min(m.jointCorrelation.time, m.jointCorrelation.frequency, m.jointCorrelation.channel)).toBeGreaterThan(0.999);
    }
    expect(row.fr.seconds.recover).toBeGreaterThan(0);
  });

  it('a smooth (dense) compressed factor defeats identity recovery but not the DCT basis', async () => {
    const r = 2, n = 96;
    const A = matrix(n, r);
    for (let i = 0; i < n; i++) {
      A.data[i * r] = 2 + Math.cos((Math.PI * (i + 0.5) * 2) / n);
      A.data[i * r + 1] = 1.5 + Math.cos((Math.PI * (i + 0.5) * 5) / n);
    }
    const T = cpReconstruct([A, dense(12, r), dense(6, r)]);
    const run = (basis: 'identity' | 'dct') => runEegExperiment(T, {
      rank: r, compressions: [4], rfAt: [], mode: 'time', basis, p: 5, seed: 2,
      cpMethod: 'nn-hals', maxIter: 2000, tol: 1e-12, recovery: 'lp', lift: 'factor', refit: 0,
    });
    const [id, dct] = [await run('identity'), await run('dct')];
    expect(dct.rows[0]!.fr.error).toBeLessThan(0.01);
    expect(id.rows[0]!.fr.error).toBeGreaterThan(0.1);
    expect(dct.rows[0]!.rf).toBeNull();
  });
});
