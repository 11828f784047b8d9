/**
 * `createRecorder`: one interface over the file writers, picked by the output's extension —
 * `.edf` (EDF+, 16-bit), `.bdf` (BDF+, 24-bit), `.cfs` (cfstream's format; the one for compressed
 * streams), `.csv` (physical values, one row per frame).
 */
import { extname } from 'node:path';
import { DataError, InvalidOptionError } from '../../src/errors.js';
import type { Frame, StreamInfo } from '../../src/frames/index.js';
import { CfsWriter } from './cfsRecording.js';
import { CsvWriter } from './csvWriter.js';
import { EdfWriter, type EdfWriterOptions } from './edfWriter.js';

/** The output formats, by extension. */
export type RecordingFormat = 'edf' | 'bdf' | 'cfs' | 'csv';

/** Options of `createRecorder`. */
export interface RecorderOptions {
  /** Required. Output path; the extension picks the format (see `recordingFormatOf`). */
  path: string;
  /** Required. The stream's header. */
  info: StreamInfo;
  /** EDF/BDF only, required there: physical range, one or per channel. */
  physicalMin?: number | readonly number[];
  physicalMax?: number | readonly number[];
  /** EDF/BDF only: the format's full range. Digital range, one or per channel. */
  digitalMin?: number | readonly number[];
  digitalMax?: number | readonly number[];
  /** EDF/BDF only: 1 s. Data-record duration. */
  recordDuration?: number;
  /** EDF/BDF only: ''. Transducer and prefiltering fields, one or per channel. */
  transducer?: string | readonly string[];
  prefiltering?: string | readonly string[];
  /** Now. Start of the recording (EDF/BDF header, .cfs header). */
  start?: Date;
}

/** A file being written: frames and markers in, a summary out on close. */
export interface Recorder {
  readonly format: RecordingFormat;
  readonly path: string;
  write(frame: Frame): void;
  annotate(marker: { t: number; duration?: number; text: string }): void;
  /** Finishes the file (EDF: last record, header count) and returns what was written. */
  close(): Record<string, unknown>;
}

/** The recording format an output path's extension names (InvalidOptionError otherwise). */
export function recordingFormatOf(path: string): RecordingFormat {
  const ext = extname(path).toLowerCase().slice(1);
  if (ext === 'edf' || ext === 'bdf' || ext === 'cfs' || ext === 'csv') return ext;
  throw new InvalidOptionError('createRecorder', 'path', 'a file ending in .edf (EDF+), .bdf (BDF+), .cfs or .csv', path);
}

/** Creates the output file and returns its writer (errors name the option or the file). */
export function createRecorder(o: RecorderOptions): Recorder {
  const format = recordingFormatOf(o.path);
  if (format === 'cfs') {
    const w = CfsWriter.create({ path: o.path, info: o.info, start: o.start });
    return { format, path: o.path, write: (f) => w.write(f), annotate: (m) => w.annotate(m), close: () => ({ ...w.close() }) };
  }
  if (format === 'csv') {
    const w = CsvWriter.create({ path: o.path, info: o.info });
    return { format, path: o.path, write: (f) => w.write(f), annotate: () => undefined, close: () => ({ ...w.close() }) };
  }
  if (o.info.kind !== 'raw') throw new DataError(`stream ${o.info.id} is compressed: EDF/BDF hold raw signals; record it to .cfs`, o.path);
  if (o.physicalMin === undefined || o.physicalMax === undefined) {
    throw new InvalidOptionError('createRecorder', 'physicalMin/physicalMax', 'given for EDF/BDF output (the physical range of the signals)', undefined);
  }
  const options: EdfWriterOptions = {
    path: o.path, info: o.info, format, physicalMin: o.physicalMin, physicalMax: o.physicalMax, digitalMin: o.digitalMin, digitalMax: o.digitalMax,
    recordDuration: o.recordDuration, transducer: o.transducer, prefiltering: o.prefiltering, start: o.start,
  };
  const w = EdfWriter.create(options);
  return { format, path: o.path, write: (f) => w.write(f), annotate: (m) => w.annotate(m), close: () => ({ ...w.close() }) };
}
