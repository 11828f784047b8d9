import { describe, expect, it } from 'vitest';
import {
  cpErrorSq, cpInnerWithTensor, cpNormSq, cpReconstruct, mttkrp, tensorNormSq,
} from '../../../src/factorize/cp/index.js';
import { ShapeMismatchError } from '../../../src/errors.js';
import { Rng } from '../../../src/linalg/random.js';
import { khatriRao, matmul, randomMatrix, randomTensor, unfold } from './helpers.js';

const dims: [number, number, number] = [7, 5, 4];
const r = 3;

function setup(seed: number) {
  const rng = new Rng(seed);
  const T = randomTensor(rng, dims);
  const factors = [randomMatrix(rng, dims[0], r), randomMatrix(rng, dims[1], r), randomMatrix(rng, dims[2], r)] as const;
  return { T, factors };
}

function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('mttkrp', () => {
  it('matches T₍n₎ · (Khatri–Rao of the other factors) for all three modes', () => {
    const { T, factors: [A, B, C] } = setup(11);
    const refs = [
      matmul(unfold(T, 0), khatriRao(B, C)),
      matmul(unfold(T, 1), khatriRao(A, C)),
      matmul(unfold(T, 2), khatriRao(A, B)),
    ];
    for (const mode of [0, 1, 2] as const) {
      const M = mttkrp(T, [A, B, C], mode);
      expect([M.rows, M.cols]).toEqual([dims[mode], r]);
      const d = maxAbsDiff(M.data, refs[mode]!.data);
      expect(d, `mode ${mode} MTTKRP max |diff| ${d} vs the naive Khatri–Rao reference must be < 1e-12`).toBeLessThan(1e-12);
    }
  });

  it('rejects factors whose shapes do not match the tensor', () => {
    const { T, factors: [A, B] } = setup(12);
    expect(() => mttkrp(T, [A, B, B], 0)).toThrow(ShapeMismatchError);
    expect(() => mttkrp(T, [A, B, B], 0)).toThrow(/factor C/);
  });
});

describe('cheap CP error', () => {
  it('‖T‖² − 2⟨T, T̂⟩ + ‖T̂‖² equals the explicit ‖T − T̂‖², with and without weights', () => {
    const { T, factors } = setup(13);
    for (const w of [undefined, Float64Array.from([0.5, 2, -1.5])]) {
      const That = cpReconstruct(factors, w);
      let explicit = 0, inner = 0, model = 0;
      for (let p = 0; p < T.data.length; p++) {
        explicit += (T.data[p]! - That.data[p]!) ** 2;
        inner += T.data[p]! * That.data[p]!;
        model += That.data[p]! ** 2;
      }
      expect(cpInnerWithTensor(T, factors, w)).toBeCloseTo(inner, 10);
      expect(cpNormSq(factors, w)).toBeCloseTo(model, 10);
      const cheap = cpErrorSq(T, factors, w);
      expect(Math.abs(cheap - explicit) / explicit, `cheap ${cheap} vs explicit ${explicit}: relative diff < 1e-12`).toBeLessThan(1e-12);
    }
    expect(tensorNormSq(T)).toBeCloseTo(T.data.reduce((s, v) => s + v * v, 0), 10);
  });

  it('cpReconstruct places entry (i, j, k) at (i·J + j)·K + k', () => {
    const { factors: [A, B, C] } = setup(14);
    const T = cpReconstruct([A, B, C]);
    const i = 3, j = 2, k = 1;
    let v = 0;
    for (let t = 0; t < r; t++) v += A.data[i * r + t]! * B.data[j * r + t]! * C.data[k * r + t]!;
    expect(T.data[(i * dims[1] + j) * dims[2] + k]).toBeCloseTo(v, 12);
    expect(T.dims).toEqual(dims);
  });
});
