import { describe, expect, it } from 'vitest';
import { makeProjection, sparseBinaryDraws, validateProjectionSpec } from '../../src/sensing/index.js';
import { Rng } from '../../src/linalg/random.js';
import { spToDense } from '../../src/linalg/sparseBinary.js';

describe('sparse-binary ensemble', () => {
  it('pins the first columns for seed 7 (cross-checked with an independent Python implementation of the documented generator)', () => {
    const P = makeProjection({ ensemble: 'sparse-binary', n: 2000, d: 400, p: 5, seed: 7 });
    const col = (j: number) => Array.from(P.sparse!.rowIdx.subarray(P.sparse!.colPtr[j]!, P.sparse!.colPtr[j + 1]!));
    expect(col(0)).toEqual([55, 92, 203, 290, 320]);
    expect(col(1)).toEqual([51, 66, 290, 320, 398]);
    expect(col(2)).toEqual([109, 132, 213, 279, 295]);
  });

  it('property: exactly p distinct ones per column, unscaled, for many (n, d, p, seed)', () => {
    const rng = new Rng(11);
    for (let trial = 0; trial < 40; trial++) {
      const n = 2 + rng.int(300);
      const d = 1 + rng.int(n - 1);
      const p = 1 + rng.int(Math.min(d, 12));
      const seed = rng.nextUint32();
      const P = makeProjection({ ensemble: 'sparse-binary', n, d, p, seed });
      const S = P.sparse!;
      let bad = 0;
      for (let j = 0; j < n; j++) {
        const rows = Array.from(S.rowIdx.subarray(S.colPtr[j]!, S.colPtr[j + 1]!));
        if (rows.length !== p || new Set(rows).size !== p || rows.some((r) => !(r >= 0 && r < d))) bad++;
      }
      expect(bad, `columns without exactly ${p} distinct in-range ones (n=${n}, d=${d}, seed=${seed})`).toBe(0);
      const D = spToDense(S);
      let ones = 0, other = 0;
      for (const v of D.data) { if (v === 1) ones++; else if (v !== 0) other++; }
      expect(other).toBe(0);
      expect(ones).toBe(n * p);
    }
  });

  it('property: same spec ⇒ identical P; different seed ⇒ different P', () => {
    const a = sparseBinaryDraws(500, 100, 5, 99), b = sparseBinaryDraws(500, 100, 5, 99), c = sparseBinaryDraws(500, 100, 5, 100);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('p defaults to 5', () => {
    expect(validateProjectionSpec({ ensemble: 'sparse-binary', n: 100, d: 20, seed: 1 }).p).toBe(5);
  });
});

describe('dense ensembles', () => {
  it('gaussian entries have variance 1/d; rademacher entries are ±1/√d', () => {
    const n = 300, d = 50;
    const G = makeProjection({ ensemble: 'gaussian', n, d, seed: 3 }).dense!;
    let s2 = 0;
    for (const v of G.data) s2 += v * v;
    expect(Math.abs(s2 / (n * d) - 1 / d) / (1 / d)).toBeLessThan(0.05);
    const R = makeProjection({ ensemble: 'rademacher', n, d, seed: 3 }).dense!;
    let pos = 0;
    for (const v of R.data) { expect(Math.abs(Math.abs(v) - 1 / Math.sqrt(d))).toBeLessThan(1e-15); if (v > 0) pos++; }
    expect(Math.abs(pos / (n * d) - 0.5)).toBeLessThan(0.02);
  });
});

describe('applying P', () => {
  for (const ensemble of ['sparse-binary', 'gaussian', 'rademacher'] as const) {
    it(`${ensemble}: vector, columns, transpose and tensor mode 1 agree`, () => {
      const n = 30, d = 12, m = 4, J = 2, K = 3;
      const P = makeProjection({ ensemble, n, d, p: 3, seed: 5 });
      const rng = new Rng(8);
      const M = { rows: n, cols: m, data: rng.fillNormal(new Float64Array(n * m)) };
      const Y = P.applyColumns(M);
      for (let c = 0; c < m; c++) {
        const y = P.apply(Float64Array.from({ length: n }, (_, i) => M.data[i * m + c]!));
        for (let i = 0; i < d; i++) expect(Y.data[i * m + c]).toBeCloseTo(y[i]!, 12);
      }
      // ⟨P x, y⟩ = ⟨x, Pᵀ y⟩
      const x = rng.fillNormal(new Float64Array(n)), yv = rng.fillNormal(new Float64Array(d));
      const Px = P.apply(x), Pty = P.applyT(yv);
      let l = 0, r = 0;
      for (let i = 0; i < d; i++) l += Px[i]! * yv[i]!;
      for (let j = 0; j < n; j++) r += x[j]! * Pty[j]!;
      expect(l).toBeCloseTo(r, 10);
      const PtY = P.applyTColumns(Y);
      expect(PtY.rows).toBe(n);
      // Tensor: fiber (j, k) of T ×₁ P equals P · fiber (j, k) of T.
      const T = { dims: [n, J, K] as [number, number, number], data: rng.fillNormal(new Float64Array(n * J * K)) };
      const Tc = P.applyMode1(T);
      expect(Tc.dims).toEqual([d, J, K]);
      for (let j = 0; j < J; j++) for (let k = 0; k < K; k++) {
        const fiber = Float64Array.from({ length: n }, (_, i) => T.data[(i * J + j) * K + k]!);
        const pf = P.apply(fiber);
        for (let i = 0; i < d; i++) expect(Tc.data[(i * J + j) * K + k]).toBeCloseTo(pf[i]!, 12);
      }
    });
  }

  it('rejects bad specs with the field named', () => {
    expect(() => makeProjection({ ensemble: 'sparse-binary', n: 100, d: 100, seed: 1 })).toThrow(/'d'.*1 ≤ d < n = 100/);
    expect(() => makeProjection({ ensemble: 'sparse-binary', n: 100, d: 4, p: 5, seed: 1 })).toThrow(/'p'.*p ≤ d = 4/);
    expect(() => makeProjection({ ensemble: 'nope' as never, n: 100, d: 4, seed: 1 })).toThrow(/'ensemble'/);
    expect(() => makeProjection({ ensemble: 'gaussian', n: 100, d: 4, seed: 1.5 })).toThrow(/'seed'/);
    expect(() => makeProjection({ ensemble: 'gaussian', n: 10, d: 4, seed: 1 }).apply(new Float64Array(9))).toThrow(/length 10/);
  });
});
