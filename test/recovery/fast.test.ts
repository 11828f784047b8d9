import { describe, expect, it } from 'vitest';
import { matrix } from '../../src/linalg/matrix.js';
import {
  columnMatrixOf, DEFAULT_RECOVERY_OPTIONS, fastOptionsOf, recoverColumns, recoverVector, resolveRecoveryOptions,
  solveFast, solveLasso, type FastStats, type RecoveryOptions,
} from '../../src/recovery/index.js';
import { col, planted, relErr, supportOf } from './helpers.js';

const statsOf = (r: Awaited<ReturnType<typeof recoverColumns>>): FastStats[] =>
  r.columns.map((c) => {
    if (c.method !== 'fast') throw new Error('expected fast stats');
    return c.stats;
  });

/** Recovers with both methods and checks: LP exact, fast = LP (support, values), fast certified. */
async function agreeWithLp(p: ReturnType<typeof planted>, opts: RecoveryOptions): Promise<void> {
  const lp = await recoverColumns(p.P, p.Wc, { ...opts, method: 'lp' });
  const fast = await recoverColumns(p.P, p.Wc, { ...opts, method: 'fast' });
  for (let c = 0; c < p.W.cols; c++) {
    const truth = col(p.W, c), xl = col(lp.W, c), xf = col(fast.W, c);
    expect(relErr(xl, truth), `LP exact on column ${c}`).toBeLessThan(1e-8);
    expect(supportOf(xf), `support of column ${c}`).toEqual(supportOf(xl));
    expect(relErr(xf, xl), `fast vs LP, column ${c}`).toBeLessThan(1e-6);
  }
  expect(statsOf(fast).every((s) => s.certified)).toBe(true);
}

describe('fast recovery agrees with the HiGHS LP where the LP recovers exactly', () => {
  it('sparse-binary P, signed (n=400, d=120, p=5, k=8, 6 columns)', async () => {
    await agreeWithLp(planted({ n: 400, d: 120, k: 8, r: 6, seed: 31 }), {});
  });

  it('sparse-binary P, non-negative (screening on and off give the same x)', async () => {
    const p = planted({ n: 400, d: 120, k: 8, r: 6, seed: 32, nonneg: true });
    await agreeWithLp(p, { nonneg: true });
    const on = await recoverColumns(p.P, p.Wc, { nonneg: true });
    const off = await recoverColumns(p.P, p.Wc, { nonneg: true, screening: false });
    expect(relErr(off.W.data, on.W.data)).toBeLessThan(1e-9);
    expect(Math.max(...statsOf(on).map((s) => s.candidates))).toBeLessThan(400 / 2);
    expect(statsOf(off).every((s) => s.candidates === 400)).toBe(true);
  });

  it('dense Gaussian P, signed and non-negative', async () => {
    await agreeWithLp(planted({ n: 300, d: 90, k: 6, r: 3, seed: 33, ensemble: 'gaussian' }), {});
    await agreeWithLp(planted({ n: 300, d: 90, k: 6, r: 3, seed: 34, ensemble: 'gaussian', nonneg: true }), { nonneg: true });
  });

  it('a larger instance (n=2000, d=400, p=5, k=40) is certified with the exact answer', async () => {
    const p = planted({ n: 2000, d: 400, k: 40, r: 2, seed: 35 });
    const fast = await recoverColumns(p.P, p.Wc);
    expect(relErr(fast.W.data, p.W.data)).toBeLessThan(1e-10);
    expect(statsOf(fast).map((s) => s.stopReason)).toEqual(['certified', 'certified']);
  });
});

describe('warm starts', () => {
  const p = planted({ n: 400, d: 120, k: 8, r: 4, seed: 41 });

  it('from the answer itself: same x; Fuchs certifies it with zero sweeps, else one λ step does', async () => {
    const cold = await recoverColumns(p.P, p.Wc);
    const warm = await recoverColumns(p.P, p.Wc, { warmStart: cold.W });
    expect(relErr(warm.W.data, cold.W.data)).toBeLessThan(1e-12);
    const ws = statsOf(warm), cs = statsOf(cold);
    expect(ws.every((s) => s.certified)).toBe(true);
    // Column 3's optimum has no min-norm (Fuchs) dual certificate; the lasso dual finds one.
    expect(ws.map((s) => s.stopReason)).toEqual(['warm-certified', 'warm-certified', 'warm-certified', 'certified']);
    expect(ws.map((s) => s.sweeps).slice(0, 3)).toEqual([0, 0, 0]);
    expect(ws[3]!.pathSteps).toBe(1);
    expect(ws[3]!.sweeps).toBeLessThan(cs[3]!.sweeps);
  });

  it('from a perturbed answer (values off by 20%, one non-zero dropped): same x, fewer sweeps', async () => {
    const cold = await recoverColumns(p.P, p.Wc);
    const x0 = matrix(p.W.rows, p.W.cols, cold.W.data.map((v) => v * 1.2));
    for (let c = 0; c < p.W.cols; c++) x0.data[supportOf(col(cold.W, c))[0]! * p.W.cols + c] = 0;
    const warm = await recoverColumns(p.P, p.Wc, { warmStart: x0 });
    expect(relErr(warm.W.data, cold.W.data)).toBeLessThan(1e-9);
    const sweeps = (s: FastStats[]): number => s.reduce((a, b) => a + b.sweeps, 0);
    expect(sweeps(statsOf(warm))).toBeLessThan(sweeps(statsOf(cold)));
    expect(statsOf(warm).every((s) => s.certified)).toBe(true);
  });

  it('recoverVector takes an n×1 warm start', async () => {
    const y = col(p.Wc, 0);
    const cold = await recoverVector(p.P, y);
    const warm = await recoverVector(p.P, y, { warmStart: matrix(400, 1, cold.x) });
    expect(relErr(warm.x, cold.x)).toBeLessThan(1e-12);
    expect(warm.report.method === 'fast' && warm.report.stats.sweeps).toBe(0);
  });
});

describe('nonneg with sparse-binary P: the ℓ1 penalty is a shift of y (1ᵀx = 1ᵀPx/p)', () => {
  const { P, Wc } = planted({ n: 200, d: 60, k: 10, r: 1, seed: 51, nonneg: true, p: 4, noise: 0.3 });
  const A = columnMatrixOf(P);
  const o = { ...fastOptionsOf(resolveRecoveryOptions({ nonneg: true })), tolerance: 1e-12 };
  const y = col(Wc, 0);
  const lambda = 0.2 * Math.max(...Array.from(P.applyT(y)));
  const objective = (x: Float64Array, yy: Float64Array, lam: number): number => {
    const r = P.apply(x).map((v, i) => v - yy[i]!);
    return 0.5 * r.reduce((a, b) => a + b * b, 0) + lam * x.reduce((a, b) => a + b, 0);
  };

  it('lasso(y, λ) and lasso(y − (μ/p)·1, λ − μ) have the same fit P x, for μ = λ/2 and μ = λ', () => {
    const a = solveLasso(A, y, lambda, o).x;
    const fitA = P.apply(a);
    for (const mu of [lambda / 2, lambda]) {
      const shifted = y.map((v) => v - mu / 4);
      const b = solveLasso(A, shifted, lambda - mu, o).x;
      expect(relErr(P.apply(b), fitA), `μ = ${mu}`).toBeLessThan(1e-6);
      // Both minimise the same function up to a constant: F_λ(x; y) = F_{λ−μ}(x; y − μ/p) + const.
      const cA = objective(a, y, lambda) - objective(a, shifted, lambda - mu);
      const cB = objective(b, y, lambda) - objective(b, shifted, lambda - mu);
      expect(Math.abs(cA - cB)).toBeLessThan(1e-8 * Math.abs(cA));
    }
  });

  it('so every nonneg exact fit is LP-optimal: fast and LP both have 1ᵀx = 1ᵀy/p', async () => {
    const exact = planted({ n: 200, d: 60, k: 6, r: 1, seed: 52, nonneg: true, p: 4 });
    const yy = col(exact.Wc, 0);
    const f = await recoverVector(exact.P, yy, { nonneg: true });
    const l = await recoverVector(exact.P, yy, { nonneg: true, method: 'lp' });
    const s = (v: Float64Array): number => v.reduce((a, b) => a + b, 0);
    expect(s(f.x)).toBeCloseTo(s(yy) / 4, 10);
    expect(s(l.x)).toBeCloseTo(s(yy) / 4, 8);
    expect(f.report.method === 'fast' && f.report.stats.polishAttempts).toBe(1); // screening + one polish
  });
});

describe('noisy data', () => {
  // Measured on these seeds (err / η): LP 0.86–1.20, fast BP 0.72–1.19, fast with noise = η
  // 0.31–0.47 (and 0.67–0.81 with the noise level under-estimated by 20%).
  const eta = 0.05;
  for (const nonneg of [false, true]) {
    it(`${nonneg ? 'nonneg' : 'signed'}: with noise = η the error is ≤ 0.6·η and well below the LP's`, async () => {
      for (const seed of [21, 22]) {
        const { P, W, Wc } = planted({ n: 400, d: 120, k: 8, r: 10, seed, nonneg, noise: eta });
        const lp = await recoverColumns(P, Wc, { method: 'lp', nonneg });
        const withNoise = await recoverColumns(P, Wc, { nonneg, noise: eta });
        const under = await recoverColumns(P, Wc, { nonneg, noise: 0.8 * eta });
        const eLp = relErr(lp.W.data, W.data), eNoise = relErr(withNoise.W.data, W.data);
        expect(eNoise, `seed ${seed}: ${eNoise} vs LP ${eLp}`).toBeLessThan(0.6 * eta);
        expect(eNoise).toBeLessThan(0.6 * eLp);
        expect(relErr(under.W.data, W.data)).toBeLessThan(eLp);
        expect(statsOf(withNoise).every((s) => s.stopReason === 'discrepancy' && s.relativeResidual <= eta)).toBe(true);
      }
    });
  }

  it('without noise the fast solver approximates the (noisy) basis pursuit of the LP', async () => {
    const { P, Wc } = planted({ n: 200, d: 60, k: 5, r: 1, seed: 23, noise: 0.05 });
    const lp = await recoverColumns(P, Wc, { method: 'lp' });
    const bp = await recoverColumns(P, Wc);
    const l1 = (v: Float64Array): number => v.reduce((a, b) => a + Math.abs(b), 0);
    expect(relErr(bp.W.data, lp.W.data)).toBeLessThan(0.02);
    expect(Math.abs(l1(bp.W.data) / l1(lp.W.data) - 1)).toBeLessThan(1e-3);
  });

  it('the lasso-residual rule (debias: false) is worse than the default refit rule', async () => {
    const { P, W, Wc } = planted({ n: 400, d: 120, k: 8, r: 10, seed: 21, noise: eta });
    const refit = await recoverColumns(P, Wc, { noise: eta });
    const lasso = await recoverColumns(P, Wc, { noise: eta, debias: false });
    expect(relErr(refit.W.data, W.data)).toBeLessThan(relErr(lasso.W.data, W.data));
  });
});

describe('edge cases and determinism', () => {
  const p = planted({ n: 400, d: 120, k: 8, r: 3, seed: 61 });

  it('is deterministic: the same input gives bit-identical output (fast and LP)', async () => {
    for (const method of ['fast', 'lp'] as const) {
      const a = await recoverColumns(p.P, p.Wc, { method });
      const b = await recoverColumns(p.P, p.Wc, { method });
      expect(Buffer.from(a.W.data.buffer).equals(Buffer.from(b.W.data.buffer)), method).toBe(true);
    }
  });

  it('y = 0 gives x = 0; a tiny sweep budget stops with max-sweeps and finite output', () => {
    const A = columnMatrixOf(p.P);
    const o = fastOptionsOf(resolveRecoveryOptions({}));
    const z = solveFast(A, new Float64Array(120), o);
    expect(z.x.every((v) => v === 0)).toBe(true);
    const capped = solveFast(A, col(p.Wc, 0), { ...o, maxSweeps: 3 });
    expect(capped.stats.stopReason).toBe('max-sweeps');
    expect(capped.stats.sweeps).toBeLessThanOrEqual(4);
    expect(capped.x.every(Number.isFinite)).toBe(true);
  });

  it('reports timings and method', async () => {
    const res = await recoverColumns(p.P, p.Wc);
    expect(res.method).toBe(DEFAULT_RECOVERY_OPTIONS.method);
    expect(res.secondsPerColumn).toHaveLength(3);
    expect(res.secondsPerColumn.every((s) => s >= 0 && s <= res.seconds)).toBe(true);
  });
});
