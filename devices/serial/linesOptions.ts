/**
 * Options of a line-protocol source and the `lines:` source URI (ARCHITECTURE.md, "Interfaces"):
 *
 * ```
 * lines:<serial path>?columns=8&rate=250[&baud=115200&sep=auto|comma|space|tab|semicolon&time=none|first&timeUnit=s|ms&id=…&labels=a,b,c&firstLine=suspect|trust]
 * lines:/dev/ttyACM0?columns=3&rate=100                    3 values a line, t = seq / 100
 * lines:/dev/ttyUSB0?columns=4&time=first&timeUnit=ms      the first field is millis(), rate irregular
 * lines:COM4?columns=2&rate=10&sep=tab&labels=temp,hum     tab-separated, labelled
 * ```
 *
 * Every bad part is named in the error (an InvalidOptionError whose `option` is the query key).
 */
import { InvalidOptionError } from '../../src/errors.js';
import { DEFAULT_LINE_PARSER_OPTIONS, resolveLineParserOptions, type LineSeparator, type LineTimeColumn, type LineTimeUnit } from './lineParser.js';
import { uniqueQueryParts } from './uriQuery.js';
import { checkSourceReconnectOptions, DEFAULT_SOURCE_RECONNECT_OPTIONS, type SourceReconnectOptions } from './reconnect.js';

/** Options of `linesSource`. */
export interface LinesSourceOptions extends SourceReconnectOptions {
  /** Required. Serial device, e.g. /dev/ttyACM0 (macOS /dev/cu.usbmodem…, Windows COM4). */
  path: string;
  /** Required. Values per line (integer ≥ 1), not counting a time column; the stream's n. */
  columns: number;
  /** 0. Nominal lines per second (`info.rate`); required (> 0) without a time column, where t = seq / rate. */
  rate?: number;
  /** 115200. Baud rate (a pty ignores it). */
  baudRate?: number;
  /** 'auto'. Field separator: 'comma', 'semicolon', 'tab', 'space' (runs of spaces), or 'auto' per line. */
  separator?: LineSeparator;
  /** 'none'. 'first': the first field is the sample time (t), in `timeUnit`. */
  time?: LineTimeColumn;
  /** 's'. Unit of the time column: 's' or 'ms' (e.g. Arduino millis()). */
  timeUnit?: LineTimeUnit;
  /** 4096 bytes. Longest line; longer ones are rejected and dropped up to the next newline. */
  maxLineBytes?: number;
  /**
   * 'suspect'. The first line after each (re)connect may start in the middle of a line (the device
   * was already sending; serialport flushes what came before the open), and cut inside its first
   * field it still looks like data: it is taken only as a header, else rejected as `partial`.
   * 'trust' for devices that restart when the port opens (Arduino Uno/Nano auto-reset), whose first
   * line is always whole.
   */
  firstLine?: 'suspect' | 'trust';
  /** undefined. Labels of the columns (`info.labels`), `columns` of them; a header line from the device is reported either way. */
  labels?: readonly string[];
  /** `lines:<path>`. The stream id in `info`. */
  id?: string;
  /** max(2000, 5 line periods) ms, 10000 ms when rate is 0. No byte for this long means the link is dead: reconnect. 0 = never. */
  stallTimeoutMs?: number;
  /** `(performance.timeOrigin + performance.now()) / 1000`: Unix seconds. Host clock for `hostT` and for estimating lines lost across a reconnect. */
  now?: () => number;
}

/** Options with every default filled in. */
export type ResolvedLinesOptions = Required<Omit<LinesSourceOptions, 'labels'>> & { labels: readonly string[] | undefined };

/** The documented defaults of `LinesSourceOptions` (path, columns and id have none; stallTimeoutMs derives from rate). */
export const DEFAULT_LINES_SOURCE_OPTIONS: Readonly<Omit<ResolvedLinesOptions, 'path' | 'columns' | 'id' | 'labels' | 'stallTimeoutMs'>> = Object.freeze({
  rate: DEFAULT_LINE_PARSER_OPTIONS.rate,
  baudRate: 115200,
  separator: DEFAULT_LINE_PARSER_OPTIONS.separator,
  time: DEFAULT_LINE_PARSER_OPTIONS.time,
  timeUnit: DEFAULT_LINE_PARSER_OPTIONS.timeUnit,
  maxLineBytes: DEFAULT_LINE_PARSER_OPTIONS.maxLineBytes,
  firstLine: 'suspect',
  ...DEFAULT_SOURCE_RECONNECT_OPTIONS,
  now: () => (performance.timeOrigin + performance.now()) / 1000,
});

const OWNER = 'linesSource';
const URI_FORM = 'lines:<serial path>?columns=8&rate=250[&baud=115200&sep=auto&time=none&timeUnit=s&id=…&labels=a,b,c]';
const KNOWN = new Set<string>(['path', 'columns', ...Object.keys(DEFAULT_LINES_SOURCE_OPTIONS), 'labels', 'id', 'stallTimeoutMs']);
const URI_KEYS = ['columns', 'rate', 'baud', 'sep', 'time', 'timeUnit', 'id', 'labels', 'firstLine'] as const;

/** The default stall timeout: a sensor at its nominal rate is never mistaken for a dead link. */
export function defaultLinesStallTimeoutMs(rate: number): number {
  return rate > 0 ? Math.max(2000, Math.ceil(5000 / rate)) : 10000;
}

/** Checks options and fills in the defaults (a new object; the caller's is not touched). */
export function resolveLinesOptions(options: LinesSourceOptions): ResolvedLinesOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError(OWNER, 'options', `an options object or a URI ${URI_FORM}`, options);
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new InvalidOptionError(OWNER, key, `a known option (${[...KNOWN].join(', ')})`, (options as unknown as Record<string, unknown>)[key]);
  }
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as LinesSourceOptions;
  const o = { ...DEFAULT_LINES_SOURCE_OPTIONS, ...given };
  if (typeof o.path !== 'string' || o.path.length === 0) throw new InvalidOptionError(OWNER, 'path', 'a non-empty serial device path', o.path);
  if (o.columns === undefined) throw new InvalidOptionError(OWNER, 'columns', 'given: the number of values per line', o.columns);
  resolveLineParserOptions(OWNER, { columns: o.columns, rate: o.rate, separator: o.separator, time: o.time, timeUnit: o.timeUnit, maxLineBytes: o.maxLineBytes });
  if (o.firstLine !== 'suspect' && o.firstLine !== 'trust') throw new InvalidOptionError(OWNER, 'firstLine', "'suspect' or 'trust'", o.firstLine);
  if (!Number.isInteger(o.baudRate) || o.baudRate < 1) throw new InvalidOptionError(OWNER, 'baudRate', 'a positive integer (9600, 115200, …)', o.baudRate);
  let labels: readonly string[] | undefined;
  if (o.labels !== undefined) {
    if (!Array.isArray(o.labels) || o.labels.length !== o.columns || o.labels.some((l) => typeof l !== 'string')) {
      throw new InvalidOptionError(OWNER, 'labels', `an array of ${o.columns} strings (one per column)`, o.labels);
    }
    labels = Object.freeze([...o.labels]);
  }
  const id = o.id ?? `lines:${o.path}`;
  if (typeof id !== 'string' || id.length === 0) throw new InvalidOptionError(OWNER, 'id', 'a non-empty string', id);
  const stallTimeoutMs = o.stallTimeoutMs ?? defaultLinesStallTimeoutMs(o.rate);
  if (typeof stallTimeoutMs !== 'number' || !Number.isFinite(stallTimeoutMs) || stallTimeoutMs < 0) throw new InvalidOptionError(OWNER, 'stallTimeoutMs', 'a number of ms ≥ 0 (0 = never)', stallTimeoutMs);
  if (typeof o.now !== 'function') throw new InvalidOptionError(OWNER, 'now', 'a function returning seconds', o.now);
  checkSourceReconnectOptions(OWNER, o);
  return { ...o, columns: o.columns, id, labels, stallTimeoutMs };
}

/**
 * Parses a `lines:` URI into source options.
 * @param uri `lines:<serial path>?columns=8&rate=250[&baud=…&sep=…&time=…&timeUnit=…&id=…&labels=…]`
 * @throws InvalidOptionError naming the bad part (the scheme, the path, or the query key)
 */
export function parseLinesUri(uri: string): LinesSourceOptions {
  if (typeof uri !== 'string' || !uri.startsWith('lines:')) throw new InvalidOptionError(OWNER, 'uri', `of the form ${URI_FORM}`, uri);
  const owner = `${OWNER} URI ${JSON.stringify(uri)}`;
  const rest = uri.slice('lines:'.length);
  const q = rest.indexOf('?');
  const path = decodeURIComponent(q < 0 ? rest : rest.slice(0, q));
  if (path.length === 0) throw new InvalidOptionError(owner, 'path', `a serial device path after 'lines:' (${URI_FORM})`, path);
  const out: Partial<LinesSourceOptions> & { path: string } = { path };
  for (const [key, value] of uniqueQueryParts(owner, q < 0 ? '' : rest.slice(q + 1))) {
    switch (key) {
      case 'columns':
        if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 65536) throw new InvalidOptionError(owner, 'columns', 'an integer in [1, 65536]', value);
        out.columns = Number(value);
        break;
      case 'rate': {
        const r = Number(value);
        if (!/^\d*\.?\d+(e[+-]?\d+)?$/i.test(value) || !Number.isFinite(r)) throw new InvalidOptionError(owner, 'rate', 'lines per second, a number ≥ 0 (0 = irregular)', value);
        out.rate = r;
        break;
      }
      case 'baud': {
        const b = Number(value);
        if (!/^\d+$/.test(value) || !Number.isSafeInteger(b) || b < 1) throw new InvalidOptionError(owner, 'baud', 'a positive integer (9600, 115200, …)', value);
        out.baudRate = b;
        break;
      }
      case 'sep':
        if (!['auto', 'comma', 'space', 'tab', 'semicolon'].includes(value)) throw new InvalidOptionError(owner, 'sep', 'one of auto, comma, space, tab, semicolon', value);
        out.separator = value as LineSeparator;
        break;
      case 'time':
        if (value !== 'none' && value !== 'first') throw new InvalidOptionError(owner, 'time', 'none or first', value);
        out.time = value;
        break;
      case 'timeUnit':
        if (value !== 's' && value !== 'ms') throw new InvalidOptionError(owner, 'timeUnit', 's or ms', value);
        out.timeUnit = value;
        break;
      case 'id':
        if (value === '') throw new InvalidOptionError(owner, 'id', 'a non-empty stream id', value);
        out.id = value;
        break;
      case 'firstLine':
        if (value !== 'suspect' && value !== 'trust') throw new InvalidOptionError(owner, 'firstLine', 'suspect or trust', value);
        out.firstLine = value;
        break;
      case 'labels': {
        const labels = value.split(',').map((l) => l.trim());
        if (value === '' || labels.some((l) => l === '')) throw new InvalidOptionError(owner, 'labels', 'a comma-separated list of non-empty labels', value);
        out.labels = labels;
        break;
      }
      default:
        throw new InvalidOptionError(owner, key, `one of ${URI_KEYS.join(', ')}`, value);
    }
  }
  if (out.columns === undefined) throw new InvalidOptionError(owner, 'columns', 'given: the number of values per line (columns=N)', undefined);
  if (out.labels !== undefined && out.labels.length !== out.columns) {
    throw new InvalidOptionError(owner, 'labels', `${out.columns} labels (one per column)`, out.labels.join(','));
  }
  // Cross-field rules (rate > 0 without a time column), reported against this URI.
  try {
    resolveLineParserOptions(owner, { columns: out.columns, rate: out.rate, separator: out.separator, time: out.time, timeUnit: out.timeUnit });
  } catch (e) {
    if (e instanceof InvalidOptionError && e.option === 'rate') throw new InvalidOptionError(owner, 'rate', 'lines per second > 0 when there is no time column (or time=first)', out.rate);
    throw e;
  }
  return out as LinesSourceOptions;
}
