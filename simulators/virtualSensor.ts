/**
 * A virtual MQTT sensor: a seeded stream from the paper's sparse model, raw or through a
 * compressive front-end, published on a broker the way a real sensor would (ARCHITECTURE.md "MQTT
 * topics"), with injectable faults, so `mqttSource` and the pipeline run end to end without hardware.
 *
 * ```
 * <prefix>/<stream>/info    retained StreamInfo (compressed: kind 'compressed' + its ProjectionSpec)
 * <prefix>/<stream>/frames  CFSB batches of `batch` frames (QoS 0 or 1), or JSON {seq, t, values}, one frame each
 * ```
 *
 * Delivery: with `qos: 0` (default) a message is written once; one that cannot be sent (offline,
 * or still in the socket when the link dropped) is counted as `unsent`; when the socket cannot keep up (a slow broker or link), at most
 * `QOS0_BACKLOG` messages wait for it, like a device's transmit buffer, and a message beyond that
 * is dropped and counted as `dropped`, so memory stays bounded. With `qos: 1` every message waits in an outbox until the broker
 * acknowledges it: at most `maxInFlight` are unacknowledged at a time, nothing is handed to the
 * connection while it is down (mqtt.js keeps the unacknowledged ones in its store and sends them
 * again after the reconnect), a message the connection fails goes back into the outbox in order,
 * and the outbox holds at most `queueLimit` messages (oldest dropped, counted as `dropped`): a
 * broker restart loses nothing unless the outage outlasts the outbox. `close()` waits up to
 * `closeTimeoutMs` for the outbox to drain; what is left is counted as `unsent`. `pause()` and
 * `resume()` make a silent sensor (frames are not drawn while paused: seqs go on without a gap).
 *
 * Signal (deterministic, `SensorSignal`): x_j = W·h_j + noise·e_j, j = 0, 1, … with W (n×rank)
 * non-negative and sparse (k ones per column times |N(0,1)|), h_j = |N(0,1)|^rank, e_j ~ N(0,1)^n.
 * Draw order from `Rng(seed)`: for each column c of W, k distinct rows by `int(n)` (repeats
 * redrawn), then k values |normal()|; then per frame, h_j (rank × |normal()|) and e_j (n × normal()).
 * Compressed: y_j = P·x_j with P from the ProjectionSpec {ensemble, n, d, p, seed}, published in
 * the info so the receiver regenerates P. Frame j has seq j and t = t0 + j / rate (t0 = wall clock
 * at start, Unix seconds, unless `startTime`).
 *
 * Faults, per message (n = 1, 2, …; a JSON message is one frame), checked in this order; frames of
 * skipped and malformed messages are still drawn, so the signal stays aligned with the seqs:
 * every `gapEvery`-th message is not sent (a seq gap); every `malformedEvery`-th is replaced by
 * garbage (cycling: bad magic, truncated batch, not JSON, JSON without seq); every
 * `wrongLengthEvery`-th carries one value too many per frame; every `nanEvery`-th has value 0 of
 * its first frame set to NaN (JSON null). All are recorded in `stats()`.
 */
import { InvalidOptionError } from '../src/errors.js';
import { encodeBatch, encodeJsonFrame, validateStreamInfo, type StreamInfo } from '../src/frames/index.js';
import { Rng } from '../src/linalg/random.js';
import { makeProjection, type Projection } from '../src/sensing/operator.js';
import type { Ensemble } from '../src/sensing/projection.js';
import { MqttConnection, type MqttClientOptions } from '../devices/mqtt/client.js';
import { DEFAULT_TOPIC_PREFIX, streamTopics, type StreamTopics } from '../devices/mqtt/topics.js';

/** Options of a `VirtualSensor`. */
export interface VirtualSensorOptions {
  /** Required. The broker connection (url, credentials, protocolVersion, reconnect). */
  broker: MqttClientOptions;
  /** 'cfstream'. Topic prefix. */
  prefix?: string;
  /** 'sensor1'. Stream id (StreamInfo.id) and topic level. */
  stream?: string;
  /** 32. Uncompressed dimension n. */
  n?: number;
  /** 4 (at most n). Rank of the planted W. */
  rank?: number;
  /** 6 (at most n). Non-zeros per column of W (1 ≤ k ≤ n). */
  k?: number;
  /** 0.01. Standard deviation of the additive noise. */
  noise?: number;
  /** 250 frames/s. */
  rate?: number;
  /** 25. Frames per CFSB message (JSON messages hold one frame). */
  batch?: number;
  /** 0 (raw). Compressed dimension d (1 ≤ d < n): publish y = P·x with the ProjectionSpec in the info. */
  compressed?: number;
  /** 'sparse-binary'. Ensemble of P when compressed. */
  ensemble?: Ensemble;
  /** 5. Ones per column of a sparse-binary P. */
  p?: number;
  /** 'cfsb'. Wire format of the frames: CFSB binary batches or JSON frames. */
  format?: 'cfsb' | 'json';
  /** 0. Seed of the signal (and of P). */
  seed?: number;
  /** 0 (off). Every N-th message is garbage. */
  malformedEvery?: number;
  /** 0 (off). Every N-th message has a NaN. */
  nanEvery?: number;
  /** 0 (off). Every N-th message has one value too many per frame. */
  wrongLengthEvery?: number;
  /** 0 (off). Every N-th message is not sent (a seq gap). */
  gapEvery?: number;
  /** Infinity. Stop after this many frames (`done` resolves). */
  frames?: number;
  /** 10 ms. Pacing timer: each tick publishes the messages due (drift-free: due = elapsed · rate). */
  tickMs?: number;
  /** Wall clock at start. t0 of frame 0, Unix seconds. */
  startTime?: number;
  /** true. Publish the retained info (false: to test a receiver's frames-before-info path). */
  publishInfo?: boolean;
  /** 0. QoS of the frame messages: 0 (written once), or 1 (acknowledged, kept in order in the outbox and resent across reconnects). */
  qos?: 0 | 1;
  /** 10000 messages. QoS 1: outbox of messages not yet handed to the connection (offline, or maxInFlight unacknowledged); when full the oldest is dropped and counted. */
  queueLimit?: number;
  /** 20 messages. QoS 1: unacknowledged messages at a time (mosquitto's max_inflight_messages default). */
  maxInFlight?: number;
  /** 5000 ms. QoS 1: how long `close()` waits for the outbox and the unacknowledged messages before disconnecting. */
  closeTimeoutMs?: number;
}

/** The documented defaults of `VirtualSensorOptions` (broker has none; startTime is the clock at start). */
export const DEFAULT_VIRTUAL_SENSOR_OPTIONS: Readonly<Required<Omit<VirtualSensorOptions, 'broker' | 'startTime'>>> = Object.freeze({
  prefix: DEFAULT_TOPIC_PREFIX, stream: 'sensor1', n: 32, rank: 4, k: 6, noise: 0.01, rate: 250, batch: 25,
  compressed: 0, ensemble: 'sparse-binary', p: 5, format: 'cfsb', seed: 0,
  malformedEvery: 0, nanEvery: 0, wrongLengthEvery: 0, gapEvery: 0, frames: Infinity, tickMs: 10, publishInfo: true,
  qos: 0, queueLimit: 10_000, maxInFlight: 20, closeTimeoutMs: 5000,
});

/** One injected fault: which message (1-based) and the seq of its first frame. */
export interface VirtualSensorFault { readonly message: number; readonly seq: number }

/** What a virtual sensor did. */
export interface VirtualSensorStats {
  /** Messages published (QoS 1: acknowledged by the broker; faulty ones included, skipped ones not) and the frames in them. */
  messages: number;
  frames: number;
  bytes: number;
  /** Messages that could not be sent: QoS 0 while offline; QoS 1 still queued or unacknowledged at close(). */
  unsent: number;
  /** Messages dropped (QoS 1: from a full outbox; QoS 0: the socket's backlog was full), and the frames in them. */
  dropped: number;
  droppedFrames: number;
  /** QoS 1: messages waiting in the outbox now, and unacknowledged now (QoS 0: waiting for a backed-up socket, at most QOS0_BACKLOG). */
  queued: number;
  inFlight: number;
  /** QoS 1: messages the connection failed and that went back into the outbox (sent again: the receiver may see duplicates). */
  retried: number;
  gaps: VirtualSensorFault[];
  malformed: VirtualSensorFault[];
  wrongLength: VirtualSensorFault[];
  nan: VirtualSensorFault[];
}

/** QoS 0: messages that may wait for a backed-up socket before new ones are dropped (module header). */
export const QOS0_BACKLOG = 256;

/** A QoS 1 message waiting in the outbox: its number (1-based, the order to send in), frames and bytes. */
interface OutboxMessage { readonly n: number; readonly count: number; readonly payload: string | Uint8Array }

type Resolved = { -readonly [K in keyof typeof DEFAULT_VIRTUAL_SENSOR_OPTIONS]: (typeof DEFAULT_VIRTUAL_SENSOR_OPTIONS)[K] } & { broker: MqttClientOptions; startTime?: number };
const OWNER = 'VirtualSensor';

/** The planted model: frames x_j = W·h_j + noise·e_j, drawn in order (see the header). */
export class SensorSignal {
  /** W, n×rank row-major. */
  readonly W: Float64Array;
  private readonly rng: Rng;
  private readonly h: Float64Array;

  constructor(readonly n: number, readonly rank: number, k: number, readonly noise: number, seed: number) {
    this.rng = new Rng(seed);
    this.W = new Float64Array(n * rank);
    this.h = new Float64Array(rank);
    const rows: number[] = [];
    for (let c = 0; c < rank; c++) {
      rows.length = 0;
      while (rows.length < k) {
        const i = this.rng.int(n);
        if (!rows.includes(i)) rows.push(i);
      }
      for (const i of rows) this.W[i * rank + c] = Math.abs(this.rng.normal());
    }
  }

  /** Draws the next frame x_j into `out` (length n). */
  next(out: Float64Array): Float64Array {
    const { n, rank, W, h, rng } = this;
    for (let c = 0; c < rank; c++) h[c] = Math.abs(rng.normal());
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let c = 0; c < rank; c++) s += W[i * rank + c]! * h[c]!;
      out[i] = s + this.noise * rng.normal();
    }
    return out;
  }

  /** W as `rank` columns of length n (the shape of `FactorsMessage.W`). */
  columns(): number[][] {
    return Array.from({ length: this.rank }, (_, c) => Array.from({ length: this.n }, (_, i) => this.W[i * this.rank + c]!));
  }
}

/**
 * A virtual sensor publishing on MQTT. Create with `VirtualSensor.start(options)`; `close()` when done.
 *
 * @example
 * const sensor = await VirtualSensor.start({ broker: { url: broker.url }, compressed: 8, nanEvery: 10 });
 * const src = mqttSource(`${broker.url}/cfstream/sensor1`);
 * await sensor.close();
 */
export class VirtualSensor {
  /** The published header. */
  readonly info: StreamInfo;
  readonly topics: StreamTopics;
  readonly options: Readonly<Resolved>;
  /** Resolves when `frames` frames have been generated (never with the default Infinity). */
  readonly done: Promise<void>;
  private readonly signal: SensorSignal;
  private readonly projection: Projection | undefined;
  private readonly x: Float64Array;
  private readonly stat: VirtualSensorStats = {
    messages: 0, frames: 0, bytes: 0, unsent: 0, dropped: 0, droppedFrames: 0, queued: 0, inFlight: 0, retried: 0, gaps: [], malformed: [], wrongLength: [], nan: [],
  };
  /** QoS 1: messages in order of their number, not yet handed to the connection. */
  private readonly outbox: OutboxMessage[] = [];
  /** QoS 0 messages handed to the connection and not yet written (the socket is backed up). */
  private qos0Waiting = 0;
  private closing = false;
  private closed = false;
  private pausedAt: number | undefined;
  private onDrained: (() => void) | undefined;
  private generated = 0; // frames drawn so far (= next seq)
  private messageNo = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private t0 = 0;
  private startedAt = 0;
  private resolveDone!: () => void;

  private constructor(options: VirtualSensorOptions, private readonly connection: MqttConnection) {
    this.options = Object.freeze(resolveOptions(options));
    const o = this.options;
    this.topics = streamTopics(o.prefix, o.stream, OWNER);
    this.signal = new SensorSignal(o.n, o.rank, o.k, o.noise, o.seed);
    this.projection = o.compressed > 0 ? makeProjection({ ensemble: o.ensemble, n: o.n, d: o.compressed, p: o.p, seed: o.seed }) : undefined;
    this.x = new Float64Array(o.n);
    this.info = validateStreamInfo({
      id: o.stream, kind: this.projection ? 'compressed' : 'raw', n: o.n, rate: o.rate, units: 'a.u.',
      labels: Array.from({ length: o.n }, (_, i) => `x${i}`),
      ...(this.projection ? { projection: this.projection.spec } : {}),
    }, OWNER);
    this.done = new Promise<void>((resolve) => (this.resolveDone = resolve));
  }

  /**
   * Connects, publishes the retained info and starts publishing frames.
   * @param options see `VirtualSensorOptions`; checked now (InvalidOptionError)
   * @throws MqttConnectionError when the broker refuses for good
   */
  static async start(options: VirtualSensorOptions): Promise<VirtualSensor> {
    if (typeof options !== 'object' || options === null) throw new InvalidOptionError(OWNER, 'options', 'an options object { broker, … }', options);
    const connection = new MqttConnection(options.broker);
    const sensor = new VirtualSensor(options, connection);
    // Republish the info after every reconnect: a broker restart loses retained messages.
    connection.events$.subscribe((e) => {
      if (e.type !== 'connect') return;
      if (sensor.options.publishInfo) void connection.publish(sensor.topics.info, JSON.stringify(sensor.info), { qos: 1, retain: true, properties: { contentType: 'application/json' } }).catch(() => undefined);
      sensor.pump(); // QoS 1: what waited in the outbox while the link was down
    });
    try {
      await connection.connect();
    } catch (e) {
      await connection.close(true);
      throw e;
    }
    sensor.t0 = sensor.options.startTime ?? Date.now() / 1000;
    sensor.startedAt = performance.now();
    sensor.timer = setInterval(() => sensor.tick(), sensor.options.tickMs);
    return sensor;
  }

  /** The sensor's connection (events, protocol version). */
  get mqtt(): MqttConnection {
    return this.connection;
  }

  /** The planted factors W as `rank` columns of length n. */
  truth(): number[][] {
    return this.signal.columns();
  }

  /** A copy of what was sent and which faults were injected. */
  stats(): VirtualSensorStats {
    const s = this.stat;
    return { ...s, queued: this.outbox.length, inFlight: this.options.qos === 1 ? s.inFlight : this.qos0Waiting, gaps: [...s.gaps], malformed: [...s.malformed], wrongLength: [...s.wrongLength], nan: [...s.nan] };
  }

  /** True while paused. */
  get paused(): boolean {
    return this.pausedAt !== undefined;
  }

  /** Stops publishing (a silent sensor) until `resume()`; no frames are drawn meanwhile. */
  pause(): void {
    if (this.pausedAt !== undefined || !this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.pausedAt = performance.now();
  }

  /** Publishes again after `pause()`, from the next seq, at the same rate (no catch-up burst). */
  resume(): void {
    if (this.pausedAt === undefined || this.closing) return;
    this.startedAt += performance.now() - this.pausedAt;
    this.pausedAt = undefined;
    this.timer = setInterval(() => this.tick(), this.options.tickMs);
  }

  /**
   * Stops publishing; with QoS 1 waits up to closeTimeoutMs for the outbox and the unacknowledged
   * messages (those left are counted as unsent); then disconnects cleanly.
   */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.closing = true;
    if (this.options.qos === 1 && (this.outbox.length > 0 || this.stat.inFlight > 0)) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.closeTimeoutMs);
        this.onDrained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.onDrained = undefined;
      this.stat.unsent += this.outbox.length;
      this.outbox.length = 0;
    }
    await this.connection.close(); // fails what mqtt.js still holds (counted as unsent below)
    // A persistent session's messages stay in mqtt.js's store unsettled: unsent as well.
    this.stat.unsent += this.stat.inFlight;
    this.stat.inFlight = 0;
    this.closed = true;
  }

  private tick(): void {
    const o = this.options;
    const size = o.format === 'json' ? 1 : o.batch;
    const due = Math.min(o.frames, Math.floor(((performance.now() - this.startedAt) / 1000) * o.rate));
    // Whole messages only, except the last one of a finite run, which may be short.
    while (due - this.generated >= size || (due === o.frames && this.generated < o.frames)) {
      this.publishMessage(Math.min(size, o.frames - this.generated));
    }
    if (this.generated >= o.frames) {
      if (this.timer) clearInterval(this.timer);
      this.timer = undefined;
      this.resolveDone();
    }
  }

  private publishMessage(count: number): void {
    const o = this.options;
    const seq = this.generated;
    const n = ++this.messageNo;
    const dims = this.projection ? this.projection.d : o.n;
    const every = (k: number) => k > 0 && n % k === 0;
    const wrong = every(o.wrongLengthEvery);
    const width = wrong ? dims + 1 : dims;
    const values = new Float32Array(count * width);
    const rows: Float64Array[] = [];
    for (let i = 0; i < count; i++) {
      const x = this.signal.next(this.x);
      const row = this.projection ? this.projection.apply(x) : Float64Array.from(x);
      const full = wrong ? Float64Array.of(...row, 0) : row;
      rows.push(full);
      values.set(full, i * width);
    }
    this.generated += count;
    const fault = { message: n, seq };
    if (every(o.gapEvery)) return void this.stat.gaps.push(fault);
    let payload: string | Uint8Array;
    if (every(o.malformedEvery)) {
      payload = this.garbage(this.stat.malformed.length, count, width, values);
      this.stat.malformed.push(fault);
    } else {
      if (wrong) this.stat.wrongLength.push(fault);
      if (every(o.nanEvery)) {
        values[0] = NaN;
        rows[0]![0] = NaN;
        this.stat.nan.push(fault);
      }
      const dt = 1 / o.rate;
      payload = o.format === 'json'
        ? encodeJsonFrame({ seq, t: this.t0 + seq * dt, values: rows[0]! })
        : encodeBatch({ streamId: o.stream, seq, t0: this.t0 + seq * dt, dt, count, dims: width, values });
    }
    if (o.qos === 1) {
      this.outbox.push({ n, count, payload });
      this.pump();
      while (this.outbox.length > o.queueLimit) {
        const old = this.outbox.shift()!;
        this.stat.dropped++;
        this.stat.droppedFrames += old.count;
      }
      return;
    }
    if (this.qos0Waiting >= QOS0_BACKLOG) {
      this.stat.dropped++;
      this.stat.droppedFrames += count;
      return;
    }
    this.qos0Waiting++;
    this.connection.publish(this.topics.frames, payload, { qos: 0 }).then(
      () => { this.qos0Waiting--; this.sent(count, payload.length); },
      () => { this.qos0Waiting--; this.stat.unsent++; },
    );
  }

  private sent(count: number, bytes: number): void {
    this.stat.messages++;
    this.stat.frames += count;
    this.stat.bytes += bytes;
  }

  /** QoS 1: hands outbox messages to the connection while it is up and fewer than maxInFlight are unacknowledged. */
  private pump(): void {
    while (this.connection.connected && this.stat.inFlight < this.options.maxInFlight && this.outbox.length > 0) {
      const m = this.outbox.shift()!;
      this.stat.inFlight++;
      this.connection.publish(this.topics.frames, m.payload, { qos: 1 }).then(() => {
        if (this.closed) return;
        this.stat.inFlight--;
        this.sent(m.count, m.payload.length);
        this.settled();
      }, () => {
        // mqtt.js fails the publishes it still held when the link drops mid-replay: back in order, sent again later.
        if (this.closed) return;
        this.stat.inFlight--;
        if (this.connection.state === 'closed') this.stat.unsent++;
        else {
          let i = 0;
          while (i < this.outbox.length && this.outbox[i]!.n < m.n) i++;
          this.outbox.splice(i, 0, m);
          this.stat.retried++;
        }
        this.settled();
      });
    }
  }

  private settled(): void {
    this.pump();
    if (this.onDrained && this.outbox.length === 0 && this.stat.inFlight === 0) this.onDrained();
  }

  private garbage(i: number, count: number, width: number, values: Float32Array): string | Uint8Array {
    const o = this.options;
    if (o.format === 'json') {
      const kinds = ['{"seq": 1, "t": 0, "values": [1, 2', '{"t": 0, "values": []}', 'not json at all', '{"seq": -3, "t": 0, "values": "x"}'];
      return kinds[i % kinds.length]!;
    }
    const good = encodeBatch({ streamId: o.stream, seq: this.generated - count, t0: 0, dt: 1 / o.rate, count, dims: width, values });
    switch (i % 4) {
      case 0: {
        const bad = good.slice();
        bad[3] = 0x58; // 'CFSX'
        return bad;
      }
      case 1:
        return good.subarray(0, good.length - 3); // truncated samples
      case 2:
        return new TextEncoder().encode('not json at all');
      default:
        return new TextEncoder().encode('{"t": 0, "values": []}');
    }
  }
}

function resolveOptions(options: VirtualSensorOptions): Resolved {
  const known = new Set(['broker', 'startTime', ...Object.keys(DEFAULT_VIRTUAL_SENSOR_OPTIONS)]);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new InvalidOptionError(OWNER, key, `a known option (${[...known].join(', ')})`, (options as unknown as Record<string, unknown>)[key]);
  }
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as VirtualSensorOptions;
  const o = { ...DEFAULT_VIRTUAL_SENSOR_OPTIONS, ...given } as Resolved;
  // The defaults of rank and k shrink to fit a small n; given values are checked as they are.
  if (given.rank === undefined && typeof o.n === 'number') o.rank = Math.min(o.rank, o.n);
  if (given.k === undefined && typeof o.n === 'number') o.k = Math.min(o.k, o.n);
  const int = (key: keyof Resolved, min: number, max = Number.MAX_SAFE_INTEGER) => {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new InvalidOptionError(OWNER, key, `an integer in [${min}, ${max}]`, v);
  };
  int('n', 2, 65536);
  int('rank', 1, o.n);
  int('k', 1, o.n);
  int('batch', 1, 65536);
  int('seed', -(2 ** 31), 2 ** 32);
  for (const key of ['malformedEvery', 'nanEvery', 'wrongLengthEvery', 'gapEvery'] as const) int(key, 0);
  if (o.compressed !== 0) int('compressed', 1, o.n - 1);
  if (!(typeof o.rate === 'number' && Number.isFinite(o.rate) && o.rate > 0)) throw new InvalidOptionError(OWNER, 'rate', 'a number of frames/s > 0', o.rate);
  if (!(typeof o.noise === 'number' && Number.isFinite(o.noise) && o.noise >= 0)) throw new InvalidOptionError(OWNER, 'noise', 'a finite number ≥ 0', o.noise);
  if (!(o.frames === Infinity || (Number.isInteger(o.frames) && o.frames >= 1))) throw new InvalidOptionError(OWNER, 'frames', 'an integer ≥ 1 or Infinity', o.frames);
  if (!(typeof o.tickMs === 'number' && Number.isFinite(o.tickMs) && o.tickMs >= 1)) throw new InvalidOptionError(OWNER, 'tickMs', 'a number of ms ≥ 1', o.tickMs);
  if (o.format !== 'cfsb' && o.format !== 'json') throw new InvalidOptionError(OWNER, 'format', "'cfsb' or 'json'", o.format);
  if (typeof o.publishInfo !== 'boolean') throw new InvalidOptionError(OWNER, 'publishInfo', 'true or false', o.publishInfo);
  if (o.qos !== 0 && o.qos !== 1) throw new InvalidOptionError(OWNER, 'qos', '0 or 1', o.qos);
  int('queueLimit', 0);
  int('maxInFlight', 1, 65535);
  if (!(typeof o.closeTimeoutMs === 'number' && Number.isFinite(o.closeTimeoutMs) && o.closeTimeoutMs >= 0)) throw new InvalidOptionError(OWNER, 'closeTimeoutMs', 'a number of ms ≥ 0', o.closeTimeoutMs);
  if (o.startTime !== undefined && !Number.isFinite(o.startTime)) throw new InvalidOptionError(OWNER, 'startTime', 'a finite number of Unix seconds', o.startTime);
  return o;
}
