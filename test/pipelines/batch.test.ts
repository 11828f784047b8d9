/**
 * batchFrames: blocks by count, by time and at completion (marbles in virtual time), contiguous
 * values with per-frame seq, t and arrival; the buffer bound and the ring's lifetime; frames of
 * another length dropped; the queue probe; state per subscription; the checklist.
 */
import { describe, expect, it } from 'vitest';
import { map, Subject } from 'rxjs';
import { InvalidOptionError } from '../../src/errors.js';
import type { Frame } from '../../src/frames/index.js';
import { batchFrames, type FrameBlock } from '../../pipelines/index.js';
import { eventLog, frame, frames, testScheduler } from './helpers.js';

/** A block as plain data (copied at once: the block's arrays are pooled). */
const summary = (b: FrameBlock) => ({
  seqs: Array.from(b.seqs), reason: b.reason, count: b.count, first: b.seq, last: b.lastSeq,
  arrivals: Array.from(b.arrivals), values: Array.from(b.values),
});
const valuesOf = (seqs: number[]) => seqs.flatMap((s) => Array.from(frame(s).values));

describe('batchFrames', () => {
  it('emits a block when maxBatch frames are in, and the rest at completion', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const out = cold('-a-b-c-d-e-|', frames('abcde')).pipe(batchFrames({ maxBatch: 2, maxWaitMs: 0, scheduler: ts }), map(summary));
      expectObservable(out).toBe('---x---y---(z|)', {
        x: { seqs: [1, 2], reason: 'count', count: 2, first: 1, last: 2, arrivals: [1, 3], values: valuesOf([1, 2]) },
        y: { seqs: [3, 4], reason: 'count', count: 2, first: 3, last: 4, arrivals: [5, 7], values: valuesOf([3, 4]) },
        z: { seqs: [5], reason: 'complete', count: 1, first: 5, last: 5, arrivals: [9], values: valuesOf([5]) },
      });
    });
  });

  it('emits a partly filled block maxWaitMs after its first frame', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const out = cold('a-b 10ms c-d-e-f-|', frames('abcdef')).pipe(batchFrames({ maxBatch: 3, maxWaitMs: 5, scheduler: ts }), map((b) => `${b.reason}:${Array.from(b.seqs).join(',')}`));
      // a at 0, b at 2: flushed by time at 5. c at 13, d at 15, e at 17: full at 17. f at 19: complete at 21.
      expectObservable(out).toBe('-----x-----------y---(z|)', { x: 'time:1,2', y: 'count:3,4,5', z: 'complete:6' });
    });
  });

  it('frame by frame with maxBatch 1: one block per frame, no timer', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const out = cold('ab|', frames('ab')).pipe(batchFrames({ maxBatch: 1, scheduler: ts }), map((b) => b.seq));
      expectObservable(out).toBe('ab|', { a: 1, b: 2 });
    });
  });

  it('copies each frame on arrival (upstream may reuse its arrays) and reuses poolSize slots', () => {
    const src = new Subject<Frame>();
    const blocks: FrameBlock[] = [];
    const copies: number[][] = [];
    src.pipe(batchFrames({ maxBatch: 2, maxWaitMs: 0, poolSize: 2 })).subscribe((b) => { blocks.push(b); copies.push(Array.from(b.values)); });
    const shared = new Float64Array(4);
    for (let s = 1; s <= 6; s++) {
      shared.set(frame(s).values); // the upstream reuses one array
      src.next({ seq: s, t: s, values: shared });
    }
    expect(copies).toEqual([valuesOf([1, 2]), valuesOf([3, 4]), valuesOf([5, 6])]);
    expect(blocks[2]!.values).toBe(blocks[0]!.values); // slot 0 again after poolSize = 2 blocks
    expect(blocks[1]!.values).not.toBe(blocks[0]!.values);
    expect(Array.from(blocks[1]!.values)).toEqual(valuesOf([3, 4])); // the last poolSize blocks are intact
  });

  it('drops frames of another length than the first and reports them', () => {
    const { events, onEvent } = eventLog();
    const ts = testScheduler();
    const f = { ...frames('ab'), s: frame(9, [1, 2]) };
    ts.run(({ cold, expectObservable }) => {
      const out = cold('asb|', f).pipe(batchFrames({ maxBatch: 2, scheduler: ts, onEvent }), map((b) => Array.from(b.seqs)));
      expectObservable(out).toBe('--x|', { x: [1, 2] });
    });
    expect(events).toMatchObject([{ type: 'reject', operator: 'batchFrames', seq: 9, reason: 'length' }]);
  });

  it('reports its depth through the queue probe and never holds more than maxBatch', () => {
    const src = new Subject<Frame>();
    const depths: number[] = [];
    let probe: FrameBlock['queue'] | undefined;
    src.pipe(batchFrames({ maxBatch: 3, maxWaitMs: 0 })).subscribe((b) => { probe = b.queue; });
    for (let s = 1; s <= 8; s++) {
      src.next(frame(s));
      if (probe) depths.push(probe.depth());
    }
    expect(probe!.capacity).toBe(3);
    expect(depths).toEqual([0, 1, 2, 0, 1, 2]); // read after frames 3..8
  });

  it('drops the partial block on error, and cancels the timer on unsubscribe', () => {
    const ts = testScheduler();
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      expectObservable(cold('ab#', frames('ab')).pipe(batchFrames({ maxBatch: 3, scheduler: ts }))).toBe('--#');
      const src = hot('-a-b-------', frames('ab'));
      const out = src.pipe(batchFrames({ maxBatch: 3, maxWaitMs: 6, scheduler: ts }));
      expectObservable(out, '^----!').toBe('------'); // the time flush at 7 never comes
      expectSubscriptions(src.subscriptions).toBe('^----!');
      expectObservable(cold<Frame>('-').pipe(batchFrames({ scheduler: ts }))).toBe('-');
      expectObservable(cold<Frame>('|').pipe(batchFrames({ scheduler: ts }))).toBe('|');
    });
  });

  it('errors the stream when onEvent throws', () => {
    const oops = new Error('sink');
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const f = { a: frame(1), s: frame(2, [1]) };
      expectObservable(cold('as|', f).pipe(batchFrames({ maxBatch: 5, scheduler: ts, onEvent: () => { throw oops; } }))).toBe('-#', undefined, oops);
    });
  });

  it('keeps state per subscription', () => {
    const ts = testScheduler();
    const op = batchFrames({ maxBatch: 2, maxWaitMs: 0, scheduler: ts });
    ts.run(({ hot, expectObservable }) => {
      const src = hot('-a-b-c-d-|', frames('abcd'));
      const late = hot('---c-d-|', frames('cd'));
      // Two subscriptions in the same frames: a shared buffer would mix their frames.
      expectObservable(src.pipe(op, map((b) => Array.from(b.seqs)))).toBe('---x---y-|', { x: [1, 2], y: [3, 4] });
      expectObservable(late.pipe(op, map((b) => Array.from(b.seqs)))).toBe('-----x-|', { x: [3, 4] });
    });
  });

  it('checks its options when built', () => {
    expect(() => batchFrames({ maxBatch: 0 })).toThrow(InvalidOptionError);
    expect(() => batchFrames({ maxBatch: 5000 })).toThrow(/maxBatch' must be an integer in \[1, 4096\]/);
    expect(() => batchFrames({ maxWaitMs: -1 })).toThrow(/maxWaitMs/);
    expect(() => batchFrames({ scheduler: {} as never })).toThrow(/scheduler' must be an rxjs SchedulerLike/);
  });
});
