/**
 * Options of a file source and its URI, `file:<path.edf|.bdf|.csv|.cfs>[?speed=1|10|max]`
 * (ARCHITECTURE.md, "Interfaces"), plus `id`, `signals` (EDF: labels, comma-separated) and `rate`
 * (CSV) as query parameters. `file://<absolute path>` is accepted too.
 */
import { extname } from 'node:path';
import type { SchedulerLike } from 'rxjs';
import { InvalidOptionError } from '../../src/errors.js';
import type { FileFormat } from './blocks.js';

/** Options of `fileSource`. */
export interface FileSourceOptions {
  /** Required. The file; its extension picks the format (.edf/.bdf → EDF, .csv, .cfs). */
  path: string;
  /** 1 (real time). Replay speed: a factor > 0 of the file's time, or 'max' (as fast as the consumer takes it). */
  speed?: number | 'max';
  /** asyncScheduler. The clock and the scheduler the frames are emitted on (a TestScheduler in tests). */
  scheduler?: SchedulerLike;
  /** The file name without extension (a .cfs file's own id). Stream id. */
  id?: string;
  /** All data signals. EDF only: the labels of the signals to read, in order (they must share one rate). */
  signals?: readonly string[];
  /** Inferred from the first two rows. CSV only: samples per second. */
  rate?: number;
  /** 65536. Values emitted per scheduler action at most, before yielding to the event loop. */
  chunkValues?: number;
}

/** Options with the defaults filled in. */
export interface ResolvedFileSourceOptions extends Omit<FileSourceOptions, 'speed' | 'chunkValues'> {
  speed: number | 'max';
  chunkValues: number;
  format: FileFormat;
}

/** The documented defaults of `FileSourceOptions`. */
export const DEFAULT_FILE_SOURCE_OPTIONS: Readonly<Pick<ResolvedFileSourceOptions, 'speed' | 'chunkValues'>> = Object.freeze({ speed: 1, chunkValues: 65536 });

const EXTENSIONS: Readonly<Record<string, FileFormat>> = Object.freeze({ '.edf': 'edf', '.bdf': 'edf', '.rec': 'edf', '.csv': 'csv', '.cfs': 'cfs' });
const KEYS = ['path', 'speed', 'scheduler', 'id', 'signals', 'rate', 'chunkValues'];

/** The file format a path's extension names; InvalidOptionError otherwise. */
export function fileFormatOf(path: string): FileFormat {
  const f = EXTENSIONS[extname(path).toLowerCase()];
  if (!f) throw new InvalidOptionError('fileSource', 'path', 'a file ending in .edf, .bdf, .csv or .cfs', path);
  return f;
}

/** Parses a `file:` URI into options (InvalidOptionError naming the URI part). */
export function parseFileUri(uri: string): FileSourceOptions {
  if (typeof uri !== 'string' || !uri.startsWith('file:')) throw new InvalidOptionError('fileSource', 'uri', "a URI 'file:<path>[?speed=1|10|max]'", uri);
  let rest = uri.slice(5);
  if (rest.startsWith('//')) rest = rest.slice(2);
  const q = rest.indexOf('?');
  const path = decodeURIComponent(q < 0 ? rest : rest.slice(0, q));
  const out: FileSourceOptions = { path };
  if (q < 0) return out;
  for (const [key, value] of new URLSearchParams(rest.slice(q + 1))) {
    if (key === 'speed') out.speed = value === 'max' ? 'max' : Number(value);
    else if (key === 'id') out.id = value;
    else if (key === 'signals') out.signals = value.split(',').map((s) => s.trim());
    else if (key === 'rate') out.rate = Number(value);
    else throw new InvalidOptionError('fileSource', `uri ?${key}`, 'one of speed, id, signals, rate', value);
  }
  return out;
}

/** Fills in the defaults and checks every option (InvalidOptionError naming it). */
export function resolveFileSourceOptions(options: FileSourceOptions): ResolvedFileSourceOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('fileSource', 'options', 'an object or a file: URI', options);
  for (const key of Object.keys(options)) {
    if (!KEYS.includes(key)) throw new InvalidOptionError('fileSource', key, `a known option (${KEYS.join(', ')})`, (options as unknown as Record<string, unknown>)[key]);
  }
  const { path } = options;
  if (typeof path !== 'string' || path === '') throw new InvalidOptionError('fileSource', 'path', 'a non-empty path', path);
  const o: ResolvedFileSourceOptions = { ...DEFAULT_FILE_SOURCE_OPTIONS, ...stripUndefined(options), path, format: fileFormatOf(path) };
  if (o.speed !== 'max' && !(typeof o.speed === 'number' && Number.isFinite(o.speed) && o.speed > 0)) {
    throw new InvalidOptionError('fileSource', 'speed', "a number > 0 or 'max'", o.speed);
  }
  if (!Number.isInteger(o.chunkValues) || o.chunkValues < 1) throw new InvalidOptionError('fileSource', 'chunkValues', 'an integer ≥ 1', o.chunkValues);
  if (o.id !== undefined && (typeof o.id !== 'string' || o.id === '')) throw new InvalidOptionError('fileSource', 'id', 'a non-empty string', o.id);
  if (o.rate !== undefined && !(typeof o.rate === 'number' && Number.isFinite(o.rate) && o.rate > 0)) throw new InvalidOptionError('fileSource', 'rate', 'a number > 0', o.rate);
  if (o.rate !== undefined && o.format !== 'csv') throw new InvalidOptionError('fileSource', 'rate', 'given only for CSV files (EDF and .cfs files state their rate)', o.rate);
  if (o.signals !== undefined) {
    if (!Array.isArray(o.signals) || o.signals.some((s) => typeof s !== 'string')) throw new InvalidOptionError('fileSource', 'signals', 'an array of labels', o.signals);
    if (o.format !== 'edf') throw new InvalidOptionError('fileSource', 'signals', 'given only for EDF/BDF files', o.signals);
  }
  if (o.scheduler !== undefined && (typeof o.scheduler !== 'object' || typeof o.scheduler.schedule !== 'function')) {
    throw new InvalidOptionError('fileSource', 'scheduler', 'an RxJS SchedulerLike', o.scheduler);
  }
  return o;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
