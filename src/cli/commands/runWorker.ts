/**
 * `cfstream run [config.yaml] --worker [--worker-id ID] [--group NAME] [--source mqtt://host:port/<prefix>/+]
 * [--duration s] [--checkpoint-every s] [--json-log] [--json]`: one scale-out worker
 * (pipelines/scaleout/worker.ts). Every worker started with the same broker, prefix and group
 * takes its share of the device streams `<prefix>/+/{info,frames}`, runs the config's stages on
 * each, publishes the results under `outputs.mqtt.prefix` (default `<prefix>/results`) and hands
 * its streams over through checkpoints on the broker when it stops or others join.
 */
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../../errors.js';
import { parsePipelineConfig, type PipelineConfig } from '../../../pipelines/index.js';
import { Worker, type WorkerEvent } from '../../../pipelines/scaleout/worker.js';
import type { MqttClientOptions } from '../../../devices/mqtt/client.js';
import { num, UsageError } from '../args.js';
import { printJson } from '../output.js';

/** The flags `run --worker` reads (parsed by run.ts). */
export interface WorkerFlags {
  source?: string;
  'worker-id'?: string;
  group?: string;
  duration?: string;
  'checkpoint-every'?: string;
  'json-log'?: boolean;
  json?: boolean;
}

/** Where a worker's streams come from: `mqtt://host:port/<prefix>` or `…/<prefix>/+`. */
export function parseWorkerSource(uri: string): { broker: MqttClientOptions; prefix: string } {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    throw new UsageError(`run --worker: source ${JSON.stringify(uri)} is not a URL; expected mqtt://host:port/<prefix>/+`);
  }
  if (!['mqtt:', 'mqtts:', 'ws:', 'wss:'].includes(u.protocol)) {
    throw new UsageError(`run --worker: source ${uri}: a worker reads device streams from an MQTT broker (mqtt://host:port/<prefix>/+), not ${u.protocol.replace(/:$/, '')}:`);
  }
  if (u.search) throw new UsageError(`run --worker: source ${uri}: no query options here (frames are always QoS 1 on a persistent session)`);
  let prefix = decodeURIComponent(u.pathname.replace(/^\//, '')).replace(/\/\+$/, '').replace(/\/$/, '');
  if (prefix === '') prefix = 'cfstream';
  if (/[+#]/.test(prefix)) throw new UsageError(`run --worker: source ${uri}: the prefix ${prefix} may end in /+ but hold no other wildcard`);
  const broker: MqttClientOptions = { url: `${u.protocol}//${u.host}` };
  if (u.username) broker.username = decodeURIComponent(u.username);
  if (u.password) broker.password = decodeURIComponent(u.password);
  return { broker, prefix };
}

/** Runs one worker until the duration is up or SIGINT/SIGTERM; resolves to the exit code. */
export async function runWorker(file: string, text: string, declaredSource: string | undefined, v: WorkerFlags): Promise<number> {
  const uri = v.source ?? declaredSource;
  if (!uri) throw new UsageError(`run --worker: ${file} names no source; give --source mqtt://host:port/<prefix>/+`);
  const { broker, prefix } = parseWorkerSource(uri);
  // The shape is checked now (a broken config fails at start, not per stream); the stages are
  // checked again against each stream's header when the worker takes the stream.
  let base: Pick<PipelineConfig, 'outputs' | 'run'>;
  try {
    base = parsePipelineConfig(text, file);
  } catch (e) {
    if (!(e instanceof ConfigError) || !e.issues.every((i) => i.problem.startsWith('stream: required'))) throw e;
    base = (parseYaml(text) ?? {}) as Pick<PipelineConfig, 'outputs' | 'run'>;
  }
  const outputs = base?.outputs;
  if (!v.source && outputs?.mqtt?.broker && outputs.mqtt.broker !== 'embedded' && new URL(outputs.mqtt.broker).host !== new URL(broker.url).host) {
    throw new UsageError(`run --worker: outputs.mqtt.broker ${outputs.mqtt.broker} differs from the source's broker ${broker.url}: workers publish results where they read frames (--source overrides both)`);
  }
  const resultsPrefix = outputs?.mqtt?.prefix ?? `${prefix}/results`;
  const duration = num('duration', v.duration, { min: 0, def: base?.run?.duration ?? 0 });
  const everyS = num('checkpoint-every', v['checkpoint-every'], { min: 0.1, def: base?.run?.checkpointEvery ?? 5 });
  const jsonLog = Boolean(v['json-log']) || base?.run?.jsonLog === true;
  const reports: Extract<WorkerEvent, { event: 'released' }>[] = [];
  const log = (e: WorkerEvent): void => {
    if (e.event === 'released') reports.push(e);
    process.stderr.write(jsonLog ? `${JSON.stringify({ t: new Date().toISOString(), ...e })}\n` : `cfstream worker: ${describe(e)}\n`);
  };
  let worker: Worker;
  try {
    worker = new Worker({
      broker, devicePrefix: prefix, resultsPrefix, checkpointEveryMs: everyS * 1000, log,
      ...(v['worker-id'] ? { id: v['worker-id'] } : {}), ...(v.group ? { group: v.group } : {}),
      configFor: (info) => parsePipelineConfig(text, file, { stream: info }),
    });
  } catch (e) {
    throw new UsageError(`run --worker: ${(e as Error).message}`);
  }
  const t0 = performance.now();
  let stoppedBy: 'duration' | 'signal' = 'signal';
  const stopped = new Promise<void>((resolve) => {
    const stop = (why: typeof stoppedBy): void => {
      stoppedBy = why;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (timer) clearTimeout(timer);
      resolve();
    };
    const onSignal = (): void => stop('signal');
    const timer = duration > 0 ? setTimeout(() => stop('duration'), duration * 1000) : undefined;
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  process.stderr.write(`cfstream run --worker: ${file}\n  worker ${worker.id}, streams ${prefix}/+ on ${broker.url}, results under ${resultsPrefix}, checkpoints every ${everyS} s\n`);
  try {
    await worker.start();
  } catch (e) {
    await worker.stop().catch(() => undefined);
    throw new UsageError(`run --worker: cannot join through ${broker.url}: ${(e as Error).message}`);
  }
  await stopped;
  await worker.stop();
  const summary = { worker: worker.id, seconds: (performance.now() - t0) / 1000, stoppedBy, streams: reports.map(({ event: _e, ...r }) => r) };
  if (v.json) printJson(summary);
  else process.stderr.write(`cfstream run --worker: stopped (${stoppedBy}); ran ${reports.length} stream handovers, ${reports.reduce((s, r) => s + r.frames, 0)} frames\n`);
  return 0;
}

function describe(e: WorkerEvent): string {
  switch (e.event) {
    case 'joined': return `${e.worker} joined group ${e.group}`;
    case 'members': return `members: ${e.members.join(', ') || '(none)'}`;
    case 'acquired': return `took ${e.stream} from seq ${e.fromSeq}${e.previousOwner ? ` (after ${e.previousOwner}, ${e.restored ? 'model restored' : 'no model yet'})` : ''} in ${e.waitedMs} ms${e.forced ? ', forced' : ''}`;
    case 'released': return `released ${e.stream} (${e.reason}): seq ${e.firstSeq}..${e.lastSeq}, ${e.frames} frames, ${e.gaps} lost, ${e.duplicates} duplicates skipped, ${e.reconstructions} reconstructions${!e.checkpointed && e.reason !== 'fenced' ? '; final checkpoint not written' : ''}`;
    case 'warning': return `warning: ${e.message}`;
    case 'left': return `${e.worker} left`;
  }
}
