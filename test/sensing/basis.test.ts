import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { Rng } from '../../src/linalg/random.js';
import { dctMatrix, inBasis, makeProjection, type BasisName } from '../../src/sensing/index.js';
import { recoverColumns } from '../../src/recovery/index.js';

/** scipy.fft.dct(x, type=2, norm='ortho') written out as a sum, independently of dctMatrix. */
function naiveDct(x: number[]): number[] {
  const n = x.length;
  return x.map((_, k) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i]! * Math.cos((Math.PI * k * (2 * i + 1)) / (2 * n));
    return s * (k === 0 ? Math.sqrt(1 / (4 * n)) : Math.sqrt(1 / (2 * n))) * 2;
  });
}

describe('DCT basis', () => {
  it('Ψ is orthonormal and Ψᵀx is the orthonormal DCT-II', () => {
    const n = 13;
    const Psi = dctMatrix(n);
    for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += Psi.data[i * n + a]! * Psi.data[i * n + b]!;
      expect(Math.abs(s - (a === b ? 1 : 0))).toBeLessThan(1e-12);
    }
    const rng = new Rng(3);
    const x = Array.from({ length: n }, () => rng.normal());
    const want = naiveDct(x);
    for (let k = 0; k < n; k++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += Psi.data[i * n + k]! * x[i]!;
      expect(s).toBeCloseTo(want[k]!, 12);
    }
  });

  it('a smooth signal (3 cosines) is recovered from d ≪ n measurements in the DCT basis, not in the identity', async () => {
    const n = 120, d = 30;
    const P = makeProjection({ ensemble: 'sparse-binary', n, d, p: 5, seed: 4 });
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) x[i] = 2 + Math.cos((Math.PI * (i + 0.5) * 3) / n) + 0.5 * Math.cos((Math.PI * (i + 0.5) * 7) / n);
    const y = { rows: d, cols: 1, data: P.apply(x) };
    const err = async (basis: BasisName, method: 'lp' | 'fast') => {
      const B = inBasis(P, basis);
      const xh = B.synthesize((await recoverColumns(B.matrix, y, { method })).W).data;
      let e = 0, nx = 0;
      for (let i = 0; i < n; i++) { e += (xh[i]! - x[i]!) ** 2; nx += x[i]! ** 2; }
      return Math.sqrt(e / nx);
    };
    expect(await err('dct', 'lp')).toBeLessThan(1e-6);
    expect(await err('dct', 'fast')).toBeLessThan(1e-6);
    expect(await err('identity', 'lp')).toBeGreaterThan(0.3);
  });

  it('identity is P itself; unknown bases and sizes are rejected', () => {
    const P = makeProjection({ ensemble: 'sparse-binary', n: 20, d: 8, p: 3, seed: 1 });
    expect(inBasis(P, 'identity').matrix).toBe(P);
    expect(inBasis(P, 'dct')).toBe(inBasis(P, 'dct')); // PΨ formed once per P
    expect(() => inBasis(P, 'haar' as BasisName)).toThrow(InvalidOptionError);
    expect(() => inBasis(P, 'haar' as BasisName)).toThrow(/'identity', 'dct'/);
    expect(() => dctMatrix(0)).toThrow(/integer ≥ 1/);
    expect(() => inBasis(P, 'dct').synthesize({ rows: 5, cols: 1, data: new Float64Array(5) })).toThrow(/20×r/);
  });
});
