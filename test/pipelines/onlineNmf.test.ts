/**
 * onlineNmf: one update per block, exactly what partialFitFrames computes; negatives clipped in
 * a copy and counted; a bad frame dropped and reported with the model untouched (bit-exact state
 * against a model that never saw it); configuration errors error the stream; a model per
 * subscription; the checklist.
 */
import { describe, expect, it } from 'vitest';
import { map, Subject } from 'rxjs';
import { InvalidOptionError } from '../../src/errors.js';
import { OnlineNMF } from '../../src/factorize/online/nmf.js';
import { Rng } from '../../src/linalg/random.js';
import { onlineNmf, type FrameBlock, type ModelUpdate } from '../../pipelines/index.js';
import { eventLog, testScheduler } from './helpers.js';

const D = 8, RANK = 2;
const QUEUE = Object.freeze({ operator: 'test', capacity: 64, depth: () => 0 });

/** count frames of length D from `seed`: |N(0,1)| plus, with `negatives`, some entries of −0.1. */
function block(seq: number, count: number, seed: number, negatives = false): FrameBlock {
  const rng = new Rng(seed);
  const values = new Float64Array(count * D).map(() => Math.abs(rng.normal()));
  if (negatives) for (let i = 0; i < values.length; i += 5) values[i] = -0.1;
  const seqs = Float64Array.from({ length: count }, (_, j) => seq + j);
  return {
    seq, lastSeq: seq + count - 1, t0: seq, t1: seq + count - 1, count, dims: D, values, seqs, times: seqs.slice(),
    arrivals: new Float64Array(count), reason: 'count', queue: QUEUE,
  };
}

const clipped = (v: Float64Array) => v.map((x) => (x < 0 ? 0 : x));
const brief = (u: ModelUpdate) => ({ seq: u.seq, lastSeq: u.lastSeq, count: u.count, rejected: u.rejected, clipped: u.clipped, framesSeen: u.framesSeen });

describe('onlineNmf', () => {
  it('emits one update per block with what partialFitFrames computes (marbles)', () => {
    const b = { a: block(0, 4, 1), b: block(4, 4, 2), c: block(8, 40, 3) };
    const ts = testScheduler();
    let seen: OnlineNMF | undefined;
    ts.run(({ cold, expectObservable }) => {
      const out = cold('-a-b-c-|', b).pipe(onlineNmf({ rank: RANK, seed: 5 }, { scheduler: ts }), map((u) => { seen = u.model; return brief(u); }));
      expectObservable(out).toBe('-a-b-c-|', {
        a: { seq: 0, lastSeq: 3, count: 4, rejected: 0, clipped: 0, framesSeen: 4 },
        b: { seq: 4, lastSeq: 7, count: 4, rejected: 0, clipped: 0, framesSeen: 8 },
        c: { seq: 8, lastSeq: 47, count: 40, rejected: 0, clipped: 0, framesSeen: 48 },
      });
    });
    const ref = new OnlineNMF({ rank: RANK, seed: 5 });
    for (const x of Object.values(b)) ref.partialFitFrames(x.values, x.count);
    expect(seen!.state()).toEqual(ref.state());
  });

  it('clips negative entries to 0 in a copy, counts them, and leaves the block as it was', () => {
    const src = new Subject<FrameBlock>();
    const updates: ModelUpdate[] = [];
    src.pipe(onlineNmf({ rank: RANK })).subscribe((u) => updates.push(u));
    const b1 = block(0, 10, 1, true), b2 = block(10, 10, 2, true);
    const before = b1.values.slice();
    src.next(b1);
    src.next(b2);
    expect(b1.values).toEqual(before);
    expect(updates.map((u) => [u.clipped, u.clippedTotal, u.rejected])).toEqual([[16, 16, 0], [16, 32, 0]]);
    const ref = new OnlineNMF({ rank: RANK });
    ref.partialFitFrames(clipped(b1.values), 10).partialFitFrames(clipped(b2.values), 10);
    expect(updates[1]!.model.state()).toEqual(ref.state());
  });

  it('survives a NaN frame: drops and reports only it, and the model equals one that never saw it', () => {
    const { events, onEvent } = eventLog();
    const src = new Subject<FrameBlock>();
    const updates: ModelUpdate[] = [];
    src.pipe(onlineNmf({ rank: RANK, seed: 3 }, { onEvent })).subscribe((u) => updates.push(u));
    const b1 = block(0, 40, 1), b2 = block(40, 40, 2), b3 = block(80, 40, 3);
    const good2 = b2.values.slice();
    b2.values[5 * D + 3] = NaN; // frame seq 45
    src.next(b1);
    src.next(b2);
    src.next(b3);
    expect(updates.map(brief)).toEqual([
      { seq: 0, lastSeq: 39, count: 40, rejected: 0, clipped: 0, framesSeen: 40 },
      { seq: 40, lastSeq: 79, count: 39, rejected: 1, clipped: 0, framesSeen: 79 },
      { seq: 80, lastSeq: 119, count: 40, rejected: 0, clipped: 0, framesSeen: 119 },
    ]);
    expect(events).toMatchObject([{ type: 'reject', operator: 'onlineNmf', seq: 45, t: 45, reason: 'model' }]);
    expect((events[0] as { message: string }).message).toBe('onlineNmf: frame seq 45: entry 3 is NaN; frames must be finite and ≥ 0 (NMF)');
    const ref = new OnlineNMF({ rank: RANK, seed: 3 });
    const without45 = new Float64Array(39 * D);
    without45.set(good2.subarray(0, 5 * D));
    without45.set(good2.subarray(6 * D), 5 * D);
    ref.partialFitFrames(b1.values, 40).partialFitFrames(without45, 39).partialFitFrames(b3.values, 40);
    expect(updates[2]!.model.state()).toEqual(ref.state());
  });

  it('leaves the model untouched and emits nothing for a block of only bad frames (Infinity, wrong length)', () => {
    const { events, onEvent } = eventLog();
    const model = new OnlineNMF({ rank: RANK });
    const src = new Subject<FrameBlock>();
    const updates: ModelUpdate[] = [];
    src.pipe(onlineNmf(model, { onEvent })).subscribe((u) => updates.push(u));
    src.next(block(0, 40, 1));
    const snapshot = JSON.stringify(model.state());
    const bad = block(40, 2, 2);
    bad.values[1] = Infinity;
    bad.values[D + 1] = NaN;
    src.next(bad);
    const short = { ...block(42, 1, 3), dims: D - 1, values: new Float64Array(D - 1) };
    src.next(short);
    expect(JSON.stringify(model.state())).toBe(snapshot);
    expect(updates).toHaveLength(1);
    expect(events.map((e) => (e as { seq: number }).seq)).toEqual([40, 41, 42]);
  });

  it('without clipping, the model refuses frames with negative entries (reported), the rest go in', () => {
    const { events, onEvent } = eventLog();
    const src = new Subject<FrameBlock>();
    const updates: ModelUpdate[] = [];
    src.pipe(onlineNmf({ rank: RANK }, { clipNegative: false, onEvent })).subscribe((u) => updates.push(u));
    const b = block(0, 10, 1);
    b.values[3 * D] = -1;
    src.next(b);
    expect(updates.map(brief)).toEqual([{ seq: 0, lastSeq: 9, count: 9, rejected: 1, clipped: 0, framesSeen: 9 }]);
    expect(events).toMatchObject([{ seq: 3, reason: 'model' }]);
    expect((events[0] as { message: string }).message).toMatch(/negative/);
  });

  it('errors the stream on a configuration error (rank above the frame length)', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const out = cold('a|', { a: block(0, 4, 1) }).pipe(onlineNmf({ rank: D + 1 }));
      expectObservable(out).toBe('#', undefined, new InvalidOptionError('OnlineNMF', 'rank', `an integer ≤ the frame length d = ${D}`, D + 1));
    });
  });

  it('creates a model per subscription from options, and shares a given instance', () => {
    const src = new Subject<FrameBlock>();
    const op = onlineNmf({ rank: RANK });
    const a: ModelUpdate[] = [], b: ModelUpdate[] = [];
    src.pipe(op).subscribe((u) => a.push(u));
    src.pipe(op).subscribe((u) => b.push(u));
    src.next(block(0, 4, 1));
    expect(a[0]!.model).not.toBe(b[0]!.model);
    expect([a[0]!.framesSeen, b[0]!.framesSeen]).toEqual([4, 4]);
    const model = new OnlineNMF({ rank: RANK });
    const c: ModelUpdate[] = [];
    const src2 = new Subject<FrameBlock>();
    src2.pipe(onlineNmf(model)).subscribe((u) => c.push(u));
    src2.next(block(0, 4, 1));
    expect(c[0]!.model).toBe(model);
  });

  it('never, empty, error, early unsubscribe, callback throws', () => {
    const oops = new Error('sink');
    testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      expectObservable(cold<FrameBlock>('-').pipe(onlineNmf({ rank: RANK }))).toBe('-');
      expectObservable(cold<FrameBlock>('|').pipe(onlineNmf({ rank: RANK }))).toBe('|');
      expectObservable(cold<FrameBlock>('#').pipe(onlineNmf({ rank: RANK }))).toBe('#');
      const src = hot('-a-b-', { a: block(0, 2, 1), b: block(2, 2, 2) });
      expectObservable(src.pipe(onlineNmf({ rank: RANK }), map((u) => u.seq)), '^--!').toBe('-a-', { a: 0 });
      expectSubscriptions(src.subscriptions).toBe('^--!');
      const bad = block(0, 1, 1);
      bad.values[0] = NaN;
      expectObservable(cold('a|', { a: bad }).pipe(onlineNmf({ rank: RANK }, { onEvent: () => { throw oops; } }))).toBe('#', undefined, oops);
    });
  });

  it('checks the model options and its own when built', () => {
    expect(() => onlineNmf({ rank: 0 })).toThrow(InvalidOptionError);
    expect(() => onlineNmf({ rank: 2, forgetting: 2 })).toThrow(/forgetting/);
    expect(() => onlineNmf({ rank: 2 }, { clipNegative: 'yes' } as never)).toThrow(/onlineNmf: option 'clipNegative' must be a boolean/);
    expect(() => onlineNmf({ rank: 2, runtime: { backend: 'gpu' as never } })).toThrow(/backend/);
  });
});
