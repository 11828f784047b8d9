import { describe, expect, it } from 'vitest';
import { median } from '../../src/linalg/stats.js';

describe('median', () => {
  it('middle value, mean of the two middle values, NaN when empty; input untouched', () => {
    const xs = [5, 1, 4];
    expect(median(xs)).toBe(4);
    expect(xs).toEqual([5, 1, 4]);
    expect(median([10, 2, 8, 4])).toBe(6);
    expect(median(Float64Array.of(-3))).toBe(-3);
    expect(median([])).toBeNaN();
  });
});
