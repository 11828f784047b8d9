/**
 * A streaming parser of the text line protocol of Arduino-style sensors: bytes in (any chunking),
 * one record of `columns` finite numbers per line out, every line it cannot use counted with a
 * reason and an excerpt. Pure: no I/O, no clock; never throws on data (only a throwing callback
 * propagates).
 *
 * ```
 * bytes ─split at \n (a \r before it dropped)─▶ lines ─text? fields? numbers?─▶ records
 * "ch1,ch2\r\n"       first line that is all labels (right count, before any data) ─▶ header
 * "1.5,-2e-3\r\n"     ─▶ { seq: 0, t: 0 / rate, values: [1.5, -0.002] }
 * "1.5,nan\r\n"       ─▶ reject 'not-numeric', excerpt "1.5,nan"
 * ```
 *
 * **Lines.** A line ends at `\n`; one or more `\r` (and spaces, tabs) around it are trimmed, so
 * `\r\n` split across chunks is the same as whole. Blank lines are skipped (counted as `blank`).
 * A line longer than `maxLineBytes` (not counting `\r\n`) is rejected as `overlong` as soon as that
 * many bytes have come without a newline, and everything up to the next `\n` is dropped: memory
 * stays bounded whatever the sender does.
 *
 * **Fields.** Separated by commas, semicolons, tabs or runs of spaces: `separator: 'auto'` takes, per
 * line, the first of `,` `;` `\t` that occurs, else whitespace; a fixed separator takes only that.
 * Spaces around fields are trimmed, and one trailing separator is ignored (`1,2,3,` — sketches that
 * print a separator after every value). A field must be a plain decimal number (`-1`, `2.50`,
 * `.5`, `6.02e23`) that is finite: `nan`, `inf`, `ovf` (what Arduino prints), hex and empty fields
 * are not numbers. Decimal commas are not supported (use `;` between fields, and still `.` inside).
 *
 * **Numbers** are read from the bytes without making strings: up to 15 significant digits and a
 * decimal exponent within ±22 convert with one exact multiplication or division (Clinger's fast
 * path), which is correctly rounded, so the value is exactly `Number(text)`; longer numbers fall
 * back to `Number(text)` itself.
 *
 * **Header.** Before the first data line (after construction or `reset()`), a line with the right
 * number of fields of which none is a number or empty is the header: its fields are the labels (quotes
 * stripped; with a time column, the time column's label is dropped). A line with a number in it is
 * data and closes the header; later label-like lines are `not-numeric` rejects.
 *
 * **Time.** `time: 'first'`: the first field is the sample time in `timeUnit` (s or ms), and `t` is
 * it in seconds. `time: 'none'`: `t = seq / rate`, where `seq` counts records from 0 (`skip(n)` moves
 * it on by n lines known to be lost).
 *
 * **Rejects**, checked in this order, one per line: `not-text` (invalid UTF-8, or control
 * characters other than tab and CR), `column-count`, `not-numeric` (the first bad field is named),
 * plus `overlong` (above) and `truncated` (a partial line discarded by `reset()`, e.g. when the
 * link dropped mid-line: its last field may be cut short and still look like a number).
 *
 * **Mid-line starts.** A serial port opened while the device is already sending (serialport
 * flushes the input on open) may start inside a line, and a line cut inside its first field still
 * has the right number of fields: `reset(true)` marks the next line as suspect, and a suspect line
 * is taken as a header if it is one, never as data (`partial`). A blank line clears the mark (the
 * next line starts clean).
 */
import { isUtf8 } from 'node:buffer';
import { InvalidOptionError } from '../../src/errors.js';

/** How fields are separated. */
export type LineSeparator = 'auto' | 'comma' | 'semicolon' | 'tab' | 'space';
/** Whether the first field is the sample time. */
export type LineTimeColumn = 'none' | 'first';
/** Unit of the time column. */
export type LineTimeUnit = 's' | 'ms';

/** Why a line was dropped. */
export type LineRejectReason =
  /** Not UTF-8 text: invalid UTF-8 bytes, or control characters other than tab and CR (line noise, a wrong baud rate). */
  | 'not-text'
  /** Not `columns` fields (plus one for a time column). */
  | 'column-count'
  /** A field that is not a finite decimal number. */
  | 'not-numeric'
  /** No newline within `maxLineBytes`: the line is dropped up to the next newline. */
  | 'overlong'
  /** A partial line thrown away by `reset()` (the connection ended before its newline). */
  | 'truncated'
  /** The first line after `reset(true)` when it is not a header: it may have started in the middle of a line. */
  | 'partial';

/** Every reject reason. */
export const LINE_REJECT_REASONS: readonly LineRejectReason[] = Object.freeze(['not-text', 'column-count', 'not-numeric', 'overlong', 'truncated', 'partial'] as const);

/** One rejected line (rare, so a fresh object each time). */
export interface LineReject {
  readonly reason: LineRejectReason;
  /** Line number (1-based, counting every line since construction, blank ones included). */
  readonly line: number;
  /** The start of the line: UTF-8 text with control characters as \xNN, or, if it is not UTF-8, printable ASCII with other bytes as \xNN; at most `EXCERPT_BYTES` bytes, then '…'. */
  readonly excerpt: string;
  /** What was wrong, in words. */
  readonly message: string;
}

/** One parsed line; the parser reuses this object and its array, copy what you keep. */
export interface LineRecord {
  /** Records since construction, from 0, plus what `skip` added. */
  seq: number;
  /** Seconds: the time column (converted from `timeUnit`), or seq / rate. */
  t: number;
  /** The `columns` values. */
  values: Float64Array;
  /** Line number (1-based). */
  line: number;
}

/** A header line's labels. */
export interface LineHeader {
  /** One label per value column (the time column's label dropped). */
  readonly labels: readonly string[];
  /** Line number (1-based). */
  readonly line: number;
}

/** Running totals of a parser. */
export interface LineParserStats {
  /** Bytes pushed. */
  bytes: number;
  /** Lines seen (ended by a newline, or overlong, or the last one at `flush()`). */
  lines: number;
  /** Records emitted. */
  records: number;
  /** Blank lines skipped. */
  blank: number;
  /** Header lines taken. */
  headers: number;
  /** Rejected lines per reason. */
  rejects: Record<LineRejectReason, number>;
  /** Bytes of a partial line waiting for its newline. */
  buffered: number;
}

/** Options of a `LineParser`. */
export interface LineParserOptions {
  /** Required. Values per line (integer ≥ 1), not counting a time column. */
  columns: number;
  /** 0. Nominal lines per second; required (> 0) with `time: 'none'`, where t = seq / rate. */
  rate?: number;
  /** 'auto'. Field separator (see the module comment). */
  separator?: LineSeparator;
  /** 'none'. 'first': the first field is the sample time. */
  time?: LineTimeColumn;
  /** 's'. Unit of the time column: seconds or milliseconds. */
  timeUnit?: LineTimeUnit;
  /** 4096 bytes. Longest line (without its \r\n); longer ones are rejected and dropped up to the next newline. */
  maxLineBytes?: number;
  /** Required. Called with each record (a reused object, valid during the call). */
  onRecord: (record: LineRecord) => void;
  /** undefined. Called with each rejected line. */
  onReject?: (reject: LineReject) => void;
  /** undefined. Called with each header line. */
  onHeader?: (header: LineHeader) => void;
}

/** The documented defaults of `LineParserOptions` (columns, onRecord have none). */
export const DEFAULT_LINE_PARSER_OPTIONS: Readonly<{ rate: number; separator: LineSeparator; time: LineTimeColumn; timeUnit: LineTimeUnit; maxLineBytes: number }> = Object.freeze({
  rate: 0, separator: 'auto', time: 'none', timeUnit: 's', maxLineBytes: 4096,
});

/** Bytes of a line shown in a reject's excerpt. */
export const EXCERPT_BYTES = 40;

const SEPARATORS: Readonly<Record<LineSeparator, number>> = { auto: -1, comma: 44, semicolon: 59, tab: 9, space: 32 };
const LF = 10, CR = 13, TAB = 9, SPACE = 32, COMMA = 44, SEMI = 59;
/** 10^0 … 10^22, each exact in binary64 (from decimal literals, which are correctly rounded). */
const POW10 = Float64Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/** Checks `LineParserOptions` (owner names the caller in errors) and fills the defaults. */
export function resolveLineParserOptions(owner: string, options: Omit<LineParserOptions, 'onRecord'>): Required<Omit<LineParserOptions, 'onRecord' | 'onReject' | 'onHeader'>> {
  const o = { ...DEFAULT_LINE_PARSER_OPTIONS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as Required<Omit<LineParserOptions, 'onRecord' | 'onReject' | 'onHeader'>>;
  if (!Number.isInteger(o.columns) || o.columns < 1 || o.columns > 65536) throw new InvalidOptionError(owner, 'columns', 'an integer in [1, 65536]', o.columns);
  if (typeof o.rate !== 'number' || !Number.isFinite(o.rate) || o.rate < 0) throw new InvalidOptionError(owner, 'rate', 'lines per second, finite and ≥ 0', o.rate);
  if (!(o.separator in SEPARATORS)) throw new InvalidOptionError(owner, 'separator', `one of ${Object.keys(SEPARATORS).join(', ')}`, o.separator);
  if (o.time !== 'none' && o.time !== 'first') throw new InvalidOptionError(owner, 'time', "'none' or 'first'", o.time);
  if (o.timeUnit !== 's' && o.timeUnit !== 'ms') throw new InvalidOptionError(owner, 'timeUnit', "'s' or 'ms'", o.timeUnit);
  if (o.time === 'none' && !(o.rate > 0)) throw new InvalidOptionError(owner, 'rate', "lines per second > 0 when there is no time column (t = seq / rate)", o.rate);
  if (!Number.isInteger(o.maxLineBytes) || o.maxLineBytes < 16 || o.maxLineBytes > 1 << 24) throw new InvalidOptionError(owner, 'maxLineBytes', 'an integer in [16, 16777216]', o.maxLineBytes);
  return o;
}

/**
 * Parses the bytes of a line protocol into records. Create one per stream; `reset()` when the
 * connection is new (a partial line is then discarded and a header may come again).
 *
 * Like serialport's `ReadlineParser`, but it also splits and checks the fields, reads the numbers
 * without making strings, bounds the line length and counts every line it drops.
 *
 * @example
 * const parser = new LineParser({ columns: 3, rate: 100, onRecord: (r) => frames.push(r.values.slice()), onReject: console.warn });
 * port.on('data', (chunk) => parser.push(chunk));
 */
export class LineParser {
  /** Values per record. */
  readonly columns: number;
  private readonly rate: number;
  private readonly sep: number; // separator byte, SPACE for whitespace, −1 for auto
  private readonly timeFirst: boolean;
  private readonly timeScale: number;
  private readonly fields: number; // expected fields per line
  private readonly max: number;
  private readonly onRecord: (r: LineRecord) => void;
  private readonly onReject: ((r: LineReject) => void) | undefined;
  private readonly onHeader: ((h: LineHeader) => void) | undefined;
  private readonly carry: Uint8Array; // the partial line (max + 1: room for a \r before its \n)
  private len = 0;
  private dropping = false; // inside an overlong line: drop up to the next \n
  private headerOpen = true;
  private suspect = false; // the next line may have started mid-line (see reset)
  private lineNo = 0;
  private seq = 0;
  private readonly record: LineRecord;
  private readonly totals: Omit<LineParserStats, 'buffered' | 'lines'>;

  /** @param options see `LineParserOptions`; checked here (InvalidOptionError). */
  constructor(options: LineParserOptions) {
    if (typeof options?.onRecord !== 'function') throw new InvalidOptionError('LineParser', 'onRecord', 'a function', options?.onRecord);
    const { onRecord, onReject, onHeader, ...rest } = options;
    const o = resolveLineParserOptions('LineParser', rest);
    this.columns = o.columns;
    this.rate = o.rate;
    this.sep = SEPARATORS[o.separator];
    this.timeFirst = o.time === 'first';
    this.timeScale = o.timeUnit === 'ms' ? 1e-3 : 1;
    this.fields = o.columns + (this.timeFirst ? 1 : 0);
    this.max = o.maxLineBytes;
    this.onRecord = onRecord;
    this.onReject = onReject;
    this.onHeader = onHeader;
    this.carry = new Uint8Array(this.max + 1);
    this.record = { seq: 0, t: 0, values: new Float64Array(o.columns), line: 0 };
    this.totals = { bytes: 0, records: 0, blank: 0, headers: 0, rejects: { 'not-text': 0, 'column-count': 0, 'not-numeric': 0, overlong: 0, truncated: 0, partial: 0 } };
  }

  /**
   * Feeds a chunk; calls the callbacks synchronously for every line it completes.
   * @param chunk any number of bytes (not kept: a partial line is copied)
   */
  push(chunk: Uint8Array): void {
    const n = chunk.length;
    this.totals.bytes += n;
    let p = 0;
    while (p < n) {
      const nl = chunk.indexOf(LF, p);
      if (this.dropping) {
        if (nl < 0) return;
        this.dropping = false;
        p = nl + 1;
        continue;
      }
      if (nl < 0) {
        this.append(chunk, p, n);
        return;
      }
      if (this.len === 0) {
        // The whole line is in the chunk: read it in place.
        const end = nl > p && chunk[nl - 1] === CR ? nl - 1 : nl;
        if (end - p > this.max) this.overlong(chunk, p, end);
        else this.line(chunk, p, nl);
      } else if (this.append(chunk, p, nl)) {
        const end = this.len > 0 && this.carry[this.len - 1] === CR ? this.len - 1 : this.len;
        if (end > this.max) this.overlong(this.carry, 0, end);
        else this.line(this.carry, 0, this.len);
        this.len = 0;
      } else {
        this.dropping = false; // append() found it overlong; its newline is right here
      }
      p = nl + 1;
    }
  }

  /** End of input: a last line without a newline is read as a line. The header state and `seq` are kept. */
  flush(): void {
    const len = this.len;
    this.len = 0;
    if (this.dropping) this.dropping = false;
    else if (len > 0) this.line(this.carry, 0, len);
  }

  /**
   * A new connection: a partial line is discarded (a `truncated` reject), an overlong one
   * forgotten, and a header may come again. `seq`, line numbers and totals go on.
   * @param midStream true when the input may start inside a line (a port opened while the device
   *   was sending): the next line is then taken only as a header, never as data (`partial`)
   */
  reset(midStream = false): void {
    if (this.len > 0) {
      this.lineNo++;
      this.reject('truncated', this.carry, 0, this.len, `the input ended after ${this.len} bytes without a newline: the line may be cut short`);
    }
    this.len = 0;
    this.dropping = false;
    this.headerOpen = true;
    this.suspect = midStream;
  }

  /** `n` lines were lost (e.g. while a link was down): `seq` moves on by n. */
  skip(n: number): void {
    if (!Number.isInteger(n) || n < 0) throw new InvalidOptionError('LineParser.skip', 'n', 'an integer ≥ 0', n);
    this.seq += n;
  }

  /** The seq the next record will get. */
  get nextSeq(): number {
    return this.seq;
  }

  /** A copy of the running totals. */
  stats(): LineParserStats {
    return { ...this.totals, lines: this.lineNo, rejects: { ...this.totals.rejects }, buffered: this.len };
  }

  /** Adds chunk[from, to) to the partial line; false (and an overlong reject) when it no longer fits. */
  private append(chunk: Uint8Array, from: number, to: number): boolean {
    const room = this.carry.length - this.len;
    if (to - from <= room) {
      this.carry.set(chunk.subarray(from, to), this.len);
      this.len += to - from;
      return true;
    }
    this.carry.set(chunk.subarray(from, from + room), this.len);
    this.len += room;
    this.overlong(this.carry, 0, this.len);
    this.len = 0;
    this.dropping = true;
    return false;
  }

  private overlong(b: Uint8Array, s: number, e: number): void {
    this.lineNo++;
    this.suspect = false;
    this.reject('overlong', b, s, e, `no newline within ${this.max} bytes: dropped up to the next newline`);
  }

  /** One complete line b[s, e) (its \n excluded). */
  private line(b: Uint8Array, s: number, e: number): void {
    this.lineNo++;
    while (e > s && isSpace(b[e - 1]!)) e--;
    while (s < e && isSpace(b[s]!)) s++;
    if (s === e) {
      this.totals.blank++;
      this.suspect = false; // the cut was at (or inside) a line end: the next line is whole
      return;
    }
    const suspect = this.suspect;
    this.suspect = false;
    // Pass 1: is it text, and which separators does it have?
    let high = false, ctrl = false, comma = false, semi = false, tab = false;
    for (let i = s; i < e; i++) {
      const c = b[i]!;
      if (c >= 0x80) high = true;
      else if (c < SPACE || c === 0x7f) {
        if (c === TAB) tab = true;
        else if (c !== CR) ctrl = true;
      } else if (c === COMMA) comma = true;
      else if (c === SEMI) semi = true;
    }
    if (ctrl || (high && !isUtf8(b.subarray(s, e)))) {
      if (suspect) return this.partial(b, s, e);
      this.reject('not-text', b, s, e, ctrl ? 'control characters in the line (line noise, or a wrong baud rate?)' : 'not UTF-8 text (line noise, or a wrong baud rate?)');
      return;
    }
    let sep = this.sep;
    if (sep < 0) sep = comma ? COMMA : semi ? SEMI : tab ? TAB : SPACE;
    // Pass 2: fields, numbers read into the record as they come.
    const values = this.record.values;
    const timeFirst = this.timeFirst;
    const want = this.fields;
    let count = 0, numeric = 0, empty = 0, firstBad = -1, badS = 0, badE = 0, time = 0;
    let i = s;
    for (;;) {
      let fs = i, fe: number;
      if (sep === SPACE) {
        while (fs < e && isSpace(b[fs]!)) fs++;
        if (fs === e) break;
        fe = fs;
        while (fe < e && !isSpace(b[fe]!)) fe++;
        i = fe;
      } else {
        fe = fs;
        while (fe < e && b[fe] !== sep) fe++;
        i = fe;
        while (fs < fe && isSpace(b[fs]!)) fs++;
        while (fe > fs && isSpace(b[fe - 1]!)) fe--;
      }
      const v = fe > fs ? parseNumber(b, fs, fe) : NaN;
      if (v === v) {
        numeric++;
        if (count < want) {
          if (timeFirst && count === 0) time = v;
          else values[count - (timeFirst ? 1 : 0)] = v;
        }
      } else if (firstBad < 0) {
        firstBad = count;
        badS = fs;
        badE = fe;
      }
      if (fe === fs) empty++;
      count++;
      if (sep === SPACE) continue;
      if (i >= e) break;
      i++; // past the separator
      if (i === e) {
        break; // a trailing separator: ignored (sketches print one after every value)
      }
    }
    if (suspect && !(count === want && firstBad >= 0 && this.headerOpen && numeric === 0 && empty === 0)) return this.partial(b, s, e);
    if (count !== want) {
      const what = timeFirst ? `${want} fields (time + ${this.columns} values)` : `${want} field${want === 1 ? '' : 's'}`;
      this.reject('column-count', b, s, e, `expected ${what}, got ${count} (separator ${sepName(sep)})`);
      return;
    }
    if (firstBad >= 0) {
      if (this.headerOpen && numeric === 0 && empty === 0) {
        this.header(b, s, e, sep);
        return;
      }
      const text = badE > badS ? JSON.stringify(decode(b, badS, Math.min(badE, badS + EXCERPT_BYTES))) : 'empty';
      const which = timeFirst && firstBad === 0 ? 'the time field' : `field ${firstBad + 1}`;
      this.reject('not-numeric', b, s, e, `${which} is not a finite number: ${text}`);
      return;
    }
    this.headerOpen = false;
    const r = this.record;
    r.seq = this.seq++;
    r.t = timeFirst ? time * this.timeScale : r.seq / this.rate;
    r.line = this.lineNo;
    this.totals.records++;
    this.onRecord(r);
  }

  /** A header line: its fields are the labels (rare: strings are fine here). */
  private header(b: Uint8Array, s: number, e: number, sep: number): void {
    this.headerOpen = false;
    this.totals.headers++;
    const text = decode(b, s, e);
    let labels = sep === SPACE ? text.split(/[ \t\r]+/) : text.split(String.fromCharCode(sep));
    labels = labels.map((l) => l.trim().replace(/^"(.*)"$/, '$1'));
    if (labels.length > this.fields) labels.length = this.fields; // a trailing separator
    if (this.timeFirst) labels.shift();
    this.onHeader?.({ labels: Object.freeze(labels), line: this.lineNo });
  }

  private partial(b: Uint8Array, s: number, e: number): void {
    this.reject('partial', b, s, e, 'the first line of a new connection is not taken as data: it may have started in the middle of a line');
  }

  private reject(reason: LineRejectReason, b: Uint8Array, s: number, e: number, message: string): void {
    this.totals.rejects[reason]++;
    this.onReject?.({ reason, line: this.lineNo, excerpt: lineExcerpt(b.subarray(s, e)), message: `line ${this.lineNo}: ${message}` });
  }
}

/**
 * The start of a line for messages: UTF-8 text with control characters as \xNN, or, when it is
 * not UTF-8, printable ASCII with every other byte as \xNN; at most `EXCERPT_BYTES` bytes, then '…'.
 */
export function lineExcerpt(line: Uint8Array): string {
  let cut = Math.min(line.length, EXCERPT_BYTES);
  while (cut > 0 && cut < line.length && (line[cut]! & 0xc0) === 0x80) cut--; // not inside a character
  const head = line.subarray(0, cut);
  const more = cut < line.length ? '…' : '';
  if (isUtf8(head)) return decode(head, 0, head.length).replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${hex(c.charCodeAt(0))}`) + more;
  let out = '';
  for (const c of head) out += c >= SPACE && c < 0x7f ? String.fromCharCode(c) : `\\x${hex(c)}`;
  return out + more;
}

/**
 * Reads a plain decimal number from b[s, e): [+-] digits [. digits] [(e|E) [+-] digits], at least
 * one digit before the exponent. NaN when it is not one, or not finite.
 */
export function parseNumber(b: Uint8Array, s: number, e: number): number {
  let i = s;
  let neg = false;
  if (b[i] === 45 || b[i] === 43) {
    neg = b[i] === 45;
    i++;
  }
  let m = 0; // significant digits as an integer (exact while sig ≤ 15)
  let sig = 0;
  let digits = 0;
  let exp = 0;
  for (; i < e; i++) {
    const d = b[i]! - 48;
    if (d < 0 || d > 9) break;
    digits++;
    if (m !== 0 || d !== 0) {
      m = m * 10 + d;
      sig++;
    }
  }
  if (i < e && b[i] === 46) {
    for (i++; i < e; i++) {
      const d = b[i]! - 48;
      if (d < 0 || d > 9) break;
      digits++;
      exp--;
      if (m !== 0 || d !== 0) {
        m = m * 10 + d;
        sig++;
      }
    }
  }
  if (digits === 0) return NaN;
  if (i < e && (b[i] === 101 || b[i] === 69)) {
    i++;
    let eneg = false;
    if (b[i] === 45 || b[i] === 43) {
      eneg = b[i] === 45;
      i++;
    }
    let ev = 0, edigits = 0;
    for (; i < e; i++) {
      const d = b[i]! - 48;
      if (d < 0 || d > 9) break;
      edigits++;
      if (ev < 1e6) ev = ev * 10 + d;
    }
    if (edigits === 0) return NaN;
    exp += eneg ? -ev : ev;
  }
  if (i !== e) return NaN;
  if (m === 0) return neg ? -0 : 0;
  if (sig <= 15 && exp >= -22 && exp <= 22) {
    const v = exp >= 0 ? m * POW10[exp]! : m / POW10[-exp]!;
    return neg ? -v : v;
  }
  let text = ''; // rare: more than 15 digits or a large exponent
  for (let k = s; k < e; k++) text += String.fromCharCode(b[k]!);
  const v = Number(text);
  return Number.isFinite(v) ? v : NaN;
}

function isSpace(c: number): boolean {
  return c === SPACE || c === TAB || c === CR;
}

function sepName(sep: number): string {
  return sep === COMMA ? "','" : sep === SEMI ? "';'" : sep === TAB ? 'tab' : 'spaces';
}

const UTF8 = new TextDecoder('utf-8');

function decode(b: Uint8Array, s: number, e: number): string {
  return UTF8.decode(b.subarray(s, e));
}

function hex(c: number): string {
  return c.toString(16).padStart(2, '0').toUpperCase();
}
