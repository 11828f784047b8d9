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
 * mqtt://host:1883/cfstream/eeg1?qos=1&session=lab-run-1&stale=2000&queue=1024
 * ```
 *
 * Query: `qos` (0 | 1) of the frames subscription; `protocol` (4 | 5); `pending` frame messages
 * held before the info; `session=<client id>` a persistent session (that client id, clean false:
 * the broker keeps the subscription and queues QoS 1 frames while the reader is away; use with
 * qos=1); `stale` ms of silence before a 'stale' event (0 = never); `queue` frames waiting for
 * the consumer (oldest dropped, counted, when full).
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
  /** From `?session=`: the client id of a persistent session (clean false). */
  session?: string;
  /** From `?stale=` (ms). */
  staleAfterMs?: number;
  /** From `?queue=` (frames). */
  maxQueuedFrames?: number;
}

const URI_FORM = 'mqtt[s]://[user:pass@]host[:port]/<prefix>/<stream>[?qos=0|1&protocol=4|5&pending=N&session=<client id>&stale=ms&queue=N] (ws[s]://…?topic=<prefix>/<stream>)';

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
      case 'pending':
        out.pendingMessages = uriInteger(owner, key, value, 0);
        break;
      case 'stale':
        out.staleAfterMs = uriInteger(owner, key, value, 0);
        break;
      case 'queue':
        out.maxQueuedFrames = uriInteger(owner, key, value, 1);
        break;
      case 'session':
        if (value === '' || value.length > 65535) throw new InvalidOptionError(owner, 'session', 'a client id (1 to 65535 characters)', value);
        out.session = value;
        break;
      default:
        throw new InvalidOptionError(owner, key, 'one of qos, protocol, pending, session, stale, queue (and topic for ws://)', value);
    }
  }
  return out;
}

function uriInteger(owner: string, key: string, value: string, min: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) throw new InvalidOptionError(owner, key, `an integer ≥ ${min}`, value);
  return n;
}

/**
 * True when `topic` matches the subscription `filter` (MQTT 3.1.1 §4.7): '+' matches one level,
 * a trailing '#' any number of levels including none ('a/#' matches 'a'); wildcards at the first
 * level do not match topics starting with '$' ($SYS/…).
 */
export function topicMatches(filter: string, topic: string): boolean {
  if (filter === topic) return true;
  if (!isWildcardFilter(filter)) return false;
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i]!;
    if (level === '#') return true;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/** True when a subscription filter has a wildcard ('+' or '#'). */
export function isWildcardFilter(filter: string): boolean {
  return filter.includes('+') || filter.includes('#');
}
