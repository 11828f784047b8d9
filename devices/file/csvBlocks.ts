/**
 * CSV recordings as blocks for the replay: `t` then one column per channel, one row per sample,
 * the header row holding the labels (what `cfstream convert` writes):
 *
 * ```
 * t,Fc5.,Fc3.
 * 0,-16,-29
 * 0.00625,-56,-54      rate = 1 / (t₁ − t₀) unless given;  seq = round((t − t₀) · rate)
 * ```
 *
 * A jump in t is a gap (a seq jump). The file is read synchronously in 64 KiB chunks, `rowsPerBlock`
 * rows to a block. A last line without its newline that does not parse (a writer killed mid-line)
 * is a torn tail, left out and counted; anything else that does not parse is a DataError naming
 * the file, line and column.
 */
import { closeSync, readSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { DataError } from '../../src/errors.js';
import type { Frame, StreamInfo } from '../../src/frames/index.js';
import type { BlockReader, FileBlock } from './blocks.js';
import { openForReading } from './edfBlocks.js';

/** Options of `openCsvBlocks`. */
export interface CsvBlockOptions {
  /** The stream id; default the file name without extension. */
  id?: string;
  /** Inferred from the first two rows. Samples per second (> 0). */
  rate?: number;
  /** 256. Rows per block. */
  rowsPerBlock?: number;
}

const CHUNK = 65536;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A line reader over a descriptor: synchronous, one chunk in memory. */
class Lines {
  private text = '';
  private pos = 0;
  private eof = false;
  private readonly buf = Buffer.alloc(CHUNK);
  private readonly decoder = new TextDecoder('utf-8');
  /** 1-based number of the last line returned. */
  line = 0;
  /** True when the last line returned had no newline after it. */
  unterminated = false;

  constructor(private readonly fd: number) {}

  nextLine(): string | null {
    for (;;) {
      const nl = this.text.indexOf('\n', this.pos);
      if (nl >= 0) {
        const end = nl > this.pos && this.text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        const s = this.text.slice(this.pos, end);
        this.pos = nl + 1;
        this.line++;
        return s;
      }
      if (this.eof) {
        if (this.pos >= this.text.length) return null;
        const s = this.text.slice(this.pos);
        this.pos = this.text.length;
        this.line++;
        this.unterminated = true;
        return s;
      }
      const n = readSync(this.fd, this.buf, 0, CHUNK, null);
      if (n === 0) {
        this.eof = true;
        this.text = this.text.slice(this.pos) + this.decoder.decode();
      } else this.text = this.text.slice(this.pos) + this.decoder.decode(this.buf.subarray(0, n), { stream: true });
      this.pos = 0;
    }
  }
}

/** Opens a CSV recording as a block reader; the header and the first rows are read now. */
export function openCsvBlocks(path: string, options: CsvBlockOptions = {}): CsvBlockReader {
  const fd = openForReading(path);
  try {
    return new CsvBlockReader(fd, path, options);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** Reads a CSV recording row by row, as frames (see the file comment). */
export class CsvBlockReader implements BlockReader {
  readonly info: StreamInfo;
  tornBytes = 0;
  private readonly lines: Lines;
  private readonly n: number;
  private readonly rowsPerBlock: number;
  private head: { t: number; values: Float64Array }[] = []; // rows read ahead to infer the rate
  private t0 = NaN;
  private row = 0;
  private lastSeq = -1;
  private closed = false;

  constructor(
    private readonly fd: number,
    readonly path: string,
    options: CsvBlockOptions,
  ) {
    this.lines = new Lines(fd);
    this.rowsPerBlock = options.rowsPerBlock ?? 256;
    const first = this.lines.nextLine();
    if (first === null || first.trim() === '') throw new DataError('the file is empty (expected a header row "t,<label>,…")', path);
    const cells = splitHeader(first);
    if (cells.length < 2) throw new DataError(`line 1: expected "t" then one column per channel; got ${cells.length} column`, path);
    const header = !NUMBER.test(cells[0]!);
    this.n = cells.length - 1;
    const labels = header ? cells.slice(1) : Array.from({ length: this.n }, (_, i) => `ch${i + 1}`);
    if (!header) this.head.push(this.parse(first));
    while (this.head.length < 2) {
      const r = this.readRow();
      if (!r) break;
      this.head.push(r);
    }
    let rate = options.rate;
    if (rate === undefined) {
      const [a, b] = this.head;
      const dt = a && b ? b.t - a.t : NaN;
      if (!(dt > 0)) {
        if (this.head.length < 2) rate = 0;
        else throw new DataError(`rows 1 and 2 have t ${a!.t} and ${b!.t}: t must increase (or give the rate)`, path);
      } else rate = Number((1 / dt).toPrecision(9)); // t is printed with limited digits
    }
    this.info = { id: options.id ?? (basename(path, extname(path)) || 'csv'), kind: 'raw', n: this.n, rate: rate!, labels };
  }

  /** The next `rowsPerBlock` rows as frames; null at the end. */
  next(): FileBlock | null {
    if (this.closed) return null;
    const frames: Frame[] = [];
    const rate = this.info.rate;
    while (frames.length < this.rowsPerBlock) {
      const r = this.head.length > 0 ? this.head.shift()! : this.readRow();
      if (!r) break;
      if (Number.isNaN(this.t0)) this.t0 = r.t;
      const seq = rate > 0 ? Math.round((r.t - this.t0) * rate) : this.row;
      if (seq <= this.lastSeq) {
        throw new DataError(`t = ${r.t} does not advance past the previous row by a sample at ${rate} Hz`, `${this.path}:${this.lines.line}`);
      }
      this.lastSeq = seq;
      this.row++;
      frames.push({ seq, t: r.t, values: r.values });
    }
    return frames.length > 0 ? { frames, markers: [] } : null;
  }

  private readRow(): { t: number; values: Float64Array } | null {
    for (;;) {
      const s = this.lines.nextLine();
      if (s === null) return null;
      if (s.trim() === '') continue;
      try {
        return this.parse(s);
      } catch (e) {
        if (this.lines.unterminated) {
          this.tornBytes = Buffer.byteLength(s);
          return null;
        }
        throw e;
      }
    }
  }

  private parse(s: string): { t: number; values: Float64Array } {
    const where = `${this.path}:${this.lines.line}`;
    const cells = s.split(',');
    if (cells.length !== this.n + 1) throw new DataError(`${cells.length} columns, expected ${this.n + 1} (t and ${this.n} channels)`, where);
    const values = new Float64Array(this.n);
    let t = 0;
    for (let j = 0; j <= this.n; j++) {
      const f = cells[j]!.trim();
      let v: number;
      if (NUMBER.test(f)) v = Number(f);
      else if (j > 0 && /^nan$/i.test(f)) v = NaN; // a bad sample, not a bad file: validation counts it
      else throw new DataError(`column ${j + 1}: ${f === '' ? 'empty field' : `non-numeric value ${JSON.stringify(f)}`}`, where);
      if (j === 0) t = v;
      else values[j - 1] = v;
    }
    return { t, values };
  }

  /** Closes the file; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

/** Splits the header row, honouring RFC 4180 quotes (labels may hold commas). */
function splitHeader(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    while (line[i] === ' ') i++;
    let cell = '';
    if (line[i] === '"') {
      for (i++; i < line.length; i++) {
        if (line[i] === '"') {
          if (line[i + 1] !== '"') { i++; break; }
          i++;
        }
        cell += line[i];
      }
      const comma = line.indexOf(',', i);
      i = comma < 0 ? line.length : comma;
    } else {
      const comma = line.indexOf(',', i);
      const end = comma < 0 ? line.length : comma;
      cell = line.slice(i, end).trim();
      i = end;
    }
    out.push(cell);
    if (i >= line.length) return out;
    i++; // the comma
  }
}
