/**
 * `cfstream bench load`: N simulated compressive devices through a real MQTT broker into one
 * consuming process with one pipeline per device (pipelines/bench/load.ts); frames/s, dropped
 * frames, publish → model-updated latency, CPU and RSS, medians of the steady windows.
 * `--workers N`: N `cfstream run --worker` processes consume instead (pipelines/bench/loadWorkers.ts):
 * mosquitto or a URL broker, QoS 1; per-worker CPU and RSS, frames/s per core, exact accounting
 * from the workers' 'released' records.
 */
import { benchLoad, type BenchLoadModel, type BenchLoadResult } from '../../../pipelines/bench/load.js';
import type { BenchLoadWorkersResult } from '../../../pipelines/bench/loadWorkers.js';
import { choice, num, parseFlags, UsageError } from '../args.js';
import { fmt, printJson, table } from '../output.js';
import { progress } from '../progress.js';

const FLAGS = {
  devices: { type: 'string' }, rate: { type: 'string' }, seconds: { type: 'string' }, n: { type: 'string' }, d: { type: 'string' },
  rank: { type: 'string' }, k: { type: 'string' }, p: { type: 'string' }, noise: { type: 'string' }, batch: { type: 'string' },
  qos: { type: 'string' }, broker: { type: 'string' }, 'device-connections': { type: 'string' }, 'consumer-connections': { type: 'string' },
  model: { type: 'string' }, 'reconstruct-ms': { type: 'string' }, 'no-stagger': { type: 'boolean' }, window: { type: 'string' },
  warmup: { type: 'string' }, 'drain-ms': { type: 'string' }, pool: { type: 'string' }, seed: { type: 'string' }, workers: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** Usage line (for the CLI help). */
export const BENCH_LOAD_USAGE =
  'cfstream bench load [--devices 100] [--rate 250] [--seconds 20] [--n 256 --d 64 --rank 4 --k 6 --p 5 --noise 0.01] [--batch 25]\n' +
  '                    [--qos 0|1] [--broker embedded|aedes|mosquitto|URL] [--device-connections 0] [--consumer-connections 1]\n' +
  '                    [--model nmf|nmf-only|none] [--reconstruct-ms 5000] [--no-stagger] [--window 2 --warmup 2 --drain-ms 3000]\n' +
  '                    [--pool 500] [--seed 0] [--workers 0] [--json]\n' +
  '  --workers N  N ≥ 1: N `cfstream run --worker` processes consume instead of this one (broker mosquitto, the default\n' +
  '               then, or a URL; QoS 1 forced); reports per-worker CPU/RSS and frames/s per core';

/** Entry point of `cfstream bench load` (argv after the benchmark name); resolves to the exit code. */
export async function benchLoadCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseFlags('bench load', argv, FLAGS);
  if (positionals.length) throw new UsageError(`bench load: unexpected argument ${JSON.stringify(positionals[0])}`);
  const n = num('n', v.n, { int: true, min: 2, def: 256 });
  const d = num('d', v.d, { int: true, min: 1, max: n - 1, def: 64 });
  const workers = num('workers', v.workers, { int: true, min: 0, max: 256, def: 0 });
  // The broker, its fit with --workers, --model none with workers and --seconds × --rate are
  // checked once, by benchLoad's options (InvalidOptionError: exit 2 naming the option).
  const broker = v.broker ?? (workers > 0 ? 'mosquitto' : 'embedded');
  const options = {
    devices: num('devices', v.devices, { int: true, min: 1, max: 10_000, def: 100 }),
    rate: num('rate', v.rate, { min: 0.001, def: 250 }),
    seconds: num('seconds', v.seconds, { min: 0.1, def: 20 }),
    n, d,
    rank: num('rank', v.rank, { int: true, min: 1, max: d, def: 4 }),
    k: num('k', v.k, { int: true, min: 1, max: n, def: 6 }),
    p: num('p', v.p, { int: true, min: 1, max: d, def: 5 }),
    noise: num('noise', v.noise, { min: 0, def: 0.01 }),
    batch: num('batch', v.batch, { int: true, min: 1, max: 4096, def: 25 }),
    qos: num('qos', v.qos, { int: true, min: 0, max: 1, def: 0 }) as 0 | 1,
    broker,
    deviceConnections: num('device-connections', v['device-connections'], { int: true, min: 0, def: 0 }),
    consumerConnections: num('consumer-connections', v['consumer-connections'], { int: true, min: 1, def: 1 }),
    model: choice<BenchLoadModel>('model', v.model, ['nmf', 'nmf-only', 'none'], 'nmf'),
    reconstructEveryMs: num('reconstruct-ms', v['reconstruct-ms'], { min: 0, def: 5000 }),
    staggerReconstructions: !v['no-stagger'],
    windowSeconds: num('window', v.window, { min: 0.1, def: 2 }),
    warmupSeconds: num('warmup', v.warmup, { min: 0, def: 2 }),
    drainMs: num('drain-ms', v['drain-ms'], { min: 0, def: 3000 }),
    pool: num('pool', v.pool, { int: true, min: 1, def: 500 }),
    seed: num('seed', v.seed, { int: true, min: 0, def: 0 }),
    workers,
  };
  const bar = progress('bench load', !v.json);
  const res = await benchLoad({ ...options, onProgress: (f) => bar.update(f) });
  bar.done();
  if (v.json) printJson(res);
  else if (res.mode === 'workers') printWorkersReport(res);
  else printReport(res);
  return 0;
}

function cpu(v: number | null): string {
  return v === null ? '—' : fmt(v, 0);
}

function printReport(r: BenchLoadResult): void {
  const o = r.options, out = process.stdout, t = r.totals, m = r.median;
  const brokerWhere = r.broker.kind === 'embedded' ? 'aedes in the consumer process' : r.broker.kind === 'aedes' ? 'aedes in its own process' : r.broker.kind === 'mosquitto' ? 'mosquitto' : 'external';
  out.write(`bench load: ${o.devices} devices × ${o.rate} Hz = ${r.targetFramesPerSecond} frames/s for ${o.seconds} s; n=${o.n} d=${o.d} rank=${o.rank}; CFSB batches of ${o.batch}, QoS ${o.qos}\n`);
  out.write(`broker: ${r.broker.url} (${brokerWhere}); devices: ${o.deviceConnections === 0 ? 'one connection each' : `${o.deviceConnections} shared connections`}; consumer: ${o.consumerConnections} connection(s), model ${o.model}${o.model === 'nmf' ? `, reconstruct every ${o.reconstructEveryMs} ms${o.staggerReconstructions ? ' (staggered)' : ''}` : ''}\n`);
  const steady = r.windows.filter((w) => w.phase === 'steady').length;
  out.write(`medians of ${steady} steady ${o.windowSeconds} s windows (CPU %: 100 = one core of ${r.machine.cores}):\n`);
  out.write(table(
    ['received/s', 'processed/s', 'per device', 'dropped', 'p50 ms', 'p99 ms', 'consumer CPU', 'broker CPU', 'devices CPU', 'other load', 'consumer RSS MB'],
    [[fmt(m.receivedPerSecond, 0), fmt(m.processedPerSecond, 0), fmt(m.processedPerDevice, 1), String(t.dropped), fmt(m.latencyP50Ms, 1), fmt(m.latencyP99Ms, 1),
      cpu(m.consumerCpu), r.broker.kind === 'embedded' ? 'in consumer' : cpu(m.brokerCpu), cpu(m.devicesCpu), cpu(m.otherCpu), fmt(m.consumerRssMB, 0)]],
  ) + '\n');
  out.write(`frames: published ${t.published} = received ${t.received} + dropped ${t.dropped} (in gaps ${t.droppedInGaps}, at the tail ${t.droppedAtTail}): ${t.accountingExact ? 'exact' : 'NOT EXACT'}; processed ${t.processed}, rejected ${t.rejected}; publish failures ${t.publishFailed}\n`);
  out.write(`latency over all steady frames, publish → model updated: p50 ${fmt(r.latencyMs.p50, 1)} ms, p99 ${fmt(r.latencyMs.p99, 1)} ms, max ${fmt(r.latencyMs.max, 1)} ms; publish → decoded ${fmt(r.transitMs.p50, 1)} / ${fmt(r.transitMs.p99, 1)} ms; device publish lag ${fmt(r.deviceLagMs.p50, 1)} / ${fmt(r.deviceLagMs.p99, 1)} ms\n`);
  out.write(`slowest device ${fmt(r.perDeviceReceived.min, 1)} frames/s received; backlog when the devices stopped ${t.backlogAtStop} frames, drained in ${fmt(t.drainSeconds, 2)} s; consumer event loop busy ${fmt(100 * m.consumerElu, 0)}%\n`);
  if (o.model === 'nmf') out.write(`reconstructions: ${r.reconstructions.count} (skipped ${r.reconstructions.skipped}, failed ${r.reconstructions.failures}), median ${fmt(r.reconstructions.medianSeconds, 3)} s, longest slice ${fmt(r.reconstructions.longestSliceMs, 1)} ms\n`);
  out.write(`peak RSS MB: consumer ${fmt(r.rssMaxMB.consumer, 0)}, broker ${r.rssMaxMB.broker === null ? '—' : fmt(r.rssMaxMB.broker, 0)}, devices ${r.rssMaxMB.devices === null ? '—' : fmt(r.rssMaxMB.devices, 0)}; machine load average ${r.machine.loadavgStart.map((x) => x.toFixed(2)).join(' ')} → ${r.machine.loadavgEnd.map((x) => x.toFixed(2)).join(' ')}\n`);
  for (const line of r.broker.log) out.write(`broker log: ${line}\n`);
  out.write(`target ${r.targetFramesPerSecond} frames/s with 0 dropped: ${r.targetMet ? 'met' : 'NOT met'}\n`);
}

function mb(v: number | null): string {
  return v === null ? '—' : fmt(v, 0);
}

function printWorkersReport(r: BenchLoadWorkersResult): void {
  const o = r.options, out = process.stdout, t = r.totals, m = r.median, s = r.summary;
  out.write(`bench load: ${o.devices} devices × ${o.rate} Hz = ${r.targetFramesPerSecond} frames/s for ${o.seconds} s; n=${o.n} d=${o.d} rank=${o.rank}; CFSB batches of ${o.batch}, QoS 1${r.qos.requested === 1 ? '' : ' (forced: --qos 0 asked; workers read on persistent QoS 1 sessions)'}\n`);
  out.write(`broker: ${r.broker.url} (${r.broker.kind === 'mosquitto' ? 'mosquitto' : 'external'}); consumer: ${o.workers} worker process(es), group ${r.workerConfig.group}, model ${o.model}${o.model === 'nmf' ? `, reconstruct every ${o.reconstructEveryMs} ms` : ''}, warm start ${r.workerConfig.warmStartFrames} frames; joined after ${fmt(r.startup.joinedSeconds, 1)} s, every stream acquired after ${fmt(r.startup.acquiredSeconds, 1)} s\n`);
  const steady = r.windows.filter((w) => w.phase === 'steady');
  out.write(`windows (CPU %: 100 = one core of ${r.machine.cores}):\n`);
  out.write(table(
    ['start s', 'phase', 'processed/s', 'dropped', ...r.workers.map((w) => `${w.id} CPU`), ...r.workers.map((w) => `${w.id} RSS MB`), 'frames/s per core', 'broker CPU', 'devices CPU', 'bench CPU', 'other load'],
    r.windows.map((w) => [fmt(w.start, 1), w.phase, fmt(w.processedPerSecond, 0), String(w.dropped), ...w.workers.map((x) => cpu(x.cpu)), ...w.workers.map((x) => mb(x.rssMB)),
      w.framesPerSecondPerCore === null ? '—' : fmt(w.framesPerSecondPerCore, 0), cpu(w.brokerCpu), cpu(w.devicesCpu), cpu(w.benchCpu), cpu(w.otherCpu)]),
  ) + '\n');
  out.write(table(
    ['worker', 'streams', 'frames fed', 'processed/s (median)', 'CPU (median)', 'RSS MB (median / peak)', 'warnings', 'exit'],
    r.workers.map((w) => [w.id, String(w.streams.length), String(w.fed), fmt(w.processedPerSecondMedian, 0), cpu(w.cpuMedian), `${mb(w.rssMedianMB)} / ${mb(w.rssMaxMB)}`, String(w.warnings), w.signal ?? String(w.exitCode)]),
  ) + '\n');
  out.write(`steady span ${fmt(s.steadySeconds, 1)} s of ${steady.length} steady windows${s.reconstructionPeriods === null ? '' : ` (${s.reconstructionPeriods} whole reconstruction periods)`}: ${fmt(s.framesPerSecond, 0)} frames/s processed, workers' CPU ${cpu(s.totalWorkerCpu)}% (${s.perWorkerCpuMean.map((c, i) => `${r.workers[i]!.id} ${cpu(c)}`).join(', ')}) → ${s.framesPerSecondPerCore === null ? '—' : fmt(s.framesPerSecondPerCore, 0)} frames/s per core (${s.framesPerSecondPerCoreWithBroker === null ? '—' : fmt(s.framesPerSecondPerCoreWithBroker, 0)} with the broker's ${cpu(s.brokerCpu)}%); other load ${cpu(m.otherCpu)}%\n`);
  out.write(`frames: published ${t.published} = fed ${t.fed} + dropped ${t.dropped} (in gaps ${t.droppedInGaps}, before the first ${t.droppedBeforeFirst}, at the tail ${t.droppedAtTail}); duplicates ${t.duplicates}: ${t.accountingExact ? 'exact' : 'NOT EXACT'}; processed ${t.processed} (${t.processedEqualsFed ? '= fed' : '≠ fed'}); publish failures ${t.publishFailed}; handovers during the run ${t.lateAcquisitions}\n`);
  out.write(r.latencyMs ? `latency over the steady windows, publish → factors received: p50 ${fmt(r.latencyMs.p50, 1)} ms, p99 ${fmt(r.latencyMs.p99, 1)} ms, max ${fmt(r.latencyMs.max, 1)} ms (${r.latencyMs.count} factors; median reconstruction ${fmt(r.reconstructions.medianSeconds, 3)} s)\n` : `latency: ${r.latencyNote}\n`);
  out.write(`drained in ${fmt(t.drainSeconds, 2)} s; workers stopped in ${fmt(t.stopSeconds, 2)} s; peak RSS MB: broker ${mb(r.rssMaxMB.broker)}, devices ${mb(r.rssMaxMB.devices)}, bench ${fmt(r.rssMaxMB.bench, 0)}; machine load average ${r.machine.loadavgStart.map((x) => x.toFixed(2)).join(' ')} → ${r.machine.loadavgEnd.map((x) => x.toFixed(2)).join(' ')}\n`);
  for (const w of r.workers) for (const line of w.warningSamples) out.write(`${w.id} warning: ${line}\n`);
  for (const line of r.broker.log) out.write(`broker log: ${line}\n`);
  out.write(`target ${r.targetFramesPerSecond} frames/s with 0 dropped: ${r.targetMet ? 'met' : 'NOT met'}\n`);
}
