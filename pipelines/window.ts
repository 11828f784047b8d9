/**
 * `window`: the last `length` consecutive frames, every `hop` frames, as one contiguous block
 * (`FrameWindow`) for the windowed models (`onlineCp`) and `stft`.
 *
 * **Lifetime:** `FrameWindow.values` is one buffer per subscription, rewritten at each emission:
 * it is valid until the next window is emitted (frames arriving in between do not touch it, they
 * go to a separate ring). Copy it to keep it longer. The frames' own arrays are copied on arrival
 * and not kept, so upstream pools (`compress`) may reuse them at once.
 */
import { Observable, type OperatorFunction } from 'rxjs';
import type { ConstraintTable } from '../src/factorize/validate.js';
import { checkSeqModulo, isValidSeq, seqDelta } from '../src/frames/gaps.js';
import type { Frame } from '../src/frames/index.js';
import type { EventSink, PipelineEvent } from './events.js';
import { resolvePipelineOptions, seqAndT } from './internal/options.js';
import type { FrameWindow } from './types.js';

/** Options of `window`. */
export interface WindowOptions {
  /** required; frames per window (integer in [1, 1048576]). */
  length: number;
  /** length (back-to-back windows); frames between window starts (integer in [1, 1048576]): less than length overlaps, more skips frames. */
  hop?: number;
  /** undefined (an unbounded counter); modulus of the source's seq counter, an integer ≥ 2 (e.g. 256 for 8-bit board counters). */
  seqModulo?: number;
}

/** Hooks of `window`. */
export interface WindowHooks {
  /** undefined; called with a `reject` event (reason `type` or `length`) per dropped frame and a `reset` event per restart. */
  onEvent?: EventSink;
}

/**
 * Allowed values of `WindowOptions.length` and `hop` (seqModulo, undefined or an integer ≥ 2, is
 * checkSeqModulo's). No defaults object: length is required and hop defaults to it.
 */
export const WINDOW_CONSTRAINTS: ConstraintTable<Required<Pick<WindowOptions, 'length' | 'hop'>>> = Object.freeze({
  length: { type: 'int', min: 1, max: 1_048_576 },
  hop: { type: 'int', min: 1, max: 1_048_576 },
});

/**
 * Emits the last `length` frames as one `FrameWindow` (count × dims values, row-major, oldest
 * first) once `length` frames are in, then every `hop` frames. Frames are copied into a ring of
 * `length` × dims Float64 values on arrival; an emission copies the ring, oldest first, into the
 * pooled output buffer. Nothing is allocated per frame; an emission allocates only its small
 * `FrameWindow` object.
 *
 * Like `bufferCount(length, hop)`, but the frames are copied into one pooled Float64Array, a
 * window never spans a seq jump, and the result does not depend on how the frames are spread
 * over time (state is kept across any chunking of the stream).
 *
 * ```
 * length 3, hop 2, seq:  -1-2-3-4-5-7-8-9-|
 * output:                -----A---B-----C-|    A = [1 2 3], B = [3 4 5], C = [7 8 9]
 * events:                -----------reset(seq 7, previousSeq 5)
 * ```
 *
 * A frame restarts the window when its seq is not the previous seq + 1 (mod `seqModulo`): a jump
 * forward or back, or a repeat. The buffered frames are dropped, the frame starts the next window,
 * and a `reset` event is reported (the stream keeps running; `index` keeps counting). The first
 * frame fixes the frame length; a frame of another length, without typed-array values or
 * without a valid seq is dropped and reported (`reject`, reason `length` / `type`) and leaves the
 * state as it was. On completion or error the partial window is dropped.
 *
 * @example
 * frames$.pipe(window({ length: 250, hop: 125, onEvent }), map((w) => model.update(w.values)))
 * @see stft (built on it), onlineCp (its consumer), batchFrames (blocks by count or time, gaps allowed)
 * @param options see `WindowOptions` (`length` required) and `WindowHooks`; checked now (InvalidOptionError)
 * @returns an operator emitting `FrameWindow`s
 */
export function window(options: WindowOptions & WindowHooks): OperatorFunction<Frame, FrameWindow> {
  // hop defaults to the given length, so the table checks both with one merge.
  const given: unknown = options;
  const hopDefault = typeof given === 'object' && given !== null ? (given as { length?: unknown }).length : undefined;
  const defaults = { length: undefined, hop: hopDefault } as unknown as Required<Pick<WindowOptions, 'length' | 'hop'>>;
  const o = resolvePipelineOptions<Required<Pick<WindowOptions, 'length' | 'hop'>>, Pick<WindowOptions, 'seqModulo'> & WindowHooks>(
    'window', WINDOW_CONSTRAINTS, defaults, { seqModulo: 'number', onEvent: 'function' }, options,
  );
  const { length, hop, onEvent } = o;
  const seqModulo = checkSeqModulo('window', 'seqModulo', o.seqModulo);

  return (source) => new Observable<FrameWindow>((subscriber) => {
    let dims = 0;
    let ring = new Float64Array(0); // length × dims, allocated at the first frame (dims unknown before)
    let out = new Float64Array(0); // the emitted view
    let seqs = new Float64Array(length), times = new Float64Array(length);
    let head = 0; // ring slot of the next frame; once `length` frames are in, also the oldest one
    let due = length; // frames until the next emission
    let last = -1; // seq of the last frame taken, -1 before the first
    let index = 0, resets = 0;

    // Like `tap`, a throwing sink errors the stream; returns false then.
    const report = (event: PipelineEvent): boolean => {
      if (!onEvent) return true;
      try {
        onEvent(event);
        return true;
      } catch (e) {
        subscriber.error(e);
        return false;
      }
    };
    const reject = (frame: Frame, reason: 'type' | 'length', problem: string): void => {
      const { seq, t } = seqAndT(frame);
      report({ type: 'reject', operator: 'window', seq, t, reason, message: `window: frame seq ${String(frame?.seq)}: ${problem}` });
    };

    const emit = (): void => {
      const n = length * dims, split = head * dims;
      let j = 0;
      for (let i = split; i < n; i++) out[j++] = ring[i]!; // oldest part: slots head..length-1
      for (let i = 0; i < split; i++) out[j++] = ring[i]!;
      const newest = head === 0 ? length - 1 : head - 1;
      index++;
      subscriber.next({ seq: seqs[head]!, lastSeq: seqs[newest]!, t0: times[head]!, t1: times[newest]!, count: length, dims, values: out, index });
    };

    const subscription = source.subscribe({
      next(frame) {
        const v = frame?.values;
        if (!(v instanceof Float64Array) && !(v instanceof Float32Array)) {
          reject(frame, 'type', 'values must be a Float32Array or Float64Array');
          return;
        }
        if (dims === 0 ? v.length === 0 : v.length !== dims) {
          reject(frame, 'length', dims === 0 ? 'values are empty' : `expected ${dims} values (the first frame's length), got ${v.length}`);
          return;
        }
        const seq = frame.seq;
        if (!isValidSeq(seq, seqModulo)) {
          reject(frame, 'type', seqModulo === undefined ? 'seq must be a non-negative integer' : `seq must be an integer in [0, ${seqModulo - 1}]`);
          return;
        }
        if (dims === 0) {
          dims = v.length;
          ring = new Float64Array(length * dims);
          out = new Float64Array(length * dims);
        }
        if (last >= 0 && seqDelta(last, seq, seqModulo) !== 1) {
          // Restart: resetting the count is enough, the next `length` frames overwrite every slot
          // before anything is read (the ring's rotation does not matter).
          due = length;
          resets++;
          if (!report({ type: 'reset', operator: 'window', seq, t: frame.t, previousSeq: last, resets })) return;
        }
        last = seq;
        ring.set(v, head * dims);
        seqs[head] = seq;
        times[head] = frame.t;
        head = head + 1 === length ? 0 : head + 1;
        if (--due === 0) {
          due = hop;
          emit();
        }
      },
      error: (e) => subscriber.error(e),
      complete: () => subscriber.complete(),
    });
    return () => {
      subscription.unsubscribe();
      ring = out = seqs = times = new Float64Array(0);
    };
  });
}
