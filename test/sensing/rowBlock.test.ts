import { describe, expect, it } from 'vitest';
import { makeProjection, rowBlock } from '../../src/sensing/index.js';

describe('rowBlock', () => {
  it('is the given rows of P, for sparse and dense ensembles', () => {

    for (const ensemble of ['sparse-binary', 'gaussian'] as const) {
      const P = makeProjection({ ensemble, n: 50, d: 20, seed: 3 });
      const x = Float64Array.from({ length: 50 }, (_, i) => Math.sin(i) + 1);
      const y = P.apply(x);
      const B = rowBlock(P, 4, 17);
      expect(B.d).toBe(13);
      expect(Array.from(B.apply(x))).toEqual(Array.from(y.subarray(4, 17)));
      const z = Float64Array.from({ length: 13 }, (_, i) => i - 6);
      const full = new Float64Array(20);
      full.set(z, 4);
      const a = B.applyT(z), b = P.applyT(full);
      for (let j = 0; j < 50; j++) expect(a[j]).toBeCloseTo(b[j]!, 12);
    }
    const P = makeProjection({ ensemble: 'sparse-binary', n: 50, d: 20, seed: 3 });
    expect(() => rowBlock(P, 5, 5)).toThrow(/from < to/);
    expect(() => rowBlock(P, 0, 21)).toThrow(/d = 20/);
  });
});
