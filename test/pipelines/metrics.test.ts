/**
 * metrics: snapshots every intervalMs and at completion (virtual time) with frame rate, latency
 * percentiles from arrivals → doneAt, the side channel's counts, clipping and the batch buffer's
 * depth; the latency window is bounded (drop-oldest, counted); state per subscription; checklist.
 */
import { describe, expect, it } from 'vitest';
import { map } from 'rxjs';
import { InvalidOptionError } from '../../src/errors.js';
import type { OnlineNMF } from '../../src/factorize/online/nmf.js';
import { metrics, type MetricsSnapshot, type ModelUpdate, type PipelineEvent } from '../../pipelines/index.js';
import { testScheduler } from './helpers.js';

let depth = 0;
const QUEUE = { operator: 'batchFrames', capacity: 32, depth: () => depth };

/** An update of the given frames' latencies (ms), done at `doneAt`. */
function upd(doneAt: number, latencies: number[], clippedTotal = 0): ModelUpdate {
  return {
    seq: 0, lastSeq: latencies.length - 1, t: 0, count: latencies.length, rejected: 0, clipped: 0, clippedTotal, framesSeen: 0,
    arrivals: Float64Array.from(latencies, (l) => doneAt - l), doneAt, queue: QUEUE, model: {} as OnlineNMF, holdout: undefined,
  };
}

const pick = (s: MetricsSnapshot) => ({
  at: s.at, intervalMs: s.intervalMs, frames: s.frames, framesPerSecond: s.framesPerSecond, framesTotal: s.framesTotal, updates: s.updates,
  p50: s.latencyMs.p50, p99: s.latencyMs.p99, max: s.latencyMs.max, samples: s.latencyMs.samples, dropped: s.latencyMs.dropped,
});

describe('metrics', () => {
  it('emits a snapshot every intervalMs and at completion, with rate and latency percentiles', () => {
    const ts = testScheduler();
    ts.run(({ hot, expectObservable }) => {
      const lat = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100 ms
      const src = hot('--a---b-----c--|', { a: upd(2, lat.slice(0, 50)), b: upd(6, lat.slice(50)), c: upd(12, [7, 7]) });
      const out = src.pipe(metrics({ intervalMs: 10, scheduler: ts }), map(pick));
      expectObservable(out).toBe('----------x----(y|)', {
        x: { at: 10, intervalMs: 10, frames: 100, framesPerSecond: 10_000, framesTotal: 100, updates: 2, p50: 50, p99: 99, max: 100, samples: 100, dropped: 0 },
        y: { at: 15, intervalMs: 5, frames: 2, framesPerSecond: 400, framesTotal: 102, updates: 1, p50: 7, p99: 7, max: 7, samples: 2, dropped: 0 },
      });
    });
  });

  it('an interval without frames has rate 0 and NaN latencies', () => {
    const ts = testScheduler();
    ts.run(({ hot, expectObservable }) => {
      const out = hot<ModelUpdate>('-----').pipe(metrics({ intervalMs: 3, scheduler: ts }), map((s) => [s.frames, s.framesPerSecond, s.latencyMs.p50]));
      expectObservable(out, '^----!').toBe('---x-', { x: [0, 0, NaN] });
    });
  });

  it('counts rejects by reason, gaps and lost frames, skips and failures from the side channel; clipping and queue depth from the updates', () => {
    const ts = testScheduler();
    ts.run(({ hot, expectObservable }) => {
      const ev: Record<string, PipelineEvent> = {
        r: { type: 'reject', operator: 'validateFrames', seq: 1, t: 0, reason: 'non-finite', message: '' },
        l: { type: 'reject', operator: 'validateFrames', seq: 2, t: 0, reason: 'length', message: '' },
        m: { type: 'reject', operator: 'onlineNmf', seq: 3, t: 0, reason: 'model', message: '' },
        g: { type: 'gap', operator: 'detectGaps', seq: 9, t: 0, lost: 4, gaps: 1, lostTotal: 4 },
        h: { type: 'gap', operator: 'detectGaps', seq: 19, t: 0, lost: 2, gaps: 2, lostTotal: 6 },
        s: { type: 'skip', operator: 'reconstruct', seq: 5, skipped: 1 },
        f: { type: 'failure', operator: 'reconstruct', seq: 5, message: 'x', failures: 1 },
      };
      const events = hot('-r-l-g-m-s-h-f-', ev);
      const src = hot('-a-------|', { a: upd(1, [1], 17) });
      depth = 5;
      const out = src.pipe(metrics({ intervalMs: 4, scheduler: ts, events }), map((s) => ({
        rejects: s.rejects, byReason: s.rejectsByReason, gaps: s.gaps, lost: s.lost, skipped: s.skipped, failures: s.failures,
        clippedTotal: s.clippedTotal, queueDepth: s.queueDepth, queueCapacity: s.queueCapacity,
      })));
      const common = { clippedTotal: 17, queueDepth: 5, queueCapacity: 32 };
      expectObservable(out).toBe('----x---y(z|)', {
        x: { rejects: 2, byReason: { 'non-finite': 1, length: 1 }, gaps: 0, lost: 0, skipped: 0, failures: 0, ...common },
        y: { rejects: 3, byReason: { 'non-finite': 1, length: 1, model: 1 }, gaps: 1, lost: 4, skipped: 0, failures: 0, ...common },
        z: { rejects: 3, byReason: { 'non-finite': 1, length: 1, model: 1 }, gaps: 1, lost: 4, skipped: 1, failures: 0, ...common },
      });
    });
  });

  it('keeps at most latencyWindow samples per interval, the newest, and counts the dropped ones', () => {
    const ts = testScheduler();
    ts.run(({ hot, expectObservable }) => {
      const src = hot('-a-b|', { a: upd(1, [100, 100, 100]), b: upd(3, [1, 2, 3, 4]) });
      const out = src.pipe(metrics({ intervalMs: 10, latencyWindow: 4, scheduler: ts }), map(pick));
      expectObservable(out).toBe('----(x|)', {
        x: { at: 4, intervalMs: 4, frames: 7, framesPerSecond: 1750, framesTotal: 7, updates: 2, p50: 2, p99: 4, max: 4, samples: 4, dropped: 3 },
      });
    });
  });

  it('keeps state per subscription, and passes errors on; unsubscribes from the side channel', () => {
    const ts = testScheduler();
    const op = metrics({ intervalMs: 10, scheduler: ts });
    ts.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const src = hot('-a-|', { a: upd(1, [1, 2]) });
      expectObservable(src.pipe(op, map((s) => s.framesTotal))).toBe('---(x|)', { x: 2 });
      expectObservable(src.pipe(op, map((s) => s.framesTotal))).toBe('---(x|)', { x: 2 });
      expectObservable(cold<ModelUpdate>('--#').pipe(op)).toBe('--#');
      expectObservable(cold<ModelUpdate>('|').pipe(op, map((s) => s.frames))).toBe('(x|)', { x: 0 });
      const events = hot<PipelineEvent>('------');
      const never = hot<ModelUpdate>('------');
      expectObservable(never.pipe(metrics({ intervalMs: 100, scheduler: ts, events })), '^--!').toBe('---');
      expectSubscriptions(events.subscriptions).toBe('^--!');
      expectSubscriptions(never.subscriptions).toBe('^--!');
    });
  });

  it('checks its options when built', () => {
    expect(() => metrics({ intervalMs: 0 })).toThrow(InvalidOptionError);
    expect(() => metrics({ latencyWindow: 0 })).toThrow(/latencyWindow/);
    expect(() => metrics({ events: [] as never })).toThrow(/metrics: option 'events' must be an Observable/);
  });
});
