/**
 * A scale-out worker: several processes (on one machine or many) share the device streams of one
 * MQTT broker, each stream run by exactly one of them.
 *
 * ```
 * <coord>/members/<worker>       retained {id, pid, host, since}, published again every
 *                                memberGraceMs / 4 (the heartbeat); a clean stop clears it (empty);
 *                                the will (a crash, a lost link) replaces it with {id, gone: true}
 * <coord>/checkpoints/<stream>   retained StreamCheckpoint (checkpoint.ts): the model and the lock
 * <prefix>/+/info                retained StreamInfo of each device stream (the streams to run)
 *
 * members ∪ streams ─▶ ownerOf(stream, members) (rendezvous hash, assign.ts)
 *   mine and not running  ─▶ wait until the checkpoint is released or its owner is gone ─▶ StreamTask.start
 *   running and not mine  ─▶ StreamTask.release (a newcomer takes it)
 * stop: release every stream, then clear the member record (the others take over at once)
 * ```
 *
 * No coordinator and no consensus: every worker derives the same assignment from the same
 * retained records, and the checkpoint's owner/released fields keep two workers off one stream
 * while their views of the member list briefly differ.
 *
 * Liveness is heard, not read: a member counts as alive while its record was heard (retained or
 * live) within `memberGraceMs` of this worker hearing its own (the members' clock: a stalled
 * broker delivers nobody's heartbeat, ours included, so it ends nobody's membership). A retained record alone
 * proves nothing (a worker stopped or killed while the broker was away leaves one saying 'here'
 * that no will ever replaces; without the heartbeat its streams would wait for it forever). A
 * will does not end a member at once either: a broker restart publishes every worker's will and
 * drops every connection, and the workers re-announce when they reconnect; without the grace the
 * first one back would take everybody's streams. While this worker's own link is down it hears
 * nobody, so it judges nobody: after a reconnect every member alive at the loss gets a fresh grace.
 *
 * Fencing: a worker that sees another claim a stream it runs (a checkpoint naming another owner,
 * not released) stops that stream at once, without writing a checkpoint, so two workers never
 * keep feeding one stream's session.
 */
import { hostname } from 'node:os';
import type { Subscription } from 'rxjs';
import { MqttConnection, type MqttClientOptions, type MqttMessage } from '../../devices/mqtt/client.js';
import { checkTopicPart, topicSegment } from '../../devices/mqtt/topics.js';
import { InvalidOptionError } from '../../src/errors.js';
import { decodeStreamInfo, type StreamInfo } from '../../src/frames/index.js';
import type { PipelineConfig } from '../config.js';
import { settledWithin } from '../internal/settledWithin.js';
import { ownerOf } from './assign.js';
import { decodeCheckpoint, encodeCheckpoint, type StreamCheckpoint } from './checkpoint.js';
import { StreamTask, type StreamTaskReport } from './streamTask.js';

/** Options of a `Worker`. */
export interface WorkerOptions {
  /** Required. The broker (url, credentials, TLS): a real one (mosquitto, EMQX, HiveMQ, VerneMQ) all workers share. */
  broker: MqttClientOptions;
  /** Required. The config for one stream, checked against its header (throw to refuse the stream). */
  configFor: (info: StreamInfo) => PipelineConfig;
  /** `<host>-<pid>`. This worker's id (unique in the group). */
  id?: string;
  /** 'default'. Workers of one group share streams; groups are independent. */
  group?: string;
  /** 'cfstream'. The devices' topic prefix: streams are `<prefix>/<stream>/{info,frames}`. */
  devicePrefix?: string;
  /** 'cfstream/results'. Prefix of the results topics (must differ from devicePrefix). */
  resultsPrefix?: string;
  /** 'cfstream-workers/<group>'. Where members and checkpoints live. */
  coordinationPrefix?: string;
  /** 5000 ms. Period of each stream's running checkpoint (what a crash falls back to). */
  checkpointEveryMs?: number;
  /** 1000 ms. Wait after joining for the retained members and checkpoints before taking streams. */
  settleMs?: number;
  /** 30000 ms. How long to wait for a live owner to release a stream before taking it anyway. */
  takeoverTimeoutMs?: number;
  /** 5000 ms (≥ 100). How long a member not heard from still counts as alive (module header): a crashed worker's streams move after this; the heartbeat is a quarter of it. */
  memberGraceMs?: number;
  /** 10000 ms. How long stopping waits for the broker to take each stream's final checkpoint and the cleared member record: a worker stopped while its broker is gone still exits. */
  stopTimeoutMs?: number;
  /** What happened (one record per event); default: nothing. */
  log?: (event: WorkerEvent) => void;
}

/** What a worker reports. */
export type WorkerEvent =
  | { readonly event: 'joined'; readonly worker: string; readonly group: string }
  | { readonly event: 'members'; readonly members: readonly string[] }
  | { readonly event: 'acquired'; readonly stream: string; readonly fromSeq: number; readonly index: number; readonly restored: boolean; readonly previousOwner: string | null; readonly waitedMs: number; readonly forced: boolean }
  | ({ readonly event: 'released'; readonly reason: 'rebalance' | 'stop' | 'stream gone' | 'header changed' | 'fenced' } & StreamTaskReport)
  | { readonly event: 'warning'; readonly message: string }
  | { readonly event: 'left'; readonly worker: string };

/** The documented defaults of `WorkerOptions` (id, coordinationPrefix depend on the host and group). */
export const DEFAULT_WORKER_OPTIONS = Object.freeze({
  group: 'default', devicePrefix: 'cfstream', resultsPrefix: 'cfstream/results', checkpointEveryMs: 5000, settleMs: 1000, takeoverTimeoutMs: 30_000, memberGraceMs: 5000, stopTimeoutMs: 10_000,
});

type Slot = { state: 'acquiring' } | { state: 'running'; task: StreamTask } | { state: 'releasing' };

/** A scale-out worker (module header). */
export class Worker {
  /** This worker's id. */
  readonly id: string;
  private readonly o: Required<Omit<WorkerOptions, 'log'>> & Pick<WorkerOptions, 'log'>;
  private readonly control: MqttConnection;
  /** The heartbeat's period: a quarter of the member grace. */
  private readonly beatMs: number;
  /** When each member's record ('here') was last heard, on this worker's clock (module header). */
  private readonly heardAt = new Map<string, number>();
  /** The live members as last logged (to log changes only). */
  private liveList = '';
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  /** Stopping: the broker did not take a final checkpoint in time (the rest of the stop does not wait for it). */
  private brokerSilent = false;
  private connects = 0;
  private readonly streams = new Map<string, StreamInfo>();
  private readonly checkpoints = new Map<string, StreamCheckpoint>();
  private readonly slots = new Map<string, Slot>();
  /** Streams whose config was refused: not retried until their info changes. */
  private readonly refused = new Map<string, string>();
  private readonly subs: Subscription[] = [];
  private settled = false;
  private stopping: Promise<void> | undefined;
  private rebalanceTimer: ReturnType<typeof setTimeout> | undefined;

  /** @throws InvalidOptionError naming the bad option */
  constructor(options: WorkerOptions) {
    const o = { ...DEFAULT_WORKER_OPTIONS, id: `${hostname()}-${process.pid}`, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as Required<WorkerOptions>;
    o.coordinationPrefix ??= `cfstream-workers/${o.group}`;
    if (typeof o.configFor !== 'function') throw new InvalidOptionError('Worker', 'configFor', 'a function', o.configFor);
    checkTopicPart('Worker', 'id', o.id, false);
    checkTopicPart('Worker', 'group', o.group, false);
    checkTopicPart('Worker', 'devicePrefix', o.devicePrefix, true);
    checkTopicPart('Worker', 'resultsPrefix', o.resultsPrefix, true);
    checkTopicPart('Worker', 'coordinationPrefix', o.coordinationPrefix, true);
    if (o.resultsPrefix === o.devicePrefix) throw new InvalidOptionError('Worker', 'resultsPrefix', `a prefix other than the devices' (${o.devicePrefix}): results would overwrite the devices' retained info`, o.resultsPrefix);
    for (const k of ['checkpointEveryMs', 'settleMs', 'takeoverTimeoutMs', 'memberGraceMs', 'stopTimeoutMs'] as const) {
      const min = k === 'checkpointEveryMs' || k === 'memberGraceMs' ? 100 : 0;
      if (typeof o[k] !== 'number' || !Number.isFinite(o[k]) || o[k] < min) throw new InvalidOptionError('Worker', k, `a number of ms ≥ ${min}`, o[k]);
    }
    this.o = o;
    this.id = o.id;
    this.beatMs = Math.max(25, o.memberGraceMs / 4);
    this.control = new MqttConnection({
      ...o.broker, clientId: `cfstream-${o.group}-w-${o.id}`.slice(0, 200), clean: true,
      will: { topic: this.memberTopic(o.id), payload: JSON.stringify({ id: o.id, gone: true }), retain: true, qos: 1 },
    });
  }

  private memberTopic(id: string): string {
    return `${this.o.coordinationPrefix}/members/${id}`;
  }

  private checkpointTopic(stream: string): string {
    return `${this.o.coordinationPrefix}/checkpoints/${stream}`;
  }

  private log(e: WorkerEvent): void {
    this.o.log?.(e);
  }

  private warn(message: string): void {
    this.log({ event: 'warning', message });
  }

  /** Streams this worker runs now. */
  owned(): string[] {
    return [...this.slots].filter(([, s]) => s.state === 'running').map(([k]) => k).sort();
  }

  /** Connects, joins the group and starts taking its share of the streams. */
  async start(): Promise<void> {
    const o = this.o;
    this.subs.push(this.control.messages$.subscribe((m) => this.onMessage(m)));
    this.subs.push(this.control.events$.subscribe((e) => {
      if (e.type === 'offline' || e.type === 'reconnect') this.warn(`control connection ${e.type}: ${e.reason}`);
      if (e.type === 'connect' && ++this.connects > 1 && !this.stopping) {
        // Back after a lost link: we heard nobody meanwhile, so whoever was alive when we lost
        // it gets a fresh grace to be heard again. Our own record may have been replaced by our
        // will: say we are here again.
        this.freshGrace(this.clock(), performance.now());
        void this.announce().catch(() => undefined);
        this.scheduleRebalance();
      }
    }));
    await this.control.connect();
    await this.control.subscribe([`${o.coordinationPrefix}/members/+`, `${o.coordinationPrefix}/checkpoints/+`, `${o.devicePrefix}/+/info`], 1);
    await this.announce();
    this.heartbeat = setInterval(() => {
      if (!this.control.connected) return;
      void this.announce().catch(() => undefined);
      this.checkMembers();
    }, this.beatMs);
    this.log({ event: 'joined', worker: this.id, group: o.group });
    await new Promise((r) => setTimeout(r, o.settleMs));
    this.settled = true;
    this.rebalance();
  }

  private announce(): Promise<void> {
    return this.control.publish(this.memberTopic(this.id), JSON.stringify({ id: this.id, pid: process.pid, host: hostname(), since: new Date().toISOString() }), { qos: 1, retain: true });
  }

  private onMessage(m: MqttMessage): void {
    const o = this.o;
    const coord = `${o.coordinationPrefix}/`;
    if (m.topic.startsWith(`${coord}members/`)) {
      const id = m.topic.slice(`${coord}members/`.length);
      const record = m.payload.length === 0 ? 'cleared' : memberRecord(m.payload, id);
      if (record === 'invalid') {
        // A phantom member would be assigned streams that nobody runs.
        this.warn(`member record ${m.topic} ignored: not {"id": "${id}", ...} JSON`);
        return;
      }
      // A clean stop clears the record: its streams were released first, nothing to wait for.
      // Its will ('gone': crashed, or only cut off by a broker restart) is not news: it stays
      // alive until its grace after it was last heard runs out.
      const now = performance.now();
      if (record === 'cleared') this.heardAt.delete(id);
      else if (record === 'here') {
        const last = this.heardAt.get(id);
        // Our own heartbeat back after a silence much longer than its period: the broker stalled
        // (or our link did) and delivered nobody's; like after a reconnect, nobody is judged on it.
        if (id === this.id && last !== undefined && now - last > 2 * this.beatMs) this.freshGrace(last, now);
        this.heardAt.set(id, now);
      }
      this.checkMembers();
      return;
    }
    if (m.topic.startsWith(`${coord}checkpoints/`)) {
      const stream = m.topic.slice(`${coord}checkpoints/`.length);
      try {
        const c = decodeCheckpoint(m.payload, m.topic);
        if (c) this.checkpoints.set(stream, c);
        else this.checkpoints.delete(stream);
        if (c && c.owner !== this.id && !c.released && this.slots.get(stream)?.state === 'running') {
          this.warn(`stream ${stream}: ${c.owner} claimed it; stopping it here without a checkpoint`);
          void this.release(stream, 'fenced');
        }
      } catch (e) {
        this.warn((e as Error).message);
      }
      return;
    }
    const parts = m.topic.split('/');
    if (parts.length === o.devicePrefix.split('/').length + 2 && parts.at(-1) === 'info') {
      const stream = parts.at(-2)!;
      if (m.payload.length === 0) {
        this.streams.delete(stream);
      } else {
        try {
          const info = decodeStreamInfo(m.payload, `stream info on ${m.topic}`);
          if (topicSegment(info.id) !== stream) throw new Error(`stream info on ${m.topic} names stream ${JSON.stringify(info.id)}, not ${stream}`);
          const prev = this.streams.get(stream);
          const changed = prev !== undefined && JSON.stringify(prev) !== JSON.stringify(info);
          this.streams.set(stream, info);
          if (changed) {
            this.refused.delete(stream);
            // The running pipeline was built for the old header: restart it on the new one.
            if (this.slots.get(stream)?.state === 'running') void this.release(stream, 'header changed');
          }
        } catch (e) {
          this.warn((e as Error).message);
          return;
        }
      }
      this.scheduleRebalance();
    }
  }

  private scheduleRebalance(): void {
    if (!this.settled || this.stopping || this.rebalanceTimer) return;
    // Coalesce a burst of retained records (a join sees all of them at once) into one pass.
    this.rebalanceTimer = setTimeout(() => { this.rebalanceTimer = undefined; this.rebalance(); }, 50);
  }

  /**
   * The members' clock: when this worker last heard its own record come back. Up to then the
   * broker is known to have delivered what the others sent; past it (a lost link, a stalled
   * broker) silence proves nothing, so nobody's grace runs out.
   */
  private clock(): number {
    return this.heardAt.get(this.id) ?? performance.now();
  }

  /** Gives every member alive at `at` (by the members' clock) a fresh grace from `now`, and forgets the others. */
  private freshGrace(at: number, now: number): void {
    for (const [id, t] of this.heardAt) {
      if (at - t < this.o.memberGraceMs) this.heardAt.set(id, now);
      else this.heardAt.delete(id);
    }
  }

  /** This worker and the members heard within their grace by the members' clock (module header). */
  private live(): Set<string> {
    const now = this.clock();
    const out = new Set([this.id]);
    for (const [id, t] of this.heardAt) {
      if (now - t < this.o.memberGraceMs) out.add(id);
      else this.heardAt.delete(id);
    }
    return out;
  }

  /** Logs the live members when they changed, and redistributes the streams. */
  private checkMembers(): void {
    const list = [...this.live()].sort();
    const key = list.join('\n');
    if (key === this.liveList) return;
    this.liveList = key;
    this.log({ event: 'members', members: list });
    this.scheduleRebalance();
  }

  private rebalance(): void {
    // Cut off, this worker hears nobody: it neither takes nor gives streams until it is back.
    if (this.stopping || !this.control.connected) return;
    const live = this.live();
    for (const stream of this.streams.keys()) {
      if (!this.slots.has(stream) && !this.refused.has(stream) && ownerOf(stream, live) === this.id) void this.acquire(stream);
    }
    for (const [stream, slot] of this.slots) {
      if (slot.state !== 'running') continue;
      if (!this.streams.has(stream)) void this.release(stream, 'stream gone');
      else if (ownerOf(stream, live) !== this.id) void this.release(stream, 'rebalance');
    }
  }

  private async acquire(stream: string): Promise<void> {
    const o = this.o;
    this.slots.set(stream, { state: 'acquiring' });
    const t0 = performance.now();
    let forced = false;
    // The stream is ours by the hash; wait while a live previous owner still runs it.
    for (;;) {
      if (this.stopping || !this.streams.has(stream) || ownerOf(stream, this.live()) !== this.id) {
        this.slots.delete(stream);
        return;
      }
      const c = this.checkpoints.get(stream);
      if (!c || c.released || c.owner === this.id || !this.live().has(c.owner)) break;
      if (performance.now() - t0 > o.takeoverTimeoutMs) {
        forced = true;
        this.warn(`stream ${stream}: ${c.owner} did not release it within ${o.takeoverTimeoutMs} ms; taking it from its last checkpoint`);
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const checkpoint = this.checkpoints.get(stream);
    const info = this.streams.get(stream)!;
    let task: StreamTask;
    try {
      const config = o.configFor(info);
      task = await StreamTask.start({
        worker: this.id, stream, info, config, broker: o.broker,
        framesTopic: `${o.devicePrefix}/${stream}/frames`, resultsPrefix: o.resultsPrefix,
        sessionId: `cfstream-${o.group}-s-${stream}`.slice(0, 200), checkpoint,
        publishCheckpoint: (c) => this.control.publish(this.checkpointTopic(stream), encodeCheckpoint(c), { qos: 1, retain: true }),
        checkpointEveryMs: o.checkpointEveryMs, checkpointTimeoutMs: o.stopTimeoutMs,
        warn: (m) => this.warn(m),
      });
    } catch (e) {
      this.refused.set(stream, (e as Error).message);
      this.slots.delete(stream);
      this.warn(`stream ${stream} not started: ${(e as Error).message}`);
      return;
    }
    this.slots.set(stream, { state: 'running', task });
    this.log({
      event: 'acquired', stream, fromSeq: (checkpoint?.lastSeq ?? -1) + 1, index: checkpoint?.index ?? 0, restored: Boolean(checkpoint?.model),
      previousOwner: checkpoint?.owner ?? null, waitedMs: Math.round(performance.now() - t0), forced,
    });
    // The world may have moved while we started (a newcomer, a stopped stream, a stop that did
    // not wait for this start).
    if (this.stopping) void this.release(stream, 'stop');
    else this.scheduleRebalance();
  }

  /** Stops a stream this worker runs; 'fenced' (another worker claimed it): at once, leaving the checkpoint to the new owner. */
  private async release(stream: string, reason: Extract<WorkerEvent, { event: 'released' }>['reason']): Promise<void> {
    const slot = this.slots.get(stream);
    if (!slot || slot.state !== 'running') return;
    this.slots.set(stream, { state: 'releasing' });
    try {
      const report = await (reason === 'fenced' ? slot.task.abort() : slot.task.release());
      if (reason !== 'fenced' && !report.checkpointed) this.brokerSilent = true;
      this.log({ event: 'released', reason, ...report });
    } catch (e) {
      this.warn(`stream ${stream}: release failed: ${(e as Error).message}`);
    } finally {
      this.slots.delete(stream);
    }
    if (!this.stopping) this.scheduleRebalance();
  }

  /** Releases every stream (checkpoints written), leaves the group and disconnects. Idempotent. */
  stop(): Promise<void> {
    return (this.stopping ??= this.doStop());
  }

  private async doStop(): Promise<void> {
    if (this.rebalanceTimer) clearTimeout(this.rebalanceTimer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    // Streams still being acquired finish first, so each is released with a checkpoint (an
    // acquisition stuck on a broker that is gone fails when the control link closes below).
    const acquiring = performance.now();
    while ([...this.slots.values()].some((s) => s.state === 'acquiring') && performance.now() - acquiring < this.o.stopTimeoutMs) await new Promise((r) => setTimeout(r, 20));
    await Promise.all([...this.slots.keys()].map((s) => this.release(s, 'stop')));
    while ([...this.slots.values()].some((s) => s.state === 'releasing')) await new Promise((r) => setTimeout(r, 20));
    // A broker that did not take a final checkpoint will not take the rest either: leave at once
    // (the heartbeat stops, so the others stop counting this worker after their grace).
    if (this.control.connected && !this.brokerSilent && !(await settledWithin(this.control.publish(this.memberTopic(this.id), '', { qos: 1, retain: true }), this.o.stopTimeoutMs))) {
      this.warn(`the broker did not take the cleared member record within ${this.o.stopTimeoutMs} ms`);
      this.brokerSilent = true;
    }
    for (const s of this.subs) s.unsubscribe();
    await this.control.close(this.brokerSilent);
    this.log({ event: 'left', worker: this.id });
  }
}

/** What a member record says: here, gone (its will), or nothing usable (not JSON naming this member). */
function memberRecord(payload: Buffer, id: string): 'here' | 'gone' | 'invalid' {
  let r: unknown;
  try {
    r = JSON.parse(payload.toString('utf8'));
  } catch {
    return 'invalid';
  }
  if (typeof r !== 'object' || r === null || (r as { id?: unknown }).id !== id) return 'invalid';
  return (r as { gone?: unknown }).gone === true ? 'gone' : 'here';
}
