/**
 * A streaming EDF+ (16-bit) / BDF+ (24-bit) writer: frames in, one data record flushed at a time,
 * with an `EDF Annotations` signal carrying the time-keeping TAL of every record, the markers, and
 * the gaps (../shared/docs/STREAMING.md §5).
 *
 * ```
 * header (record count −1) │ record 0 │ record 1 │ … │ record k (on close: count patched to k + 1)
 * record = n signals × spr samples (digital, LE two's complement) + the TAL bytes:
 *          "+<start>\x14\x14\x00" "+<onset>\x15<duration>\x14<text>\x14\x00" …
 * ```
 *
 * Crash safety: the header says −1 records while recording and every complete record goes to the
 * file in one write, so a process killed at any point leaves a file that EDF readers open (edf.ts
 * counts the records from the file size and leaves out a torn last record). Close patches the count.
 *
 * Scaling: digital = round((physical − offset) / gain) with gain and offset from the physical and
 * digital ranges *as written in the header* (8 ASCII characters: the physical range is rounded
 * outwards to fit), so a reader's `digital · gain + offset` is within half a digital step of the
 * input. Values outside the physical range saturate at the digital limits (counted as clipped);
 * NaN repeats the channel's last value (counted).
 *
 * Gaps (a seq jump of L lost samples, at slot m of a record with spr slots): the lost positions
 * that fall inside the current record are filled with each channel's last value and the record
 * carries on (L < spr − m) or is completed; the next sample then starts a new record at its own
 * time. A record that does not follow its predecessor makes the file EDF+D (patched into the header
 * at once). Every gap is annotated `cfstream gap: L samples lost` (onset = first lost sample,
 * duration = L / rate), and the unfilled tail of the last record `cfstream padding: K samples`:
 * the replay (edfBlocks.ts) leaves out the samples under these annotations, so seqs round-trip;
 * other readers see flat fill under a gap annotation.
 *
 * Annotations that do not fit a record's `annotationBytes` spill into the next records (gap and
 * padding annotations first); on close, leftovers go into extra records of fill.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { extname } from 'node:path';
import { DataError, InvalidOptionError } from '../../src/errors.js';
import type { Frame, StreamInfo } from '../../src/frames/index.js';
import { MAX_RECORD_BYTES } from './blocks.js';

/** Options of `EdfWriter.create`. */
export interface EdfWriterOptions {
  /** Required. Output path (created or truncated). */
  path: string;
  /** Required. The stream: kind 'raw', rate > 0; labels (ch1…) and units name the signals. */
  info: StreamInfo;
  /** Required. Physical minimum, one for all channels or one per channel, in `info.units`. */
  physicalMin: number | readonly number[];
  /** Required. Physical maximum (> minimum), one or per channel. */
  physicalMax: number | readonly number[];
  /** The format's full range (EDF −32768, BDF −8388608). Digital minimum, one or per channel. */
  digitalMin?: number | readonly number[];
  /** The format's full range (EDF 32767, BDF 8388607). Digital maximum, one or per channel. */
  digitalMax?: number | readonly number[];
  /** From the extension: 'bdf' for .bdf, else 'edf'. 16-bit EDF+ or 24-bit BDF+. */
  format?: 'edf' | 'bdf';
  /** 1 s. Data-record duration; rate × duration must be an integer. */
  recordDuration?: number;
  /** 320 bytes. Room for TALs in each record (≥ 120; rounded up to whole samples). */
  annotationBytes?: number;
  /** Now. Start date and time of the recording (written as local time, as EDF has no zone). */
  start?: Date;
  /** 'X X X X'. EDF+ patient field: code, sex, birthdate, name. */
  patient?: string;
  /** 'Startdate dd-MMM-yyyy X X cfstream'. EDF+ recording field. */
  recording?: string;
  /** ''. Transducer, one or per channel. */
  transducer?: string | readonly string[];
  /** ''. Prefiltering, one or per channel. */
  prefiltering?: string | readonly string[];
}

/** The documented defaults of `EdfWriterOptions`. */
export const DEFAULT_EDF_WRITER_OPTIONS = Object.freeze({ recordDuration: 1, annotationBytes: 320, patient: 'X X X X' });

/** What a writer wrote. */
export interface EdfWriteSummary {
  path: string;
  /** 'EDF+C', 'EDF+D', 'BDF+C' or 'BDF+D'. */
  format: string;
  records: number;
  frames: number;
  gaps: number;
  lost: number;
  /** Frames dropped because their seq did not advance (duplicates, reordering). */
  dropped: number;
  /** Values saturated at the digital limits. */
  clipped: number;
  /** NaN values written as the channel's previous value. */
  nonFinite: number;
  markers: number;
  /** Markers given before the first frame of a recording that never got one (no time base). */
  markersDropped: number;
  /** Fill samples per channel written for gaps and the last record's tail. */
  filled: number;
}

const RANGE = { edf: [-32768, 32767], bdf: [-8388608, 8388607] } as const;
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

/** Formats seconds for a TAL: sign, then at most 9 decimals. */
function talTime(x: number, signed: boolean): string {
  let s = Math.abs(x).toFixed(9).replace(/\.?0+$/, '');
  if (s === '') s = '0';
  return signed ? (x < 0 && s !== '0' ? '-' : '+') + s : s;
}

/** The shortest decimal of at most 8 characters at or beyond x in direction dir (−1 down, +1 up). */
export function edfNumber(x: number, dir: -1 | 1): string {
  for (let d = 7; d >= 0; d--) {
    const f = 10 ** d;
    let v = (dir < 0 ? Math.floor(x * f) : Math.ceil(x * f)) / f;
    let s = trimNumber(v.toFixed(d));
    if (dir < 0 ? Number(s) > x : Number(s) < x) { // x·f rounded the wrong way: one more step out
      v += dir / f;
      s = trimNumber(v.toFixed(d));
    }
    if (s.length <= 8) return s;
  }
  throw new RangeError(`${x} does not fit the 8 characters of an EDF header field`);
}

function trimNumber(s: string): string {
  const t = s.includes('.') ? s.replace(/\.?0+$/, '') : s;
  return t === '-0' ? '0' : t;
}

const pad = (s: string, n: number) => s.padEnd(n, ' ').slice(0, n);
const printable = (s: string) => s.replace(/[^\x20-\x7e]/g, '?');
const two = (v: number) => String(v).padStart(2, '0');

function perChannel<T>(value: T | readonly T[] | undefined, n: number, def: T, option: string, check: (v: T) => boolean, allowed: string): T[] {
  const list = value === undefined ? new Array<T>(n).fill(def) : Array.isArray(value) ? [...(value as readonly T[])] : new Array<T>(n).fill(value as T);
  if (list.length !== n) throw new InvalidOptionError('EdfWriter', option, `one value or ${n} (one per channel)`, value);
  list.forEach((v, i) => {
    if (!check(v)) throw new InvalidOptionError('EdfWriter', Array.isArray(value) ? `${option}[${i}]` : option, allowed, v);
  });
  return list;
}

/** The header text (latin1), record count −1, for n data signals plus the annotation signal last. */
function edfHeader(o: {
  format: 'edf' | 'bdf'; start: Date; patient: string; recording: string | undefined; durText: string; labels: readonly string[]; units: string;
  transducer: string[]; prefiltering: string[]; pmin: string[]; pmax: string[]; dmin: number[]; dmax: number[]; spr: number; annSpr: number;
}): string {
  const { format, start } = o;
  const n = o.labels.length, ns = n + 1;
  const recording = o.recording ?? `Startdate ${two(start.getDate())}-${MONTHS[start.getMonth()]}-${start.getFullYear()} X X cfstream`;
  let head = (format === 'bdf' ? '\xffBIOSEMI' : pad('0', 8)) + pad(printable(o.patient), 80) + pad(printable(recording), 80);
  head += `${two(start.getDate())}.${two(start.getMonth() + 1)}.${two(start.getFullYear() % 100)}`;
  head += `${two(start.getHours())}.${two(start.getMinutes())}.${two(start.getSeconds())}`;
  head += pad(String(256 * (ns + 1)), 8) + pad(format === 'bdf' ? 'BDF+C' : 'EDF+C', 44) + pad('-1', 8) + pad(o.durText, 8) + pad(String(ns), 4);
  const [alo, ahi] = RANGE[format];
  const fields: [number, (c: number) => string][] = [
    [16, (c) => (c < n ? printable(o.labels[c]!) : format === 'bdf' ? 'BDF Annotations' : 'EDF Annotations')],
    [80, (c) => (c < n ? printable(o.transducer[c]!) : '')],
    [8, (c) => (c < n ? printable(o.units) : '')],
    [8, (c) => (c < n ? o.pmin[c]! : String(alo))],
    [8, (c) => (c < n ? o.pmax[c]! : String(ahi))],
    [8, (c) => String(c < n ? o.dmin[c] : alo)],
    [8, (c) => String(c < n ? o.dmax[c] : ahi)],
    [80, (c) => (c < n ? printable(o.prefiltering[c]!) : '')],
    [8, (c) => String(c < n ? o.spr : o.annSpr)],
    [32, () => ''],
  ];
  for (const [size, f] of fields) for (let c = 0; c < ns; c++) head += pad(f(c), size);
  return head;
}

/** Writes a raw stream as EDF+ or BDF+, one flushed record at a time (see the file comment). */
export class EdfWriter {
  readonly format: 'edf' | 'bdf';
  /** Samples per record per channel. */
  readonly samplesPerRecord: number;
  /** Per-channel physical = digital · gain + offset, as a reader computes it from the header. */
  readonly gain: Float64Array;
  readonly offset: Float64Array;
  private readonly n: number;
  private readonly bps: 2 | 3;
  private readonly rate: number;
  private readonly invGain: Float64Array;
  private readonly dmin: Int32Array;
  private readonly dmax: Int32Array;
  private readonly last: Int32Array;
  private readonly buf: Buffer;
  private readonly annOffset: number;
  private readonly annBytes: number;
  private seq0 = -1;
  private t0 = 0;
  private recSeq = 0; // seq of slot 0 of the current record
  private m = 0; // slots filled in the current record
  private discontinuous = false;
  private closed = false;
  private readonly skipQueue: Buffer[] = []; // gap and padding TALs, written first
  private readonly markerQueue: Buffer[] = [];
  private readonly early: { t: number; duration: number; text: string }[] = []; // markers before the first frame
  private readonly s = { records: 0, frames: 0, gaps: 0, lost: 0, dropped: 0, clipped: 0, nonFinite: 0, markers: 0, markersDropped: 0, filled: 0 };

  private constructor(
    private readonly fd: number,
    readonly path: string,
    readonly info: StreamInfo,
    o: Required<Pick<EdfWriterOptions, 'recordDuration' | 'annotationBytes'>> & { format: 'edf' | 'bdf'; spr: number; pmin: string[]; pmax: string[]; dmin: number[]; dmax: number[] },
  ) {
    this.format = o.format;
    this.n = info.n;
    this.rate = info.rate;
    this.bps = o.format === 'bdf' ? 3 : 2;
    this.samplesPerRecord = o.spr;
    const n = this.n;
    this.gain = new Float64Array(n);
    this.offset = new Float64Array(n);
    this.invGain = new Float64Array(n);
    this.dmin = Int32Array.from(o.dmin);
    this.dmax = Int32Array.from(o.dmax);
    this.last = new Int32Array(n);
    for (let c = 0; c < n; c++) {
      const p0 = Number(o.pmin[c]), p1 = Number(o.pmax[c]);
      this.gain[c] = (p1 - p0) / (o.dmax[c]! - o.dmin[c]!);
      this.offset[c] = p0 - o.dmin[c]! * this.gain[c]!;
      this.invGain[c] = 1 / this.gain[c]!;
      this.last[c] = Math.min(this.dmax[c]!, Math.max(this.dmin[c]!, Math.round(-this.offset[c]! * this.invGain[c]!))); // physical 0
    }
    this.annOffset = n * o.spr * this.bps;
    this.annBytes = Math.ceil(o.annotationBytes / this.bps) * this.bps;
    this.buf = Buffer.alloc(this.annOffset + this.annBytes);
  }

  /** Creates the file and writes the header with a record count of −1 (InvalidOptionError / DataError on bad options). */
  static create(options: EdfWriterOptions): EdfWriter {
    if (typeof options !== 'object' || options === null) throw new InvalidOptionError('EdfWriter', 'options', 'an object', options);
    const { path, info } = options;
    if (typeof path !== 'string' || path === '') throw new InvalidOptionError('EdfWriter', 'path', 'a non-empty path', path);
    if (typeof info !== 'object' || info === null) throw new InvalidOptionError('EdfWriter', 'info', 'a StreamInfo', info);
    if (info.kind !== 'raw') throw new DataError(`stream ${info.id} is ${info.kind}: EDF/BDF holds raw signals; record compressed streams to .cfs`, path);
    if (!(info.rate > 0)) throw new InvalidOptionError('EdfWriter', 'info.rate', 'a rate > 0 (EDF needs a fixed sampling rate)', info.rate);
    const n = info.n;
    const format = options.format ?? (extname(path).toLowerCase() === '.bdf' ? 'bdf' : 'edf');
    if (format !== 'edf' && format !== 'bdf') throw new InvalidOptionError('EdfWriter', 'format', "'edf' or 'bdf'", format);
    const recordDuration = options.recordDuration ?? DEFAULT_EDF_WRITER_OPTIONS.recordDuration;
    const durText = String(recordDuration);
    if (!(recordDuration > 0) || durText.length > 8 || /e/i.test(durText)) throw new InvalidOptionError('EdfWriter', 'recordDuration', 'seconds > 0 written in at most 8 characters', recordDuration);
    const exact = info.rate * recordDuration;
    const spr = Math.round(exact);
    if (spr < 1 || Math.abs(exact - spr) > 1e-9 * exact) {
      throw new InvalidOptionError('EdfWriter', 'recordDuration', `seconds making rate × duration a whole number of samples (rate ${info.rate} Hz)`, recordDuration);
    }
    const annotationBytes = options.annotationBytes ?? DEFAULT_EDF_WRITER_OPTIONS.annotationBytes;
    if (!Number.isInteger(annotationBytes) || annotationBytes < 120 || annotationBytes > 65535) {
      throw new InvalidOptionError('EdfWriter', 'annotationBytes', 'an integer in [120, 65535]', annotationBytes);
    }
    const [lo, hi] = RANGE[format];
    const isInt = (v: number) => Number.isInteger(v) && v >= lo && v <= hi;
    const dmin = perChannel(options.digitalMin, n, lo, 'digitalMin', isInt, `an integer in [${lo}, ${hi}]`);
    const dmax = perChannel(options.digitalMax, n, hi, 'digitalMax', isInt, `an integer in [${lo}, ${hi}]`);
    const fits = (v: number) => Number.isFinite(v) && Math.abs(v) <= 9999999; // 8 characters, sign included
    const pminV = perChannel(options.physicalMin, n, NaN, 'physicalMin', fits, 'a finite number in [−9999999, 9999999]');
    const pmaxV = perChannel(options.physicalMax, n, NaN, 'physicalMax', fits, 'a finite number in [−9999999, 9999999]');
    for (let c = 0; c < n; c++) {
      if (!(pmaxV[c]! > pminV[c]!)) throw new InvalidOptionError('EdfWriter', `physicalMax[${c}]`, `a number above physicalMin ${pminV[c]}`, pmaxV[c]);
      if (!(dmax[c]! > dmin[c]!)) throw new InvalidOptionError('EdfWriter', `digitalMax[${c}]`, `an integer above digitalMin ${dmin[c]}`, dmax[c]);
    }
    const pmin = pminV.map((v) => edfNumber(v, -1));
    const pmax = pmaxV.map((v) => edfNumber(v, 1));
    const str = (value: string | readonly string[] | undefined, option: string) => perChannel<string>(value, n, '', option, (v) => typeof v === 'string', 'a string');
    const transducer = str(options.transducer, 'transducer');
    const prefiltering = str(options.prefiltering, 'prefiltering');
    const labels = info.labels ?? Array.from({ length: n }, (_, i) => `ch${i + 1}`);
    const bps = format === 'bdf' ? 3 : 2;
    const annSpr = Math.ceil(annotationBytes / bps);
    if ((n * spr + annSpr) * bps > MAX_RECORD_BYTES) throw new InvalidOptionError('EdfWriter', 'recordDuration', `short enough for records of at most ${MAX_RECORD_BYTES} bytes`, recordDuration);

    const head = edfHeader({
      format, start: options.start ?? new Date(), patient: options.patient ?? DEFAULT_EDF_WRITER_OPTIONS.patient, recording: options.recording,
      durText, labels, units: info.units ?? '', transducer, prefiltering, pmin, pmax, dmin, dmax, spr, annSpr,
    });
    let fd: number;
    try {
      fd = openSync(path, 'w');
    } catch (e) {
      throw new DataError(`cannot create: ${(e as Error).message}`, path);
    }
    const w = new EdfWriter(fd, path, info, { format, recordDuration, annotationBytes, spr, pmin, pmax, dmin, dmax });
    w.put(Buffer.from(head, 'latin1'), null);
    return w;
  }

  /** The file's format so far: 'EDF+C', 'EDF+D', 'BDF+C' or 'BDF+D'. */
  get fileFormat(): string {
    return `${this.format.toUpperCase()}+${this.discontinuous ? 'D' : 'C'}`;
  }

  /** Appends one frame (n values in `info.units`); a seq jump is a gap, a seq that does not advance is dropped. */
  write(frame: Frame): void {
    if (this.closed) throw new DataError('write after close', this.path);
    const { seq, values } = frame;
    if (values.length !== this.n) throw new DataError(`frame seq ${seq} has ${values.length} values, expected ${this.n}`, this.path);
    if (this.seq0 < 0) {
      this.seq0 = this.recSeq = seq;
      this.t0 = frame.t;
      for (const e of this.early.splice(0)) this.queueMarker(e.t, e.duration, e.text);
    } else {
      const next = this.recSeq + this.m;
      if (seq < next) {
        this.s.dropped++;
        return;
      }
      if (seq > next) this.gap(next, seq - next);
    }
    this.put1(values, this.m);
    this.s.frames++;
    if (++this.m === this.samplesPerRecord) this.flushRecord();
  }

  /** Adds an annotation at stream time `t` (the frames' time base), lasting `duration` s. */
  annotate(marker: { t: number; duration?: number; text: string }): void {
    if (this.closed) throw new DataError('annotate after close', this.path);
    const duration = marker.duration !== undefined && marker.duration > 0 ? marker.duration : 0;
    if (!Number.isFinite(marker.t) || !Number.isFinite(duration)) throw new DataError(`marker ${JSON.stringify(marker.text)} has a non-finite time`, this.path);
    if (this.seq0 < 0) this.early.push({ t: marker.t, duration, text: marker.text });
    else this.queueMarker(marker.t, duration, marker.text);
  }

  /** Completes the last record (padding annotated), writes leftover annotations, patches the header and closes. */
  close(): EdfWriteSummary {
    if (!this.closed) {
      if (this.seq0 >= 0) {
        if (this.m > 0) {
          const k = this.samplesPerRecord - this.m;
          this.skipQueue.push(this.tal((this.recSeq + this.m - this.seq0) / this.rate, k / this.rate, `cfstream padding: ${k} samples`));
          this.fill(this.m, k);
          this.flushRecord();
        }
        while (this.skipQueue.length > 0 || this.markerQueue.length > 0) {
          const spr = this.samplesPerRecord;
          this.skipQueue.unshift(this.tal((this.recSeq - this.seq0) / this.rate, spr / this.rate, `cfstream padding: ${spr} samples`));
          this.fill(0, spr);
          this.flushRecord();
        }
      } else this.s.markersDropped += this.early.length;
      this.put(Buffer.from(pad(String(this.s.records), 8), 'latin1'), 236);
      this.closed = true;
      closeSync(this.fd);
    }
    return { path: this.path, format: this.fileFormat, ...this.s };
  }

  private gap(next: number, lost: number): void {
    this.s.gaps++;
    this.s.lost += lost;
    this.skipQueue.push(this.tal((next - this.seq0) / this.rate, lost / this.rate, `cfstream gap: ${lost} samples lost`));
    const room = this.samplesPerRecord - this.m;
    if (this.m > 0) {
      if (lost < room) {
        this.fill(this.m, lost);
        return;
      }
      this.fill(this.m, room);
      this.flushRecord();
    }
    const seq = next + lost;
    if (seq !== this.recSeq) {
      this.recSeq = seq;
      if (!this.discontinuous) {
        this.discontinuous = true;
        this.put(Buffer.from(pad(`${this.format.toUpperCase()}+D`, 44), 'latin1'), 192);
      }
    }
  }

  /** Writes one frame's values into record slot `slot` (allocation-free). */
  private put1(values: ArrayLike<number>, slot: number): void {
    const { n, bps, buf, last, dmin, dmax, offset, invGain } = this;
    const stride = this.samplesPerRecord * bps;
    for (let c = 0, p = slot * bps; c < n; c++, p += stride) {
      const v = values[c]!;
      let d: number;
      if (v !== v) { // NaN: keep the channel's last value
        d = last[c]!;
        this.s.nonFinite++;
      } else {
        d = Math.round((v - offset[c]!) * invGain[c]!);
        if (d < dmin[c]!) { d = dmin[c]!; this.s.clipped++; } else if (d > dmax[c]!) { d = dmax[c]!; this.s.clipped++; }
        last[c] = d;
      }
      buf[p] = d & 0xff;
      buf[p + 1] = (d >> 8) & 0xff;
      if (bps === 3) buf[p + 2] = (d >> 16) & 0xff;
    }
  }

  /** Fills `count` slots from `from` with each channel's last value. */
  private fill(from: number, count: number): void {
    const { n, bps, buf, last } = this;
    const stride = this.samplesPerRecord * bps;
    for (let c = 0; c < n; c++) {
      const d = last[c]!;
      for (let k = from, p = c * stride + from * bps; k < from + count; k++, p += bps) {
        buf[p] = d & 0xff;
        buf[p + 1] = (d >> 8) & 0xff;
        if (bps === 3) buf[p + 2] = (d >> 16) & 0xff;
      }
    }
    this.s.filled += count;
    this.m = from + count;
  }

  private flushRecord(): void {
    const { buf, annOffset, annBytes } = this;
    buf.fill(0, annOffset);
    let at = annOffset + buf.write(`+${talTime((this.recSeq - this.seq0) / this.rate, false)}\x14\x14\x00`, annOffset, 'latin1');
    const end = annOffset + annBytes;
    for (const q of [this.skipQueue, this.markerQueue]) {
      while (q.length > 0 && at + q[0]!.length <= end) {
        q[0]!.copy(buf, at);
        at += q.shift()!.length;
      }
    }
    this.put(buf, null);
    this.s.records++;
    this.recSeq += this.samplesPerRecord;
    this.m = 0;
  }

  private queueMarker(t: number, duration: number, text: string): void {
    this.markerQueue.push(this.tal(t - this.t0, duration, text));
    this.s.markers++;
  }

  /** One TAL, its text cleaned of TAL separators and cut to fit a record with its time-keeping TAL. */
  private tal(onset: number, duration: number, text: string): Buffer {
    const head = talTime(onset, true) + (duration > 0 ? `\x15${talTime(duration, false)}` : '') + '\x14';
    let body = Buffer.from(text.replace(/[\x00-\x1f]/g, ' '), 'utf8');
    const room = this.annBytes - 32 - Buffer.byteLength(head) - 2; // 32: the longest time-keeping TAL
    if (body.length > room) body = Buffer.from(body.subarray(0, room).toString('utf8').replace(/\uFFFD$/, ''), 'utf8');
    return Buffer.concat([Buffer.from(head, 'latin1'), body, Buffer.from('\x14\x00', 'latin1')]);
  }

  private put(b: Uint8Array, position: number | null): void {
    let off = 0;
    while (off < b.length) off += writeSync(this.fd, b, off, b.length - off, position === null ? null : position + off);
  }
}
