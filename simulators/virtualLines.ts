/**
 * A virtual line-protocol sensor (an Arduino printing `Serial.println` lines) on a serial path —
 * one end of a socat pty pair, the other end given to `linesSource` — so the production serial path
 * (serialport, SerialLink, LineParser, reconnects) runs end to end without hardware.
 *
 * ```
 * socat -d -d pty,raw,echo=0,link=/tmp/lines-board pty,raw,echo=0,link=/tmp/lines-host
 * VirtualLines on /tmp/lines-board  ── "ch1,ch2,ch3,ch4\r\n" (on each open), "0.5,-12.25,…\r\n" … ──▶
 *                                      linesSource('lines:/tmp/lines-host?columns=4&rate=100')
 * ```
 *
 * Lines go out in bursts every `tickMs` at `rate` lines per second, drift-corrected, from the moment
 * the sensor starts; it keeps sampling while nobody can read (those lines are `unsent`, not faults).
 * Line j (j = 0, 1, …): an optional time column (j / rate in s or ms), then `columns` values
 * `VirtualLinesSignal.value(c, j)`, each printed with `String(v)` (shortest round trip, so the
 * reader's numbers are exact), joined by `separator`, ended by `eol`. The header line (the labels)
 * is printed on every open, as a sketch's setup() does after a reset.
 *
 * Faults: after good line j with (j + 1) a multiple of `badEvery`, one extra bad line is inserted
 * (so good line j keeps seq j on the reader), its kind cycling through `badKinds`:
 * `not-numeric` (one field replaced by nan, inf, ovf, 1.2.3, …), `column-count` (a field missing or
 * one too many, alternately), `not-text` (8–24 bytes 0x80–0xFF, starting with 0xFF: never UTF-8),
 * `overlong` (`overlongBytes` digits without a separator). Each bad line sent is recorded in
 * `stats().bad`. `disconnect()` closes the port (a powered-off sensor); when the port disappears
 * (socat killed) the sensor keeps sampling and reopens the path every `reopenMs`.
 */
import type { SerialPort } from 'serialport';
import { VirtualPort } from './virtualPort.js';
import { InvalidOptionError } from '../src/errors.js';
import { Rng } from '../src/linalg/random.js';

/** Kinds of inserted bad lines (named after the reader's reject reasons they cause). */
export type VirtualLinesBadKind = 'not-numeric' | 'column-count' | 'not-text' | 'overlong';

/** Every bad-line kind, in the default cycling order. */
export const VIRTUAL_LINES_BAD_KINDS: readonly VirtualLinesBadKind[] = Object.freeze(['not-numeric', 'column-count', 'not-text', 'overlong'] as const);

/** Options of a `VirtualLines` sensor. */
export interface VirtualLinesOptions {
  /** Required. The serial path to serve (one end of a pty pair). */
  path: string;
  /** 4. Values per line. */
  columns?: number;
  /** 100. Lines per second. */
  rate?: number;
  /** 0. Seed of the signal's amplitudes, frequencies and phases and of the bad lines' contents. */
  seed?: number;
  /** 10 ms. Interval between bursts of lines. */
  tickMs?: number;
  /** 'comma'. Field separator. */
  separator?: 'comma' | 'semicolon' | 'tab' | 'space';
  /** '\r\n' (what Arduino's println sends), or '\n'. */
  eol?: '\r\n' | '\n';
  /** true. Print the header line (labels) on every open. */
  header?: boolean;
  /** 'none'. A leading time column j / rate, in 's' or 'ms' (like millis()). */
  time?: 'none' | 's' | 'ms';
  /** 0 (off). After every N-th good line, insert one bad line. */
  badEvery?: number;
  /** All four. The kinds of bad lines, in turn. */
  badKinds?: readonly VirtualLinesBadKind[];
  /** 5000. Length of an `overlong` bad line, bytes (more than the reader's 4096 default). */
  overlongBytes?: number;
  /** 100 ms. How often to retry opening the path after it disappeared. */
  reopenMs?: number;
  /** 115200. Baud rate (a pty ignores it). */
  baudRate?: number;
}

/** One bad line that was sent. */
export interface VirtualLinesBadLine {
  /** The good line j it follows. */
  readonly after: number;
  readonly kind: VirtualLinesBadKind;
  /** Its first bytes (up to 64, without the eol): enough for the reader's excerpt. */
  readonly head: Uint8Array;
  /** Its length in bytes (without the eol). */
  readonly length: number;
}

/** What a virtual sensor did. */
export interface VirtualLinesStats {
  /** Good lines written. */
  sent: number;
  /** Good lines generated while the port was closed or the reader was not reading (lost, not faults). */
  unsent: number;
  /** Bad lines written, in order. */
  bad: VirtualLinesBadLine[];
  /** Header lines written. */
  headers: number;
  /** Times the port was opened. */
  opens: number;
}

/** The documented defaults of `VirtualLinesOptions`. */
export const DEFAULT_VIRTUAL_LINES_OPTIONS: Readonly<Required<Omit<VirtualLinesOptions, 'path'>>> = Object.freeze({
  columns: 4, rate: 100, seed: 0, tickMs: 10, separator: 'comma', eol: '\r\n', header: true, time: 'none',
  badEvery: 0, badKinds: VIRTUAL_LINES_BAD_KINDS, overlongBytes: 5000, reopenMs: 100, baudRate: 115200,
});

const SEPARATORS = { comma: ',', semicolon: ';', tab: '\t', space: ' ' } as const;
const NOT_NUMBERS = ['nan', 'inf', 'ovf', '1.2.3', '0x1F', '--1', '12a', '-'] as const;

/** The deterministic signal of a virtual sensor: the exact value of column c at line j. */
export class VirtualLinesSignal {
  private readonly amp: Float64Array;
  private readonly omega: Float64Array;
  private readonly phase: Float64Array;

  /** @param seed the sensor's seed; @param columns values per line */
  constructor(seed: number, readonly columns: number) {
    const rng = new Rng(seed);
    this.amp = new Float64Array(columns);
    this.omega = new Float64Array(columns);
    this.phase = new Float64Array(columns);
    for (let c = 0; c < columns; c++) {
      this.amp[c] = 10 ** (c % 5) * (1 + rng.uniform()); // 1 … 20000: short and long numbers
      this.omega[c] = 2 * Math.PI * (0.002 + 0.05 * rng.uniform());
      this.phase[c] = 2 * Math.PI * rng.uniform();
    }
  }

  /** Column `c` (0-based) at line `j`: a multiple of 0.001, as printed. */
  value(c: number, j: number): number {
    return Math.round(this.amp[c]! * Math.sin(this.omega[c]! * j + this.phase[c]!) * 1000) / 1000;
  }
}

/**
 * A virtual line-protocol sensor serving a serial path. Create with `VirtualLines.start(options)`;
 * `close()` when done.
 *
 * @example
 * const sensor = await VirtualLines.start({ path: '/tmp/lines-board', columns: 4, rate: 500, badEvery: 20 });
 * // … linesSource('lines:/tmp/lines-host?columns=4&rate=500') …
 * sensor.stats().bad; // which bad lines were sent, after which good line
 * await sensor.close();
 */
export class VirtualLines {
  readonly options: Readonly<Required<VirtualLinesOptions>>;
  readonly signal: VirtualLinesSignal;
  private readonly link: VirtualPort;
  private ticker: ReturnType<typeof setInterval> | undefined;
  private startedAt = 0;
  private j = 0; // lines generated since start
  private columnFaults = 0; // column-count bad lines so far (they alternate: one missing, one extra)
  private readonly rng: Rng;
  private readonly s: VirtualLinesStats = { sent: 0, unsent: 0, bad: [], headers: 0, opens: 0 };

  private constructor(options: VirtualLinesOptions) {
    this.options = Object.freeze(resolveOptions(options));
    this.signal = new VirtualLinesSignal(this.options.seed, this.options.columns);
    this.rng = new Rng(this.options.seed + 1);
    this.link = new VirtualPort(this.options, (port) => {
      this.s.opens++;
      if (this.options.header) {
        this.s.headers++;
        port.write(this.headerLine() + this.options.eol);
      }
    });
  }

  /** Opens `options.path` and starts sending; rejects if the path cannot be opened. */
  static async start(options: VirtualLinesOptions): Promise<VirtualLines> {
    const sensor = new VirtualLines(options);
    await sensor.link.start();
    sensor.startedAt = performance.now();
    sensor.ticker = setInterval(() => sensor.tick(), sensor.options.tickMs);
    return sensor;
  }

  /** A copy of what the sensor did. */
  stats(): VirtualLinesStats {
    return { ...this.s, bad: [...this.s.bad] };
  }

  /** The text of good line j (without the eol), as sent. */
  line(j: number): string {
    const o = this.options;
    const sep = SEPARATORS[o.separator];
    const fields: string[] = [];
    if (o.time !== 'none') fields.push(String(o.time === 'ms' ? (j * 1000) / o.rate : j / o.rate));
    for (let c = 0; c < o.columns; c++) fields.push(String(this.signal.value(c, j)));
    return fields.join(sep);
  }

  /** The header line (without the eol). */
  headerLine(): string {
    const o = this.options;
    const labels = Array.from({ length: o.columns }, (_, c) => `ch${c + 1}`);
    if (o.time !== 'none') labels.unshift(`time_${o.time}`);
    return labels.join(SEPARATORS[o.separator]);
  }

  /**
   * Closes the port as a powered-off sensor would go silent (it keeps sampling), and reopens it
   * after `ms` (undefined: stays closed until `reconnect()`).
   */
  async disconnect(ms?: number): Promise<void> {
    await this.link.disconnect(ms);
  }

  /** Reopens the port after `disconnect()` (retrying every reopenMs until the path is there). */
  async reconnect(): Promise<void> {
    await this.link.reconnect();
  }

  /** Stops everything and closes the port. */
  async close(): Promise<void> {
    clearInterval(this.ticker);
    await this.link.close();
  }

  /** The open port, or undefined while disconnected. */
  private get port(): SerialPort | undefined {
    return this.link.port;
  }

  /** Sends the lines due since the last tick, with the bad lines. */
  private tick(): void {
    const o = this.options;
    const due = Math.min(Math.floor(((performance.now() - this.startedAt) * o.rate) / 1000) - this.j, Math.ceil(o.rate));
    if (due <= 0) return;
    const port = this.port;
    // Nobody can take it (port closed, or the reader stopped reading: the pty is full).
    const writable = port !== undefined && port.isOpen && port.writableLength <= 65536;
    const parts: Buffer[] = [];
    let text = '';
    for (let i = 0; i < due; i++) {
      const j = this.j++;
      if (!writable) continue;
      text += this.line(j) + o.eol;
      if (o.badEvery > 0 && (j + 1) % o.badEvery === 0) {
        const kind = o.badKinds[((j + 1) / o.badEvery - 1) % o.badKinds.length]!;
        const bad = this.badLine(kind, j);
        this.s.bad.push({ after: j, kind, head: bad.subarray(0, 64), length: bad.length });
        parts.push(Buffer.from(text, 'latin1'), bad, Buffer.from(o.eol, 'latin1'));
        text = '';
      }
    }
    if (!writable) {
      this.s.unsent += due;
      return;
    }
    parts.push(Buffer.from(text, 'latin1'));
    this.s.sent += due;
    port.write(Buffer.concat(parts));
  }

  /** The bytes of a bad line of `kind` after good line j (without the eol). */
  private badLine(kind: VirtualLinesBadKind, j: number): Buffer {
    const o = this.options;
    const sep = SEPARATORS[o.separator];
    const fields = this.line(j).split(sep);
    switch (kind) {
      case 'not-numeric': {
        const first = o.time === 'none' ? 0 : 1; // a bad value, not a bad time
        fields[first + this.rng.int(o.columns)] = NOT_NUMBERS[this.rng.int(NOT_NUMBERS.length)]!;
        return Buffer.from(fields.join(sep), 'latin1');
      }
      case 'column-count':
        if (this.columnFaults++ % 2 === 0 && fields.length > 1) fields.pop();
        else fields.push(String(this.signal.value(0, j + 1)));
        return Buffer.from(fields.join(sep), 'latin1');
      case 'not-text': {
        const bytes = Buffer.alloc(8 + this.rng.int(17));
        bytes[0] = 0xff;
        for (let i = 1; i < bytes.length; i++) bytes[i] = 0x80 + this.rng.int(128);
        return bytes;
      }
      case 'overlong': {
        const bytes = Buffer.alloc(o.overlongBytes);
        for (let i = 0; i < bytes.length; i++) bytes[i] = 48 + (i % 10);
        return bytes;
      }
    }
  }
}

function resolveOptions(options: VirtualLinesOptions): Required<VirtualLinesOptions> {
  const owner = 'VirtualLines';
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError(owner, 'options', 'an object', options);
  const o = { ...DEFAULT_VIRTUAL_LINES_OPTIONS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as Required<VirtualLinesOptions>;
  if (typeof o.path !== 'string' || o.path === '') throw new InvalidOptionError(owner, 'path', 'a serial path', o.path);
  if (!Number.isInteger(o.columns) || o.columns < 1 || o.columns > 1024) throw new InvalidOptionError(owner, 'columns', 'an integer in [1, 1024]', o.columns);
  if (!(o.rate > 0 && o.rate <= 100_000)) throw new InvalidOptionError(owner, 'rate', 'lines per second in (0, 100000]', o.rate);
  if (!Number.isInteger(o.seed)) throw new InvalidOptionError(owner, 'seed', 'an integer', o.seed);
  if (!(o.tickMs >= 1 && o.tickMs <= 1000)) throw new InvalidOptionError(owner, 'tickMs', 'ms in [1, 1000]', o.tickMs);
  if (!(o.separator in SEPARATORS)) throw new InvalidOptionError(owner, 'separator', 'comma, semicolon, tab or space', o.separator);
  if (o.eol !== '\r\n' && o.eol !== '\n') throw new InvalidOptionError(owner, 'eol', "'\\r\\n' or '\\n'", o.eol);
  if (typeof o.header !== 'boolean') throw new InvalidOptionError(owner, 'header', 'true or false', o.header);
  if (o.time !== 'none' && o.time !== 's' && o.time !== 'ms') throw new InvalidOptionError(owner, 'time', "'none', 's' or 'ms'", o.time);
  if (!Number.isInteger(o.badEvery) || o.badEvery < 0) throw new InvalidOptionError(owner, 'badEvery', 'an integer ≥ 0 (0 = off)', o.badEvery);
  if (!Array.isArray(o.badKinds) || o.badKinds.length === 0 || o.badKinds.some((k) => !VIRTUAL_LINES_BAD_KINDS.includes(k))) {
    throw new InvalidOptionError(owner, 'badKinds', `a non-empty array of ${VIRTUAL_LINES_BAD_KINDS.join(', ')}`, o.badKinds);
  }
  if (!Number.isInteger(o.overlongBytes) || o.overlongBytes < 1) throw new InvalidOptionError(owner, 'overlongBytes', 'an integer ≥ 1', o.overlongBytes);
  if (!(o.reopenMs >= 1)) throw new InvalidOptionError(owner, 'reopenMs', 'ms ≥ 1', o.reopenMs);
  return { ...o, badKinds: Object.freeze([...o.badKinds]) };
}
