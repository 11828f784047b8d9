/**
 * The data model every source, pipeline and sink shares (ARCHITECTURE.md, "Data model"):
 * a `StreamInfo` header published once per stream, and `Frame`s (one time step) or `FrameBatch`es
 * (many consecutive time steps, the unit the binary codec carries).
 *
 * ```
 * StreamInfo { id: 'eeg1', kind: 'compressed', n: 400, rate: 250, projection: { d: 80, … } }
 *     │ frameLength(info) = projection.d = 80  (n for kind 'raw')
 *     ▼
 * Frame { seq: 17, t: 12.068, values: Float32Array(80) }
 * FrameBatch { streamId: 'eeg1', seq: 17, t0: 12.068, dt: 0.004, count: 32, dims: 80,
 *              values: Float32Array(32 × 80) }   // frame i: seq + i, t0 + i·dt, row i
 * ```
 */
import { DataError, InvalidOptionError } from '../errors.js';
import { validateProjectionSpec, type ProjectionSpec } from '../sensing/projection.js';
import { describe } from './describe.js';

/** Whether a stream carries raw frames (length n) or compressed ones (y = P x, length d). */
export type StreamKind = 'raw' | 'compressed';

/** A stream header, like an LSL stream header; published retained on `<prefix>/<stream>/info`. */
export interface StreamInfo {
  /** Stable source id (non-empty). */
  id: string;
  /** 'raw' or 'compressed'. */
  kind: StreamKind;
  /** Length of the uncompressed frame vector (integer ≥ 1). */
  n: number;
  /** Names of the n dimensions (channels, channel×frequency bins, …). */
  labels?: string[];
  /** Nominal frames per second; 0 = irregular. */
  rate: number;
  /** Physical units of the values (e.g. 'uV'). */
  units?: string;
  /** Present iff kind === 'compressed'; frame length is then projection.d. */
  projection?: ProjectionSpec;
}

/** One time step of one stream; `t` in seconds, `seq` the source's own counter. */
export interface Frame {
  /** Source counter (non-negative integer; may wrap for board counters, see GapDetector). */
  seq: number;
  /** Time stamp in seconds. */
  t: number;
  /** The frame vector, of length `frameLength(info)`. */
  values: Float32Array | Float64Array;
}

/** `count` consecutive frames of one stream: frame i has seq + i, t0 + i·dt and row i of values. */
export interface FrameBatch {
  /** The stream's `StreamInfo.id`. */
  streamId: string;
  /** Seq of the first frame (non-negative safe integer; never wraps inside a batch). */
  seq: number;
  /** Time of the first frame, seconds. */
  t0: number;
  /** Spacing between frames, seconds (≥ 0). */
  dt: number;
  /** Number of frames (≥ 1). */
  count: number;
  /** Values per frame (≥ 1). */
  dims: number;
  /** count × dims, row-major (frame by frame). */
  values: Float32Array;
}

const KINDS: readonly StreamKind[] = ['raw', 'compressed'];

/** Length of each frame's `values`: n for raw streams, projection.d for compressed ones. */
export function frameLength(info: StreamInfo): number {
  if (info.kind === 'compressed') {
    if (!info.projection) throw new DataError(`stream ${info.id} is compressed but has no projection`, 'StreamInfo');
    return info.projection.d;
  }
  return info.n;
}

/**
 * Checks a (possibly untrusted, e.g. JSON-parsed) StreamInfo and returns a clean copy holding
 * only the known fields; throws a DataError naming the field.
 *
 * Rules: id a non-empty string; kind 'raw' | 'compressed'; n an integer ≥ 1; rate finite ≥ 0;
 * units a string if present; labels, if present, n strings; projection present iff compressed,
 * a valid ProjectionSpec (see `validateProjectionSpec`) with projection.n === n.
 *
 * @param info the value to check
 * @param where where it came from, prefixed to the message (e.g. 'mqtt cfstream/eeg1/info')
 * @returns a new StreamInfo with `projection.p` resolved for sparse-binary
 */
export function validateStreamInfo(info: unknown, where = 'StreamInfo'): StreamInfo {
  if (typeof info !== 'object' || info === null || Array.isArray(info)) {
    throw new DataError(`expected a StreamInfo object; got ${describe(info)}`, where);
  }
  const o = info as Record<string, unknown>;
  const { id, kind, n, rate, units, labels, projection } = o;
  if (typeof id !== 'string' || id.length === 0) throw new DataError(`field 'id' must be a non-empty string; got ${describe(id)}`, where);
  if (typeof kind !== 'string' || !KINDS.includes(kind as StreamKind)) {
    throw new DataError(`field 'kind' must be 'raw' or 'compressed'; got ${describe(kind)}`, where);
  }
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) throw new DataError(`field 'n' must be an integer ≥ 1; got ${describe(n)}`, where);
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 0) {
    throw new DataError(`field 'rate' must be a finite number ≥ 0 (0 = irregular); got ${describe(rate)}`, where);
  }
  const out: StreamInfo = { id, kind: kind as StreamKind, n, rate };
  if (units !== undefined) {
    if (typeof units !== 'string') throw new DataError(`field 'units' must be a string; got ${describe(units)}`, where);
    out.units = units;
  }
  if (labels !== undefined) {
    if (!Array.isArray(labels)) throw new DataError(`field 'labels' must be an array of ${n} strings; got ${describe(labels)}`, where);
    if (labels.length !== n) throw new DataError(`field 'labels' must have n = ${n} entries; got ${labels.length}`, where);
    const bad = labels.findIndex((l) => typeof l !== 'string');
    if (bad >= 0) throw new DataError(`field 'labels[${bad}]' must be a string; got ${describe(labels[bad])}`, where);
    out.labels = [...(labels as string[])];
  }
  if (kind === 'compressed') {
    if (projection === undefined) throw new DataError(`field 'projection' is required when kind is 'compressed'`, where);
    out.projection = checkProjection(projection, n, where);
  } else if (projection !== undefined) {
    throw new DataError(`field 'projection' must be absent when kind is 'raw' (a raw stream is not projected)`, where);
  }
  return out;
}

function checkProjection(p: unknown, n: number, where: string): ProjectionSpec {
  if (typeof p !== 'object' || p === null || Array.isArray(p)) {
    throw new DataError(`field 'projection' must be a ProjectionSpec object; got ${describe(p)}`, where);
  }
  let spec: Required<ProjectionSpec>;
  try {
    spec = validateProjectionSpec(p as ProjectionSpec);
  } catch (e) {
    // Re-raise the shared validator's verdict as a data error about this field of the header.
    if (e instanceof InvalidOptionError) {
      throw new DataError(`field 'projection.${e.option}' must be ${e.allowed}; got ${describe(e.received)}`, where);
    }
    throw e;
  }
  if (spec.n !== n) throw new DataError(`field 'projection.n' must equal n = ${n}; got ${spec.n}`, where);
  return spec;
}
