/**
 * `batchFrames`: groups frames into contiguous blocks of at most `maxBatch`, by count or time,
 * for the online model.
 */
import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import type { ConstraintTable } from '../src/factorize/validate.js';
import type { Frame } from '../src/frames/index.js';
import type { EventSink } from './events.js';
import { clockOf, resolvePipelineOptions, seqAndT } from './internal/options.js';
import type { FrameBlock, QueueProbe } from './types.js';

/** Options of `batchFrames`. */
export interface BatchFramesOptions {
  /** 32 frames; a block is emitted as soon as it holds this many (integer in [1, 4096]). This bounds the buffer. */
  maxBatch: number;
  /** 100 ms; a partly filled block is emitted this long after its first frame arrived (≥ 0; 0 = by count only, plus at completion). */
  maxWaitMs: number;
  /** 4 blocks; buffers in the ring (integer in [0, 1024]): an emitted block's arrays stay valid until this many more blocks have been emitted. 0 = new arrays per block. */
  poolSize: number;
}

/** Hooks of `batchFrames`. */
export interface BatchFramesHooks {
  /** asyncScheduler; runs the `maxWaitMs` timer. */
  scheduler?: SchedulerLike;
  /** performance.now with the default scheduler, else scheduler.now(); the clock (ms) of `arrivals`. */
  now?: () => number;
  /** undefined; called with a `reject` event for a frame whose values are not a typed array of the block's length. */
  onEvent?: EventSink;
}

/** The documented defaults of `BatchFramesOptions`. */
export const DEFAULT_BATCH_FRAMES_OPTIONS: Readonly<BatchFramesOptions> = Object.freeze({ maxBatch: 32, maxWaitMs: 100, poolSize: 4 });

/** Allowed values of `BatchFramesOptions`. */
export const BATCH_FRAMES_CONSTRAINTS: ConstraintTable<BatchFramesOptions> = Object.freeze({
  maxBatch: { type: 'int', min: 1, max: 4096 },
  maxWaitMs: { type: 'number', min: 0 },
  poolSize: { type: 'int', min: 0, max: 1024 },
});

/** One ring slot: the arrays of a full block and their full-length views. */
interface Slot {
  values: Float64Array;
  seqs: Float64Array;
  times: Float64Array;
  arrivals: Float64Array;
}

function newSlot(maxBatch: number, dims: number): Slot {
  return {
    values: new Float64Array(maxBatch * dims),
    seqs: new Float64Array(maxBatch),
    times: new Float64Array(maxBatch),
    arrivals: new Float64Array(maxBatch),
  };
}

/**
 * Copies frames into contiguous blocks (`FrameBlock`: count × dims values, row-major, with each
 * frame's seq, t and arrival time) and emits a block when it holds `maxBatch` frames, when its
 * first frame has waited `maxWaitMs`, or when the source completes (what is left). On error the
 * partial block is dropped and the error passed on.
 *
 * Like `bufferTime(maxWaitMs, null, maxBatch)`, but the frames are copied into one pooled
 * Float64Array, ready for `OnlineNMF.partialFitFrames`, with nothing allocated per frame.
 *
 * ```
 * maxBatch 3, maxWaitMs 5 (frames):  -a-b-c-d------------e-f|
 * output:                            -----B---------X------(Y|)
 *   B = [a b c] (count), X = [d] (time, 5 frames after d), Y = [e f] (complete)
 * ```
 *
 * Backpressure: the buffer never holds more than `maxBatch` frames and never drops: it is
 * flushed synchronously, downstream, when full. The first frame fixes the frame length; a frame
 * of another length (or without typed-array values) is dropped and reported (`reject`,
 * reason `length` / `type`). Each block carries a `QueueProbe` (`block.queue.depth()` = frames
 * waiting now) for meters.
 *
 * **Lifetime:** the block's arrays are views into a ring of `poolSize` slots (per subscription),
 * overwritten `poolSize` blocks later. The frames' own arrays are copied on arrival and not kept,
 * so upstream pools (`compress`) may reuse them at once.
 *
 * @example
 * frames$.pipe(batchFrames({ maxBatch: 32, maxWaitMs: 50 }), onlineNmf({ rank: 10 }))
 * @see onlineNmf (the consumer), compress
 * @param options see `BatchFramesOptions`, `BatchFramesHooks`; checked now (InvalidOptionError)
 * @returns an operator emitting `FrameBlock`s
 */
export function batchFrames(options: Partial<BatchFramesOptions> & BatchFramesHooks = {}): OperatorFunction<Frame, FrameBlock> {
  const o = resolvePipelineOptions<BatchFramesOptions, BatchFramesHooks>(
    'batchFrames', BATCH_FRAMES_CONSTRAINTS, DEFAULT_BATCH_FRAMES_OPTIONS, { scheduler: 'scheduler', now: 'function', onEvent: 'function' }, options,
  );
  const { maxBatch, maxWaitMs, poolSize, onEvent } = o;
  const scheduler = o.scheduler ?? asyncScheduler;
  const now = clockOf(scheduler, o.now);
  const timed = maxWaitMs > 0 && maxBatch > 1;
  return (source) => new Observable<FrameBlock>((subscriber) => {
    let dims = 0;
    let slots: Slot[] = [];
    let cur = 0;
    let slot: Slot | undefined;
    let count = 0;
    let timer: Subscription | null = null;
    const queue: QueueProbe = Object.freeze({ operator: 'batchFrames', capacity: maxBatch, depth: () => count });

    const flush = (reason: FrameBlock['reason']): void => {
      if (timer) {
        timer.unsubscribe();
        timer = null;
      }
      if (count === 0 || !slot) return;
      const s = slot, c = count;
      count = 0;
      if (poolSize > 0) {
        cur = cur + 1 === poolSize ? 0 : cur + 1;
        slot = slots[cur];
      } else {
        slot = newSlot(maxBatch, dims);
      }
      const full = c === maxBatch;
      subscriber.next({
        seq: s.seqs[0]!, lastSeq: s.seqs[c - 1]!, t0: s.times[0]!, t1: s.times[c - 1]!, count: c, dims,
        values: full ? s.values : s.values.subarray(0, c * dims),
        seqs: full ? s.seqs : s.seqs.subarray(0, c),
        times: full ? s.times : s.times.subarray(0, c),
        arrivals: full ? s.arrivals : s.arrivals.subarray(0, c),
        reason, queue,
      });
    };

    const reject = (frame: Frame, reason: 'type' | 'length', message: string): void => {
      if (!onEvent) return;
      const { seq, t } = seqAndT(frame);
      try {
        onEvent({ type: 'reject', operator: 'batchFrames', seq, t, reason, message });
      } catch (e) {
        subscriber.error(e);
      }
    };

    const subscription = source.subscribe({
      next(frame) {
        const arrived = now();
        const v = frame?.values;
        if (!(v instanceof Float64Array) && !(v instanceof Float32Array)) {
          reject(frame, 'type', `batchFrames: frame seq ${String(frame?.seq)}: values must be a Float32Array or Float64Array`);
          return;
        }
        if (dims === 0) {
          if (v.length === 0) {
            reject(frame, 'length', `batchFrames: frame seq ${frame.seq}: values are empty`);
            return;
          }
          dims = v.length;
          if (poolSize > 0) for (let i = 0; i < poolSize; i++) slots.push(newSlot(maxBatch, dims));
          slot = poolSize > 0 ? slots[0] : newSlot(maxBatch, dims);
        } else if (v.length !== dims) {
          reject(frame, 'length', `batchFrames: frame seq ${frame.seq}: expected ${dims} values (the first frame's length), got ${v.length}`);
          return;
        }
        const s = slot!;
        s.values.set(v, count * dims);
        s.seqs[count] = frame.seq;
        s.times[count] = frame.t;
        s.arrivals[count] = arrived;
        count++;
        if (count === maxBatch) flush('count');
        else if (count === 1 && timed) timer = scheduler.schedule(() => { timer = null; flush('time'); }, maxWaitMs);
      },
      error(e) {
        count = 0;
        subscriber.error(e);
      },
      complete() {
        flush('complete');
        subscriber.complete();
      },
    });
    return () => {
      subscription.unsubscribe();
      timer?.unsubscribe();
      timer = null;
      slots = [];
      slot = undefined;
      count = 0;
    };
  });
}
