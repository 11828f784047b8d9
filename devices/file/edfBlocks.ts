/**
 * EDF / EDF+ / BDF / BDF+ as blocks for the replay: one data record per block, decoded by the
 * reader in edf.ts (`parseEdfHeader`, `decodeRecord`, `parseTals`); this file only reads the bytes
 * synchronously and turns a record into frames.
 *
 * ```
 * record i:  start s_i (time-keeping TAL, else i·duration), signals c = 0…n−1 with spr samples each
 *   ─▶ frames k = 0…spr−1:  seq = round(s_i·rate) + k,  t = seq / rate (s_i on the sample grid)
 *                                                        or s_i + k / rate (off the grid),
 *                            values[c] = physical sample k of signal c
 * ```
 *
 * So an EDF+D discontinuity becomes a seq jump consistent with the record starts, and a record that
 * starts before the previous one ended is an error (naming the record).
 *
 * Fill written by cfstream's EDF writer (edfWriter.ts) is left out: an annotation
 * `cfstream gap: L samples lost` or `cfstream padding: K samples` (onset, duration) marks samples
 * that hold no data — lost samples inside a record, the tail of the last record — and those
 * frames are skipped, so a recording replays with the seqs it was written with. Such annotations
 * may spill into the next record when one record holds many, so the reader keeps one record of
 * look-ahead (two records in memory at most).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { DataError } from '../../src/errors.js';
import type { Frame, StreamInfo } from '../../src/frames/index.js';
import { decodeRecord, parseEdfHeader, parseFixedHeader, type EdfHeader, type EdfRecord, type EdfSignal } from './edf.js';
import { MAX_RECORD_BYTES, type BlockReader, type FileBlock, type FileMarker } from './blocks.js';

/** Annotations cfstream writes over samples that hold no data (see edfWriter.ts). */
export const EDF_FILL_ANNOTATION = /^cfstream (gap|padding): /;

/** Options of `openEdfBlocks`. */
export interface EdfBlockOptions {
  /** The stream id; default the file name without extension. */
  id?: string;
  /** All data signals. Labels of the data signals to read, in this order (they must share one rate). */
  signals?: readonly string[];
}

/** Opens a file descriptor, turning fs errors into a DataError naming the file. */
export function openForReading(path: string): number {
  try {
    return openSync(path, 'r');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new DataError(`cannot open: ${err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message}`, path);
  }
}

/** Reads `length` bytes at `position` into `buf` (fewer only at the end of the file); returns the count. */
export function readFully(fd: number, buf: Uint8Array, length: number, position: number): number {
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/** Reads and parses an EDF/BDF header through an open descriptor. */
export function readEdfHeaderSync(fd: number, path: string): EdfHeader {
  const size = fstatSync(fd).size;
  const fixed = Buffer.alloc(Math.min(256, size));
  readFully(fd, fixed, fixed.length, 0);
  const { headerBytes } = parseFixedHeader(fixed, path);
  const full = Buffer.alloc(Math.min(headerBytes, size));
  readFully(fd, full, full.length, 0);
  const h = parseEdfHeader(full, size, path);
  if (h.recordBytes > MAX_RECORD_BYTES) {
    throw new DataError(`header field 'samples per record' gives records of ${h.recordBytes} bytes, above the ${MAX_RECORD_BYTES}-byte limit`, path);
  }
  return h;
}

/** The data signals to read (all, or those named), checked to share one rate. */
export function selectEdfSignals(h: EdfHeader, path: string, labels?: readonly string[]): { signals: EdfSignal[]; indices: number[] } {
  const data = h.signals.filter((s) => !s.isAnnotation);
  if (data.length === 0) throw new DataError('the file has no data signals (only annotations)', path);
  let indices = data.map((_, i) => i);
  if (labels !== undefined) {
    indices = labels.map((l) => {
      const i = data.findIndex((s) => s.label === l);
      if (i < 0) throw new DataError(`no data signal labelled ${JSON.stringify(l)}; the file has ${data.map((s) => JSON.stringify(s.label)).join(', ')}`, path);
      return i;
    });
    if (indices.length === 0) throw new DataError('option signals selects no signal', path);
  }
  const signals = indices.map((i) => data[i]!);
  const spr = signals[0]!.samplesPerRecord;
  const odd = signals.find((s) => s.samplesPerRecord !== spr);
  if (odd) {
    throw new DataError(`signals have different rates (${signals[0]!.label} ${signals[0]!.rate} Hz, ${odd.label} ${odd.rate} Hz); ` +
      'a frame stream needs one: select signals of one rate (option signals, URI ?signals=a,b)', path);
  }
  if (!(h.recordDuration > 0)) throw new DataError(`header field 'record duration' is ${h.recordDuration}: the file has no sampling rate`, path);
  return { signals, indices };
}

/** The StreamInfo of an EDF file's selected signals. */
export function edfStreamInfo(h: EdfHeader, signals: readonly EdfSignal[], path: string, id?: string): StreamInfo {
  const units = signals[0]!.physicalDimension;
  // spr / duration can be off by an ulp (e.g. 25 / 0.1); the header only holds ~8 significant digits anyway.
  const rate = Number((signals[0]!.samplesPerRecord / h.recordDuration).toPrecision(12));
  const info: StreamInfo = { id: id ?? (basename(path, extname(path)) || 'edf'), kind: 'raw', n: signals.length, rate, labels: signals.map((s) => s.label) };
  if (signals.every((s) => s.physicalDimension === units) && units !== '') info.units = units;
  return info;
}

/** Opens an EDF/BDF file as a block reader (header parsed now: DataError naming the file and field). */
export function openEdfBlocks(path: string, options: EdfBlockOptions = {}): EdfBlockReader {
  const fd = openForReading(path);
  try {
    return new EdfBlockReader(fd, path, readEdfHeaderSync(fd, path), options);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** Reads an EDF/BDF file record by record, as frames (see the file comment). */
export class EdfBlockReader implements BlockReader {
  readonly info: StreamInfo;
  readonly signals: readonly EdfSignal[];
  tornBytes = 0;
  private readonly indices: number[];
  private readonly rate: number;
  private readonly spr: number;
  private readonly buf: Buffer;
  private index = 0;
  private ahead: EdfRecord | null = null;
  private skips: number[] = []; // [from, to) seq pairs of fill to leave out
  private nextSeq = -Infinity; // first seq the next record may start at
  private closed = false;

  constructor(
    private readonly fd: number,
    readonly path: string,
    readonly header: EdfHeader,
    options: EdfBlockOptions,
  ) {
    const { signals, indices } = selectEdfSignals(header, path, options.signals);
    this.signals = signals;
    this.indices = indices;
    this.info = edfStreamInfo(header, signals, path, options.id);
    this.rate = this.info.rate;
    this.spr = signals[0]!.samplesPerRecord;
    this.buf = Buffer.alloc(header.recordBytes);
  }

  /** The next record as frames, with the markers stored in it; null after the last whole record. */
  next(): FileBlock | null {
    const h = this.header;
    if (this.closed || this.index >= h.records) {
      this.tornBytes = h.tornBytes;
      return null;
    }
    const markers: FileMarker[] = [];
    const rec = this.ahead ?? this.read(this.index, markers);
    this.ahead = this.index + 1 < h.records ? this.read(this.index + 1, markers) : null;
    this.index++;
    return { frames: this.frames(rec), markers };
  }

  private read(index: number, markers: FileMarker[]): EdfRecord {
    const h = this.header;
    readFully(this.fd, this.buf, h.recordBytes, h.headerBytes + index * h.recordBytes);
    const rec = decodeRecord(h, this.buf, index, this.path);
    for (const a of rec.annotations) {
      if (EDF_FILL_ANNOTATION.test(a.text)) this.skips.push(Math.round(a.onset * this.rate), Math.round((a.onset + a.duration) * this.rate));
      else markers.push({ type: 'marker', t: a.onset, duration: a.duration, text: a.text });
    }
    return rec;
  }

  private frames(rec: EdfRecord): Frame[] {
    const { rate, spr, indices } = this;
    const n = indices.length;
    const exact = rec.start * rate;
    const seq0 = Math.round(exact);
    const onGrid = Math.abs(exact - seq0) < 1e-6;
    if (seq0 < this.nextSeq) {
      throw new DataError(`record ${rec.index} starts at ${rec.start} s, before the previous record ends (${this.nextSeq / rate} s)`, this.path);
    }
    if (seq0 < 0) throw new DataError(`record ${rec.index} starts at ${rec.start} s, before the start of the file`, this.path);
    this.nextSeq = seq0 + spr;
    // Drop fill ranges that end before this record.
    if (this.skips.length > 0) this.skips = this.skips.filter((_, i, a) => a[i | 1]! > seq0);
    const skips = this.skips;
    // Interleave channel-major record samples into one frame-major block; frames are views of it.
    const block = new Float64Array(spr * n);
    for (let c = 0; c < n; c++) {
      const x = rec.samples[indices[c]!]!;
      for (let k = 0, j = c; k < spr; k++, j += n) block[j] = x[k]!;
    }
    const out: Frame[] = [];
    for (let k = 0; k < spr; k++) {
      const seq = seq0 + k;
      if (skips.length > 0 && inRanges(skips, seq)) continue;
      out.push({ seq, t: onGrid ? seq / rate : rec.start + k / rate, values: block.subarray(k * n, (k + 1) * n) });
    }
    return out;
  }

  /** Closes the file; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

function inRanges(pairs: readonly number[], seq: number): boolean {
  for (let i = 0; i < pairs.length; i += 2) if (seq >= pairs[i]! && seq < pairs[i + 1]!) return true;
  return false;
}
