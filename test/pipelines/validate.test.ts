/**
 * validateFrames: drops and reports bad frames (NaN, short, duplicate, backwards) while the rest
 * pass in order; the RxJS checklist (never, empty, error, early unsubscribe, callback throws);
 * state per subscription; options checked at build time.
 */
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, DataError } from '../../src/errors.js';
import type { Frame, StreamInfo } from '../../src/frames/index.js';
import { validateFrames, type RejectEvent } from '../../pipelines/index.js';
import { eventLog, frame, frames, INFO4, testScheduler } from './helpers.js';

describe('validateFrames', () => {
  it('drops a NaN frame and a short frame, reports both, and passes the rest in order', () => {
    const { events, onEvent } = eventLog();
    const bad: Record<string, Frame> = {
      ...frames('abde'),
      n: frame(3, [1, NaN, 2, 3]), // seq 3, NaN: rejected, so seq 3 is still free
      s: frame(3, [1, 2, 3]), // seq 3, short
    };
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold('-a-b-n-s-d-e-|', bad);
      expectObservable(source.pipe(validateFrames(INFO4, { onEvent }))).toBe('-a-b-----d-e-|', bad);
    });
    expect(events).toEqual([
      { type: 'reject', operator: 'validateFrames', seq: 3, t: 0.03, reason: 'non-finite', message: 'stream cs frame seq 3: value 1 is NaN' },
      { type: 'reject', operator: 'validateFrames', seq: 3, t: 0.03, reason: 'length', message: 'stream cs frame seq 3: expected 4 values, got 3' },
    ]);
  });

  it('rejects duplicates, backwards seqs and backwards time, and lets a forward jump through', () => {
    const { events, onEvent } = eventLog();
    const f: Record<string, Frame> = {
      a: frame(1), b: frame(2), d: frame(2), k: frame(1), g: frame(7),
      t: { seq: 8, t: 0.01, values: new Float64Array(4) }, // t before seq 7's 0.07
    };
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('abdkgt|', f).pipe(validateFrames(INFO4, { onEvent }))).toBe('ab--g-|', f);
    });
    expect(events.map((e) => (e as RejectEvent).reason)).toEqual(['seq-duplicate', 'seq-backwards', 't-backwards']);
  });

  it('rejects malformed values as type errors without a usable seq', () => {
    const { events, onEvent } = eventLog();
    const junk = { seq: -1, t: 0, values: new Float64Array(4) } as Frame;
    const notTyped = { seq: 1, t: 0, values: [1, 2, 3, 4] } as unknown as Frame;
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('xy|', { x: junk, y: notTyped }).pipe(validateFrames(INFO4, { onEvent }))).toBe('--|');
    });
    expect(events.map((e) => [(e as RejectEvent).reason, (e as RejectEvent).seq])).toEqual([['type', -1], ['type', 1]]);
  });

  it('with seqModulo, accepts the wrap 255 → 0 and rejects out-of-range seqs', () => {
    const { events, onEvent } = eventLog();
    const f = { a: frame(254), b: frame(255), c: { ...frame(0), t: 3 }, x: { ...frame(256), t: 4 } };
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('abcx|', f).pipe(validateFrames(INFO4, { seqModulo: 256, onEvent }))).toBe('abc-|', f);
    });
    expect(events).toHaveLength(1);
  });

  it('never emits for a silent source, completes for an empty one, passes errors on', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<Frame>('-').pipe(validateFrames(INFO4))).toBe('-');
      expectObservable(cold<Frame>('|').pipe(validateFrames(INFO4))).toBe('|');
      const f = frames('a');
      expectObservable(cold('-a-#', f, new Error('boom')).pipe(validateFrames(INFO4))).toBe('-a-#', f, new Error('boom'));
    });
  });

  it('unsubscribes from a never-ending source when the consumer does', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const f = frames('abcd');
      const source = hot('-a-b-c-d-', f);
      expectObservable(source.pipe(validateFrames(INFO4)), '^----!').toBe('-a-b-', f);
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
  });

  it('errors the stream when the onEvent callback throws (a bug in the sink, like tap)', () => {
    const oops = new Error('sink broke');
    testScheduler().run(({ cold, expectObservable }) => {
      const f = { ...frames('ab'), n: frame(3, [NaN, 0, 0, 0]) };
      const out = cold('abn-|', f).pipe(validateFrames(INFO4, { onEvent: () => { throw oops; } }));
      expectObservable(out).toBe('ab#', f, oops);
    });
  });

  it('keeps state per subscription: two subscriptions both accept the same seqs', () => {
    const op = validateFrames(INFO4);
    testScheduler().run(({ cold, expectObservable }) => {
      const f = frames('abc');
      const out = cold('abc|', f).pipe(op);
      expectObservable(out).toBe('abc|', f);
      expectObservable(out).toBe('abc|', f); // with shared state these would be duplicates
    });
  });

  it('checks the header and the options when built', () => {
    expect(() => validateFrames(INFO4, { seqModulo: 1 })).toThrow(InvalidOptionError);
    expect(() => validateFrames(INFO4, { seqModulo: 2.5 })).toThrow(/seqModulo/);
    expect(() => validateFrames(INFO4, { onEvent: 3 } as never)).toThrow(/validateFrames: option 'onEvent' must be a function/);
    expect(() => validateFrames(INFO4, { bogus: 1 } as never)).toThrow(/validateFrames: option 'bogus' must be a known option/);
    expect(() => validateFrames(INFO4, null as never)).toThrow(InvalidOptionError);
    expect(() => validateFrames({ ...INFO4, n: 0 } as StreamInfo)).toThrow(DataError);
  });
});
