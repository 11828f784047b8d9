/**
 * EDF / EDF+ / BDF / BDF+ reading, record by record (a large file is never loaded whole).
 *
 * Layout (see ../shared/docs/STREAMING.md §5): a 256-byte fixed header, then 256 bytes per signal
 * stored field by field across signals, then data records; in each record every signal's samples
 * follow in order, 16-bit (EDF) or 24-bit (BDF) little-endian two's complement. Physical value =
 * (digital − dmin)·(pmax − pmin)/(dmax − dmin) + pmin. EDF+ annotations live in the
 * `EDF Annotations` signal as TALs: `+onset[\x15duration]\x14text\x14…\x00`; the first TAL of each
 * record keeps time (its onset is the record's start, which is how EDF+D expresses gaps).
 *
 * A record cut short at the end of the file (a recorder killed mid-write) is detected and left
 * out; `tornBytes` says how much was dropped.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { DataError } from '../../src/errors.js';
import { MAX_RECORD_BYTES } from './blocks.js';

/** One signal's header fields and its scaling. */
export interface EdfSignal {
  label: string;
  transducer: string;
  physicalDimension: string;
  physicalMin: number;
  physicalMax: number;
  digitalMin: number;
  digitalMax: number;
  prefiltering: string;
  samplesPerRecord: number;
  /** Samples per second (samplesPerRecord / recordDuration). */
  rate: number;
  /** True for the EDF+ `EDF Annotations` signal. */
  isAnnotation: boolean;
  /** physical = digital · gain + offset. */
  gain: number;
  offset: number;
}

/** The parsed header. */
export interface EdfHeader {
  /** 'EDF' | 'EDF+C' | 'EDF+D' | 'BDF' | 'BDF+C' | 'BDF+D'. */
  format: string;
  patient: string;
  recording: string;
  /** Start as an ISO local date-time (no zone; EDF has none), years 1985–2084 per the spec. */
  start: string;
  headerBytes: number;
  /** Records declared in the header (−1 = unknown while writing). */
  declaredRecords: number;
  /** Records present and complete in the file. */
  records: number;
  /** Bytes of a torn last record, left out (0 if none). */
  tornBytes: number;
  recordDuration: number;
  signals: EdfSignal[];
  /** 2 for EDF, 3 for BDF. */
  bytesPerSample: 2 | 3;
  recordBytes: number;
}

/** An EDF+ annotation. */
export interface EdfAnnotation {
  onset: number;
  duration: number;
  text: string;
}

/** One decoded data record. */
export interface EdfRecord {
  index: number;
  /** Start time in seconds from the file start (from the time-keeping TAL in EDF+). */
  start: number;
  /** Physical values per data signal (annotation signals excluded), in header order. */
  samples: Float64Array[];
  annotations: EdfAnnotation[];
}

const ascii = (b: Uint8Array, from: number, len: number) => Buffer.from(b.buffer, b.byteOffset + from, len).toString('latin1').trim();

function num(text: string, field: string, where: string, integer = false): number {
  const v = Number(text);
  if (text === '' || !Number.isFinite(v) || (integer && !Number.isSafeInteger(v))) {
    // '1e308' is an integer to Number.isInteger, but not one that counts anything exactly.
    const what = !integer ? 'a number' : Number.isInteger(v) ? 'an integer of at most 2^53 − 1 in magnitude' : 'an integer';
    throw new DataError(`header field '${field}' must be ${what}; got ${JSON.stringify(text)}`, where);
  }
  return v;
}

/** Parses the 256-byte fixed header; returns the signal count and header size to read next. */
export function parseFixedHeader(b: Uint8Array, source: string): { ns: number; headerBytes: number } {
  if (b.length < 256) throw new DataError(`file too short for an EDF header (${b.length} of 256 bytes)`, source);
  const ns = num(ascii(b, 252, 4), 'number of signals', source, true);
  const headerBytes = num(ascii(b, 184, 8), 'header bytes', source, true);
  if (ns < 1) throw new DataError(`header declares ${ns} signals`, source);
  if (headerBytes !== 256 + 256 * ns) throw new DataError(`header bytes ${headerBytes} ≠ 256 + 256·${ns} signals`, source);
  return { ns, headerBytes };
}

/**
 * Parses the full header (fixed part and signal blocks); `fileBytes` sizes the data part.
 * Refuses (DataError naming the signal and field) what cannot be read exactly: integer fields
 * beyond 2^53 − 1, records over MAX_RECORD_BYTES, and a physical range whose scaling overflows
 * (every 16- or 24-bit digital value must map to a finite physical one).
 */
export function parseEdfHeader(b: Uint8Array, fileBytes: number, source: string): EdfHeader {
  const { ns, headerBytes } = parseFixedHeader(b, source);
  if (b.length < headerBytes) throw new DataError(`header truncated: ${b.length} of ${headerBytes} bytes`, source);
  const bdf = b[0] === 0xff && ascii(b, 1, 7) === 'BIOSEMI';
  if (!bdf && ascii(b, 0, 8) !== '0') throw new DataError(`unknown version field ${JSON.stringify(ascii(b, 0, 8))} (EDF has "0", BDF 0xFF"BIOSEMI")`, source);
  const reserved = ascii(b, 192, 44);
  const plus = reserved.startsWith('EDF+D') ? '+D' : reserved.startsWith('EDF+C') ? '+C' : reserved.startsWith('BDF+D') ? '+D' : reserved.startsWith('BDF+C') ? '+C' : '';
  const declaredRecords = num(ascii(b, 236, 8), 'number of data records', source, true);
  if (declaredRecords < -1) throw new DataError(`header field 'number of data records' is ${declaredRecords}; must be ≥ 0, or −1 while recording`, source);
  const recordDuration = num(ascii(b, 244, 8), 'record duration', source);
  if (!(recordDuration >= 0)) throw new DataError(`record duration ${recordDuration} is negative`, source);
  const field = (offset: number, size: number, i: number) => ascii(b, 256 + offset * ns + size * i, size);
  const bytesPerSample = bdf ? 3 : 2;
  const digitalLimit = bdf ? 2 ** 23 : 2 ** 15; // largest magnitude a stored sample can have
  const signals: EdfSignal[] = [];
  for (let i = 0; i < ns; i++) {
    const where = `${source}: signal ${i + 1}`;
    const label = field(0, 16, i);
    const pmin = num(field(104, 8, i), 'physical minimum', where), pmax = num(field(112, 8, i), 'physical maximum', where);
    const dmin = num(field(120, 8, i), 'digital minimum', where, true), dmax = num(field(128, 8, i), 'digital maximum', where, true);
    const spr = num(field(216, 8, i), 'samples per record', where, true);
    if (spr < 1) throw new DataError(`samples per record ${spr} must be ≥ 1`, where);
    if (dmax <= dmin) throw new DataError(`digital maximum ${dmax} must exceed digital minimum ${dmin}`, where);
    if (!Number.isFinite(pmax - pmin)) {
      throw new DataError(`header fields 'physical maximum' ${pmax} − 'physical minimum' ${pmin} overflow to ${pmax - pmin}: the range cannot scale samples`, where);
    }
    const gain = (pmax - pmin) / (dmax - dmin);
    const offset = pmin - dmin * gain;
    if (!Number.isFinite(Math.abs(gain) * digitalLimit + Math.abs(offset))) {
      throw new DataError(
        `header fields 'physical minimum' ${pmin} / 'physical maximum' ${pmax} over 'digital minimum' ${dmin} / 'digital maximum' ${dmax} scale ${bdf ? 24 : 16}-bit samples beyond ±${Number.MAX_VALUE} (gain ${gain}, offset ${offset})`,
        where,
      );
    }
    signals.push({
      label, transducer: field(16, 80, i), physicalDimension: field(96, 8, i),
      physicalMin: pmin, physicalMax: pmax, digitalMin: dmin, digitalMax: dmax,
      prefiltering: field(136, 80, i), samplesPerRecord: spr,
      rate: recordDuration > 0 ? spr / recordDuration : 0,
      isAnnotation: plus !== '' && /^(EDF|BDF) Annotations$/.test(label),
      gain, offset,
    });
  }
  const recordBytes = signals.reduce((s, x) => s + x.samplesPerRecord, 0) * bytesPerSample; // exact: ≤ 9999 signals × 8-digit counts × 3
  if (recordBytes > MAX_RECORD_BYTES) {
    throw new DataError(`header field 'samples per record' gives records of ${recordBytes} bytes, above the ${MAX_RECORD_BYTES}-byte limit`, source);
  }
  const dataBytes = Math.max(0, fileBytes - headerBytes);
  const present = Math.floor(dataBytes / recordBytes);
  const records = declaredRecords >= 0 ? Math.min(declaredRecords, present) : present;
  const tornBytes = declaredRecords >= 0 && present >= declaredRecords ? 0 : dataBytes - present * recordBytes;
  return {
    format: (bdf ? 'BDF' : 'EDF') + plus, patient: ascii(b, 8, 80), recording: ascii(b, 88, 80),
    start: startDate(ascii(b, 168, 8), ascii(b, 176, 8), source), headerBytes, declaredRecords, records, tornBytes,
    recordDuration, signals, bytesPerSample, recordBytes,
  };
}

function startDate(date: string, time: string, source: string): string {
  const d = /^(\d\d)\.(\d\d)\.(\d\d)$/.exec(date), t = /^(\d\d)\.(\d\d)\.(\d\d)$/.exec(time);
  if (!d || !t) throw new DataError(`start date/time must be dd.mm.yy and hh.mm.ss; got ${JSON.stringify(date)} ${JSON.stringify(time)}`, source);
  const yy = Number(d[3]);
  return `${yy >= 85 ? 1900 + yy : 2000 + yy}-${d[2]}-${d[1]}T${t[1]}:${t[2]}:${t[3]}`;
}

/** Parses the TALs of an annotation signal's bytes; the first TAL's onset is the record start. */
export function parseTals(bytes: Uint8Array, where: string): { recordStart?: number; annotations: EdfAnnotation[] } {
  const annotations: EdfAnnotation[] = [];
  let recordStart: number | undefined;
  let i = 0;
  while (i < bytes.length) {
    if (bytes[i] === 0) { i++; continue; }
    let end = bytes.indexOf(0, i);
    if (end < 0) end = bytes.length;
    const tal = Buffer.from(bytes.buffer, bytes.byteOffset + i, end - i).toString('utf8');
    const parts = tal.split('\x14');
    const [onsetText, durText] = parts[0]!.split('\x15');
    const onset = Number(onsetText);
    if (!/^[+-]\d+(\.\d+)?$/.test(onsetText ?? '') || !Number.isFinite(onset)) {
      throw new DataError(`annotation onset ${JSON.stringify(onsetText)} is not '+seconds'`, where);
    }
    const duration = durText === undefined || durText === '' ? 0 : Number(durText);
    const texts = parts.slice(1).filter((s) => s !== '');
    if (recordStart === undefined && texts.length === 0) recordStart = onset;
    else for (const text of texts) annotations.push({ onset, duration: Number.isFinite(duration) ? duration : 0, text });
    i = end + 1;
  }
  return { recordStart, annotations };
}

/** Decodes one record's bytes into physical samples and annotations. */
export function decodeRecord(h: EdfHeader, bytes: Uint8Array, index: number, source = 'EDF'): EdfRecord {
  const samples: Float64Array[] = [];
  const annotations: EdfAnnotation[] = [];
  let start = index * h.recordDuration;
  let off = 0;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const s of h.signals) {
    const len = s.samplesPerRecord * h.bytesPerSample;
    if (s.isAnnotation) {
      const tals = parseTals(bytes.subarray(off, off + len), `${source}: record ${index}`);
      if (tals.recordStart !== undefined) start = tals.recordStart;
      annotations.push(...tals.annotations);
    } else {
      const out = new Float64Array(s.samplesPerRecord);
      if (h.bytesPerSample === 2) {
        for (let k = 0; k < out.length; k++) out[k] = dv.getInt16(off + 2 * k, true) * s.gain + s.offset;
      } else {
        for (let k = 0; k < out.length; k++) {
          const p = off + 3 * k;
          const v = bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16);
          out[k] = ((v << 8) >> 8) * s.gain + s.offset; // sign-extend 24 → 32 bits
        }
      }
      samples.push(out);
    }
    off += len;
  }
  return { index, start, samples, annotations };
}

/** Random access to the records of an EDF/BDF file through one file handle. */
export class EdfReader {
  private constructor(
    private readonly fh: FileHandle,
    readonly header: EdfHeader,
    readonly source: string,
  ) {}

  /** Opens a file and parses its header (DataError naming the file and field if malformed). */
  static async open(path: string): Promise<EdfReader> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new DataError(`cannot open: ${err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message}`, path);
    }
    try {
      const size = (await fh.stat()).size;
      const fixed = Buffer.alloc(Math.min(256, size));
      await fh.read(fixed, 0, fixed.length, 0);
      const { headerBytes } = parseFixedHeader(fixed, path);
      const full = Buffer.alloc(Math.min(headerBytes, size));
      await fh.read(full, 0, full.length, 0);
      return new EdfReader(fh, parseEdfHeader(full, size, path), path);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  /** Data signals (annotation signals excluded), in the order of `EdfRecord.samples`. */
  get dataSignals(): EdfSignal[] {
    return this.header.signals.filter((s) => !s.isAnnotation);
  }

  /** Reads and decodes record `index` (0-based). */
  async readRecord(index: number): Promise<EdfRecord> {
    const h = this.header;
    if (!Number.isInteger(index) || index < 0 || index >= h.records) throw new RangeError(`${this.source}: record ${index} out of range [0, ${h.records})`);
    const buf = Buffer.alloc(h.recordBytes);
    await this.fh.read(buf, 0, h.recordBytes, h.headerBytes + index * h.recordBytes);
    return decodeRecord(h, buf, index, this.source);
  }

  /** Iterates the complete records in order. */
  async *records(): AsyncGenerator<EdfRecord> {
    for (let i = 0; i < this.header.records; i++) yield await this.readRecord(i);
  }

  /** Closes the file. */
  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** Reads whole data signals (for experiments on files that fit in memory) plus all annotations. */
export async function readEdfSignals(path: string): Promise<{ header: EdfHeader; labels: string[]; rates: number[]; signals: Float64Array[]; annotations: EdfAnnotation[] }> {
  const r = await EdfReader.open(path);
  try {
    const data = r.dataSignals;
    const signals = data.map((s) => new Float64Array(s.samplesPerRecord * r.header.records));
    const annotations: EdfAnnotation[] = [];
    for await (const rec of r.records()) {
      rec.samples.forEach((x, c) => signals[c]!.set(x, rec.index * data[c]!.samplesPerRecord));
      annotations.push(...rec.annotations);
    }
    return { header: r.header, labels: data.map((s) => s.label), rates: data.map((s) => s.rate), signals, annotations };
  } finally {
    await r.close();
  }
}
