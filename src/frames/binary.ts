/**
 * The binary wire format of a `FrameBatch` (MQTT `<prefix>/<stream>/frames`, version 1).
 * Everything is little-endian; firmware can fill the fixed 40-byte part as a packed struct, whose
 * numeric fields all sit at 8-byte-aligned offsets, then append the id and the samples.
 *
 * | offset    | size        | type    | field                                                        |
 * |-----------|-------------|---------|--------------------------------------------------------------|
 * | 0         | 4           | bytes   | magic `C F S B` = 0x43 0x46 0x53 0x42                        |
 * | 4         | 1           | uint8   | version = 1                                                  |
 * | 5         | 1           | uint8   | flags = 0 (none defined; a v1 decoder rejects any set bit)   |
 * | 6         | 1           | uint8   | L = stream id length in bytes, 1…255                         |
 * | 7         | 1           | uint8   | reserved = 0                                                 |
 * | 8         | 8           | uint64  | seq of the first frame, ≤ 2^53 − 1 (exact in a JS number)    |
 * | 16        | 8           | float64 | t0, seconds, finite                                          |
 * | 24        | 8           | float64 | dt, seconds between frames, finite, ≥ 0                      |
 * | 32        | 4           | uint32  | count, frames in the batch, ≥ 1                              |
 * | 36        | 4           | uint32  | dims, values per frame, ≥ 1; count × dims ≤ 2^24             |
 * | 40        | L           | UTF-8   | stream id                                                    |
 * | 40 + L    | P           | zeros   | padding so the samples start 4-aligned: P = (4 − L mod 4) mod 4 |
 * | H = 40+L+P| 4·count·dims| float32 | values, frame by frame (row-major count × dims)              |
 *
 * The message ends right after the samples (total H + 4·count·dims bytes); trailing bytes are an
 * error, so a message is never silently half-understood. Frame i has seq + i and t0 + i·dt, so the
 * last frame's seq + count − 1 must still be ≤ 2^53 − 1 and its t0 + (count − 1)·dt finite. seq
 * is 64-bit so an unbounded counter never wraps (2^53 frames is 1.1 million years at 250 Hz);
 * sources with a wrapping board counter unwrap it before batching. Values are carried as they
 * are, NaN included: judging them is `FrameValidator`'s job, which counts them with a reason.
 *
 * Decoding never makes a typed-array view on the input (mqtt.js hands out Buffers at arbitrary,
 * unaligned byte offsets): the header is read through a DataView and the samples are copied once
 * into a fresh Float32Array.
 */
import { DataError, ShapeMismatchError } from '../errors.js';
import { FrameDecodeError } from './decodeError.js';
import { describe } from './describe.js';
import { isValidSeq } from './gaps.js';
import type { Frame, FrameBatch } from './types.js';

/** The four magic bytes, 'CFSB' (cfstream batch). */
export const BATCH_MAGIC: readonly number[] = Object.freeze([0x43, 0x46, 0x53, 0x42]);
/** The format version this module writes and reads. */
export const BATCH_VERSION = 1;
/** Size of the fixed part of the header, bytes (before the stream id). */
export const BATCH_FIXED_HEADER_BYTES = 40;
/** Longest stream id, UTF-8 bytes. */
export const MAX_STREAM_ID_BYTES = 255;
/** Largest count × dims accepted (16 Mi values, 64 MiB of samples): refuses absurd headers before allocating. */
export const MAX_BATCH_VALUES = 1 << 24;

const TWO_32 = 4294967296;
const MAX_SEQ_HI = 0x1fffff; // high word of 2^53 − 1
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();
/** True on little-endian hosts, where samples can be copied byte for byte. */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Byte offset of the samples for a stream id of `idBytes` bytes. */
export function batchPayloadOffset(idBytes: number): number {
  return BATCH_FIXED_HEADER_BYTES + ((idBytes + 3) & ~3);
}

/**
 * Encodes a batch in the version-1 layout above.
 * @param batch a well-formed batch; otherwise DataError / ShapeMismatchError naming the field
 * @returns a fresh Uint8Array (wrap with `Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength)` if an API wants a Buffer)
 */
export function encodeBatch(batch: FrameBatch): Uint8Array {
  const where = 'encodeBatch';
  if (typeof batch !== 'object' || batch === null) throw new DataError(`expected a FrameBatch; got ${describe(batch)}`, where);
  const { streamId, seq, t0, dt, count, dims, values } = batch;
  if (typeof streamId !== 'string' || streamId.length === 0) throw new DataError(`streamId must be a non-empty string; got ${describe(streamId)}`, where);
  const id = utf8Encoder.encode(streamId);
  if (id.length > MAX_STREAM_ID_BYTES) throw new DataError(`streamId is ${id.length} UTF-8 bytes; at most ${MAX_STREAM_ID_BYTES} fit the header`, where);
  if (!isValidSeq(seq, undefined)) throw new DataError(`seq must be an integer in [0, 2^53 − 1]; got ${describe(seq)}`, where);
  if (typeof t0 !== 'number' || !Number.isFinite(t0)) throw new DataError(`t0 must be a finite number; got ${describe(t0)}`, where);
  if (typeof dt !== 'number' || !Number.isFinite(dt) || dt < 0) throw new DataError(`dt must be a finite number ≥ 0; got ${describe(dt)}`, where);
  for (const [name, v] of [['count', count], ['dims', dims]] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v >= TWO_32) throw new DataError(`${name} must be an integer in [1, 2^32 − 1]; got ${describe(v)}`, where);
  }
  const n = count * dims;
  if (n > MAX_BATCH_VALUES) throw new DataError(`count × dims = ${count} × ${dims} exceeds the limit of ${MAX_BATCH_VALUES} values`, where);
  const overflow = seqOverrun(seq, count) ?? timeOverflow(t0, dt, count);
  if (overflow) throw new DataError(overflow, where);
  if (!(values instanceof Float32Array)) throw new DataError(`values must be a Float32Array; got ${describe(values)}`, where);
  if (values.length !== n) throw new ShapeMismatchError(`${where} values`, `count × dims = ${count} × ${dims} = ${n}`, `${values.length}`);

  const start = batchPayloadOffset(id.length);
  const out = new Uint8Array(start + 4 * n); // zero-filled: flags, reserved and padding stay 0
  const view = new DataView(out.buffer);
  out.set(BATCH_MAGIC, 0);
  out[4] = BATCH_VERSION;
  out[6] = id.length;
  view.setUint32(8, seq % TWO_32, true);
  view.setUint32(12, Math.floor(seq / TWO_32), true);
  view.setFloat64(16, t0, true);
  view.setFloat64(24, dt, true);
  view.setUint32(32, count, true);
  view.setUint32(36, dims, true);
  out.set(id, BATCH_FIXED_HEADER_BYTES);
  if (HOST_LITTLE_ENDIAN) out.set(new Uint8Array(values.buffer, values.byteOffset, 4 * n), start);
  else for (let i = 0; i < n; i++) view.setFloat32(start + 4 * i, values[i]!, true);
  return out;
}

/**
 * Decodes one version-1 message, checking every field against the buffer length.
 *
 * Works on any Uint8Array or Buffer, at any byteOffset: the input is only read through a DataView
 * and copied, never viewed as floats, and the result shares no memory with it.
 *
 * @param bytes exactly one message
 * @param where where it came from, for messages (default 'binary batch')
 * @returns a fresh FrameBatch
 * @throws FrameDecodeError (a DataError) naming the problem and its byte offset: truncated
 *   header / id / samples, wrong magic, unsupported version, unknown flags, bad field values,
 *   absurd count × dims, frames running past seq 2^53 − 1 or to a non-finite t, invalid UTF-8,
 *   trailing bytes
 */
export function decodeBatch(bytes: Uint8Array, where = 'binary batch'): FrameBatch {
  if (!(bytes instanceof Uint8Array)) throw new FrameDecodeError(`expected a Uint8Array or Buffer; got ${describe(bytes)}`, where, 0);
  const len = bytes.byteLength;
  const fail = (problem: string, at: number, seq?: number): never => {
    throw new FrameDecodeError(problem, where, at, seq);
  };
  if (len < BATCH_FIXED_HEADER_BYTES) {
    // Check what is there first, so random bytes say "bad magic" rather than "short".
    for (let i = 0; i < Math.min(len, 4); i++) if (bytes[i] !== BATCH_MAGIC[i]) fail(`bad magic ${hex(bytes, 0, Math.min(len, 4))}, expected 43 46 53 42 ('CFSB')`, i);
    fail(`truncated header: message is ${len} bytes, the fixed header needs ${BATCH_FIXED_HEADER_BYTES}`, len);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, len);
  for (let i = 0; i < 4; i++) if (bytes[i] !== BATCH_MAGIC[i]) fail(`bad magic ${hex(bytes, 0, 4)}, expected 43 46 53 42 ('CFSB')`, i);
  const version = bytes[4]!;
  if (version !== BATCH_VERSION) fail(`unsupported version ${version} (this decoder reads version ${BATCH_VERSION})`, 4);
  const flags = bytes[5]!;
  if (flags !== 0) fail(`unknown flags 0x${flags.toString(16).padStart(2, '0')} (version 1 defines none)`, 5);
  const idLen = bytes[6]!;
  if (idLen === 0) fail('stream id length is 0 (must be 1…255)', 6);
  if (bytes[7] !== 0) fail(`reserved byte is ${bytes[7]}, must be 0`, 7);
  const hi = view.getUint32(12, true);
  if (hi > MAX_SEQ_HI) fail(`seq exceeds 2^53 − 1 (high word 0x${hi.toString(16)})`, 8);
  const seq = hi * TWO_32 + view.getUint32(8, true);
  const t0 = view.getFloat64(16, true);
  if (!Number.isFinite(t0)) fail(`t0 is ${t0}, must be finite`, 16, seq);
  const dt = view.getFloat64(24, true);
  if (!Number.isFinite(dt) || dt < 0) fail(`dt is ${dt}, must be finite and ≥ 0`, 24, seq);
  const count = view.getUint32(32, true);
  if (count === 0) fail('count is 0 (a batch holds at least one frame)', 32, seq);
  const dims = view.getUint32(36, true);
  if (dims === 0) fail('dims is 0 (a frame holds at least one value)', 36, seq);
  const n = count * dims; // exact: both < 2^32, so the product is < 2^64 and only compared
  if (n > MAX_BATCH_VALUES) fail(`count × dims = ${count} × ${dims} exceeds the limit of ${MAX_BATCH_VALUES} values`, 32, seq);
  // Frame i has seq + i and t0 + i·dt: the last one must still be an exact seq and a finite time
  // (t grows with i, dt ≥ 0, so the last frame's is the largest).
  const overrun = seqOverrun(seq, count);
  if (overrun) fail(overrun, 8, seq);
  const tOverflow = timeOverflow(t0, dt, count);
  if (tOverflow) fail(tOverflow, 24, seq);
  const start = batchPayloadOffset(idLen);
  if (len < start) fail(`truncated stream id: header says ${idLen} id bytes plus ${start - BATCH_FIXED_HEADER_BYTES - idLen} padding, message ends at ${len}`, len, seq);
  let streamId = '';
  try {
    streamId = utf8Decoder.decode(bytes.subarray(BATCH_FIXED_HEADER_BYTES, BATCH_FIXED_HEADER_BYTES + idLen));
  } catch {
    fail('stream id is not valid UTF-8', BATCH_FIXED_HEADER_BYTES, seq);
  }
  for (let i = BATCH_FIXED_HEADER_BYTES + idLen; i < start; i++) if (bytes[i] !== 0) fail(`padding byte is ${bytes[i]}, must be 0`, i, seq);
  const end = start + 4 * n;
  if (len < end) fail(`truncated samples: count × dims = ${count} × ${dims} needs ${4 * n} bytes from byte ${start}, only ${len - start} remain`, len, seq);
  if (len > end) fail(`${len - end} trailing bytes after the samples`, end, seq);
  return { streamId, seq, t0, dt, count, dims, values: readFloat32LE(bytes, start, n) };
}

/**
 * Copies `n` little-endian float32 values starting at `bytes[start]` into a fresh Float32Array.
 * @internal exported for tests; `viaDataView` forces the portable path that big-endian hosts take.
 */
export function readFloat32LE(bytes: Uint8Array, start: number, n: number, viaDataView = !HOST_LITTLE_ENDIAN): Float32Array {
  const out = new Float32Array(n);
  if (!viaDataView) {
    // One memcpy into the fresh (aligned) buffer; the input's alignment never matters.
    new Uint8Array(out.buffer).set(bytes.subarray(start, start + 4 * n));
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, 4 * n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

/**
 * Splits a batch into frames: frame i has seq + i, t0 + i·dt and row i of the values.
 * The frames' values are views into `batch.values` (no copy): copy before mutating.
 */
export function batchToFrames(batch: FrameBatch): Frame[] {
  const { seq, t0, dt, count, dims, values } = batch;
  if (values.length !== count * dims) throw new ShapeMismatchError('batchToFrames values', `count × dims = ${count} × ${dims}`, `${values.length}`);
  const frames: Frame[] = new Array(count);
  for (let i = 0; i < count; i++) frames[i] = { seq: seq + i, t: t0 + i * dt, values: values.subarray(i * dims, (i + 1) * dims) };
  return frames;
}

/**
 * Packs frames with consecutive seqs and uniformly spaced times into one batch (values rounded
 * to float32). Split the frames at gaps first: a batch cannot carry one.
 * @param streamId the stream's id
 * @param frames at least one frame, all of the same length
 * @param dt spacing in seconds; default inferred from the first and last t (0 for one frame)
 * @returns a new batch
 * @throws DataError naming the first frame that breaks the rules (ShapeMismatchError for length)
 */
export function framesToBatch(streamId: string, frames: readonly Frame[], dt?: number): FrameBatch {
  const where = 'framesToBatch';
  if (!Array.isArray(frames) || frames.length === 0) throw new DataError('expected at least one frame', where);
  const first = frames[0]!;
  const last = frames[frames.length - 1]!;
  const count = frames.length;
  const dims = first.values.length;
  if (dims === 0) throw new DataError('frames have no values', where);
  if (!isValidSeq(first.seq, undefined)) throw new DataError(`frame 0 seq must be a non-negative integer; got ${describe(first.seq)}`, where);
  if (!Number.isFinite(first.t) || !Number.isFinite(last.t)) throw new DataError('frame times must be finite', where);
  const step = dt ?? (count > 1 ? (last.t - first.t) / (count - 1) : 0);
  if (!Number.isFinite(step) || step < 0) throw new DataError(`dt must be a finite number ≥ 0; got ${step}`, where);
  // Allow float rounding of t0 + i·dt and sub-per-mille jitter; anything more is not a uniform grid.
  const tol = 1e-3 * step + 8 * Number.EPSILON * Math.max(Math.abs(first.t), Math.abs(last.t), 1);
  const values = new Float32Array(count * dims);
  for (let i = 0; i < count; i++) {
    const f = frames[i]!;
    if (f.values.length !== dims) throw new ShapeMismatchError(`${where} frames[${i}].values`, `${dims} values (as frames[0])`, `${f.values.length}`);
    if (f.seq !== first.seq + i) {
      throw new DataError(`frames[${i}] has seq ${describe(f.seq)}, expected ${first.seq + i}: a batch holds consecutive frames, split at gaps`, where);
    }
    const expected = first.t + i * step;
    if (!(Math.abs(f.t - expected) <= tol)) {
      throw new DataError(`frames[${i}] has t = ${f.t}, expected t0 + ${i}·dt = ${expected} (dt = ${step}): times are not uniformly spaced`, where);
    }
    values.set(f.values, i * dims);
  }
  return { streamId, seq: first.seq, t0: first.t, dt: step, count, dims, values };
}

/**
 * The problem when frames seq … seq + count − 1 run past 2^53 − 1 (their seqs would not be exact
 * numbers), else undefined. Shared with the JSON codec.
 * @internal
 */
export function seqOverrun(seq: number, count: number): string | undefined {
  return count - 1 > Number.MAX_SAFE_INTEGER - seq
    ? `seq ${seq} + ${count - 1} (the last of ${count} frames) runs past 2^53 − 1: frame i has seq + i, which must stay an exact integer`
    : undefined;
}

/**
 * The problem when the last frame's time t0 + (count − 1)·dt is not finite (it overflows), else
 * undefined; computed as `batchToFrames` does. Shared with the JSON codec.
 * @internal
 */
export function timeOverflow(t0: number, dt: number, count: number): string | undefined {
  const last = t0 + (count - 1) * dt;
  return Number.isFinite(last)
    ? undefined
    : `t0 + ${count - 1}·dt = ${t0} + ${count - 1}·${dt} is ${last} (the last of ${count} frames): frame i has t0 + i·dt, which must stay finite`;
}

function hex(bytes: Uint8Array, from: number, to: number): string {
  return Array.from(bytes.subarray(from, to), (b) => b.toString(16).padStart(2, '0')).join(' ');
}
