import { describe, expect, it } from 'vitest';
import { settledWithin } from '../../pipelines/internal/settledWithin.js';

describe('settledWithin', () => {
  it('says whether a promise settled in time, rejected ones included, and never waits past the limit', async () => {
    expect(await settledWithin(Promise.resolve(1), 1000)).toBe(true);
    expect(await settledWithin(Promise.reject(new Error('x')), 1000)).toBe(true);
    const t0 = performance.now();
    expect(await settledWithin(new Promise(() => undefined), 50)).toBe(false);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(await settledWithin(new Promise((r) => setTimeout(r, 10)), 2000)).toBe(true);
  });
});
