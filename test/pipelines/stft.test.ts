/**
 * stft (the operator): each output frame equals one time slice of the batch `spectrogramTensor`
 * (frequency-major, channel fastest) with its time, for any chunking of the input (one by one,
 * all at once, random chunks: no transients at chunk edges); emission timing (marbles); restarts
 * at seq jumps counted exactly, each segment transformed on its own; bad frames dropped without
 * touching the state; fresh output arrays; state per subscription; the checklist; options
 * checked when built (the constraint table, the defaults object = the batch plan's defaults);
 * stftStreamInfo describes exactly the frames the operator emits.
 */
import { describe, expect, it } from 'vitest';
import { concatMap, from, map, Subject, toArray, type Observable } from 'rxjs';
import { DataError, InvalidOptionError } from '../../src/errors.js';
import type { Constraint } from '../../src/factorize/validate.js';
import { validateStreamInfo, type Frame, type StreamInfo } from '../../src/frames/index.js';
import { Rng } from '../../src/linalg/random.js';
import { spectrogramTensor, stftFreqs, stftPlan, type StftOptions } from '../../src/signal/stft.js';
import { DEFAULT_STFT_OPERATOR_OPTIONS, stft, STFT_OPERATOR_CONSTRAINTS, stftStreamInfo } from '../../pipelines/stft.js';
import { eventLog, frame, frames, testScheduler } from './helpers.js';

const rate = 64;

/** C channels of n samples: noise plus a channel-specific tone, seeded. */
function signals(C: number, n: number, seed: number): Float64Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: C }, (_, c) => Float64Array.from({ length: n }, (_, i) => rng.normal() + 3 * Math.cos((2 * Math.PI * (5 + 4 * c) * i) / rate + c)));
}

/** Sample i of every channel as one frame: seq seq0 + i, t = t0 + i/rate. */
function toFrames(x: Float64Array[], seq0 = 0, t0 = 0): Frame[] {
  return Array.from({ length: x[0]!.length }, (_, i) => ({ seq: seq0 + i, t: t0 + i / rate, values: Float64Array.from(x, (ch) => ch[i]!) }));
}

/** The batch result as the frames the operator should emit (seq from `seq0`, times shifted by `t0`). */
function batchFrames(x: Float64Array[], o: StftOptions, seq0 = 0, t0 = 0): Frame[] {
  const { tensor, times } = spectrogramTensor(x, o);
  const [T, F, C] = tensor.dims;
  return Array.from({ length: T }, (_, t) => ({ seq: seq0 + t, t: t0 + times[t]!, values: tensor.data.slice(t * F * C, (t + 1) * F * C) }));
}

/** Largest |a − b| over seq, t and values; Infinity if the frame counts or lengths differ. */
function maxDiff(a: Frame[], b: Frame[]): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  a.forEach((f, k) => {
    const g = b[k]!;
    if (f.values.length !== g.values.length || f.seq !== g.seq) d = Infinity;
    d = Math.max(d, Math.abs(f.t - g.t));
    for (let i = 0; i < f.values.length; i++) d = Math.max(d, Math.abs(f.values[i]! - g.values[i]!));
  });
  return d;
}

/** Runs frames through `op` pushed one at a time into a Subject; keeps the emitted frames as they are. */
function oneByOne(input: Frame[], op: (s: Observable<Frame>) => Observable<Frame>): Frame[] {
  const out: Frame[] = [];
  const src = new Subject<Frame>();
  op(src).subscribe((f) => out.push(f));
  for (const f of input) src.next(f);
  return out;
}

/** Runs frames through `op`, delivered in seeded random chunks (1..maxChunk frames) at distinct virtual times. */
function chunked(input: Frame[], op: (s: Observable<Frame>) => Observable<Frame>, seed: number, maxChunk: number): Frame[] {
  const rng = new Rng(seed);
  const chunks: Record<string, Frame[]> = {};
  let marble = '';
  for (let i = 0, c = 0; i < input.length; c++) {
    const size = 1 + rng.int(maxChunk);
    const key = String.fromCharCode(0x4e00 + c);
    chunks[key] = input.slice(i, i + size);
    marble += `${key}-`;
    i += size;
  }
  let got: Frame[] = [];
  testScheduler().run(({ cold, flush }) => {
    cold(`${marble}|`, chunks).pipe(concatMap((c) => from(c)), op, toArray()).subscribe((a) => { got = a; });
    flush();
  });
  return got;
}

const CASES: StftOptions[] = [
  { rate, window: 0.5, hop: 0.125, fmin: 2, fmax: 20 }, // L 32, hop 8: overlapping
  { rate, window: 15 / rate, hop: 4 / rate, scale: 'magnitude' }, // L 15 (nfft 16), all bins
  { rate, window: 10 / rate, hop: 13 / rate, fmin: 6.4, fmax: 32 }, // hop > window: samples skipped
  { rate, window: 0.25, hop: 0.25 }, // back-to-back
];

describe('stft (operator)', () => {
  it.each(CASES)('equals spectrogramTensor slice by slice, fed one by one, all at once or in random chunks (%j)', (o) => {
    const x = signals(3, 400, 7);
    const want = batchFrames(x, o, 0, 12.5);
    expect(want.length).toBeGreaterThan(10);
    const input = toFrames(x, 1000, 12.5);
    const op = (s: Observable<Frame>) => s.pipe(stft(o));
    const single = oneByOne(input, op);
    expect(maxDiff(single, want)).toBeLessThan(1e-12);
    expect(maxDiff(chunked(input, op, 1, input.length * 2), want)).toBeLessThan(1e-12); // all in the first chunk
    for (const seed of [2, 3, 4, 5]) expect(maxDiff(chunked(input, op, seed, 3 + seed * 11), want), `chunk seed ${seed}`).toBeLessThan(1e-12);
  });

  it('lays out values frequency-major, channel fastest: a tone of channel c peaks at values[f·C + c]', () => {
    const o = { rate, window: 1, hop: 0.5, scale: 'magnitude' as const };
    const x = [0, 1].map((c) => Float64Array.from({ length: 256 }, (_, i) => (c + 1) * Math.cos((2 * Math.PI * (8 + 8 * c) * i) / rate)));
    const freqs = stftFreqs(stftPlan(o));
    const out = oneByOne(toFrames(x), (s) => s.pipe(stft(o)));
    expect(out[0]!.values.length).toBe(freqs.length * 2);
    for (const f of out) {
      expect(f.values[freqs.indexOf(8) * 2 + 0]).toBeCloseTo(0.5, 9); // amplitude 1 → a/2
      expect(f.values[freqs.indexOf(16) * 2 + 1]).toBeCloseTo(1, 9); // amplitude 2
      expect(f.values[freqs.indexOf(16) * 2 + 0]).toBeLessThan(1e-9);
    }
  });

  it('emits once window seconds are in, then every hop, with seq 0, 1, … and t at the window centre (marbles)', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      // rate 4, window 1 s = 4 frames, hop 0.5 s = 2 frames; frame(s).t = s/100.
      const out = cold('-a-b-c-d-e-f-g-h-|', frames('abcdefgh')).pipe(stft({ rate: 4, window: 1, hop: 0.5 }), map((f) => `${f.seq}@${(f.t * 100).toFixed(6)}`));
      expectObservable(out).toBe('-------x---y---z-|', { x: '0@51.000000', y: '1@53.000000', z: '2@55.000000' });
    });
  });

  it('restarts at each seq jump: every segment transformed on its own, each restart reported once', () => {
    const o: StftOptions = { rate, window: 0.25, hop: 0.0625 }; // L 16, hop 4
    const cuts = [0, 70, 150, 160, 290, 400]; // segments of 70, 80, 10 (shorter than a window), 130, 110 samples
    const x = signals(2, 400, 3);
    const input: Frame[] = [];
    const want: Frame[] = [];
    for (let s = 0; s + 1 < cuts.length; s++) {
      const part = x.map((ch) => ch.slice(cuts[s]!, cuts[s + 1]!));
      const seq0 = 5000 * s + (s === 3 ? -4000 : 0); // jumps forward and one back
      const t0 = cuts[s]! / rate + 0.5 * s; // time goes on across the jumps
      input.push(...toFrames(part, seq0, t0));
      if (part[0]!.length >= 16) want.push(...batchFrames(part, o, want.length, t0));
    }
    const { events, onEvent } = eventLog();
    const got = chunked(input, (s) => s.pipe(stft({ ...o, onEvent })), 8, 37);
    expect(maxDiff(got, want)).toBeLessThan(1e-12);
    expect(events).toEqual(cuts.slice(1, -1).map((c, i) => ({
      type: 'reset', operator: 'stft', seq: input[c]!.seq, t: input[c]!.t, previousSeq: input[c - 1]!.seq, resets: i + 1,
    })));
  });

  it('counts seqs modulo seqModulo: a wrap is no jump', () => {
    const o: StftOptions = { rate, window: 0.25, hop: 0.125 };
    const x = signals(2, 200, 4);
    const input = toFrames(x).map((f) => ({ ...f, seq: (f.seq + 200) % 256 }));
    const { events, onEvent } = eventLog();
    expect(maxDiff(oneByOne(input, (s) => s.pipe(stft({ ...o, seqModulo: 256, onEvent }))), batchFrames(x, o))).toBeLessThan(1e-12);
    expect(events).toEqual([]);
  });

  it('drops frames with another channel count or no valid seq, leaving the state as it was', () => {
    const o: StftOptions = { rate, window: 0.25, hop: 0.125 };
    const x = signals(3, 200, 5);
    const input = toFrames(x);
    const bad: Frame[] = [{ seq: 999, t: 0, values: new Float64Array(2) }, { seq: 41, t: 0, values: new Float64Array(4) }, { seq: NaN, t: 0, values: new Float64Array(3) }];
    const mixed = [...input];
    bad.forEach((b, i) => mixed.splice(30 + 50 * i, 0, b));
    const { events, onEvent } = eventLog();
    expect(maxDiff(oneByOne(mixed, (s) => s.pipe(stft({ ...o, onEvent }))), batchFrames(x, o))).toBeLessThan(1e-12);
    expect(events).toMatchObject([
      { type: 'reject', operator: 'stft', seq: 999, reason: 'length', message: "stft: frame seq 999: expected 3 values (the first frame's length), got 2" },
      { type: 'reject', operator: 'stft', seq: 41, reason: 'length' },
      { type: 'reject', operator: 'stft', seq: undefined, reason: 'type' },
    ]);
  });

  it('accepts Float32 frames (the spectrum of the Float32 samples) and emits a fresh array each time', () => {
    const o: StftOptions = { rate, window: 0.5, hop: 0.25 };
    const x32 = signals(2, 150, 6).map((ch) => Float64Array.from(Float32Array.from(ch)));
    const input = toFrames(x32).map((f) => ({ ...f, values: Float32Array.from(f.values) }));
    const got = oneByOne(input, (s) => s.pipe(stft(o)));
    expect(maxDiff(got, batchFrames(x32, o))).toBeLessThan(1e-12); // kept without copying: not overwritten
    expect(new Set(got.map((f) => f.values)).size).toBe(got.length);
  });

  it('keeps state per subscription: two interleaved streams through one operator value', () => {
    const o: StftOptions = { rate, window: 0.5, hop: 0.125, fmax: 16 };
    const op = stft(o);
    const [xa, xb] = [signals(2, 200, 10), signals(2, 200, 11)];
    const [a, b] = [new Subject<Frame>(), new Subject<Frame>()];
    const outA: Frame[] = [], outB: Frame[] = [];
    a.pipe(op).subscribe((f) => outA.push(f));
    b.pipe(op).subscribe((f) => outB.push(f));
    const [fa, fb] = [toFrames(xa), toFrames(xb, 70)];
    for (let i = 0; i < 200; i++) { a.next(fa[i]!); b.next(fb[i]!); }
    expect(maxDiff(outA, batchFrames(xa, o))).toBeLessThan(1e-12);
    expect(maxDiff(outB, batchFrames(xb, o))).toBeLessThan(1e-12);
  });

  it('never, empty, error (the partial window dropped), early unsubscribe, callback throws', () => {
    const ts = testScheduler();
    const oops = new Error('sink');
    const o = { rate: 4, window: 0.5, hop: 0.5 }; // 2 frames per window
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      expectObservable(cold<Frame>('-').pipe(stft(o))).toBe('-');
      expectObservable(cold<Frame>('|').pipe(stft(o))).toBe('|');
      expectObservable(cold('abc#', frames('abc')).pipe(stft(o), map((f) => f.seq))).toBe('-x-#', { x: 0 });
      const src = hot('-a-b-c-d-', frames('abcd'));
      expectObservable(src.pipe(stft(o), map((f) => f.seq)), '^----!').toBe('---x--', { x: 0 });
      expectSubscriptions(src.subscriptions).toBe('^----!');
      const bad = { a: frame(1), s: frame(2, [1]) };
      expectObservable(cold('as|', bad).pipe(stft({ ...o, onEvent: () => { throw oops; } }))).toBe('-#', undefined, oops);
    });
  });

  it.each([
    [{}, 'rate'], [{ rate: 0 }, 'rate'], [{ rate: Infinity }, 'rate'], [{ rate: '64' }, 'rate'],
    [{ rate, window: 1 / rate }, 'window'], [{ rate: 1, window: 2 ** 21 }, 'window'],
    [{ rate, hop: 0 }, 'hop'], [{ rate, hop: 0.001 }, 'hop'], [{ rate: 1, window: 2, hop: 2 ** 21 }, 'hop'],
    [{ rate, fmax: rate / 2 + 1 }, 'fmin/fmax'], [{ rate, fmin: 10, fmax: 5 }, 'fmin/fmax'], [{ rate, fmin: -1 }, 'fmin'], [{ rate, fmax: -1 }, 'fmax'], [{ rate, window: 0 }, 'window'],
    [{ rate, scale: 'db' }, 'scale'], [{ rate, seqModulo: 1 }, 'seqModulo'], [{ rate, nfft: 64 }, 'nfft'],
  ])('refuses %j when built (InvalidOptionError naming the option)', (options, option) => {
    let err: unknown;
    try { stft(options as never); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect(err).toMatchObject({ owner: 'stft', option });
  });

  it('checks its hooks when built', () => {
    expect(() => stft({ rate, onEvent: 1 as never })).toThrow(/stft: option 'onEvent' must be a function/);
    expect(() => stft({ rate, window: 1, hop: 0.5, fmin: 0, fmax: rate / 2, scale: 'power', onEvent: undefined })).not.toThrow();
  });

  it('refuses a value just outside each field of its constraint table, naming the field', () => {
    const outside = (c: Constraint): unknown => (c.type === 'number' ? (c.minExclusive ? c.min : c.min! - 1) : 'no-such-value');
    for (const [field, c] of Object.entries(STFT_OPERATOR_CONSTRAINTS) as [string, Constraint][]) {
      expect(() => stft({ rate, [field]: outside(c) } as never), field).toThrow(new RegExp(`stft: option '${field}' must be`));
    }
    expect(Object.keys(STFT_OPERATOR_CONSTRAINTS)).toEqual(['rate', 'window', 'hop', 'fmin', 'fmax', 'scale']);
  });

  it('its defaults object is what the batch plan defaults to (no drift), frozen', () => {
    expect(Object.isFrozen(DEFAULT_STFT_OPERATOR_OPTIONS)).toBe(true);
    for (const r of [64, 250]) expect(stftPlan({ rate: r, ...DEFAULT_STFT_OPERATOR_OPTIONS })).toEqual(stftPlan({ rate: r }));
    // The plan is sensitive to each of them (else the comparison above proves nothing).
    for (const [key, other] of [['window', 0.5], ['hop', 0.25], ['fmin', 3], ['scale', 'magnitude']] as const) {
      expect(stftPlan({ rate, ...DEFAULT_STFT_OPERATOR_OPTIONS, [key]: other }), key).not.toEqual(stftPlan({ rate }));
    }
  });
});

describe('stftStreamInfo', () => {
  const EEG: StreamInfo = { id: 'eeg', kind: 'raw', n: 3, rate, labels: ['Fz', 'Cz', 'Pz'], units: 'uV' };

  it('describes the frames stft emits: n = bins × channels, rate = rate/hop samples, a valid raw header', () => {
    const o = { window: 0.5, hop: 0.125, fmin: 2, fmax: 20 };
    const info = stftStreamInfo(EEG, o);
    const bins = stftFreqs(stftPlan({ rate, ...o })).length;
    expect(bins).toBeGreaterThan(5);
    expect(info).toMatchObject({ id: 'eeg', kind: 'raw', n: bins * 3, rate: 8, units: 'uV^2' });
    expect(validateStreamInfo(info)).toEqual(info);
    // The operator's frames match it: their length, and their spacing in time.
    const out = oneByOne(toFrames(signals(3, 200, 1)), (s) => s.pipe(stft({ rate, ...o })));
    expect(out.length).toBeGreaterThan(10);
    expect(out.every((f) => f.values.length === info.n)).toBe(true);
    expect(out[1]!.t - out[0]!.t).toBeCloseTo(1 / info.rate, 12);
    // hop rounds to whole samples: 0.1 s at 64 Hz is 6 samples, so 64/6 spectra per second.
    expect(stftStreamInfo(EEG, { hop: 0.1 }).rate).toBe(64 / 6);
  });

  it('labels value f·C + c as "<channel c>@<bin f>Hz", frequency-major like the values', () => {
    const info = stftStreamInfo(EEG, { window: 1, hop: 0.5, fmin: 8, fmax: 10 }); // 64 samples, bins 1 Hz apart
    expect(info.labels).toEqual(['Fz@8Hz', 'Cz@8Hz', 'Pz@8Hz', 'Fz@9Hz', 'Cz@9Hz', 'Pz@9Hz', 'Fz@10Hz', 'Cz@10Hz', 'Pz@10Hz']);
    // Bins 250/256 Hz apart: two decimals, every label distinct.
    const eeg = stftStreamInfo({ id: 'e', kind: 'raw', n: 2, rate: 250, labels: ['O1', 'O2'] }, { window: 1, hop: 0.25, fmin: 1, fmax: 45 });
    expect(eeg.n).toBe(45 * 2);
    expect(eeg.labels!.slice(0, 3)).toEqual(['O1@1.95Hz', 'O2@1.95Hz', 'O1@2.93Hz']);
    expect(new Set(eeg.labels).size).toBe(90);
    // Without input labels or units, none; magnitude keeps the units.
    const { labels: _l, units: _u, ...bare } = EEG;
    expect(stftStreamInfo(bare, {})).not.toHaveProperty('labels');
    expect(stftStreamInfo(bare, {})).not.toHaveProperty('units');
    expect(stftStreamInfo(EEG, { scale: 'magnitude' }).units).toBe('uV');
  });

  it('takes the rate from the input unless given; refuses a different one, a compressed input and what stft refuses', () => {
    expect(stftStreamInfo(EEG, { rate })).toEqual(stftStreamInfo(EEG, {}));
    expect(stftStreamInfo({ ...EEG, rate: 0 }, { rate: 32 }).rate).toBe(32 / 16);
    expect(() => stftStreamInfo(EEG, { rate: 32 })).toThrow(/stft: option 'rate' must be the rate of its input frames, 64 Hz/);
    expect(() => stftStreamInfo({ ...EEG, rate: 0 }, {})).toThrow(/stft: option 'rate' must be a finite number in \(0, ∞\)/);
    const compressed: StreamInfo = { id: 'c', kind: 'compressed', n: 12, rate, projection: { ensemble: 'sparse-binary', n: 12, d: 4, p: 2, seed: 1 } };
    expect(() => stftStreamInfo(compressed, {})).toThrow(DataError);
    for (const [o, option] of [[{ window: 1 / rate }, 'window'], [{ fmax: rate }, 'fmin/fmax'], [{ nfft: 8 }, 'nfft']] as const) {
      let err: unknown;
      try { stftStreamInfo(EEG, o as never); } catch (e) { err = e; }
      expect(err).toMatchObject({ owner: 'stft', option });
    }
  });
});
