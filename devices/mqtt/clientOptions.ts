/**
 * The options of an MQTT connection (`MqttConnection`), in one typed object with documented
 * defaults (STYLE.md §2, §5): checked once, merged into a new frozen object, never the caller's.
 * Names follow mqtt.js where they mean the same (keepalive in seconds, connectTimeout and
 * reconnectPeriod in ms); reconnecting adds exponential backoff on top of `reconnectPeriod`.
 */
import { randomBytes } from 'node:crypto';
import { InvalidOptionError } from '../../src/errors.js';
import { checkTopicPart } from './topics.js';

/** The last will: what the broker publishes for this client when it vanishes without DISCONNECT. */
export interface MqttWill {
  /** Required. Topic of the will message. */
  topic: string;
  /** Required. Payload (text or bytes). */
  payload: string | Uint8Array;
  /** 1. QoS of the will. */
  qos?: 0 | 1 | 2;
  /** true. Retain the will (so late subscribers see it). */
  retain?: boolean;
  /** undefined. MQTT 5 only: content type of the will payload (e.g. 'text/plain'). */
  contentType?: string;
}

/** Options of `MqttConnection` / `connectMqtt`. */
export interface MqttClientOptions {
  /** Required. Broker URL: mqtt://host:port, mqtts://host:port (TLS), ws://host:port/path, wss://…; credentials in the URL are used as username/password. */
  url: string;
  /** `cfstream_<8 random hex digits>`. Client identifier (unique per broker: a second client with the same id kicks the first off). */
  clientId?: string;
  /** undefined. User name for the broker's authentication. */
  username?: string;
  /** undefined. Password for the broker's authentication. */
  password?: string;
  /** undefined. TLS (mqtts://, wss://): CA certificate(s), PEM, that sign the broker's certificate. */
  ca?: string | Uint8Array | Array<string | Uint8Array>;
  /** undefined. TLS client certificate, PEM. */
  cert?: string | Uint8Array;
  /** undefined. TLS client key, PEM. */
  key?: string | Uint8Array;
  /** true. TLS: refuse a broker whose certificate does not verify. */
  rejectUnauthorized?: boolean;
  /** 5. MQTT version to ask for first: 5, or 4 (3.1.1). */
  protocolVersion?: 4 | 5;
  /** true. With protocolVersion 5: when the broker refuses version 5 (CONNACK 'unacceptable / unsupported protocol version'), reconnect at once with 4. */
  fallback?: boolean;
  /** 30 s. Keepalive interval (PINGREQ when idle); 0 disables it. */
  keepalive?: number;
  /** 10000 ms. How long to wait for the broker's CONNACK on each attempt. */
  connectTimeout?: number;
  /** 1000 ms. Delay before the first reconnect attempt after a loss or a failed attempt; 0 = never reconnect. */
  reconnectPeriod?: number;
  /** 30000 ms. Longest reconnect delay. */
  reconnectMaxPeriod?: number;
  /** 2. Reconnect delay multiplier per failed attempt in a row (≥ 1; 1 = fixed period as in mqtt.js). */
  reconnectFactor?: number;
  /** Infinity. Failed attempts in a row after which the connection gives up (closes with an error). */
  reconnectAttempts?: number;
  /** true. Clean session (3.1.1) / clean start (5): the broker keeps no state between connections. false with a fixed clientId: a persistent session (subscriptions and queued QoS ≥ 1 messages survive a lost link and a restart of a broker with persistence). */
  clean?: boolean;
  /** 3600 s. MQTT 5 with clean false: how long the broker keeps the session after the link is lost (0xFFFFFFFF = never expires); not sent with clean true (the session ends with the connection) or on 3.1.1 (kept until a clean connect). */
  sessionExpiry?: number;
  /** undefined. The last will. */
  will?: MqttWill;
}

/** Options with every default filled in (credentials, TLS material and will stay optional). */
export type ResolvedMqttClientOptions = Readonly<
  Required<Omit<MqttClientOptions, 'username' | 'password' | 'ca' | 'cert' | 'key' | 'will'>> &
  Pick<MqttClientOptions, 'username' | 'password' | 'ca' | 'cert' | 'key'> & { will?: Readonly<Required<Omit<MqttWill, 'contentType'>> & Pick<MqttWill, 'contentType'>> }
>;

/** The documented defaults of `MqttClientOptions` (url has none; clientId is drawn per connection). */
export const DEFAULT_MQTT_CLIENT_OPTIONS = Object.freeze({
  rejectUnauthorized: true,
  protocolVersion: 5 as 4 | 5,
  fallback: true,
  keepalive: 30,
  connectTimeout: 10_000,
  reconnectPeriod: 1000,
  reconnectMaxPeriod: 30_000,
  reconnectFactor: 2,
  reconnectAttempts: Infinity,
  clean: true,
  sessionExpiry: 3600,
});

const OWNER = 'MqttConnection';
const SCHEMES = ['mqtt', 'mqtts', 'ws', 'wss'];
const KNOWN = new Set(['url', 'clientId', 'username', 'password', 'ca', 'cert', 'key', 'will', ...Object.keys(DEFAULT_MQTT_CLIENT_OPTIONS)]);

/** A fresh client id, `cfstream_` and 8 random hex digits. */
export function randomClientId(): string {
  return `cfstream_${randomBytes(4).toString('hex')}`;
}

/** Checks options, fills the defaults and takes credentials out of the URL (a new frozen object). */
export function resolveMqttClientOptions(options: MqttClientOptions, owner = OWNER): ResolvedMqttClientOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError(owner, 'options', 'an options object with a url', options);
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new InvalidOptionError(owner, key, `a known option (${[...KNOWN].join(', ')})`, (options as unknown as Record<string, unknown>)[key]);
  }
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as MqttClientOptions;
  const o = { ...DEFAULT_MQTT_CLIENT_OPTIONS, clientId: randomClientId(), ...given };
  const bad = (option: string, allowed: string, value: unknown): never => {
    throw new InvalidOptionError(owner, option, allowed, value);
  };
  // The URL: scheme and host checked here so a typo fails at once, not as an endless reconnect loop.
  let u: URL | undefined;
  try {
    u = new URL(o.url);
  } catch {
    u = undefined;
  }
  if (typeof o.url !== 'string' || !u) bad('url', 'a broker URL such as mqtt://127.0.0.1:1883', o.url);
  const url = u!;
  const scheme = url.protocol.replace(/:$/, '');
  if (!SCHEMES.includes(scheme)) bad('url', `a URL with scheme ${SCHEMES.join(', ')}`, o.url);
  if (url.hostname === '') bad('url', 'a URL with a host', o.url);
  let { username, password } = o;
  if (url.username !== '' && username === undefined) username = decodeURIComponent(url.username);
  if (url.password !== '' && password === undefined) password = decodeURIComponent(url.password);
  if (typeof o.clientId !== 'string' || o.clientId.length === 0 || o.clientId.length > 65535) bad('clientId', 'a non-empty string', o.clientId);
  if (username !== undefined && typeof username !== 'string') bad('username', 'a string', username);
  if (password !== undefined && typeof password !== 'string') bad('password', 'a string', password);
  for (const key of ['cert', 'key'] as const) {
    const v = o[key];
    if (v !== undefined && typeof v !== 'string' && !(v instanceof Uint8Array)) bad(key, 'a PEM string or Buffer', v);
  }
  if (o.ca !== undefined) {
    const list = Array.isArray(o.ca) ? o.ca : [o.ca];
    if (list.some((c) => typeof c !== 'string' && !(c instanceof Uint8Array))) bad('ca', 'a PEM string or Buffer, or an array of them', o.ca);
  }
  for (const key of ['rejectUnauthorized', 'fallback', 'clean'] as const) if (typeof o[key] !== 'boolean') bad(key, 'true or false', o[key]);
  if (o.protocolVersion !== 4 && o.protocolVersion !== 5) bad('protocolVersion', '4 (MQTT 3.1.1) or 5', o.protocolVersion);
  if (!Number.isInteger(o.keepalive) || o.keepalive < 0 || o.keepalive > 65535) bad('keepalive', 'an integer number of seconds in [0, 65535] (0 = off)', o.keepalive);
  if (!Number.isFinite(o.connectTimeout) || o.connectTimeout <= 0) bad('connectTimeout', 'a number of ms > 0', o.connectTimeout);
  if (!Number.isFinite(o.reconnectPeriod) || o.reconnectPeriod < 0) bad('reconnectPeriod', 'a number of ms ≥ 0 (0 = never reconnect)', o.reconnectPeriod);
  if (!Number.isFinite(o.reconnectMaxPeriod) || o.reconnectMaxPeriod < o.reconnectPeriod) bad('reconnectMaxPeriod', `a number of ms ≥ reconnectPeriod (${o.reconnectPeriod})`, o.reconnectMaxPeriod);
  if (!Number.isFinite(o.reconnectFactor) || o.reconnectFactor < 1) bad('reconnectFactor', 'a number ≥ 1', o.reconnectFactor);
  if (!Number.isInteger(o.sessionExpiry) || o.sessionExpiry < 0 || o.sessionExpiry > 0xffffffff) bad('sessionExpiry', 'an integer number of seconds in [0, 4294967295]', o.sessionExpiry);
  if (!(o.reconnectAttempts === Infinity || (Number.isInteger(o.reconnectAttempts) && o.reconnectAttempts >= 1))) {
    bad('reconnectAttempts', 'an integer ≥ 1 or Infinity', o.reconnectAttempts);
  }
  // Credentials never stay in the URL: it is what events and errors print.
  const out: Record<string, unknown> = { ...o, url: `${scheme}://${url.host}${url.pathname === '/' ? '' : url.pathname}${url.search}` };
  out.username = username;
  out.password = password;
  if (o.will !== undefined) out.will = Object.freeze(resolveWill(owner, o.will));
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return Object.freeze(out) as unknown as ResolvedMqttClientOptions;
}

function resolveWill(owner: string, will: MqttWill): Required<Omit<MqttWill, 'contentType'>> & Pick<MqttWill, 'contentType'> {
  if (typeof will !== 'object' || will === null) throw new InvalidOptionError(owner, 'will', 'an object { topic, payload, qos?, retain? }', will);
  checkTopicPart(owner, 'will.topic', will.topic, true);
  if (typeof will.payload !== 'string' && !(will.payload instanceof Uint8Array)) throw new InvalidOptionError(owner, 'will.payload', 'a string or bytes', will.payload);
  const qos = will.qos ?? 1;
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new InvalidOptionError(owner, 'will.qos', '0, 1 or 2', qos);
  const retain = will.retain ?? true;
  if (typeof retain !== 'boolean') throw new InvalidOptionError(owner, 'will.retain', 'true or false', retain);
  if (will.contentType !== undefined && typeof will.contentType !== 'string') throw new InvalidOptionError(owner, 'will.contentType', 'a string', will.contentType);
  const out: Required<Omit<MqttWill, 'contentType'>> & Pick<MqttWill, 'contentType'> = { topic: will.topic, payload: will.payload, qos, retain };
  if (will.contentType !== undefined) out.contentType = will.contentType;
  return out;
}
