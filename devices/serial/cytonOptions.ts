/**
 * Options of a Cyton source and the `cyton:` source URI (ARCHITECTURE.md, "Interfaces"):
 *
 * ```
 * cyton:<serial path>[?daisy=1&baud=115200&gain=24]
 * cyton:/dev/ttyUSB0                       8 channels, 250 Hz, gain 24
 * cyton:/dev/ttyUSB0?daisy=1&gain=12       16 channels, 125 Hz, gain 12 on all
 * cyton:COM3?gain=24,24,24,24,12,12,12,12  one gain per channel
 * ```
 *
 * Every bad part is named in the error (an InvalidOptionError whose `option` is the query key).
 */
import { InvalidOptionError } from '../../src/errors.js';
import { CYTON_CHANNELS, CYTON_DEFAULT_GAIN, resolveCytonGains } from './cytonPacket.js';
import { uniqueQueryParts } from './uriQuery.js';
import { checkSourceReconnectOptions, DEFAULT_SOURCE_RECONNECT_OPTIONS, type SourceReconnectOptions } from './reconnect.js';

/** Options of `cytonSource`. */
export interface CytonSourceOptions extends SourceReconnectOptions {
  /** Required. Serial device of the dongle, e.g. /dev/ttyUSB0 (macOS /dev/cu.usbserial-…, Windows COM3). */
  path: string;
  /** false. True for a Cyton with the Daisy: 16 channels at 125 Hz. */
  daisy?: boolean;
  /** 115200. Baud rate (the dongle also runs at 230400 or 921600 once switched; a pty ignores it). */
  baudRate?: number;
  /** 24. Channel gain as set on the board (1, 2, 4, 6, 8, 12, 24), or one per channel (8, or 16 with the Daisy). */
  gain?: number | readonly number[];
  /** `cyton:<path>`. The stream id in `info`. */
  id?: string;
  /** 3000 ms. How long to wait for the `$$$` that ends the board's reply to `v`. */
  handshakeTimeoutMs?: number;
  /** 2000 ms. No byte for this long while streaming means the link is dead (board off, radio lost): reconnect. 0 = never. */
  stallTimeoutMs?: number;
  /** `(performance.timeOrigin + performance.now()) / 1000`: Unix seconds, sub-ms, monotonic within the process. Host clock that stamps receipt and anchors `t`. */
  now?: () => number;
}

/** Options with every default filled in. */
export type ResolvedCytonOptions = Required<Omit<CytonSourceOptions, 'gain'>> & { gain: readonly number[] };

/** The documented defaults of `CytonSourceOptions` (path and id have none; id derives from path). */
export const DEFAULT_CYTON_SOURCE_OPTIONS: Readonly<Omit<ResolvedCytonOptions, 'path' | 'id' | 'gain'> & { gain: number }> = Object.freeze({
  daisy: false,
  baudRate: 115200,
  gain: CYTON_DEFAULT_GAIN,
  handshakeTimeoutMs: 3000,
  stallTimeoutMs: 2000,
  ...DEFAULT_SOURCE_RECONNECT_OPTIONS,
  now: () => (performance.timeOrigin + performance.now()) / 1000,
});

const OWNER = 'cytonSource';
const URI_FORM = 'cyton:<serial path>[?daisy=1&baud=115200&gain=24]';
const KNOWN = new Set<string>(['path', ...Object.keys(DEFAULT_CYTON_SOURCE_OPTIONS), 'id']);

/** Checks options and fills in the defaults (a new object; the caller's is not touched). */
export function resolveCytonOptions(options: CytonSourceOptions): ResolvedCytonOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError(OWNER, 'options', `an options object or a URI ${URI_FORM}`, options);
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new InvalidOptionError(OWNER, key, `a known option (${[...KNOWN].join(', ')})`, (options as unknown as Record<string, unknown>)[key]);
  }
  const o = { ...DEFAULT_CYTON_SOURCE_OPTIONS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as CytonSourceOptions & typeof DEFAULT_CYTON_SOURCE_OPTIONS;
  if (typeof o.path !== 'string' || o.path.length === 0) throw new InvalidOptionError(OWNER, 'path', 'a non-empty serial device path', o.path);
  if (typeof o.daisy !== 'boolean') throw new InvalidOptionError(OWNER, 'daisy', 'true or false', o.daisy);
  if (!Number.isInteger(o.baudRate) || o.baudRate < 1) throw new InvalidOptionError(OWNER, 'baudRate', 'a positive integer (115200, 230400, 921600)', o.baudRate);
  const gain = resolveCytonGains(OWNER, o.gain, o.daisy ? 2 * CYTON_CHANNELS : CYTON_CHANNELS);
  const id = o.id ?? `cyton:${o.path}`;
  if (typeof id !== 'string' || id.length === 0) throw new InvalidOptionError(OWNER, 'id', 'a non-empty string', id);
  for (const key of ['handshakeTimeoutMs', 'stallTimeoutMs'] as const) {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (key === 'handshakeTimeoutMs' && v === 0)) {
      throw new InvalidOptionError(OWNER, key, key === 'stallTimeoutMs' ? 'a number of ms ≥ 0 (0 = never)' : 'a number of ms > 0', v);
    }
  }
  if (typeof o.now !== 'function') throw new InvalidOptionError(OWNER, 'now', 'a function returning seconds', o.now);
  checkSourceReconnectOptions(OWNER, o);
  return { ...o, id, gain };
}

/**
 * Parses a `cyton:` URI into source options.
 * @param uri `cyton:<serial path>[?daisy=1&baud=115200&gain=24]`; gain may be one value or a
 *   comma-separated list, one per channel
 * @throws InvalidOptionError naming the bad part (the scheme, the path, or the query key)
 */
export function parseCytonUri(uri: string): CytonSourceOptions {
  if (typeof uri !== 'string' || !uri.startsWith('cyton:')) throw new InvalidOptionError(OWNER, 'uri', `of the form ${URI_FORM}`, uri);
  const rest = uri.slice('cyton:'.length);
  const q = rest.indexOf('?');
  const path = decodeURIComponent(q < 0 ? rest : rest.slice(0, q));
  if (path.length === 0) throw new InvalidOptionError(`${OWNER} URI ${JSON.stringify(uri)}`, 'path', `a serial device path after 'cyton:' (${URI_FORM})`, path);
  const out: CytonSourceOptions = { path };
  if (q < 0) return out;
  const owner = `${OWNER} URI ${JSON.stringify(uri)}`;
  for (const [key, value] of uniqueQueryParts(owner, rest.slice(q + 1))) {
    switch (key) {
      case 'daisy':
        if (!['0', '1', 'true', 'false'].includes(value)) throw new InvalidOptionError(owner, 'daisy', '0 or 1', value);
        out.daisy = value === '1' || value === 'true';
        break;
      case 'baud': {
        const b = Number(value);
        if (!/^\d+$/.test(value) || !Number.isSafeInteger(b) || b < 1) throw new InvalidOptionError(owner, 'baud', 'a positive integer (115200, 230400, 921600)', value);
        out.baudRate = b;
        break;
      }
      case 'gain': {
        const gains = value.split(',').map((g) => (/^\d+$/.test(g.trim()) ? Number(g) : NaN));
        const bad = gains.findIndex((g) => !Number.isFinite(g));
        if (value === '' || bad >= 0) throw new InvalidOptionError(owner, 'gain', 'a gain (1, 2, 4, 6, 8, 12, 24) or a comma-separated list of them', value);
        out.gain = gains.length === 1 ? gains[0]! : gains;
        break;
      }
      default:
        throw new InvalidOptionError(owner, key, 'one of daisy, baud, gain', value);
    }
  }
  if (out.gain !== undefined) resolveCytonGains(owner, out.gain, out.daisy ? 2 * CYTON_CHANNELS : CYTON_CHANNELS);
  return out;
}
