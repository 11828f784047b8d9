/**
 * `onlineNmf`: feeds blocks of compressed frames to an online NMF model (`OnlineNMF`) and emits
 * one `ModelUpdate` per block.
 */
import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { DataError } from '../src/errors.js';
import { OnlineNMF, resolveOnlineNmfOptions, type OnlineNmfOptions, type OnlineNmfRuntime } from '../src/factorize/online/nmf.js';
import type { ConstraintTable } from '../src/factorize/validate.js';
import type { EventSink } from './events.js';
import { HoldoutRing } from './internal/holdoutRing.js';
import { clockOf, resolvePipelineOptions } from './internal/options.js';
import type { FrameBlock, ModelUpdate } from './types.js';

/** Options of the `onlineNmf` operator. */
export interface OnlineNmfOperatorOptions {
  /** true; set negative entries (noise in compressed frames) to 0 before the update and count them, rather than have the model refuse the frame. */
  clipNegative: boolean;
  /** 0; hold out the last this many measurement rows of every frame: the model never sees them, and `reconstruct` uses them to estimate W's error without ground truth (integer ≥ 0, < d). */
  holdoutRows: number;
  /** 256; recent frames kept (whole) for that estimate (integer ≥ 1); costs one copy of d values per frame. */
  holdoutFrames: number;
}

/** Hooks of the `onlineNmf` operator. */
export interface OnlineNmfOperatorHooks {
  /** asyncScheduler; only its clock is used (see `now`). */
  scheduler?: SchedulerLike;
  /** performance.now with the default scheduler, else scheduler.now(); the clock (ms) of `doneAt` — use the same as `batchFrames`. */
  now?: () => number;
  /** undefined; called with a `reject` event (reason `model`) for each frame the model refuses. */
  onEvent?: EventSink;
}

/** The documented defaults of `OnlineNmfOperatorOptions`. */
export const DEFAULT_ONLINE_NMF_OPERATOR_OPTIONS: Readonly<OnlineNmfOperatorOptions> = Object.freeze({ clipNegative: true, holdoutRows: 0, holdoutFrames: 256 });

/** Allowed values of `OnlineNmfOperatorOptions`. */
export const ONLINE_NMF_OPERATOR_CONSTRAINTS: ConstraintTable<OnlineNmfOperatorOptions> = Object.freeze({
  clipNegative: { type: 'boolean' },
  holdoutRows: { type: 'int', min: 0 },
  holdoutFrames: { type: 'int', min: 1 },
});

/** Model options (rank required) and the kernel choice, for a model created per subscription. */
export type OnlineNmfModelSpec = Partial<OnlineNmfOptions> & { rank: number; runtime?: OnlineNmfRuntime };

/**
 * Updates an online NMF model with each `FrameBlock` (one `partialFitFrames` call per block, the
 * model's zero-allocation path) and emits `{ seq, lastSeq, t, count, rejected, clipped,
 * clippedTotal, framesSeen, arrivals, doneAt, queue, model }` after it.
 *
 * Like `tap(block => model.partialFitFrames(block.values, block.count))`, but bad data never
 * reaches the stream as an error:
 * - negative entries (noise in compressed frames) are set to 0 in a copy (the block is not
 *   modified) and counted, with `clipNegative` (default); NMF needs y ≥ 0;
 * - if the model still refuses the block (a DataError: NaN, ±Infinity, wrong length — which
 *   `validateFrames` normally stops earlier), only the bad frames are dropped, each reported as
 *   a `reject` event (reason `model`), and the good ones are fed as one call. The model checks a
 *   call completely before changing anything, so it is untouched by the refused call, and the
 *   good frames update it exactly as if the bad ones had never been in the block.
 * Other errors (e.g. rank larger than the frame length: a configuration error) error the stream.
 * A block whose every frame was refused emits nothing.
 *
 * ```
 * blocks:  --B1-------B2(frame 2 NaN)--B3--|
 * output:  --U1-------U2(count 31)-----U3--|
 * events:  -----------reject(seq of frame 2, model)
 * ```
 *
 * Model ownership: given options (`{ rank: 10, ... }`), each subscription creates its own model,
 * reachable as `update.model`. Given an `OnlineNMF` instance, every subscription feeds that one
 * instance: the caller owns it (for checkpoints with `state()`), and must not subscribe twice.
 *
 * @example
 * compressed$.pipe(batchFrames({ maxBatch: 32 }), onlineNmf({ rank: 10, warmStartFrames: 2000 }), share())
 * @see batchFrames, reconstruct (samples `update.model`), metrics, OnlineNMF
 * @param model an OnlineNMF to train, or its options (checked now: InvalidOptionError)
 * @param options see `OnlineNmfOperatorOptions`, `OnlineNmfOperatorHooks`
 * @returns an operator emitting one `ModelUpdate` per block that reached the model
 */
export function onlineNmf(
  model: OnlineNMF | OnlineNmfModelSpec,
  options: Partial<OnlineNmfOperatorOptions> & OnlineNmfOperatorHooks = {},
): OperatorFunction<FrameBlock, ModelUpdate> {
  const o = resolvePipelineOptions<OnlineNmfOperatorOptions, OnlineNmfOperatorHooks>(
    'onlineNmf', ONLINE_NMF_OPERATOR_CONSTRAINTS, DEFAULT_ONLINE_NMF_OPERATOR_OPTIONS,
    { scheduler: 'scheduler', now: 'function', onEvent: 'function' }, options,
  );
  let create: () => OnlineNMF;
  if (model instanceof OnlineNMF) {
    create = () => model;
  } else {
    const { runtime, ...modelOptions } = model ?? ({} as OnlineNmfModelSpec);
    resolveOnlineNmfOptions(modelOptions); // checks now
    new OnlineNMF(modelOptions, runtime); // checks the runtime now
    create = () => new OnlineNMF(modelOptions, runtime);
  }
  const { clipNegative, holdoutRows, holdoutFrames, onEvent } = o;
  const now = clockOf(o.scheduler ?? asyncScheduler, o.now);

  return (source) => new Observable<ModelUpdate>((subscriber) => {
    const m = create();
    let scratch = new Float64Array(0); // the clipped copy of a block
    let compact = new Float64Array(0); // a refused block's good frames (allocated on the first refusal)
    let clippedTotal = 0;
    const ring = holdoutRows > 0 ? new HoldoutRing(holdoutRows, holdoutFrames) : undefined;

    const reject = (block: FrameBlock, j: number, message: string): void => {
      onEvent?.({ type: 'reject', operator: 'onlineNmf', seq: block.seqs[j], t: block.times[j], reason: 'model', message });
    };

    /**
     * The model refused the block: drop the frames it would refuse (an entry not finite or < 0,
     * or the wrong length), report them, and feed the others as ONE call, moved together — the
     * model then computes exactly what it would have computed had the bad frames never been in
     * the block. Returns how many frames it took.
     */
    const withoutBadFrames = (block: FrameBlock, input: Float64Array, dims: number): number => {
      const { count } = block;
      const d = m.frameLength;
      if ((d !== 0 && dims !== d) || input.length < count * dims) {
        const why = d !== 0 && dims !== d ? `frames have ${dims} values; the model's frame length d is ${d}` : `the block holds ${input.length} values, not count·dims = ${count * dims}`;
        for (let j = 0; j < count; j++) reject(block, j, `onlineNmf: frame seq ${block.seqs[j]}: ${why}`);
        return 0;
      }
      if (compact.length < count * dims) compact = new Float64Array(count * dims);
      let good = 0;
      for (let j = 0; j < count; j++) {
        const row = input.subarray(j * dims, (j + 1) * dims);
        let bad = -1;
        for (let i = 0; i < dims; i++) {
          const v = row[i]!;
          if (!(v >= 0 && v < Infinity)) { bad = i; break; }
        }
        if (bad >= 0) {
          const v = row[bad]!;
          const what = Number.isNaN(v) ? 'NaN' : v === Infinity || v === -Infinity ? String(v) : `negative (${v})`;
          reject(block, j, `onlineNmf: frame seq ${block.seqs[j]}: entry ${bad} is ${what}; frames must be finite and ≥ 0 (NMF)`);
        } else {
          compact.set(row, good * dims);
          good++;
        }
      }
      if (good === 0) return 0;
      try {
        m.partialFitFrames(compact.subarray(0, good * dims), good);
      } catch (e) {
        if (!(e instanceof DataError)) throw e;
        // Not expected (the checks above are the model's); refuse the lot rather than guess.
        for (let j = 0; j < count; j++) reject(block, j, e.message);
        return 0;
      }
      return good;
    };

    const subscription = source.subscribe({
      next(block) {
        try {
          const { count, dims, values } = block;
          // The model trains on the first `train` values of each frame; the rest are held out.
          const train = dims - holdoutRows;
          if (train < 1) {
            for (let j = 0; j < count; j++) reject(block, j, `onlineNmf: frame seq ${block.seqs[j]}: frames have ${dims} values; holdoutRows ${holdoutRows} leaves none to train on`);
            return;
          }
          let input = values;
          let clipped = 0;
          if (clipNegative || holdoutRows > 0) {
            const len = count * train;
            if (scratch.length < len) scratch = new Float64Array(len); // grows to the largest block, once
            for (let j = 0; j < count; j++) {
              const src = j * dims, dst = j * train;
              for (let i = 0; i < train; i++) {
                const v = values[src + i]!;
                if (clipNegative && v < 0) {
                  scratch[dst + i] = 0;
                  clipped++;
                } else {
                  scratch[dst + i] = v;
                }
              }
              if (clipNegative) for (let i = train; i < dims; i++) if (values[src + i]! < 0) clipped++;
            }
            input = len === scratch.length ? scratch : scratch.subarray(0, len);
            clippedTotal += clipped;
          }
          let taken = count;
          try {
            m.partialFitFrames(input, count);
          } catch (e) {
            if (!(e instanceof DataError)) throw e;
            taken = withoutBadFrames(block, input, train);
          }
          if (taken === 0) return;
          if (ring) for (let j = 0; j < count; j++) ring.push(values, j * dims, dims, block.seqs[j]!, clipNegative);
          subscriber.next({
            seq: block.seq, lastSeq: block.lastSeq, t: block.t1, count: taken, rejected: count - taken, clipped, clippedTotal,
            framesSeen: m.framesSeen, arrivals: block.arrivals, doneAt: now(), queue: block.queue, model: m, holdout: ring,
          });
        } catch (e) {
          subscriber.error(e);
        }
      },
      error: (e) => subscriber.error(e),
      complete: () => subscriber.complete(),
    });
    return () => {
      subscription.unsubscribe();
      scratch = new Float64Array(0);
      compact = new Float64Array(0);
    };
  });
}
