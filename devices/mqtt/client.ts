/**
 * `MqttConnection`: one mqtt.js client, from one typed options object (clientOptions.ts), with
 * reconnecting, protocol fallback and typed connection events handled here and nowhere else.
 *
 * ```
 * connect() ─▶ CONNECT v5 ─▶ CONNACK 0 ───────────────────────────────▶ 'connect' (protocolVersion 5)
 *                  │ CONNACK 'unacceptable / unsupported protocol version' (aedes, RabbitMQ 3.10, NATS)
 *                  └─▶ 'fallback' ─▶ CONNECT v4 at once ─▶ CONNACK 0 ─▶ 'connect' (protocolVersion 4)
 * link lost ─▶ 'offline' ─▶ 'reconnect' (1 s) ─▶ fails ─▶ 'reconnect' (2 s) … ≤ 30 s ─▶ 'connect'
 * CONNACK 'bad user name or password' / 'not authorized' ─▶ 'error' (fatal) ─▶ 'close' (refused)
 * close() ─▶ DISCONNECT ─▶ 'close' (client)
 * ```
 *
 * mqtt.js's own reconnect timer is off (`reconnectPeriod: 0`): this class arms a `Reconnector`
 * (exponential backoff) on every close and calls `client.connect()` again, which keeps mqtt.js's
 * outgoing store, so QoS 1 messages in flight at the loss are sent again after the reconnect.
 * mqtt.js does not queue QoS 0 messages while offline here (`queueQoSZero: false`): a publisher
 * that wants an offline queue keeps its own, bounded one (pipelines/sinks/mqtt.ts does). A QoS 0
 * publish still in a backed-up socket when the link drops is rejected ('link-lost') at once:
 * mqtt.js would call it back only on the dead socket's 'drain', that is never, and a publisher
 * counting what it has in flight would wait for it forever.
 *
 * Every event carries the broker URL (without credentials) and a reason in words.
 *
 * Incoming messages are routed, not broadcast: `messagesOn(filter)` registers an observer under
 * its filter, exact topics in a map (one lookup per message) and wildcard filters in a list
 * checked one by one, so 100 sources on one connection cost one lookup per message, not 100
 * topic comparisons. `messages$` still sees every message.
 *
 * A persistent session (`clean: false` with a fixed `clientId`; on MQTT 5 with
 * `sessionExpiry`) keeps the subscriptions and the QoS 1 messages queued for this client while
 * it is away; filters are renewed only when the broker says the session is gone.
 */
import mqtt, { type IClientOptions, type IClientPublishOptions, type MqttClient } from 'mqtt';
import { Observable, Subject, type Subscriber } from 'rxjs';
import { Reconnector, type ReconnectTimers } from '../serial/reconnect.js';
import { resolveMqttClientOptions, type MqttClientOptions, type ResolvedMqttClientOptions } from './clientOptions.js';
import {
  MqttConnectionError, MqttSubscribeError,
  type MqttCloseEvent, type MqttConnectionEvent, type MqttConnectionState, type MqttConnectionStats, type MqttMessage, type MqttPublishOptions,
} from './clientTypes.js';
import { isWildcardFilter, topicMatches } from './topics.js';

export { DEFAULT_MQTT_CLIENT_OPTIONS, randomClientId, resolveMqttClientOptions, type MqttClientOptions, type MqttWill, type ResolvedMqttClientOptions } from './clientOptions.js';

export {
  MqttConnectionError, MqttSubscribeError,
  type MqttCloseEvent, type MqttConnectEvent, type MqttConnectionEvent, type MqttConnectionState, type MqttConnectionStats,
  type MqttErrorEvent, type MqttFallbackEvent, type MqttMessage, type MqttOfflineEvent, type MqttPublishOptions,
  type MqttPublishProperties, type MqttReconnectEvent,
} from './clientTypes.js';

/** CONNACK codes for "this protocol version is not spoken here" (3.1.1: 1; MQTT 5: 0x84). */
const VERSION_REFUSED = new Set([1, 0x84]);
/** CONNACK codes retrying cannot fix: identifier rejected, bad credentials, not authorized, banned, bad auth method. */
const FATAL_REFUSALS = new Set([2, 4, 5, 0x85, 0x86, 0x87, 0x8a, 0x8c]);

/**
 * An MQTT connection: mqtt.js underneath, one options object, backoff reconnects, a fallback from
 * MQTT 5 to 3.1.1, and a typed `events$` stream of its states.
 *
 * Like `mqtt.connect`, but with bounded exponential backoff instead of a fixed period, a protocol
 * fallback, events that name the broker and the reason, and promise-returning publish/subscribe.
 *
 * @example
 * const conn = new MqttConnection({ url: 'mqtt://127.0.0.1:1883' });
 * conn.events$.subscribe((e) => console.error(e.type, e.url, 'reason' in e ? e.reason : ''));
 * await conn.connect();
 * await conn.publish('cfstream/eeg1/status', 'online', { qos: 1, retain: true });
 */
export class MqttConnection {
  /** The checked options (the URL without credentials). */
  readonly options: ResolvedMqttClientOptions;
  /** The broker URL without credentials, as events and errors print it. */
  readonly url: string;
  private readonly eventsSubject = new Subject<MqttConnectionEvent>();
  private readonly messagesSubject = new Subject<MqttMessage>();
  /** Hot: subscribe before `connect()` to see the first 'connect'. Completes after 'close'. */
  readonly events$: Observable<MqttConnectionEvent> = this.eventsSubject.asObservable();
  /** Hot: every message of every subscription of this connection. Completes after 'close'. */
  readonly messages$: Observable<MqttMessage> = this.messagesSubject.asObservable();
  private mqttClient: MqttClient | undefined;
  private readonly reconnector: Reconnector;
  /** Filters asked for, with their QoS; those the broker acknowledged are `active` and renewed after each reconnect (mqtt.js only does that with its own reconnect timer on). */
  private readonly wanted = new Map<string, 0 | 1 | 2>();
  /** `messagesOn` observers: exact topics by topic, wildcard filters in a list (both copy-on-write, so a dispatch iterates a stable array). */
  private readonly exactRoutes = new Map<string, readonly Subscriber<MqttMessage>[]>();
  private wildcardRoutes: readonly { filter: string; subscriber: Subscriber<MqttMessage> }[] = [];
  private readonly active = new Set<string>();
  private connectWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private currentState: MqttConnectionState = 'idle';
  private version: 4 | 5;
  private failures = 0; // failed attempts since the last success
  private lastError: { message: string; code: string | number | undefined } | undefined;
  private pendingFallback: string | undefined;
  private fatal: { message: string; code: number | undefined } | undefined;
  private firstConnect: { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } | undefined;
  private closing: Promise<void> | undefined;
  /** QoS 0 publishes handed to mqtt.js and not yet written to the socket (module header). */
  private readonly unwritten = new Set<{ readonly topic: string; readonly reject: (e: Error) => void }>();
  private readonly totals: MqttConnectionStats = { connects: 0, disconnects: 0, reconnectAttempts: 0, fallbacks: 0, errors: 0, messagesIn: 0, published: 0 };

  /**
   * @param options see `MqttClientOptions`; checked here (InvalidOptionError)
   * @param timers injectable reconnect timers (tests)
   */
  constructor(options: MqttClientOptions, timers?: ReconnectTimers) {
    this.options = resolveMqttClientOptions(options);
    this.url = this.options.url;
    this.version = this.options.protocolVersion;
    const o = this.options;
    this.reconnector = new Reconnector(
      { delayMs: o.reconnectPeriod, maxDelayMs: o.reconnectMaxPeriod, factor: o.reconnectFactor, attempts: o.reconnectAttempts },
      () => this.attempt(),
      timers,
    );
  }

  /** Where the connection is now. */
  get state(): MqttConnectionState {
    return this.currentState;
  }

  /** True while the broker has accepted the connection and it has not been lost. */
  get connected(): boolean {
    return this.currentState === 'connected' && this.mqttClient?.connected === true;
  }

  /** The protocol version in use (after a fallback, 4); before the first CONNACK, the one asked for. */
  get protocolVersion(): 4 | 5 {
    return this.version;
  }

  /** The underlying mqtt.js client (undefined before `connect()`): for what this class does not wrap. */
  get client(): MqttClient | undefined {
    return this.mqttClient;
  }

  /**
   * The messages whose topic matches `filter`; it does not subscribe at the broker (pair it with
   * `subscribe(filter)`). Completes after 'close'.
   *
   * Like `messages$.pipe(filter((m) => topicMatches(f, m.topic)))`, but routed: an exact topic is
   * one map lookup per message whatever the number of observers, a wildcard filter one match.
   * Subscribe before `connect()` so messages a persistent session delivers right after the
   * CONNACK are not missed.
   * @param filter a topic, or a filter with '+' / '#'
   */
  messagesOn(filter: string): Observable<MqttMessage> {
    return new Observable<MqttMessage>((subscriber) => {
      if (this.currentState === 'closed') {
        subscriber.complete();
        return undefined;
      }
      if (isWildcardFilter(filter)) {
        const route = { filter, subscriber };
        this.wildcardRoutes = [...this.wildcardRoutes, route];
        return () => {
          this.wildcardRoutes = this.wildcardRoutes.filter((r) => r !== route);
        };
      }
      this.exactRoutes.set(filter, [...(this.exactRoutes.get(filter) ?? []), subscriber]);
      return () => {
        const left = (this.exactRoutes.get(filter) ?? []).filter((s) => s !== subscriber);
        if (left.length) this.exactRoutes.set(filter, left);
        else this.exactRoutes.delete(filter);
      };
    });
  }

  /** A copy of the running totals. */
  stats(): MqttConnectionStats {
    return { ...this.totals };
  }

  /**
   * Starts connecting (once; later calls return the same promise).
   * @returns resolves at the first accepted connection; rejects with MqttConnectionError when the
   *   broker refuses for good (credentials, authorization), reconnecting gives up, or `close()` comes first
   */
  connect(): Promise<void> {
    if (this.firstConnect) return this.firstConnect.promise;
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => undefined); // callers that only watch events$ must not get an unhandled rejection
    this.firstConnect = { promise, resolve, reject };
    if (this.currentState === 'closed') {
      reject(new MqttConnectionError(this.url, 'closed', 'connect() after close()'));
      return promise;
    }
    this.currentState = 'connecting';
    this.mqttClient = mqtt.connect(this.url, this.clientOptions());
    this.wire(this.mqttClient);
    return promise;
  }

  /**
   * Publishes one message; MQTT 5 properties are dropped on a 3.1.1 connection.
   * While offline, QoS ≥ 1 messages wait in mqtt.js's store and QoS 0 ones fail (no silent queue).
   * @returns resolves when written (QoS 0) or acknowledged (QoS 1, 2); rejects with the broker's or mqtt.js's error
   */
  publish(topic: string, payload: string | Uint8Array, options: MqttPublishOptions = {}): Promise<void> {
    const client = this.mqttClient;
    if (!client || this.currentState === 'closed') return Promise.reject(new MqttConnectionError(this.url, 'closed', `publish to ${topic} before connect() or after close()`));
    const opts: IClientPublishOptions = { qos: options.qos ?? 0, retain: options.retain ?? false };
    if (options.properties && this.version === 5) opts.properties = { ...options.properties };
    const body = typeof payload === 'string' ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    return new Promise<void>((resolve, reject) => {
      const pending = opts.qos === 0 ? { topic, reject } : undefined;
      if (pending) this.unwritten.add(pending);
      client.publish(topic, body, opts, (err) => {
        if (pending && !this.unwritten.delete(pending)) return; // written off with its link
        if (err) reject(new Error(`mqtt ${this.url}: publish to ${topic} failed: ${err.message}`));
        else {
          this.totals.published++;
          resolve();
        }
      });
    });
  }

  /**
   * Subscribes to topic filters (sent now, or on connect) and renews them after every reconnect
   * that did not resume the session.
   * @returns the granted QoS per filter; rejects with MqttSubscribeError when the broker refuses
   *   one (SUBACK ≥ 0x80), or with mqtt.js's error when the link drops first (the filters stay
   *   recorded and are renewed at the reconnect)
   */
  async subscribe(filters: string | readonly string[], qos: 0 | 1 | 2 = 0): Promise<number[]> {
    if (!this.mqttClient || this.currentState === 'closed') throw new MqttConnectionError(this.url, 'closed', 'subscribe before connect() or after close()');
    const list = typeof filters === 'string' ? [filters] : [...filters];
    for (const f of list) this.wanted.set(f, Math.max(qos, this.wanted.get(f) ?? 0) as 0 | 1 | 2);
    // mqtt.js fails a SUBSCRIBE cut short by a lost link (or a refused CONNACK): send it again once connected.
    for (;;) {
      await this.nextConnect();
      let granted: { topic: string; qos: number }[];
      try {
        granted = await this.mqttClient.subscribeAsync(list, { qos });
      } catch (e) {
        if (this.isClosed()) throw new MqttConnectionError(this.url, 'closed', `subscribe to ${list.join(', ')}: ${(e as Error).message}`);
        continue;
      }
      const refused = granted.filter((g) => g.qos >= 0x80).map((g) => g.topic);
      for (const f of list) {
        if (refused.includes(f)) this.wanted.delete(f);
        else if (this.wanted.has(f)) this.active.add(f);
      }
      if (refused.length) throw new MqttSubscribeError(this.url, refused);
      return granted.map((g) => g.qos);
    }
  }

  /** Unsubscribes from topic filters (and stops renewing them). */
  async unsubscribe(filters: string | readonly string[]): Promise<void> {
    const list = typeof filters === 'string' ? [filters] : [...filters];
    for (const f of list) {
      this.wanted.delete(f);
      this.active.delete(f);
    }
    const client = this.mqttClient;
    if (!client || this.currentState === 'closed') return;
    await client.unsubscribeAsync(list);
  }

  /**
   * Closes for good: cancels reconnecting, waits (up to connectTimeout) for in-flight messages and
   * sends DISCONNECT, so the broker discards the will. Idempotent.
   * @param force true: drop the socket at once without DISCONNECT, like a crash: in-flight
   *   messages are lost and the broker publishes the will
   */
  close(force = false): Promise<void> {
    if (this.closing) return this.closing;
    if (this.currentState === 'closed') return Promise.resolve();
    this.closing = this.finish('client', 'closed by the client', !force && this.connected);
    return this.closing;
  }

  private clientOptions(): IClientOptions {
    const o = this.options;
    const opts: IClientOptions = {
      clientId: o.clientId, protocolVersion: this.version, clean: o.clean, keepalive: o.keepalive,
      connectTimeout: o.connectTimeout, reconnectPeriod: 0, queueQoSZero: false, resubscribe: false,
      rejectUnauthorized: o.rejectUnauthorized,
    };
    if (o.username !== undefined) opts.username = o.username;
    if (o.password !== undefined) opts.password = o.password;
    // MQTT 5 ends a session with the connection unless CONNECT asks for an expiry (3.1.1: kept until a clean connect).
    if (!o.clean && this.version === 5) opts.properties = { sessionExpiryInterval: o.sessionExpiry };
    // Node's TLS takes strings and Buffers mixed; mqtt.js's type wants one kind, so pass Buffers.
    if (o.ca !== undefined) opts.ca = (Array.isArray(o.ca) ? o.ca : [o.ca]).map((c) => Buffer.from(c));
    if (o.cert !== undefined) opts.cert = toPem(o.cert);
    if (o.key !== undefined) opts.key = toPem(o.key);
    if (o.will) {
      const w = o.will;
      opts.will = { topic: w.topic, payload: typeof w.payload === 'string' ? Buffer.from(w.payload) : Buffer.from(w.payload), qos: w.qos, retain: w.retain };
      if (this.version === 5 && w.contentType !== undefined) opts.will.properties = { contentType: w.contentType };
    }
    return opts;
  }

  private wire(client: MqttClient): void {
    client.on('connect', (connack) => {
      this.version = (client.options.protocolVersion === 5 ? 5 : 4);
      this.currentState = 'connected';
      this.totals.connects++;
      const attempt = this.failures;
      this.failures = 0;
      this.lastError = undefined;
      this.reconnector.succeeded();
      if (this.totals.connects > 1 && !connack.sessionPresent) this.resubscribe(client);
      this.emit({ type: 'connect', url: this.url, protocolVersion: this.version, attempt, sessionPresent: connack.sessionPresent });
      this.firstConnect?.resolve();
      for (const w of this.connectWaiters.splice(0)) w.resolve();
    });
    client.on('message', (topic, payload, packet) => {
      this.totals.messagesIn++;
      this.dispatch({ topic, payload, retain: packet.retain, qos: packet.qos, properties: packet.properties as Record<string, unknown> | undefined });
    });
    client.on('error', (err) => this.onError(err));
    client.on('close', () => {
      this.loseUnwritten();
      this.onClose();
    });
  }

  /** Hands one message to the observers of its exact topic, the matching wildcard filters, then messages$. */
  private dispatch(m: MqttMessage): void {
    const exact = this.exactRoutes.get(m.topic);
    if (exact) for (const s of exact) s.next(m);
    for (const r of this.wildcardRoutes) if (topicMatches(r.filter, m.topic)) r.subscriber.next(m);
    this.messagesSubject.next(m);
  }

  // A method, not a property read, so TypeScript does not keep a narrowing across awaits.
  private isClosed(): boolean {
    return this.currentState === 'closed';
  }

  /** Resolves at once while connected, else at the next accepted connection; rejects once closed. */
  private nextConnect(): Promise<void> {
    if (this.connected) return Promise.resolve();
    if (this.currentState === 'closed') return Promise.reject(new MqttConnectionError(this.url, 'closed', 'the connection is closed'));
    return new Promise<void>((resolve, reject) => this.connectWaiters.push({ resolve, reject }));
  }

  private resubscribe(client: MqttClient): void {
    if (this.active.size === 0) return;
    const map = Object.fromEntries([...this.active].map((f) => [f, { qos: this.wanted.get(f) ?? 0 }]));
    client.subscribe(map, (err, granted) => {
      const refused = (granted ?? []).filter((g) => g.qos >= 0x80).map((g) => g.topic);
      if (err || refused.length) {
        const message = err ? `renewing subscriptions failed: ${err.message}` : new MqttSubscribeError(this.url, refused).message;
        this.emit({ type: 'error', url: this.url, message, code: undefined, fatal: false });
      }
    });
  }

  private onError(err: Error & { code?: string | number }): void {
    this.totals.errors++;
    const code = err.code;
    // CONNACK refusals arrive as numeric codes while connecting; everything else is transport trouble.
    const refusal = this.currentState !== 'connected' && typeof code === 'number';
    let fatal = false;
    if (refusal && VERSION_REFUSED.has(code) && this.version === 5 && this.options.fallback) this.pendingFallback = err.message;
    else if (refusal && FATAL_REFUSALS.has(code)) {
      fatal = true;
      this.fatal = { message: err.message, code };
    }
    this.lastError = { message: err.message, code };
    this.emit({ type: 'error', url: this.url, message: err.message, code, fatal });
  }

  // The one place that decides what happens after a socket closes: fall back, reconnect, or give up.
  private onClose(): void {
    if (this.closing || this.currentState === 'closed') return;
    const wasConnected = this.currentState === 'connected';
    const reason = this.lastError?.message ?? (wasConnected ? 'connection closed by the broker or the network' : 'connection closed before CONNACK');
    if (wasConnected) {
      this.totals.disconnects++;
      this.emit({ type: 'offline', url: this.url, reason });
    }
    if (this.pendingFallback !== undefined) {
      const why = this.pendingFallback;
      this.pendingFallback = undefined;
      this.fallBackTo4(why);
      return;
    }
    if (this.fatal) {
      const f = this.fatal;
      void this.finish('refused', f.message, false, f.code);
      return;
    }
    if (this.reconnector.pending) return;
    this.currentState = 'reconnecting';
    const plan = this.reconnector.arm();
    if (!plan) {
      const why = this.options.reconnectPeriod === 0 ? `reconnecting is off (reconnectPeriod 0): ${reason}` : `${this.failures} failed attempts in a row: ${reason}`;
      void this.finish('gave-up', why, false);
      return;
    }
    this.failures = plan.attempt;
    this.totals.reconnectAttempts++;
    this.emit({ type: 'reconnect', url: this.url, attempt: plan.attempt, delayMs: plan.delayMs, reason });
  }

  /** Rejects the QoS 0 publishes the socket held: they went with it (module header). */
  private loseUnwritten(): void {
    if (this.unwritten.size === 0) return;
    const lost = [...this.unwritten];
    this.unwritten.clear();
    for (const p of lost) p.reject(new MqttConnectionError(this.url, 'link-lost', `QoS 0 publish to ${p.topic} was still in the socket, not written`));
  }

  private fallBackTo4(reason: string): void {
    const client = this.mqttClient!;
    this.version = 4;
    this.totals.fallbacks++;
    // mqtt.js builds each CONNECT (and its parser) from client.options: switch it, drop v5-only fields.
    client.options.protocolVersion = 4;
    delete client.options.properties;
    if (client.options.will) delete client.options.will.properties;
    this.emit({ type: 'fallback', url: this.url, from: 5, to: 4, reason });
    this.currentState = 'connecting';
    setImmediate(() => this.attempt());
  }

  private attempt(): void {
    if (this.closing || this.currentState === 'closed' || !this.mqttClient) return;
    this.lastError = undefined;
    this.mqttClient.connect();
  }

  private async finish(by: MqttCloseEvent['by'], reason: string, graceful: boolean, code?: number): Promise<void> {
    this.reconnector.clear();
    const client = this.mqttClient;
    this.currentState = 'closed';
    if (client) {
      if (graceful) {
        try {
          await withTimeout(client.endAsync(false), this.options.connectTimeout);
        } catch {
          // A broker that stopped answering never closes its side; mqtt.js is 'disconnecting'
          // now and ignores a second end(), so the socket would stay open and hold the process.
          client.stream?.destroy();
        }
      } else await client.endAsync(true).catch(() => undefined);
    }
    this.loseUnwritten();
    this.emit({ type: 'close', url: this.url, by, reason });
    const err = new MqttConnectionError(this.url, by === 'client' ? 'closed' : by, reason, code);
    this.firstConnect?.reject(err);
    for (const w of this.connectWaiters.splice(0)) w.reject(err);
    this.eventsSubject.complete();
    this.messagesSubject.complete();
    const routed = [...[...this.exactRoutes.values()].flat(), ...this.wildcardRoutes.map((r) => r.subscriber)];
    this.exactRoutes.clear();
    this.wildcardRoutes = [];
    for (const s of routed) s.complete();
  }

  private emit(e: MqttConnectionEvent): void {
    this.eventsSubject.next(e);
  }
}

/**
 * Opens a connection and waits for the broker to accept it.
 * @param options see `MqttClientOptions`
 * @returns the connected `MqttConnection`
 * @throws InvalidOptionError for bad options; MqttConnectionError when refused for good or reconnecting gives up
 */
export async function connectMqtt(options: MqttClientOptions): Promise<MqttConnection> {
  const conn = new MqttConnection(options);
  try {
    await conn.connect();
  } catch (e) {
    await conn.close(true);
    throw e;
  }
  return conn;
}

function toPem(v: string | Uint8Array): string | Buffer {
  return typeof v === 'string' ? v : Buffer.from(v);
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then((v) => {
      clearTimeout(timer);
      resolve(v);
    }, (e: unknown) => {
      clearTimeout(timer);
      reject(e instanceof Error ? e : new Error(String(e)));
    });
  });
}
