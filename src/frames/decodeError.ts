/** The error a frame codec throws for a malformed message: a DataError that also carries where in the bytes it broke. */
import { DataError } from '../errors.js';

/**
 * A malformed binary message. It is a `DataError` (so callers that count bad input can catch one
 * class), plus the byte offset of the offending field and, once the header got that far, the seq.
 */
export class FrameDecodeError extends DataError {
  override name = 'FrameDecodeError';
  constructor(
    /** The problem, without the location (e.g. "unsupported version 2"). */
    readonly problem: string,
    /** Where the message came from (topic, file, 'binary batch'). */
    readonly source: string,
    /** Offset from the start of the message of the field that is wrong or missing. */
    readonly byteOffset: number,
    /** The batch's first seq, if the header was read that far. */
    readonly seq?: number,
  ) {
    super(`byte ${byteOffset}: ${problem}${seq === undefined ? '' : ` (batch seq ${seq})`}`, source);
  }
}
