import { describe, expect, it } from 'vitest';
import { matrix, type Matrix } from '../../src/linalg/matrix.js';
import { Rng } from '../../src/linalg/random.js';
import { makeProjection, type Projection } from '../../src/sensing/index.js';
import {
  DEFAULT_HIGHS_OPTIONS, recoverColumns, solveBasisPursuitLP, type FastStats, type RecoveryResult,
} from '../../src/recovery/index.js';
import { col, planted } from './helpers.js';

// The non-sparse regime: the basis-pursuit solution has ~d non-zeros (noisy y, or a signal that is
// not sparse). The fast solver must still return a BP optimum: ℓ1 norm within 1e-4 of the LP's
// and P x = y to the fit tolerance (1e-9·||y||).

const statsOf = (r: RecoveryResult): FastStats[] =>
  r.columns.map((c) => {
    if (c.method !== 'fast') throw new Error('expected fast stats');
    return c.stats;
  });

const l1 = (v: Float64Array): number => v.reduce((a, b) => a + Math.abs(b), 0);

/** ||P x − y|| / ||y|| for column c. */
function residual(P: Projection, W: Matrix, Y: Matrix, c: number): number {
  const y = col(Y, c);
  const px = P.apply(col(W, c));
  let e = 0, s = 0;
  for (let i = 0; i < y.length; i++) { e += (px[i]! - y[i]!) ** 2; s += y[i]! ** 2; }
  return Math.sqrt(e / s);
}

/** Fast vs LP on every column: equal ℓ1 (1e-4 relative) and an exact fit. */
function expectBpOptimal(P: Projection, Y: Matrix, fast: RecoveryResult, lp: RecoveryResult): void {
  for (let c = 0; c < Y.cols; c++) {
    const ratio = l1(col(fast.W, c)) / l1(col(lp.W, c));
    expect(Math.abs(ratio - 1), `column ${c}: ℓ1 fast/LP = ${ratio}`).toBeLessThan(1e-4);
    expect(residual(P, fast.W, Y, c), `column ${c}`).toBeLessThan(1e-9);
  }
}

describe('non-sparse basis pursuit: the fast solver returns an LP optimum', () => {
  // Measured: ℓ1 fast/LP − 1 ≤ 5e-5, supports ~145 of d = 120 rows (min-norm refit), ~0.1 s.
  const noisy = planted({ n: 400, d: 120, k: 8, r: 3, seed: 71, noise: 0.05 });

  it('noisy planted columns (BP support ≈ d): ℓ1 within 1e-4 of the LP, P x = y, feasible refit', async () => {
    const lp = await recoverColumns(noisy.P, noisy.Wc, { method: 'lp' });
    const fast = await recoverColumns(noisy.P, noisy.Wc);
    expectBpOptimal(noisy.P, noisy.Wc, fast, lp);
    const stats = statsOf(fast);
    expect(stats.every((s) => s.stopReason === 'refit-converged' && !s.certified && s.refitIterations > 0)).toBe(true);
    expect(Math.min(...stats.map((s) => s.support))).toBeGreaterThan(120 / 2);
  });

  it('warm-started from its own answer it stays an LP optimum, in far fewer sweeps', async () => {
    const lp = await recoverColumns(noisy.P, noisy.Wc, { method: 'lp' });
    const cold = await recoverColumns(noisy.P, noisy.Wc);
    const warm = await recoverColumns(noisy.P, noisy.Wc, { warmStart: cold.W });
    expectBpOptimal(noisy.P, noisy.Wc, warm, lp);
    const sweeps = (r: RecoveryResult): number => statsOf(r).reduce((a, s) => a + s.sweeps, 0);
    expect(sweeps(warm)).toBeLessThan(0.1 * sweeps(cold));
  });

  it('y ≥ 0 outside the cone {P x : x ≥ 0} (clipped noisy data): the cone attempt gives up, the path still matches', async () => {
    const p = planted({ n: 400, d: 120, k: 8, r: 2, seed: 81, nonneg: true, noise: 0.05 });
    for (let i = 0; i < p.Wc.data.length; i++) p.Wc.data[i] = Math.max(0, p.Wc.data[i]!);
    const lp = await recoverColumns(p.P, p.Wc, { method: 'lp' });
    const fast = await recoverColumns(p.P, p.Wc);
    expectBpOptimal(p.P, p.Wc, fast, lp);
    // The path ran over all columns (the zero-row screening is only for the x ≥ 0 attempt).
    expect(statsOf(fast).every((s) => s.stopReason === 'refit-converged' && s.candidates === 400)).toBe(true);
  });
});

describe('dense non-negative signals: y = P w with w > 0 everywhere (the cone case)', () => {
  const n = 400, d = 120, p = 5;
  const P = makeProjection({ ensemble: 'sparse-binary', n, d, p, seed: 72 });
  const rng = new Rng(73);
  const W = matrix(n, 3, new Float64Array(n * 3).map(() => 0.1 + Math.abs(rng.normal())));
  const Y = P.applyColumns(W);

  it('coneNnls: signed recovery certified without the path; ℓ1 = 1ᵀy/p = the LP optimum', async () => {
    const lp = await recoverColumns(P, Y, { method: 'lp' });
    const fast = await recoverColumns(P, Y, { coneNnls: true });
    expectBpOptimal(P, Y, fast, lp);
    for (let c = 0; c < 3; c++) {
      const x = col(fast.W, c), bound = col(Y, c).reduce((a, b) => a + b, 0) / p;
      expect(Math.min(...x)).toBeGreaterThanOrEqual(0);
      expect(Math.abs(l1(x) / bound - 1)).toBeLessThan(1e-9);
    }
    const stats = statsOf(fast);
    expect(stats.every((s) => s.certified && s.stopReason === 'certified' && s.pathSteps === 0)).toBe(true);
    // The solution is far from unique; any exact x ≥ 0 is optimal, and the one found is not sparse.
    expect(Math.min(...stats.map((s) => s.support))).toBeGreaterThan(d);
  });

  it('coneNnls: nonneg recovery and warm starts take the same shortcut', async () => {
    const nn = await recoverColumns(P, Y, { nonneg: true, coneNnls: true });
    expect(statsOf(nn).every((s) => s.certified && s.pathSteps === 0)).toBe(true);
    const warm = await recoverColumns(P, Y, { warmStart: nn.W, coneNnls: true });
    expect(statsOf(warm).every((s) => s.certified)).toBe(true);
    for (let c = 0; c < 3; c++) expect(residual(P, warm.W, Y, c)).toBeLessThan(1e-9);
  });

  it('default (no coneNnls): the path still reaches the LP optimum', async () => {
    const lp = await recoverColumns(P, Y, { method: 'lp' });
    const path = await recoverColumns(P, Y);
    for (let c = 0; c < 3; c++) {
      const bound = col(Y, c).reduce((a, b) => a + b, 0) / p;
      expect(Math.abs(l1(col(path.W, c)) / l1(col(lp.W, c)) - 1), `column ${c}: ℓ1 vs LP`).toBeLessThan(1e-4);
      expect(Math.abs(l1(col(path.W, c)) / bound - 1)).toBeLessThan(1e-4);
      expect(residual(P, path.W, Y, c)).toBeLessThan(1e-6);
    }
  });
});

describe('LP defaults', () => {
  it('interior point + crossover (the default) and dual simplex reach the same optimal vertex objective', async () => {
    expect(DEFAULT_HIGHS_OPTIONS).toMatchObject({ solver: 'ipm', run_crossover: 'on' });
    const { P, Wc } = planted({ n: 300, d: 90, k: 6, r: 1, seed: 74, noise: 0.05 });
    const y = col(Wc, 0);
    const ipm = await solveBasisPursuitLP(P, y);
    const simplex = await solveBasisPursuitLP(P, y, { highsOptions: { solver: 'simplex', presolve: 'on' } });
    expect(ipm.status).toBe('optimal');
    expect(simplex.status).toBe('optimal');
    expect(Math.abs(l1(ipm.x) / l1(simplex.x) - 1)).toBeLessThan(1e-9);
    // Crossover returns a basic solution: at most d non-zeros, like simplex.
    expect(ipm.x.filter((v) => v !== 0).length).toBeLessThanOrEqual(90);
  });
});
