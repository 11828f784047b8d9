/**
 * The JSON codec: frames as sensors publish them on `<prefix>/<stream>/frames`, and the retained
 * `StreamInfo` on `<prefix>/<stream>/info` (ARCHITECTURE.md, "MQTT topics").
 *
 * Accepted frame payloads (other fields are ignored, so sensors may add their own):
 *
 * ```
 * one frame   {"seq": 17, "t": 12.068, "values": [1.5, -2, 0.25]}
 * a batch     {"seq": 17, "t0": 12.068, "dt": 0.004, "values": [[1.5, -2, 0.25], [1.4, -2.1, 0.2]]}
 *             → frame i has seq + i, t0 + i·dt (the last must still have seq ≤ 2^53 − 1 and a finite t)
 * ```
 *
 * JSON cannot spell NaN or Infinity (`JSON.stringify` writes `null` for them), so a `null` value
 * decodes to NaN: it is a bad sample, not a bad message, and `FrameValidator` rejects the frame as
 * 'non-finite' and counts it. Any other non-number is a malformed message (DataError).
 */
import { DataError, InvalidOptionError } from '../errors.js';
import { seqOverrun, timeOverflow } from './binary.js';
import { describe, typeName } from './describe.js';
import { isValidSeq } from './gaps.js';
import { validateStreamInfo, type Frame, type StreamInfo } from './types.js';

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a sensor's JSON frame payload (one frame or a batch) into frames.
 * @param input the payload, text or UTF-8 bytes (a Buffer from mqtt.js at any offset is fine)
 * @param dims expected values per frame (an integer ≥ 1)
 * @param where where it came from, prefixed to messages (e.g. the topic)
 * @returns frames with Float64Array values (JSON numbers are doubles)
 * @throws DataError naming the field: "missing seq", "values[3] is a string", "values[1] has 7 values, expected 8", …
 */
export function decodeJsonFrames(input: string | Uint8Array, dims: number, where = 'json frames'): Frame[] {
  if (!Number.isSafeInteger(dims) || dims < 1) throw new InvalidOptionError('decodeJsonFrames', 'dims', 'an integer ≥ 1', dims);
  const doc = parseJson(input, where);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new DataError(`expected a JSON object; got ${typeName(doc)}`, where);
  const o = doc as Record<string, unknown>;
  if (!('seq' in o)) throw new DataError('missing seq', where);
  const seq = o.seq;
  if (!isValidSeq(seq, undefined)) throw new DataError(`seq must be a non-negative integer; got ${typeName(seq)} ${describe(seq)}`, where);
  if (!('values' in o)) throw new DataError('missing values', where);
  const hasT = 't' in o;
  const hasT0 = 't0' in o;
  if (hasT && hasT0) throw new DataError('has both t (one frame) and t0 (a batch); send one', where);
  if (!hasT && !hasT0) throw new DataError('missing t (one frame) or t0 and dt (a batch)', where);
  if (hasT) {
    const t = finite(o.t, 't', where);
    return [{ seq, t, values: readRow(o.values, dims, 'values', where) }];
  }
  const t0 = finite(o.t0, 't0', where);
  if (!('dt' in o)) throw new DataError('missing dt (a batch with t0 needs dt)', where);
  const dt = finite(o.dt, 'dt', where);
  if (dt < 0) throw new DataError(`dt must be ≥ 0; got ${dt}`, where);
  const rows = o.values;
  if (!Array.isArray(rows)) throw new DataError(`values must be an array of frames (arrays); got ${typeName(rows)}`, where);
  if (rows.length === 0) throw new DataError('values is empty (a batch holds at least one frame)', where);
  const overflow = seqOverrun(seq, rows.length) ?? timeOverflow(t0, dt, rows.length);
  if (overflow) throw new DataError(overflow, where);
  const frames: Frame[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) frames[i] = { seq: seq + i, t: t0 + i * dt, values: readRow(rows[i], dims, `values[${i}]`, where) };
  return frames;
}

/** Encodes one frame as `{"seq","t","values"}` (non-finite values become null, as JSON.stringify does). */
export function encodeJsonFrame(frame: Frame): string {
  return JSON.stringify({ seq: frame.seq, t: frame.t, values: Array.from(frame.values) });
}

/** Encodes a StreamInfo as JSON after validating it (DataError naming the field). */
export function encodeStreamInfo(info: StreamInfo): string {
  return JSON.stringify(validateStreamInfo(info, 'encodeStreamInfo'));
}

/** Decodes and validates a StreamInfo JSON payload (text or UTF-8 bytes); DataError naming the field. */
export function decodeStreamInfo(input: string | Uint8Array, where = 'stream info'): StreamInfo {
  return validateStreamInfo(parseJson(input, where), where);
}

function parseJson(input: string | Uint8Array, where: string): unknown {
  let text: string;
  if (typeof input === 'string') text = input;
  else if (input instanceof Uint8Array) {
    try {
      text = utf8Decoder.decode(input);
    } catch {
      throw new DataError('payload is not valid UTF-8', where);
    }
  } else throw new DataError(`expected a string or Uint8Array payload; got ${typeName(input)}`, where);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new DataError(`not valid JSON: ${(e as Error).message}`, where);
  }
}

function finite(v: unknown, field: string, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new DataError(`${field} must be a finite number; got ${typeName(v)} ${describe(v)}`, where);
  return v;
}

function readRow(row: unknown, dims: number, field: string, where: string): Float64Array {
  if (!Array.isArray(row)) throw new DataError(`${field} must be an array of ${dims} numbers; got ${typeName(row)}`, where);
  if (row.length !== dims) throw new DataError(`${field} has ${row.length} values, expected ${dims}`, where);
  const out = new Float64Array(dims);
  for (let j = 0; j < dims; j++) {
    const v: unknown = row[j];
    if (typeof v === 'number') out[j] = v;
    else if (v === null) out[j] = NaN; // JSON's spelling of a non-finite sample; the validator counts it
    else throw new DataError(`${field}[${j}] is ${typeName(v)}${typeof v === 'string' ? ` (${describe(v)})` : ''}, expected a number`, where);
  }
  return out;
}
