/**
 * reconstruct: due by frame count and by timer (virtual time), one recovery at a time with the
 * due ones skipped and counted while busy (never queued), warm starts from the previous W, the
 * final reconstruction at completion, failures as events, a model not yet fitted, cancellation;
 * the default column-sliced solver agrees with recoverColumns.
 */
import { describe, expect, it } from 'vitest';
import { map, Observable, Subject, timer } from 'rxjs';
import { InvalidOptionError, NotFittedError } from '../../src/errors.js';
import type { OnlineNMF } from '../../src/factorize/online/nmf.js';
import type { Matrix } from '../../src/linalg/matrix.js';
import { Rng } from '../../src/linalg/random.js';
import { recoverColumns } from '../../src/recovery/index.js';
import { makeProjection, type ProjectionSpec } from '../../src/sensing/index.js';
import { reconstruct, type FactorsMessage, type ModelUpdate, type RecoveryJob } from '../../pipelines/index.js';
import { eventLog, testScheduler } from './helpers.js';

const SPEC: ProjectionSpec = { ensemble: 'sparse-binary', n: 80, d: 40, p: 4, seed: 4 }; // 3-sparse columns: exact recovery
const P = makeProjection(SPEC);
const R = 2;

/** A k-sparse non-negative n×r W and its W̃ = P·W. */
function planted(seed: number, k = 3): { W: Matrix; Wc: Matrix } {
  const rng = new Rng(seed);
  const W: Matrix = { rows: P.n, cols: R, data: new Float64Array(P.n * R) };
  for (let c = 0; c < R; c++) for (let t = 0; t < k; t++) W.data[rng.int(P.n) * R + c] = 0.5 + Math.abs(rng.normal());
  return { W, Wc: P.applyColumns(W) };
}

/** A stand-in for the live model: components() returns a copy of `Wc` (or throws NotFittedError). */
function fakeModel(Wc: Matrix | null): OnlineNMF {
  return {
    components: () => {
      if (!Wc) throw new NotFittedError('OnlineNMF');
      return { W: { ...Wc, data: Wc.data.slice() }, H: { rows: R, cols: 0, data: new Float64Array(0) } };
    },
  } as unknown as OnlineNMF;
}

const MODEL = fakeModel(planted(1).Wc);
function upd(framesSeen: number, model: OnlineNMF = MODEL): ModelUpdate {
  return {
    seq: framesSeen - 10, lastSeq: framesSeen - 1, t: framesSeen / 100, count: 10, rejected: 0, clipped: 0, clippedTotal: 0,
    framesSeen, arrivals: new Float64Array(10), doneAt: 0, queue: undefined, model, holdout: undefined,
  };
}
const ups = (...seen: number[]) => Object.fromEntries(seen.map((s, i) => [String.fromCharCode(97 + i), upd(s)]));
const brief = (f: FactorsMessage) => `${f.index}:${f.framesSeen}:${f.skipped}:${f.warmStarted ? 'w' : 'c'}`;
const W0: Matrix = { rows: P.n, cols: R, data: new Float64Array(P.n * R) };

/** A recovery taking `frames` of virtual time; records its jobs and how many run at once. */
function slowRecover(ts: { schedule: never } | object, frames: number) {
  const jobs: RecoveryJob[] = [];
  let active = 0, maxActive = 0, cancelled = 0;
  const recover = (job: RecoveryJob) => new Observable<Matrix>((sub) => {
    jobs.push(job);
    active++;
    maxActive = Math.max(maxActive, active);
    let finished = false;
    const s = timer(frames, ts as never).subscribe(() => { finished = true; sub.next(W0); sub.complete(); });
    return () => {
      if (!finished) cancelled++;
      active--;
      s.unsubscribe();
    };
  });
  return { recover, jobs, stats: () => ({ maxActive, cancelled }) };
}

describe('reconstruct', () => {
  it('reconstructs every N frames and skips (counted, reported) what falls due while busy', () => {
    const ts = testScheduler();
    const { events, onEvent } = eventLog();
    const slow = slowRecover(ts, 5);
    ts.run(({ hot, expectObservable }) => {
      // Updates of 10 frames at every frame; due every 20 frames; each recovery takes 5 frames.
      const src = hot('-a-b-c-d-e-f-g-h-|', ups(10, 20, 30, 40, 50, 60, 70, 80));
      const out = src.pipe(reconstruct(P, { everyFrames: 20, everyMs: 0, final: false, recover: slow.recover, scheduler: ts, onEvent }), map(brief));
      // due at b (20): runs 3..8; due at d (40) while busy: skipped (the due point passes);
      // due at f (60): runs 11..16; due at h (80) while busy: skipped. final is off.
      // `skipped` in a message is the running total when it is emitted.
      expectObservable(out).toBe('--------x-------y|', { x: '1:20:1:c', y: '2:60:2:w' });
    });
    expect(slow.stats().maxActive).toBe(1);
    expect(events).toEqual([
      { type: 'skip', operator: 'reconstruct', seq: 39, skipped: 1 },
      { type: 'skip', operator: 'reconstruct', seq: 79, skipped: 2 },
    ]);
  });

  it('warm-starts each recovery from the previous W (and not with warmStart: false)', () => {
    const ts = testScheduler();
    const slow = slowRecover(ts, 1);
    const cold = slowRecover(ts, 1);
    ts.run(({ hot, expectObservable }) => {
      const src = hot('-a--b--c|', ups(10, 20, 30));
      expectObservable(src.pipe(reconstruct(P, { everyFrames: 10, everyMs: 0, recover: slow.recover, scheduler: ts }), map(brief)))
        .toBe('--x--y--(z|)', { x: '1:10:0:c', y: '2:20:0:w', z: '3:30:0:w' });
      expectObservable(src.pipe(reconstruct(P, { everyFrames: 10, everyMs: 0, warmStart: false, recover: cold.recover, scheduler: ts }), map(brief)))
        .toBe('--x--y--(z|)', { x: '1:10:0:c', y: '2:20:0:c', z: '3:30:0:c' });
    });
    expect(slow.jobs.map((j) => j.warmStart)).toEqual([undefined, W0, W0]);
    expect(cold.jobs.every((j) => j.warmStart === undefined)).toBe(true);
  });

  it('reconstructs on the timer when the model saw new frames, and not otherwise', () => {
    const ts = testScheduler();
    const slow = slowRecover(ts, 1);
    ts.run(({ hot, expectObservable }) => {
      const src = hot('-a--------------b-----', ups(10, 20));
      // ticks at 5, 10, 15, 20: the 5 has news (a), 10 and 15 not, 20 has (b)
      expectObservable(src.pipe(reconstruct(P, { everyMs: 5, recover: slow.recover, scheduler: ts }), map(brief)), '^------------------------!')
        .toBe('------x--------------y---', { x: '1:10:0:c', y: '2:20:0:w' });
    });
  });

  it('on completion waits for the running recovery, then runs a final one if the model changed', () => {
    const ts = testScheduler();
    const slow = slowRecover(ts, 4);
    ts.run(({ hot, expectObservable }) => {
      const src = hot('-a-b|', ups(10, 15));
      // a starts at 1 (done at 5); b (15) is not due; completion at 4 waits, then the final (15) runs 5..9.
      expectObservable(src.pipe(reconstruct(P, { everyFrames: 10, everyMs: 0, recover: slow.recover, scheduler: ts }), map(brief)))
        .toBe('-----x---(y|)', { x: '1:10:0:c', y: '2:15:0:w' });
      const same = hot('-a|', ups(10));
      expectObservable(same.pipe(reconstruct(P, { everyFrames: 10, everyMs: 0, recover: slow.recover, scheduler: ts }), map(brief)))
        .toBe('-----(x|)', { x: '1:10:0:c' }); // nothing new after a: no final one
      const never = hot('-a|', ups(10));
      expectObservable(never.pipe(reconstruct(P, { everyMs: 0, final: false, recover: slow.recover, scheduler: ts }))).toBe('--|');
    });
  });

  it('reports a failed recovery as an event and goes on', () => {
    const ts = testScheduler();
    const { events, onEvent } = eventLog();
    let calls = 0;
    const recover = () => (++calls === 1 ? timer(1, ts).pipe(map(() => { throw new Error('solver blew up'); })) : timer(1, ts).pipe(map(() => W0)));
    ts.run(({ hot, expectObservable }) => {
      const src = hot('-a--b-|', ups(10, 20));
      expectObservable(src.pipe(reconstruct(P, { everyFrames: 10, everyMs: 0, final: false, recover, scheduler: ts, onEvent }), map(brief)))
        .toBe('-----x|', { x: '1:20:0:c' }); // no warm start: the failed one left nothing
    });
    expect(events).toEqual([{ type: 'failure', operator: 'reconstruct', seq: 9, message: 'solver blew up', failures: 1 }]);
  });

  it('does not sample a model that is still buffering its warm-start frames', () => {
    const ts = testScheduler();
    const slow = slowRecover(ts, 1);
    ts.run(({ hot, expectObservable }) => {
      const src = hot('-a-b|', { a: upd(10, fakeModel(null)), b: upd(20, MODEL) });
      expectObservable(src.pipe(reconstruct(P, { everyFrames: 10, everyMs: 0, final: false, recover: slow.recover, scheduler: ts }), map(brief)))
        .toBe('----(x|)', { x: '1:20:0:c' });
    });
  });

  it('cancels the running recovery on unsubscribe; never, empty and error pass through', () => {
    const ts = testScheduler();
    const slow = slowRecover(ts, 10);
    ts.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const src = hot('-a-----', ups(10));
      expectObservable(src.pipe(reconstruct(P, { everyFrames: 10, recover: slow.recover, scheduler: ts })), '^---!').toBe('-----');
      expectSubscriptions(src.subscriptions).toBe('^---!');
      expectObservable(cold<ModelUpdate>('-').pipe(reconstruct(P, { scheduler: ts })), '^ 5s !').toBe('-'); // the timer runs forever
      expectObservable(cold<ModelUpdate>('|').pipe(reconstruct(P, { scheduler: ts }))).toBe('|');
      expectObservable(cold<ModelUpdate>('#').pipe(reconstruct(P, { scheduler: ts }))).toBe('#');
    });
    expect(slow.stats().cancelled).toBe(1);
  });

  it('errors the stream when onEvent throws', () => {
    const ts = testScheduler();
    const slow = slowRecover(ts, 5);
    ts.run(({ hot, expectObservable }) => {
      const src = hot('-a-b-', ups(10, 20));
      const out = src.pipe(reconstruct(P, { everyFrames: 10, recover: slow.recover, scheduler: ts, onEvent: () => { throw new Error('sink'); } }));
      expectObservable(out).toBe('---#', undefined, new Error('sink'));
    });
  });

  it('keeps state per subscription (busy flags and counters are not shared)', () => {
    const ts = testScheduler();
    const slow = slowRecover(ts, 3);
    const op = reconstruct(P, { everyFrames: 10, everyMs: 0, final: false, recover: slow.recover, scheduler: ts });
    ts.run(({ hot, expectObservable }) => {
      const src = hot('-a-|', ups(10));
      expectObservable(src.pipe(op, map(brief))).toBe('----(x|)', { x: '1:10:0:c' });
      expectObservable(src.pipe(op, map(brief))).toBe('----(x|)', { x: '1:10:0:c' }); // not skipped as "busy"
    });
  });

  it('with the default solver: solves column by column, equal to recoverColumns (cold and warm)', async () => {
    const a = planted(1), b = planted(2);
    const src = new Subject<ModelUpdate>();
    const got: FactorsMessage[] = [];
    const done = new Promise<void>((resolve, reject) => {
      src.pipe(reconstruct(SPEC, { everyFrames: 10, everyMs: 0 })).subscribe({ next: (f) => got.push(f), error: reject, complete: resolve });
    });
    src.next(upd(10, fakeModel(a.Wc)));
    await new Promise((r) => setTimeout(r, 50));
    src.next(upd(20, fakeModel(b.Wc)));
    src.complete();
    await done;
    expect(got.map(brief)).toEqual(['1:10:0:c', '2:20:0:w']);
    const refA = await recoverColumns(P, a.Wc, { method: 'fast' });
    const refB = await recoverColumns(P, b.Wc, { method: 'fast', warmStart: refA.W });
    const cols = (M: Matrix) => Array.from({ length: M.cols }, (_, c) => Array.from({ length: M.rows }, (_, i) => M.data[i * M.cols + c]!));
    expect(got[0]!.W).toEqual(cols(refA.W));
    expect(got[1]!.W).toEqual(cols(refB.W));
    expect(got[1]!.Wc).toEqual(cols(b.Wc));
    // The planted sparse columns are recovered exactly (basis pursuit) and the residual says so.
    for (let i = 0; i < a.W.data.length; i++) expect(refA.W.data[i]).toBeCloseTo(a.W.data[i]!, 6);
    expect(got[0]!.error).toBeLessThan(1e-6);
    expect(got[0]).toMatchObject({ n: 80, d: 40, rank: R, seq: 9, t: 0.1 });
    expect(got[0]!.longestSliceMs).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(JSON.stringify(got[0]))).toEqual(got[0]); // publishable as it is
  });

  it('reports a non-finite W̃ from the default solver as a failure', async () => {
    const bad = planted(1).Wc;
    bad.data[3] = NaN;
    const { events, onEvent } = eventLog();
    const src = new Subject<ModelUpdate>();
    const done = new Promise<void>((resolve) => src.pipe(reconstruct(P, { everyFrames: 10, everyMs: 0, onEvent })).subscribe({ complete: resolve }));
    src.next(upd(10, fakeModel(bad)));
    src.complete();
    await done;
    expect(events).toMatchObject([{ type: 'failure', seq: 9, failures: 1 }]);
    expect((events[0] as { message: string }).message).toMatch(/non-finite value NaN/);
  });

  it('checks its options when built', () => {
    expect(() => reconstruct(SPEC, { everyFrames: -1 })).toThrow(InvalidOptionError);
    expect(() => reconstruct(SPEC, { everyMs: -5 })).toThrow(/everyMs/);
    expect(() => reconstruct(SPEC, { recovery: { method: 'lp' } })).toThrow(/recovery.method/);
    expect(() => reconstruct(SPEC, { recovery: { pathRatio: 2 } })).toThrow(/pathRatio/);
    expect(() => reconstruct({ ...SPEC, p: 0 })).toThrow(InvalidOptionError);
  });
});
