/**
 * The MQTT topic layout of a stream (ARCHITECTURE.md, "Interfaces") and the `mqtt://` source URI.
 *
 * ```
 * <prefix>/<stream>/info         retained StreamInfo JSON
 * <prefix>/<stream>/status       retained 'online' / 'offline' (also the will)
 * <prefix>/<stream>/frames       CFSB binary batches, or JSON {seq, t, values}
 * <prefix>/<stream>/factors      retained FactorsMessage JSON
 * <prefix>/<stream>/activations  JSON
 * <prefix>/<stream>/metrics      JSON
 *
 * mqtt://host:1883/cfstream/eeg1            the stream whose topics start with cfstream/eeg1/
 * mqtt://host:1883/cfstream/eeg1/frames     the same (a trailing /frames is accepted)
 * mqtts://user:pass@host:8883/lab/eeg1?qos=1&protocol=4&pending=64
 * ```
 */
import { InvalidOptionError } from '../../src/errors.js';

/** The default topic prefix. */
export const DEFAULT_TOPIC_PREFIX = 'cfstream';

/** The topics of one stream. */
export interface StreamTopics {
  /** `<prefix>/<stream>`, the base every topic below extends. */
  readonly base: string;
  readonly info: string;
  readonly status: string;
  readonly frames: string;
  readonly factors: string;
  readonly activations: string;
  readonly metrics: string;
}

/** The suffixes of a stream's topics. */
export const STREAM_TOPIC_SUFFIXES = Object.freeze(['info', 'status', 'frames', 'factors', 'activations', 'metrics'] as const);

/** Builds the topics of `<prefix>/<stream>`; both must be non-empty topic levels without wildcards (InvalidOptionError). */
export function streamTopics(prefix: string, stream: string, owner = 'streamTopics'): StreamTopics {
  checkTopicPart(owner, 'prefix', prefix, true);
  checkTopicPart(owner, 'stream', stream, false);
  const base = `${prefix}/${stream}`;
  return Object.freeze({
    base, info: `${base}/info`, status: `${base}/status`, frames: `${base}/frames`,
    factors: `${base}/factors`, activations: `${base}/activations`, metrics: `${base}/metrics`,
  });
}

/** A topic-safe stream segment for a StreamInfo id: characters outside [A-Za-z0-9_.:-] become '_' ('cyton:/dev/ttyUSB0' → 'cyton:_dev_ttyUSB0'). */
export function topicSegment(id: string): string {
  return id.replace(/[^A-Za-z0-9_.:-]/g, '_');
}

/**
 * Checks one part of a topic name: non-empty, no MQTT wildcards (+ #), no NUL, no leading or
 * trailing '/'; a stream is one level (no '/'), a prefix may have several.
 */
export function checkTopicPart(owner: string, option: string, value: unknown, multiLevel: boolean): asserts value is string {
  const allowed = multiLevel
    ? "a non-empty topic (levels separated by '/', no '+', '#', NUL, leading or trailing '/')"
    : "a non-empty topic level (no '/', '+', '#' or NUL)";
  if (typeof value !== 'string' || value.length === 0 || /[+#\0]/.test(value)) throw new InvalidOptionError(owner, option, allowed, value);
  if (multiLevel ? value.startsWith('/') || value.endsWith('/') || value.includes('//') : value.includes('/')) {
    throw new InvalidOptionError(owner, option, allowed, value);
  }
}

/** What an `mqtt://` source URI says. */
export interface MqttSourceUri {
  /** The broker URL without path, query or credentials (e.g. mqtt://host:1883, ws://host:9001/mqtt for WebSocket). */
  url: string;
  /** The stream's topic base `<prefix>/<stream>`. */
  base: string;
  username?: string;
  password?: string;
  /** From `?qos=`. */
  qos?: 0 | 1;
  /** From `?protocol=` (4 or 5). */
  protocolVersion?: 4 | 5;
  /** From `?pending=`. */
  pendingMessages?: number;
}

const URI_FORM = 'mqtt[s]://[user:pass@]host[:port]/<prefix>/<stream>[?qos=0|1&protocol=4|5&pending=N] (ws[s]://…?topic=<prefix>/<stream>)';

/**
 * Parses a source URI. For mqtt:// and mqtts:// the path is the topic base; ws:// and wss:// keep
 * their path for the WebSocket endpoint, so the base comes from `?topic=`.
 * @throws InvalidOptionError naming the bad part
 */
export function parseMqttSourceUri(uri: string): MqttSourceUri {
  const owner = `mqttSource URI ${JSON.stringify(uri)}`;
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    throw new InvalidOptionError('mqttSource', 'uri', `of the form ${URI_FORM}`, uri);
  }
  const scheme = u.protocol.replace(/:$/, '');
  if (!['mqtt', 'mqtts', 'ws', 'wss'].includes(scheme)) throw new InvalidOptionError(owner, 'scheme', 'mqtt, mqtts, ws or wss', scheme);
  if (u.hostname === '') throw new InvalidOptionError(owner, 'host', 'a broker host name or address', '');
  const ws = scheme === 'ws' || scheme === 'wss';
  const query = new Map<string, string>();
  for (const [k, v] of u.searchParams) {
    if (query.has(k)) throw new InvalidOptionError(owner, k, 'given once', v);
    query.set(k, v);
  }
  let base = ws ? query.get('topic') ?? '' : decodeURIComponent(u.pathname.replace(/^\//, ''));
  query.delete('topic');
  if (base.endsWith('/frames')) base = base.slice(0, -'/frames'.length);
  if (base === '') throw new InvalidOptionError(owner, ws ? 'topic' : 'path', 'the stream topic <prefix>/<stream>', base);
  const slash = base.lastIndexOf('/');
  if (slash <= 0) throw new InvalidOptionError(owner, ws ? 'topic' : 'path', 'the stream topic <prefix>/<stream> (two or more levels)', base);
  checkTopicPart(owner, 'prefix', base.slice(0, slash), true);
  checkTopicPart(owner, 'stream', base.slice(slash + 1), false);
  const out: MqttSourceUri = { url: `${scheme}://${u.host}${ws ? u.pathname : ''}`, base };
  if (u.username !== '') out.username = decodeURIComponent(u.username);
  if (u.password !== '') out.password = decodeURIComponent(u.password);
  for (const [key, value] of query) {
    switch (key) {
      case 'qos':
        if (value !== '0' && value !== '1') throw new InvalidOptionError(owner, 'qos', '0 or 1', value);
        out.qos = value === '1' ? 1 : 0;
        break;
      case 'protocol':
        if (value !== '4' && value !== '5') throw new InvalidOptionError(owner, 'protocol', '4 (MQTT 3.1.1) or 5', value);
        out.protocolVersion = value === '5' ? 5 : 4;
        break;
      case 'pending': {
        const n = Number(value);
        if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidOptionError(owner, 'pending', 'an integer ≥ 0', value);
        out.pendingMessages = n;
        break;
      }
      default:
        throw new InvalidOptionError(owner, key, 'one of qos, protocol, pending (and topic for ws://)', value);
    }
  }
  return out;
}
