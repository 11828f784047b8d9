import { describe, expect, it } from 'vitest';
import { inversePermutation, permuteModes, type Tensor3 } from '../../src/sensing/index.js';

const dims = [3, 4, 5] as const;
const T: Tensor3 = { dims, data: Float64Array.from({ length: 60 }, (_, q) => q * 1.5 - 7) };
const at = (X: Tensor3, i: number, j: number, k: number) => X.data[(i * X.dims[1] + j) * X.dims[2] + k]!;
const orders: [number, number, number][] = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];

describe('permuteModes', () => {
  it.each(orders)('order [%i, %i, %i] matches numpy transpose entry by entry and inverts', (a, b, c) => {
    const order: [number, number, number] = [a, b, c];
    const U = permuteModes(T, order);
    expect(U.dims).toEqual(order.map((m) => dims[m]));
    const idx = [0, 0, 0];
    for (idx[0] = 0; idx[0] < 3; idx[0]++) for (idx[1] = 0; idx[1] < 4; idx[1]++) for (idx[2] = 0; idx[2] < 5; idx[2]++) {
      expect(at(U, idx[order[0]]!, idx[order[1]]!, idx[order[2]]!)).toBe(at(T, idx[0], idx[1], idx[2]));
    }
    const back = permuteModes(U, inversePermutation(order));
    expect(back.dims).toEqual(dims);
    expect(Array.from(back.data)).toEqual(Array.from(T.data));
  });

  it('rejects an order that is not a permutation', () => {
    expect(() => permuteModes(T, [0, 0, 2])).toThrow(/permutation of \[0, 1, 2\]/);
    expect(() => permuteModes(T, [0, 1, 3])).toThrow(/permutation/);
  });
});
