import { describe, expect, it } from 'vitest';
import { LogThrottle } from '../../pipelines/internal/logThrottle.js';

describe('LogThrottle', () => {
  it('lets `lines` through per window, counts the rest and reports them with the next line written', () => {
    let t = 0;
    const th = new LogThrottle(2, 1000, () => t);
    expect([th.admit(), th.admit(), th.admit(), th.admit()]).toEqual([0, 0, undefined, undefined]);
    t = 999;
    expect(th.admit()).toBeUndefined();
    t = 1000; // a new window: the first line carries the 3 held back
    expect(th.admit()).toBe(3);
    expect(th.admit()).toBe(0);
    expect(th.admit()).toBeUndefined();
    expect(th.flush()).toBe(1);
    expect(th.flush()).toBe(0);
    t = 5000;
    expect(th.admit()).toBe(0); // flushed ones are not reported twice
  });

  it('refuses a budget it cannot keep', () => {
    expect(() => new LogThrottle(0, 1000)).toThrow(/lines must be an integer ≥ 1; got 0/);
    expect(() => new LogThrottle(1, 0)).toThrow(/windowMs must be > 0/);
  });
});
