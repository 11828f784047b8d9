/**
 * The values that flow between the pipeline operators (besides `Frame` from src/frames):
 *
 * ```
 * Frame ──batchFrames──▶ FrameBlock ──onlineNmf──▶ ModelUpdate ──reconstruct──▶ FactorsMessage
 *                                                             └──metrics─────▶ MetricsSnapshot
 * ```
 *
 * Typed arrays in these values are views into per-subscription pools: read them synchronously,
 * when the value is emitted (see each producer for how long they stay valid). Everything in the
 * pipeline up to `onlineNmf` runs synchronously in the frame's `next` call, so that is the
 * natural way to consume them; copy before handing them to anything asynchronous.
 */
import type { OnlineNMF } from '../src/factorize/online/nmf.js';

/** A live reading of a bounded buffer, for meters (read it when you need it; it is not a copy). */
export interface QueueProbe {
  /** The operator that owns the buffer. */
  readonly operator: string;
  /** Frames the buffer holds at most. */
  readonly capacity: number;
  /** Frames in the buffer now. */
  depth(): number;
}

/** Up to `maxBatch` frames of one stream, contiguous, from `batchFrames`. */
export interface FrameBlock {
  /** Seq of the first frame. */
  readonly seq: number;
  /** Seq of the last frame (seqs need not be consecutive: gaps are allowed). */
  readonly lastSeq: number;
  /** Time stamps of the first and last frame, seconds. */
  readonly t0: number;
  readonly t1: number;
  /** Frames in the block (≥ 1). */
  readonly count: number;
  /** Values per frame. */
  readonly dims: number;
  /** count × dims, row-major (frame by frame); a pooled view. */
  readonly values: Float64Array;
  /** Seq of each frame (count); a pooled view. */
  readonly seqs: Float64Array;
  /** t of each frame (count); a pooled view. */
  readonly times: Float64Array;
  /** Clock reading (ms) when each frame reached `batchFrames` (count); a pooled view. */
  readonly arrivals: Float64Array;
  /** Why the block was emitted: full, its oldest frame waited `maxWaitMs`, or the source completed. */
  readonly reason: 'count' | 'time' | 'complete';
  /** The batch buffer this block came from (the same object for every block of a subscription). */
  readonly queue: QueueProbe;
}

/** One update of the online model by one block, from `onlineNmf`. */
export interface ModelUpdate {
  /** Seq of the block's first and last frame. */
  readonly seq: number;
  readonly lastSeq: number;
  /** Time stamp of the block's last frame, seconds. */
  readonly t: number;
  /** Frames of the block that reached the model. */
  readonly count: number;
  /** Frames of the block the model refused (each also reported as a `reject` event). */
  readonly rejected: number;
  /** Negative entries of the block set to 0 before the update. */
  readonly clipped: number;
  /** Negative entries set to 0 so far in this subscription. */
  readonly clippedTotal: number;
  /** The model's `framesSeen` after the update. */
  readonly framesSeen: number;
  /** The block's arrival clock readings (ms, one per frame of the block); a pooled view. */
  readonly arrivals: Float64Array;
  /** Clock reading (ms, same clock as `arrivals`) when the update finished. */
  readonly doneAt: number;
  /** The batch buffer upstream, if the block came from `batchFrames`. */
  readonly queue: QueueProbe | undefined;
  /** The live model: read it (e.g. `components()`) synchronously; it keeps learning afterwards. */
  readonly model: OnlineNMF;
  /** With `holdoutRows` > 0: the recent frames, held-out rows included, for `reconstruct`'s error estimate. */
  readonly holdout: HoldoutProbe | undefined;
}

/**
 * The last frames `onlineNmf` took, whole (training rows and the `rows` held-out measurement rows
 * the model never sees, which are the last `rows` of each frame), for estimating the error of the
 * recovered factors without ground truth (`FactorsMessage.quality`).
 */
export interface HoldoutProbe {
  /** Held-out rows per frame (the last `rows` of each frame). */
  readonly rows: number;
  /** Frames the ring keeps at most. */
  readonly capacity: number;
  /** Frames in the ring now. */
  size(): number;
  /** A copy of the frames in the ring, oldest first: `values` size()×d row-major, and their seqs. */
  copy(): { values: Float64Array; seqs: Float64Array; count: number; dims: number };
}

/** An estimate of the recovered factors' error from held-out measurement rows (no ground truth). */
export interface HoldoutQuality {
  /**
   * ‖y_ho − P_ho·W·h‖ / ‖y_ho‖ over the held-out rows of the last `frames` frames, h the model's
   * codes of their training rows: a validation error for the original-domain ‖x − W·h‖ / ‖x‖
   * (rows W never saw), recovery errors included. Close to it while recovery works; reads low when
   * it fails with sparse-binary P (see reconstruct.ts), but far above `compressedError`.
   */
  readonly heldOutError: number;
  /** ‖y_tr − W̃·h‖ / ‖y_tr‖ on the training rows of the same frames: the model's compressed fit, blind to recovery errors. */
  readonly compressedError: number;
  /** Frames and held-out rows it was measured on. */
  readonly frames: number;
  readonly rows: number;
}

/**
 * Recovered factors W = R_P(W̃), from `reconstruct`: the ARCHITECTURE.md `factors` message
 * `{seq, t, n, d, rank, W, error?}` plus the compressed factors and bookkeeping. Plain arrays,
 * so `JSON.stringify` publishes it as it is.
 */
export interface FactorsMessage {
  /** Last seq and t of the model update the compressed factors were taken from. */
  readonly seq: number;
  readonly t: number;
  /** Uncompressed and compressed dimension, and the rank. */
  readonly n: number;
  readonly d: number;
  readonly rank: number;
  /** `rank` columns of length n: the recovered factors in the original domain. */
  readonly W: number[][];
  /** `rank` columns of length d: the model's W̃ they were recovered from (unit-norm columns). */
  readonly Wc: number[][];
  /** ‖P·W − W̃‖_F / ‖W̃‖_F: how exactly the recovery explains W̃ (≈ 0 for certified basis pursuit). */
  readonly error: number;
  /** The model's framesSeen when W̃ was taken. */
  readonly framesSeen: number;
  /** Wall-clock seconds of the recovery (first column started → last column done). */
  readonly seconds: number;
  /** The longest single task of the recovery (one column's solve), ms: the longest it held the event loop (NaN with a custom `recover`). */
  readonly longestSliceMs: number;
  /** Whether the recovery was warm-started from the previous W. */
  readonly warmStarted: boolean;
  /** 1 for the first reconstruction of the subscription, then 2, 3, … */
  readonly index: number;
  /** The held-out estimate of W's error (onlineNmf `holdoutRows` > 0), else null. */
  readonly quality: HoldoutQuality | null;
  /** Reconstructions skipped so far because one was still running. */
  readonly skipped: number;
}

/**
 * `length` consecutive frames of one stream, from `window` (every `hop` frames): the unit the
 * windowed models (`onlineCp`) and `stft` consume. Frames are in time order; a window never spans
 * a gap (the operator restarts after one).
 */
export interface FrameWindow {
  /** Seq of the first and last frame of the window. */
  readonly seq: number;
  readonly lastSeq: number;
  /** Time stamps of the first and last frame, seconds. */
  readonly t0: number;
  readonly t1: number;
  /** Frames in the window (the operator's `length`). */
  readonly count: number;
  /** Values per frame. */
  readonly dims: number;
  /** count × dims, row-major (frame by frame, oldest first); a pooled view, valid until the next emission. */
  readonly values: Float64Array;
  /** 1 for the first window of the subscription, then 2, 3, … (restarts do not reset it). */
  readonly index: number;
}
