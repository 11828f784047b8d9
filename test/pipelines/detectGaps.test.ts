/**
 * detectGaps: frames pass unchanged; gaps are reported with exact lost counts (unbounded and
 * 8-bit wrapping counters, a stream with known drops); the checklist; state per subscription.
 */
import { describe, expect, it } from 'vitest';
import { range, filter, map, lastValueFrom, toArray } from 'rxjs';
import { InvalidOptionError } from '../../src/errors.js';
import type { Frame } from '../../src/frames/index.js';
import { detectGaps, type GapEvent } from '../../pipelines/index.js';
import { eventLog, frame, testScheduler } from './helpers.js';

const gapsOf = (events: unknown[]) => (events as GapEvent[]).filter((e) => e.type === 'gap').map((e) => [e.seq, e.lost]);

describe('detectGaps', () => {
  it('passes every frame unchanged and reports each gap with its lost count and running totals', () => {
    const { events, onEvent } = eventLog();
    const f = { a: frame(1), b: frame(2), e: frame(5), f: frame(6), j: frame(10) };
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-b-e-f-j-|', f).pipe(detectGaps({ onEvent }))).toBe('-a-b-e-f-j-|', f);
    });
    expect(events).toEqual([
      { type: 'gap', operator: 'detectGaps', seq: 5, t: 0.05, lost: 2, gaps: 1, lostTotal: 2 },
      { type: 'gap', operator: 'detectGaps', seq: 10, t: 0.1, lost: 3, gaps: 2, lostTotal: 5 },
    ]);
  });

  it('counts exactly across an 8-bit wrap, and passes duplicates and late frames without a gap', () => {
    const { events, onEvent } = eventLog();
    const f = { a: frame(253), b: frame(254), c: frame(1), d: frame(2), e: frame(2), g: frame(200), h: frame(3) };
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('abcdegh|', f).pipe(detectGaps({ modulo: 256, onEvent }))).toBe('abcdegh|', f);
    });
    expect(gapsOf(events)).toEqual([[1, 2]]); // 255 and 0 lost; 200 is late, 3 follows 2
  });

  it('counts the exact number of frames dropped from a long stream with known drops', async () => {
    // 5000 frames on an 8-bit counter; drop 1..100 frames at 40 known places (each < 128).
    const drops = new Set<number>();
    let expectedLost = 0, expectedGaps = 0;
    for (let g = 0; g < 40; g++) {
      const at = 100 + g * 120, len = 1 + ((g * 37) % 100);
      for (let i = at; i < at + len; i++) drops.add(i);
      expectedLost += len;
      expectedGaps++;
    }
    const { events, onEvent } = eventLog();
    const out = await lastValueFrom(range(0, 5000).pipe(
      filter((i) => !drops.has(i)),
      map((i): Frame => ({ seq: i % 256, t: i, values: new Float64Array(1) })),
      detectGaps({ modulo: 256, onEvent }),
      toArray(),
    ));
    expect(out).toHaveLength(5000 - drops.size);
    const last = events.at(-1) as GapEvent;
    expect([last.gaps, last.lostTotal]).toEqual([expectedGaps, expectedLost]);
    expect(events.reduce((s, e) => s + (e as GapEvent).lost, 0)).toBe(drops.size);
  });

  it('treats a gap at the first frame as no gap (nothing to compare with)', () => {
    const { events, onEvent } = eventLog();
    testScheduler().run(({ cold, expectObservable }) => {
      const f = { a: frame(57), b: frame(58) };
      expectObservable(cold('ab|', f).pipe(detectGaps({ onEvent }))).toBe('ab|', f);
    });
    expect(events).toEqual([]);
  });

  it('drops a frame without a valid seq and reports it as a reject', () => {
    const { events, onEvent } = eventLog();
    const f = { a: frame(1), x: { seq: 1.5, t: 0, values: new Float64Array(4) } as Frame, b: frame(2) };
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('axb|', f).pipe(detectGaps({ onEvent }))).toBe('a-b|', f);
    });
    expect(events).toMatchObject([{ type: 'reject', operator: 'detectGaps', seq: 1.5, reason: 'type' }]);
  });

  it('never, empty, error and early unsubscribe behave like the source', () => {
    testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      expectObservable(cold<Frame>('-').pipe(detectGaps())).toBe('-');
      expectObservable(cold<Frame>('|').pipe(detectGaps())).toBe('|');
      const f = { a: frame(1) };
      expectObservable(cold('a#', f).pipe(detectGaps())).toBe('a#', f);
      const src = hot('-a-b-c-', { a: frame(1), b: frame(2), c: frame(3) });
      expectObservable(src.pipe(detectGaps()), '^--!').toBe('-a-', { a: frame(1) });
      expectSubscriptions(src.subscriptions).toBe('^--!');
    });
  });

  it('errors the stream when onEvent throws', () => {
    const oops = new Error('sink');
    testScheduler().run(({ cold, expectObservable }) => {
      const f = { a: frame(1), c: frame(3) };
      expectObservable(cold('ac|', f).pipe(detectGaps({ onEvent: () => { throw oops; } }))).toBe('a#', f, oops);
    });
  });

  it('keeps state per subscription: the totals restart', () => {
    const { events, onEvent } = eventLog();
    const out = testScheduler();
    out.run(({ cold, expectObservable }) => {
      const f = { a: frame(1), c: frame(3) };
      const piped = cold('ac|', f).pipe(detectGaps({ onEvent }));
      expectObservable(piped).toBe('ac|', f);
      expectObservable(piped).toBe('ac|', f);
    });
    expect(events.map((e) => [(e as GapEvent).gaps, (e as GapEvent).lostTotal])).toEqual([[1, 1], [1, 1]]);
  });

  it('checks its options when built', () => {
    expect(() => detectGaps({ modulo: 1 })).toThrow(InvalidOptionError);
    expect(() => detectGaps({ modulo: '256' } as never)).toThrow(/detectGaps: option 'modulo'/);
    expect(() => detectGaps({ window: 3 } as never)).toThrow(/known option/);
  });
});
