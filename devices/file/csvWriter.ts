/**
 * CSV output of a stream, one row per frame: `t`, then one column per channel, the header row
 * holding the labels (what csvBlocks.ts reads back). Numbers are written in the shortest form that
 * reads back to the same value (float32 values as float32). Rows are buffered into ~64 KiB writes.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { DataError } from '../../src/errors.js';
import { frameLength, type Frame, type StreamInfo } from '../../src/frames/index.js';

/** What a CSV writer wrote. */
export interface CsvWriteSummary {
  path: string;
  rows: number;
  bytes: number;
}

const FLUSH_CHARS = 65536;

/** The shortest decimal that reads back to the same float32. */
function float32Text(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  for (let p = 1; p < 9; p++) {
    const s = v.toPrecision(p);
    if (Math.fround(Number(s)) === v) return String(Number(s));
  }
  return String(Number(v.toPrecision(9)));
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Writes frames as CSV rows (see the file comment). */
export class CsvWriter {
  private text = '';
  private rows = 0;
  private bytes = 0;
  private closed = false;

  private constructor(
    private readonly fd: number,
    readonly path: string,
    readonly info: StreamInfo,
  ) {}

  /** Creates the file and writes the header row `t,<label>,…`. */
  static create(options: { path: string; info: StreamInfo }): CsvWriter {
    const { path, info } = options;
    const n = frameLength(info);
    const labels = info.kind === 'raw' && info.labels ? info.labels : Array.from({ length: n }, (_, i) => (info.kind === 'raw' ? `ch${i + 1}` : `y${i + 1}`));
    let fd: number;
    try {
      fd = openSync(path, 'w');
    } catch (e) {
      throw new DataError(`cannot create: ${(e as Error).message}`, path);
    }
    const w = new CsvWriter(fd, path, info);
    w.text = ['t', ...labels].map(csvField).join(',') + '\n';
    return w;
  }

  /** Appends one row. */
  write(frame: Frame): void {
    if (this.closed) throw new DataError('write after close', this.path);
    const x = frame.values;
    let line = String(frame.t);
    if (x instanceof Float32Array) for (let c = 0; c < x.length; c++) line += ',' + float32Text(x[c]!);
    else for (let c = 0; c < x.length; c++) line += ',' + String(x[c]);
    this.text += line + '\n';
    this.rows++;
    if (this.text.length >= FLUSH_CHARS) this.flush();
  }

  /** CSV has no place for markers: ignored. */
  annotate(): void {}

  /** Writes what is buffered and closes; idempotent. */
  close(): CsvWriteSummary {
    if (!this.closed) {
      this.flush();
      this.closed = true;
      closeSync(this.fd);
    }
    return { path: this.path, rows: this.rows, bytes: this.bytes };
  }

  private flush(): void {
    if (this.text === '') return;
    const b = Buffer.from(this.text, 'utf8');
    let off = 0;
    while (off < b.length) off += writeSync(this.fd, b, off, b.length - off);
    this.bytes += b.length;
    this.text = '';
  }
}
