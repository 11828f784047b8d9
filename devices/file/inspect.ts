/**
 * `inspectFile`: what a recording holds, as a plain JSON-able object (`cfstream inspect`): the
 * header, the annotations, and what a scan finds (records, gaps, a torn tail). EDF scans read only
 * the annotation signal of each record; CSV and .cfs scans read the file once, record by record.
 */
import { closeSync } from 'node:fs';
import { DataError } from '../../src/errors.js';
import type { StreamInfo } from '../../src/frames/index.js';
import type { FileMarker } from './blocks.js';
import { CfsReader } from './cfsRecording.js';
import { openCsvBlocks } from './csvBlocks.js';
import { parseTals, type EdfAnnotation } from './edf.js';
import { openForReading, readEdfHeaderSync, readFully } from './edfBlocks.js';
import { fileFormatOf } from './fileOptions.js';

/** An EDF/BDF file's facts. */
export interface EdfInspection {
  file: string;
  format: string;
  patient: string;
  recording: string;
  start: string;
  recordDuration: number;
  /** Whole records in the file; `declaredRecords` is the header's count (−1 while recording). */
  records: number;
  declaredRecords: number;
  tornBytes: number;
  /** Seconds covered by the records (records × duration). */
  duration: number;
  signals: { label: string; transducer: string; physicalDimension: string; physicalMin: number; physicalMax: number; digitalMin: number; digitalMax: number; prefiltering: string; samplesPerRecord: number; rate: number }[];
  annotationSignals: number;
  annotations: EdfAnnotation[];
  /** Records of an EDF+D file that do not start where the previous one ended (first 1000). */
  discontinuities: { record: number; start: number; expected: number }[];
}

/** A CSV or .cfs recording's facts. */
export interface StreamInspection {
  file: string;
  format: 'csv' | 'cfs';
  info: StreamInfo;
  /** .cfs: the recording's start, as stored. */
  start?: string;
  frames: number;
  /** .cfs: batches in the file. */
  batches?: number;
  tFirst: number | null;
  tLast: number | null;
  gaps: number;
  lost: number;
  annotations: { onset: number; duration: number; text: string }[];
  tornBytes: number;
}

/** Reads a recording's header and scans it (DataError naming the file and field if malformed). */
export function inspectFile(path: string): EdfInspection | StreamInspection {
  const format = fileFormatOf(path);
  if (format === 'edf') return inspectEdf(path);
  return format === 'csv' ? inspectCsv(path) : inspectCfs(path);
}

function inspectEdf(path: string): EdfInspection {
  const fd = openForReading(path);
  try {
    const h = readEdfHeaderSync(fd, path);
    const annotations: EdfAnnotation[] = [];
    const discontinuities: EdfInspection['discontinuities'] = [];
    // Byte ranges of the annotation signals inside a record.
    const ranges: [number, number][] = [];
    let off = 0;
    for (const s of h.signals) {
      const len = s.samplesPerRecord * h.bytesPerSample;
      if (s.isAnnotation) ranges.push([off, len]);
      off += len;
    }
    const buf = Buffer.alloc(Math.max(0, ...ranges.map((r) => r[1])));
    let expected = 0;
    for (let i = 0; ranges.length > 0 && i < h.records; i++) {
      let start: number | undefined;
      for (const [o, len] of ranges) {
        readFully(fd, buf, len, h.headerBytes + i * h.recordBytes + o);
        const tals = parseTals(buf.subarray(0, len), `${path}: record ${i}`);
        start ??= tals.recordStart;
        annotations.push(...tals.annotations);
      }
      const s = start ?? i * h.recordDuration;
      if (Math.abs(s - expected) > 1e-9 * Math.max(1, s) && discontinuities.length < 1000) discontinuities.push({ record: i, start: s, expected });
      expected = s + h.recordDuration;
    }
    return {
      file: path, format: h.format, patient: h.patient, recording: h.recording, start: h.start, recordDuration: h.recordDuration,
      records: h.records, declaredRecords: h.declaredRecords, tornBytes: h.tornBytes, duration: h.records * h.recordDuration,
      signals: h.signals.filter((s) => !s.isAnnotation).map((s) => ({
        label: s.label, transducer: s.transducer, physicalDimension: s.physicalDimension, physicalMin: s.physicalMin, physicalMax: s.physicalMax,
        digitalMin: s.digitalMin, digitalMax: s.digitalMax, prefiltering: s.prefiltering, samplesPerRecord: s.samplesPerRecord, rate: s.rate,
      })),
      annotationSignals: ranges.length,
      annotations,
      discontinuities,
    };
  } finally {
    closeSync(fd);
  }
}

function inspectCsv(path: string): StreamInspection {
  const r = openCsvBlocks(path, { rowsPerBlock: 4096 });
  try {
    const out: StreamInspection = { file: path, format: 'csv', info: r.info, frames: 0, tFirst: null, tLast: null, gaps: 0, lost: 0, annotations: [], tornBytes: 0 };
    let last = -1;
    for (let b = r.next(); b !== null; b = r.next()) {
      for (const f of b.frames) {
        if (last >= 0 && f.seq > last + 1) {
          out.gaps++;
          out.lost += f.seq - last - 1;
        }
        last = f.seq;
        out.tFirst ??= f.t;
        out.tLast = f.t;
      }
      out.frames += b.frames.length;
    }
    out.tornBytes = r.tornBytes;
    return out;
  } finally {
    r.close();
  }
}

function inspectCfs(path: string): StreamInspection {
  const r = CfsReader.open(path);
  try {
    const out: StreamInspection = {
      file: path, format: 'cfs', info: r.info, start: r.header.start, frames: 0, batches: 0, tFirst: null, tLast: null, gaps: 0, lost: 0, annotations: [], tornBytes: 0,
    };
    let next = -1;
    for (let item = r.next(); item !== null; item = r.next()) {
      if (item.kind === 'marker') {
        const m: FileMarker = item.marker;
        out.annotations.push({ onset: m.t, duration: m.duration, text: m.text });
        continue;
      }
      const b = item.batch;
      if (next >= 0 && b.seq < next) throw new DataError(`batch at byte ${item.offset} starts at seq ${b.seq}, before the previous batch ended (${next})`, path);
      if (next >= 0 && b.seq > next) {
        out.gaps++;
        out.lost += b.seq - next;
      }
      next = b.seq + b.count;
      out.batches!++;
      out.frames += b.count;
      out.tFirst ??= b.t0;
      out.tLast = b.t0 + (b.count - 1) * b.dt;
    }
    out.tornBytes = r.tornBytes;
    return out;
  } finally {
    r.close();
  }
}
