/**
 * `cfstream bench load --workers N`: the load bench with N `cfstream run --worker` processes as the
 * consumer (pipelines/scaleout) instead of one in-process consumer. The method (broker, worker
 * config, start-up order, how frames processed, CPU, latency and the accounting are measured) is in
 * load.ts's module header, section "Workers"; this file is its code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify as toYaml } from 'yaml';
import { MqttConnection, type MqttMessage } from '../../devices/mqtt/client.js';
import { settledWithin } from '../internal/settledWithin.js';
import { ownerOf } from '../scaleout/assign.js';
import {
  devicesDone, expectFromChild, machineCpuSeconds, median, openBroker, OWNER, percentile, percentiles, PREFIX, procCpuSeconds, procRssMB, send, spawnChild,
  stopChild, wallMs, type BenchLoadResolvedOptions, type BenchLoadResult, type FromChild, type Percentiles,
} from './load.js';

/** The repository root (the workers run `src/cli/cfstream.js` from it). */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Where the workers publish their results. */
const RESULTS_PREFIX = `${PREFIX}/results`;
/** Period of the workers' metrics snapshots, ms (the `metrics` stage of the generated config). */
const METRICS_INTERVAL_MS = 1000;
/** `--checkpoint-every` of the workers, s. */
const CHECKPOINT_EVERY_S = 5;

/** One worker in one window. */
export interface LoadWorkerWindow {
  id: string;
  /** CPU %, 100 = one core (/proc/<pid>/stat); null where /proc is missing. */
  cpu: number | null;
  /** RSS at the window's end (/proc/<pid>/status), MB. */
  rssMB: number | null;
  /** Frames that reached the models of the streams it holds, per second (from their metrics). */
  processedPerSecond: number;
  streams: number;
}

/** One measurement window of the workers mode. */
export interface LoadWorkersWindow {
  /** Seconds since the devices started, at the window's start; its length. */
  start: number;
  seconds: number;
  phase: 'warmup' | 'steady' | 'drain';
  /** Σ over streams of Δ framesTotal / Δ snapshot time (module header of load.ts). */
  processedPerSecond: number;
  /** Frames the workers' detectGaps counted as lost in the window (metrics `lost`). */
  dropped: number;
  workers: LoadWorkerWindow[];
  /** Σ of the workers' CPU %, and processedPerSecond ÷ (that / 100). */
  workersCpu: number | null;
  framesPerSecondPerCore: number | null;
  /** mosquitto (null with a URL broker), the devices' child, this process (subscriber and sampler). */
  brokerCpu: number | null;
  devicesCpu: number | null;
  benchCpu: number;
  /** The whole machine, and what is left after ours (workers, broker, devices, bench): the other load. */
  machineCpu: number | null;
  otherCpu: number | null;
  /** Publish → factors received, over the factors messages that arrived in the window (NaN: none). */
  factorsLatencyP50Ms: number;
  factorsLatencyP99Ms: number;
  /** Streams without a new metrics snapshot since the previous window (counted as 0 frames/s). */
  staleStreams: number;
}

/** One worker over the run. */
export interface LoadWorkerResult {
  id: string;
  pid: number | undefined;
  /** Streams it held when the devices started (plus any it took later: `lateAcquisitions`). */
  streams: string[];
  lateAcquisitions: number;
  /** Sums over its 'released' records. */
  fed: number;
  gaps: number;
  duplicates: number;
  rejects: number;
  reconstructions: number;
  /** Medians over the steady windows; peak RSS over all windows. */
  cpuMedian: number | null;
  rssMedianMB: number | null;
  rssMaxMB: number | null;
  processedPerSecondMedian: number;
  /** 'warning' records it logged, and the first few. */
  warnings: number;
  warningSamples: string[];
  exitCode: number | null;
  signal: string | null;
}

/** One device stream: what was published and what the workers' 'released' records say. */
export interface LoadWorkerStream {
  id: string;
  /** The worker that fed it most frames (null: none). */
  owner: string | null;
  published: number;
  fed: number;
  /** The last metrics snapshot's framesTotal (null: none arrived). */
  processed: number | null;
  gaps: number;
  /** Frames before the first seq fed, and after the last one. */
  beforeFirst: number;
  tail: number;
  dropped: number;
  duplicates: number;
  rejects: number;
  firstSeq: number;
  lastSeq: number;
  /** 'released' records of this stream (1 without handovers). */
  tasks: number;
  /** published = fed + gaps + beforeFirst + tail and the ranges tile without overlap (skipped redeliveries, `duplicates`, do not break it). */
  exact: boolean;
}

/** Result of `benchLoad` with `workers` ≥ 1. */
export interface BenchLoadWorkersResult {
  mode: 'workers';
  /** The options as run (qos: 1). */
  options: BenchLoadResolvedOptions;
  qos: { requested: 0 | 1; used: 1; note: string };
  broker: BenchLoadResult['broker'];
  machine: { cores: number; loadavgStart: number[]; loadavgEnd: number[] };
  /** devices × rate. */
  targetFramesPerSecond: number;
  /** The generated worker config and how the workers were started. */
  workerConfig: { yaml: string; group: string; source: string; checkpointEverySeconds: number; warmStartFrames: number };
  /** Seconds from the start until every worker had joined, and until every stream was held by its owner. */
  startup: { joinedSeconds: number; acquiredSeconds: number };
  totals: {
    messages: number;
    published: number;
    publishFailed: number;
    /** Frames fed to the workers' pipelines ('released' records). */
    fed: number;
    /** Frames that reached the models (the last metrics snapshots). */
    processed: number;
    dropped: number;
    droppedInGaps: number;
    droppedBeforeFirst: number;
    droppedAtTail: number;
    duplicates: number;
    /** Messages the workers could not decode. */
    rejects: number;
    /** Factors messages the workers published ('released' records). */
    reconstructions: number;
    accountingExact: boolean;
    processedEqualsFed: boolean;
    /** Acquisitions after the devices started (0: no handover during the run). */
    lateAcquisitions: number;
    /** Metrics or factors messages this process could not parse. */
    badResults: number;
    drainSeconds: number;
    /** SIGTERM → every worker exited. */
    stopSeconds: number;
  };
  /** Over the steady span (load.ts module header): the figures a sizing uses. */
  summary: {
    steadySeconds: number;
    /** Whole reconstruction periods the span covers (null: model 'nmf-only', or no such span: all steady windows). */
    reconstructionPeriods: number | null;
    framesPerSecond: number;
    dropped: number;
    /** Each worker's median over the steady windows (skewed by the in-step reconstruction bursts) and its mean over the span. */
    perWorkerCpuMedian: (number | null)[];
    perWorkerCpuMean: (number | null)[];
    totalWorkerCpu: number | null;
    framesPerSecondPerCore: number | null;
    framesPerSecondPerCoreWithBroker: number | null;
    brokerCpu: number | null;
  };
  /** Medians over the steady windows (a window's CPU swings with the reconstruction bursts: size with `summary`). */
  median: {
    processedPerSecond: number;
    processedPerDevice: number;
    workersCpu: number | null;
    brokerCpu: number | null;
    devicesCpu: number | null;
    benchCpu: number;
    machineCpu: number | null;
    otherCpu: number | null;
  };
  /** Publish → factors received, over the steady windows; null without factors (model 'nmf-only', or none arrived). */
  latencyMs: Percentiles | null;
  latencyNote: string;
  /** How late the devices published after each batch was due (child's own clock). */
  deviceLagMs: Percentiles;
  /** Factors messages received here, and the median recovery time they report. */
  reconstructions: { received: number; medianSeconds: number };
  rssMaxMB: { workers: (number | null)[]; broker: number | null; devices: number | null; bench: number };
  /** framesPerSecond ≥ 99% of devices × rate and 0 dropped. */
  targetMet: boolean;
  windows: LoadWorkersWindow[];
  workers: LoadWorkerResult[];
  streams: LoadWorkerStream[];
}

// ───────────────────────────── the worker processes ─────────────────────────────

/** A worker's 'released' record (runWorker.ts, StreamTaskReport). */
interface Released {
  stream: string;
  reason: string;
  firstSeq: number;
  lastSeq: number;
  frames: number;
  gaps: number;
  duplicates: number;
  rejects: number;
  reconstructions: number;
}

/** One `cfstream run --worker` child and what its JSON log said. */
class WorkerProcess {
  /** Streams acquired and not released. */
  readonly holding = new Set<string>();
  /** Streams held when the devices started, plus those acquired after. */
  readonly streams = new Set<string>();
  readonly released: Released[] = [];
  joined = false;
  lateAcquisitions = 0;
  warnings = 0;
  readonly warningSamples: string[] = [];
  exitInfo: { code: number | null; signal: string | null } | undefined;
  readonly exited: Promise<void>;
  private measuring = false;
  private partial = '';
  private readonly tail: string[] = [];

  constructor(readonly id: string, readonly child: ChildProcess) {
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      const lines = (this.partial + chunk).split('\n');
      this.partial = lines.pop()!;
      for (const line of lines) this.line(line);
    });
    this.exited = new Promise<void>((resolve) => child.once('exit', (code, signal) => { this.exitInfo = { code, signal }; resolve(); }));
  }

  static spawn(id: string, configPath: string, group: string, source: string): WorkerProcess {
    const child = spawn(process.execPath, [
      join(ROOT, 'src/cli/cfstream.js'), 'run', configPath, '--worker', '--worker-id', id, '--group', group,
      '--source', source, '--json-log', '--checkpoint-every', String(CHECKPOINT_EVERY_S),
    ], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    return new WorkerProcess(id, child);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** From now on acquisitions are counted as late (a handover during the run). */
  startMeasuring(): void {
    this.measuring = true;
    for (const s of this.holding) this.streams.add(s);
  }

  private line(line: string): void {
    let e: Record<string, unknown> | undefined;
    if (line.startsWith('{')) {
      try {
        e = JSON.parse(line) as Record<string, unknown>;
      } catch {
        e = undefined;
      }
    }
    if (!e) {
      this.tail.push(line);
      if (this.tail.length > 30) this.tail.shift();
      return;
    }
    const stream = typeof e.stream === 'string' ? e.stream : '';
    switch (e.event) {
      case 'joined': this.joined = true; break;
      case 'acquired':
        this.holding.add(stream);
        if (this.measuring) { this.streams.add(stream); this.lateAcquisitions++; }
        break;
      case 'released': this.holding.delete(stream); this.released.push(e as unknown as Released); break;
      case 'warning':
        this.warnings++;
        if (this.warningSamples.length < 5) this.warningSamples.push(String(e.message));
        break;
      default: break;
    }
  }

  /** What it wrote to stderr besides the JSON records (the last lines). */
  stderrTail(): string {
    return [...this.tail, this.partial].filter(Boolean).join('\n');
  }

  /** SIGTERM (the worker releases its streams and exits), SIGKILL after `graceMs`. */
  async terminate(graceMs: number): Promise<void> {
    if (this.exitInfo) return;
    this.child.kill('SIGTERM');
    await settledWithin(this.exited, graceMs);
    if (!this.exitInfo) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

/** Polls `ready` every 50 ms; throws when a worker exits meanwhile or after `timeoutMs` (with `what` and `progress()`). */
async function waitUntil(ready: () => boolean, workers: WorkerProcess[], timeoutMs: number, what: string, progress: () => string): Promise<void> {
  const deadline = wallMs() + timeoutMs;
  while (!ready()) {
    const dead = workers.find((w) => w.exitInfo);
    if (dead) throw new Error(`${OWNER}: worker ${dead.id} exited (${dead.exitInfo!.code ?? dead.exitInfo!.signal}) while waiting for ${what}:\n${dead.stderrTail()}`);
    if (wallMs() > deadline) {
      throw new Error(`${OWNER}: timed out after ${timeoutMs / 1000} s waiting for ${what} (${progress()}); worker stderr:\n${workers.map((w) => `[${w.id}] ${w.stderrTail()}`).join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// ───────────────────────────── the results subscriber ─────────────────────────────

/** The fields of a metrics snapshot this bench reads. */
interface MetricsPoint { at: number; framesTotal: number; lost: number; rejects: number }

/** Reads the workers' live metrics and factors (retained ones, left from earlier runs, are ignored). */
class Results {
  readonly latest = new Map<string, MetricsPoint>();
  /** Publish → factors received, ms, since the sampler last took them. */
  readonly factorsLatency: number[] = [];
  readonly reconstructionSeconds: number[] = [];
  bad = 0;

  on(m: MqttMessage): void {
    if (m.retain) return;
    const parts = m.topic.split('/');
    if (parts.length !== RESULTS_PREFIX.split('/').length + 2) return;
    const stream = parts.at(-2)!, kind = parts.at(-1)!;
    if (kind !== 'metrics' && kind !== 'factors') return;
    const arrived = wallMs();
    try {
      const j = JSON.parse(m.payload.toString('utf8')) as Record<string, unknown>;
      if (kind === 'metrics') {
        const { at, framesTotal, lost, rejects } = j;
        if (![at, framesTotal, lost, rejects].every((v) => typeof v === 'number')) throw new Error('metrics fields');
        this.latest.set(stream, { at: at as number, framesTotal: framesTotal as number, lost: lost as number, rejects: rejects as number });
      } else {
        if (typeof j.t !== 'number' || typeof j.seconds !== 'number') throw new Error('factors fields');
        // t = the time stamp of the newest frame in the model = when the device published its batch.
        this.factorsLatency.push(arrived - j.t * 1000);
        this.reconstructionSeconds.push(j.seconds);
      }
    } catch {
      this.bad++;
    }
  }
}

/** A stream's frames/s between two snapshots (undefined: no newer snapshot, or a new task restarted the counts). */
function rateBetween(a: MetricsPoint | undefined, b: MetricsPoint | undefined): number | undefined {
  if (!a || !b || b.at <= a.at || b.framesTotal < a.framesTotal) return undefined;
  return (b.framesTotal - a.framesTotal) / ((b.at - a.at) / 1000);
}

// ───────────────────────────── the sampler ─────────────────────────────

interface Reading {
  at: number;
  bench: NodeJS.CpuUsage;
  workerCpu: number[];
  broker: number;
  devices: number;
  machine: { busy: number; total: number };
  metrics: Map<string, MetricsPoint>;
  owners: Map<string, string>;
}

class WorkersSampler {
  readonly windows: LoadWorkersWindow[] = [];
  /** readings[i] and readings[i + 1] bound windows[i]. */
  readonly readings: Reading[] = [];
  readonly steadyLatency: number[] = [];
  readonly rssMax: { workers: number[]; broker: number; devices: number; bench: number };

  constructor(
    private readonly o: BenchLoadResolvedOptions, private readonly workers: WorkerProcess[], private readonly results: Results,
    private readonly streams: string[], private readonly goAt: number, private readonly brokerPid: number | undefined, private readonly devicesPid: number | undefined,
  ) {
    this.rssMax = { workers: workers.map(() => NaN), broker: NaN, devices: NaN, bench: 0 };
    this.results.factorsLatency.splice(0);
    this.readings.push(this.read());
  }

  private read(): Reading {
    const owners = new Map<string, string>();
    for (const w of this.workers) for (const s of w.holding) owners.set(s, w.id);
    return {
      at: wallMs(), bench: process.cpuUsage(),
      workerCpu: this.workers.map((w) => (w.pid === undefined ? NaN : procCpuSeconds(w.pid))),
      broker: this.brokerPid === undefined ? NaN : procCpuSeconds(this.brokerPid),
      devices: this.devicesPid === undefined ? NaN : procCpuSeconds(this.devicesPid),
      machine: machineCpuSeconds(), metrics: new Map(this.results.latest), owners,
    };
  }

  /** Closes the current window. */
  sample(): LoadWorkersWindow {
    const prev = this.readings.at(-1)!, cur = this.read();
    this.readings.push(cur);
    const s = (cur.at - prev.at) / 1000;
    const start = (prev.at - this.goAt) / 1000;
    const end = start + s;
    const phase: LoadWorkersWindow['phase'] = start < this.o.warmupSeconds - 1e-3 ? 'warmup' : end <= this.o.seconds + 0.05 ? 'steady' : 'drain';
    const pct = (cpuS: number): number | null => (Number.isFinite(cpuS) ? (100 * cpuS) / s : null);
    let processed = 0, dropped = 0, stale = 0;
    const perWorker = new Map<string, { processed: number; streams: number }>(this.workers.map((w) => [w.id, { processed: 0, streams: 0 }]));
    for (const stream of this.streams) {
      const a = prev.metrics.get(stream), b = cur.metrics.get(stream);
      const rate = rateBetween(a, b);
      if (rate === undefined) stale++;
      processed += rate ?? 0;
      if (b) dropped += Math.max(0, b.lost - (a && b.framesTotal >= a.framesTotal ? a.lost : 0));
      const w = perWorker.get(cur.owners.get(stream) ?? '');
      if (w) { w.processed += rate ?? 0; w.streams++; }
    }
    const workers: LoadWorkerWindow[] = this.workers.map((w, i) => {
      const rss = w.pid === undefined ? NaN : procRssMB(w.pid);
      if (Number.isFinite(rss)) this.rssMax.workers[i] = Math.max(Number.isNaN(this.rssMax.workers[i]!) ? 0 : this.rssMax.workers[i]!, rss);
      const pw = perWorker.get(w.id)!;
      return { id: w.id, cpu: pct(cur.workerCpu[i]! - prev.workerCpu[i]!), rssMB: Number.isFinite(rss) ? rss : null, processedPerSecond: pw.processed, streams: pw.streams };
    });
    const cpuList = workers.map((w) => w.cpu);
    const workersCpu = cpuList.every((c) => c !== null) ? (cpuList as number[]).reduce((x, y) => x + y, 0) : null;
    const brokerCpu = pct(cur.broker - prev.broker);
    const devicesCpu = pct(cur.devices - prev.devices);
    const benchCpu = (100 * (cur.bench.user - prev.bench.user + cur.bench.system - prev.bench.system)) / 1e6 / s;
    const machineCpu = Number.isFinite(cur.machine.busy) ? (100 * (cur.machine.busy - prev.machine.busy) * cpus().length) / (cur.machine.total - prev.machine.total) : null;
    this.rssMax.bench = Math.max(this.rssMax.bench, process.memoryUsage.rss() / 2 ** 20);
    if (this.brokerPid !== undefined) this.rssMax.broker = Math.max(Number.isNaN(this.rssMax.broker) ? 0 : this.rssMax.broker, procRssMB(this.brokerPid));
    if (this.devicesPid !== undefined) this.rssMax.devices = Math.max(Number.isNaN(this.rssMax.devices) ? 0 : this.rssMax.devices, procRssMB(this.devicesPid));
    const lat = Float64Array.from(this.results.factorsLatency.splice(0)).sort();
    if (phase === 'steady') for (const v of lat) this.steadyLatency.push(v);
    const w: LoadWorkersWindow = {
      start, seconds: s, phase, processedPerSecond: processed, dropped, workers, workersCpu,
      framesPerSecondPerCore: workersCpu !== null && workersCpu > 0 ? processed / (workersCpu / 100) : null,
      brokerCpu, devicesCpu, benchCpu, machineCpu,
      otherCpu: machineCpu === null || workersCpu === null ? null : Math.max(0, machineCpu - workersCpu - (brokerCpu ?? 0) - (devicesCpu ?? 0) - benchCpu),
      factorsLatencyP50Ms: percentile(lat, 0.5), factorsLatencyP99Ms: percentile(lat, 0.99), staleStreams: stale,
    };
    this.windows.push(w);
    return w;
  }

  /**
   * Frames/s and CPU of each worker and of the broker over the steady span: it ends with the last
   * steady window and starts with the earliest steady window that makes it a whole number of
   * reconstruction periods (± 5%; the streams reconstruct roughly in step, so a span of 3.6
   * periods would count 3 or 4 bursts), else with the first steady window (`periods` null).
   */
  steadySpan(periodSeconds: number): { seconds: number; periods: number | null; framesPerSecond: number; workerCpu: (number | null)[]; workersCpu: number | null; brokerCpu: number | null } {
    const idx = this.windows.map((w, i) => (w.phase === 'steady' ? i : -1)).filter((i) => i >= 0);
    if (idx.length === 0) return { seconds: 0, periods: null, framesPerSecond: NaN, workerCpu: this.workers.map(() => null), workersCpu: null, brokerCpu: null };
    const b = this.readings[idx.at(-1)! + 1]!;
    let first = idx[0]!, periods: number | null = null;
    if (periodSeconds > 0) {
      for (let k = idx[0]!; k <= idx.at(-1)!; k++) {
        const span = (b.at - this.readings[k]!.at) / 1000, m = Math.round(span / periodSeconds);
        if (m >= 1 && Math.abs(span - m * periodSeconds) <= 0.05 * periodSeconds) { first = k; periods = m; break; }
      }
    }
    const a = this.readings[first]!;
    const seconds = (b.at - a.at) / 1000;
    let framesPerSecond = 0;
    for (const stream of this.streams) framesPerSecond += rateBetween(a.metrics.get(stream), b.metrics.get(stream)) ?? 0;
    const workerCpu = this.workers.map((_, i) => { const c = b.workerCpu[i]! - a.workerCpu[i]!; return Number.isFinite(c) ? (100 * c) / seconds : null; });
    const workersCpu = workerCpu.every((c) => c !== null) ? (workerCpu as number[]).reduce((x, y) => x + y, 0) : null;
    const brokerCpu = Number.isFinite(b.broker - a.broker) ? (100 * (b.broker - a.broker)) / seconds : null;
    return { seconds, periods, framesPerSecond, workerCpu, workersCpu, brokerCpu };
  }
}

// ───────────────────────────── the run ─────────────────────────────

/** 1 s of frames at the device rate, in whole batches, at least rank: the warm start falls in the warm-up. */
function warmStartFrames(o: BenchLoadResolvedOptions): number {
  return Math.max(o.rank, Math.max(1, Math.round(o.rate / o.batch)) * o.batch);
}

/** The worker config (YAML) of this run. */
export function workerConfigYaml(o: BenchLoadResolvedOptions, brokerUrl: string): string {
  const stages: Record<string, unknown>[] = [
    { type: 'detectGaps' },
    { type: 'validate' },
    { type: 'batch', maxBatch: o.batch, maxWaitMs: o.maxWaitMs },
    { type: 'onlineNmf', rank: o.rank, warmStartFrames: warmStartFrames(o), seed: o.seed },
    ...(o.model === 'nmf' ? [{ type: 'reconstruct', everyMs: o.reconstructEveryMs, final: false }] : []),
    { type: 'metrics', intervalMs: METRICS_INTERVAL_MS },
  ];
  const header = `# cfstream bench load --workers ${o.workers}: generated worker config (pipelines/bench/loadWorkers.ts)\n`;
  return header + toYaml({ version: 1, stages, outputs: { mqtt: { broker: brokerUrl, prefix: RESULTS_PREFIX } } });
}

/** The accounting of one stream from its 'released' records. */
function streamAccount(id: string, published: number, recs: Released[], processed: number | null): LoadWorkerStream & { byWorker: Map<string, number> } {
  const fedRecs = recs.filter((r) => r.frames > 0).sort((x, y) => x.firstSeq - y.firstSeq);
  const sum = (f: (r: Released) => number): number => recs.reduce((a, r) => a + f(r), 0);
  const fed = sum((r) => r.frames), gaps = sum((r) => r.gaps), duplicates = sum((r) => r.duplicates), rejects = sum((r) => r.rejects);
  const firstSeq = fedRecs.length ? fedRecs[0]!.firstSeq : -1;
  const lastSeq = fedRecs.length ? Math.max(...fedRecs.map((r) => r.lastSeq)) : -1;
  const beforeFirst = Math.max(0, firstSeq);
  const tail = published - (lastSeq + 1);
  let tiles = fedRecs.length === 0 || fed + gaps === lastSeq - firstSeq + 1;
  for (let i = 1; i < fedRecs.length; i++) if (fedRecs[i]!.firstSeq <= fedRecs[i - 1]!.lastSeq) tiles = false;
  const byWorker = new Map<string, number>();
  const exact = tiles && tail >= 0 && published === fed + gaps + beforeFirst + tail;
  return {
    id, owner: null, published, fed, processed, gaps, beforeFirst, tail, dropped: gaps + beforeFirst + Math.max(0, tail),
    duplicates, rejects, firstSeq, lastSeq, tasks: recs.length, exact, byWorker,
  };
}

/** Connects with each stream's session id on a clean session (the broker forgets it) and clears its checkpoint. */
async function forgetSessions(url: string, group: string, streams: string[]): Promise<void> {
  const conn = new MqttConnection({ url, clientId: `cfbench_cleanup_${process.pid}`, reconnectPeriod: 0 });
  await conn.connect();
  await Promise.all(streams.map((s) => conn.publish(`cfstream-workers/${group}/checkpoints/${s}`, '', { qos: 1, retain: true })));
  await conn.close();
  for (let i = 0; i < streams.length; i += 20) {
    await Promise.all(streams.slice(i, i + 20).map(async (s) => {
      const c = new MqttConnection({ url, clientId: `cfstream-${group}-s-${s}`.slice(0, 200), clean: true, protocolVersion: 4, reconnectPeriod: 0 });
      await c.connect();
      await c.close();
    }));
  }
}

/**
 * The load bench with `o.workers` worker processes as the consumer (load.ts module header, "Workers").
 * @param options resolved by load.ts (workers ≥ 1, broker mosquitto or a URL)
 */
export async function benchLoadWorkers(options: BenchLoadResolvedOptions, onProgress?: (fraction: number) => void): Promise<BenchLoadWorkersResult> {
  const o: BenchLoadResolvedOptions = { ...options, qos: 1 };
  const framesPerDevice = Math.floor((o.seconds * o.rate) / o.batch) * o.batch;
  const loadavgStart = loadavg();
  const t0 = wallMs();
  const broker = await openBroker(o.broker);
  const closers: Array<() => Promise<void>> = [() => broker.close()];
  const closeAll = async (): Promise<void> => { for (const c of closers.splice(0).reverse()) await c().catch(() => undefined); };
  const group = `cfbench-${process.pid}-${Date.now().toString(36)}`;
  const source = `${broker.url.replace(/\/$/, '')}/${PREFIX}/+`;
  let streams: string[] = [];
  if (broker.kind === 'url') closers.push(() => forgetSessions(broker.url, group, streams));
  try {
    const dir = mkdtempSync(join(tmpdir(), 'cfbench-workers-'));
    closers.push(async () => rmSync(dir, { recursive: true, force: true }));
    const yaml = workerConfigYaml(o, broker.url);
    const configPath = join(dir, 'workers.yaml');
    writeFileSync(configPath, yaml);

    const workers = Array.from({ length: o.workers }, (_, i) => WorkerProcess.spawn(`w${i}`, configPath, group, source));
    closers.push(async () => { await Promise.all(workers.map((w) => w.terminate(10_000))); });
    const devices = spawnChild();
    closers.push(() => stopChild(devices));
    const results = new Results();
    const conn = new MqttConnection({ url: broker.url, clientId: `cfbench_results_${process.pid}` });
    closers.push(() => conn.close());
    conn.messages$.subscribe((m) => results.on(m));
    await conn.connect();
    await conn.subscribe([`${RESULTS_PREFIX}/+/metrics`, `${RESULTS_PREFIX}/+/factors`], 0);

    // 1. Every worker joined: each sees the others' member records before the first stream appears.
    await waitUntil(() => workers.every((w) => w.joined), workers, 60_000, 'every worker to join', () => `${workers.filter((w) => w.joined).length} of ${workers.length} joined`);
    const joinedSeconds = (wallMs() - t0) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 200));
    // 2. The devices connect and publish their retained infos (no frames before 'go').
    const ready = expectFromChild(devices, 'ready');
    send(devices, { type: 'devices', config: {
      url: broker.url, devices: o.devices, rate: o.rate, n: o.n, d: o.d, rank: o.rank, k: o.k, p: o.p, noise: o.noise,
      batch: o.batch, qos: 1, connections: o.deviceConnections, pool: o.pool, seed: o.seed, framesPerDevice,
    } });
    const { infos } = await ready;
    streams = infos.map((i) => i.id);
    // 3. Every stream held by its rendezvous owner and by no other worker, and still so 0.5 s later.
    const ids = workers.map((w) => w.id);
    const owner = new Map(streams.map((s) => [s, ownerOf(s, ids)!]));
    const settled = (): boolean => streams.every((s) => workers.every((w) => w.holding.has(s) === (w.id === owner.get(s))));
    const progress = (): string => `${streams.filter((s) => workers.every((w) => w.holding.has(s) === (w.id === owner.get(s)))).length} of ${streams.length} streams held by their owner only`;
    const acquireTimeout = 60_000 + 200 * o.devices;
    for (;;) {
      await waitUntil(settled, workers, acquireTimeout, 'every stream to be acquired by its worker', progress);
      await new Promise((resolve) => setTimeout(resolve, 500));
      if (settled()) break;
    }
    const acquiredSeconds = (wallMs() - t0) / 1000;

    // 4. Go, as in-process: 200 ms from now.
    const goAt = wallMs() + 200;
    const doneMsg = expectFromChild(devices, 'done');
    send(devices, { type: 'go', atMs: goAt });
    for (const w of workers) w.startMeasuring();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, goAt - wallMs())));
    const sampler = new WorkersSampler(o, workers, results, streams, goAt, broker.pid, devices.pid);
    const windowTimer = setInterval(() => {
      const w = sampler.sample();
      onProgress?.(Math.min(1, (w.start + w.seconds) / o.seconds));
    }, o.windowSeconds * 1000);
    closers.push(async () => clearInterval(windowTimer));
    const done = await devicesDone(doneMsg, o.seconds);

    // 5. Drain: until every stream's metrics account for what was published, or no progress for drainMs (≥ 2.5 metrics periods).
    const stoppedAt = wallMs();
    const published = new Map(streams.map((s, i) => [s, done.stats[i]!.published]));
    const accounted = (s: string): number => { const m = results.latest.get(s); return m ? m.framesTotal + m.lost + m.rejects : 0; };
    const total = (): number => streams.reduce((a, s) => a + (results.latest.get(s)?.framesTotal ?? 0), 0);
    const patience = Math.max(o.drainMs, 2.5 * METRICS_INTERVAL_MS);
    let lastProgress = wallMs(), seen = total();
    while (streams.some((s) => accounted(s) < published.get(s)!) && wallMs() - lastProgress < patience) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const now = total();
      if (now !== seen) { seen = now; lastProgress = wallMs(); }
    }
    const drainSeconds = (wallMs() - stoppedAt) / 1000;
    clearInterval(windowTimer);
    sampler.sample();

    // 6. SIGTERM: each worker releases its streams, logging one 'released' record per stream.
    const termAt = wallMs();
    await Promise.all(workers.map((w) => w.terminate(30_000 + 100 * o.devices)));
    const stopSeconds = (wallMs() - termAt) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 100)); // (the last metrics snapshots in flight)

    const result = summarize(o, options.qos, broker, done, results, sampler, workers, streams, published, {
      loadavgStart, yaml, group, source, joinedSeconds, acquiredSeconds, drainSeconds, stopSeconds,
    });
    await closeAll();
    result.machine.loadavgEnd = loadavg();
    return result;
  } catch (e) {
    await closeAll();
    throw e;
  }
}

function summarize(
  o: BenchLoadResolvedOptions, requestedQos: 0 | 1, broker: Awaited<ReturnType<typeof openBroker>>, done: Extract<FromChild, { type: 'done' }>,
  results: Results, sampler: WorkersSampler, workers: WorkerProcess[], streams: string[], published: Map<string, number>,
  extra: { loadavgStart: number[]; yaml: string; group: string; source: string; joinedSeconds: number; acquiredSeconds: number; drainSeconds: number; stopSeconds: number },
): BenchLoadWorkersResult {
  const released = workers.flatMap((w) => w.released.map((r) => ({ worker: w.id, r })));
  const accounts = streams.map((s) => {
    const mine = released.filter((x) => x.r.stream === s);
    const a = streamAccount(s, published.get(s)!, mine.map((x) => x.r), results.latest.get(s)?.framesTotal ?? null);
    for (const x of mine) a.byWorker.set(x.worker, (a.byWorker.get(x.worker) ?? 0) + x.r.frames);
    let best = -1;
    for (const [w, n] of a.byWorker) if (n > best) { best = n; a.owner = w; }
    return a;
  });
  const streamResults: LoadWorkerStream[] = accounts.map(({ byWorker: _b, ...rest }) => rest);
  const sum = (f: (s: LoadWorkerStream) => number): number => streamResults.reduce((a, s) => a + f(s), 0);
  const steady = sampler.windows.filter((w) => w.phase === 'steady');
  const med = (f: (w: LoadWorkersWindow) => number | null): number => median(steady.map((w) => f(w) ?? NaN));
  const nullable = (v: number): number | null => (Number.isFinite(v) ? v : null);
  const span = sampler.steadySpan(o.model === 'nmf' ? o.reconstructEveryMs / 1000 : 0);
  const dropped = sum((s) => s.dropped);
  const target = o.devices * o.rate;
  const perCore = (cpu: number | null): number | null => (cpu !== null && cpu > 0 && Number.isFinite(span.framesPerSecond) ? span.framesPerSecond / (cpu / 100) : null);
  const workerResults: LoadWorkerResult[] = workers.map((w, i) => {
    const own = w.released;
    const s = (f: (r: Released) => number): number => own.reduce((a, r) => a + f(r), 0);
    return {
      id: w.id, pid: w.pid, streams: [...w.streams].sort(), lateAcquisitions: w.lateAcquisitions,
      fed: s((r) => r.frames), gaps: s((r) => r.gaps), duplicates: s((r) => r.duplicates), rejects: s((r) => r.rejects), reconstructions: s((r) => r.reconstructions),
      cpuMedian: nullable(med((x) => x.workers[i]!.cpu)), rssMedianMB: nullable(med((x) => x.workers[i]!.rssMB)),
      rssMaxMB: nullable(sampler.rssMax.workers[i]!), processedPerSecondMedian: med((x) => x.workers[i]!.processedPerSecond),
      warnings: w.warnings, warningSamples: w.warningSamples, exitCode: w.exitInfo?.code ?? null, signal: w.exitInfo?.signal ?? null,
    };
  });
  const latencySorted = Float64Array.from(sampler.steadyLatency).sort();
  const processedPerSecond = med((w) => w.processedPerSecond);
  return {
    mode: 'workers',
    options: o,
    qos: { requested: requestedQos, used: 1, note: 'QoS 1 forced: each worker reads a stream on a persistent QoS 1 session (the broker queues its backlog across a handover)' },
    broker: { kind: broker.kind, url: broker.url, separateProcess: broker.pid !== undefined, log: broker.log() },
    machine: { cores: cpus().length, loadavgStart: extra.loadavgStart, loadavgEnd: [] },
    targetFramesPerSecond: target,
    workerConfig: { yaml: extra.yaml, group: extra.group, source: extra.source, checkpointEverySeconds: CHECKPOINT_EVERY_S, warmStartFrames: warmStartFrames(o) },
    startup: { joinedSeconds: extra.joinedSeconds, acquiredSeconds: extra.acquiredSeconds },
    totals: {
      messages: done.stats.reduce((a, s) => a + s.messages, 0),
      published: sum((s) => s.published),
      publishFailed: done.stats.reduce((a, s) => a + s.failed, 0),
      fed: sum((s) => s.fed),
      processed: sum((s) => s.processed ?? 0),
      dropped, droppedInGaps: sum((s) => s.gaps), droppedBeforeFirst: sum((s) => s.beforeFirst), droppedAtTail: sum((s) => Math.max(0, s.tail)),
      duplicates: sum((s) => s.duplicates), rejects: sum((s) => s.rejects),
      reconstructions: workerResults.reduce((a, w) => a + w.reconstructions, 0),
      accountingExact: streamResults.every((s) => s.exact),
      processedEqualsFed: streamResults.every((s) => s.processed === s.fed),
      lateAcquisitions: workers.reduce((a, w) => a + w.lateAcquisitions, 0),
      badResults: results.bad,
      drainSeconds: extra.drainSeconds,
      stopSeconds: extra.stopSeconds,
    },
    summary: {
      steadySeconds: span.seconds,
      reconstructionPeriods: span.periods,
      framesPerSecond: span.framesPerSecond,
      dropped,
      perWorkerCpuMedian: workerResults.map((w) => w.cpuMedian),
      perWorkerCpuMean: span.workerCpu,
      totalWorkerCpu: span.workersCpu,
      framesPerSecondPerCore: perCore(span.workersCpu),
      framesPerSecondPerCoreWithBroker: span.workersCpu === null ? null : perCore(span.workersCpu + (span.brokerCpu ?? 0)),
      brokerCpu: span.brokerCpu,
    },
    median: {
      processedPerSecond, processedPerDevice: processedPerSecond / o.devices,
      workersCpu: nullable(med((w) => w.workersCpu)),
      brokerCpu: nullable(med((w) => w.brokerCpu)), devicesCpu: nullable(med((w) => w.devicesCpu)), benchCpu: med((w) => w.benchCpu),
      machineCpu: nullable(med((w) => w.machineCpu)), otherCpu: nullable(med((w) => w.otherCpu)),
    },
    latencyMs: latencySorted.length ? percentiles(latencySorted) : null,
    latencyNote: o.model === 'nmf'
      ? 'publish → factors received here: the age of the newest frame in each factors message (transit, batch, model update, wait for the reconstruct tick ≤ one batch period, the reconstruction, publish); publish → model updated is not observable outside the workers'
      : "null: model 'nmf-only' publishes no factors, and publish → model updated is not observable outside the workers",
    deviceLagMs: done.lagMs,
    reconstructions: { received: results.reconstructionSeconds.length, medianSeconds: median(results.reconstructionSeconds) },
    rssMaxMB: {
      workers: sampler.rssMax.workers.map(nullable), broker: nullable(sampler.rssMax.broker), devices: nullable(sampler.rssMax.devices), bench: sampler.rssMax.bench,
    },
    targetMet: dropped === 0 && span.framesPerSecond >= 0.99 * target,
    windows: sampler.windows,
    workers: workerResults,
    streams: streamResults,
  };
}
