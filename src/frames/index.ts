/** The frames module: the shared data model (StreamInfo, Frame, FrameBatch), validation, gap detection and the wire codecs. */
export { frameLength, validateStreamInfo, type Frame, type FrameBatch, type StreamInfo, type StreamKind } from './types.js';
export {
  DEFAULT_FRAME_VALIDATOR_OPTIONS, FrameValidator, REJECT_REASONS,
  type CheckResult, type FrameCounts, type FrameValidatorOptions, type RejectReason,
} from './validate.js';
export {
  DEFAULT_GAP_DETECTOR_OPTIONS, GapDetector, seqDelta,
  type GapDetectorOptions, type GapObservation, type GapTotals, type SeqKind,
} from './gaps.js';
export {
  BATCH_FIXED_HEADER_BYTES, BATCH_MAGIC, BATCH_VERSION, MAX_BATCH_VALUES, MAX_STREAM_ID_BYTES,
  batchPayloadOffset, batchToFrames, decodeBatch, encodeBatch, framesToBatch,
} from './binary.js';
export { decodeJsonFrames, decodeStreamInfo, encodeJsonFrame, encodeStreamInfo } from './json.js';
export { FrameDecodeError } from './decodeError.js';
