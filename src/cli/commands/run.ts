/**
 * `cfstream run [config.yaml] [--source URI] [--broker embedded|none|URL] [--duration s] [--headless] [--json-log] [--pacing realtime|max] [--checkpoint FILE [--checkpoint-every s]] [--record FILE] [--json]`
 * (`--worker [--worker-id ID] [--group NAME]`: a scale-out worker, runWorker.ts):
 * opens the config's source (or `--source`), checks the config against the source's header,
 * builds the pipeline (pipelines/builder.ts) and runs it until the duration is up, the source
 * ends, or SIGINT/SIGTERM — then shuts down cleanly and prints a summary (`--json`: one JSON
 * document on stdout). While running, a status line per interval goes to stderr: frames/s, gaps,
 * rejects, the last reconstruction, its held-out quality estimate and, for simulators, the true
 * factor error.
 */
import { readFileSync } from 'node:fs';
import { filter, map, tap, throttleTime, type Observable, type Subscription } from 'rxjs';
import { NotFittedError } from '../../errors.js';
import { parse as parseYaml } from 'yaml';
import { buildPipeline, parsePipelineConfig, type ActivationsMessage, type ModelUpdate, type FactorsMessage, type MetricsSnapshot, type PipelineEvent } from '../../../pipelines/index.js';
import type { Frame, StreamInfo } from '../../frames/index.js';
import { matchedError } from '../../compressed/metrics.js';
import { fromColumns, unitColumns, type Matrix } from '../../linalg/matrix.js';
import { choice, num, parseFlags, UsageError } from '../args.js';
import { fmt, printJson } from '../output.js';
import { startOutputs } from '../outputs.js';
import { parseMqttSourceUri } from '../../../devices/mqtt/topics.js';
import { openSource } from '../sources.js';
import { restoreRunModel, saveRunCheckpoint } from '../runCheckpoint.js';

const FLAGS = {
  source: { type: 'string' }, broker: { type: 'string' }, duration: { type: 'string' }, headless: { type: 'boolean' }, 'json-log': { type: 'boolean' },
  pacing: { type: 'string' }, checkpoint: { type: 'string' }, 'checkpoint-every': { type: 'string' }, record: { type: 'string' }, json: { type: 'boolean' },
  worker: { type: 'boolean' }, 'worker-id': { type: 'string' }, group: { type: 'string' },
} as const;

/** The config `cfstream run` runs without an argument. */
export const DEFAULT_CONFIG = 'config/default.yaml';

/** The summary `run` prints at the end. */
export interface RunSummary {
  source: string;
  seconds: number;
  frames: number;
  framesPerSecond: number;
  /** Frames lost (detectGaps) and rejected (validate, the model) in the pipeline. */
  gaps: number;
  rejects: number;
  /** Frames the device reported lost (e.g. Cyton counter jumps) and its rejected packets. */
  deviceLost: number;
  deviceRejects: number;
  /** Frames the device adapter dropped because the pipeline did not keep up (its bounded queue was full). */
  deviceDropped: number;
  /** Times the device link was lost (an unplug, a broker gone) and so reconnected to. */
  deviceDisconnects: number;
  reconstructions: number;
  lastFactors: Pick<FactorsMessage, 'seq' | 'framesSeen' | 'error' | 'quality'> | null;
  /** Simulators: matched error of the last W against the true W, both with unit-norm columns. */
  errW: number | null;
  stoppedBy: 'duration' | 'end of source' | 'signal';
}

/** Entry point of `cfstream run`; resolves to the exit code. */
export async function runCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseFlags('run', argv, FLAGS);
  if (positionals.length > 1) throw new UsageError(`run: one config file at most; got ${positionals.join(' ')}`);
  const file = positionals[0] ?? DEFAULT_CONFIG;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`run: cannot read config ${file}: ${code === 'ENOENT' ? 'no such file' : code ?? (e as Error).message}`);
  }
  // The source is needed before the full check (its header completes the config).
  let declared: unknown;
  let declaredMqtt: { broker?: unknown; prefix?: unknown } | undefined;
  try {
    const raw = parseYaml(text) as { source?: unknown; outputs?: { mqtt?: { broker?: unknown; prefix?: unknown } } } | null;
    declared = raw?.source;
    declaredMqtt = raw?.outputs?.mqtt;
  } catch {
    parsePipelineConfig(text, file); // throws the located ConfigError
  }
  if (v.worker) {
    for (const flag of ['broker', 'headless', 'pacing', 'checkpoint', 'record'] as const) {
      if (v[flag] !== undefined) throw new UsageError(`run --worker: --${flag} does not apply (a worker reads and publishes on its source's broker and checkpoints there)`);
    }
    const { runWorker } = await import('./runWorker.js');
    return runWorker(file, text, typeof declared === 'string' ? declared : undefined, v);
  }
  if (v['worker-id'] !== undefined || v.group !== undefined) throw new UsageError('run: --worker-id and --group need --worker');
  const uri = v.source ?? (typeof declared === 'string' ? declared : undefined);
  if (!uri) throw new UsageError(`run: ${file} names no source; add 'source: sim:synthetic' (or file:…, cyton:…) or pass --source`);
  // Before the source opens (an MQTT source waits for its header): the full check comes later.
  const outBroker = v.broker ?? (typeof declaredMqtt?.broker === 'string' ? declaredMqtt.broker : undefined);
  checkResultsPrefix(uri, outBroker, typeof declaredMqtt?.prefix === 'string' ? declaredMqtt.prefix : 'cfstream');
  const pacing = choice('pacing', v.pacing, ['realtime', 'max'] as const, 'realtime');
  const source = await openSource(uri, { pacing });
  const config = parsePipelineConfig(text, file, { stream: source.info, ...(v.source ? { source: v.source } : {}) });
  const duration = num('duration', v.duration, { min: 0, def: config.run?.duration ?? 0 });
  const headless = Boolean(v.headless) || config.run?.headless === true;
  const jsonLog = Boolean(v['json-log']) || config.run?.jsonLog === true;
  const intervalMs = config.run?.logIntervalMs ?? 1000;

  // Pipeline counts (detectGaps / validate events) and the device's own, kept apart: a device
  // that reports its gaps also leaves seq jumps a detectGaps stage would count again.
  const counts = { gaps: 0, rejects: 0, frames: 0, deviceLost: 0, deviceRejects: 0, deviceDropped: 0, deviceDisconnects: 0 };
  const onEvent = (e: PipelineEvent): void => {
    if (e.type === 'gap') counts.gaps += e.lost;
    else if (e.type === 'reject') counts.rejects++;
  };
  // Checkpoint: the online NMF model restored from its last clean stop, saved again at this one.
  const checkpoint = v.checkpoint ?? config.run?.checkpoint;
  const model = checkpoint ? restoreRunModel(config, checkpoint) : undefined;
  for (const w of model?.warnings ?? []) process.stderr.write(`cfstream run: warning: ${w}\n`);
  const checkpointEvery = num('checkpoint-every', v['checkpoint-every'], { min: 0.1, def: config.run?.checkpointEvery ?? 30 });
  const built = buildPipeline(config, { onEvent, ...(model ? { onlineNmfModel: model.model } : {}) });
  // Device events: lost frames join the gap count, link changes are logged as they happen.
  const deviceEvents = source.events$?.subscribe((e) => {
    if (e.type === 'marker' && e.message) recording?.annotate(e.message);
    if (e.type === 'gap' && e.lost) counts.deviceLost += e.lost;
    else if (e.type === 'reject') counts.deviceRejects++;
    else if (e.type === 'drop' && e.lost) counts.deviceDropped += e.lost; // summed in the status line, not one line each
    else {
      if (e.type === 'disconnect' || e.type === 'offline') counts.deviceDisconnects++; // serial, MQTT
      if (e.message || e.type !== 'gap') process.stderr.write(`cfstream run: device ${e.type}${e.message ? `: ${e.message}` : ''}\n`);
    }
  });
  const recording = await startRecording(v.record !== undefined ? { path: v.record, range: config.outputs?.record?.range } : config.outputs?.record, source.info);
  // Resuming (a checkpoint, or factors a previous run left retained): seq, t and the factors' index
  // continue where that run was, so nothing published goes backwards. Set before connect().
  const shift = { seq: 0, t: 0, index: 0 };
  const progress = { lastSeq: -1, lastT: 0, index: 0 };
  const frames$ = source.frames$.pipe(
    map((f) => (shift.seq === 0 && shift.t === 0 ? f : { seq: f.seq + shift.seq, t: f.t + shift.t, values: f.values })),
    tap((f) => { counts.frames++; progress.lastSeq = f.seq; progress.lastT = f.t; recording?.write(f); }),
  );
  const running = built.run(frames$);
  let connection: Subscription | undefined;
  let last: FactorsMessage | null = null;
  let reconstructions = 0;
  let metrics: MetricsSnapshot | undefined;
  // Scale-free: the model fixes W's columns only up to scale (its codes carry the rest).
  const truthUnit = source.truth ? unitColumns(source.truth.W) : undefined;
  const truthError = (f: FactorsMessage): number | null => (truthUnit ? matchedError(truthUnit, unitColumns(fromColumns(f.W))).error : null);

  if (model) process.stderr.write(model.from ? `cfstream run: model restored from ${model.from} (${model.model.framesSeen} frames seen)\n` : `cfstream run: no usable checkpoint at ${checkpoint}; a new model, saved there every ${checkpointEvery} s and at a clean stop\n`);
  process.stderr.write(`cfstream run: ${file}\n  source: ${source.description}\n  stream: ${config.stream.id} (${config.stream.kind}, n = ${config.stream.n}${config.stream.projection ? `, d = ${config.stream.projection.d}` : ''}, ${config.stream.rate} Hz)\n` +
    `  ${duration > 0 ? `for ${duration} s` : 'until Ctrl-C'}${headless ? ', headless' : ''}\n`);
  // Simulators know the truth: the published factors carry the true error next to the estimate.
  const published = running.factors.pipe(map((f) => {
    progress.index = f.index + shift.index;
    return { ...f, index: f.index + shift.index, trueError: truthError(f) };
  }));
  // The model's codes of the latest block, averaged per component, at most 4 times a second.
  const activations$ = built.output === 'updates'
    ? (running.output as Observable<ModelUpdate>).pipe(
      throttleTime(250),
      map((u): ActivationsMessage | null => {
        const H = codesOf(u); // r × b, a copy; none while the warm start buffers
        if (!H) return null;
        const h = Array.from({ length: H.rows }, (_, c) => {
          let s = 0;
          for (let j = 0; j < H.cols; j++) s += H.data[c * H.cols + j]!;
          return H.cols > 0 ? s / H.cols : 0;
        });
        return { seq: u.lastSeq, t: u.t, rank: H.rows, h };
      }),
      filter((a): a is ActivationsMessage => a !== null),
    )
    : undefined;
  const outputs = await startOutputs({
    outputs: config.outputs, brokerFlag: v.broker, headless, info: config.stream, factors$: published, metrics$: running.metrics, activations$,
    // A silent sensor shows as 'stale' on the results' status topic until its frames come back.
    ...(source.events$ ? { status$: source.events$.pipe(filter((e) => e.type === 'stale' || e.type === 'fresh'), map((e) => (e.type === 'stale' ? 'stale' as const : 'online' as const))) } : {}),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const resumeSeq = Math.max(model?.resume?.lastSeq ?? -1, outputs.retained?.seq ?? -1);
  if (resumeSeq >= 0) {
    shift.seq = resumeSeq + 1;
    shift.t = (model?.resume?.lastT ?? 0) + (config.stream.rate > 0 ? 1 / config.stream.rate : 0);
    shift.index = Math.max(model?.resume?.index ?? 0, outputs.retained?.index ?? 0);
    progress.index = shift.index;
    process.stderr.write(`cfstream run: resuming after seq ${resumeSeq} (factors #${shift.index})\n`);
  }
  const save = (): void => { if (checkpoint && model) saveRunCheckpoint(model.model, progress, checkpoint, (m) => process.stderr.write(`cfstream run: ${m}\n`)); };
  const t0 = performance.now();
  const stopReason = await new Promise<RunSummary['stoppedBy']>((resolve) => {
    let settled = false;
    const stop = (why: RunSummary['stoppedBy']): void => {
      if (settled) return;
      settled = true;
      clearInterval(status);
      if (timer) clearTimeout(timer);
      if (saver) clearInterval(saver);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      for (const sub of subs) sub.unsubscribe();
      connection?.unsubscribe(); // stops the source itself
      resolve(why);
    };
    const onSignal = (): void => stop('signal');
    // The source's end: the output and the branches complete (reconstruct's last recovery
    // finishes after the output did).
    let open = 3;
    const ended = (): void => { if (--open === 0) stop('end of source'); };
    const failed = (e: unknown): void => { process.stderr.write(`cfstream run: pipeline error: ${(e as Error).message}\n`); stop('end of source'); };
    const subs = [
      running.output.subscribe({ error: failed, complete: ended }),
      running.factors.subscribe({ next: (f) => { last = f; reconstructions++; }, error: failed, complete: ended }),
      running.metrics.subscribe({ next: (m) => { metrics = m; }, error: failed, complete: ended }),
    ];
    let lastFrames = 0, lastT = 0;
    const status = setInterval(() => {
      const s = (performance.now() - t0) / 1000;
      const frames = counts.frames;
      const f = last as FactorsMessage | null;
      const errW = f ? truthError(f) : null;
      const fps = (frames - lastFrames) / Math.max(1e-3, s - lastT); // frames in from the source
      lastFrames = frames; lastT = s;
      const modelFps = metrics ? metrics.framesPerSecond : null; // frames reaching the model (spectra after an stft); unknown without a metrics stage
      process.stderr.write(jsonLog
        ? `${JSON.stringify({ t: Number(s.toFixed(1)), frames, framesPerSecond: fps, modelFramesPerSecond: modelFps, gaps: counts.gaps, rejects: counts.rejects, deviceLost: counts.deviceLost, deviceDropped: counts.deviceDropped,
          reconstruction: f ? { index: f.index, seconds: f.seconds, residual: f.error, heldOutError: f.quality?.heldOutError ?? null } : null, errW })}\n`
        : `[${fmt(s, 1)} s] ${frames} frames (${fmt(fps, 0)}/s in${modelFps === null ? '' : `, ${fmt(modelFps, 0)}/s to the model`}), gaps ${counts.gaps}, rejects ${counts.rejects}${source.events$ ? `, device lost ${counts.deviceLost}` : ''}${counts.deviceDropped ? `, device dropped ${counts.deviceDropped}` : ''}` +
          (f ? ` | factors #${f.index} in ${fmt(f.seconds, 2)} s${f.quality ? `, held-out error ${fmt(f.quality.heldOutError, 3)}` : ''}${errW !== null ? `, true errW ${fmt(errW, 3)}` : ''}` : ' | no factors yet') + '\n');
    }, intervalMs);
    const timer = duration > 0 ? setTimeout(() => stop('duration'), duration * 1000) : undefined;
    const saver = checkpoint ? setInterval(save, checkpointEvery * 1000) : undefined;
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    connection = running.connect();
    if (settled) connection.unsubscribe(); // a synchronous source ended inside connect()
  });
  deviceEvents?.unsubscribe();
  recording?.close();
  await outputs.close();
  await source.close();
  save();
  const seconds = (performance.now() - t0) / 1000;
  const f = last as FactorsMessage | null;
  const summary: RunSummary = {
    source: uri, seconds, frames: counts.frames, framesPerSecond: counts.frames / seconds, gaps: counts.gaps, rejects: counts.rejects,
    deviceLost: counts.deviceLost, deviceRejects: counts.deviceRejects, deviceDropped: counts.deviceDropped, deviceDisconnects: counts.deviceDisconnects, reconstructions, lastFactors: f ? { seq: f.seq, framesSeen: f.framesSeen, error: f.error, quality: f.quality } : null,
    errW: f ? truthError(f) : null, stoppedBy: stopReason,
  };
  if (v.json) printJson(summary);
  else {
    process.stderr.write(`cfstream run: stopped (${stopReason}) after ${fmt(seconds, 1)} s: ${summary.frames} frames, ${reconstructions} reconstructions, gaps ${counts.gaps}, rejects ${counts.rejects}` +
      `${counts.deviceDropped ? `, device dropped ${counts.deviceDropped}` : ''}${summary.errW !== null ? `, true errW ${fmt(summary.errW, 3)}` : ''}\n`);
  }
  return 0;
}

/** Refuses results that would land on an MQTT sensor's own topics (its retained info would be overwritten by the results' info). */
function checkResultsPrefix(source: string, broker: string | undefined, prefix: string): void {
  if (!broker || broker === 'none' || broker === 'embedded' || !/^(mqtts?|wss?):\/\//.test(source)) return;
  let same = false;
  let sourcePrefix = '';
  try {
    const s = parseMqttSourceUri(source);
    sourcePrefix = s.base.slice(0, s.base.lastIndexOf('/'));
    same = new URL(s.url).host === new URL(broker).host;
  } catch {
    return; // openSource already checked the URI; an odd broker URL fails at connect with its own message
  }
  if (same && sourcePrefix === prefix) {
    throw new UsageError(`run: the results would be published under ${prefix}/, the sensor's own prefix on the same broker, and overwrite its retained info; set outputs.mqtt.prefix (e.g. ${prefix}/results)`);
  }
}

/** The model's codes of its last block (a copy), or null while it buffers its warm-start frames. */
function codesOf(u: ModelUpdate): Matrix | null {
  try {
    return u.model.components().H;
  } catch (e) {
    if (e instanceof NotFittedError) return null;
    throw e;
  }
}

/** A recording of the source's frames that never stops the run: a write error ends the recording, logged once. */
interface Recording { write(frame: Frame): void; annotate(text: string): void; close(): void }

async function startRecording(spec: { path: string; range?: readonly [number, number] } | undefined, info: StreamInfo): Promise<Recording | undefined> {
  if (!spec) return undefined;
  const { createRecorder } = await import('../../../devices/file/recorder.js');
  let rec;
  try {
    rec = createRecorder({ path: spec.path, info, ...(spec.range ? { physicalMin: spec.range[0], physicalMax: spec.range[1] } : {}) });
  } catch (e) {
    throw new UsageError(`record ${spec.path}: ${(e as Error).message}${/physical/.test((e as Error).message) ? ' (give outputs.record.range: [min, max])' : ''}`);
  }
  let open = true;
  let lastT = 0;
  const fail = (e: unknown): void => {
    open = false;
    process.stderr.write(`cfstream run: recording to ${spec.path} stopped: ${(e as Error).message}; the run goes on\n`);
  };
  process.stderr.write(`  recording to ${spec.path} (${rec.format})\n`);
  return {
    write(frame) {
      if (!open) return;
      try { rec.write(frame); lastT = frame.t; } catch (e) { fail(e); }
    },
    annotate(text) {
      if (!open) return;
      try { rec.annotate({ t: lastT, text }); } catch (e) { fail(e); }
    },
    close() {
      if (!open) return;
      open = false;
      try {
        rec.close();
        process.stderr.write(`cfstream run: recording ${spec.path} closed\n`);
      } catch (e) {
        process.stderr.write(`cfstream run: recording ${spec.path} could not be closed: ${(e as Error).message}\n`);
      }
    },
  };
}

