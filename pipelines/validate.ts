/**
 * `validateFrames`: drops the frames a `FrameValidator` rejects and reports each one on the side
 * channel; the stream keeps running.
 */
import { defer, filter, type MonoTypeOperatorFunction } from 'rxjs';
import { FrameValidator, type Frame, type StreamInfo } from '../src/frames/index.js';
import type { EventSink } from './events.js';
import { resolvePipelineOptions, seqAndT } from './internal/options.js';

/** Options of `validateFrames`. */
export interface ValidateFramesOptions {
  /** undefined (an unbounded counter); modulus of the source's seq counter, an integer ≥ 2 (e.g. 256 for 8-bit board counters). */
  seqModulo?: number;
  /** undefined; called with a `reject` event for each dropped frame (see events.ts). */
  onEvent?: EventSink;
}

/** The documented defaults of `ValidateFramesOptions`. */
export const DEFAULT_VALIDATE_FRAMES_OPTIONS: Readonly<ValidateFramesOptions> = Object.freeze({ seqModulo: undefined, onEvent: undefined });

/**
 * Passes on the frames that are well-formed and in order for `info`, drops the others and reports
 * each with its reason (`type`, `length`, `seq-duplicate`, `seq-backwards`, `t-backwards`,
 * `non-finite`; see `FrameValidator`). Ordering rules compare with the last *accepted* frame, so
 * one bad frame never poisons the ones after it. A forward seq jump is not an error: count it
 * with `detectGaps`, placed before this operator so that rejected frames are not counted as
 * lost too.
 *
 * Like `filter`, but the predicate is a stateful validator and every `false` is reported.
 *
 * ```
 * frames:  --1--2--3(NaN)--4--4--5--|
 * output:  --1--2----------4-----5--|
 * events:  ---------reject(3, non-finite)--reject(4, seq-duplicate)
 * ```
 *
 * State (the last accepted seq and t, the counters) is created per subscription.
 *
 * @example
 * frames$.pipe(detectGaps({ modulo: 256, onEvent }), validateFrames(info, { seqModulo: 256, onEvent }))
 * @see FrameValidator (the checks), detectGaps (counts the frames lost in jumps)
 * @param info the stream's header; checked now (DataError)
 * @param options see `ValidateFramesOptions`; checked now (InvalidOptionError)
 * @returns an operator emitting the accepted frames, unchanged and in order
 */
export function validateFrames(info: StreamInfo, options: ValidateFramesOptions = {}): MonoTypeOperatorFunction<Frame> {
  // Checks the options (known keys, onEvent a function) and, with a throw-away validator, the
  // header and seqModulo, so a bad config fails now with the validator's own messages.
  const { seqModulo, onEvent } = resolvePipelineOptions<object, ValidateFramesOptions>(
    'validateFrames', {}, {}, { seqModulo: 'number', onEvent: 'function' }, options,
  );
  const validatorOptions = seqModulo === undefined ? {} : { seqModulo };
  new FrameValidator(info, validatorOptions);
  return (source) => defer(() => {
    const validator = new FrameValidator(info, validatorOptions);
    return source.pipe(filter((frame) => {
      const verdict = validator.check(frame);
      if (verdict.ok) return true;
      if (onEvent) {
        const { seq, t } = seqAndT(frame);
        onEvent({ type: 'reject', operator: 'validateFrames', seq, t, reason: verdict.reason, message: verdict.message });
      }
      return false;
    }));
  });
}
