import { describe, expect, it } from 'vitest';
import { tensorFactorizeRecover, tensorFull, tensorRecoverFactorize, tensorRelError } from '../../src/compressed/tensor.js';
import { matchedCorrelation } from '../../src/compressed/metrics.js';
import { cpReconstruct } from '../../src/factorize/cp/index.js';
import { matrix } from '../../src/linalg/matrix.js';
import { Rng } from '../../src/linalg/random.js';
import { makeProjection } from '../../src/sensing/index.js';

// Proposition 1's setting: A with k-sparse non-negative columns, B and C dense non-negative.
const n = 200, J = 15, K = 12, r = 3, k = 8;
const rng = new Rng(31);
const A = matrix(n, r), B = matrix(J, r), C = matrix(K, r);
for (let c = 0; c < r; c++) {
  const rows = new Set<number>();
  while (rows.size < k) rows.add(rng.int(n));
  for (const i of rows) A.data[i * r + c] = 1 + rng.uniform();
}
B.data.forEach((_, i) => (B.data[i] = 0.1 + rng.uniform()));
C.data.forEach((_, i) => (C.data[i] = 0.1 + rng.uniform()));
const T = cpReconstruct([A, B, C]);
const P = makeProjection({ ensemble: 'sparse-binary', n, d: 60, p: 5, seed: 32 });
const Tc = P.applyMode1(T);
const opts = { cp: { rank: r, method: 'nn-hals' as const, maxIter: 2000, tol: 1e-12, seed: 33 } };

function expectFactors(res: { A: typeof A; B: typeof B; C: typeof C }, label: string) {
  for (const [name, truth, est] of [['A', A, res.A], ['B', B, res.B], ['C', C, res.C]] as const) {
    const corr = matchedCorrelation(truth, est).mean;
    expect(corr, `${label}: mean matched |corr| of ${name} = ${corr}`).toBeGreaterThan(0.999);
  }
}

describe('compressed CP (mode 1 compressed, Proposition 1)', () => {
  it('FR: CP of T ×₁ P then r recoveries gives back A, B, C and a near-exact model', async () => {
    const fr = await tensorFactorizeRecover(Tc, P, opts);
    expect(fr.A.rows).toBe(n);
    expect(fr.Ac!.rows).toBe(60);
    expectFactors(fr, 'FR');
    const err = tensorRelError(T, fr);
    expect(err, `FR relative error ${err}`).toBeLessThan(1e-3);
  });

  it('RF recovers fibers with up to r·k non-zeros: worse than FR at d = 60, fine with more measurements', async () => {
    const fr = await tensorFactorizeRecover(Tc, P, opts);
    const rf = await tensorRecoverFactorize(Tc, P, opts);
    const eFr = tensorRelError(T, fr), eRf = tensorRelError(T, rf);
    expect(eRf, `RF ${eRf} vs FR ${eFr} at d = 60`).toBeGreaterThan(10 * eFr);
    expect(rf.seconds.recover).toBeGreaterThan(0);
    const P2 = makeProjection({ ensemble: 'sparse-binary', n, d: 150, p: 5, seed: 34 });
    const rf2 = await tensorRecoverFactorize(P2.applyMode1(T), P2, opts);
    const e2 = tensorRelError(T, rf2);
    expect(e2, `RF at d = 150: ${e2}`).toBeLessThan(0.01);
  });

  it('the uncompressed reference recovers the planted factors', () => {
    const full = tensorFull(T, opts);
    expectFactors(full, 'full');
    expect(tensorRelError(T, full)).toBeLessThan(1e-4);
  });
});

describe('FR refit of the uncompressed modes', () => {
  it('never worsens the fit to T~ with the recovered factor fixed; B, C stay unit-norm and ≥ 0', async () => {
    const n2 = 90, r2 = 2;
    const A2 = matrix(n2, r2);
    for (let i = 0; i < n2; i++) {
      // Bumps on a zero baseline: the DCT recovery rings below 0 there, and the clip moves P·Â off A~.
      A2.data[i * r2] = 2 * Math.exp(-(((i - 30) / 6) ** 2)) + Math.exp(-(((i - 70) / 4) ** 2));
      A2.data[i * r2 + 1] = 2 * Math.exp(-(((i - 55) / 10) ** 2));
    }
    const B2 = matrix(10, r2), C2 = matrix(7, r2);
    B2.data.forEach((_, i) => (B2.data[i] = 0.1 + rng.uniform()));
    C2.data.forEach((_, i) => (C2.data[i] = 0.1 + rng.uniform()));
    const T2 = cpReconstruct([A2, B2, C2]);
    const P2 = makeProjection({ ensemble: 'sparse-binary', n: n2, d: 18, p: 5, seed: 7 });
    const Tc2 = P2.applyMode1(T2);
    const base = { cp: { rank: r2, method: 'nn-hals' as const, maxIter: 1000, tol: 1e-12, seed: 3 }, recovery: { method: 'lp' as const }, basis: 'dct' as const };
    const plain = await tensorFactorizeRecover(Tc2, P2, base);
    const refit = await tensorFactorizeRecover(Tc2, P2, { ...base, refit: 20 });
    const compressedFit = (res: { A: typeof A2; B: typeof B2; C: typeof C2 }) => tensorRelError(Tc2, { A: P2.applyColumns(res.A), B: res.B, C: res.C });
    expect(compressedFit(plain)).toBeGreaterThan(1e-3); // the clip really moved P·Â
    expect(compressedFit(refit)).toBeLessThan(compressedFit(plain));
    for (const F of [refit.B, refit.C]) {
      for (let c = 0; c < r2; c++) {
        let s = 0;
        for (let i = 0; i < F.rows; i++) s += F.data[i * r2 + c]! ** 2;
        expect(Math.sqrt(s)).toBeCloseTo(1, 10);
      }
      expect(F.data.every((v) => v >= 0)).toBe(true);
    }
    // On an exactly recoverable model the refit changes nothing that matters.
    const exact = await tensorFactorizeRecover(Tc, P, { ...opts, refit: 10 });
    expect(tensorRelError(T, exact)).toBeLessThan(1e-4);
  });
});

describe("FR for mode-1 signals that are not sparse: lift 'mttkrp' with the min-ℓ2 recovery", () => {
  // Smooth, strictly positive time courses plus 5% noise: no sparse representation, like resting EEG.
  const n2 = 120, J2 = 14, K2 = 10, r2 = 3;
  const g = new Rng(41);
  const A2 = matrix(n2, r2), B2 = matrix(J2, r2), C2 = matrix(K2, r2);
  for (let c = 0; c < r2; c++) {
    const f = 1 + 2 * c, ph = g.uniform() * 6;
    for (let i = 0; i < n2; i++) A2.data[i * r2 + c] = 1.2 + Math.sin((2 * Math.PI * f * i) / n2 + ph) + 0.3 * g.uniform();
  }
  B2.data.forEach((_, i) => (B2.data[i] = 0.1 + g.uniform()));
  C2.data.forEach((_, i) => (C2.data[i] = 0.1 + g.uniform()));
  const T2 = cpReconstruct([A2, B2, C2]);
  T2.data.forEach((v, i) => (T2.data[i] = v * (1 + 0.05 * g.normal())));
  const P2 = makeProjection({ ensemble: 'sparse-binary', n: n2, d: 24, p: 5, seed: 42 });
  const Tc2 = P2.applyMode1(T2);
  const base = { cp: { rank: r2, method: 'nn-hals' as const, maxIter: 1000, tol: 1e-9, seed: 43 }, recovery: { nonneg: true, tieBreak: 'min-l2' as const } };

  it('matches RF (same recovery) within 0.02, and is no worse than lifting the factor', async () => {
    const rf = tensorRelError(T2, await tensorRecoverFactorize(Tc2, P2, base));
    const viaFactor = tensorRelError(T2, await tensorFactorizeRecover(Tc2, P2, base));
    const viaMttkrp = tensorRelError(T2, await tensorFactorizeRecover(Tc2, P2, { ...base, lift: 'mttkrp' }));
    expect(Math.abs(viaMttkrp - rf), `FR ${viaMttkrp} vs RF ${rf}`).toBeLessThan(0.02);
    // Here A~ stays in the cone, so lifting it does as well; on the EEG tensor it does not (README).
    expect(viaMttkrp).toBeLessThan(viaFactor + 0.005);
  });

  it('the min-ℓ2 recovery beats the LP vertex on such signals (both lifting the factor)', async () => {
    const lp = tensorRelError(T2, await tensorFactorizeRecover(Tc2, P2, { cp: base.cp, recovery: { method: 'lp' } }));
    const minL2 = tensorRelError(T2, await tensorFactorizeRecover(Tc2, P2, base));
    expect(minL2).toBeLessThan(lp);
  });

  it('an unknown lift is an InvalidOptionError naming it', async () => {
    await expect(tensorFactorizeRecover(Tc2, P2, { ...base, lift: 'fibers' as 'factor' })).rejects.toThrow(/'lift'/);
  });
});
