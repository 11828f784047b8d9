/**
 * compress: y = P x exactly as P.apply computes it, for Float64 and Float32 frames; seq and t
 * kept; wrong lengths dropped and reported; the ring's documented lifetime; a pool per
 * subscription; the checklist.
 */
import { describe, expect, it } from 'vitest';
import { Subject } from 'rxjs';
import { InvalidOptionError } from '../../src/errors.js';
import type { Frame } from '../../src/frames/index.js';
import { Rng } from '../../src/linalg/random.js';
import { makeProjection, type ProjectionSpec } from '../../src/sensing/index.js';
import { compress } from '../../pipelines/index.js';
import { eventLog, testScheduler } from './helpers.js';

const SPEC: ProjectionSpec = { ensemble: 'sparse-binary', n: 50, d: 10, p: 3, seed: 7 };
const P = makeProjection(SPEC);

function raw(seq: number, n = 50, f32 = false): Frame {
  const rng = new Rng(seq);
  const v = new Float64Array(n).map(() => rng.normal());
  return { seq, t: seq * 0.5, values: f32 ? Float32Array.from(v) : v };
}

const compressed = (f: Frame): Frame => ({ seq: f.seq, t: f.t, values: P.apply(f.values) });

describe('compress', () => {
  it('emits y = P x with seq and t kept (marbles; poolSize 0 so the values can be compared afterwards)', () => {
    const f = { a: raw(1), b: raw(2), c: raw(3, 50, true) };
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-b-c-|', f).pipe(compress(SPEC, { poolSize: 0 }))).toBe('-a-b-c-|', {
        a: compressed(f.a), b: compressed(f.b), c: compressed(f.c),
      });
    });
  });

  it('matches P.apply bit for bit, for a gaussian P too', () => {
    const spec: ProjectionSpec = { ensemble: 'gaussian', n: 50, d: 10, seed: 2 };
    const G = makeProjection(spec);
    const src = new Subject<Frame>();
    const got: Float64Array[] = [];
    src.pipe(compress(spec)).subscribe((y) => got.push(y.values.slice() as Float64Array));
    for (let s = 0; s < 5; s++) src.next(raw(s));
    expect(got).toEqual([0, 1, 2, 3, 4].map((s) => G.apply(raw(s).values)));
  });

  it('drops frames of the wrong length or type and reports them', () => {
    const { events, onEvent } = eventLog();
    const f = { a: raw(1), s: raw(2, 49), x: { seq: 3, t: 1, values: [1] } as unknown as Frame, d: raw(4) };
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('asxd|', f).pipe(compress(SPEC, { poolSize: 0, onEvent }))).toBe('a--d|', { a: compressed(f.a), d: compressed(f.d) });
    });
    expect(events).toMatchObject([
      { type: 'reject', operator: 'compress', seq: 2, reason: 'length', message: 'compress: frame seq 2: expected 50 raw values, got 49' },
      { type: 'reject', operator: 'compress', seq: 3, reason: 'type' },
    ]);
  });

  it('reuses its ring: values stay valid for poolSize emissions, then the buffer comes back', () => {
    const src = new Subject<Frame>();
    const out: Frame[] = [];
    src.pipe(compress(SPEC, { poolSize: 3 })).subscribe((y) => out.push(y));
    for (let s = 0; s < 7; s++) src.next(raw(s));
    expect(out[3]!.values).toBe(out[0]!.values); // slot 0 again after 3 emissions
    expect(out[6]!.values).toBe(out[0]!.values);
    expect(new Set(out.slice(0, 3).map((f) => f.values)).size).toBe(3);
    // The last poolSize frames are intact.
    for (let s = 4; s < 7; s++) expect(out[s]!.values).toEqual(P.apply(raw(s).values));
    // poolSize 0: a new array every time.
    const fresh: Frame[] = [];
    const src2 = new Subject<Frame>();
    src2.pipe(compress(SPEC, { poolSize: 0 })).subscribe((y) => fresh.push(y));
    for (let s = 0; s < 3; s++) src2.next(raw(s));
    expect(fresh[0]!.values).not.toBe(fresh[1]!.values);
  });

  it('gives each subscription its own ring', () => {
    const src = new Subject<Frame>();
    const op = compress(SPEC, { poolSize: 1 });
    const a: Float64Array[] = [], b: Float64Array[] = [];
    src.pipe(op).subscribe((y) => a.push(y.values as Float64Array));
    src.pipe(op).subscribe((y) => b.push(y.values as Float64Array));
    src.next(raw(1));
    expect(a[0]).not.toBe(b[0]);
    expect(a[0]).toEqual(P.apply(raw(1).values)); // b's write did not clobber a's buffer
  });

  it('never, empty, error, early unsubscribe, callback throws', () => {
    const oops = new Error('sink');
    testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      expectObservable(cold<Frame>('-').pipe(compress(SPEC))).toBe('-');
      expectObservable(cold<Frame>('|').pipe(compress(SPEC))).toBe('|');
      expectObservable(cold<Frame>('#').pipe(compress(SPEC))).toBe('#');
      const src = hot('-a-a-a-', { a: raw(1) });
      expectObservable(src.pipe(compress(SPEC, { poolSize: 0 })), '^--!').toBe('-a-', { a: compressed(raw(1)) });
      expectSubscriptions(src.subscriptions).toBe('^--!');
      expectObservable(cold('s|', { s: raw(1, 3) }).pipe(compress(SPEC, { onEvent: () => { throw oops; } }))).toBe('#', undefined, oops);
    });
  });

  it('checks the spec and options when built', () => {
    expect(() => compress({ ...SPEC, d: 0 })).toThrow(InvalidOptionError);
    expect(() => compress(SPEC, { poolSize: -1 })).toThrow(/compress: option 'poolSize' must be an integer in \[0, 65536\]/);
    expect(() => compress(SPEC, { pool: 3 } as never)).toThrow(/known option/);
  });
});
