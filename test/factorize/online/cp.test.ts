/**
 * OnlineCP: planted recovery of B, C from a random start, the warm start, tracking a switched B
 * (with and without forgetting), the recovered temporal factor of a planted window, the reported
 * fit and weights against direct computations, the state round trip with bit-exact continuation,
 * refusal of bad windows without touching the model, option validation, and bounded state.
 *
 * Planted stream: X_w = [[A_w, B, C]] (L×m1×m2) with B, C dense non-negative (uniform entries,
 * unit-norm columns) fixed, and A_w (L×r) new per window with k-sparse non-negative columns;
 * the model sees T~_w = X_w ×₁ P + noise (P sparse-binary, d×L, the paper's p = 5), the noise
 * i.i.d. Gaussian with standard deviation `noise` × the RMS entry of X_w ×₁ P.
 * B and C are scored by the matched |Pearson| correlation of their columns (optimal assignment;
 * src/compressed/metrics.ts), A_w and Ã_w by the matched relative error.
 */
import { describe, expect, it } from 'vitest';
import { matchedCorrelation, matchedError } from '../../../src/compressed/metrics.js';
import { DataError, InvalidOptionError, NotFittedError, ShapeMismatchError } from '../../../src/errors.js';
import { cpReconstruct } from '../../../src/factorize/cp/mttkrp.js';
import {
  DEFAULT_ONLINE_CP_OPTIONS, ONLINE_CP_CONSTRAINTS, OnlineCP, type OnlineCpOptions, type OnlineCpState,
} from '../../../src/factorize/online/cp.js';
import type { Constraint } from '../../../src/factorize/validate.js';
import { badValues, documentedDefaults } from './options.js';
import type { Matrix } from '../../../src/linalg/matrix.js';
import { Rng } from '../../../src/linalg/random.js';
import { recoverColumns } from '../../../src/recovery/index.js';
import { makeProjection, type Tensor3 } from '../../../src/sensing/index.js';

// L = 64 time bins per window compressed to d = 24, modes 8 × 10, rank 3, 4 events per column.
const L = 64, D = 24, M1 = 8, M2 = 10, R = 3, K = 4;
const SHAPE = [M1, M2] as const;
const P = makeProjection({ ensemble: 'sparse-binary', n: L, d: D, seed: 7 });

/** n×r, uniform(0, 1) entries, unit-norm columns. */
function denseFactor(n: number, rng: Rng): Matrix {
  const data = new Float64Array(n * R).map(() => rng.uniform());
  for (let t = 0; t < R; t++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += data[i * R + t]! ** 2;
    for (let i = 0; i < n; i++) data[i * R + t]! /= Math.sqrt(s);
  }
  return { rows: n, cols: R, data };
}

/** L×r, K non-zeros per column at random times, values 0.5 + |N(0,1)|. */
function sparseTemporal(rng: Rng): Matrix {
  const data = new Float64Array(L * R);
  for (let t = 0; t < R; t++) {
    const rows = new Set<number>();
    while (rows.size < K) rows.add(rng.int(L));
    for (const i of rows) data[i * R + t] = 0.5 + Math.abs(rng.normal());
  }
  return { rows: L, cols: R, data };
}

/** The compressed window T~ = [[A, B, C]] ×₁ P + noise (relative to its RMS entry). */
function compressedWindow(A: Matrix, B: Matrix, C: Matrix, noise: number, rng: Rng): Tensor3 {
  const T = P.applyMode1(cpReconstruct([A, B, C]));
  let s = 0;
  for (const v of T.data) s += v * v;
  const sd = noise * Math.sqrt(s / T.data.length);
  return { dims: [D, M1, M2], data: T.data.map((v) => v + sd * rng.normal()) };
}

/** A planted stationary stream: B, C and a generator of windows (with their true A_w). */
function plantedStream(seed: number, noise: number) {
  const rng = new Rng(seed);
  const B = denseFactor(M1, rng), C = denseFactor(M2, rng);
  const next = (b: Matrix = B): { A: Matrix; T: Tensor3 } => {
    const A = sparseTemporal(rng);
    return { A, T: compressedWindow(A, b, C, noise, rng) };
  };
  return { B, C, next, rng };
}

const corr = (truth: Matrix, est: Matrix): { mean: number; min: number } => {
  const m = matchedCorrelation(truth, est);
  return { mean: m.mean, min: Math.min(...m.perComponent) };
};

const roundTrip = <T>(s: T): T => JSON.parse(JSON.stringify(s)) as T;

/** True when two arrays hold the same doubles bit for bit (Object.is: distinguishes −0, equates NaN). */
function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------

describe('OnlineCP — learning', () => {
  it('recovers planted B and C from a random start: matched |corr| of every column > 0.95 after 100 windows (5% noise)', () => {
    // Bound: over seeds 1–8 of this stream the worst column lands at ≥ 0.98 after 100 windows;
    // the random start is far from it (worst column < 0.9), so passing needs the online updates.
    const s = plantedStream(21, 0.05);
    const model = new OnlineCP({ rank: R, shape: SHAPE, warmStartWindows: 0, seed: 4 });
    model.partialFit(s.next().T);
    const first = [corr(s.B, model.components().B), corr(s.C, model.components().C)];
    for (let w = 1; w < 100; w++) model.partialFit(s.next().T);
    const { B, C, weights } = model.components();
    const cb = corr(s.B, B), cc = corr(s.C, C);
    expect(Math.min(first[0]!.min, first[1]!.min), `worst column after the first window: B ${first[0]!.min}, C ${first[1]!.min}`).toBeLessThan(0.9);
    expect(cb.min, `B: worst column |corr| ${cb.min} (mean ${cb.mean})`).toBeGreaterThan(0.95);
    expect(cc.min, `C: worst column |corr| ${cc.min} (mean ${cc.mean})`).toBeGreaterThan(0.95);
    // The fit of the last window is at the noise level (5%), not above it by much.
    expect(model.lastFitError, `fit ${model.lastFitError}`).toBeLessThan(0.08);
    expect(model.windowsSeen).toBe(100);
    expect(model.framesSeen).toBe(100 * D);
    expect(Math.min(...B.data, ...C.data)).toBeGreaterThanOrEqual(0);
    for (const F of [B, C]) {
      for (let t = 0; t < R; t++) {
        let sq = 0;
        for (let i = 0; i < F.rows; i++) sq += F.data[i * R + t]! ** 2;
        expect(sq).toBeCloseTo(1, 12);
      }
    }
    expect(Math.min(...weights)).toBeGreaterThan(0);
  });

  it('warm start: buffers N windows (null, not fitted, buffer in the state), then starts from batch nn-CP of their stack', () => {
    const s = plantedStream(22, 0.01);
    const model = new OnlineCP({ rank: R, shape: SHAPE, warmStartWindows: 3, seed: 1 });
    expect(model.partialFit(s.next().T)).toBeNull();
    expect(model.partialFit(s.next().T)).toBeNull();
    expect(() => model.components()).toThrow(NotFittedError);
    expect(() => model.transform(s.next().T)).toThrow(NotFittedError);
    expect(model.fitted).toBe(false);
    expect(model.windowsSeen).toBe(2);
    const buffering = roundTrip(model.state());
    expect(buffering.B).toBeNull();
    expect(buffering.warmStartBuffer!.rows).toBe(2 * D);
    const copy = new OnlineCP({ rank: R, shape: SHAPE }).restore(buffering);
    const third = s.next().T;
    const Ac = model.partialFit(third)!;
    expect(copy.partialFit(third)!.data).toEqual(Ac.data);
    expect(Ac.rows).toBe(D);
    expect(model.windowsSeen).toBe(3);
    const cb = corr(s.B, model.components().B), cc = corr(s.C, model.components().C);
    expect(cb.min, `B right after the warm start: ${cb.min}`).toBeGreaterThan(0.99);
    expect(cc.min, `C right after the warm start: ${cc.min}`).toBeGreaterThan(0.99);
  });

  it('tracks a switch of B: with λ = 0.8 every column of the new B has |corr| > 0.95 within 40 windows; with λ = 1 the mean stays < 0.8', () => {
    // Same stream for both: 60 windows with B1, then 40 with B2 (C fixed). Over seeds 1–8 λ = 0.8
    // reaches ≥ 0.97 (mean) and λ = 1 at most 0.72: the old windows keep B1 in P_B, Q_B.
    const result: Record<string, { b2: number; b2min: number; c: number }> = {};
    for (const forgetting of [0.8, 1]) {
      const rng = new Rng(23);
      const B1 = denseFactor(M1, rng), B2 = denseFactor(M1, rng), C = denseFactor(M2, rng);
      const model = new OnlineCP({ rank: R, shape: SHAPE, forgetting, seed: 2 });
      for (let w = 0; w < 100; w++) model.partialFit(compressedWindow(sparseTemporal(rng), w < 60 ? B1 : B2, C, 0.01, rng));
      const { B, C: Ce } = model.components();
      const cb = corr(B2, B);
      result[forgetting] = { b2: cb.mean, b2min: cb.min, c: corr(C, Ce).mean };
      if (forgetting === 1) expect(corr(B1, B2).mean, 'B1 and B2 differ').toBeLessThan(0.6);
    }
    expect(result[0.8]!.b2min, `λ = 0.8: ${JSON.stringify(result[0.8])}`).toBeGreaterThan(0.95);
    expect(result[0.8]!.c, `λ = 0.8: ${JSON.stringify(result[0.8])}`).toBeGreaterThan(0.95);
    expect(result[1]!.b2, `λ = 1: ${JSON.stringify(result[1])}`).toBeLessThan(0.8);
  });

  it('a planted window: Ã_w matches P·A_w (matched error < 0.02) and R_P(Ã_w) matches A_w (< 0.03); transform agrees and changes nothing', async () => {
    // 1% noise, warm start on the first window, 30 windows. The recovery setting itself is exact
    // (R_P(P·A_w) = A_w to rounding), so the bound measures the model's Ã_w.
    const s = plantedStream(24, 0.01);
    const model = new OnlineCP({ rank: R, shape: SHAPE, seed: 3 });
    let last = s.next();
    let Ac = model.partialFit(last.T)!;
    for (let w = 1; w < 30; w++) {
      last = s.next();
      Ac = model.partialFit(last.T)!;
    }
    const oracle = await recoverColumns(P, P.applyColumns(last.A), { nonneg: true });
    expect(matchedError(last.A, oracle.W).error).toBeLessThan(1e-9);
    const errAc = matchedError(P.applyColumns(last.A), Ac).error;
    const rec = await recoverColumns(P, Ac, { nonneg: true });
    const errA = matchedError(last.A, rec.W).error;
    expect(errAc, `Ã_w vs P·A_w: ${errAc}`).toBeLessThan(0.02);
    expect(errA, `R_P(Ã_w) vs A_w: ${errA}`).toBeLessThan(0.03);
    // transform: a fresh window of the same model, coded with B, C fixed, leaves the state alone.
    const before = JSON.stringify(model.state());
    const probe = s.next();
    const out: Matrix = { rows: D, cols: R, data: new Float64Array(D * R) };
    expect(model.transform(probe.T, out)).toBe(out);
    expect(JSON.stringify(model.state())).toBe(before);
    expect(matchedError(P.applyColumns(probe.A), out).error).toBeLessThan(0.02);
  });
});

describe('OnlineCP — reported quantities', () => {
  it('lastFitError equals ‖T~ − [[Ã, B, C]]‖/‖T~‖ computed on the full tensor; weights equal the discounted RMS of Ã columns', () => {
    const s = plantedStream(25, 0.05);
    const lam = 0.7;
    const model = new OnlineCP({ rank: R, shape: SHAPE, forgetting: lam, warmStartWindows: 0, seed: 5 });
    const scale = new Float64Array(R);
    let mass = 0;
    for (let w = 0; w < 12; w++) {
      const { T } = s.next();
      const Ac = model.partialFit(T)!;
      const { B, C, weights } = model.components();
      const X = cpReconstruct([Ac, B, C]);
      let num = 0, den = 0;
      for (let i = 0; i < X.data.length; i++) { num += (X.data[i]! - T.data[i]!) ** 2; den += T.data[i]! ** 2; }
      expect(model.lastFitError).toBeCloseTo(Math.sqrt(num / den), 9);
      for (let t = 0; t < R; t++) {
        let sq = 0;
        for (let i = 0; i < D; i++) sq += Ac.data[i * R + t]! ** 2;
        scale[t] = lam * scale[t]! + sq;
      }
      mass = lam * mass + 1;
      for (let t = 0; t < R; t++) expect(weights[t]! / Math.sqrt(scale[t]! / mass)).toBeCloseTo(1, 10);
    }
  });

  it('fit(windows) is a reset followed by partialFit over them; partialFit(·, out) writes into out and returns it', () => {
    const s = plantedStream(26, 0.02);
    const windows = Array.from({ length: 6 }, () => s.next().T);
    const a = new OnlineCP({ rank: R, shape: SHAPE, seed: 6 });
    a.partialFit(s.next().T); // learned something first: fit must forget it
    a.fit(windows);
    const b = new OnlineCP({ rank: R, shape: SHAPE, seed: 6 });
    const out: Matrix = { rows: D, cols: R, data: new Float64Array(D * R) };
    for (const T of windows) expect(b.partialFit(T, out)).toBe(out);
    expect(a.state()).toEqual(b.state());
    expect(a.windowsSeen).toBe(6);
  });
});

describe('OnlineCP — state', () => {
  for (const [label, extra] of [['warm start', {}], ['random start, λ = 1, 3 sweeps', { warmStartWindows: 0, forgetting: 1, factorSweeps: 3 }]] as const) {
    it(`state/restore round trip (${label}): both copies continue bit for bit`, () => {
      const s = plantedStream(27, 0.05);
      const model = new OnlineCP({ rank: R, shape: SHAPE, seed: 8, ...extra });
      for (let w = 0; w < 15; w++) model.partialFit(s.next().T);
      const snap = roundTrip(model.state());
      expect(snap).toEqual(roundTrip(model.state())); // state() itself changes nothing
      const copy = new OnlineCP({ rank: 1, shape: [1, 1] }).restore(snap);
      expect(copy.options).toEqual(model.options);
      expect(copy.windowsSeen).toBe(15);
      for (let w = 0; w < 10; w++) {
        const { T } = s.next();
        const a = model.partialFit(T)!, b = copy.partialFit(T)!;
        expect(sameBits(a.data, b.data), `window ${w}: Ã`).toBe(true);
        expect(Object.is(model.lastFitError, copy.lastFitError)).toBe(true);
      }
      const ca = model.components(), cb = copy.components();
      expect(sameBits(ca.B.data, cb.B.data) && sameBits(ca.C.data, cb.C.data) && sameBits(ca.weights, cb.weights)).toBe(true);
      expect(JSON.stringify(copy.state())).toBe(JSON.stringify(model.state()));
    });
  }

  it('restore checks the snapshot and leaves the model as it was when it refuses one', () => {
    const s = plantedStream(28, 0.05);
    const model = new OnlineCP({ rank: R, shape: SHAPE });
    for (let w = 0; w < 3; w++) model.partialFit(s.next().T);
    const good = roundTrip(model.state());
    const target = new OnlineCP({ rank: R, shape: SHAPE }).restore(roundTrip(good));
    const before = JSON.stringify(target.state());
    const bad: [string, (x: OnlineCpState) => unknown, RegExp][] = [
      ['kind', (x) => ({ ...x, kind: 'OnlineNMF' }), /kind must be 'OnlineCP'/],
      ['version', (x) => ({ ...x, version: 2 }), /unsupported state version 2/],
      ['options', (x) => ({ ...x, options: { ...x.options, forgetting: 0 } }), /forgetting/],
      ['shape', (x) => ({ ...x, options: { ...x.options, shape: [M1, M2 + 1] } }), /C|PC/],
      ['negative B', (x) => ({ ...x, B: { ...x.B!, data: x.B!.data.map((v, i) => (i === 3 ? -1 : v)) } }), /negative/],
      ['NaN in QB', (x) => ({ ...x, QB: { ...x.QB!, data: x.QB!.data.map((v, i) => (i === 0 ? null : v)) } }), /finite/],
      ['d < rank', (x) => ({ ...x, d: R - 1 }), /d must be an integer ≥ rank/],
      ['scale', (x) => ({ ...x, scale: [1] }), /scale must be 3 finite numbers/],
      ['mass', (x) => ({ ...x, mass: -1 }), /mass/],
    ];
    for (const [name, mutate, message] of bad) {
      expect(() => target.restore(mutate(roundTrip(good)) as OnlineCpState), name).toThrow(message);
      expect(JSON.stringify(target.state()), name).toBe(before);
    }
    expect(() => new OnlineCP({ rank: R, shape: SHAPE }).state()).toThrow(NotFittedError);
  });

  it('bounded state: nothing in the snapshot grows with the number of windows (10 vs 200)', () => {
    const s = plantedStream(29, 0.05);
    const model = new OnlineCP({ rank: R, shape: SHAPE });
    const sizes = (st: OnlineCpState): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const [k, v] of Object.entries(st)) if (v && typeof v === 'object' && 'data' in v) out[k] = (v as { data: number[] }).data.length;
      return out;
    };
    let early: Record<string, number> = {};
    for (let w = 0; w < 200; w++) {
      model.partialFit(s.next().T);
      if (w === 9) early = sizes(model.state());
    }
    expect(sizes(model.state())).toEqual(early);
    expect(early).toEqual({ B: M1 * R, C: M2 * R, PB: M1 * R, QB: R * R, PC: M2 * R, QC: R * R });
    expect(model.windowsSeen).toBe(200);
  });
});

describe('OnlineCP — bad input', () => {
  it('refuses wrong dims, wrong length, NaN, ±Infinity and a wrong output matrix before changing anything', () => {
    const s = plantedStream(30, 0.05);
    const model = new OnlineCP({ rank: R, shape: SHAPE });
    const fresh = new OnlineCP({ rank: R, shape: SHAPE });
    const ok = s.next().T;
    const withValue = (i: number, v: number): Tensor3 => {
      const data = ok.data.slice();
      data[i] = v;
      return { dims: ok.dims, data };
    };
    const cases: [string, unknown, RegExp][] = [
      ['NaN', withValue(5 * M1 * M2 + 2 * M2 + 3, NaN), /entry \(5, 2, 3\) is NaN/],
      ['Infinity', withValue(0, Infinity), /entry \(0, 0, 0\) is Infinity/],
      ['-Infinity', withValue(1, -Infinity), /-Infinity/],
      ['wrong m1', { dims: [D, M1 + 1, M2], data: new Float64Array(D * (M1 + 1) * M2) }, /expected \[d, 8, 10\]/],
      ['short data', { dims: ok.dims, data: ok.data.subarray(1) }, /entries; expected d·m1·m2/],
      ['not a tensor', { dims: [D, M1, M2], data: Array.from(ok.data) }, /expected a Tensor3/],
      ['null', null, /expected a Tensor3/],
    ];
    for (const m of [fresh, model]) {
      if (m === model) model.partialFit(ok);
      const before = m === model ? JSON.stringify(model.state()) : '';
      for (const [name, T, message] of cases) {
        let err: unknown;
        try { m.partialFit(T as Tensor3); } catch (e) { err = e; }
        expect(err, name).toBeInstanceOf(DataError);
        expect((err as Error).message, name).toMatch(message);
        if (m === model) expect(JSON.stringify(model.state()), name).toBe(before);
        else expect(fresh.windowLength, name).toBe(0);
      }
      if (m === model) {
        const other = { dims: [D - 1, M1, M2] as const, data: new Float64Array((D - 1) * M1 * M2) };
        expect(() => model.partialFit(other)).toThrow(/d = 23 compressed slices; this model's d is 24/);
        expect(() => model.transform(withValue(0, NaN))).toThrow(DataError);
        expect(() => model.partialFit(ok, { rows: D, cols: R + 1, data: new Float64Array(D * (R + 1)) })).toThrow(ShapeMismatchError);
        expect(JSON.stringify(model.state())).toBe(before);
      }
    }
    expect(() => fresh.state()).toThrow(NotFittedError);
    // rank above the compressed length is a configuration error, found at the first window.
    const tiny = { dims: [2, M1, M2] as const, data: new Float64Array(2 * M1 * M2).fill(1) };
    expect(() => new OnlineCP({ rank: R, shape: SHAPE }).partialFit(tiny)).toThrow(InvalidOptionError);
    // negative entries are data (noise), not an error
    expect(() => new OnlineCP({ rank: R, shape: SHAPE }).partialFit(withValue(0, -0.5))).not.toThrow();
  });
});

// ---------------------------------------------------------------------------------------------
// Options.

describe('OnlineCP — options', () => {
  it('every field has a constraint (shape aside); every default satisfies it; the documented defaults equal the defaults object', () => {
    expect(Object.keys(ONLINE_CP_CONSTRAINTS).sort()).toEqual([...Object.keys(DEFAULT_ONLINE_CP_OPTIONS), 'rank'].sort());
    expect(Object.isFrozen(DEFAULT_ONLINE_CP_OPTIONS)).toBe(true);
    expect(documentedDefaults('cp.ts', 'OnlineCpOptions')).toEqual({ rank: 'required', shape: 'required', ...DEFAULT_ONLINE_CP_OPTIONS });
    const m = new OnlineCP({ rank: 3, shape: [4, 5] });
    expect(m.options).toEqual({ rank: 3, shape: [4, 5], ...DEFAULT_ONLINE_CP_OPTIONS });
    expect(Object.isFrozen(m.options)).toBe(true);
    expect(Object.isFrozen(m.options.shape)).toBe(true);
  });

  for (const [field, c] of Object.entries(ONLINE_CP_CONSTRAINTS) as [keyof OnlineCpOptions, Constraint][]) {
    it(`'${field}' refuses values outside its constraint with an InvalidOptionError naming it`, () => {
      for (const bad of badValues(c)) {
        let err: unknown;
        try { new OnlineCP({ rank: 3, shape: [4, 5], [field]: bad }); } catch (e) { err = e; }
        expect(err, `${field} = ${String(bad)}`).toBeInstanceOf(InvalidOptionError);
        const e = err as InvalidOptionError;
        expect(e.owner).toBe('OnlineCP');
        expect(e.option).toBe(field);
        expect(e.message).toContain(`OnlineCP: option '${field}' must be`);
      }
    });
  }

  it('shape and rank are required, shape is a pair of integers ≥ 1, unknown options are refused, the caller\'s object is not touched', () => {
    expect(() => new OnlineCP({ shape: [4, 5] } as never)).toThrow(/option 'rank' must be an integer ≥ 1; got undefined/);
    for (const shape of [undefined, [4], [4, 5, 6], [0, 5], [4, 2.5], '4x5', [4, '5']]) {
      expect(() => new OnlineCP({ rank: 2, shape } as never), JSON.stringify(shape)).toThrow(/option 'shape' must be a pair \[m1, m2\] of integers ≥ 1/);
    }
    expect(() => new OnlineCP({ rank: 2, shape: [4, 5], forgeting: 0.5 } as never)).toThrow(/option 'forgeting' must be a known option/);
    expect(() => new OnlineCP(undefined as never)).toThrow(InvalidOptionError);
    const given = { rank: 2, shape: [4, 5] as const, forgetting: 0.5 };
    const m = new OnlineCP(given);
    expect(given).toEqual({ rank: 2, shape: [4, 5], forgetting: 0.5 });
    expect(m.options.shape).not.toBe(given.shape);
  });
});
