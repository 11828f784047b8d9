import { describe, expect, it } from 'vitest';
import { InvalidOptionError, SolverError } from '../../src/errors.js';
import { Rng } from '../../src/linalg/random.js';
import { spToDense } from '../../src/linalg/sparseBinary.js';
import { makeProjection, type Projection } from '../../src/sensing/index.js';
import { columnMatrixOf, recoverVector, solveMinL2 } from '../../src/recovery/index.js';
import { relErr } from './helpers.js';

/** A smooth non-negative signal (not sparse in the identity): what resting EEG time courses look like. */
function smooth(n: number, rng: Rng): Float64Array {
  const x = new Float64Array(n);
  const a = 1 + rng.uniform(), f = 1 + 3 * rng.uniform(), ph = 6 * rng.uniform();
  for (let i = 0; i < n; i++) x[i] = a + Math.sin((2 * Math.PI * f * i) / n + ph) + 0.3 * rng.uniform();
  return x;
}

function dense(P: Projection): number[][] {
  const D = spToDense(P.sparse!);
  return Array.from({ length: D.rows }, (_, i) => Array.from(D.data.subarray(i * D.cols, (i + 1) * D.cols)));
}

/**
 * Independent reference: Dykstra's alternating projections from 0 onto {Px = y} ∩ {x ≥ 0}
 * converge to the projection of 0 onto the intersection, i.e. the least-norm feasible x.
 */
function dykstra(P: number[][], y: Float64Array, iters: number): Float64Array {
  const d = P.length, n = P[0]!.length;
  // Affine projection: x − Pᵀ(PPᵀ)⁻¹(Px − y), with (PPᵀ)⁻¹ by Gauss–Jordan once.
  const G = P.map((ri) => P.map((rj) => ri.reduce((s, v, k) => s + v * rj[k]!, 0)));
  const inv = G.map((row, i) => [...row, ...row.map((_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < d; c++) {
    let piv = c;
    for (let r = c + 1; r < d; r++) if (Math.abs(inv[r]![c]!) > Math.abs(inv[piv]![c]!)) piv = r;
    [inv[c], inv[piv]] = [inv[piv]!, inv[c]!];
    const pv = inv[c]![c]!;
    for (let j = 0; j < 2 * d; j++) inv[c]![j]! /= pv;
    for (let r = 0; r < d; r++) {
      if (r === c) continue;
      const f = inv[r]![c]!;
      for (let j = 0; j < 2 * d; j++) inv[r]![j]! -= f * inv[c]![j]!;
    }
  }
  const Ginv = inv.map((row) => row.slice(d));
  const affine = (v: Float64Array): Float64Array => {
    const res = P.map((row, i) => row.reduce((s, p, k) => s + p * v[k]!, 0) - y[i]!);
    const mu = Ginv.map((row) => row.reduce((s, g, k) => s + g * res[k]!, 0));
    return v.map((vj, j) => vj - P.reduce((s, row, i) => s + row[j]! * mu[i]!, 0));
  };
  let x = new Float64Array(n);
  let p = new Float64Array(n), q = new Float64Array(n);
  for (let t = 0; t < iters; t++) {
    const a = affine(x.map((v, j) => v + p[j]!));
    p = x.map((v, j) => v + p[j]! - a[j]!);
    const b = a.map((v, j) => Math.max(0, v + q[j]!));
    q = a.map((v, j) => v + q[j]! - b[j]!);
    x = b;
  }
  return x;
}

const norm = (v: Float64Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const sum = (v: Float64Array) => v.reduce((s, x) => s + x, 0);

describe('min-ℓ2 tie-break of non-negative basis pursuit', () => {
  const n = 60, d = 15;
  const P = makeProjection({ ensemble: 'sparse-binary', n, d, p: 3, seed: 4 });
  const A = columnMatrixOf(P);

  it('returns the least-norm x ≥ 0 with Px = y (matches Dykstra; certified by its residual)', () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 3; trial++) {
      const truth = smooth(n, rng);
      const y = P.apply(truth);
      const { x, stats } = solveMinL2(A, y);
      expect(stats.feasible).toBe(true);
      expect(stats.residual).toBeLessThan(1e-9);
      expect(Math.min(...x)).toBeGreaterThanOrEqual(0);
      const ref = dykstra(dense(P), y, 20000);
      expect(relErr(x, ref)).toBeLessThan(1e-4);
      // Least norm among the feasible points we know: the truth itself.
      expect(norm(x)).toBeLessThanOrEqual(norm(truth) + 1e-9);
    }
  });

  it('is a basis-pursuit optimum: its ℓ1 norm equals the non-negative LP value', async () => {
    const truth = smooth(n, new Rng(11));
    const y = P.apply(truth);
    const lp = await recoverVector(P, y, { method: 'lp', nonneg: true });
    const m = await recoverVector(P, y, { nonneg: true, tieBreak: 'min-l2' });
    expect(m.report.method).toBe('min-l2');
    expect(Math.abs(sum(m.x) - sum(lp.x)) / sum(lp.x)).toBeLessThan(1e-8);
    // …but a different, spread-out optimum: the LP's is a vertex with at most d non-zeros.
    expect(lp.x.filter((v) => v > 1e-9).length).toBeLessThanOrEqual(d);
    expect(m.x.filter((v) => v > 1e-9).length).toBeGreaterThan(d);
  });

  it('estimates a dense non-negative signal better than the LP vertex does', async () => {
    const rng = new Rng(3);
    let better = 0;
    for (let t = 0; t < 5; t++) {
      const truth = smooth(n, rng);
      const y = P.apply(truth);
      const lp = await recoverVector(P, y, { method: 'lp', nonneg: true });
      const m = await recoverVector(P, y, { nonneg: true, tieBreak: 'min-l2' });
      if (relErr(m.x, truth) < relErr(lp.x, truth)) better++;
    }
    expect(better).toBe(5);
  });

  it('changes nothing where the BP optimum is unique (a sparse signal)', async () => {
    const Pb = makeProjection({ ensemble: 'sparse-binary', n: 200, d: 80, p: 5, seed: 2 });
    const truth = new Float64Array(200);
    for (const [i, v] of [[3, 1], [50, 2.5], [77, 0.4], [140, 1.7], [199, 3]] as const) truth[i] = v;
    const m = await recoverVector(Pb, Pb.apply(truth), { nonneg: true, tieBreak: 'min-l2' });
    expect(relErr(m.x, truth)).toBeLessThan(1e-6);
  });

  it('y outside the cone: the least-norm best fit, flagged infeasible, or a SolverError on request', async () => {
    const y = P.apply(smooth(n, new Rng(5)));
    y[0] = -1;
    const { x, stats } = solveMinL2(A, y);
    expect(stats.feasible).toBe(false);
    expect(stats.residual).toBeGreaterThan(1e-3);
    expect(Math.min(...x)).toBeGreaterThanOrEqual(0);
    await expect(recoverVector(P, y, { nonneg: true, tieBreak: 'min-l2', nonnegFallback: 'error' })).rejects.toThrow(SolverError);
    await expect(recoverVector(P, y, { nonneg: true, tieBreak: 'min-l2', nonnegFallback: 'error' })).rejects.toThrow(/outside the cone/);
  });

  it('y = 0 gives x = 0', () => {
    const { x, stats } = solveMinL2(A, new Float64Array(d));
    expect(x.every((v) => v === 0)).toBe(true);
    expect(stats.iterations).toBe(0);
  });

  it('is refused where it is not a tie-break: signed recovery, noise, or a P without equal column sums', async () => {
    const y = P.apply(smooth(n, new Rng(1)));
    await expect(recoverVector(P, y, { tieBreak: 'min-l2' })).rejects.toThrow(InvalidOptionError);
    await expect(recoverVector(P, y, { nonneg: true, noise: 0.1, tieBreak: 'min-l2' })).rejects.toThrow(/tieBreak/);
    const G = makeProjection({ ensemble: 'gaussian', n, d, seed: 1 });
    await expect(recoverVector(G, G.apply(smooth(n, new Rng(1))), { nonneg: true, tieBreak: 'min-l2' })).rejects.toThrow(/equal column sums/);
  });
});
