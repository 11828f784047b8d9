/**
 * The side channel of the pipeline operators: what happened to frames that did not flow on.
 *
 * One pattern everywhere: every operator takes an optional `onEvent(event)` callback and calls it
 * synchronously, on the frame path, with a typed event object, for each frame it rejects, each
 * gap it sees, each reconstruction it skips or that fails. Bad data is never thrown into the
 * stream: the stream keeps running and the event says what was dropped and why. Pass one sink to
 * every operator to collect them all, e.g. into a Subject that `metrics` and a logger subscribe to:
 *
 * ```ts
 * const events = new Subject<PipelineEvent>();
 * const onEvent = (e: PipelineEvent) => events.next(e);
 * frames$.pipe(validateFrames(info, { onEvent }), detectGaps({ onEvent }), ...);
 * ```
 *
 * Events are plain JSON-serialisable objects (no typed arrays, no functions), so they can be
 * published as they are. Like `tap`, a callback that throws errors the stream (that is a bug in
 * the sink, not bad data). Frequent, expected facts (clipped negative entries) are counted in the
 * data stream instead (`ModelUpdate.clipped`), so the side channel stays rare and cheap.
 *
 * | type      | from                                                                       | means                                           |
 * |-----------|----------------------------------------------------------------------------|-------------------------------------------------|
 * | `reject`  | validateFrames, detectGaps, compress, batchFrames, onlineNmf, window, stft | one frame dropped, with reason and text         |
 * | `reject`  | onlineCp                                                                   | one window dropped (seq, t: its first frame's)  |
 * | `gap`     | detectGaps                                                                 | `lost` frames missing before `seq`              |
 * | `reset`   | window, stft                                                               | the window restarted at `seq` (seq jump)        |
 * | `skip`    | reconstruct                                                                | a due reconstruction skipped: one still running |
 * | `failure` | reconstruct                                                                | a reconstruction failed (solver/data error)     |
 */
import type { RejectReason } from '../src/frames/index.js';

/** The operators that report events. */
export type PipelineOperator = 'validateFrames' | 'detectGaps' | 'compress' | 'batchFrames' | 'onlineNmf' | 'reconstruct' | 'window' | 'stft' | 'onlineCp';

/**
 * Why a frame was rejected: a `FrameValidator` reason, or `'model'` when the online model refused
 * the frame (its DataError: NaN, ±Infinity, negative with clipping off, wrong length).
 */
export type PipelineRejectReason = RejectReason | 'model';

/** One frame dropped (from onlineCp: one window; seq and t are its first frame's). */
export interface RejectEvent {
  readonly type: 'reject';
  readonly operator: PipelineOperator;
  /** The frame's seq, or undefined when it had no usable one. */
  readonly seq: number | undefined;
  /** The frame's time stamp (s), or undefined when it had no usable one. */
  readonly t: number | undefined;
  readonly reason: PipelineRejectReason;
  /** Names the stream or operator, the seq and the problem. */
  readonly message: string;
}

/** A forward jump of the seq counter: `lost` frames are missing before the frame `seq`. */
export interface GapEvent {
  readonly type: 'gap';
  readonly operator: 'detectGaps';
  readonly seq: number;
  readonly t: number;
  readonly lost: number;
  /** Gap events so far (this one included), in this subscription. */
  readonly gaps: number;
  /** Frames lost so far (this gap included), in this subscription. */
  readonly lostTotal: number;
}

/**
 * A windowing operator restarted: frame `seq` did not follow `previousSeq` (a jump either way, or
 * a repeat), so the frames buffered before it were dropped and the next window starts at `seq`.
 * Not a `gap`: it says nothing about frames lost (count those with `detectGaps`).
 */
export interface ResetEvent {
  readonly type: 'reset';
  readonly operator: 'window' | 'stft';
  readonly seq: number;
  readonly t: number;
  /** Seq of the last frame taken before the restart. */
  readonly previousSeq: number;
  /** Restarts so far (this one included), in this subscription. */
  readonly resets: number;
}

/** A reconstruction that was due but skipped because the previous one was still running. */
export interface SkipEvent {
  readonly type: 'skip';
  readonly operator: 'reconstruct';
  /** Last seq of the model update that made it due (undefined for a timer tick before any update). */
  readonly seq: number | undefined;
  /** Skips so far in this subscription. */
  readonly skipped: number;
}

/** A reconstruction that failed; the previous factors stay the latest. */
export interface FailureEvent {
  readonly type: 'failure';
  readonly operator: 'reconstruct';
  readonly seq: number;
  readonly message: string;
  /** Failures so far in this subscription. */
  readonly failures: number;
}

/** Everything the operators report on the side channel. */
export type PipelineEvent = RejectEvent | GapEvent | ResetEvent | SkipEvent | FailureEvent;

/** The callback every operator takes as `onEvent`. */
export type EventSink = (event: PipelineEvent) => void;
