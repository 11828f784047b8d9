/**
 * OnlineNMF: planted recovery on a stationary stream, tracking a switched factor (with and without
 * forgetting), batch-size / input-type / entry-point equivalences, the state round trip with
 * bit-exact continuation, refusal of bad frames without touching the model, option validation,
 * and bounded memory. The kernels' two backends (SIMD WebAssembly, JS) are compared on seeded data.
 *
 * Planted stream: W̃ (d×r) non-negative with k non-zeros per column (like P·W), codes h ~ |N(0,1)|,
 * frames y = max(0, W̃h + 0.1·N(0, I)). Errors are matched errors (src/compressed/metrics.ts)
 * between unit-norm columns, since NMF fixes each column only up to scale.
 */
import { describe, expect, it } from 'vitest';
import { matchedError } from '../../../src/compressed/metrics.js';
import { DataError, InvalidOptionError, NotFittedError } from '../../../src/errors.js';
import { nmf } from '../../../src/factorize/nmf.js';
import { benchOnlineNmf } from '../../../src/experiments/benchOnline.js';
import {
  DEFAULT_ONLINE_NMF_OPTIONS, ONLINE_NMF_CONSTRAINTS, ONLINE_NMF_FIT_BATCH, OnlineNMF,
  type OnlineNmfOptions, type OnlineNmfState,
} from '../../../src/factorize/online/nmf.js';
import { codeFramesJs, createArena, wasmKernelsAvailable } from '../../../src/factorize/online/kernels.js';
import type { Constraint } from '../../../src/factorize/validate.js';
import { badValues, documentedDefaults } from './options.js';
import type { Matrix } from '../../../src/linalg/matrix.js';
import { Rng } from '../../../src/linalg/random.js';
import { cholesky } from '../../../src/linalg/small.js';

// ---------------------------------------------------------------------------------------------
// Planted streams.

/** Non-negative d×r factor with k non-zeros per column, values 0.2 + |N(0,1)|. */
function sparseFactor(d: number, r: number, k: number, rng: Rng): Matrix {
  const W = new Float64Array(d * r);
  for (let t = 0; t < r; t++) {
    const rows = new Set<number>();
    while (rows.size < k) rows.add(rng.int(d));
    for (const i of rows) W[i * r + t] = 0.2 + Math.abs(rng.normal());
  }
  return { rows: d, cols: r, data: W };
}

/** Columns scaled to unit norm. */
function unitColumns(W: Matrix): Matrix {
  const out = W.data.slice();
  for (let t = 0; t < W.cols; t++) {
    let s = 0;
    for (let i = 0; i < W.rows; i++) s += out[i * W.cols + t]! ** 2;
    const n = Math.sqrt(s) || 1;
    for (let i = 0; i < W.rows; i++) out[i * W.cols + t]! /= n;
  }
  return { rows: W.rows, cols: W.cols, data: out };
}

/** Matched error between the unit-norm columns of the true factor and the model's W̃. */
const errorVs = (Wtrue: Matrix, model: OnlineNMF): number => matchedError(unitColumns(Wtrue), unitColumns(model.components().W)).error;

/** Writes `count` frames y = max(0, W h + noise·N(0, I)), h ~ |N(0,1)|, row-major into `out`. */
function drawFrames(W: Matrix, count: number, noise: number, rng: Rng, out: Float64Array = new Float64Array(count * W.rows)): Float64Array {
  const { rows: d, cols: r } = W;
  const h = new Float64Array(r);
  for (let j = 0; j < count; j++) {
    for (let t = 0; t < r; t++) h[t] = Math.abs(rng.normal());
    for (let i = 0; i < d; i++) {
      let s = noise * rng.normal();
      for (let t = 0; t < r; t++) s += W.data[i * r + t]! * h[t]!;
      out[j * d + i] = s > 0 ? s : 0;
    }
  }
  return out;
}

/** Row-major frames (count×d) as a d×count matrix (columns = frames). */
function asColumns(frames: Float64Array, count: number, d: number): Matrix {
  const data = new Float64Array(d * count);
  for (let j = 0; j < count; j++) for (let i = 0; i < d; i++) data[i * count + j] = frames[j * d + i]!;
  return { rows: d, cols: count, data };
}

/** Streams `frames` (count×d) into the model `batch` frames per call. */
function stream(model: OnlineNMF, frames: Float64Array, count: number, d: number, batch: number): void {
  for (let j = 0; j < count; j += batch) {
    const n = Math.min(batch, count - j);
    model.partialFitFrames(frames.subarray(j * d, (j + n) * d), n);
  }
}

const roundTrip = <T>(s: T): T => JSON.parse(JSON.stringify(s)) as T;

// d = 60, r = 4, k = 15, noise 0.1: small enough for milliseconds per thousand frames.
const D = 60, R = 4, K = 15, NOISE = 0.1;

// ---------------------------------------------------------------------------------------------

describe('OnlineNMF — learning', () => {
  it('converges on a stationary stream: matched error of W̃ < 0.06 and < 1.5× batch NMF on 2000 frames', () => {
    // Bound: batch HALS on 2000 frames of this stream (the paper's m) reaches ≈ 0.04 — its noise
    // floor at that sample size; the online model (default β = 0.995: a 200-frame memory, but
    // 16,000 frames to learn from) must land within 1.5× of it, and in any case below 0.06.
    const rng = new Rng(11);
    const W = sparseFactor(D, R, K, rng);
    const frames = drawFrames(W, 16_000, NOISE, rng);
    const model = new OnlineNMF({ rank: R, seed: 1 });
    stream(model, frames, 16_000, D, 32);
    const online = errorVs(W, model);
    const batch = matchedError(unitColumns(W), unitColumns(nmf(asColumns(frames, 2000, D), { rank: R, seed: 1 }).W)).error;
    expect(batch, `batch reference ${batch}`).toBeLessThan(0.05);
    expect(online, `online ${online} vs batch ${batch}`).toBeLessThan(Math.min(0.06, 1.5 * batch));
    expect(model.framesSeen).toBe(16_000);
    expect(Math.min(...model.components().W.data)).toBeGreaterThanOrEqual(0);
  });

  it('tracks a switch of the factor: with β = 0.98 the error vs the new factor is < 0.1 within 2400 frames; with β = 1 it is still > 0.5', () => {
    // Same stream for both: 3200 frames of W1, then W2. β = 0.98 forgets W1 (memory 50 frames);
    // β = 1 keeps every W1 frame in A and B, which then outweigh the W2 frames for a long time.
    const rng = new Rng(12);
    const W1 = sparseFactor(D, R, K, rng), W2 = sparseFactor(D, R, K, rng);
    const before = drawFrames(W1, 3200, NOISE, rng), after = drawFrames(W2, 2400, NOISE, rng);
    const err: Record<string, number> = {};
    for (const forgetting of [0.98, 1]) {
      const model = new OnlineNMF({ rank: R, forgetting, seed: 2 });
      stream(model, before, 3200, D, 32);
      stream(model, after, 2400, D, 32);
      err[forgetting] = errorVs(W2, model);
    }
    expect(err[0.98], `β = 0.98: error vs W2 after 2400 frames = ${err[0.98]}`).toBeLessThan(0.1);
    expect(err[1], `β = 1: error vs W2 after 2400 frames = ${err[1]}`).toBeGreaterThan(0.5);
  });

  it('warm start: buffers N frames (not fitted before), then starts from batch NMF and is at least as good as the random start', () => {
    const rng = new Rng(13);
    const W = sparseFactor(D, R, K, rng);
    const frames = drawFrames(W, 1600, NOISE, rng);
    const warm = new OnlineNMF({ rank: R, warmStartFrames: 500, seed: 3 });
    stream(warm, frames, 480, D, 32);
    expect(() => warm.components()).toThrow(NotFittedError);
    expect(warm.framesSeen).toBe(480);
    stream(warm, frames.subarray(480 * D), 1600 - 480, D, 32);
    const cold = new OnlineNMF({ rank: R, seed: 3 });
    stream(cold, frames, 1600, D, 32);
    const ew = errorVs(W, warm), ec = errorVs(W, cold);
    expect(ew, `warm-started error after 1600 frames ${ew}`).toBeLessThan(0.08);
    expect(ew, `warm ${ew} vs random start ${ec}`).toBeLessThan(ec);
  });

  it('l1H > 0 gives sparser codes than l1H = 0 on the same frames', () => {
    const rng = new Rng(14);
    const W = sparseFactor(D, R, K, rng);
    const frames = drawFrames(W, 640, NOISE, rng);
    const zeros = (m: OnlineNMF) => m.components().H.data.filter((v) => v === 0).length;
    const plain = new OnlineNMF({ rank: R, seed: 4 }), sparse = new OnlineNMF({ rank: R, seed: 4, l1H: 2 });
    stream(plain, frames, 640, D, 64);
    stream(sparse, frames, 640, D, 64);
    expect(zeros(sparse)).toBeGreaterThan(zeros(plain));
  });
});

describe('OnlineNMF — equivalent paths', () => {
  const rng = new Rng(21);
  const W = sparseFactor(D, R, K, rng);
  const frames = drawFrames(W, 640, NOISE, rng);

  it('one frame per call computes exactly what mini-batches of 32 compute (same W̃, A, B and queue)', () => {
    const a = new OnlineNMF({ rank: R, seed: 5 }), b = new OnlineNMF({ rank: R, seed: 5 });
    stream(a, frames, 630, D, 1);
    stream(b, frames, 630, D, 32); // 630 = 19·32 + 22: both hold the same 22 queued frames
    const { H: ha, ...sa } = a.state();
    const { H: hb, ...sb } = b.state();
    expect(sa).toEqual(sb);
    expect(sa.queuedFrames.rows).toBe(22);
    expect(ha.cols).toBe(1);
    expect(hb.cols).toBe(22);
    expect(ha.data).toEqual(hb.data.filter((_, i) => i % 22 === 21)); // the last frame's code
  });

  it('partialFit (d×b columns), partialFitFrames (Float64, Float32) and fit agree exactly', () => {
    const f32 = Float32Array.from(frames);
    const f32as64 = Float64Array.from(f32);
    const a = new OnlineNMF({ rank: R, seed: 6 }), b = new OnlineNMF({ rank: R, seed: 6 });
    stream(a, f32as64, 640, D, ONLINE_NMF_FIT_BATCH);
    stream(b, f32 as unknown as Float64Array, 640, D, ONLINE_NMF_FIT_BATCH);
    expect(b.state()).toEqual(a.state());
    const c = new OnlineNMF({ rank: R, seed: 6 });
    for (let j = 0; j < 640; j += 32) c.partialFit(asColumns(f32as64.subarray(j * D, (j + 32) * D), 32, D));
    expect(c.state()).toEqual(a.state());
    const e = new OnlineNMF({ rank: R, seed: 6 }).fit(asColumns(frames, 640, D)); // a fit on other data first…
    e.fit(asColumns(f32as64, 640, D)); // …is forgotten by the next fit
    expect(e.state()).toEqual(a.state());
  });

  it('a long call is processed like consecutive calls of ONLINE_NMF_MAX_BATCH frames', () => {
    const a = new OnlineNMF({ rank: R, seed: 7 }), b = new OnlineNMF({ rank: R, seed: 7 });
    a.partialFitFrames(frames, 640);
    stream(b, frames, 640, D, 256);
    expect(a.state()).toEqual(b.state());
  });

  it.skipIf(!wasmKernelsAvailable())('the WebAssembly and JS backends agree to rounding', () => {
    const a = new OnlineNMF({ rank: R, seed: 8 }, { backend: 'wasm' }), b = new OnlineNMF({ rank: R, seed: 8 }, { backend: 'js' });
    stream(a, frames, 320, D, 32);
    stream(b, frames, 320, D, 32);
    expect(a.kernelBackend).toBe('wasm');
    expect(b.kernelBackend).toBe('js');
    const wa = a.components().W.data, wb = b.components().W.data;
    let diff = 0, norm = 0;
    for (let i = 0; i < wa.length; i++) { diff += (wa[i]! - wb[i]!) ** 2; norm += wb[i]! ** 2; }
    expect(Math.sqrt(diff / norm)).toBeLessThan(1e-9);
  });
});

describe('OnlineNMF — state and restore', () => {
  const rng = new Rng(31);
  const W = sparseFactor(D, R, K, rng);
  const frames = drawFrames(W, 1200, NOISE, rng);

  it('state → JSON → restore → continuing both copies on the same frames gives identical W̃ (mid-queue, odd batches)', () => {
    const model = new OnlineNMF({ rank: R, seed: 9, forgetting: 0.99 });
    stream(model, frames, 500, D, 7); // 500 = 15·32 + 20: frames are queued
    const state = roundTrip(model.state());
    expect(state.queuedFrames.rows).toBeGreaterThan(0);
    const copy = new OnlineNMF({ rank: 1 }).restore(state);
    expect(copy.options).toEqual(model.options);
    expect(copy.framesSeen).toBe(500);
    expect(copy.components()).toEqual(model.components());
    for (const m of [model, copy]) stream(m, frames.subarray(500 * D), 700, D, 13);
    expect(copy.components().W.data).toEqual(model.components().W.data);
    expect(copy.state()).toEqual(model.state());
  });

  it('round trip while warm-start frames are buffered, then through the warm start', () => {
    const model = new OnlineNMF({ rank: R, seed: 10, warmStartFrames: 300 });
    stream(model, frames, 200, D, 32);
    const state = roundTrip(model.state());
    expect(state.W).toBeNull();
    expect(state.warmStartBuffer?.rows).toBe(200);
    const copy = new OnlineNMF({ rank: R }).restore(state);
    for (const m of [model, copy]) stream(m, frames.subarray(200 * D), 400, D, 32);
    expect(copy.state()).toEqual(model.state());
    expect(model.state().warmStartBuffer).toBeNull();
  });

  it('restore refuses a wrong kind, version, shape, negative or non-finite entry — and leaves the model alone', () => {
    const model = new OnlineNMF({ rank: R, seed: 11 });
    stream(model, frames, 96, D, 32);
    const good = roundTrip(model.state());
    const target = new OnlineNMF({ rank: R, seed: 11 });
    stream(target, frames.subarray(96 * D), 64, D, 32);
    const before = target.state();
    const bad: [string, (s: OnlineNmfState) => void][] = [
      ['kind', (s) => { (s as { kind: string }).kind = 'NMF'; }],
      ['version', (s) => { (s as { version: number }).version = 2; }],
      ['W shape', (s) => { s.W!.data.pop(); }],
      ['negative W', (s) => { s.W!.data[3] = -1; }],
      ['NaN in B', (s) => { (s.B!.data as unknown[])[0] = null; }],
      ['options', (s) => { s.options.forgetting = 2; }],
      ['queue too long', (s) => { s.queuedFrames = { rows: 40, cols: D, data: new Array(40 * D).fill(0) }; s.queuedCodes = { rows: 40, cols: R, data: new Array(40 * R).fill(0) }; }],
    ];
    for (const [name, corrupt] of bad) {
      const s = roundTrip(good);
      corrupt(s);
      expect(() => target.restore(s), name).toThrow(name === 'options' ? InvalidOptionError : Error);
      expect(target.state(), name).toEqual(before);
    }
  });
});

describe('OnlineNMF — bad input', () => {
  const rng = new Rng(41);
  const W = sparseFactor(D, R, K, rng);
  const frames = drawFrames(W, 256, NOISE, rng);

  const fitted = () => {
    const m = new OnlineNMF({ rank: R, seed: 12 });
    stream(m, frames, 100, D, 10); // some frames queued
    return m;
  };

  for (const [label, value, word] of [['NaN', NaN, 'NaN'], ['Infinity', Infinity, 'Infinity'], ['-Infinity', -Infinity, '-Infinity'], ['negative', -0.5, 'negative']] as const) {
    it(`a ${label} entry throws DataError naming the frame and the entry, and leaves state() unchanged`, () => {
      for (const f32 of [false, true]) {
        const m = fitted();
        const before = m.state();
        const batch = frames.slice(0, 8 * D);
        batch[5 * D + 17] = value;
        const values = f32 ? Float32Array.from(batch) : batch;
        let err: unknown;
        try { m.partialFitFrames(values, 8); } catch (e) { err = e; }
        expect(err).toBeInstanceOf(DataError);
        expect(String((err as Error).message)).toMatch(new RegExp(`frame 5 of the batch \\(stream frame 105\\), entry 17 is ${word}`));
        expect(m.state()).toEqual(before);
        // the same entry through partialFit (column 5 = frame 5, row 17 = entry 17)
        expect(() => m.partialFit(asColumns(batch, 8, D))).toThrow(/frame 5 of the batch \(stream frame 105\), entry 17/);
        expect(m.state()).toEqual(before);
      }
    });
  }

  it('a bad frame in a long call (> ONLINE_NMF_MAX_BATCH frames) is refused before any of it is used', () => {
    const m = fitted();
    const before = m.state();
    const long = new Float64Array(300 * D).fill(0.5);
    long[290 * D + 3] = -1;
    expect(() => m.partialFitFrames(long, 300)).toThrow(/frame 290 of the batch .*entry 3 is negative/);
    expect(m.state()).toEqual(before);
  });

  it('a bad first call leaves the model unfitted (d not fixed)', () => {
    const m = new OnlineNMF({ rank: R });
    const batch = frames.slice(0, 4 * D);
    batch[2 * D] = NaN;
    expect(() => m.partialFitFrames(batch, 4)).toThrow(/frame 2 .*entry 0 is NaN/);
    expect(m.frameLength).toBe(0);
    expect(() => m.state()).toThrow(NotFittedError);
    m.partialFitFrames(frames.subarray(0, 4 * (D + 2)), 4); // any d is still accepted
    expect(m.frameLength).toBe(D + 2);
  });

  it('wrong lengths and shapes throw DataError and leave state() unchanged', () => {
    const m = fitted();
    const before = m.state();
    expect(() => m.partialFitFrames(frames.subarray(0, 3 * D + 1), 3)).toThrow(/expected count·d = 3·60 = 180 values; got 181/);
    expect(() => m.partialFitFrames(frames.subarray(0, 3 * D), 0)).toThrow(DataError);
    expect(() => m.partialFitFrames(frames.subarray(0, 3 * D), 2.5)).toThrow(DataError);
    expect(() => m.partialFitFrames([1, 2] as unknown as Float64Array, 1)).toThrow(DataError);
    expect(() => m.partialFit({ rows: D + 1, cols: 2, data: new Float64Array(2 * D + 2) })).toThrow(/frames have 61 entries \(rows\); this model's frame length d is 60/);
    expect(() => m.partialFit({ rows: D, cols: 2, data: new Float64Array(5) })).toThrow(DataError);
    expect(m.state()).toEqual(before);
    expect(() => new OnlineNMF({ rank: 5 }).partialFitFrames(new Float64Array(8), 2)).toThrow(InvalidOptionError); // r > d
  });

  it('transform, components and state before any frame throw NotFittedError; transform never mutates', () => {
    const fresh = new OnlineNMF({ rank: R });
    expect(() => fresh.transform(asColumns(frames, 4, D))).toThrow(NotFittedError);
    expect(() => fresh.components()).toThrow(NotFittedError);
    expect(() => fresh.state()).toThrow(NotFittedError);
    const m = fitted();
    const before = m.state();
    const X = asColumns(frames, 50, D);
    const copy = X.data.slice();
    const H = m.transform(X);
    expect(H.rows).toBe(R);
    expect(H.cols).toBe(50);
    expect(Math.min(...H.data)).toBeGreaterThanOrEqual(0);
    expect(m.state()).toEqual(before);
    expect(X.data).toEqual(copy);
    // and the codes reconstruct the frames about as well as the noise allows
    const Wm = m.components().W;
    let num = 0, den = 0;
    for (let i = 0; i < D; i++) {
      for (let j = 0; j < 50; j++) {
        let s = 0;
        for (let t = 0; t < R; t++) s += Wm.data[i * R + t]! * H.data[t * 50 + j]!;
        num += (s - X.data[i * 50 + j]!) ** 2;
        den += X.data[i * 50 + j]! ** 2;
      }
    }
    expect(Math.sqrt(num / den)).toBeLessThan(0.3);
  });
});

describe('OnlineNMF — memory', () => {
  it('framesSeen grows but no array in the state does (same queue phase at 3,200 and 32,000 frames)', () => {
    const rng = new Rng(51);
    const W = sparseFactor(D, R, K, rng);
    const buf = new Float64Array(32 * D);
    const model = new OnlineNMF({ rank: R, seed: 13 });
    const sizes = (s: OnlineNmfState): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const [k, v] of Object.entries(s)) if (v && typeof v === 'object' && 'data' in v) out[k] = (v as { data: number[] }).data.length;
      return out;
    };
    let early: Record<string, number> = {};
    for (let f = 0; f < 32_000; f += 32) {
      drawFrames(W, 32, NOISE, rng, buf);
      model.partialFitFrames(buf, 32);
      if (f + 32 === 3200) early = sizes(model.state());
    }
    const late = model.state();
    expect(late.framesSeen).toBe(32_000);
    expect(sizes(late)).toEqual(early);
    expect(early.B).toBe(D * R);
    expect(JSON.stringify(late).length).toBeLessThan(40 * (2 * D * R + R * R + 32 * R) + 2000);
  });
});

describe('benchOnlineNmf', () => {
  it('streams the paper-style synthetic model (small) and reports consistent speed and quality', async () => {
    // n = 300, d = 80, r = 3, k = 10: warm start on the first 300 frames, then 2700 online frames.
    const res = await benchOnlineNmf({ n: 300, d: 80, r: 3, k: 10, frames: 3000, batch: 32, seed: 1, warmStartFrames: 300, m: 300, jitFrames: 0 });
    expect(res.framesPerSecond).toBeGreaterThan(0);
    expect(res.p50Ms).toBeLessThanOrEqual(res.p99Ms);
    expect(res.p99Ms).toBeLessThanOrEqual(res.maxMs);
    expect(res.warmStartSeconds).toBeGreaterThan(0);
    expect(res.seconds).toBeGreaterThanOrEqual(res.warmStartSeconds);
    expect(res.errCompressed, `errCompressed ${res.errCompressed}`).toBeLessThan(0.1);
    expect(res.errW, `errW ${res.errW}`).toBeLessThan(0.1);
  });
});

// ---------------------------------------------------------------------------------------------
// Options.

describe('OnlineNMF — options', () => {
  it('every field has a constraint; every default satisfies it; the documented defaults equal the defaults object', () => {
    expect(Object.keys(ONLINE_NMF_CONSTRAINTS).sort()).toEqual([...Object.keys(DEFAULT_ONLINE_NMF_OPTIONS), 'rank'].sort());
    expect(Object.isFrozen(DEFAULT_ONLINE_NMF_OPTIONS)).toBe(true);
    expect(documentedDefaults('nmf.ts', 'OnlineNmfOptions')).toEqual({ rank: 'required', ...DEFAULT_ONLINE_NMF_OPTIONS });
    const m = new OnlineNMF({ rank: 3 });
    expect(m.options).toEqual({ rank: 3, ...DEFAULT_ONLINE_NMF_OPTIONS });
    expect(Object.isFrozen(m.options)).toBe(true);
  });

  for (const [field, c] of Object.entries(ONLINE_NMF_CONSTRAINTS) as [keyof OnlineNmfOptions, Constraint][]) {
    it(`'${field}' refuses values outside its constraint with an InvalidOptionError naming it`, () => {
      for (const bad of badValues(c)) {
        let err: unknown;
        try { new OnlineNMF({ rank: 3, [field]: bad }); } catch (e) { err = e; }
        expect(err, `${field} = ${String(bad)}`).toBeInstanceOf(InvalidOptionError);
        const e = err as InvalidOptionError;
        expect(e.owner).toBe('OnlineNMF');
        expect(e.option).toBe(field);
        expect(e.message).toContain(`OnlineNMF: option '${field}' must be`);
      }
    });
  }

  it('cross-field and missing options: rank is required, warmStartFrames is 0 or ≥ rank, unknown options are refused', () => {
    expect(() => new OnlineNMF({} as { rank: number })).toThrow(/option 'rank' must be an integer in \[1, 4096\]; got undefined/);
    expect(() => new OnlineNMF({ rank: 4, warmStartFrames: 3 })).toThrow(/option 'warmStartFrames' must be 0 or an integer ≥ rank = 4; got 3/);
    expect(() => new OnlineNMF({ rank: 4, warmStartFrames: 4 })).not.toThrow();
    expect(() => new OnlineNMF({ rank: 4, forgeting: 0.9 } as { rank: number })).toThrow(/option 'forgeting' must be a known option/);
    expect(() => new OnlineNMF({ rank: 4 }, { backend: 'gpu' as 'js' })).toThrow(InvalidOptionError);
    const given = { rank: 4, forgetting: 0.9 };
    new OnlineNMF(given);
    expect(given).toEqual({ rank: 4, forgetting: 0.9 }); // the caller's object is not touched
  });
});

// ---------------------------------------------------------------------------------------------
// Kernels.

describe('online kernels — WebAssembly', () => {
  it('the SIMD module assembles and validates on this engine (Node ≥ 20), so the comparisons below run', () => {
    expect(wasmKernelsAvailable()).toBe(true);
    expect(new OnlineNMF({ rank: 2 }).partialFitFrames(new Float64Array(8).fill(1), 2).kernelBackend).toBe('wasm');
  });
});

describe.skipIf(!wasmKernelsAvailable())('online kernels — WebAssembly vs JS on seeded data', () => {
  for (const [d, r, b] of [[400, 10, 32], [8, 3, 5], [10, 1, 1], [30, 7, 9], [64, 12, 33]] as const) {
    it(`d = ${d}, r = ${r}, b = ${b}: codes, statistics, dictionary sweeps, NNLS codes and the entry check agree`, () => {
      const rng = new Rng(d * 100 + r);
      const dp = d + (d & 1);
      const o = { wt: 0, bt: r * dp, a: 2 * r * dp, g: 2 * r * dp + r * r + 1, l: 2 * r * dp + 2 * r * r + 2, y: 2 * r * dp + 3 * r * r + 3 };
      const hw = o.y + b * dp, c = hw + b * r + 1, h = c + b * r + 1, u = h + b * r + 1, n = u + dp + 1;
      const even = (x: number) => x + (x & 1);
      const off = Object.fromEntries(Object.entries({ ...o, hw, c, h, u }).map(([k, v]) => [k, even(v)])) as Record<string, number>;
      const w = createArena(n + 16, 'wasm'), j = createArena(n + 16, 'js');
      for (let i = 0; i < n + 16; i++) { const v = Math.abs(rng.normal()); w.f64[i] = v; j.f64[i] = v; }
      for (const ar of [w, j]) {
        for (let t = 0; t < r; t++) { ar.f64[off.a! + t * r + t]! += 5; for (let i = d; i < dp; i++) { ar.f64[off.wt! + t * dp + i] = 0; ar.f64[off.bt! + t * dp + i] = 0; } }
        for (let k = 0; k < b; k++) for (let i = d; i < dp; i++) ar.f64[off.y! + k * dp + i] = 0;
      }
      const agree = (name: string, lo: number, len: number, tol: number) => {
        let m = 0;
        for (let i = lo; i < lo + len; i++) m = Math.max(m, Math.abs(w.f64[i]! - j.f64[i]!) / (1 + Math.abs(j.f64[i]!)));
        expect(m, name).toBeLessThan(tol);
      };
      // naive reference for the product
      for (const ar of [w, j]) ar.codes(off.y!, b, dp, off.wt!, r, off.c!);
      let ref = 0;
      for (let i = 0; i < d; i++) ref += j.f64[off.y! + (b - 1) * dp + i]! * j.f64[off.wt! + (r - 1) * dp + i]!;
      expect(w.f64[off.c! + (b - 1) * r + r - 1]).toBeCloseTo(ref, 10);
      agree('codes', off.c!, b * r, 1e-13);
      for (const decay of [0.97, 1]) {
        for (const ar of [w, j]) ar.accumulateB(off.y!, off.hw!, b, dp, r, off.bt!, decay);
        agree(`accumulateB decay ${decay}`, off.bt!, r * dp, 1e-13);
      }
      for (const ar of [w, j]) ar.dictionarySweeps(off.wt!, off.bt!, off.a!, r, dp, 2, off.u!);
      agree('dictionarySweeps', off.wt!, r * dp, 1e-13);
      for (let t = 0; t < r; t++) {
        let sq = 0;
        for (let i = 0; i < dp; i++) sq += w.f64[off.wt! + t * dp + i]! ** 2;
        expect(sq, 'columns inside the unit ball').toBeLessThanOrEqual(1 + 1e-12);
        for (let i = d; i < dp; i++) expect(w.f64[off.wt! + t * dp + i]).toBe(0); // padding stays zero
      }
      // a fresh random dictionary (well conditioned enough for the KKT check below)
      for (let i = 0; i < r * dp; i++) { const v = (i % dp) < d ? Math.abs(rng.normal()) : 0; w.f64[off.wt! + i] = v; j.f64[off.wt! + i] = v; }
      for (const ar of [w, j]) {
        ar.codes(off.wt!, r, dp, off.wt!, r, off.g!);
        ar.f64.copyWithin(off.l!, off.g!, off.g! + r * r);
        cholesky(ar.f64.subarray(off.l!, off.l! + r * r), r);
        ar.codes(off.y!, b, dp, off.wt!, r, off.c!);
      }
      for (const hasL of [true, false]) {
        for (const ar of [w, j]) ar.codeFrames(off.c!, off.g!, off.l!, hasL, b, r, 0.01, 5, 1e-4, off.h!);
        agree(`codeFrames hasL ${hasL}`, off.h!, b * r, 1e-9);
      }
      // the JS code kernel returns its sweep count; the codes are ≥ 0 and stationary in the KKT sense
      const sweeps = codeFramesJs(j.f64, off.c!, off.g!, off.l!, true, b, r, 0, 2000, 0, off.h!);
      expect(sweeps).toBeGreaterThanOrEqual(b);
      for (let k = 0; k < b; k++) {
        for (let t = 0; t < r; t++) {
          let grad = -j.f64[off.c! + k * r + t]!;
          for (let l = 0; l < r; l++) grad += j.f64[off.g! + t * r + l]! * j.f64[off.h! + k * r + l]!;
          const hv = j.f64[off.h! + k * r + t]!;
          expect(hv).toBeGreaterThanOrEqual(0);
          if (hv > 0) expect(Math.abs(grad)).toBeLessThan(1e-6 * (1 + Math.abs(j.f64[off.c! + k * r + t]!)));
          else expect(grad).toBeGreaterThan(-1e-6 * (1 + Math.abs(j.f64[off.c! + k * r + t]!)));
        }
      }
      for (const [pos, v] of [[7, -1], [3, NaN], [dp + 1, Infinity]] as const) {
        for (const ar of [w, j]) { ar.f64[off.y! + pos] = v; }
        expect(w.check(off.y!, b * dp)).toBe(j.check(off.y!, b * dp));
      }
      expect(w.check(off.y!, b * dp)).toBe(3);
    });
  }
});
