import { describe, expect, it } from 'vitest';
import { factorizeRecover, recoverFactorize, runCompressed } from '../../src/compressed/pipeline.js';
import { matchedError, normalizeFactors, reconstructionError } from '../../src/compressed/metrics.js';
import { generateSyntheticModel } from '../../src/experiments/syntheticModel.js';
import { makeProjection } from '../../src/sensing/index.js';

// A small instance of the paper's model that FR must solve: k/d well inside the recoverable range.
const model = generateSyntheticModel({ n: 400, m: 300, r: 4, k: 10, noise: 0, nonneg: true, seed: 11 });
const P = makeProjection({ ensemble: 'sparse-binary', n: 400, d: 120, p: 5, seed: 12 });
const Mc = P.applyColumns(model.M);
const nmf = { solver: 'nmf' as const, rank: 4, seed: 13 };

describe('factorize-recover end to end (noiseless planted model)', () => {
  it('FR with the fast recovery recovers W: matched error < 0.02', async () => {
    const res = await factorizeRecover(Mc, P, { factorization: nmf });
    const err = matchedError(model.W, normalizeFactors(res.W, res.H).W).error;
    expect(err, `FR errW = ${err}`).toBeLessThan(0.02);
    expect(res.Wc!.rows).toBe(120);
    expect(res.W.rows).toBe(400);
    expect(res.seconds.total).toBeGreaterThan(0);
  });

  it('FR with the LP and with the fast solver agree', async () => {
    const a = await factorizeRecover(Mc, P, { factorization: nmf, recovery: { method: 'lp' } });
    const b = await factorizeRecover(Mc, P, { factorization: nmf, recovery: { method: 'fast' } });
    const ea = matchedError(model.W, normalizeFactors(a.W, a.H).W).error;
    const eb = matchedError(model.W, normalizeFactors(b.W, b.H).W).error;
    expect(Math.abs(ea - eb), `LP ${ea} vs fast ${eb}`).toBeLessThan(0.01);
  });

  it('RF and the uncompressed reference reach small reconstruction error too', async () => {
    const rf = await recoverFactorize(Mc, P, { factorization: nmf });
    expect(reconstructionError(rf.W, rf.H, model.M)).toBeLessThan(0.05);
    const full = await runCompressed(model.M, undefined, { method: 'full', factorization: nmf });
    expect(reconstructionError(full.W, full.H, model.M)).toBeLessThan(1e-3);
    expect(full.P).toBeUndefined();
  });

  it('runCompressed compresses with the spec, times every stage and rejects a bad method', async () => {
    const res = await runCompressed(model.M, P.spec, { factorization: nmf });
    expect(res.method).toBe('fr');
    expect(res.seconds.compress).toBeGreaterThan(0);
    expect(res.seconds.total).toBeCloseTo(res.seconds.compress + res.seconds.factorize + res.seconds.recover, 9);
    await expect(runCompressed(model.M, P.spec, { method: 'xx' as never, factorization: nmf })).rejects.toThrow(/'method'/);
    await expect(runCompressed(model.M, undefined, { method: 'fr', factorization: nmf })).rejects.toThrow(/'spec'/);
  });
});
