/**
 * `detectGaps`: passes frames on unchanged and reports every forward jump of the seq counter
 * (wrap-aware) with the exact number of frames lost.
 */
import { defer, filter, type MonoTypeOperatorFunction } from 'rxjs';
import { DataError } from '../src/errors.js';
import { GapDetector, type Frame } from '../src/frames/index.js';
import type { EventSink } from './events.js';
import { resolvePipelineOptions, seqAndT } from './internal/options.js';

/** Options of `detectGaps`. */
export interface DetectGapsOptions {
  /** undefined (an unbounded counter); counter modulus, an integer ≥ 2 (e.g. 256 for an 8-bit board counter; then a loss of L frames is exact while L ≤ 127). */
  modulo?: number;
  /** undefined; called with a `gap` event per jump, and a `reject` event for a frame without a valid seq (see events.ts). */
  onEvent?: EventSink;
}

/** The documented defaults of `DetectGapsOptions`. */
export const DEFAULT_DETECT_GAPS_OPTIONS: Readonly<DetectGapsOptions> = Object.freeze({ modulo: undefined, onEvent: undefined });

/**
 * Counts gaps and lost frames on the seq counter and reports each gap as
 * `{ type: 'gap', seq, t, lost, gaps, lostTotal }` (totals per subscription). Frames are passed
 * on unchanged, duplicates and late frames included (they are not gaps; `validateFrames` drops
 * them when it runs first). A frame whose seq is not a valid counter value is dropped and
 * reported as a `reject` (reason `type`): it cannot be placed in the sequence.
 *
 * Like `pairwise` over the seqs, but it keeps the newest seq, so a late frame does not make the
 * next on-time frame look like a gap.
 *
 * ```
 * modulo 256, seq:  --254--255--2----3--|
 * output:           --254--255--2----3--|
 * events:           ------------gap(seq 2, lost 2)
 * ```
 *
 * Order: put it BEFORE `validateFrames` to count what the transport lost, and nothing else
 * (duplicates and late frames pass here and are rejected there; a NaN frame is a reject, not a
 * gap). After `validateFrames`, every rejected frame also shows up here as a lost one.
 *
 * State (the newest seq, the totals) is created per subscription.
 *
 * @example
 * frames$.pipe(detectGaps({ modulo: 256, onEvent }), validateFrames(info, { seqModulo: 256, onEvent }))
 * @see GapDetector (the step rule), validateFrames
 * @param options see `DetectGapsOptions`; checked now (InvalidOptionError)
 * @returns an operator emitting the frames unchanged
 */
export function detectGaps(options: DetectGapsOptions = {}): MonoTypeOperatorFunction<Frame> {
  const { modulo, onEvent } = resolvePipelineOptions<object, DetectGapsOptions>(
    'detectGaps', {}, {}, { modulo: 'number', onEvent: 'function' }, options,
  );
  const detectorOptions = modulo === undefined ? {} : { modulo };
  new GapDetector(detectorOptions); // checks modulo now
  return (source) => defer(() => {
    const detector = new GapDetector(detectorOptions);
    let gaps = 0, lostTotal = 0;
    return source.pipe(filter((frame) => {
      let lost: number;
      try {
        lost = detector.observe(frame?.seq).lost;
      } catch (e) {
        if (!(e instanceof DataError)) throw e;
        const { seq, t } = seqAndT(frame);
        onEvent?.({ type: 'reject', operator: 'detectGaps', seq, t, reason: 'type', message: e.message });
        return false;
      }
      if (lost > 0) {
        gaps++;
        lostTotal += lost;
        onEvent?.({ type: 'gap', operator: 'detectGaps', seq: frame.seq, t: frame.t, lost, gaps, lostTotal });
      }
      return true;
    }));
  });
}
