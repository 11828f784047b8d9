/**
 * One stream run by one worker: from the stream's checkpoint to its release.
 *
 * ```
 * start:   claim (checkpoint owner = me, released = false, the previous model kept)
 *          ─▶ model restored ─▶ pipeline built ─▶ results sink ─▶ frames session connected
 * running: <prefix>/<stream>/frames (QoS 1, persistent session) ─▶ decode ─▶ skip seq ≤ lastSeq
 *          ─▶ pipeline ─▶ factors/metrics on <results>/<stream>/…;  checkpoint every N s
 * release: frames session DISCONNECTed (the broker keeps the subscription and queues what comes)
 *          ─▶ pipeline drained ─▶ results sink closed ─▶ checkpoint released = true, lastSeq
 * ```
 *
 * Why a persistent session per stream (client id `cfstream-<group>-s-<stream>`), not per worker:
 * the broker's queue for that session is the stream's backlog, so whoever owns the stream next
 * connects with the same id and gets every frame the previous owner did not take. Together with
 * the checkpoint's `lastSeq` (frames at or below it are skipped as duplicates) a clean handover
 * feeds each frame to exactly one model exactly once. After a crash the model goes back to the
 * last periodic checkpoint: frames the dead owner had acknowledged since are counted as a gap.
 */
import { Subject, map, type Subscription } from 'rxjs';
import { MqttConnection, type MqttClientOptions, type MqttMessage } from '../../devices/mqtt/client.js';
import { decodeSensorPayload } from '../../devices/mqtt/sensor.js';
import { StaleWatch } from '../../devices/mqtt/staleWatch.js';
import type { OnlineNMF } from '../../src/factorize/online/nmf.js';
import type { Frame, StreamInfo } from '../../src/frames/index.js';
import { buildPipeline, onlineNmfModelFor } from '../builder.js';
import { LogThrottle } from '../internal/logThrottle.js';
import { settledWithin } from '../internal/settledWithin.js';
import type { PipelineConfig, StageOf } from '../config.js';
import type { PipelineEvent } from '../events.js';
import { MqttSink } from '../sinks/mqtt.js';
import type { FactorsMessage, ModelUpdate } from '../types.js';
import type { StreamCheckpoint } from './checkpoint.js';

/** What a stream task needs. */
export interface StreamTaskOptions {
  /** The worker running it (written into checkpoints as the owner). */
  readonly worker: string;
  /** The stream's topic level. */
  readonly stream: string;
  readonly info: StreamInfo;
  /** The config checked against `info` (needs an onlineNmf stage). */
  readonly config: PipelineConfig;
  /** Connection options (url, credentials, TLS) for the frames session and the results sink. */
  readonly broker: MqttClientOptions;
  /** `<prefix>/<stream>/frames`. */
  readonly framesTopic: string;
  /** Prefix of the results topics. */
  readonly resultsPrefix: string;
  /** The persistent session's client id. */
  readonly sessionId: string;
  /** The stream's checkpoint as last seen on the broker, if any. */
  readonly checkpoint: StreamCheckpoint | undefined;
  /** Publishes a checkpoint (retained, QoS 1); resolves when the broker has it. */
  readonly publishCheckpoint: (c: Omit<StreamCheckpoint, 'format' | 'version' | 'savedAt'>) => Promise<void>;
  /** Period of the running checkpoints, ms. */
  readonly checkpointEveryMs: number;
  /** Rejected messages and connection trouble, one line each. */
  readonly warn: (message: string) => void;
  /** 10000 frames. A seq further back than this below the last one fed is a device restart (its seq began again), not a redelivered duplicate. */
  readonly restartBelowFrames?: number;
  /** 5000 ms. Silence on the frames topic after which the results' status says 'stale' (0: never). */
  readonly staleAfterMs?: number;
  /** 10000 ms. How long a release waits for the broker to take the final checkpoint (a stopping worker must not hang on a broker that is gone). */
  readonly checkpointTimeoutMs?: number;
}

/** What a stream task did while it ran (the `released` log record). */
export interface StreamTaskReport {
  readonly stream: string;
  /** First and last seq fed to the model by this task (−1: none). */
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** Frames fed to the pipeline. */
  readonly frames: number;
  /** Frames skipped because the model already had them (redelivered at or below the checkpoint). */
  readonly duplicates: number;
  /** Times the device's seq started again (a reboot): counting restarted from its new seq. */
  readonly restarts: number;
  /** Seq numbers missing between frames fed (lost before they reached this worker). */
  readonly gaps: number;
  /** Messages that did not decode (each also warned about). */
  readonly rejects: number;
  /** Factors messages published, and the last one's index. */
  readonly reconstructions: number;
  readonly index: number;
  readonly seconds: number;
  /** The release's final checkpoint reached the broker (false: aborted, or the broker did not take it in time, so the next owner falls back to the last periodic one). */
  readonly checkpointed: boolean;
}

/** A running stream (module header). */
export class StreamTask {
  private readonly frames = new Subject<Frame>();
  private readonly subs: Subscription[] = [];
  private saver: ReturnType<typeof setInterval> | undefined;
  private fedSeq: number;
  private modelSeq: number;
  private firstSeq = -1;
  private counts = { frames: 0, duplicates: 0, restarts: 0, gaps: 0, rejects: 0, reconstructions: 0 };
  private index: number;
  private releasing: Promise<StreamTaskReport> | undefined;
  private staleWatch: StaleWatch | undefined;
  /** A device sending garbage at 10 messages/s must not flood the log: one line per 5 s, with a count. */
  private readonly rejectLog = new LogThrottle(1, 5000);
  private readonly t0 = performance.now();
  private connection: MqttConnection | undefined;
  private sink: MqttSink | undefined;
  private running: Subscription | undefined;
  private done: Promise<void> = Promise.resolve();

  private constructor(private readonly o: StreamTaskOptions, private readonly model: OnlineNMF) {
    this.fedSeq = o.checkpoint?.lastSeq ?? -1;
    this.modelSeq = this.fedSeq;
    this.index = o.checkpoint?.index ?? 0;
  }

  /**
   * Claims the stream, restores its model and starts consuming (module header).
   * @throws Error when the config has no onlineNmf stage or the checkpoint's model does not fit it
   */
  static async start(o: StreamTaskOptions): Promise<StreamTask> {
    const stage = o.config.stages.find((st): st is StageOf<'onlineNmf'> => st.type === 'onlineNmf');
    if (!stage) throw new Error(`stream ${o.stream}: the config has no onlineNmf stage (a worker hands streams over by the online NMF model's checkpoint)`);
    let model: OnlineNMF | undefined;
    let checkpoint = o.checkpoint;
    if (checkpoint?.model) {
      try {
        model = onlineNmfModelFor(o.config, stage, checkpoint.model);
      } catch (e) {
        // E.g. the device now sends another frame length: its old model cannot take the new frames.
        o.warn(`stream ${o.stream}: the checkpoint's model does not fit this config and header (${(e as Error).message}); starting a new model`);
        checkpoint = { ...checkpoint, model: null };
      }
    }
    model ??= onlineNmfModelFor(o.config, stage);
    const task = new StreamTask({ ...o, checkpoint }, model);
    await o.publishCheckpoint(task.snapshot(false, checkpoint?.model ?? null));
    task.run();
    await task.connect();
    return task;
  }

  /** The checkpoint this task would write now. */
  private snapshot(released: boolean, model = this.model.framesSeen > 0 ? this.model.state() : null): Omit<StreamCheckpoint, 'format' | 'version' | 'savedAt'> {
    // Running: only what the model has absorbed counts (frames still in a batch are not in it);
    // released: the pipeline has drained, so every frame fed is in it (or was refused by it).
    return { stream: this.o.stream, owner: this.o.worker, released, lastSeq: released ? this.fedSeq : this.modelSeq, index: this.index, model };
  }

  private run(): void {
    const o = this.o;
    const onEvent = (e: PipelineEvent): void => {
      if (e.type === 'reject') this.counts.rejects++;
    };
    const built = buildPipeline(o.config, { onEvent, onlineNmfModel: this.model });
    if (built.output !== 'updates') throw new Error(`stream ${o.stream}: the config's last transform stage must be onlineNmf (it is ${built.output})`);
    const running = built.run(this.frames);
    const shift = this.index;
    const factors$ = running.factors.pipe(map((f): FactorsMessage => ({ ...f, index: f.index + shift })));
    this.sink = MqttSink.open({ broker: o.broker, info: o.info, prefix: o.resultsPrefix, stream: o.stream });
    this.subs.push(this.sink.attach({ factors$, metrics$: running.metrics }));
    let open = 3;
    let resolveDone!: () => void;
    this.done = new Promise<void>((r) => { resolveDone = r; });
    const ended = (): void => { if (--open === 0) resolveDone(); };
    const failed = (e: unknown): void => { o.warn(`stream ${o.stream}: pipeline error: ${(e as Error).message}`); ended(); };
    this.subs.push(
      running.output.subscribe({ next: (u) => { this.modelSeq = (u as ModelUpdate).lastSeq; }, error: failed, complete: ended }),
      factors$.subscribe({ next: (f) => { this.counts.reconstructions++; this.index = f.index; }, error: failed, complete: ended }),
      running.metrics.subscribe({ error: failed, complete: ended }),
    );
    this.running = running.connect();
    // A silent device shows as 'stale' on its results' status topic, 'online' again with its next frame.
    this.staleWatch = new StaleWatch(o.staleAfterMs ?? 5000, {
      stale: (silentMs) => {
        this.sink?.setStatus('stale');
        o.warn(`stream ${o.stream}: no frames for ${(silentMs / 1000).toFixed(1)} s; status stale`);
      },
      fresh: () => this.sink?.setStatus('online'),
    });
    this.saver = setInterval(() => {
      o.publishCheckpoint(this.snapshot(false)).catch((e: Error) => o.warn(`stream ${o.stream}: checkpoint not written: ${e.message}`));
    }, o.checkpointEveryMs);
  }

  private async connect(): Promise<void> {
    const o = this.o;
    // 3.1.1: a clean=false session lives on after DISCONNECT (MQTT 5 would need a session expiry).
    const conn = new MqttConnection({ ...o.broker, clientId: o.sessionId, clean: false, protocolVersion: 4 });
    this.connection = conn;
    // Before connect(): the persistent session hands its queued frames over right after the CONNACK.
    this.subs.push(conn.messagesOn(o.framesTopic).subscribe((m) => this.onMessage(m)));
    this.subs.push(conn.events$.subscribe((e) => {
      if (e.type === 'offline' || e.type === 'reconnect') o.warn(`stream ${o.stream}: frames session ${e.type}: ${e.reason}`);
    }));
    await conn.connect();
    await conn.subscribe(o.framesTopic, 1);
  }

  private onMessage(m: MqttMessage): void {
    if (m.topic !== this.o.framesTopic) return;
    const r = decodeSensorPayload(m.payload, this.o.info, m.topic);
    if (!r.ok) {
      this.counts.rejects++;
      const more = this.rejectLog.admit();
      if (more !== undefined) this.o.warn(`stream ${this.o.stream}: rejected (${r.reason}): ${r.message}${more > 0 ? ` (+${more} more since the last report)` : ''}`);
      return;
    }
    this.staleWatch?.alive();
    for (const f of r.frames) {
      if (f.seq <= this.fedSeq && this.fedSeq - f.seq > (this.o.restartBelowFrames ?? 10_000)) {
        // Redelivery only ever goes back by what was in flight; this far back the device began again.
        this.counts.restarts++;
        this.o.warn(`stream ${this.o.stream}: seq went back from ${this.fedSeq} to ${f.seq}: the device restarted; continuing from ${f.seq}`);
        this.fedSeq = f.seq - 1;
      }
      if (f.seq <= this.fedSeq) {
        this.counts.duplicates++;
        continue;
      }
      if (this.fedSeq >= 0 && f.seq > this.fedSeq + 1) this.counts.gaps += f.seq - this.fedSeq - 1;
      if (this.firstSeq < 0) this.firstSeq = f.seq;
      this.fedSeq = f.seq;
      this.counts.frames++;
      this.frames.next(f);
    }
  }

  /** The seq of the last frame fed to the pipeline. */
  get lastSeq(): number {
    return this.fedSeq;
  }

  /** Stops consuming, drains the pipeline, closes the results and writes the released checkpoint (module header). Idempotent. */
  release(drainTimeoutMs = 10_000): Promise<StreamTaskReport> {
    return (this.releasing ??= this.doRelease(drainTimeoutMs));
  }

  /** Stops at once without a checkpoint: another worker has claimed the stream (fencing). Idempotent with release(). */
  abort(): Promise<StreamTaskReport> {
    return (this.releasing ??= this.doAbort());
  }

  private async doAbort(): Promise<StreamTaskReport> {
    if (this.saver) clearInterval(this.saver);
    this.staleWatch?.stop();
    // Forced: no reconnect may take the session back from the new owner.
    await this.connection?.close(true).catch(() => undefined);
    for (const s of this.subs) s.unsubscribe();
    this.running?.unsubscribe();
    await this.sink?.close().catch(() => undefined);
    return this.report(false);
  }

  private report(checkpointed: boolean): StreamTaskReport {
    return {
      stream: this.o.stream, firstSeq: this.firstSeq, lastSeq: this.firstSeq < 0 ? -1 : this.fedSeq, ...this.counts, index: this.index,
      seconds: (performance.now() - this.t0) / 1000, checkpointed,
    };
  }

  private async doRelease(drainTimeoutMs: number): Promise<StreamTaskReport> {
    const o = this.o;
    if (this.saver) clearInterval(this.saver);
    this.staleWatch?.stop();
    // DISCONNECT first: nothing arrives (and gets acknowledged) after this, so every frame the
    // broker counts as delivered to this session is in the model before the checkpoint.
    await this.connection?.close().catch(() => undefined);
    this.frames.complete();
    await settledWithin(this.done, drainTimeoutMs);
    for (const s of this.subs) s.unsubscribe();
    this.running?.unsubscribe();
    // The results go 'offline' before the next owner can claim the stream and say 'online'.
    await this.sink?.close().catch(() => undefined);
    let written = false;
    const final = o.publishCheckpoint(this.snapshot(true)).then(
      () => { written = true; },
      (e: Error) => o.warn(`stream ${o.stream}: final checkpoint not written: ${e.message}`),
    );
    const limit = o.checkpointTimeoutMs ?? 10_000;
    if (!(await settledWithin(final, limit))) o.warn(`stream ${o.stream}: the broker did not take the final checkpoint within ${limit} ms; the next owner starts from the last periodic one`);
    return this.report(written);
  }
}
