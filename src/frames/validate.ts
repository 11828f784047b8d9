/**
 * Per-stream frame validation. Bad frames are rejected and counted with a reason, and never touch
 * the validator's state, so one bad frame cannot poison the frames after it and the pipeline keeps
 * running (issue 4). Gaps are not errors: a forward jump of seq is accepted (count it with
 * `GapDetector`).
 *
 * Checks, cheapest first; the first failing one is the reason:
 *
 * | reason          | rejected when                                                             |
 * |-----------------|---------------------------------------------------------------------------|
 * | `type`          | not an object; seq not a non-negative integer (< seqModulo if set);       |
 * |                 | t not a finite number; values not a Float32Array / Float64Array           |
 * | `length`        | values.length ≠ frameLength(info)                                         |
 * | `seq-duplicate` | seq equals the last accepted seq (`seqDelta` = 0)                         |
 * | `seq-backwards` | seq is older than the last accepted seq (`seqDelta` < 0; wrap-aware)      |
 * | `t-backwards`   | t < last accepted t (equal t is allowed: host clocks can stamp two frames |
 * |                 | of one chunk alike)                                                       |
 * | `non-finite`    | some value is NaN or ±Infinity                                            |
 */
import { InvalidOptionError } from '../errors.js';
import { describe } from './describe.js';
import { checkSeqModulo, isValidSeq, seqDelta } from './gaps.js';
import { frameLength, validateStreamInfo, type Frame, type StreamInfo } from './types.js';

/** Why a frame was rejected. */
export type RejectReason = 'length' | 'non-finite' | 'seq-backwards' | 'seq-duplicate' | 't-backwards' | 'type';

/** Every reject reason, in the order the checks run. */
export const REJECT_REASONS: readonly RejectReason[] = Object.freeze([
  'type', 'length', 'seq-duplicate', 'seq-backwards', 't-backwards', 'non-finite',
] as const);

/** The verdict on one frame; a rejection says why, in words naming the stream, seq and problem. */
export type CheckResult = { readonly ok: true } | { readonly ok: false; readonly reason: RejectReason; readonly message: string };

/** Options of a `FrameValidator`. */
export interface FrameValidatorOptions {
  /** Default undefined (an unbounded integer counter). Modulus of the source's seq counter, an integer ≥ 2, e.g. 256 for 8-bit board counters. */
  seqModulo?: number;
}

/** The documented defaults of `FrameValidatorOptions`. */
export const DEFAULT_FRAME_VALIDATOR_OPTIONS: Readonly<FrameValidatorOptions> = Object.freeze({ seqModulo: undefined });

/** Counters of a `FrameValidator`: accepted frames, rejected frames, and rejections per reason. */
export interface FrameCounts {
  accepted: number;
  rejected: number;
  byReason: Record<RejectReason, number>;
}

const OK: CheckResult = Object.freeze({ ok: true }); // shared so the accept path allocates nothing

/**
 * Checks the frames of one stream against its `StreamInfo` and against the frames accepted before.
 * Holds state (last seq and t, counters): create one per stream and subscription.
 *
 * Like a schema check, but stateful: ordering rules compare with the last *accepted* frame only.
 *
 * ```
 * seq      1    2    3 (NaN)       3    3              2              5
 * verdict  ok   ok   ✗ non-finite  ok   ✗ seq-duplicate  ✗ seq-backwards  ok (a gap: 4 is missing)
 * ```
 *
 * @example
 * const v = new FrameValidator(info, { seqModulo: 256 });
 * const r = v.check(frame);
 * if (!r.ok) log.warn(r.message); // "stream eeg1 frame seq 17: value 3 is NaN"
 * @see GapDetector for counting the frames lost in forward jumps
 */
export class FrameValidator {
  /** The stream id used in messages. */
  readonly streamId: string;
  /** Expected values per frame. */
  readonly length: number;
  /** Counter modulus, undefined for unbounded. */
  readonly seqModulo: number | undefined;
  private lastSeq = -1; // -1: no frame accepted yet (or since reset())
  private lastT = -Infinity;
  private accepted = 0;
  private readonly rejects: Record<RejectReason, number> = {
    type: 0, length: 0, 'seq-duplicate': 0, 'seq-backwards': 0, 't-backwards': 0, 'non-finite': 0,
  };

  /**
   * @param info the stream's header; validated here (DataError)
   * @param options see `FrameValidatorOptions`; validated here (InvalidOptionError)
   */
  constructor(info: StreamInfo, options: FrameValidatorOptions = {}) {
    const clean = validateStreamInfo(info, 'FrameValidator');
    if (typeof options !== 'object' || options === null) throw new InvalidOptionError('FrameValidator', 'options', 'an object', options);
    for (const key of Object.keys(options)) {
      if (key !== 'seqModulo') throw new InvalidOptionError('FrameValidator', key, 'a known option (seqModulo)', (options as Record<string, unknown>)[key]);
    }
    this.streamId = clean.id;
    this.length = frameLength(clean);
    this.seqModulo = checkSeqModulo('FrameValidator', 'seqModulo', options.seqModulo);
  }

  /**
   * Checks one frame; on success it becomes the reference for the next one, on failure nothing
   * but the reject counter changes.
   * @param frame the frame (anything at run time; malformed input is rejected as 'type')
   * @returns `{ ok: true }` (a shared object) or `{ ok: false, reason, message }`
   */
  check(frame: Frame): CheckResult {
    if (typeof frame !== 'object' || frame === null) return this.reject('type', '?', `expected a frame object; got ${describe(frame)}`);
    const { seq, t, values } = frame;
    const m = this.seqModulo;
    if (!isValidSeq(seq, m)) {
      const range = m === undefined ? 'a non-negative integer' : `an integer in [0, ${m - 1}]`;
      return this.reject('type', describe(seq), `seq must be ${range}; got ${describe(seq)}`);
    }
    if (typeof t !== 'number' || !Number.isFinite(t)) return this.reject('type', seq, `t must be a finite number of seconds; got ${describe(t)}`);
    if (!(values instanceof Float32Array) && !(values instanceof Float64Array)) {
      return this.reject('type', seq, `values must be a Float32Array or Float64Array; got ${describe(values)}`);
    }
    if (values.length !== this.length) return this.reject('length', seq, `expected ${this.length} values, got ${values.length}`);
    if (this.lastSeq >= 0) {
      const delta = seqDelta(this.lastSeq, seq, m);
      if (delta === 0) return this.reject('seq-duplicate', seq, `duplicate of the last accepted seq`);
      if (delta < 0) {
        const wrap = m === undefined ? '' : ` (counter mod ${m}: ${-delta} behind)`;
        return this.reject('seq-backwards', seq, `seq went backwards from ${this.lastSeq}${wrap}`);
      }
    }
    if (t < this.lastT) return this.reject('t-backwards', seq, `t = ${t} s is before the last accepted t = ${this.lastT} s`);
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v - v !== 0) return this.reject('non-finite', seq, `value ${i} is ${v}`); // NaN and ±Infinity give NaN
    }
    this.lastSeq = seq;
    this.lastT = t;
    this.accepted++;
    return OK;
  }

  /** A copy of the counters. */
  counts(): FrameCounts {
    let rejected = 0;
    for (const r of REJECT_REASONS) rejected += this.rejects[r];
    return { accepted: this.accepted, rejected, byReason: { ...this.rejects } };
  }

  /** Forgets the last accepted seq and t (e.g. after a reconnect restarts the counter); counters are kept. */
  reset(): void {
    this.lastSeq = -1;
    this.lastT = -Infinity;
  }

  private reject(reason: RejectReason, seq: number | string, problem: string): CheckResult {
    this.rejects[reason]++;
    return { ok: false, reason, message: `stream ${this.streamId} frame seq ${seq}: ${problem}` };
  }
}
