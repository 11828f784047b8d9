import { describe, expect, it } from 'vitest';
import { SolverError } from '../../src/errors.js';
import { spToDense } from '../../src/linalg/sparseBinary.js';
import { Rng } from '../../src/linalg/random.js';
import { makeProjection } from '../../src/sensing/index.js';
import { solveBasisPursuitLP } from '../../src/recovery/index.js';
import { denseP, planted, col, relErr } from './helpers.js';

const close = (x: Float64Array, want: number[], tol = 1e-8): void => {
  expect(x.length).toBe(want.length);
  want.forEach((v, i) => expect(Math.abs(x[i]! - v), `x[${i}] = ${x[i]} vs ${v}`).toBeLessThan(tol));
};

describe('solveBasisPursuitLP on hand-checkable instances', () => {
  // P = [1 1 0; 0 1 1]: P x = y  ⇔  x = (y1 − t, t, y2 − t).
  const P23 = denseP([[1, 1, 0], [0, 1, 1]]);

  it('y = (1, 1): |1−t| + |t| + |1−t| is minimal at t = 1, so x = (0, 1, 0) (signed and nonneg)', async () => {
    const y = Float64Array.of(1, 1);
    const s = await solveBasisPursuitLP(P23, y);
    close(s.x, [0, 1, 0]);
    expect(s.status).toBe('optimal');
    expect(s.relativeResidual).toBeLessThan(1e-12);
    const nn = await solveBasisPursuitLP(P23, y, { nonneg: true });
    close(nn.x, [0, 1, 0]);
  });

  it('y = (1, −1): signed optimum (1, 0, −1) with ||x||₁ = 2 + |t| at t = 0', async () => {
    const s = await solveBasisPursuitLP(P23, Float64Array.of(1, -1));
    close(s.x, [1, 0, -1]);
  });

  it('y = (1, −1), nonneg: infeasible, the ℓ1-fit fallback returns (1, 0, 0) (misfit 1 in row 2)', async () => {
    const s = await solveBasisPursuitLP(P23, Float64Array.of(1, -1), { nonneg: true });
    expect(s.status).toBe('l1-fit');
    close(s.x, [1, 0, 0], 1e-7);
    expect(s.relativeResidual).toBeCloseTo(1 / Math.SQRT2, 6);
  });

  it("nonneg with nonnegFallback 'error' throws SolverError naming the infeasibility", async () => {
    const run = solveBasisPursuitLP(P23, Float64Array.of(1, -1), { nonneg: true, nonnegFallback: 'error' });
    await expect(run).rejects.toBeInstanceOf(SolverError);
    await expect(run).rejects.toThrow(/infeasible.*model status 8/);
  });

  // Rank-deficient P (rows 1 and 2 equal): y = (1, 3, 6) is inconsistent; its projection onto
  // range(P) is (2, 2, 6), and min ||x||₁ s.t. x1 + 2x2 = 2, x3 + 3x4 = 6 is x = (0, 1, 0, 2).
  const Pdef = denseP([[1, 2, 0, 0], [1, 2, 0, 0], [0, 0, 1, 3]]);
  const yBad = Float64Array.of(1, 3, 6);

  it("inconsistent y with rangeProjection 'auto' is projected onto range(P) first", async () => {
    const s = await solveBasisPursuitLP(Pdef, yBad);
    expect(s.status).toBe('optimal-projected');
    close(s.x, [0, 1, 0, 2], 1e-7);
    expect(s.projectionResidual).toBeCloseTo(Math.SQRT2, 8);
    expect(s.solves).toBe(2);
  });

  it("rangeProjection 'always' gives the same x in one solve; 'off' throws SolverError", async () => {
    const a = await solveBasisPursuitLP(Pdef, yBad, { rangeProjection: 'always' });
    close(a.x, [0, 1, 0, 2], 1e-7);
    expect(a.solves).toBe(1);
    await expect(solveBasisPursuitLP(Pdef, yBad, { rangeProjection: 'off' })).rejects.toThrow(SolverError);
  });

  it('consistent y is not projected (full-row-rank fast path) and y = 0 gives x = 0 without a solve', async () => {
    const s = await solveBasisPursuitLP(Pdef, Float64Array.of(2, 2, 6));
    expect(s.status).toBe('optimal');
    expect(s.solves).toBe(1);
    expect(s.projectionResidual).toBe(0);
    const z = await solveBasisPursuitLP(Pdef, new Float64Array(3));
    expect(z.solves).toBe(0);
    expect(Array.from(z.x)).toEqual([0, 0, 0, 0]);
  });

  it('highsOptions are passed through (an unknown option is a SolverError)', async () => {
    const ok = await solveBasisPursuitLP(P23, Float64Array.of(1, 1), { highsOptions: { presolve: 'off' } });
    close(ok.x, [0, 1, 0]);
    await expect(solveBasisPursuitLP(P23, Float64Array.of(1, 1), { highsOptions: { no_such_option: 1 } })).rejects.toThrow(SolverError);
  });
});

describe('solveBasisPursuitLP on sparse-binary P', () => {
  it('the sparse and the dense storage of the same P give the same solution', async () => {
    const P = makeProjection({ ensemble: 'sparse-binary', n: 30, d: 12, p: 3, seed: 7 });
    const D = { d: 12, n: 30, sparse: undefined, dense: spToDense(P.sparse!) };
    const rng = new Rng(1);
    const y = new Float64Array(12).map(() => rng.normal());
    for (const nonneg of [false, true]) {
      const a = await solveBasisPursuitLP(P, nonneg ? y.map(Math.abs) : y, { nonneg });
      const b = await solveBasisPursuitLP(D, nonneg ? y.map(Math.abs) : y, { nonneg });
      expect(relErr(a.x, b.x), `nonneg=${nonneg}`).toBeLessThan(1e-9);
    }
  });

  it('recovers planted k-sparse vectors exactly (n=400, d=120, p=5, k=8), signed and nonneg', async () => {
    for (const nonneg of [false, true]) {
      const { P, W, Wc } = planted({ n: 400, d: 120, k: 8, r: 2, seed: 11, nonneg });
      for (let c = 0; c < 2; c++) {
        const s = await solveBasisPursuitLP(P, col(Wc, c), { nonneg });
        expect(relErr(s.x, col(W, c)), `nonneg=${nonneg} column ${c}`).toBeLessThan(1e-8);
      }
    }
  });

  it('nonneg: 1ᵀx = 1ᵀy/p for the LP optimum, since every column of P sums to p', async () => {
    const { P, Wc } = planted({ n: 200, d: 60, k: 6, r: 1, seed: 5, nonneg: true, p: 4 });
    const y = col(Wc, 0);
    const s = await solveBasisPursuitLP(P, y, { nonneg: true });
    const sumX = s.x.reduce((a, b) => a + b, 0), sumY = y.reduce((a, b) => a + b, 0);
    expect(sumX).toBeCloseTo(sumY / 4, 8);
  });
});
