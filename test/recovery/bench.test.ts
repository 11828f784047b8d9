import { describe, expect, it } from 'vitest';
import { benchRecovery } from '../../src/recovery/bench.js';

describe('benchRecovery (small instance; the acceptance size n=2000 runs from the CLI)', () => {
  for (const nonneg of [false, true]) {
    it(`${nonneg ? 'nonneg' : 'signed'}: same support as the LP, equal values, and faster`, async () => {
      const res = await benchRecovery({ n: 300, d: 90, p: 5, k: 6, r: 3, seed: 4, noise: 0, nonneg, reps: 2 });
      expect(res.sameSupport).toBe(true);
      expect(res.relErrVsLp).toBeLessThan(1e-6);
      expect(res.lp.errVsTruth).toBeLessThan(1e-8);
      expect(res.fast.errVsTruth).toBeLessThan(1e-8);
      expect(res.certifiedColumns).toBe(3);
      expect(res.lp.perColumn).toHaveLength(3);
      expect(res.fast.perColumn).toHaveLength(3);
      // Measured ≥ 30× at this size; 1× keeps the check robust on a loaded machine.
      expect(res.speedup).toBeGreaterThan(1);
      expect(res.config).toMatchObject({ n: 300, d: 90, nonneg, reps: 2 });
    });
  }

  it('with noise the fast solver (given the noise level) beats the LP against the truth', async () => {
    const res = await benchRecovery({ n: 300, d: 90, p: 5, k: 6, r: 3, seed: 5, noise: 0.05, reps: 1 });
    expect(res.fast.errVsTruth).toBeLessThan(res.lp.errVsTruth);
  });
});
