/**
 * `MqttSink`: publishes a running pipeline's results on MQTT (ARCHITECTURE.md "MQTT topics").
 *
 * ```
 * topic                        payload                                  QoS  retained  MQTT 5 properties
 * <prefix>/<stream>/info       StreamInfo JSON                          1    yes       contentType application/json
 * <prefix>/<stream>/status     'online' | 'stale'; 'offline' (will, close) 1  yes     contentType text/plain
 * <prefix>/<stream>/factors    FactorsMessage JSON (W: rank × n)        1    yes       contentType application/json
 * <prefix>/<stream>/metrics    MetricsSnapshot JSON + { publisher }     0*   no        + messageExpiryInterval 60 s*
 * <prefix>/<stream>/activations ActivationsMessage JSON                0*   no        + messageExpiryInterval 60 s*
 *                                                                       * options metricsQos, messageExpirySeconds
 * ```
 *
 * Why a class and not one operator per topic: the will, the 'online' status, the info to repeat
 * after every reconnect and the offline queue belong to one connection, so one object owns them.
 * `attach({ factors$, metrics$, activations$ })` subscribes to a pipeline's outputs; the
 * `publish…` methods do the same for code without RxJS.
 *
 * Bounded queues (mqtt.js's own are unbounded, MQTT.js #397 / #1121): at most `maxInFlight`
 * messages are handed to the connection and not yet done with (QoS 1 waiting for the PUBACK, QoS 0
 * for the socket to take it), so a slow or stalled broker cannot make memory grow. Beyond that,
 * and while the connection is down, retained topics (info, status, factors) keep only their
 * latest value — an older one is superseded, not lost — and metrics/activations wait in a FIFO
 * of at most `queueLimit` messages; when it is full the oldest is dropped, counted
 * (`stats().dropped`) and reported (a `drop` event, and `publisher.dropped` in the next metrics
 * message). QoS 0 messages the socket still held when the link dropped are lost with it:
 * counted the same way (reason 'link-lost'). The connection reconnects with exponential backoff
 * (client.ts); on reconnect the sink republishes info and the status (the broker may have
 * published the will meanwhile), then the latest value of every other retained topic (a
 * restarted broker may have lost its retained messages), then the FIFO in order (mqtt.js writes
 * QoS 0 at once and QoS 1 after its store, so the order holds within each QoS level). Messages
 * still queued at `close()` are dropped and counted too.
 *
 * Status: 'online' while the pipeline runs, 'stale' while its source is silent (`setStatus`, or
 * an attached `status$`), 'offline' after `close()` or as the will when the process vanishes.
 *
 * MQTT 5 where the broker speaks it (properties above), 3.1.1 otherwise (the connection falls back
 * and drops the properties).
 */
import { Subject, Subscription, type Observable } from 'rxjs';
import { MqttConnection, MqttConnectionError, type MqttClientOptions, type MqttConnectionEvent, type MqttPublishProperties, type ResolvedMqttClientOptions } from '../../devices/mqtt/client.js';
import { resolveMqttClientOptions } from '../../devices/mqtt/clientOptions.js';
import { checkTopicPart, DEFAULT_TOPIC_PREFIX, streamTopics, topicSegment, type StreamTopics } from '../../devices/mqtt/topics.js';
import { InvalidOptionError } from '../../src/errors.js';
import { settledWithin } from '../internal/settledWithin.js';
import { validateStreamInfo, type StreamInfo } from '../../src/frames/index.js';
import type { MetricsSnapshot } from '../metrics.js';
import type { FactorsMessage } from '../types.js';

/** The activations (codes h_t) of one frame or block, published on `<prefix>/<stream>/activations`. */
export interface ActivationsMessage {
  /** Seq and time (s) of the (last) frame they belong to. */
  readonly seq: number;
  readonly t: number;
  readonly rank: number;
  /** `rank` values, or one array of `rank` values per frame of a block. */
  readonly h: readonly number[] | readonly (readonly number[])[];
}

/** What `attach` subscribes to; all optional. */
export interface MqttSinkSources {
  /** Each value is published retained on `factors`. */
  factors$?: Observable<FactorsMessage>;
  /** Each snapshot is published on `metrics`. */
  metrics$?: Observable<MetricsSnapshot>;
  /** Each value is published on `activations`. */
  activations$?: Observable<ActivationsMessage>;
  /** A changed header is published retained on `info` (and repeated after reconnects). */
  info$?: Observable<StreamInfo>;
  /** Each value is published retained on `status` ('online', or 'stale' while the source is silent). */
  status$?: Observable<MqttSinkStatus>;
}

/** What the status topic says while the sink runs ('offline' is the will's and close()'s). */
export type MqttSinkStatus = 'online' | 'stale';

/** Options of `MqttSink.open`. */
export interface MqttSinkOptions {
  /** Required. The broker connection (url, credentials, TLS, protocolVersion, reconnect); the sink sets the will itself. */
  broker: Omit<MqttClientOptions, 'will'>;
  /** Required. The stream's header, published retained on `<prefix>/<stream>/info`. */
  info: StreamInfo;
  /** 'cfstream'. Topic prefix (one or more levels). */
  prefix?: string;
  /** `topicSegment(info.id)` (characters outside [A-Za-z0-9_.:-] become '_'). The stream's topic level. */
  stream?: string;
  /** 1000 messages. Offline FIFO for metrics and activations (retained topics keep their latest value outside it); 0 = drop them while offline. */
  queueLimit?: number;
  /** 60 s. MQTT 5 message expiry of metrics and activations (stale ones are not delivered after an outage); 0 = none. */
  messageExpirySeconds?: number;
  /** 0. QoS of metrics and activations (info, status and factors always use 1). */
  metricsQos?: 0 | 1;
  /** 5000 ms. How long `close()` waits for the 'offline' status to be acknowledged. */
  closeTimeoutMs?: number;
  /** 10 messages. Handed to the connection and not yet acknowledged (QoS 1) or taken by the socket (QoS 0); more wait in the bounded queues above (integer ≥ 1). */
  maxInFlight?: number;
}

/** The documented defaults of `MqttSinkOptions`. */
export const DEFAULT_MQTT_SINK_OPTIONS = Object.freeze({
  prefix: DEFAULT_TOPIC_PREFIX, queueLimit: 1000, messageExpirySeconds: 60, metricsQos: 0 as 0 | 1, closeTimeoutMs: 5000, maxInFlight: 10,
});

/** Messages dropped: the FIFO was full, QoS 0 ones the socket held when the link dropped, or they were still queued at close(); `dropped` counts all so far. */
export interface MqttSinkDropEvent { readonly type: 'drop'; readonly topic: string; readonly reason: 'queue-full' | 'link-lost' | 'closed'; readonly count: number; readonly dropped: number }
/** The broker or mqtt.js refused one publish; `failed` counts all so far. */
export interface MqttSinkPublishErrorEvent { readonly type: 'publish-error'; readonly topic: string; readonly message: string; readonly failed: number }
/** An attached source errored; it stops, the others go on. */
export interface MqttSinkSourceErrorEvent { readonly type: 'source-error'; readonly source: keyof MqttSinkSources; readonly message: string }

/** Everything a sink reports: its own events and its connection's. */
export type MqttSinkEvent = MqttSinkDropEvent | MqttSinkPublishErrorEvent | MqttSinkSourceErrorEvent | MqttConnectionEvent;

/** Running totals of a sink. */
export interface MqttSinkStats {
  /** Messages acknowledged (QoS 1) or written (QoS 0), per kind. */
  published: Record<MessageKind, number>;
  /** Messages waiting in the FIFO now, and its capacity. */
  queued: number;
  queueLimit: number;
  /** Retained values waiting for the connection now (latest per topic). */
  retainedPending: number;
  /** Messages handed to the connection and not done yet, and the most allowed. */
  inFlight: number;
  maxInFlight: number;
  /** Messages dropped (FIFO full, lost with the link, or queued at close). */
  dropped: number;
  /** Retained values replaced by a newer one while offline (not lost: the newer one is what retained means). */
  superseded: number;
  /** Publishes the broker or mqtt.js refused. */
  failed: number;
  /** Connections made (the first one included). */
  connects: number;
}

/** What the sink adds to each metrics message, as `publisher`: its counters as of when the snapshot was handed to it. */
export interface PublisherReport {
  readonly dropped: number;
  readonly queued: number;
  readonly queueLimit: number;
  readonly inFlight: number;
  readonly failed: number;
  readonly connects: number;
  readonly protocolVersion: 4 | 5;
}

type MessageKind = 'info' | 'status' | 'factors' | 'metrics' | 'activations';
interface Outgoing { kind: MessageKind; topic: string; payload: string; qos: 0 | 1; retain: boolean; properties: MqttPublishProperties }

const OWNER = 'MqttSink';
const KNOWN = new Set(['broker', 'info', 'prefix', 'stream', 'queueLimit', 'messageExpirySeconds', 'metricsQos', 'closeTimeoutMs', 'maxInFlight']);
const JSON_PROPS: MqttPublishProperties = Object.freeze({ contentType: 'application/json', payloadFormatIndicator: true });
const TEXT_PROPS: MqttPublishProperties = Object.freeze({ contentType: 'text/plain', payloadFormatIndicator: true });

/**
 * Publishes a pipeline's info, status, factors, metrics and activations on one MQTT connection,
 * with a last will, a bounded offline queue and MQTT 5 properties where the broker speaks 5.
 *
 * @example
 * const sink = MqttSink.open({ broker: { url: 'mqtt://127.0.0.1:1883' }, info });
 * sink.events$.subscribe((e) => e.type === 'drop' && console.warn(`dropped ${e.count} on ${e.topic}`));
 * const run = pipeline.run(frames$);
 * sink.attach({ factors$: run.factors, metrics$: run.metrics });
 * run.connect();
 * // …
 * await sink.close(); // 'offline', retained
 */
export class MqttSink {
  /** The stream's topics. */
  readonly topics: StreamTopics;
  /** The sink's own connection (its will is `offline` on the status topic). */
  readonly connection: MqttConnection;
  /** Resolves at the first connection; rejects (MqttConnectionError) if the broker refuses for good. Never unhandled. */
  readonly ready: Promise<void>;
  private readonly eventsSubject = new Subject<MqttSinkEvent>();
  /** Hot: the sink's events and its connection's. */
  readonly events$: Observable<MqttSinkEvent> = this.eventsSubject.asObservable();
  private readonly o: Required<Omit<MqttSinkOptions, 'broker' | 'stream'>>;
  private info: StreamInfo;
  private status: MqttSinkStatus = 'online';
  private readonly fifo: Outgoing[] = [];
  /** The latest value of each retained topic (sent or not), in the order to send in, and the topics whose latest is not handed over yet. */
  private readonly latest = new Map<string, Outgoing>();
  private readonly unsent = new Set<string>();
  private inFlight = 0;
  private readonly attached = new Subscription();
  private closing: Promise<void> | undefined;
  private readonly totals: Omit<MqttSinkStats, 'queued' | 'queueLimit' | 'retainedPending' | 'inFlight' | 'maxInFlight'> = {
    published: { info: 0, status: 0, factors: 0, metrics: 0, activations: 0 }, dropped: 0, superseded: 0, failed: 0, connects: 0,
  };

  private constructor(options: MqttSinkOptions) {
    const { o, stream, broker } = resolveSinkOptions(options);
    this.o = o;
    this.info = o.info;
    this.topics = streamTopics(o.prefix, stream, OWNER);
    this.connection = new MqttConnection({
      ...brokerOptionsOf(broker),
      will: { topic: this.topics.status, payload: 'offline', qos: 1, retain: true, contentType: 'text/plain' },
    });
    this.connection.events$.subscribe({
      next: (e) => {
        if (e.type === 'connect') this.onConnect();
        this.eventsSubject.next(e);
      },
    });
    this.ready = this.connection.connect();
  }

  /**
   * Creates a sink and starts connecting; publishing works at once (queued until connected).
   * @param options see `MqttSinkOptions`; checked now (InvalidOptionError)
   * @returns the sink; `ready` says when the broker accepted it
   */
  static open(options: MqttSinkOptions): MqttSink {
    return new MqttSink(options);
  }

  /**
   * Publishes every value of the given pipeline outputs until `close()` or the returned
   * subscription is unsubscribed. A source that errors stops (a `source-error` event); the others go on.
   */
  attach(sources: MqttSinkSources): Subscription {
    const sub = new Subscription();
    const wire = <T>(name: keyof MqttSinkSources, source: Observable<T> | undefined, publish: (v: T) => void) => {
      if (source === undefined) return;
      if (typeof (source as { subscribe?: unknown }).subscribe !== 'function') throw new InvalidOptionError(`${OWNER}.attach`, name, 'an Observable', source);
      sub.add(source.subscribe({
        next: publish,
        error: (e: unknown) => this.eventsSubject.next({ type: 'source-error', source: name, message: e instanceof Error ? e.message : String(e) }),
      }));
    };
    wire('info$', sources.info$, (v) => this.publishInfo(v));
    wire('factors$', sources.factors$, (v) => this.publishFactors(v));
    wire('metrics$', sources.metrics$, (v) => this.publishMetrics(v));
    wire('activations$', sources.activations$, (v) => this.publishActivations(v));
    wire('status$', sources.status$, (v) => this.setStatus(v));
    this.attached.add(sub);
    return sub;
  }

  /** Publishes (retained) a new header; it is also what the sink repeats after each reconnect. */
  publishInfo(info: StreamInfo): void {
    this.info = validateStreamInfo(info, `${OWNER}.publishInfo`);
    this.send(this.infoMessage());
  }

  /**
   * Publishes (retained) what the status topic says while the sink runs: 'online', or 'stale'
   * while the source is silent; repeated after each reconnect. Publishes nothing if unchanged.
   */
  setStatus(status: MqttSinkStatus): void {
    if (status !== 'online' && status !== 'stale') throw new InvalidOptionError(`${OWNER}.setStatus`, 'status', "'online' or 'stale'", status);
    if (status === this.status) return;
    this.status = status;
    this.send(this.statusMessage());
  }

  /** What the status topic says now (before close()). */
  get currentStatus(): MqttSinkStatus {
    return this.status;
  }

  /** Publishes (retained, QoS 1) recovered factors as JSON: `{seq, t, n, d, rank, W (rank arrays of length n), error, …}`. */
  publishFactors(message: FactorsMessage): void {
    this.send({ kind: 'factors', topic: this.topics.factors, payload: JSON.stringify(message), qos: 1, retain: true, properties: JSON_PROPS });
  }

  /** Publishes a metrics snapshot as JSON, with the sink's own counters added as `publisher`. */
  publishMetrics(snapshot: MetricsSnapshot): void {
    const publisher: PublisherReport = {
      dropped: this.totals.dropped, queued: this.fifo.length, queueLimit: this.o.queueLimit, inFlight: this.inFlight,
      failed: this.totals.failed, connects: this.totals.connects, protocolVersion: this.connection.protocolVersion,
    };
    this.send({ kind: 'metrics', topic: this.topics.metrics, payload: JSON.stringify({ ...snapshot, publisher }), qos: this.o.metricsQos, retain: false, properties: this.expiring() });
  }

  /** Publishes activations as JSON. */
  publishActivations(message: ActivationsMessage): void {
    this.send({ kind: 'activations', topic: this.topics.activations, payload: JSON.stringify(message), qos: this.o.metricsQos, retain: false, properties: this.expiring() });
  }

  /** A copy of the running totals. */
  stats(): MqttSinkStats {
    return {
      ...this.totals, published: { ...this.totals.published },
      queued: this.fifo.length, queueLimit: this.o.queueLimit, retainedPending: this.unsent.size, inFlight: this.inFlight, maxInFlight: this.o.maxInFlight,
    };
  }

  /**
   * Stops the attached sources, publishes 'offline' (retained, QoS 1; waits up to closeTimeoutMs
   * for the acknowledgement) and disconnects cleanly, so the broker drops the will; without the
   * acknowledgement it drops the link instead (the will says 'offline'). Messages still queued are
   * dropped and counted. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.attached.unsubscribe();
    const left = this.fifo.length + this.unsent.size;
    if (left > 0) this.drop(this.topics.base, 'closed', left);
    this.fifo.length = 0;
    this.unsent.clear();
    if (this.connection.connected) {
      const offline = this.connection.publish(this.topics.status, 'offline', { qos: 1, retain: true, properties: TEXT_PROPS });
      const acknowledged = await settledWithin(offline.then(() => void this.totals.published.status++), this.o.closeTimeoutMs);
      // A broker that did not acknowledge in time will not take a DISCONNECT either: drop the
      // link, and its will says 'offline' for us.
      await this.connection.close(!acknowledged);
    } else {
      // Not connected: the broker has either never seen this client or has published its will already.
      await this.connection.close(true);
    }
    this.eventsSubject.complete();
  }

  private onConnect(): void {
    this.totals.connects++;
    // Info and the status first, at once: the will may have set 'offline' while the link was down.
    this.unsent.delete(this.topics.info);
    this.unsent.delete(this.topics.status);
    this.publishNow(this.infoMessage());
    this.publishNow(this.statusMessage());
    // Then every other retained topic's latest value (a restarted broker may have lost it), then the FIFO.
    for (const topic of this.latest.keys()) {
      if (topic === this.topics.info || topic === this.topics.status) continue;
      this.unsent.delete(topic);
      this.unsent.add(topic);
    }
    this.pump();
  }

  private send(m: Outgoing): void {
    if (this.closing) return this.drop(m.topic, 'closed', 1);
    if (m.retain) {
      if (this.unsent.has(m.topic)) this.totals.superseded++;
      this.latest.delete(m.topic); // re-insert: the order is the order to send in
      this.latest.set(m.topic, m);
      this.unsent.delete(m.topic);
      this.unsent.add(m.topic);
      return this.pump();
    }
    this.fifo.push(m);
    this.pump();
    while (this.fifo.length > this.o.queueLimit) this.drop(this.fifo.shift()!.topic, 'queue-full', 1);
  }

  /** Hands retained values, then the FIFO, to the connection while it is up and the in-flight window has room. */
  private pump(): void {
    while (this.connection.connected && this.inFlight < this.o.maxInFlight) {
      const topic = this.unsent.values().next().value;
      if (topic !== undefined) {
        this.unsent.delete(topic);
        this.publishNow(this.latest.get(topic)!);
        continue;
      }
      const m = this.fifo.shift();
      if (!m) return;
      this.publishNow(m);
    }
  }

  private publishNow(m: Outgoing): void {
    this.inFlight++;
    const settle = () => {
      this.inFlight--;
      this.pump();
    };
    this.connection.publish(m.topic, m.payload, { qos: m.qos, retain: m.retain, properties: m.properties }).then(
      () => {
        this.totals.published[m.kind]++;
        settle();
      },
      (e: Error) => {
        if (e instanceof MqttConnectionError && e.by === 'link-lost') this.drop(m.topic, 'link-lost', 1);
        else {
          this.totals.failed++;
          this.eventsSubject.next({ type: 'publish-error', topic: m.topic, message: e.message, failed: this.totals.failed });
        }
        settle();
      },
    );
  }

  private drop(topic: string, reason: MqttSinkDropEvent['reason'], count: number): void {
    this.totals.dropped += count;
    this.eventsSubject.next({ type: 'drop', topic, reason, count, dropped: this.totals.dropped });
  }

  private infoMessage(): Outgoing {
    return { kind: 'info', topic: this.topics.info, payload: JSON.stringify(this.info), qos: 1, retain: true, properties: JSON_PROPS };
  }

  private statusMessage(): Outgoing {
    return { kind: 'status', topic: this.topics.status, payload: this.status, qos: 1, retain: true, properties: TEXT_PROPS };
  }

  private expiring(): MqttPublishProperties {
    const s = this.o.messageExpirySeconds;
    return s > 0 ? { ...JSON_PROPS, messageExpiryInterval: s } : JSON_PROPS;
  }
}

function brokerOptionsOf(broker: ResolvedMqttClientOptions): MqttClientOptions {
  const { will: _ignored, ...rest } = broker;
  return { ...rest } as MqttClientOptions;
}

function resolveSinkOptions(options: MqttSinkOptions): { o: Required<Omit<MqttSinkOptions, 'broker' | 'stream'>>; stream: string; broker: ResolvedMqttClientOptions } {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError(OWNER, 'options', 'an options object { broker, info, … }', options);
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new InvalidOptionError(OWNER, key, `a known option (${[...KNOWN].join(', ')})`, (options as unknown as Record<string, unknown>)[key]);
  }
  if (typeof options.broker !== 'object' || options.broker === null) throw new InvalidOptionError(OWNER, 'broker', 'broker connection options { url, … }', options.broker);
  if ('will' in options.broker) throw new InvalidOptionError(OWNER, 'broker.will', "absent (the sink's will is 'offline' on its status topic)", (options.broker as MqttClientOptions).will);
  const broker = resolveMqttClientOptions(options.broker, OWNER);
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as MqttSinkOptions;
  const info = validateStreamInfo(given.info, `${OWNER} option 'info'`);
  const o = { ...DEFAULT_MQTT_SINK_OPTIONS, ...given, info };
  checkTopicPart(OWNER, 'prefix', o.prefix, true);
  const stream = given.stream ?? topicSegment(info.id);
  checkTopicPart(OWNER, 'stream', stream, false);
  if (!Number.isSafeInteger(o.queueLimit) || o.queueLimit < 0) throw new InvalidOptionError(OWNER, 'queueLimit', 'an integer ≥ 0 (messages; 0 = none while offline)', o.queueLimit);
  if (!Number.isInteger(o.messageExpirySeconds) || o.messageExpirySeconds < 0 || o.messageExpirySeconds > 0xffffffff) {
    throw new InvalidOptionError(OWNER, 'messageExpirySeconds', 'an integer number of seconds ≥ 0 (0 = no expiry)', o.messageExpirySeconds);
  }
  if (o.metricsQos !== 0 && o.metricsQos !== 1) throw new InvalidOptionError(OWNER, 'metricsQos', '0 or 1', o.metricsQos);
  if (!Number.isFinite(o.closeTimeoutMs) || o.closeTimeoutMs < 0) throw new InvalidOptionError(OWNER, 'closeTimeoutMs', 'a number of ms ≥ 0', o.closeTimeoutMs);
  if (!Number.isSafeInteger(o.maxInFlight) || o.maxInFlight < 1) throw new InvalidOptionError(OWNER, 'maxInFlight', 'an integer number of messages ≥ 1', o.maxInFlight);
  const { broker: _b, stream: _s, ...rest } = o;
  return { o: rest, stream, broker };
}
