/**
 * `cfstream bench load`: N simulated compressive devices publish CFSB batches through a REAL MQTT
 * broker into ONE consuming process that runs one pipeline per device — or, with `workers` N ≥ 1,
 * into N `cfstream run --worker` processes (section "Workers" at the end of this header).
 *
 * ```
 *  devices child process                 broker                     this process (the consumer)
 *  ┌──────────────────────────┐   ┌──────────────────────┐   ┌─────────────────────────────────────────────┐
 *  │ dev000 … dev099          │   │ embedded: aedes in   │   │ 1 MqttConnection (shared) ─┬─ mqttSource ×N │
 *  │ pooled y = P·x frames,   │──▶│   this process       │──▶│  detectGaps → validateFrames → batchFrames   │
 *  │ CFSB batches, QoS 0 / 1, │   │ aedes: aedes in its  │   │  → onlineNmf → share ─┬─ latency, counters   │
 *  │ 1 connection per device  │   │   own child process  │   │                       └─ reconstruct (every  │
 *  └──────────────────────────┘   │ mosquitto / URL      │   │                          few s, staggered)   │
 *                                 └──────────────────────┘   └─────────────────────────────────────────────┘
 * ```
 *
 * Method.
 *   devices  a child process (so the consumer's CPU and RSS are its own), `devices` publishers,
 *            each with its own MqttConnection by default (`deviceConnections` > 0: that many shared
 *            ones). Device i is stream `dev<i>` on `cfbench/dev<i>` with its own seeded signal
 *            (`SensorSignal` of virtualSensor.ts: x = W·h + noise, W n×rank, k non-zeros per
 *            column, seed + i) and its own sparse-binary P (ProjectionSpec {n, d, p, seed + i},
 *            retained in its StreamInfo). Like `VirtualSensor`, but lighter: the frames are drawn
 *            once into a pool of `pool` frames per device and cycled, so the child spends its CPU
 *            on MQTT, not on random numbers; and QoS 1 is selectable (VirtualSensor is QoS 0).
 *   pacing   one 10 ms timer for all devices; device i's frame j has t = start + φ_i + j/rate
 *            (wall clock, Unix seconds, the same clock as the consumer's: one machine), with the
 *            phases φ_i spread over one batch period so that devices do not publish in lock step.
 *            A batch is published as soon as its last frame is due: that instant, t of the last
 *            frame, is the batch's publish time, carried in the CFSB t0/dt. The child measures
 *            how late it actually published (`deviceLagMs`).
 *   consumer one mqttSource per device (on one shared connection by default) feeding
 *            detectGaps → validateFrames → batchFrames(maxBatch = batch) → onlineNmf(rank) →
 *            share(), with `reconstruct` (W = R_P(W̃), fast solver, sliced) every
 *            `reconstructEveryMs` per device, the devices' timers staggered evenly over that
 *            period. `model` 'nmf-only' leaves reconstruct out; 'none' stops after validateFrames
 *            (MQTT + decode + checks only): the three split the consumer's cost.
 *   latency  per frame: the end of the model update that took it (ModelUpdate.doneAt, wall
 *            clock) − the publish time of its batch. `transitMs`: publish time → the frame
 *            reached batchFrames (broker, socket, decode, checks).
 *   windows  every `windowSeconds`: frames received and processed, frames lost in seq gaps,
 *            latency p50/p99, CPU % (100 = one core; process.cpuUsage for the consumer,
 *            /proc/<pid>/stat for the children and mosquitto), event-loop utilisation, RSS, and
 *            the whole machine's CPU from /proc/stat (the load of other work = machine − ours).
 *            Windows that start after `warmupSeconds` and end before the devices stop are
 *            'steady'; the summary reports their medians.
 *   accounting  published = frames the devices' publish calls completed (written at QoS 0,
 *            acknowledged at QoS 1); received = frames decoded by the consumer; dropped = frames
 *            lost inside seq gaps (detectGaps) + frames after the last seq received (tail). The
 *            identity published = received + dropped is checked per device (`accountingExact`):
 *            duplicates or mis-ordered frames break it. After the devices stop, the consumer
 *            drains until everything published is accounted for or `drainMs` pass without progress.
 *
 * Workers (`workers` N ≥ 1; loadWorkers.ts): the consumer is N `cfstream run --worker` processes
 * (pipelines/scaleout) instead of this process — what a deployment scales out with.
 *
 * ```
 *  devices child ──▶ mosquitto / URL ──▶ worker w0 … w<N−1>  (each stream: its own persistent QoS 1
 *  (QoS 1 forced)        │      ▲          session, one owner by rendezvous hash; results under
 *                        │      └───────── cfbench/results/<stream>/{factors,metrics,status,info})
 *                        └──▶ this process: cfbench/results/+/{metrics,factors} subscriber, sampler
 * ```
 *   broker   'mosquitto' (the default with workers) or a URL: workers share streams only through
 *            a real broker (persistent sessions, retained checkpoints), so 'embedded' and 'aedes'
 *            are refused. QoS 1 is forced (a worker's frames session is QoS 1; the report says so).
 *            Each run uses its own worker group `cfbench-<pid>-<time>` (fresh sessions and
 *            checkpoints on a shared broker; on a URL broker they are wiped at the end).
 *   config   a temporary YAML: detectGaps → validate → batch (maxBatch = batch, maxWaitMs) →
 *            onlineNmf (rank, warmStartFrames = 1 s of frames at `rate` rounded to whole batches,
 *            ≥ rank, so the warm start falls in the warm-up; seed) → reconstruct (everyMs =
 *            reconstructEveryMs, final: false; left out with model 'nmf-only') → metrics
 *            (intervalMs 1000); outputs.mqtt prefix cfbench/results. Model 'none' is refused
 *            (a worker needs onlineNmf). Not applicable: consumerConnections (each stream has its
 *            own session), staggerReconstructions (a worker starts each stream's reconstruct timer
 *            when it takes the stream, so the streams' reconstructions run roughly in step).
 *   start    the workers start (`--worker-id w<i> --group … --source <url>/cfbench/+ --json-log
 *            --checkpoint-every 5`, node + src/cli/cfstream.js, cwd the repo root); when every
 *            one has logged 'joined', the devices connect and publish their retained infos (no
 *            frames yet); the bench waits until every stream is 'acquired' by its rendezvous owner
 *            and by no other worker (and still so 0.5 s later), then says go. So no frame is
 *            published before its stream's session exists, and no handover happens mid-run.
 *   processed  from the workers' metrics (`cfbench/results/+/metrics`, one snapshot per stream per
 *            second, `framesTotal` = frames that reached the model): per stream Δ framesTotal /
 *            Δ snapshot time (the worker's clock) between the last snapshots before each window
 *            boundary, summed (per worker: over the streams it holds). Exact in total (the last
 *            snapshot is taken after the last frame), up to one snapshot late per window.
 *   CPU, RSS per worker from /proc/<pid>/stat and /proc/<pid>/status each window; mosquitto
 *            and the devices as above; `benchCpu` is this process (subscriber and sampler only).
 *            Summary over the steady span: it ends with the last steady window and starts with the
 *            earliest steady window that makes it a whole number of reconstruction periods (± 5%;
 *            the streams reconstruct roughly in step, so a 2 s window holds a burst or not and a
 *            span of 3.6 periods would count 3 or 4 bursts; else with the first steady window;
 *            e.g. 20 s, 2 s windows, every 5 s: 10…20 s):
 *            framesPerSecond = Σ streams' Δ framesTotal / Δt, totalWorkerCpu = Σ workers' CPU
 *            seconds / span, framesPerSecondPerCore = framesPerSecond ÷ (totalWorkerCpu / 100)
 *            (workers only; …WithBroker adds mosquitto's CPU); perWorkerCpuMean over the span,
 *            perWorkerCpuMedian over the steady windows (skewed by the bursts).
 *   latency  publish → factors received here (`cfbench/results/+/factors`, live ones only): the
 *            age of the newest frame in each published factors message = transit + batch + model
 *            update + the wait for the reconstruct tick (≤ one batch period) + the reconstruction
 *            itself + publish. Publish → model updated is not observable outside the workers (their
 *            metrics' latency starts when a frame reaches their batchFrames), so it is not
 *            reported; with model 'nmf-only' (no factors) latency is null.
 *   accounting  the devices stop, the bench waits until every stream's metrics account for what
 *            was published (framesTotal + lost + rejected, or `drainMs` (≥ 2.5 s) without
 *            progress), SIGTERMs the workers and reads their 'released' records (stderr JSON log):
 *            per stream, published = fed + gaps + frames before the first seq fed + frames after
 *            the last (tail) and the released seq ranges tile without overlap (`accountingExact`;
 *            QoS 1 redeliveries skipped by seq at a handover are reported as `duplicates`, they do
 *            not break it); `processedEqualsFed`: the metrics' final framesTotal = frames fed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, Socket, type AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { share, Subject, takeUntil, tap, type Observable } from 'rxjs';
import { startBroker, type EmbeddedBroker } from '../../devices/mqtt/broker.js';
import { MqttConnection } from '../../devices/mqtt/client.js';
import { mqttSource } from '../../devices/mqtt/sensor.js';
import { SensorSignal } from '../../simulators/virtualSensor.js';
import { InvalidOptionError } from '../../src/errors.js';
import { encodeBatch, validateStreamInfo, type Frame, type StreamInfo } from '../../src/frames/index.js';
import { makeProjection, type ProjectionSpec } from '../../src/sensing/index.js';
import { batchFrames } from '../batch.js';
import { detectGaps } from '../detectGaps.js';
import { settledWithin } from '../internal/settledWithin.js';
import type { PipelineEvent } from '../events.js';
import { onlineNmf } from '../onlineNmf.js';
import { reconstruct } from '../reconstruct.js';
import type { FactorsMessage, ModelUpdate } from '../types.js';
import { validateFrames } from '../validate.js';
import type { BenchLoadWorkersResult } from './loadWorkers.js';

/** Options of `benchLoad`. */
export interface BenchLoadOptions {
  /** 100. Simulated devices. */
  devices?: number;
  /** 250 frames/s per device. */
  rate?: number;
  /** 20 s of publishing (rounded down to whole batches per device). */
  seconds?: number;
  /** 256. Uncompressed dimension n. */
  n?: number;
  /** 64. Compressed dimension d (the frame length on the wire). */
  d?: number;
  /** 4. Rank of the planted W and of the online model. */
  rank?: number;
  /** 6. Non-zeros per column of the planted W. */
  k?: number;
  /** 5. Ones per column of the sparse-binary P. */
  p?: number;
  /** 0.01. Standard deviation of the additive noise. */
  noise?: number;
  /** 25 frames per CFSB message (and batchFrames' maxBatch). */
  batch?: number;
  /** 0. QoS of the devices' publishes and of the consumer's subscriptions. */
  qos?: 0 | 1;
  /** 'embedded' (aedes in this process, as `cfstream run` runs it). 'aedes': aedes in its own child process; 'mosquitto': one on a free loopback port; or a broker URL. */
  broker?: string;
  /** 0 = one connection per device. Otherwise the devices share this many connections. */
  deviceConnections?: number;
  /** 1. Connections of the consumer (pipelines spread over them). */
  consumerConnections?: number;
  /** 'nmf'. Per-device pipeline: 'nmf' (… onlineNmf + reconstruct), 'nmf-only' (no reconstruct), 'none' (up to validateFrames). */
  model?: BenchLoadModel;
  /** 5000 ms. Reconstruction period per device ('nmf'). */
  reconstructEveryMs?: number;
  /** true. Spread the devices' reconstruction timers evenly over one period (false: all in step). */
  staggerReconstructions?: boolean;
  /** 100 ms. batchFrames' maxWaitMs. */
  maxWaitMs?: number;
  /** 2 s. Measurement window. */
  windowSeconds?: number;
  /** 2 s. Windows starting before this are warm-up (not in the medians). */
  warmupSeconds?: number;
  /** 3000 ms. After the devices stop: give up draining after this long without progress. */
  drainMs?: number;
  /** 500 frames per device drawn before the run and cycled (rounded up to whole batches). */
  pool?: number;
  /** 0. Seed of the signals and projections (device i: seed + i). */
  seed?: number;
  /**
   * 0 = the in-process consumer above. N ≥ 1: N `cfstream run --worker` processes consume instead
   * (loadWorkers.ts; the module header): broker 'mosquitto' (the default then) or a URL, QoS 1.
   */
  workers?: number;
  /** Called with the fraction of the publishing time done. */
  onProgress?: (fraction: number) => void;
}

/** Per-device pipeline of the consumer. */
export type BenchLoadModel = 'nmf' | 'nmf-only' | 'none';

type Resolved = Required<Omit<BenchLoadOptions, 'onProgress'>>;
/** `BenchLoadOptions` checked, with every default filled in (`BenchLoadResult.options`). */
export type BenchLoadResolvedOptions = Resolved;

/** The documented defaults of `BenchLoadOptions`. */
export const DEFAULT_BENCH_LOAD_OPTIONS: Readonly<Resolved> = Object.freeze({
  devices: 100, rate: 250, seconds: 20, n: 256, d: 64, rank: 4, k: 6, p: 5, noise: 0.01, batch: 25, qos: 0,
  broker: 'embedded', deviceConnections: 0, consumerConnections: 1, model: 'nmf', reconstructEveryMs: 5000,
  staggerReconstructions: true, maxWaitMs: 100, windowSeconds: 2, warmupSeconds: 2, drainMs: 3000, pool: 500, seed: 0, workers: 0,
});

/** p50 / p99 / max of a distribution, ms. */
export interface Percentiles { p50: number; p99: number; max: number; count: number }

/** One measurement window. */
export interface LoadWindow {
  /** Seconds since the devices started, at the window's start; its length. */
  start: number;
  seconds: number;
  phase: 'warmup' | 'steady' | 'drain';
  receivedPerSecond: number;
  processedPerSecond: number;
  /** Frames lost in seq gaps detected in this window. */
  dropped: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** CPU %, 100 = one core; null where not measurable (embedded broker: inside the consumer). */
  consumerCpu: number;
  brokerCpu: number | null;
  devicesCpu: number | null;
  /** The whole machine (all processes), and what is left after ours: the other load. */
  machineCpu: number | null;
  otherCpu: number | null;
  /** Event-loop utilisation of the consumer (0…1). */
  consumerElu: number;
  consumerRssMB: number;
}

/** What one device published and what the consumer made of it. */
export interface LoadDeviceResult {
  id: string;
  published: number;
  received: number;
  processed: number;
  rejected: number;
  dropped: number;
  gaps: number;
  /** Messages mqttSource rejected or dropped (their frames count as dropped). */
  badMessages: number;
}

/** Result of `benchLoad` with the in-process consumer (`workers` 0; with workers: `BenchLoadWorkersResult`). */
export interface BenchLoadResult {
  mode: 'in-process';
  options: Resolved;
  broker: { kind: 'embedded' | 'aedes' | 'mosquitto' | 'url'; url: string; separateProcess: boolean; log: string[] };
  machine: { cores: number; loadavgStart: number[]; loadavgEnd: number[] };
  /** devices × rate. */
  targetFramesPerSecond: number;
  totals: {
    messages: number;
    published: number;
    publishFailed: number;
    received: number;
    processed: number;
    rejected: number;
    dropped: number;
    droppedInGaps: number;
    droppedAtTail: number;
    gaps: number;
    /** Messages the consumer's mqttSource rejected or dropped. */
    badMessages: number;
    /** Frames published but not yet received when the devices stopped. */
    backlogAtStop: number;
    /** published = received + dropped for every device. */
    accountingExact: boolean;
    drainSeconds: number;
    consumerDisconnects: number;
  };
  /** Medians over the steady windows. */
  median: Omit<LoadWindow, 'start' | 'seconds' | 'phase'> & { receivedPerDevice: number; processedPerDevice: number };
  /** Per-device received frames/s over the steady windows: the slowest, median and fastest device. */
  perDeviceReceived: { min: number; median: number; max: number };
  /** All steady frames: publish → model updated, and publish → reached batchFrames. */
  latencyMs: Percentiles;
  transitMs: Percentiles;
  /** How late the devices published after each batch was due (child's own clock). */
  deviceLagMs: Percentiles;
  /** Peak RSS, MB. */
  rssMaxMB: { consumer: number; broker: number | null; devices: number | null };
  reconstructions: { count: number; skipped: number; failures: number; medianSeconds: number; longestSliceMs: number };
  /** Target met: received and processed ≥ 99% of devices × rate (steady median) and 0 dropped. */
  targetMet: boolean;
  windows: LoadWindow[];
  devices: LoadDeviceResult[];
}

// (Exported below with `@internal`: shared with loadWorkers.ts, not part of the API.)
/** @internal */
export const OWNER = 'benchLoad';
/** @internal The devices' topic prefix. */
export const PREFIX = 'cfbench';
/** @internal Wall clock, ms (the clock of the CFSB time stamps). */
export const wallMs = (): number => performance.timeOrigin + performance.now();

// ───────────────────────────── IPC between the consumer and its children ─────────────────────────────

/** @internal */
export interface DevicesConfig {
  url: string; devices: number; rate: number; n: number; d: number; rank: number; k: number; p: number; noise: number;
  batch: number; qos: 0 | 1; connections: number; pool: number; seed: number; framesPerDevice: number;
}
/** Publishes of one device not yet settled (written at QoS 0, acknowledged at QoS 1) before it waits. */
const MAX_UNSETTLED = 8;

interface DeviceStats { published: number; messages: number; failed: number }
/** @internal */
export type ToChild = { type: 'devices'; config: DevicesConfig } | { type: 'go'; atMs: number } | { type: 'broker' } | { type: 'stop' };
/** @internal */
export type FromChild =
  | { type: 'ready'; infos: StreamInfo[] }
  | { type: 'done'; stats: DeviceStats[]; lagMs: Percentiles }
  | { type: 'broker'; url: string }
  | { type: 'error'; message: string };

function isMessage<T extends { type: string }>(m: unknown): m is T {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string';
}

/** Starts this module in a child process (through tsx), running `runBenchLoadChild`. */
/** @internal */
export function spawnChild(): ChildProcess {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const script = `import(${JSON.stringify(import.meta.url)}).then((m) => m.runBenchLoadChild())`;
  return spawn(process.execPath, ['--import', tsx, '--input-type=module', '-e', script], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

/**
 * The devices' 'done' message, which they send when every publish settled; a broker that stops
 * acknowledging must not hang the bench, so it gives up 60 s after the run should have ended.
 * @internal shared with loadWorkers.ts
 */
export async function devicesDone(doneMsg: Promise<Extract<FromChild, { type: 'done' }>>, seconds: number): Promise<Extract<FromChild, { type: 'done' }>> {
  let stuck: NodeJS.Timeout | undefined;
  const limit = (seconds + 60) * 1000;
  try {
    return await Promise.race([doneMsg, new Promise<never>((_, reject) => (stuck = setTimeout(() => reject(new Error(`${OWNER}: the devices did not finish publishing within ${limit / 1000} s: the broker stopped acknowledging, or the devices' process cannot send --devices × --rate frames/s on this machine (lower them, or raise --batch)`)), limit)))]);
  } finally {
    clearTimeout(stuck);
  }
}

/** Waits for the first message of `type` from a child (rejects on an 'error' message or an early exit). */
/** @internal */
export function expectFromChild<K extends FromChild['type']>(child: ChildProcess, type: K): Promise<Extract<FromChild, { type: K }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown): void => {
      if (!isMessage<FromChild>(m)) return;
      if (m.type === 'error') { cleanup(); reject(new Error(`${OWNER} child: ${m.message}`)); }
      else if (m.type === type) { cleanup(); resolve(m as Extract<FromChild, { type: K }>); }
    };
    const onExit = (code: number | null): void => { cleanup(); reject(new Error(`${OWNER} child exited (${code}) before '${type}'`)); };
    const cleanup = (): void => { child.off('message', onMessage); child.off('exit', onExit); };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/** @internal */
export function send(child: ChildProcess, m: ToChild): void {
  child.send(m);
}

/** @internal */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) send(child, { type: 'stop' });
  const term = setTimeout(() => child.kill('SIGTERM'), 3000);
  const kill = setTimeout(() => child.kill('SIGKILL'), 6000);
  await exited;
  clearTimeout(term);
  clearTimeout(kill);
}

/** The child's side: an aedes broker, or the devices. Exits when the parent says stop or goes away. */
export async function runBenchLoadChild(): Promise<void> {
  const reply = (m: FromChild): void => void process.send?.(m);
  let cleanup: () => Promise<void> = async () => undefined;
  const exit = (): void => void cleanup().finally(() => process.exit(0));
  process.on('disconnect', exit);
  process.on('message', (m: unknown) => {
    if (!isMessage<ToChild>(m)) return;
    if (m.type === 'stop') exit();
    else if (m.type === 'broker') {
      startBroker({ port: 0, wsPort: false }).then((b) => {
        cleanup = () => b.close();
        reply({ type: 'broker', url: b.url });
      }, (e: unknown) => reply({ type: 'error', message: String(e) }));
    } else if (m.type === 'devices') {
      Fleet.start(m.config).then((fleet) => {
        cleanup = () => fleet.close();
        process.on('message', (g: unknown) => {
          if (isMessage<ToChild>(g) && g.type === 'go') void fleet.run(g.atMs).then((done) => reply(done));
        });
        reply({ type: 'ready', infos: fleet.infos });
      }, (e: unknown) => reply({ type: 'error', message: e instanceof Error ? e.message : String(e) }));
    }
  });
}

// ───────────────────────────── the devices (child process) ─────────────────────────────

/** The simulated devices: pooled compressed frames, one pacing timer, CFSB batches on MQTT. */
class Fleet {
  private constructor(
    private readonly c: DevicesConfig,
    readonly infos: StreamInfo[],
    private readonly pools: Float32Array[],
    private readonly conns: MqttConnection[],
  ) {}

  static async start(c: DevicesConfig): Promise<Fleet> {
    const infos: StreamInfo[] = [];
    const pools: Float32Array[] = [];
    const x = new Float64Array(c.n), y = new Float64Array(c.d);
    for (let i = 0; i < c.devices; i++) {
      const spec: ProjectionSpec = { ensemble: 'sparse-binary', n: c.n, d: c.d, p: c.p, seed: c.seed + i };
      const P = makeProjection(spec);
      const signal = new SensorSignal(c.n, c.rank, c.k, c.noise, c.seed + i);
      const pool = new Float32Array(c.pool * c.d);
      for (let j = 0; j < c.pool; j++) pool.set(P.apply(signal.next(x), y), j * c.d);
      pools.push(pool);
      infos.push(validateStreamInfo({ id: deviceId(i, c.devices), kind: 'compressed', n: c.n, rate: c.rate, units: 'a.u.', projection: spec }, OWNER));
    }
    const count = c.connections > 0 ? Math.min(c.connections, c.devices) : c.devices;
    const conns: MqttConnection[] = [];
    for (let i = 0; i < count; i++) conns.push(new MqttConnection({ url: c.url, clientId: `cfbench_pub_${process.pid}_${i}`, reconnectPeriod: 0 }));
    const fleet = new Fleet(c, infos, pools, conns);
    try {
      await Promise.all(conns.map((conn) => conn.connect()));
      await Promise.all(infos.map((info, i) => fleet.conn(i).publish(`${PREFIX}/${info.id}/info`, JSON.stringify(info), { qos: 1, retain: true })));
    } catch (e) {
      await fleet.close();
      throw e;
    }
    return fleet;
  }

  private conn(i: number): MqttConnection {
    return this.conns[i % this.conns.length]!;
  }

  /** Publishes `framesPerDevice` frames per device from `atMs` (wall clock) on; resolves with the totals when every publish settled. */
  run(atMs: number): Promise<Extract<FromChild, { type: 'done' }>> {
    const c = this.c;
    const period = (c.batch / c.rate) * 1000;
    const starts = this.infos.map((_, i) => atMs + (i / c.devices) * period); // phases φ_i
    const sent = new Array<number>(c.devices).fill(0);
    const stats: DeviceStats[] = this.infos.map(() => ({ published: 0, messages: 0, failed: 0 }));
    const lags: number[] = [];
    const settled: Promise<void>[] = [];
    // Unsettled publishes per device: past MAX_UNSETTLED the device waits (its lag grows and is
    // reported) instead of queueing without bound in this process when the socket cannot keep up.
    const unsettled = new Array<number>(c.devices).fill(0);
    const poolMessages = c.pool / c.batch;
    const dt = 1 / c.rate;
    return new Promise((resolve) => {
      const tick = (): void => {
        const now = wallMs();
        let open = 0;
        for (let i = 0; i < c.devices; i++) {
          const start = starts[i]!;
          // Frames sampled by now: frame j at start + j/rate, so frame 0 at start.
          const due = now < start ? 0 : Math.min(c.framesPerDevice, Math.floor(((now - start) / 1000) * c.rate) + 1);
          while (due - sent[i]! >= c.batch && unsettled[i]! < MAX_UNSETTLED) {
            const seq = sent[i]!;
            const m = (seq / c.batch) % poolMessages;
            const values = this.pools[i]!.subarray(m * c.batch * c.d, (m + 1) * c.batch * c.d);
            const payload = encodeBatch({ streamId: this.infos[i]!.id, seq, t0: start / 1000 + seq * dt, dt, count: c.batch, dims: c.d, values });
            const s = stats[i]!;
            unsettled[i]!++;
            settled.push(this.conn(i).publish(`${PREFIX}/${this.infos[i]!.id}/frames`, payload, { qos: c.qos }).then(
              () => { s.published += c.batch; s.messages++; unsettled[i]!--; },
              () => { s.failed += c.batch; unsettled[i]!--; },
            ));
            lags.push(now - (start + (seq + c.batch - 1) * dt * 1000));
            sent[i] = seq + c.batch;
          }
          if (sent[i]! < c.framesPerDevice) open++;
        }
        if (open > 0) return;
        clearInterval(timer);
        void Promise.all(settled).then(() => resolve({ type: 'done', stats, lagMs: percentiles(Float64Array.from(lags).sort()) }));
      };
      const timer = setInterval(tick, 10);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.conns.map((conn) => conn.close()));
  }
}

function deviceId(i: number, devices: number): string {
  return `dev${String(i).padStart(Math.max(3, String(devices - 1).length), '0')}`;
}

// ───────────────────────────── measurement helpers ─────────────────────────────

/** @internal */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** @internal */
export function percentiles(sorted: Float64Array): Percentiles {
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.length ? sorted[sorted.length - 1]! : NaN, count: sorted.length };
}

/** @internal Median of the finite values (NaN: none). */
export function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const h = v.length >> 1;
  return v.length % 2 ? v[h]! : (v[h - 1]! + v[h]!) / 2;
}

let clockTicks: number | undefined;
/** @internal CPU seconds (user + system) of a process from /proc/<pid>/stat; NaN where /proc is missing. */
export function procCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    clockTicks ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
    return (Number(fields[11]) + Number(fields[12])) / clockTicks; // utime, stime (fields 14, 15)
  } catch {
    return NaN;
  }
}

/** @internal RSS of a process (MB) from /proc/<pid>/status; NaN where /proc is missing. */
export function procRssMB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** @internal Busy and total CPU seconds of the whole machine from /proc/stat (all cores). */
export function machineCpuSeconds(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0); // user … steal (guest is inside user)
    const idle = v[3]! + v[4]!;
    clockTicks ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
    return { busy: (total - idle) / clockTicks, total: total / clockTicks };
  } catch {
    return { busy: NaN, total: NaN };
  }
}

// ───────────────────────────── brokers ─────────────────────────────

/** @internal */
export interface BrokerHandle {
  kind: BenchLoadResult['broker']['kind'];
  url: string;
  /** Process whose CPU is the broker's (undefined: inside the consumer, or unknown). */
  pid: number | undefined;
  log: () => string[];
  close: () => Promise<void>;
}

/** @internal */
export async function openBroker(spec: string): Promise<BrokerHandle> {
  if (spec === 'embedded') {
    const b: EmbeddedBroker = await startBroker({ port: 0, wsPort: false });
    return { kind: 'embedded', url: b.url, pid: undefined, log: () => [], close: () => b.close() };
  }
  if (spec === 'aedes') {
    const child = spawnChild();
    const ready = expectFromChild(child, 'broker');
    send(child, { type: 'broker' });
    const { url } = await ready.catch(async (e: unknown) => { await stopChild(child); throw e; });
    return { kind: 'aedes', url, pid: child.pid, log: () => [], close: () => stopChild(child) };
  }
  if (spec === 'mosquitto') return startMosquitto();
  return { kind: 'url', url: spec, pid: undefined, log: () => [], close: async () => undefined };
}

function findMosquitto(): string | undefined {
  const which = spawnSync('sh', ['-c', 'command -v mosquitto'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  for (const p of ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto']) {
    if (spawnSync('test', ['-x', p]).status === 0) return p;
  }
  return undefined;
}

/** mosquitto (its defaults: max_inflight_messages 20, max_queued_messages 1000) on a free loopback port. */
async function startMosquitto(): Promise<BrokerHandle> {
  const bin = findMosquitto();
  if (!bin) throw new Error(`${OWNER}: --broker mosquitto: no mosquitto binary on PATH or in /usr/sbin (apt-get install mosquitto)`);
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'cfbench-mosquitto-'));
    const conf = join(dir, 'mosquitto.conf');
    writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest stderr', 'log_type error', 'log_type warning', ''].join('\n'));
    const child = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr!.on('data', (b: Buffer) => { if (log.length < 100_000) log += b.toString(); });
    const close = async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    };
    if (await waitForPort(port, child)) return { kind: 'mosquitto', url: `mqtt://127.0.0.1:${port}`, pid: child.pid, log: () => log.split('\n').filter(Boolean).slice(-20), close };
    await close();
  }
  throw new Error(`${OWNER}: mosquitto did not start`);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitForPort(port: number, child: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && child.exitCode === null) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = new Socket();
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
      s.connect(port, '127.0.0.1');
    });
    if (ok) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

// ───────────────────────────── the consumer ─────────────────────────────

/** Counters of one device's pipeline. */
interface Pipe {
  id: string;
  received: number;
  processed: number;
  rejected: number;
  gaps: number;
  lostInGaps: number;
  maxSeq: number;
  /** Messages mqttSource rejected (decode, length, stream id) or dropped before the info. */
  badMessages: number;
}

/** Everything the pipelines record, read by the window sampler. */
interface Recorder {
  pipes: Pipe[];
  latency: number[];
  transit: number[];
  factors: FactorsMessage[];
  skipped: number;
  failures: number;
}

/** Builds and subscribes one device's pipeline; returns a promise that settles when it completes. */
function startPipeline(o: Resolved, info: StreamInfo, index: number, conn: MqttConnection, stop$: Observable<void>, rec: Recorder, subscribed: Promise<void>[]): Promise<void> {
  const pipe: Pipe = { id: info.id, received: 0, processed: 0, rejected: 0, gaps: 0, lostInGaps: 0, maxSeq: -1, badMessages: 0 };
  rec.pipes.push(pipe);
  const src = mqttSource({ connection: conn, topic: `${PREFIX}/${info.id}`, qos: o.qos, info });
  subscribed.push(new Promise<void>((resolve) => {
    const sub = src.events$.subscribe((e) => { if (e.type === 'subscribed') { sub.unsubscribe(); resolve(); } });
  }));
  const onEvent = (e: PipelineEvent): void => {
    if (e.type === 'gap') { pipe.gaps++; pipe.lostInGaps += e.lost; }
    else if (e.type === 'reject') pipe.rejected++;
    else if (e.type === 'skip') rec.skipped++;
    else if (e.type === 'failure') rec.failures++;
  };
  src.events$.subscribe((e) => { if (e.type === 'reject' || e.type === 'drop') pipe.badMessages++; }); // its frames never became frames: they show as lost
  // The publish time of frame `seq`'s message (ms), from the t of a frame `ref` of the same stream:
  // devices publish whole batches from seq 0, each when its last frame is due.
  const dueMs = (t: number, ref: number, seq: number): number => {
    const lastOfMessage = Math.floor(seq / o.batch) * o.batch + o.batch - 1;
    return (t + (lastOfMessage - ref) / o.rate) * 1000;
  };
  const frames$ = src.frames$.pipe(
    takeUntil(stop$),
    tap((f: Frame) => {
      pipe.received++;
      if (f.seq > pipe.maxSeq) pipe.maxSeq = f.seq;
      rec.transit.push(wallMs() - dueMs(f.t, f.seq, f.seq));
    }),
    detectGaps({ onEvent }),
    validateFrames(info, { onEvent }),
  );
  if (o.model === 'none') {
    return new Promise<void>((resolve, reject) => frames$.subscribe({ next: () => { pipe.processed++; }, error: reject, complete: resolve }));
  }
  const updates = frames$.pipe(
    batchFrames({ maxBatch: o.batch, maxWaitMs: o.maxWaitMs, now: wallMs, onEvent }),
    onlineNmf({ rank: o.rank, seed: o.seed + index }, { now: wallMs, onEvent }),
    tap((u: ModelUpdate) => {
      pipe.processed += u.count;
      // A block is one whole message here (maxBatch = batch): consecutive seqs ending at lastSeq. (After a
      // gap or a rejected frame a block may straddle two messages; its frames are then counted back from lastSeq.)
      for (let s = u.lastSeq - u.count + 1; s <= u.lastSeq; s++) rec.latency.push(u.doneAt - dueMs(u.t, u.lastSeq, s));
    }),
    share(),
  );
  const done: Promise<void>[] = [new Promise<void>((resolve, reject) => updates.subscribe({ error: reject, complete: resolve }))];
  if (o.model === 'nmf') {
    const branch = updates.pipe(reconstruct(info.projection!, { everyMs: o.reconstructEveryMs, final: false, onEvent }));
    const subscribeBranch = (): Promise<void> => new Promise<void>((resolve, reject) => branch.subscribe({ next: (f) => rec.factors.push(f), error: reject, complete: resolve }));
    const delay = o.staggerReconstructions ? (index / o.devices) * o.reconstructEveryMs : 0;
    if (delay === 0) done.push(subscribeBranch());
    else {
      done.push(new Promise<void>((resolve, reject) => {
        // Subscribing later shifts this device's reconstruction timer; it samples the live model, so it misses nothing.
        const timer = setTimeout(() => { stopSub.unsubscribe(); subscribeBranch().then(resolve, reject); }, delay);
        const stopSub = stop$.subscribe(() => { clearTimeout(timer); resolve(); });
      }));
    }
  }
  return Promise.all(done).then(() => undefined);
}

/** Samples the counters every window. */
class Sampler {
  readonly windows: LoadWindow[] = [];
  readonly rssMax = { consumer: 0, broker: NaN, devices: NaN };
  /** Latencies (publish → model updated) and transit times (publish → decoded) of the frames of the steady windows, ms. */
  readonly steadyLatency: number[] = [];
  readonly steadyTransit: number[] = [];
  private last: ReturnType<Sampler['read']>;
  private perDeviceAtStart: number[];
  private perDeviceAtSteady: number[] | undefined;
  private perDeviceAtEnd: number[] | undefined;

  constructor(private readonly o: Resolved, private readonly rec: Recorder, private readonly goAt: number, private readonly brokerPid: number | undefined, private readonly devicesPid: number | undefined) {
    this.last = this.read();
    this.perDeviceAtStart = rec.pipes.map((p) => p.received);
  }

  private read() {
    let received = 0, processed = 0, lost = 0;
    for (const p of this.rec.pipes) { received += p.received; processed += p.processed; lost += p.lostInGaps; }
    return {
      at: wallMs(), received, processed, lost, cpu: process.cpuUsage(), elu: performance.eventLoopUtilization(),
      broker: this.brokerPid === undefined ? NaN : procCpuSeconds(this.brokerPid),
      devices: this.devicesPid === undefined ? NaN : procCpuSeconds(this.devicesPid),
      machine: machineCpuSeconds(),
    };
  }

  /** Closes the current window. */
  sample(): LoadWindow {
    const prev = this.last, cur = this.read();
    this.last = cur;
    const s = (cur.at - prev.at) / 1000;
    const start = (prev.at - this.goAt) / 1000;
    const end = start + s;
    const phase: LoadWindow['phase'] = start < this.o.warmupSeconds - 1e-3 ? 'warmup' : end <= this.o.seconds + 0.05 ? 'steady' : 'drain';
    const lat = Float64Array.from(this.rec.latency.splice(0)).sort();
    const pct = (cpuS: number) => (100 * cpuS) / s;
    const consumerCpu = pct((cur.cpu.user - prev.cpu.user + cur.cpu.system - prev.cpu.system) / 1e6);
    const brokerCpu = this.brokerPid === undefined ? null : pct(cur.broker - prev.broker);
    const devicesCpu = this.devicesPid === undefined ? null : pct(cur.devices - prev.devices);
    const machineCpu = Number.isFinite(cur.machine.busy) ? (100 * (cur.machine.busy - prev.machine.busy) * cpus().length) / (cur.machine.total - prev.machine.total) : null;
    const rss = process.memoryUsage.rss() / 2 ** 20;
    this.rssMax.consumer = Math.max(this.rssMax.consumer, rss);
    if (this.brokerPid !== undefined) this.rssMax.broker = Math.max(Number.isNaN(this.rssMax.broker) ? 0 : this.rssMax.broker, procRssMB(this.brokerPid));
    if (this.devicesPid !== undefined) this.rssMax.devices = Math.max(Number.isNaN(this.rssMax.devices) ? 0 : this.rssMax.devices, procRssMB(this.devicesPid));
    const perDevice = this.rec.pipes.map((p) => p.received);
    if (phase === 'steady') {
      this.perDeviceAtSteady ??= this.perDeviceAtStart; // the counts when the first steady window began
      this.perDeviceAtEnd = perDevice;
    }
    this.perDeviceAtStart = perDevice;
    const w: LoadWindow = {
      start, seconds: s, phase,
      receivedPerSecond: (cur.received - prev.received) / s,
      processedPerSecond: (cur.processed - prev.processed) / s,
      dropped: cur.lost - prev.lost,
      latencyP50Ms: percentile(lat, 0.5),
      latencyP99Ms: percentile(lat, 0.99),
      consumerCpu, brokerCpu, devicesCpu, machineCpu,
      otherCpu: machineCpu === null ? null : Math.max(0, machineCpu - consumerCpu - (brokerCpu ?? 0) - (devicesCpu ?? 0)),
      consumerElu: performance.eventLoopUtilization(cur.elu, prev.elu).utilization,
      consumerRssMB: rss,
    };
    const transit = this.rec.transit.splice(0);
    if (phase === 'steady') {
      for (const v of lat) this.steadyLatency.push(v);
      for (const v of transit) this.steadyTransit.push(v);
    }
    this.windows.push(w);
    return w;
  }

  /** Per-device received frames/s over the steady windows. */
  perDeviceReceived(): { min: number; median: number; max: number } {
    const steady = this.windows.filter((w) => w.phase === 'steady');
    const seconds = steady.reduce((a, w) => a + w.seconds, 0);
    if (!this.perDeviceAtSteady || !this.perDeviceAtEnd || seconds === 0) return { min: NaN, median: NaN, max: NaN };
    const rates = this.perDeviceAtEnd.map((v, i) => (v - this.perDeviceAtSteady![i]!) / seconds);
    return { min: Math.min(...rates), median: median(rates), max: Math.max(...rates) };
  }
}

function resolveOptions(options: BenchLoadOptions): Resolved {
  const bad = (option: string, allowed: string, value: unknown): never => {
    throw new InvalidOptionError(OWNER, option, allowed, value);
  };
  const known = new Set([...Object.keys(DEFAULT_BENCH_LOAD_OPTIONS), 'onProgress']);
  for (const key of Object.keys(options)) if (!known.has(key)) bad(key, `a known option (${[...known].join(', ')})`, (options as Record<string, unknown>)[key]);
  const given = Object.fromEntries(Object.entries(options).filter(([k, v]) => v !== undefined && k !== 'onProgress')) as Partial<Resolved>;
  const o: Resolved = { ...DEFAULT_BENCH_LOAD_OPTIONS, ...given };
  // With workers the broker defaults to mosquitto: they cannot share streams through aedes (below).
  if (given.broker === undefined && typeof o.workers === 'number' && o.workers > 0) o.broker = 'mosquitto';
  const int = (key: keyof Resolved, min: number, max = Number.MAX_SAFE_INTEGER): void => {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) bad(key, `an integer in [${min}, ${max}]`, v);
  };
  const num = (key: keyof Resolved, min = 0): void => {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) bad(key, `a number ≥ ${min}`, v);
  };
  int('devices', 1, 10_000); int('n', 2, 65_536); int('d', 1, o.n - 1); int('rank', 1, o.d); int('k', 1, o.n); int('p', 1, o.d);
  int('batch', 1, 4096); int('deviceConnections', 0); int('consumerConnections', 1); int('pool', 1); int('seed', 0, 2 ** 31); int('workers', 0, 256);
  num('rate', 1e-3); num('seconds', 0.1); num('noise'); num('reconstructEveryMs'); num('maxWaitMs'); num('windowSeconds', 0.1); num('warmupSeconds'); num('drainMs');
  if (o.qos !== 0 && o.qos !== 1) bad('qos', '0 or 1', o.qos);
  if (!['nmf', 'nmf-only', 'none'].includes(o.model)) bad('model', "'nmf', 'nmf-only' or 'none'", o.model);
  if (typeof o.staggerReconstructions !== 'boolean') bad('staggerReconstructions', 'true or false', o.staggerReconstructions);
  if (typeof o.broker !== 'string' || (!['embedded', 'aedes', 'mosquitto'].includes(o.broker) && !/^(mqtts?|wss?):\/\/.+/.test(o.broker))) {
    bad('broker', "'embedded', 'aedes', 'mosquitto' or a broker URL (mqtt://host:port, …)", o.broker);
  }
  if (o.workers > 0) {
    if (o.broker === 'embedded' || o.broker === 'aedes') {
      bad('broker', `'mosquitto' or a broker URL with workers (${o.workers}): workers are separate processes that share the device streams only through a real broker (persistent per-stream sessions, retained checkpoints)`, o.broker);
    }
    if (o.broker !== 'mosquitto' && !/^[a-z]+:\/\/[^/]+\/?$/.test(o.broker)) {
      bad('broker', 'a broker URL without a path with workers (the workers read <url>/cfbench/+)', o.broker);
    }
    if (o.model === 'none') bad('model', "'nmf' or 'nmf-only' with workers (a worker hands a stream over by its online NMF model, so its pipeline needs onlineNmf)", o.model);
  }
  if (Math.floor((o.seconds * o.rate) / o.batch) < 1) bad('seconds', `long enough for one batch of ${o.batch} frames at ${o.rate} frames/s`, o.seconds);
  o.pool = Math.ceil(o.pool / o.batch) * o.batch;
  return o;
}

/**
 * Runs the load bench: devices in a child process, a real broker, one consumer pipeline per
 * device in this process, or `workers` worker processes (see the module header for the method).
 * @param options see `BenchLoadOptions`; checked now (InvalidOptionError)
 * @returns the measurements; `targetMet` says whether devices × rate went through with 0 dropped
 */
export function benchLoad(options?: BenchLoadOptions & { workers?: 0 }): Promise<BenchLoadResult>;
export function benchLoad(options: BenchLoadOptions): Promise<BenchLoadResult | BenchLoadWorkersResult>;
export async function benchLoad(options: BenchLoadOptions = {}): Promise<BenchLoadResult | BenchLoadWorkersResult> {
  const o = resolveOptions(options);
  if (o.workers > 0) {
    const { benchLoadWorkers } = await import('./loadWorkers.js');
    return benchLoadWorkers(o, options.onProgress);
  }
  const framesPerDevice = Math.floor((o.seconds * o.rate) / o.batch) * o.batch;
  const loadavgStart = loadavg();
  const broker = await openBroker(o.broker);
  const closers: Array<() => Promise<void>> = [() => broker.close()];
  const closeAll = async (): Promise<void> => { for (const c of closers.reverse()) await c().catch(() => undefined); };
  try {
    const devices = spawnChild();
    closers.push(() => stopChild(devices));
    const ready = expectFromChild(devices, 'ready');
    send(devices, { type: 'devices', config: {
      url: broker.url, devices: o.devices, rate: o.rate, n: o.n, d: o.d, rank: o.rank, k: o.k, p: o.p, noise: o.noise,
      batch: o.batch, qos: o.qos, connections: o.deviceConnections, pool: o.pool, seed: o.seed, framesPerDevice,
    } });
    const { infos } = await ready;

    const conns: MqttConnection[] = [];
    for (let i = 0; i < Math.min(o.consumerConnections, o.devices); i++) conns.push(new MqttConnection({ url: broker.url, clientId: `cfbench_sub_${process.pid}_${i}` }));
    closers.push(async () => { await Promise.all(conns.map((c) => c.close())); });
    let consumerDisconnects = 0;
    for (const c of conns) c.events$.subscribe((e) => { if (e.type === 'offline') consumerDisconnects++; });
    await Promise.all(conns.map((c) => c.connect()));

    const rec: Recorder = { pipes: [], latency: [], transit: [], factors: [], skipped: 0, failures: 0 };
    const stop$ = new Subject<void>();
    // On an error too: the pipelines' reconstruct timers would keep the process alive.
    closers.push(async () => { stop$.next(); stop$.complete(); }); // no-ops once completed
    const subscribed: Promise<void>[] = [];
    const finished = infos.map((info, i) => startPipeline(o, info, i, conns[i % conns.length]!, stop$, rec, subscribed));
    finished.forEach((p) => p.catch(() => undefined));
    await Promise.all(subscribed);

    // Go: 200 ms from now, so the child has the message before its first frame is due.
    const goAt = wallMs() + 200;
    const doneMsg = expectFromChild(devices, 'done');
    send(devices, { type: 'go', atMs: goAt });
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, goAt - wallMs())));
    performance.eventLoopUtilization(); // (starts the ELU accounting at go)
    const sampler = new Sampler(o, rec, goAt, broker.pid, devices.pid);
    const windowTimer = setInterval(() => {
      const w = sampler.sample();
      options.onProgress?.(Math.min(1, (w.start + w.seconds) / o.seconds));
    }, o.windowSeconds * 1000);
    closers.push(async () => clearInterval(windowTimer));

    const done = await devicesDone(doneMsg, o.seconds);
    const stoppedAt = wallMs();
    const published = done.stats.reduce((a, s) => a + s.published, 0);
    const accounted = (): number => rec.pipes.reduce((a, p) => a + p.received + p.lostInGaps, 0);
    const backlogAtStop = published - rec.pipes.reduce((a, p) => a + p.received, 0);
    // Drain: until every published frame is received or lost in a gap, or no progress for drainMs.
    let lastProgress = wallMs(), seen = accounted();
    while (accounted() < published && wallMs() - lastProgress < o.drainMs) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const now = accounted();
      if (now !== seen) { seen = now; lastProgress = wallMs(); }
    }
    // batchFrames flushes a partial block after maxWaitMs: let the model catch up with what was received.
    const settle = wallMs() + o.maxWaitMs + 500;
    while (o.model !== 'none' && wallMs() < settle && rec.pipes.some((p) => p.processed + p.rejected < p.received)) await new Promise((resolve) => setTimeout(resolve, 10));
    const drainSeconds = (wallMs() - stoppedAt) / 1000;
    clearInterval(windowTimer);
    sampler.sample();
    stop$.next();
    stop$.complete();
    await settledWithin(Promise.allSettled(finished), 10_000);

    const result = summarize(o, broker, done, rec, sampler, { loadavgStart, backlogAtStop, drainSeconds, consumerDisconnects });
    await closeAll();
    result.machine.loadavgEnd = loadavg();
    return result;
  } catch (e) {
    await closeAll();
    throw e;
  }
}

function summarize(
  o: Resolved, broker: BrokerHandle, done: Extract<FromChild, { type: 'done' }>, rec: Recorder, sampler: Sampler,
  extra: { loadavgStart: number[]; backlogAtStop: number; drainSeconds: number; consumerDisconnects: number },
): BenchLoadResult {
  const devices: LoadDeviceResult[] = rec.pipes.map((p, i) => {
    const s = done.stats[i]!;
    const tail = Math.max(0, s.published - (p.maxSeq + 1));
    return { id: p.id, published: s.published, received: p.received, processed: p.processed, rejected: p.rejected, dropped: p.lostInGaps + tail, gaps: p.gaps, badMessages: p.badMessages };
  });
  const sum = (f: (d: LoadDeviceResult) => number): number => devices.reduce((a, d) => a + f(d), 0);
  const droppedInGaps = rec.pipes.reduce((a, p) => a + p.lostInGaps, 0);
  const steady = sampler.windows.filter((w) => w.phase === 'steady');
  const med = (f: (w: LoadWindow) => number | null): number => median(steady.map((w) => f(w) ?? NaN));
  const nullable = (v: number): number | null => (Number.isNaN(v) ? null : v);
  const receivedPerSecond = med((w) => w.receivedPerSecond);
  const processedPerSecond = med((w) => w.processedPerSecond);
  const target = o.devices * o.rate;
  const dropped = sum((d) => d.dropped);
  const recSeconds = rec.factors.map((f) => f.seconds);
  return {
    mode: 'in-process',
    options: o,
    broker: { kind: broker.kind, url: broker.url, separateProcess: broker.pid !== undefined, log: broker.log() },
    machine: { cores: cpus().length, loadavgStart: extra.loadavgStart, loadavgEnd: [] },
    targetFramesPerSecond: target,
    totals: {
      messages: done.stats.reduce((a, s) => a + s.messages, 0),
      published: sum((d) => d.published),
      publishFailed: done.stats.reduce((a, s) => a + s.failed, 0),
      received: sum((d) => d.received),
      processed: sum((d) => d.processed),
      rejected: sum((d) => d.rejected),
      dropped, droppedInGaps, droppedAtTail: dropped - droppedInGaps,
      gaps: sum((d) => d.gaps),
      badMessages: sum((d) => d.badMessages),
      backlogAtStop: extra.backlogAtStop,
      accountingExact: devices.every((d) => d.published === d.received + d.dropped),
      drainSeconds: extra.drainSeconds,
      consumerDisconnects: extra.consumerDisconnects,
    },
    median: {
      receivedPerSecond, processedPerSecond,
      receivedPerDevice: receivedPerSecond / o.devices, processedPerDevice: processedPerSecond / o.devices,
      dropped: med((w) => w.dropped),
      latencyP50Ms: med((w) => w.latencyP50Ms), latencyP99Ms: med((w) => w.latencyP99Ms),
      consumerCpu: med((w) => w.consumerCpu),
      brokerCpu: nullable(med((w) => w.brokerCpu)), devicesCpu: nullable(med((w) => w.devicesCpu)),
      machineCpu: nullable(med((w) => w.machineCpu)), otherCpu: nullable(med((w) => w.otherCpu)),
      consumerElu: med((w) => w.consumerElu), consumerRssMB: med((w) => w.consumerRssMB),
    },
    perDeviceReceived: sampler.perDeviceReceived(),
    latencyMs: percentiles(Float64Array.from(sampler.steadyLatency).sort()),
    transitMs: percentiles(Float64Array.from(sampler.steadyTransit).sort()),
    deviceLagMs: done.lagMs,
    rssMaxMB: { consumer: sampler.rssMax.consumer, broker: nullable(sampler.rssMax.broker), devices: nullable(sampler.rssMax.devices) },
    reconstructions: {
      count: rec.factors.length, skipped: rec.skipped, failures: rec.failures, medianSeconds: median(recSeconds),
      longestSliceMs: rec.factors.length ? Math.max(...rec.factors.map((f) => f.longestSliceMs)) : NaN,
    },
    targetMet: dropped === 0 && receivedPerSecond >= 0.99 * target && processedPerSecond >= 0.99 * target,
    windows: sampler.windows,
    devices,
  };
}
