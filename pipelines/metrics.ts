/**
 * `metrics`: throughput, latency, losses and queue depth of a pipeline, as a snapshot every
 * `intervalMs`.
 */
import { asyncScheduler, interval, Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import type { ConstraintTable } from '../src/factorize/validate.js';
import type { PipelineEvent, PipelineRejectReason } from './events.js';
import { clockOf, resolvePipelineOptions } from './internal/options.js';
import type { ModelUpdate, QueueProbe } from './types.js';

/** Options of `metrics`. */
export interface MetricsOptions {
  /** 1000 ms; period of the snapshots (> 0). */
  intervalMs: number;
  /** 8192 frames; latency samples kept per interval (integer in [1, 1048576]); beyond, the oldest are overwritten (drop-oldest) and counted in `latencyMs.dropped`. */
  latencyWindow: number;
}

/** Hooks of `metrics`. */
export interface MetricsHooks {
  /** undefined; the side channel (events.ts) to count rejects, gaps, skips and failures from; subscribed per subscription. */
  events?: Observable<PipelineEvent>;
  /** asyncScheduler; runs the snapshot timer. */
  scheduler?: SchedulerLike;
  /** performance.now with the default scheduler, else scheduler.now(); must be the clock of `batchFrames`/`onlineNmf`. */
  now?: () => number;
}

/** The documented defaults of `MetricsOptions`. */
export const DEFAULT_METRICS_OPTIONS: Readonly<MetricsOptions> = Object.freeze({ intervalMs: 1000, latencyWindow: 8192 });

/** Allowed values of `MetricsOptions`. */
export const METRICS_CONSTRAINTS: ConstraintTable<MetricsOptions> = Object.freeze({
  intervalMs: { type: 'number', min: 0, minExclusive: true },
  latencyWindow: { type: 'int', min: 1, max: 1_048_576 },
});

/** One snapshot. Counts named `…Total` (and the reject, gap, skip, failure counts) run since subscription; the rest cover the interval. */
export interface MetricsSnapshot {
  /** Clock reading (ms) of the snapshot. */
  readonly at: number;
  /** Length of the interval covered (ms). */
  readonly intervalMs: number;
  /** Frames that reached the model in the interval, and their rate. */
  readonly frames: number;
  readonly framesPerSecond: number;
  readonly framesTotal: number;
  /** Model updates (blocks) in the interval. */
  readonly updates: number;
  /** Frame in (arrival at batchFrames) → model updated, over every frame of the interval's blocks (ms); NaN without frames. */
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number; readonly samples: number; readonly dropped: number };
  /** Frames rejected (all operators), by reason. */
  readonly rejects: number;
  readonly rejectsByReason: Readonly<Partial<Record<PipelineRejectReason, number>>>;
  /** Gap events and frames lost in them. */
  readonly gaps: number;
  readonly lost: number;
  /** Negative entries set to 0 by onlineNmf. */
  readonly clippedTotal: number;
  /** Reconstructions skipped (one was running) and failed. */
  readonly skipped: number;
  readonly failures: number;
  /** Frames waiting in the batch buffer at the snapshot, and its capacity (0 and 0 before the first update). */
  readonly queueDepth: number;
  readonly queueCapacity: number;
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/**
 * Consumes `ModelUpdate`s (and, optionally, the side channel) and emits a `MetricsSnapshot`
 * every `intervalMs`, plus a last one when the source completes: frames/s, per-frame latency
 * p50/p99/max (frame arrival at `batchFrames` → its model update done; from `update.arrivals`
 * and `update.doneAt`), rejects by reason, gaps and lost frames, clipped entries, reconstruction
 * skips and failures, and the batch buffer's current depth (`update.queue.depth()`).
 *
 * Like `bufferTime(intervalMs)` followed by a reduce, but it keeps only counters and a bounded
 * latency window (drop-oldest, counted), so its memory does not grow with the rate.
 *
 * ```
 * intervalMs 10:  updates  -u-u-u---u-------u-|
 *                 events   ---gap-----reject---
 *                 output   ----------S---------S(S|)
 * ```
 *
 * Subscribe to it through `share()` next to `reconstruct`, so both see the same updates.
 *
 * @example
 * const events = new Subject<PipelineEvent>();
 * const updates = frames$.pipe(validateFrames(info, { onEvent: (e) => events.next(e) }), batchFrames(), onlineNmf({ rank: 10 }), share());
 * updates.pipe(metrics({ events, intervalMs: 1000 })).subscribe((m) => log(JSON.stringify(m)));
 * @see onlineNmf, batchFrames, events.ts
 * @param options see `MetricsOptions`, `MetricsHooks`; checked now (InvalidOptionError)
 * @returns an operator emitting `MetricsSnapshot`s
 */
export function metrics(options: Partial<MetricsOptions> & MetricsHooks = {}): OperatorFunction<ModelUpdate, MetricsSnapshot> {
  const o = resolvePipelineOptions<MetricsOptions, MetricsHooks>(
    'metrics', METRICS_CONSTRAINTS, DEFAULT_METRICS_OPTIONS, { events: 'observable', scheduler: 'scheduler', now: 'function' }, options,
  );
  const { intervalMs, latencyWindow, events } = o;
  const scheduler = o.scheduler ?? asyncScheduler;
  const now = clockOf(scheduler, o.now);

  return (source) => new Observable<MetricsSnapshot>((subscriber) => {
    let ring = new Float64Array(latencyWindow);
    let samples = 0; // written in this interval (may exceed the window)
    let frames = 0, updates = 0, framesTotal = 0, clippedTotal = 0;
    let rejects = 0, gaps = 0, lost = 0, skipped = 0, failures = 0;
    const byReason: Partial<Record<PipelineRejectReason, number>> = {};
    let queue: QueueProbe | undefined;
    let last = now();

    const snapshot = (): MetricsSnapshot => {
      const at = now();
      const span = at - last;
      last = at;
      const kept = Math.min(samples, latencyWindow);
      const sorted = ring.slice(0, kept).sort();
      const s: MetricsSnapshot = {
        at, intervalMs: span, frames, framesPerSecond: span > 0 ? (frames * 1000) / span : NaN, framesTotal, updates,
        latencyMs: { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: kept ? sorted[kept - 1]! : NaN, samples: kept, dropped: samples - kept },
        rejects, rejectsByReason: { ...byReason }, gaps, lost, clippedTotal, skipped, failures,
        queueDepth: queue ? queue.depth() : 0, queueCapacity: queue ? queue.capacity : 0,
      };
      frames = 0;
      updates = 0;
      samples = 0;
      return s;
    };

    const onEvent = (e: PipelineEvent): void => {
      switch (e.type) {
        case 'reject':
          rejects++;
          byReason[e.reason] = (byReason[e.reason] ?? 0) + 1;
          break;
        case 'gap':
          gaps++;
          lost += e.lost;
          break;
        case 'skip':
          skipped++;
          break;
        case 'failure':
          failures++;
          break;
      }
    };

    const subs: Subscription[] = [];
    if (events) subs.push(events.subscribe({ next: onEvent, error: (e) => subscriber.error(e) }));
    subs.push(interval(intervalMs, scheduler).subscribe(() => subscriber.next(snapshot())));
    subs.push(source.subscribe({
      next(u) {
        const { arrivals, doneAt } = u;
        for (let i = 0; i < arrivals.length; i++) {
          ring[samples % latencyWindow] = doneAt - arrivals[i]!;
          samples++;
        }
        frames += u.count;
        framesTotal += u.count;
        updates++;
        clippedTotal = u.clippedTotal;
        queue = u.queue;
      },
      error: (e) => subscriber.error(e),
      complete() {
        subscriber.next(snapshot());
        subscriber.complete();
      },
    }));
    return () => {
      for (const s of subs) s.unsubscribe();
      ring = new Float64Array(0);
      queue = undefined;
    };
  });
}
