import { describe, expect, it } from 'vitest';
import { generateSyntheticModel } from '../../src/experiments/syntheticModel.js';
import { gemm } from '../../src/linalg/kernels.js';

describe('synthetic model (PAPER.md §4.1)', () => {
  const o = { n: 300, m: 200, r: 4, k: 15, noise: 0.1, nonneg: true, seed: 5 };
  const s = generateSyntheticModel(o);

  it('W has exactly k non-zeros per column; NMF variant is non-negative; H rows unit norm', () => {
    for (let c = 0; c < o.r; c++) {
      let nz = 0;
      for (let i = 0; i < o.n; i++) { const v = s.W.data[i * o.r + c]!; if (v !== 0) nz++; expect(v).toBeGreaterThanOrEqual(0); }
      expect(nz).toBe(o.k);
      let h = 0;
      for (let j = 0; j < o.m; j++) { const v = s.H.data[c * o.m + j]!; h += v * v; expect(v).toBeGreaterThanOrEqual(0); }
      expect(h).toBeCloseTo(1, 12);
    }
  });

  it('noise is exactly the requested fraction of ‖W·H‖_F', () => {
    const WH = new Float64Array(o.n * o.m);
    gemm(s.W.data, s.H.data, o.n, o.r, o.m, WH);
    let e = 0, w = 0;
    for (let t = 0; t < WH.length; t++) { e += (s.M.data[t]! - WH[t]!) ** 2; w += WH[t]! ** 2; }
    expect(Math.sqrt(e / w)).toBeCloseTo(0.1, 10);
  });

  it('signed variant has negative entries; same seed ⇒ same data; other seed ⇒ different', () => {
    const a = generateSyntheticModel({ ...o, nonneg: false });
    expect(a.W.data.some((v) => v < 0)).toBe(true);
    expect(Array.from(generateSyntheticModel(o).M.data.subarray(0, 50))).toEqual(Array.from(s.M.data.subarray(0, 50)));
    expect(Array.from(generateSyntheticModel({ ...o, seed: 6 }).M.data.subarray(0, 50))).not.toEqual(Array.from(s.M.data.subarray(0, 50)));
  });

  it('rejects bad parameters by name', () => {
    expect(() => generateSyntheticModel({ ...o, k: 301 })).toThrow(/'k'/);
    expect(() => generateSyntheticModel({ ...o, noise: -1 })).toThrow(/'noise'/);
    expect(() => generateSyntheticModel({ ...o, r: 0 })).toThrow(/'r'/);
  });
});
