/**
 * `mqttSource`: a sensor that publishes on MQTT, as `Observable<Frame>` plus its `StreamInfo` and a
 * typed side channel (ARCHITECTURE.md "MQTT topics"; URI form in topics.ts).
 *
 * ```
 * <base>/info    retained StreamInfo JSON ─▶ info$ (replays the latest), 'info' event
 * <base>/frames  CFSB batch ('CFSB' magic) ─┐
 *                JSON {seq,t,values} or     ├─ decode against the current info ─▶ queue ─▶ frames$
 *                {seq,t0,dt,values:[[…]]}  ─┘        │ malformed ─▶ 'reject' event     (≤ maxQueuedFrames, oldest
 *                                                     │   (topic, reason, text), counted  dropped: 'drop' event, counted)
 * frames before any info ─▶ pending (≤ pendingMessages, oldest dropped: 'drop' event, counted) ─▶ decoded when info comes
 * no frame message for staleAfterMs ─▶ 'stale' event ─── the next one ─▶ 'fresh' event
 * ```
 *
 * Frames before info: the info is retained, but the broker may deliver live frames before it (or
 * the sensor may start before publishing it). Such messages are held, undecoded, in a bounded
 * buffer of `pendingMessages` (default 256); when it is full the oldest is dropped and counted
 * (`drop` event with reason 'pending-full', `stats().dropped`); when the info arrives they are
 * decoded in arrival order. With `pendingMessages: 0` they are rejected at once (reason
 * 'no-info'). An `info` option seeds the info, so nothing waits; a retained info published later
 * replaces it.
 *
 * Slow consumers: decoded frames wait in a queue of at most `maxQueuedFrames` (default 4096),
 * handed to frames$ in one go per turn of the event loop (setImmediate), so the connection keeps
 * reading, acknowledging and answering keepalives while the pipeline works. When frames come in
 * faster than the pipeline takes them the queue fills and the oldest frames are dropped, counted
 * (`stats().framesDropped`) and reported (`drop` event, reason 'queue-full'): memory stays
 * bounded, the pipeline stays near real time, and `stats().queuedPeak` shows how full it got.
 * Frames that arrive while nobody subscribes to frames$ (between learning the header from info$
 * and subscribing to frames$) wait in the same queue, so nothing is lost in between.
 *
 * Silence: with `staleAfterMs` (default 5000 ms) a `stale` event says no message came on the
 * frames topic for that long (since the last one, or since subscribing), once per silence; a
 * `fresh` event says they came back. A link loss is a silence too.
 *
 * Persistent sessions: with broker options `{ clientId, clean: false }` (URI `?session=<id>`)
 * and `qos: 1`, the broker queues the frames while this reader is away (a lost link, or a broker
 * restart with persistence), and hands them over at the reconnect.
 *
 * What is rejected (one `reject` event per message, never an error of frames$):
 *
 * | reason      | when                                                                                   |
 * |-------------|----------------------------------------------------------------------------------------|
 * | `decode`    | neither a CFSB batch nor a JSON object; a CFSB or JSON decode error (FrameDecodeError, DataError) |
 * | `length`    | values per frame ≠ frameLength(info) (n raw, projection.d compressed)                  |
 * | `stream-id` | a CFSB batch whose stream id is not info.id                                            |
 * | `info`      | a malformed StreamInfo on `<base>/info` (the previous info stays)                      |
 * | `no-info`   | a frame message while no info is known and `pendingMessages` is 0                      |
 *
 * Values are passed on as they are, NaN included: judging them is `validateFrames`' job. mqtt.js
 * hands payloads as Buffers at arbitrary byte offsets; the codecs copy, never view them as floats.
 * Errors: bad options throw at once (InvalidOptionError); frames$ errors with an
 * MqttConnectionError only when the broker refuses for good or reconnecting gives up.
 */
import { asyncScheduler, Observable, share, Subject, type SchedulerLike } from 'rxjs';
import { DataError, InvalidOptionError } from '../../src/errors.js';
import {
  BATCH_MAGIC, batchToFrames, decodeBatch, decodeJsonFrames, decodeStreamInfo, frameLength,
  validateStreamInfo, type Frame, type StreamInfo,
} from '../../src/frames/index.js';
import { MqttConnection, MqttConnectionError, MqttSubscribeError, resolveMqttClientOptions, type MqttClientOptions, type MqttConnectionEvent } from './client.js';
import { StaleWatch } from './staleWatch.js';
import { checkTopicPart, parseMqttSourceUri, streamTopics, type StreamTopics } from './topics.js';

/** Options of `mqttSource`. */
export interface MqttSourceOptions {
  /** Required unless `connection` is given. The broker connection (url, credentials, TLS, protocolVersion, reconnect; `clientId` + `clean: false` for a persistent session). */
  broker?: MqttClientOptions;
  /** undefined. An existing connection to use instead of `broker` (shared: the source unsubscribes its topics but does not close it). */
  connection?: MqttConnection;
  /** Required. The stream's topic base `<prefix>/<stream>`. */
  topic: string;
  /** 0. QoS of the frames subscription (info is always subscribed with QoS 1); 1 with a persistent session loses nothing while the reader is away. */
  qos?: 0 | 1;
  /** 256. Frame messages held while no info is known (oldest dropped when full, counted); 0 = reject them. */
  pendingMessages?: number;
  /** undefined. A StreamInfo to decode with until a retained one arrives on `<topic>/info`. */
  info?: StreamInfo;
  /** 5000 ms. Silence on the frames topic after which a 'stale' event is emitted ('fresh' when messages come back); 0 = never. */
  staleAfterMs?: number;
  /** 4096 frames. Decoded frames waiting for frames$ (a slow consumer, or none yet); when full the oldest are dropped and counted (integer ≥ 1). */
  maxQueuedFrames?: number;
  /** asyncScheduler. Runs the stale timer and gives its clock (tests: virtual time). */
  scheduler?: SchedulerLike;
}

/** Why a message was rejected (see the table above). */
export type MqttSourceRejectReason = 'decode' | 'length' | 'stream-id' | 'info' | 'no-info';

/** Every reject reason. */
export const MQTT_SOURCE_REJECT_REASONS: readonly MqttSourceRejectReason[] = Object.freeze(['decode', 'length', 'stream-id', 'info', 'no-info'] as const);

/** A valid StreamInfo arrived; `changed` when it differs from the previous one in id, kind or frame length. */
export interface MqttSourceInfoEvent { readonly type: 'info'; readonly topic: string; readonly info: StreamInfo; readonly changed: boolean }
/** One message rejected; `rejects` counts all rejections so far. */
export interface MqttSourceRejectEvent { readonly type: 'reject'; readonly topic: string; readonly reason: MqttSourceRejectReason; readonly message: string; readonly rejects: number }
/**
 * Data dropped to keep memory bounded: 'pending-full', `count` frame messages held before the
 * info (undecoded; `dropped` = stats().dropped); 'queue-full', `count` frames the consumer did not
 * take in time (`dropped` = stats().framesDropped).
 */
export interface MqttSourceDropEvent { readonly type: 'drop'; readonly topic: string; readonly reason: 'pending-full' | 'queue-full'; readonly count: number; readonly dropped: number }
/** No message on the frames topic for `silentMs` (≥ staleAfterMs); `lastSeq` of the last frame decoded, if any. */
export interface MqttSourceStaleEvent { readonly type: 'stale'; readonly topic: string; readonly silentMs: number; readonly lastSeq: number | undefined; readonly message: string }
/** Messages on the frames topic again after a 'stale' one; `silentMs` how long the silence lasted. */
export interface MqttSourceFreshEvent { readonly type: 'fresh'; readonly topic: string; readonly silentMs: number; readonly message: string }

/** The broker acknowledged the first subscription to the info and frames topics (mqtt.js renews them after reconnects). */
export interface MqttSourceSubscribedEvent { readonly type: 'subscribed'; readonly topics: readonly string[] }

/** Everything an MQTT source reports besides frames: its own events and its connection's. */
export type MqttSourceEvent =
  | MqttSourceInfoEvent | MqttSourceRejectEvent | MqttSourceDropEvent | MqttSourceStaleEvent | MqttSourceFreshEvent | MqttSourceSubscribedEvent
  | MqttConnectionEvent;

/** Running totals of a source (over all its subscriptions). */
export interface MqttSourceStats {
  /** Messages received on the frames topic. */
  messages: number;
  /** Frames decoded (handed to frames$ or still queued or dropped from the queue). */
  frames: number;
  /** Valid infos received. */
  infos: number;
  rejects: Record<MqttSourceRejectReason, number>;
  /** Frame messages dropped from the pending buffer (before the info). */
  dropped: number;
  /** Frame messages waiting for info now. */
  pending: number;
  /** Decoded frames waiting for frames$ now, the most there ever were (≤ maxQueuedFrames), and those dropped because the queue was full. */
  queued: number;
  queuedPeak: number;
  framesDropped: number;
  /** True while the frames topic is silent (after a 'stale' event, until a 'fresh' one); how many silences so far. */
  stale: boolean;
  staleCount: number;
}

/** An MQTT source: its topics, info, frames (connecting on subscribe, shared) and events. */
export interface MqttSource {
  readonly topics: StreamTopics;
  /** The latest valid StreamInfo (from `info` or the broker), or undefined before one arrives. */
  readonly info: StreamInfo | undefined;
  /** The latest info first (if any), then each one that differs from it; subscribing connects like frames$. */
  readonly info$: Observable<StreamInfo>;
  /** Connects on the first subscription (shared with info$), disconnects when the last one ends. */
  readonly frames$: Observable<Frame>;
  /** Hot: subscribe before frames$ to see the first 'connect'. */
  readonly events$: Observable<MqttSourceEvent>;
  /** A copy of the running totals. */
  stats(): MqttSourceStats;
}

/** The documented defaults of `MqttSourceOptions`. */
export const DEFAULT_MQTT_SOURCE_OPTIONS: Readonly<{ qos: 0 | 1; pendingMessages: number; staleAfterMs: number; maxQueuedFrames: number }> = Object.freeze({
  qos: 0, pendingMessages: 256, staleAfterMs: 5000, maxQueuedFrames: 4096,
});

const OWNER = 'mqttSource';
const KNOWN = new Set(['broker', 'connection', 'topic', 'qos', 'pendingMessages', 'info', 'staleAfterMs', 'maxQueuedFrames', 'scheduler']);
type SessionItem = { kind: 'frames'; frames: Frame[] } | { kind: 'info'; info: StreamInfo };

/**
 * Reads a stream from MQTT: the retained `<base>/info` and the `<base>/frames` messages.
 *
 * Like `cytonSource`, but for sensors that publish on a broker: CFSB batches or JSON frames in,
 * frames out, malformed messages counted and reported instead of thrown.
 *
 * @example
 * const src = mqttSource('mqtt://127.0.0.1:1883/cfstream/sensor1?qos=1&session=lab-reader');
 * src.events$.subscribe((e) => (e.type === 'reject' || e.type === 'stale') && console.warn(e.message));
 * src.frames$.pipe(validateFrames(await firstValueFrom(src.info$))).subscribe(...);
 * @param source an `mqtt://host:port/<prefix>/<stream>` URI or the options
 * @param overrides options applied over the URI's (info, pendingMessages, broker settings, …)
 * @returns the source; nothing connects until frames$ or info$ is subscribed
 * @throws InvalidOptionError naming the bad option or URI part
 */
export function mqttSource(source: string | MqttSourceOptions, overrides: Partial<MqttSourceOptions> = {}): MqttSource {
  const base = typeof source === 'string' ? optionsFromUri(source) : source;
  const o = resolveSourceOptions({ ...base, ...overrides, broker: mergeBroker(base.broker, overrides.broker) } as MqttSourceOptions);
  const topics = streamTopics(o.topic.slice(0, o.topic.lastIndexOf('/')), o.topic.slice(o.topic.lastIndexOf('/') + 1), OWNER);
  const scheduler = o.scheduler ?? asyncScheduler;
  const events = new Subject<MqttSourceEvent>();
  const stats: MqttSourceStats = {
    messages: 0, frames: 0, infos: 0, rejects: { decode: 0, length: 0, 'stream-id': 0, info: 0, 'no-info': 0 }, dropped: 0, pending: 0,
    queued: 0, queuedPeak: 0, framesDropped: 0, stale: false, staleCount: 0,
  };
  let latest: StreamInfo | undefined = o.info;
  // frames$ observers now, and how to wake the live session's queue when the first one comes.
  let frameObservers = 0;
  let wake: (() => void) | undefined;

  const reject = (topic: string, reason: MqttSourceRejectReason, message: string) => {
    stats.rejects[reason]++;
    let total = 0;
    for (const r of MQTT_SOURCE_REJECT_REASONS) total += stats.rejects[r];
    events.next({ type: 'reject', topic, reason, message, rejects: total });
  };

  const session$ = new Observable<SessionItem>((subscriber) => {
    const conn = o.connection ?? new MqttConnection(o.broker!);
    const pending: Buffer[] = [];
    const queue: Frame[] = [];
    let drainTimer: ReturnType<typeof setImmediate> | undefined;
    const drain = () => {
      drainTimer = undefined;
      if (frameObservers === 0 || queue.length === 0 || subscriber.closed) return;
      const frames = queue.splice(0);
      stats.queued = 0;
      subscriber.next({ kind: 'frames', frames });
    };
    const scheduleDrain = () => {
      if (drainTimer === undefined && frameObservers > 0 && queue.length > 0) drainTimer = setImmediate(drain);
    };
    wake = scheduleDrain;
    const enqueue = (frames: Frame[]) => {
      for (const f of frames) queue.push(f);
      const over = queue.length - o.maxQueuedFrames;
      if (over > 0) {
        queue.splice(0, over);
        stats.framesDropped += over;
        events.next({ type: 'drop', topic: topics.frames, reason: 'queue-full', count: over, dropped: stats.framesDropped });
      }
      stats.queued = queue.length;
      if (queue.length > stats.queuedPeak) stats.queuedPeak = queue.length;
      scheduleDrain();
    };

    let lastSeq: number | undefined;
    const watch = new StaleWatch(o.staleAfterMs, {
      stale: (silentMs) => {
        stats.stale = true;
        stats.staleCount++;
        const since = lastSeq === undefined ? 'none since subscribing' : `last seq ${lastSeq}`;
        events.next({ type: 'stale', topic: topics.frames, silentMs, lastSeq, message: `mqtt ${topics.frames}: no frames for ${(silentMs / 1000).toFixed(1)} s (${since}); the stream is stale` });
      },
      fresh: (silentMs) => {
        stats.stale = false;
        events.next({ type: 'fresh', topic: topics.frames, silentMs, message: `mqtt ${topics.frames}: frames again after ${(silentMs / 1000).toFixed(1)} s of silence` });
      },
    }, scheduler);

    const decodeAndQueue = (payload: Buffer, info: StreamInfo) => {
      const r = decodeSensorPayload(payload, info, topics.frames);
      if (!r.ok) return reject(topics.frames, r.reason, r.message);
      stats.frames += r.frames.length;
      if (r.frames.length) lastSeq = r.frames[r.frames.length - 1]!.seq;
      enqueue(r.frames);
    };
    const onInfo = (payload: Buffer) => {
      if (payload.length === 0) return; // an empty retained message clears the topic: nothing to learn
      let info: StreamInfo;
      try {
        info = decodeStreamInfo(payload, `mqtt ${topics.info}`);
      } catch (e) {
        return reject(topics.info, 'info', (e as Error).message);
      }
      const prev = latest;
      const changed = prev !== undefined && (prev.id !== info.id || prev.kind !== info.kind || frameLength(prev) !== frameLength(info));
      latest = info;
      stats.infos++;
      events.next({ type: 'info', topic: topics.info, info, changed });
      while (pending.length) decodeAndQueue(pending.shift()!, info);
      stats.pending = 0;
      // info$ replays the latest on subscribe: a re-delivered identical header is not news.
      if (prev === undefined || JSON.stringify(prev) !== JSON.stringify(info)) subscriber.next({ kind: 'info', info });
    };
    const onFrames = (payload: Buffer) => {
      stats.messages++;
      watch.alive();
      if (latest) return decodeAndQueue(payload, latest);
      if (o.pendingMessages === 0) return reject(topics.frames, 'no-info', `mqtt ${topics.frames}: a frame message before any StreamInfo on ${topics.info} (pendingMessages is 0)`);
      if (pending.length >= o.pendingMessages) {
        pending.shift();
        stats.dropped++;
        events.next({ type: 'drop', topic: topics.frames, reason: 'pending-full', count: 1, dropped: stats.dropped });
      }
      pending.push(payload);
      stats.pending = pending.length;
    };
    // Routed by topic (before connecting: a persistent session delivers right after the CONNACK).
    const framesSub = conn.messagesOn(topics.frames).subscribe((m) => onFrames(m.payload));
    const infoSub = conn.messagesOn(topics.info).subscribe((m) => onInfo(m.payload));
    const evSub = conn.events$.subscribe((e) => {
      events.next(e);
      if (e.type === 'close' && e.by !== 'client') subscriber.error(new MqttConnectionError(e.url, e.by, e.reason));
    });
    conn.connect().catch(() => undefined); // failures arrive as the 'close' event above
    conn.subscribe(topics.info, 1).then(
      () => conn.subscribe(topics.frames, o.qos),
    ).then(
      () => events.next({ type: 'subscribed', topics: [topics.info, topics.frames] }),
    ).catch((e: unknown) => {
      // A refusal is final; a subscription cut short by a lost link is renewed at the reconnect.
      if (e instanceof MqttSubscribeError) subscriber.error(e);
    });
    return () => {
      framesSub.unsubscribe();
      infoSub.unsubscribe();
      evSub.unsubscribe();
      watch.stop();
      if (drainTimer !== undefined) clearImmediate(drainTimer);
      wake = undefined;
      queue.length = 0;
      stats.pending = 0;
      stats.queued = 0;
      stats.stale = false;
      if (o.connection) void conn.unsubscribe([topics.info, topics.frames]).catch(() => undefined);
      else void conn.close();
    };
  }).pipe(share());

  const frames$ = new Observable<Frame>((subscriber) => {
    frameObservers++;
    const sub = session$.subscribe({
      next: (item) => {
        if (item.kind !== 'frames') return;
        for (const f of item.frames) {
          if (subscriber.closed) return;
          subscriber.next(f);
        }
      },
      error: (e: unknown) => subscriber.error(e),
      complete: () => subscriber.complete(),
    });
    wake?.(); // frames queued before anyone took them
    return () => {
      frameObservers--;
      sub.unsubscribe();
    };
  });
  const info$ = new Observable<StreamInfo>((subscriber) => {
    if (latest) subscriber.next(latest);
    return session$.subscribe({
      next: (item) => {
        if (item.kind === 'info') subscriber.next(item.info);
      },
      error: (e: unknown) => subscriber.error(e),
      complete: () => subscriber.complete(),
    });
  });

  return {
    topics,
    get info() {
      return latest;
    },
    info$, frames$,
    events$: events.asObservable(),
    stats: () => ({ ...stats, rejects: { ...stats.rejects } }),
  };
}

/** The verdict on one frames payload. */
export type SensorPayloadResult = { readonly ok: true; readonly frames: Frame[] } | { readonly ok: false; readonly reason: MqttSourceRejectReason; readonly message: string };

/**
 * Decodes one `<base>/frames` payload against the stream's info: a CFSB batch (by its magic) or a
 * JSON frame / batch (by a leading '{'). Never throws for bad data.
 * @param payload the message bytes, at any byte offset
 * @param info the stream's header (gives the frame length and id)
 * @param topic named in messages
 */
export function decodeSensorPayload(payload: Uint8Array, info: StreamInfo, topic: string): SensorPayloadResult {
  const where = `mqtt ${topic}`;
  const dims = frameLength(info);
  if (isBatch(payload)) {
    try {
      const batch = decodeBatch(payload, where);
      if (batch.streamId !== info.id) return { ok: false, reason: 'stream-id', message: `${where}: batch of stream ${JSON.stringify(batch.streamId)} (seq ${batch.seq}), but this topic carries ${JSON.stringify(info.id)}` };
      if (batch.dims !== dims) return { ok: false, reason: 'length', message: `${where}: batch seq ${batch.seq} has ${batch.dims} values per frame, expected ${dims} (${info.kind === 'compressed' ? 'projection.d' : 'n'} of ${info.id})` };
      return { ok: true, frames: batchToFrames(batch) };
    } catch (e) {
      if (e instanceof DataError) return { ok: false, reason: 'decode', message: e.message };
      throw e;
    }
  }
  if (firstNonSpace(payload) === 0x7b) {
    try {
      return { ok: true, frames: decodeJsonFrames(payload, dims, where) };
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      // decodeJsonFrames words a length mismatch as "… has N values, expected M" (src/frames/json.ts).
      const reason: MqttSourceRejectReason = / has \d+ values, expected \d+$/.test(e.message) ? 'length' : 'decode';
      return { ok: false, reason, message: e.message };
    }
  }
  const head = Array.from(payload.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return { ok: false, reason: 'decode', message: `${where}: neither a CFSB batch (magic 43 46 53 42) nor a JSON object: ${payload.length} bytes starting ${head || '(empty)'}` };
}

function isBatch(p: Uint8Array): boolean {
  return p.length >= 4 && p[0] === BATCH_MAGIC[0] && p[1] === BATCH_MAGIC[1] && p[2] === BATCH_MAGIC[2] && p[3] === BATCH_MAGIC[3];
}

function firstNonSpace(p: Uint8Array): number | undefined {
  for (let i = 0; i < p.length; i++) {
    const b = p[i]!;
    if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return b;
  }
  return undefined;
}

function optionsFromUri(uri: string): MqttSourceOptions {
  const u = parseMqttSourceUri(uri);
  const broker: MqttClientOptions = { url: u.url };
  if (u.username !== undefined) broker.username = u.username;
  if (u.password !== undefined) broker.password = u.password;
  if (u.protocolVersion !== undefined) broker.protocolVersion = u.protocolVersion;
  if (u.session !== undefined) {
    broker.clientId = u.session;
    broker.clean = false;
  }
  const out: MqttSourceOptions = { broker, topic: u.base };
  if (u.qos !== undefined) out.qos = u.qos;
  if (u.pendingMessages !== undefined) out.pendingMessages = u.pendingMessages;
  if (u.staleAfterMs !== undefined) out.staleAfterMs = u.staleAfterMs;
  if (u.maxQueuedFrames !== undefined) out.maxQueuedFrames = u.maxQueuedFrames;
  return out;
}

function mergeBroker(a: MqttClientOptions | undefined, b: MqttClientOptions | undefined): MqttClientOptions | undefined {
  if (!a) return b;
  if (!b) return a;
  return { ...a, ...b };
}

function resolveSourceOptions(options: MqttSourceOptions): MqttSourceOptions & typeof DEFAULT_MQTT_SOURCE_OPTIONS {
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new InvalidOptionError(OWNER, key, `a known option (${[...KNOWN].join(', ')})`, (options as unknown as Record<string, unknown>)[key]);
  }
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as MqttSourceOptions;
  const o = { ...DEFAULT_MQTT_SOURCE_OPTIONS, ...given };
  if (o.connection !== undefined && !(o.connection instanceof MqttConnection)) throw new InvalidOptionError(OWNER, 'connection', 'an MqttConnection', o.connection);
  if (o.connection === undefined && (typeof o.broker !== 'object' || o.broker === null)) throw new InvalidOptionError(OWNER, 'broker', 'broker connection options { url, … } (or a connection)', o.broker);
  // Bad broker options fail now rather than at subscribe time.
  if (o.connection === undefined) resolveMqttClientOptions(o.broker!, OWNER);
  checkTopicPart(OWNER, 'topic', o.topic, true);
  if (!o.topic.includes('/')) throw new InvalidOptionError(OWNER, 'topic', 'a topic base <prefix>/<stream> (two or more levels)', o.topic);
  if (o.qos !== 0 && o.qos !== 1) throw new InvalidOptionError(OWNER, 'qos', '0 or 1', o.qos);
  if (!Number.isSafeInteger(o.pendingMessages) || o.pendingMessages < 0) throw new InvalidOptionError(OWNER, 'pendingMessages', 'an integer ≥ 0 (0 = reject frames before info)', o.pendingMessages);
  if (typeof o.staleAfterMs !== 'number' || !Number.isFinite(o.staleAfterMs) || o.staleAfterMs < 0) throw new InvalidOptionError(OWNER, 'staleAfterMs', 'a number of ms ≥ 0 (0 = never stale)', o.staleAfterMs);
  if (!Number.isSafeInteger(o.maxQueuedFrames) || o.maxQueuedFrames < 1) throw new InvalidOptionError(OWNER, 'maxQueuedFrames', 'an integer number of frames ≥ 1', o.maxQueuedFrames);
  if (o.scheduler !== undefined && (typeof o.scheduler !== 'object' || o.scheduler === null || typeof o.scheduler.schedule !== 'function' || typeof o.scheduler.now !== 'function')) {
    throw new InvalidOptionError(OWNER, 'scheduler', 'an RxJS SchedulerLike (schedule, now)', o.scheduler);
  }
  if (o.info !== undefined) o.info = validateStreamInfo(o.info, `${OWNER} option 'info'`);
  return o;
}
