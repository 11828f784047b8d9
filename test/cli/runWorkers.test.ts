/**
 * Scale-out on mosquitto: `cfstream run --worker` processes share four device streams. A second
 * worker joining takes its rendezvous share from the first; stopping the first hands its streams
 * to the second within 10 s; across both workers every frame of every stream is fed to a model
 * exactly once (the released records' seq ranges tile 0..last with no gap and no overlap); and a
 * `kill -9`ed worker's streams are taken from their last checkpoint with the loss counted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { ownerOf } from '../../pipelines/scaleout/assign.js';
import { makeProjection } from '../../src/sensing/operator.js';
import { SensorSignal } from '../../simulators/virtualSensor.js';
import { describeMosquitto, lastFactorsIndex, newFactors, rawPublisher, rawSubscriber, startMosquitto, waitFor, type Mosquitto } from '../devices/mqtt/helpers.js';

const root = join(import.meta.dirname, '..', '..');

interface WorkerProc { child: ChildProcess; id: string; events: Record<string, unknown>[]; err: () => string; exit: Promise<number | null> }

function worker(url: string, id: string, ...extra: string[]): WorkerProc {
  const child = spawn(process.execPath, [join(root, 'src/cli/cfstream.js'), 'run', 'config/workers.yaml', '--worker', '--worker-id', id,
    '--source', `${url}/cfstream/+`, '--json-log', '--checkpoint-every', '1', ...extra], { cwd: root });
  let err = '';
  const events: Record<string, unknown>[] = [];
  let partial = '';
  child.stderr!.on('data', (b: Buffer) => {
    err += b.toString();
    partial += b.toString();
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) if (line.startsWith('{')) events.push({ ...JSON.parse(line), seenAt: performance.now() });
  });
  child.stdout!.resume();
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, id, events, err: () => err, exit };
}

const acquired = (w: WorkerProc, stream: string) => w.events.filter((e) => e.event === 'acquired' && e.stream === stream);
const released = (w: WorkerProc) => w.events.filter((e) => e.event === 'released') as unknown as { stream: string; firstSeq: number; lastSeq: number; frames: number; gaps: number; duplicates: number; checkpointed: boolean }[];

/** A compressed device publishing JSON batches at QoS 1 (what a firmware would), paced by a timer. */
class Device {
  seq = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly signal: SensorSignal;
  private readonly P = makeProjection({ ensemble: 'sparse-binary', n: 32, d: 12, p: 3, seed: 1 });
  private readonly x = new Float64Array(32);
  private pending: Promise<unknown>[] = [];
  constructor(private readonly client: MqttClient, readonly stream: string, seed: number) {
    this.signal = new SensorSignal(32, 4, 6, 0.01, seed);
  }

  info(): Promise<unknown> {
    return this.client.publishAsync(`cfstream/${this.stream}/info`, JSON.stringify({ id: this.stream, kind: 'compressed', n: 32, rate: 250, projection: this.P.spec }), { qos: 1, retain: true });
  }

  start(): void {
    const t0 = performance.now();
    this.timer = setInterval(() => {
      const due = Math.floor(((performance.now() - t0) / 1000) * 250);
      while (this.seq + 25 <= due) {
        const values = Array.from({ length: 25 }, () => Array.from(this.P.apply(this.signal.next(this.x))));
        this.pending.push(this.client.publishAsync(`cfstream/${this.stream}/frames`, JSON.stringify({ seq: this.seq, t0: this.seq / 250, dt: 1 / 250, values }), { qos: 1 }));
        this.seq += 25;
      }
    }, 20);
  }

  /** Stops and waits until the broker acknowledged every frame; the last seq sent. */
  async stop(): Promise<number> {
    clearInterval(this.timer);
    await Promise.all(this.pending);
    return this.seq - 1;
  }
}

/** Four stream names, two of which go to each of workers a and b (so both a join and a leave move streams). */
function streamNames(): string[] {
  const names: string[] = [];
  const per = { a: 0, b: 0 };
  for (let i = 0; names.length < 4; i++) {
    const s = `dev${i}`;
    const o = ownerOf(s, ['a', 'b']) as 'a' | 'b';
    if (per[o] < 2) { per[o]++; names.push(s); }
  }
  return names;
}

/** Checks that one stream's released ranges tile first..last exactly (nothing twice, nothing missing). */
function tiles(ranges: { firstSeq: number; lastSeq: number; frames: number; gaps: number }[], first: number, last: number, stream: string): void {
  const sorted = ranges.filter((r) => r.frames > 0).sort((x, y) => x.firstSeq - y.firstSeq);
  expect(sorted.length, `${stream}: ranges`).toBeGreaterThan(0);
  expect(sorted[0]!.firstSeq, `${stream}: first frame fed`).toBe(first);
  for (let i = 0; i < sorted.length; i++) {
    const r = sorted[i]!;
    expect(r.frames, `${stream}: range ${r.firstSeq}..${r.lastSeq} is whole`).toBe(r.lastSeq - r.firstSeq + 1);
    expect(r.gaps, `${stream}: gaps in ${r.firstSeq}..${r.lastSeq}`).toBe(0);
    if (i > 0) expect(r.firstSeq, `${stream}: range after ${sorted[i - 1]!.lastSeq}`).toBe(sorted[i - 1]!.lastSeq + 1);
  }
  expect(sorted.at(-1)!.lastSeq, `${stream}: last frame fed`).toBe(last);
}

describeMosquitto('cfstream run --worker on mosquitto', () => {
  let broker: Mosquitto | undefined;
  const procs: WorkerProc[] = [];
  const clients: MqttClient[] = [];
  afterEach(async () => {
    for (const p of procs.splice(0)) { p.child.kill('SIGKILL'); await p.exit; }
    for (const c of clients.splice(0)) await c.endAsync(true);
    await broker?.stop();
    broker = undefined;
  });

  /** Four devices publishing through `pub` (not started yet) and workers a and b, settled with each stream at its rendezvous owner. */
  async function settledPair(url: string, pub: MqttClient, seed: number) {
    const names = streamNames();
    const devices = names.map((s, i) => new Device(pub, s, seed + i));
    await Promise.all(devices.map((d) => d.info()));
    const a = worker(url, 'a');
    const b = worker(url, 'b');
    procs.push(a, b);
    await waitFor(() => names.every((s) => acquired(ownerOf(s, ['a', 'b']) === 'a' ? a : b, s).length >= 1), 'both workers to take their streams', 30_000);
    await new Promise((r) => setTimeout(r, 1500)); // settled: no rebalance still under way
    return { names, devices, a, b };
  }

  it('two workers: each stream processed exactly once, a joiner takes its share, a stopped worker\'s streams move within 10 s', async () => {
    broker = await startMosquitto();
    const pub = await rawPublisher(broker.url);
    clients.push(pub);
    const names = streamNames();
    const devices = names.map((s, i) => new Device(pub, s, 10 + i));
    await Promise.all(devices.map((d) => d.info()));
    const a = worker(broker.url, 'a');
    procs.push(a);
    // a takes all four and opens their sessions before the first frame is sent: nothing is lost before it.
    await waitFor(() => names.every((s) => acquired(a, s).length === 1), 'worker a to take the four streams', 30_000);
    for (const d of devices) d.start();
    const sub = await rawSubscriber(broker.url, 'cfstream/results/+/factors');
    clients.push(sub.client);
    await waitFor(() => names.every((s) => sub.texts(`cfstream/results/${s}/factors`).length > 0), 'factors of every stream', 20_000);
    // Bad input on a live stream: counted, never fatal, and the stream's frames are all still there.
    await pub.publishAsync(`cfstream/${names[0]}/frames`, 'not a frame', { qos: 1 });
    await pub.publishAsync(`cfstream/${names[0]}/frames`, JSON.stringify({ seq: 1e6, t: 0, values: [1, 2] }), { qos: 1 });

    const b = worker(broker.url, 'b');
    procs.push(b);
    const toB = names.filter((s) => ownerOf(s, ['a', 'b']) === 'b');
    await waitFor(() => toB.every((s) => acquired(b, s).length === 1), 'worker b to take its share', 30_000);
    // Exactly one owner per stream: a released b's share and kept its own.
    for (const s of toB) expect(released(a).filter((r) => r.stream === s)).toHaveLength(1);
    for (const s of names.filter((x) => !toB.includes(x))) expect(acquired(b, s)).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 3000));

    const stoppedAt = performance.now();
    a.child.kill('SIGTERM');
    const fromA = names.filter((s) => !toB.includes(s));
    await waitFor(() => fromA.every((s) => acquired(b, s).length === 1), 'worker b to take a\'s streams', 15_000);
    const moveSeconds = Math.max(...fromA.map((s) => ((acquired(b, s)[0]!.seenAt as number) - stoppedAt) / 1000));
    console.log(`handover after SIGTERM: ${moveSeconds.toFixed(2)} s`);
    expect(moveSeconds).toBeLessThan(10);
    expect(await a.exit).toBe(0);
    for (const s of fromA) expect(acquired(b, s)[0]).toMatchObject({ previousOwner: 'a', restored: true, forced: false });
    // The new owner's factors continue the old one's index: nothing published goes backwards.
    const lastIndex = (s: string) => Math.max(...sub.texts(`cfstream/results/${s}/factors`).map((t) => (JSON.parse(t) as { index: number }).index));
    const before = Object.fromEntries(fromA.map((s) => [s, lastIndex(s)]));
    await waitFor(() => fromA.every((s) => lastIndex(s) > before[s]!), 'factors from worker b for a\'s streams', 10_000);

    await new Promise((r) => setTimeout(r, 1500));
    const lastSeqs = await Promise.all(devices.map((d) => d.stop()));
    // b drains what the broker holds for it, then stops cleanly.
    await new Promise((r) => setTimeout(r, 1500));
    b.child.kill('SIGTERM');
    expect(await b.exit).toBe(0);
    names.forEach((s, i) => {
      const ranges = [...released(a), ...released(b)].filter((r) => r.stream === s);
      // A handover may see QoS 1 redelivery: the broker resends what it had in flight to the old
      // owner when the DISCONNECT crossed it, and the new owner skips those by the checkpoint's
      // seq. So only a range that began at a handover may have any, whole messages of 25 frames,
      // at most mosquitto's in-flight window (20 messages); the tiling below is the exactly-once proof.
      const first = ranges.find((r) => r.firstSeq === 0);
      expect(first?.duplicates, `${s}: duplicates in the first owner's range`).toBe(0);
      const duplicates = ranges.reduce((n, r) => n + r.duplicates, 0);
      expect(duplicates % 25, `${s}: duplicates are whole redelivered messages`).toBe(0);
      expect(duplicates, `${s}: duplicates`).toBeLessThanOrEqual(20 * 25 * (ranges.length - 1));
      tiles(ranges, 0, lastSeqs[i]!, s);
      expect(ranges.reduce((n, r) => n + (r as unknown as { rejects: number }).rejects, 0), `${s}: rejects`).toBe(i === 0 ? 2 : 0);
    });
    expect(a.err() + b.err()).toMatch(new RegExp(`stream ${names[0]}: rejected \\((decode|length)\\)`));
  }, 120_000);

  it('a kill -9ed worker\'s streams are taken from their last checkpoint, the frames it had taken since counted as lost; silent devices show as stale', async () => {
    broker = await startMosquitto();
    const pub = await rawPublisher(broker.url);
    clients.push(pub);
    const { names, devices, a, b } = await settledPair(broker.url, pub, 20);
    const ofA = names.filter((s) => ownerOf(s, ['a', 'b']) === 'a');
    for (const d of devices) d.start();
    await new Promise((r) => setTimeout(r, 4000)); // a few checkpoints (every 1 s)
    const killedAt = performance.now();
    a.child.kill('SIGKILL');
    await waitFor(() => ofA.every((s) => acquired(b, s).length >= 1), 'worker b to take the dead worker\'s streams', 15_000);
    for (const s of ofA) {
      const e = acquired(b, s).at(-1)!;
      expect(e).toMatchObject({ previousOwner: 'a', restored: true, forced: false });
      expect(((e.seenAt as number) - killedAt) / 1000).toBeLessThan(10);
    }
    await new Promise((r) => setTimeout(r, 1500));
    const status = await rawSubscriber(broker.url, 'cfstream/results/+/status');
    clients.push(status.client);
    await waitFor(() => status.messages.length >= names.length, 'the retained statuses', 3000);
    expect(Object.fromEntries(names.map((s) => [s, status.texts(`cfstream/results/${s}/status`)]))).toEqual(Object.fromEntries(names.map((s) => [s, ['online']])));
    await Promise.all(devices.map((d) => d.stop()));
    // Silent devices: after 5 s the results' status of every stream says so.
    await waitFor(() => names.every((s) => status.texts(`cfstream/results/${s}/status`).at(-1) === 'stale'), "'stale' on every stream's status", 9000);
    b.child.kill('SIGTERM');
    expect(await b.exit).toBe(0);
    for (const s of ofA) {
      const r = released(b).find((x) => x.stream === s)!;
      const from = acquired(b, s).at(-1)!.fromSeq as number;
      // Frames a acknowledged after its last checkpoint are gone from the broker: counted, not hidden.
      expect(r.firstSeq - from).toBe(r.gaps);
      console.log(`kill -9: ${s} taken after ${(((acquired(b, s).at(-1)!.seenAt as number) - killedAt) / 1000).toFixed(2)} s, ${r.gaps} frames lost`);
      expect(r.gaps).toBeLessThan(2 * 250 + 50); // at most ~1 checkpoint period (+ a batch) at 250 Hz
      expect(r.duplicates).toBe(0);
    }
  }, 120_000);

  it('a worker stopped while its broker is down exits within its stop timeout; once the broker is back, another takes its streams after the member grace', async () => {
    broker = await startMosquitto({ persistence: true });
    const { port, dir } = broker;
    const pub = await mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 200 });
    clients.push(pub);
    // Streams the rendezvous hash gives to a even when b is there: without liveness they would wait for a forever.
    const names = streamNames().filter((s) => ownerOf(s, ['a', 'b']) === 'a');
    const devices = names.map((s, i) => new Device(pub, s, 40 + i));
    await Promise.all(devices.map((d) => d.info()));
    const a = worker(broker.url, 'a');
    procs.push(a);
    await waitFor(() => names.every((s) => acquired(a, s).length === 1), 'worker a to take its streams', 30_000);
    for (const d of devices) d.start();
    await new Promise((r) => setTimeout(r, 2500)); // a couple of periodic checkpoints
    await broker.kill('SIGKILL');
    const stoppedAt = performance.now();
    a.child.kill('SIGTERM');
    expect(await a.exit).toBe(0);
    const stopSeconds = (performance.now() - stoppedAt) / 1000;
    console.log(`worker stopped with its broker down: exited after ${stopSeconds.toFixed(2)} s`);
    expect(stopSeconds).toBeLessThan(20); // the 10 s stop timeout, then the connections are dropped
    expect(a.err()).toMatch(/did not take the final checkpoint within 10000 ms/);
    for (const s of names) expect(released(a).find((r) => r.stream === s)).toMatchObject({ checkpointed: false });

    broker = await startMosquitto({ port, dir, persistence: true });
    // The premise: a's retained member record still says it is here (no will: the broker was down when it left).
    const members = await rawSubscriber(broker.url, 'cfstream-workers/default/members/+');
    clients.push(members.client);
    await waitFor(() => members.messages.length >= 1, "a's retained member record", 3000);
    expect(JSON.parse(members.texts('cfstream-workers/default/members/a')[0]!)).toMatchObject({ id: 'a' });
    expect(members.texts('cfstream-workers/default/members/a')[0]).not.toMatch(/gone/);
    const b = worker(broker.url, 'b');
    procs.push(b);
    const started = performance.now();
    await waitFor(() => names.every((s) => acquired(b, s).length === 1), "worker b to take a's streams", 20_000);
    const takenSeconds = Math.max(...names.map((s) => ((acquired(b, s)[0]!.seenAt as number) - started) / 1000));
    console.log(`a stale member record: its streams taken ${takenSeconds.toFixed(2)} s after the next worker started`);
    for (const s of names) expect(acquired(b, s)[0]).toMatchObject({ previousOwner: 'a', restored: true, forced: false });
    await new Promise((r) => setTimeout(r, 1000));
    await Promise.all(devices.map((d) => d.stop()));
    await new Promise((r) => setTimeout(r, 1000));
    b.child.kill('SIGTERM');
    expect(await b.exit).toBe(0);
    for (const s of names) expect(released(b).find((r) => r.stream === s)).toMatchObject({ checkpointed: true, frames: expect.any(Number) });
    for (const s of names) expect(released(b).find((r) => r.stream === s)!.frames).toBeGreaterThan(0);
  }, 120_000);

  it('a broker that stalls longer than the member grace (SIGSTOP 8 s) moves no stream: a worker that does not hear itself judges nobody', async () => {
    broker = await startMosquitto();
    const pub = await rawPublisher(broker.url);
    clients.push(pub);
    const { names, devices, a, b } = await settledPair(broker.url, pub, 50);
    for (const d of devices) d.start();
    await new Promise((r) => setTimeout(r, 1500));
    const [aBefore, bBefore] = [a.events.length, b.events.length];
    broker.signal('SIGSTOP');
    await new Promise((r) => setTimeout(r, 8000));
    broker.signal('SIGCONT');
    await new Promise((r) => setTimeout(r, 4000)); // the stalled heartbeats, then a few live ones
    const changes = [...a.events.slice(aBefore), ...b.events.slice(bBefore)].filter((e) => e.event === 'acquired' || e.event === 'released' || e.event === 'members');
    expect(changes, 'ownership or membership changes around the stall').toEqual([]);
    expect(a.err() + b.err()).not.toMatch(/claimed it; stopping it here/);
    await Promise.all(devices.map((d) => d.stop()));
  }, 120_000);

  it('the broker is restarted (mosquitto with persistence): both workers carry on, factors resume within 5 s, every frame still fed exactly once', async () => {
    const config = ['max_queued_messages 100000'];
    broker = await startMosquitto({ persistence: true, config });
    const { port, dir } = broker;
    // A device that reconnects and keeps what it could not send (mqtt.js holds QoS 1 publishes while offline).
    const pub = await mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 200, clientId: `devices-${process.pid}`, clean: false });
    clients.push(pub);
    const { names, devices, a, b } = await settledPair(broker.url, pub, 30);
    for (const d of devices) d.start();
    const sub = await rawSubscriber(broker.url, 'cfstream/results/+/factors');
    clients.push(sub.client);
    await waitFor(() => names.every((s) => newFactors(sub, `cfstream/results/${s}/factors`)), 'live factors', 20_000);
    await broker.kill('SIGTERM');
    // What was computed before the restart (sub saw all of it until the broker went): after it, only new factors count.
    const before = Object.fromEntries(names.map((s) => [s, lastFactorsIndex(sub, `cfstream/results/${s}/factors`)]));
    await new Promise((r) => setTimeout(r, 1000));
    broker = await startMosquitto({ port, dir, persistence: true, config });
    const back = performance.now();
    const live = await rawSubscriber(broker.url, 'cfstream/results/+/factors');
    clients.push(live.client);
    await waitFor(() => names.every((s) => newFactors(live, `cfstream/results/${s}/factors`, before[s])), 'new factors of every stream after the restart', 15_000);
    const resumeSeconds = (performance.now() - back) / 1000;
    console.log(`workers after a broker restart: factors of every stream again ${resumeSeconds.toFixed(2)} s after the broker was back`);
    expect(resumeSeconds).toBeLessThan(5);
    await new Promise((r) => setTimeout(r, 1000));
    const lastSeqs = await Promise.all(devices.map((d) => d.stop()));
    await new Promise((r) => setTimeout(r, 1500));
    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    expect(await a.exit).toBe(0);
    expect(await b.exit).toBe(0);
    names.forEach((s, i) => {
      const ranges = [...released(a), ...released(b)].filter((r) => r.stream === s);
      // Redelivered after the restart (their acknowledgements died with the broker): skipped, not fed twice.
      expect(ranges.reduce((n, r) => n + r.duplicates, 0), `${s}: duplicates`).toBeLessThan(200);
      tiles(ranges, 0, lastSeqs[i]!, s);
    });
  }, 120_000);
});
