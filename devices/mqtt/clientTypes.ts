/** The typed surface of `MqttConnection`: its events, messages, publish options, totals and errors. */

/** The broker accepted the connection; `attempt` is 0 for a first try that worked, else the failed attempts before it. */
export interface MqttConnectEvent { readonly type: 'connect'; readonly url: string; readonly protocolVersion: 4 | 5; readonly attempt: number; readonly sessionPresent: boolean }
/** The broker refused MQTT 5; the next attempt (at once) uses 3.1.1. */
export interface MqttFallbackEvent { readonly type: 'fallback'; readonly url: string; readonly from: 5; readonly to: 4; readonly reason: string }
/** A live connection was lost. */
export interface MqttOfflineEvent { readonly type: 'offline'; readonly url: string; readonly reason: string }
/** A reconnect attempt is scheduled after `delayMs`; `reason` says why the link or the last attempt failed. */
export interface MqttReconnectEvent { readonly type: 'reconnect'; readonly url: string; readonly attempt: number; readonly delayMs: number; readonly reason: string }
/** mqtt.js reported an error; `fatal` when retrying cannot help (credentials, authorization, client id, ban). */
export interface MqttErrorEvent { readonly type: 'error'; readonly url: string; readonly message: string; readonly code: string | number | undefined; readonly fatal: boolean }
/** The connection is closed for good: by `close()`, refused (fatal), or reconnecting gave up / is off. */
export interface MqttCloseEvent { readonly type: 'close'; readonly url: string; readonly by: 'client' | 'refused' | 'gave-up'; readonly reason: string }

/** Everything a connection reports about its state. */
export type MqttConnectionEvent = MqttConnectEvent | MqttFallbackEvent | MqttOfflineEvent | MqttReconnectEvent | MqttErrorEvent | MqttCloseEvent;

/** Where a connection is. */
export type MqttConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** One received message; `payload` is mqtt.js's Buffer, at any byte offset (never view it as floats). */
export interface MqttMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly retain: boolean;
  readonly qos: 0 | 1 | 2;
  /** MQTT 5 publish properties (content type, message expiry, …), when the broker speaks 5. */
  readonly properties: Readonly<Record<string, unknown>> | undefined;
}

/** MQTT 5 properties this project sets on publishes (dropped on a 3.1.1 connection). */
export interface MqttPublishProperties {
  /** MIME type of the payload, e.g. 'application/json'. */
  contentType?: string;
  /** Seconds after which the broker discards the message if not yet delivered. */
  messageExpiryInterval?: number;
  /** true: the payload is UTF-8 text. */
  payloadFormatIndicator?: boolean;
  /** Free key/value pairs. */
  userProperties?: Record<string, string>;
}

/** Options of one publish. */
export interface MqttPublishOptions {
  /** 0. */
  qos?: 0 | 1 | 2;
  /** false. */
  retain?: boolean;
  /** undefined. Sent only on an MQTT 5 connection. */
  properties?: MqttPublishProperties;
}

/** Running totals of a connection. */
export interface MqttConnectionStats {
  connects: number;
  /** Live connections lost. */
  disconnects: number;
  reconnectAttempts: number;
  fallbacks: number;
  errors: number;
  messagesIn: number;
  published: number;
}

/** The connection could not be (re)established or was used after close: which broker, and why. */
export class MqttConnectionError extends Error {
  override name = 'MqttConnectionError';
  constructor(
    readonly url: string,
    /** 'link-lost': a QoS 0 publish the socket still held when the link dropped (never written). */
    readonly by: 'refused' | 'gave-up' | 'closed' | 'link-lost',
    readonly problem: string,
    /** The CONNACK return / reason code, when the broker refused. */
    readonly code?: number,
  ) {
    super(`mqtt ${url}: ${by === 'refused' ? 'connection refused' : by === 'gave-up' ? 'gave up reconnecting' : by === 'link-lost' ? 'link lost' : 'closed'}: ${problem}`);
  }
}

/** The broker refused a subscription (SUBACK ≥ 0x80): retrying will not help. */
export class MqttSubscribeError extends Error {
  override name = 'MqttSubscribeError';
  constructor(
    readonly url: string,
    readonly topics: readonly string[],
  ) {
    super(`mqtt ${url}: subscription refused for ${topics.join(', ')}`);
  }
}
