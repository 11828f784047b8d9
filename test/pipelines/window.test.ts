/**
 * window: emission timing (marbles) for overlapping, back-to-back and skipping hops; every window
 * equal to a naive slicing of the stream's consecutive runs, whatever the chunking; restarts at
 * seq jumps counted exactly (wrap-aware); bad frames dropped without touching the state; the
 * pooled view's lifetime; state per subscription; the checklist; options checked when built.
 */
import { describe, expect, it } from 'vitest';
import { concatMap, from, map, Subject, toArray, type Observable } from 'rxjs';
import { InvalidOptionError } from '../../src/errors.js';
import type { Frame } from '../../src/frames/index.js';
import { Rng } from '../../src/linalg/random.js';
import type { FrameWindow } from '../../pipelines/types.js';
import { window } from '../../pipelines/window.js';
import { eventLog, frame, frames, testScheduler } from './helpers.js';

/** A window as plain data (copied at once: `values` is pooled). */
const summary = (w: FrameWindow) => ({
  seq: w.seq, lastSeq: w.lastSeq, t0: w.t0, t1: w.t1, count: w.count, dims: w.dims, index: w.index, values: Array.from(w.values),
});
type Summary = ReturnType<typeof summary>;

/**
 * The windows a naive reader finds: split the frames into runs of consecutive seqs (mod m), and
 * in each run of r frames take frames [k·hop, k·hop + length) while they fit.
 */
function reference(input: Frame[], length: number, hop: number, modulo?: number): Omit<Summary, 'index'>[] {
  const runs: Frame[][] = [];
  for (const f of input) {
    const run = runs[runs.length - 1];
    const prev = run?.[run.length - 1];
    const next = prev === undefined ? NaN : modulo === undefined ? prev.seq + 1 : (prev.seq + 1) % modulo;
    if (run && f.seq === next) run.push(f);
    else runs.push([f]);
  }
  const out: Omit<Summary, 'index'>[] = [];
  for (const run of runs) {
    for (let k = 0; k * hop + length <= run.length; k++) {
      const w = run.slice(k * hop, k * hop + length);
      out.push({
        seq: w[0]!.seq, lastSeq: w[length - 1]!.seq, t0: w[0]!.t, t1: w[length - 1]!.t, count: length, dims: w[0]!.values.length,
        values: w.flatMap((f) => Array.from(f.values)),
      });
    }
  }
  return out;
}

/** A seeded stream of `n` frames of `dims` random values, with a seq jump (either way) at about 1 frame in `every`. */
function stream(n: number, dims: number, seed: number, every = Infinity, modulo?: number): Frame[] {
  const rng = new Rng(seed);
  const out: Frame[] = [];
  let seq = modulo === undefined ? 10 : modulo - 5;
  for (let i = 0; i < n; i++) {
    if (i > 0 && rng.uniform() * every < 1) seq += rng.uniform() < 0.7 ? 2 + rng.int(5) : -1 - rng.int(3);
    seq = modulo === undefined ? Math.max(seq, 0) : ((seq % modulo) + modulo) % modulo;
    out.push({ seq, t: i * 0.01, values: Float64Array.from({ length: dims }, () => rng.normal()) });
    seq++;
  }
  return out;
}

/** Runs `input` through `op`, delivered in seeded random chunks at distinct virtual times. */
function chunked<T>(input: Frame[], op: (s: Observable<Frame>) => Observable<T>, seed: number, maxChunk: number): T[] {
  const rng = new Rng(seed);
  const chunks: Record<string, Frame[]> = {};
  let marble = '';
  for (let i = 0, c = 0; i < input.length; c++) {
    const size = 1 + rng.int(maxChunk);
    const key = String.fromCharCode(0x4e00 + c); // one character per chunk
    chunks[key] = input.slice(i, i + size);
    marble += `${key}-`;
    i += size;
  }
  let got: T[] = [];
  testScheduler().run(({ cold, flush }) => {
    cold(`${marble}|`, chunks).pipe(concatMap((c) => from(c)), op, toArray()).subscribe((a) => { got = a; });
    flush();
  });
  return got;
}

describe('window', () => {
  it('emits once length frames are in, then every hop frames (marbles: overlap, back-to-back, skip)', () => {
    const ts = testScheduler();
    const f = frames('abcdefgh');
    const seqs = (w: FrameWindow) => `${w.index}:${w.seq}-${w.lastSeq}`;
    ts.run(({ cold, expectObservable }) => {
      const src = cold('-a-b-c-d-e-f-g-h-|', f);
      expectObservable(src.pipe(window({ length: 3, hop: 2 }), map(seqs))).toBe('-----x---y---z---|', { x: '1:1-3', y: '2:3-5', z: '3:5-7' });
      expectObservable(src.pipe(window({ length: 2 }), map(seqs))).toBe('---w---x---y---z-|', { w: '1:1-2', x: '2:3-4', y: '3:5-6', z: '4:7-8' });
      expectObservable(src.pipe(window({ length: 2, hop: 3 }), map(seqs))).toBe('---x-----y-----z-|', { x: '1:1-2', y: '2:4-5', z: '3:7-8' });
      expectObservable(src.pipe(window({ length: 1 }), map((w) => w.seq))).toBe('-a-b-c-d-e-f-g-h-|', { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8 });
    });
  });

  it('carries the window: seq, lastSeq, t0, t1, count, dims and the values oldest first', () => {
    const got: Summary[] = [];
    from(Object.values(frames('abcde'))).pipe(window({ length: 3, hop: 1 })).subscribe((w) => got.push(summary(w)));
    const want = (s: number) => ({
      seq: s, lastSeq: s + 2, t0: frame(s).t, t1: frame(s + 2).t, count: 3, dims: 4, index: s,
      values: [s, s + 1, s + 2].flatMap((q) => Array.from(frame(q).values)),
    });
    expect(got).toEqual([want(1), want(2), want(3)]);
  });

  it.each([
    { length: 5, hop: 2 }, { length: 4, hop: 4 }, { length: 3, hop: 7 }, { length: 1, hop: 1 }, { length: 16, hop: 1 },
  ])('equals a naive slicing of the consecutive runs, one by one, all at once or in random chunks (%j)', ({ length, hop }) => {
    const input = stream(300, 3, length * 31 + hop, 40);
    const want = reference(input, length, hop);
    expect(want.length).toBeGreaterThan(3); // the stream is long enough to test something
    const op = (s: Observable<Frame>) => s.pipe(window({ length, hop }), map(summary));
    const oneByOne: Summary[] = [];
    const subject = new Subject<Frame>();
    op(subject).subscribe((w) => oneByOne.push(w));
    for (const f of input) subject.next(f);
    const allAtOnce = chunked(input, op, 1, input.length * 2); // first chunk holds everything
    expect(oneByOne.map(({ index, ...w }) => w)).toEqual(want);
    expect(oneByOne.map((w) => w.index)).toEqual(want.map((_, i) => i + 1)); // restarts do not reset it
    expect(allAtOnce).toEqual(oneByOne);
    for (const seed of [2, 3, 4]) expect(chunked(input, op, seed, 1 + seed * 7)).toEqual(oneByOne);
  });

  it('restarts at every seq jump (forward, backward, repeat), reporting each exactly once', () => {
    const input = stream(400, 2, 9, 25);
    const jumps = input.filter((f, i) => i > 0 && f.seq !== input[i - 1]!.seq + 1);
    expect(jumps.length).toBeGreaterThan(5);
    const { events, onEvent } = eventLog();
    const got: Summary[] = [];
    from(input).pipe(window({ length: 4, hop: 2, onEvent })).subscribe((w) => got.push(summary(w)));
    expect(got.map(({ index, ...w }) => w)).toEqual(reference(input, 4, 2));
    expect(events).toEqual(jumps.map((f, i) => ({
      type: 'reset', operator: 'window', seq: f.seq, t: f.t, previousSeq: input[input.indexOf(f) - 1]!.seq, resets: i + 1,
    })));
    // A repeated seq is a jump too.
    const { events: dup, onEvent: onDup } = eventLog();
    from([1, 2, 2, 3].map((s) => frame(s))).pipe(window({ length: 2, onEvent: onDup })).subscribe();
    expect(dup).toMatchObject([{ type: 'reset', seq: 2, previousSeq: 2, resets: 1 }]);
  });

  it('counts seqs modulo seqModulo: a wrap is no jump', () => {
    const input = stream(200, 2, 5, 30, 16);
    expect(input.some((f, i) => i > 0 && f.seq < input[i - 1]!.seq && f.seq === (input[i - 1]!.seq + 1) % 16)).toBe(true); // wraps
    const { events, onEvent } = eventLog();
    const got: Summary[] = [];
    from(input).pipe(window({ length: 3, hop: 2, seqModulo: 16, onEvent })).subscribe((w) => got.push(summary(w)));
    expect(got.map(({ index, ...w }) => w)).toEqual(reference(input, 3, 2, 16));
    expect(events.length).toBe(input.filter((f, i) => i > 0 && f.seq !== (input[i - 1]!.seq + 1) % 16).length);
    // Without the modulus, 15 → 0 is a jump.
    const { events: plain, onEvent: onPlain } = eventLog();
    from([14, 15, 0, 1].map((s) => frame(s))).pipe(window({ length: 2, onEvent: onPlain })).subscribe();
    expect(plain).toMatchObject([{ type: 'reset', seq: 0, previousSeq: 15 }]);
  });

  it('drops frames of another length, without typed values or a valid seq, leaving the state as it was', () => {
    const input = stream(120, 3, 11);
    const bad: Frame[] = [
      { seq: 500, t: 0, values: new Float64Array(2) }, // another length, and a seq that would restart
      { seq: 501, t: 0, values: [1, 2, 3] as unknown as Float64Array },
      { seq: -1, t: 0, values: new Float64Array(3) },
      { seq: 1.5, t: 0, values: new Float64Array(3) },
      null as unknown as Frame,
    ];
    const mixed = [...input];
    bad.forEach((b, i) => mixed.splice(7 + i * 20, 0, b));
    const { events, onEvent } = eventLog();
    const got: Summary[] = [];
    from(mixed).pipe(window({ length: 5, hop: 3, onEvent })).subscribe((w) => got.push(summary(w)));
    const clean: Summary[] = [];
    from(input).pipe(window({ length: 5, hop: 3 })).subscribe((w) => clean.push(summary(w)));
    expect(got).toEqual(clean);
    expect(events).toMatchObject([
      { type: 'reject', operator: 'window', seq: 500, reason: 'length', message: "window: frame seq 500: expected 3 values (the first frame's length), got 2" },
      { type: 'reject', seq: 501, reason: 'type' },
      { type: 'reject', seq: -1, reason: 'type', message: 'window: frame seq -1: seq must be a non-negative integer' },
      { type: 'reject', seq: 1.5, reason: 'type' },
      { type: 'reject', seq: undefined, reason: 'type' },
    ]);
    // An empty first frame is dropped too; the next frame fixes the length.
    const { events: empty, onEvent: onEmpty } = eventLog();
    const dims: number[] = [];
    from([frame(1, []), frame(2, [1, 2])]).pipe(window({ length: 1, onEvent: onEmpty })).subscribe((w) => dims.push(w.dims));
    expect(dims).toEqual([2]);
    expect(empty).toMatchObject([{ reason: 'length', seq: 1 }]);
  });

  it('accepts Float32 frames and copies every frame on arrival (upstream may reuse its array)', () => {
    const input = stream(40, 4, 13);
    const want = reference(input, 6, 4);
    const shared = new Float32Array(4);
    const got: Summary[] = [];
    const src = new Subject<Frame>();
    src.pipe(window({ length: 6, hop: 4 })).subscribe((w) => got.push(summary(w)));
    for (const f of input) {
      shared.set(f.values);
      src.next({ seq: f.seq, t: f.t, values: shared });
    }
    expect(got.map(({ index, ...w }) => w)).toEqual(want.map((w) => ({ ...w, values: Array.from(Float32Array.from(w.values)) })));
  });

  it('reuses one values buffer, valid until the next emission', () => {
    const src = new Subject<Frame>();
    const seen: FrameWindow[] = [];
    src.pipe(window({ length: 3, hop: 3 })).subscribe((w) => seen.push(w));
    for (let s = 1; s <= 3; s++) src.next(frame(s));
    const first = Array.from(seen[0]!.values);
    for (let s = 4; s <= 5; s++) src.next(frame(s)); // frames in, no emission yet
    expect(Array.from(seen[0]!.values)).toEqual(first);
    src.next(frame(6));
    expect(seen[1]!.values).toBe(seen[0]!.values);
    expect(Array.from(seen[1]!.values)).toEqual([4, 5, 6].flatMap((s) => Array.from(frame(s).values)));
  });

  it('keeps state per subscription', () => {
    const ts = testScheduler();
    const op = window({ length: 2, hop: 1 });
    ts.run(({ hot, expectObservable }) => {
      const src = hot('-a-b-c-d-|', frames('abcd'));
      const late = hot('---c-d-e-|', frames('cde'));
      // A shared ring would mix the two streams (and see seq jumps between them).
      expectObservable(src.pipe(op, map((w) => `${w.seq}${w.lastSeq}`))).toBe('---x-y-z-|', { x: '12', y: '23', z: '34' });
      expectObservable(late.pipe(op, map((w) => `${w.index}:${w.seq}${w.lastSeq}`))).toBe('-----x-y-|', { x: '1:34', y: '2:45' });
    });
  });

  it('never, empty, error (the partial window dropped), early unsubscribe', () => {
    const ts = testScheduler();
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      expectObservable(cold<Frame>('-').pipe(window({ length: 2 }))).toBe('-');
      expectObservable(cold<Frame>('|').pipe(window({ length: 2 }))).toBe('|');
      expectObservable(cold('abc#', frames('abc')).pipe(window({ length: 2 }), map((w) => w.seq))).toBe('-x-#', { x: 1 });
      expectObservable(cold('abc|', frames('abc')).pipe(window({ length: 2 }), map((w) => w.seq))).toBe('-x-|', { x: 1 });
      const src = hot('-a-b-c-d-', frames('abcd'));
      expectObservable(src.pipe(window({ length: 2 }), map((w) => w.seq)), '^----!').toBe('---x--', { x: 1 });
      expectSubscriptions(src.subscriptions).toBe('^----!');
    });
  });

  it('errors the stream when onEvent throws, on a reject or a reset', () => {
    const oops = new Error('sink');
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const f = { a: frame(1), s: frame(2, [1]), j: frame(5) };
      expectObservable(cold('as|', f).pipe(window({ length: 5, onEvent: () => { throw oops; } }))).toBe('-#', undefined, oops);
      expectObservable(cold('aj|', f).pipe(window({ length: 1, onEvent: () => { throw oops; } }), map((w) => w.seq))).toBe('x#', { x: 1 }, oops);
    });
  });

  it.each([
    [{}, 'length'], [{ length: 0 }, 'length'], [{ length: 1.5 }, 'length'], [{ length: 2 ** 21 }, 'length'], [{ length: '3' }, 'length'],
    [{ length: 3, hop: 0 }, 'hop'], [{ length: 3, hop: 2.5 }, 'hop'], [{ length: 3, seqModulo: 1 }, 'seqModulo'],
    [{ length: 3, seqModulo: 'x' }, 'seqModulo'], [{ length: 3, size: 2 }, 'size'],
  ])('refuses %j when built (InvalidOptionError naming the option)', (options, option) => {
    let err: unknown;
    try { window(options as never); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect(err).toMatchObject({ owner: 'window', option });
  });

  it('checks its hooks when built (one object with the options), and accepts the documented defaults spelled out', () => {
    expect(() => window({ length: 3, onEvent: 'log' as never })).toThrow(/window: option 'onEvent' must be a function/);
    expect(() => window({ length: 3, scheduler: {} } as never)).toThrow(/window: option 'scheduler' must be a known option \(length, hop, seqModulo, onEvent\)/);
    expect(() => window({ length: 3, hop: 3, seqModulo: undefined, onEvent: undefined })).not.toThrow();
  });
});
