/**
 * Wrap-aware gap detection on a stream's `seq` counter. A jump is a gap event, counted and
 * reported, never papered over (ARCHITECTURE.md, "Data model").
 *
 * The step rule (`seqDelta`), shared with `FrameValidator` so both agree on what "backwards" means:
 *
 * - Unbounded counter (no modulo): delta = seq − last. delta 1 is consecutive, delta k > 1 is a
 *   gap of k − 1 lost frames, 0 a duplicate, negative backwards.
 * - Counter modulo m (e.g. 256 for an 8-bit OpenBCI sample counter): the raw step
 *   s = (seq − last) mod m ∈ [0, m) is ambiguous, because a true step of s + j·m looks the same.
 *   We take the smallest reading: s = 0 is a duplicate, 1 ≤ s ≤ m/2 is forward (s − 1 lost), and
 *   s > m/2 is read as s − m, i.e. a frame from the recent past (reordered, late or replayed)
 *   rather than a loss of more than half the counter range.
 *
 *   Consequences, by design: with modulo m a loss of L frames is counted exactly only while
 *   L + 1 ≤ m/2 (L ≤ 127 for m = 256). A loss of L ≥ m/2 is misread, either as "backwards" or,
 *   for L ≥ m, as a gap of (L + 1) mod m − 1 (a loss of exactly m − 1 + j·m frames looks like a
 *   duplicate). Nothing on the wire can tell these apart; only time stamps could.
 *
 * Duplicates and backwards frames do not move the expectation: the detector keeps the newest seq,
 * so a late frame does not make the next on-time frame look like a gap. A source that restarts its
 * counter (board reset, reconnect) therefore looks like "backwards" until the counter overtakes
 * the old value; call `reset()` when the transport reconnects.
 *
 * ```
 * modulo 256:  seq  253   254   1     2     2     200   3
 *              kind first cons  gap   cons  dup   back  cons   (3 follows the newest, 2)
 *              lost 0     0     2     0     0     0     0
 * ```
 */
import { DataError, InvalidOptionError } from '../errors.js';
import { describe } from './describe.js';

/** Options of a `GapDetector`. */
export interface GapDetectorOptions {
  /** Default undefined (an unbounded integer counter). Counter modulus, an integer ≥ 2, e.g. 256 for an 8-bit board counter. */
  modulo?: number;
}

/** The documented defaults of `GapDetectorOptions`. */
export const DEFAULT_GAP_DETECTOR_OPTIONS: Readonly<GapDetectorOptions> = Object.freeze({ modulo: undefined });

/** How one seq relates to the newest seq seen before it. */
export type SeqKind = 'first' | 'consecutive' | 'gap' | 'duplicate' | 'backwards';

/** The verdict on one observed seq; `lost` > 0 only for kind 'gap'. */
export interface GapObservation {
  readonly kind: SeqKind;
  readonly lost: number;
}

/** Running totals of a `GapDetector`. */
export interface GapTotals {
  /** Seqs observed (all kinds). */
  observed: number;
  /** Gap events (jumps of more than one). */
  gaps: number;
  /** Frames lost in all gaps. */
  lost: number;
  /** Repeats of the newest seq. */
  duplicates: number;
  /** Seqs older than the newest one (reordered, late, or a counter restart). */
  backwards: number;
}

// Shared verdicts so the common cases allocate nothing.
const FIRST: GapObservation = Object.freeze({ kind: 'first', lost: 0 });
const CONSECUTIVE: GapObservation = Object.freeze({ kind: 'consecutive', lost: 0 });
const DUPLICATE: GapObservation = Object.freeze({ kind: 'duplicate', lost: 0 });
const BACKWARDS: GapObservation = Object.freeze({ kind: 'backwards', lost: 0 });

/** Checks a seq modulus option (undefined or an integer in [2, 2^53]); throws InvalidOptionError. */
export function checkSeqModulo(owner: string, option: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 2) {
    throw new InvalidOptionError(owner, option, 'undefined (unbounded) or an integer ≥ 2', value);
  }
  return value;
}

/** True when `seq` is a valid counter value: a non-negative safe integer, below `modulo` if given. */
export function isValidSeq(seq: unknown, modulo: number | undefined): seq is number {
  return typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0 && (modulo === undefined || seq < modulo);
}

/**
 * The signed step from `last` to `seq` under the rule above: > 0 forward (delta − 1 lost),
 * 0 duplicate, < 0 backwards. With a modulo m the result lies in (−m/2, m/2].
 */
export function seqDelta(last: number, seq: number, modulo: number | undefined): number {
  if (modulo === undefined) return seq - last;
  let s = (seq - last) % modulo;
  if (s < 0) s += modulo;
  return s > modulo / 2 ? s - modulo : s;
}

/**
 * Counts gaps and lost frames on a stream's seq counter, wrap-aware.
 *
 * Like `pairwise` over the seqs, but it keeps the newest seq rather than the previous one, so
 * duplicates and late frames are classified without disturbing the count.
 *
 * @example
 * const gaps = new GapDetector({ modulo: 256 });
 * gaps.observe(254); gaps.observe(1); // { kind: 'gap', lost: 2 }
 * gaps.totals();                       // { observed: 2, gaps: 1, lost: 2, duplicates: 0, backwards: 0 }
 * @see seqDelta for the step rule, FrameValidator which rejects duplicates and backwards frames
 */
export class GapDetector {
  /** The counter modulus, undefined for an unbounded counter. */
  readonly modulo: number | undefined;
  private last = -1; // -1: nothing seen since construction or reset()
  private readonly t: GapTotals = { observed: 0, gaps: 0, lost: 0, duplicates: 0, backwards: 0 };

  /** @param options see `GapDetectorOptions`; validated here (InvalidOptionError). */
  constructor(options: GapDetectorOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new InvalidOptionError('GapDetector', 'options', 'an object', options);
    for (const key of Object.keys(options)) {
      if (key !== 'modulo') throw new InvalidOptionError('GapDetector', key, 'a known option (modulo)', (options as Record<string, unknown>)[key]);
    }
    this.modulo = checkSeqModulo('GapDetector', 'modulo', options.modulo);
  }

  /**
   * Classifies `seq` against the newest seq seen and updates the totals.
   * @param seq the frame's counter: a non-negative integer (below modulo if set); else DataError
   * @returns the verdict; `lost` is the number of frames missing before this one
   */
  observe(seq: number): GapObservation {
    if (!isValidSeq(seq, this.modulo)) {
      const range = this.modulo === undefined ? 'a non-negative integer' : `an integer in [0, ${this.modulo - 1}]`;
      throw new DataError(`seq must be ${range}; got ${describe(seq)}`, 'GapDetector');
    }
    this.t.observed++;
    if (this.last < 0) {
      this.last = seq;
      return FIRST;
    }
    const delta = seqDelta(this.last, seq, this.modulo);
    if (delta === 1) {
      this.last = seq;
      return CONSECUTIVE;
    }
    if (delta === 0) {
      this.t.duplicates++;
      return DUPLICATE;
    }
    if (delta < 0) {
      this.t.backwards++;
      return BACKWARDS;
    }
    this.last = seq;
    this.t.gaps++;
    this.t.lost += delta - 1;
    return { kind: 'gap', lost: delta - 1 };
  }

  /** The newest seq seen, or undefined before the first (or after `reset()`). */
  get lastSeq(): number | undefined {
    return this.last < 0 ? undefined : this.last;
  }

  /** A copy of the running totals. */
  totals(): GapTotals {
    return { ...this.t };
  }

  /** Forgets the newest seq (the next one is 'first'), e.g. after a reconnect; totals are kept. */
  reset(): void {
    this.last = -1;
  }
}
