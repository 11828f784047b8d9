/**
 * `.cfs`: cfstream's own recording format, for compressed streams (and raw ones): the StreamInfo
 * as JSON, then length-prefixed records, each a binary frame batch in the CFSB codec
 * (src/frames/binary.ts) or a JSON marker. Values are float32, as CFSB carries them.
 *
 * | offset  | size | field                                                                     |
 * |---------|------|---------------------------------------------------------------------------|
 * | 0       | 4    | magic `C F S R`                                                           |
 * | 4       | 1    | version = 1                                                               |
 * | 5       | 3    | reserved = 0                                                              |
 * | 8       | 4    | uint32 LE: H, bytes of the header JSON (1 … 16 MiB)                        |
 * | 12      | H    | UTF-8 JSON `{"info": StreamInfo, "start": ISO date-time}`                  |
 * | 12 + H  | …    | records: uint32 LE length L (1 … 64 MiB), then L bytes: a CFSB batch (starts with `CFSB`) or a UTF-8 JSON marker `{"type":"marker","t":…,"duration":…,"text":…}` |
 *
 * A batch never spans a gap (seq jumps between batches are gaps). The writer flushes one batch per
 * `batchFrames` frames (default about 1 s), at a gap, before a marker and on close, each record in
 * one write: a killed recorder leaves every flushed batch readable, and the reader detects a
 * record cut short at the end of the file, leaves it out and reports `tornBytes`.
 */
import { closeSync, fstatSync, openSync, writeSync } from 'node:fs';
import { DataError, InvalidOptionError } from '../../src/errors.js';
import {
  batchToFrames, decodeBatch, encodeBatch, FrameDecodeError, frameLength, MAX_BATCH_VALUES, validateStreamInfo,
  type Frame, type FrameBatch, type StreamInfo,
} from '../../src/frames/index.js';
import { MAX_RECORD_BYTES, type BlockReader, type FileBlock, type FileMarker } from './blocks.js';
import { openForReading, readFully } from './edfBlocks.js';

/** The four magic bytes of a .cfs file, 'CFSR' (cfstream recording). */
export const CFS_MAGIC: readonly number[] = Object.freeze([0x43, 0x46, 0x53, 0x52]);
/** The format version written and read. */
export const CFS_VERSION = 1;
/** Largest header JSON accepted, bytes. */
export const CFS_MAX_HEADER_BYTES = 16 * 1024 * 1024;

/** The parsed .cfs header. */
export interface CfsHeader {
  info: StreamInfo;
  /** ISO date-time of the first frame's recording (as the writer was told or its clock said). */
  start: string;
  /** Byte offset of the first record. */
  dataOffset: number;
}

/** Options of `CfsWriter.create`. */
export interface CfsWriterOptions {
  /** Required. Output path (created or truncated). */
  path: string;
  /** Required. The stream's header (validated; raw or compressed). */
  info: StreamInfo;
  /** About 1 s of frames (rate, or 64 for an irregular stream). Frames per batch, ≥ 1. */
  batchFrames?: number;
  /** Now. Start of the recording, stored in the header. */
  start?: Date;
}

/** What a writer wrote. */
export interface CfsWriteSummary {
  path: string;
  frames: number;
  batches: number;
  markers: number;
  /** Gap events (seq jumps) and frames lost in them. */
  gaps: number;
  lost: number;
  /** Frames dropped because their seq did not advance (duplicates, reordering). */
  dropped: number;
  bytes: number;
}

/** Writes a stream to a .cfs file, one flushed record at a time (see the file comment). */
export class CfsWriter {
  private readonly dims: number;
  private readonly batchFrames: number;
  private readonly buf: Float32Array;
  private count = 0;
  private seq0 = 0;
  private t0 = 0;
  private dt = 0;
  private lastSeq = -1;
  private bytes = 0;
  private closed = false;
  private readonly s = { frames: 0, batches: 0, markers: 0, gaps: 0, lost: 0, dropped: 0 };

  private constructor(
    private readonly fd: number,
    readonly path: string,
    readonly info: StreamInfo,
    batchFrames: number,
  ) {
    this.dims = frameLength(info);
    this.batchFrames = batchFrames;
    this.buf = new Float32Array(batchFrames * this.dims);
    this.dt = info.rate > 0 ? 1 / info.rate : 0;
  }

  /** Creates the file and writes its header (InvalidOptionError / DataError on bad options). */
  static create(options: CfsWriterOptions): CfsWriter {
    const info = validateStreamInfo(options.info, 'CfsWriter info');
    const dims = frameLength(info);
    const def = info.rate > 0 ? Math.ceil(info.rate) : 64;
    const batchFrames = options.batchFrames ?? Math.max(1, Math.min(def, Math.floor(MAX_BATCH_VALUES / dims)));
    if (!Number.isInteger(batchFrames) || batchFrames < 1 || batchFrames * dims > MAX_BATCH_VALUES) {
      throw new InvalidOptionError('CfsWriter', 'batchFrames', `an integer in [1, ${Math.floor(MAX_BATCH_VALUES / dims)}]`, batchFrames);
    }
    const start = options.start ?? new Date();
    const json = Buffer.from(JSON.stringify({ info, start: start.toISOString() }), 'utf8');
    const head = Buffer.alloc(12);
    head.set(CFS_MAGIC, 0);
    head[4] = CFS_VERSION;
    head.writeUInt32LE(json.length, 8);
    let fd: number;
    try {
      fd = openSync(options.path, 'w');
    } catch (e) {
      throw new DataError(`cannot create: ${(e as Error).message}`, options.path);
    }
    const w = new CfsWriter(fd, options.path, info, batchFrames);
    w.put(Buffer.concat([head, json]));
    return w;
  }

  /** Appends one frame; a seq jump flushes the batch (a gap), a seq that does not advance is dropped. */
  write(frame: Frame): void {
    if (this.closed) throw new DataError('write after close', this.path);
    const { seq, t, values } = frame;
    if (values.length !== this.dims) throw new DataError(`frame seq ${seq} has ${values.length} values, expected ${this.dims}`, this.path);
    if (this.lastSeq >= 0 && seq <= this.lastSeq) {
      this.s.dropped++;
      return;
    }
    if (this.count > 0) {
      const contiguous = seq === this.lastSeq + 1;
      if (!contiguous) this.flush();
      else if (this.count === 1 && this.dt === 0) this.dt = t - this.t0; // irregular stream: spacing from the first pair
      else if (!(Math.abs(t - (this.t0 + this.count * this.dt)) <= 1e-3 * this.dt + 1e-9 * Math.max(1, Math.abs(t)))) this.flush(); // off the grid
    }
    if (this.lastSeq >= 0 && seq > this.lastSeq + 1) {
      this.s.gaps++;
      this.s.lost += seq - this.lastSeq - 1;
    }
    if (this.count === 0) {
      this.seq0 = seq;
      this.t0 = t;
      if (this.info.rate === 0) this.dt = 0;
    }
    this.buf.set(values, this.count * this.dims);
    this.count++;
    this.lastSeq = seq;
    this.s.frames++;
    if (this.count === this.batchFrames) this.flush();
  }

  /** Records a marker at stream time `t` (the pending batch is flushed first, so file order is time order). */
  annotate(marker: { t: number; duration?: number; text: string }): void {
    if (this.closed) throw new DataError('annotate after close', this.path);
    this.flush();
    const m = { type: 'marker', t: marker.t, duration: marker.duration ?? 0, text: marker.text };
    this.record(Buffer.from(JSON.stringify(m), 'utf8'));
    this.s.markers++;
  }

  /** Flushes the pending batch and closes the file; idempotent. */
  close(): CfsWriteSummary {
    if (!this.closed) {
      this.flush();
      this.closed = true;
      closeSync(this.fd);
    }
    return { path: this.path, ...this.s, bytes: this.bytes };
  }

  private flush(): void {
    if (this.count === 0) return;
    const batch: FrameBatch = {
      streamId: this.info.id, seq: this.seq0, t0: this.t0, dt: this.count > 1 ? this.dt : 0, count: this.count, dims: this.dims,
      values: this.buf.subarray(0, this.count * this.dims),
    };
    this.record(encodeBatch(batch));
    this.s.batches++;
    this.count = 0;
  }

  private record(payload: Uint8Array): void {
    const out = Buffer.allocUnsafe(4 + payload.length);
    out.writeUInt32LE(payload.length, 0);
    out.set(payload, 4);
    this.put(out); // one write per record: a kill leaves whole records or a detectable torn tail
  }

  private put(b: Uint8Array): void {
    let off = 0;
    while (off < b.length) off += writeSync(this.fd, b, off, b.length - off);
    this.bytes += b.length;
  }
}

/** One item of a .cfs file. */
export type CfsItem = { kind: 'batch'; batch: FrameBatch; offset: number } | { kind: 'marker'; marker: FileMarker; offset: number };

/** Reads a .cfs file record by record, synchronously (one record in memory). */
export class CfsReader {
  /** Bytes of a record cut short at the end of the file (known once `next()` returned null). */
  tornBytes = 0;
  private pos: number;
  private closed = false;
  private readonly lenBuf = Buffer.alloc(4);

  private constructor(
    private readonly fd: number,
    readonly path: string,
    readonly header: CfsHeader,
    private readonly size: number,
  ) {
    this.pos = header.dataOffset;
  }

  /** Opens a file and parses its header (DataError naming the file and field). */
  static open(path: string): CfsReader {
    const fd = openForReading(path);
    try {
      const size = fstatSync(fd).size;
      return new CfsReader(fd, path, readCfsHeader(fd, size, path), size);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** The stream's header. */
  get info(): StreamInfo {
    return this.header.info;
  }

  /** The next batch or marker; null at the end of the file or at a torn last record. */
  next(): CfsItem | null {
    if (this.closed) return null;
    const at = this.pos;
    const left = this.size - at;
    if (left <= 0) return null;
    if (left < 4) return this.torn(left);
    readFully(this.fd, this.lenBuf, 4, at);
    const len = this.lenBuf.readUInt32LE(0);
    if (len === 0 || len > MAX_RECORD_BYTES) throw new DataError(`byte ${at}: record length ${len} is outside 1 … ${MAX_RECORD_BYTES}`, this.path);
    if (left - 4 < len) return this.torn(left);
    const payload = Buffer.alloc(len);
    readFully(this.fd, payload, len, at + 4);
    this.pos = at + 4 + len;
    const where = `${this.path}: record at byte ${at}`;
    if (payload[0] === 0x7b) return { kind: 'marker', marker: parseMarker(payload, where), offset: at };
    let batch: FrameBatch;
    try {
      batch = decodeBatch(payload, where);
    } catch (e) {
      if (e instanceof FrameDecodeError) throw new DataError(`byte ${at + 4 + e.byteOffset}: ${e.problem}`, this.path);
      throw e;
    }
    const dims = frameLength(this.info);
    if (batch.dims !== dims) throw new DataError(`batch has ${batch.dims} values per frame, the header says ${dims}`, where);
    if (batch.streamId !== this.info.id) throw new DataError(`batch of stream ${JSON.stringify(batch.streamId)} in a recording of ${JSON.stringify(this.info.id)}`, where);
    return { kind: 'batch', batch, offset: at };
  }

  /** Closes the file; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  private torn(bytes: number): null {
    this.tornBytes = bytes;
    this.pos = this.size;
    return null;
  }
}

function readCfsHeader(fd: number, size: number, path: string): CfsHeader {
  const head = Buffer.alloc(12);
  const got = readFully(fd, head, 12, 0);
  for (let i = 0; i < Math.min(4, got); i++) {
    if (head[i] !== CFS_MAGIC[i]) throw new DataError(`field 'magic' is ${head.subarray(0, Math.min(4, got)).toString('hex')}, expected 43465352 ('CFSR'): not a .cfs recording`, path);
  }
  if (got < 12) throw new DataError(`file too short for a .cfs header (${got} of 12 bytes)`, path);
  if (head[4] !== CFS_VERSION) throw new DataError(`field 'version' is ${head[4]}; this reader reads version ${CFS_VERSION}`, path);
  const h = head.readUInt32LE(8);
  if (h === 0 || h > CFS_MAX_HEADER_BYTES) throw new DataError(`field 'header length' is ${h}, outside 1 … ${CFS_MAX_HEADER_BYTES}`, path);
  if (12 + h > size) throw new DataError(`header truncated: the JSON needs ${h} bytes, the file has ${size - 12} after the fixed part`, path);
  const json = Buffer.alloc(h);
  readFully(fd, json, h, 12);
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch (e) {
    throw new DataError(`header JSON is not valid: ${(e as Error).message}`, path);
  }
  if (typeof doc !== 'object' || doc === null) throw new DataError('header JSON must be an object {info, start}', path);
  const o = doc as { info?: unknown; start?: unknown };
  const info = validateStreamInfo(o.info, `${path}: header`);
  return { info, start: typeof o.start === 'string' ? o.start : '', dataOffset: 12 + h };
}

function parseMarker(payload: Uint8Array, where: string): FileMarker {
  let m: unknown;
  try {
    m = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch (e) {
    throw new DataError(`marker JSON is not valid: ${(e as Error).message}`, where);
  }
  const o = (m ?? {}) as Record<string, unknown>;
  if (o.type !== 'marker' || typeof o.t !== 'number' || typeof o.text !== 'string' || (o.duration !== undefined && typeof o.duration !== 'number')) {
    throw new DataError('a JSON record must be {"type":"marker","t":number,"duration":number,"text":string}', where);
  }
  return { type: 'marker', t: o.t, duration: (o.duration as number | undefined) ?? 0, text: o.text };
}

/** Opens a .cfs file as a block reader: one batch per block, with the markers read before it. */
export function openCfsBlocks(path: string, options: { id?: string } = {}): BlockReader {
  const r = CfsReader.open(path);
  const info = options.id ? { ...r.info, id: options.id } : r.info;
  return {
    info,
    get tornBytes() {
      return r.tornBytes;
    },
    next(): FileBlock | null {
      const markers: FileMarker[] = [];
      for (;;) {
        const item = r.next();
        if (!item) return markers.length > 0 ? { frames: [], markers } : null;
        if (item.kind === 'marker') markers.push(item.marker);
        else return { frames: batchToFrames(item.batch), markers };
      }
    },
    close: () => r.close(),
  };
}
