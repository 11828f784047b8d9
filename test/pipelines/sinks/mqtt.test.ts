import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Subject } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type EmbeddedBroker } from '../../../devices/mqtt/broker.js';
import { InvalidOptionError } from '../../../src/errors.js';
import type { StreamInfo } from '../../../src/frames/index.js';
import type { MetricsSnapshot } from '../../../pipelines/metrics.js';
import { DEFAULT_MQTT_SINK_OPTIONS, MqttSink, type MqttSinkEvent, type MqttSinkStatus } from '../../../pipelines/sinks/mqtt.js';
import type { FactorsMessage } from '../../../pipelines/types.js';
import { describeMosquitto, rawSubscriber, startMosquitto, stopChild, waitFor, type Mosquitto, type RawSubscriber } from '../../devices/mqtt/helpers.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..', '..');
const CHILD = join(HERE, 'fixtures', 'sinkChild.ts');

const INFO: StreamInfo = { id: 'eeg/1', kind: 'compressed', n: 6, rate: 250, projection: { ensemble: 'sparse-binary', n: 6, d: 3, p: 2, seed: 1 } };

function factors(seq: number, rank = 2, n = 6): FactorsMessage {
  const W = Array.from({ length: rank }, (_, c) => Array.from({ length: n }, (_, i) => (i === c ? 1 : 0)));
  return {
    seq, t: seq / 250, n, d: 3, rank, W, Wc: W.map((col) => col.slice(0, 3)), error: 1e-9, framesSeen: seq, seconds: 0.01,
    longestSliceMs: NaN, warmStarted: seq > 1, index: seq, quality: null, skipped: 0,
  };
}

function metrics(at: number): MetricsSnapshot {
  return {
    at, intervalMs: 1000, frames: 250, framesPerSecond: 250, framesTotal: at, updates: 10,
    latencyMs: { p50: 1, p99: 2, max: 3, samples: 250, dropped: 0 }, rejects: 0, rejectsByReason: {}, gaps: 0, lost: 0,
    clippedTotal: 0, skipped: 0, failures: 0, queueDepth: 0, queueCapacity: 64,
  };
}

const sinks: MqttSink[] = [];
const subscribers: RawSubscriber[] = [];
afterEach(async () => {
  await Promise.all(sinks.splice(0).map((s) => s.close()));
  await Promise.all(subscribers.splice(0).map((s) => s.end()));
});
let streamNo = 0;
const nextStream = () => `s${++streamNo}`;

function openSink(url: string, extra: Partial<Parameters<typeof MqttSink.open>[0]> = {}): MqttSink {
  const sink = MqttSink.open({ broker: { url }, info: INFO, prefix: 'cf', stream: nextStream(), ...extra });
  sinks.push(sink);
  return sink;
}

async function subscribe(url: string, filter: string, version: 4 | 5): Promise<RawSubscriber> {
  const s = await rawSubscriber(url, filter, version);
  subscribers.push(s);
  return s;
}

/** Runs the sink in a child process (npx tsx), returns the pid of the process holding the connection. */
async function sinkChild(url: string, stream: string): Promise<{ pid: number; protocolVersion: number; done: Promise<void>; stop: () => Promise<void> }> {
  const child = spawn('npx', ['tsx', CHILD, url, 'cf', stream], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor(() => out.includes('\n') || child.exitCode !== null, 'the child sink to be ready', 8000).catch(() => undefined);
  if (!out.includes('\n')) {
    await stopChild(child);
    throw new Error(`sink child did not start: ${err}`);
  }
  const ready = JSON.parse(out.split('\n')[0]!) as { pid: number; protocolVersion: number };
  return { ...ready, done, stop: () => stopChild(child) };
}

/** The shared suite, run against aedes (3.1.1) and mosquitto (5). */
function sinkSuite(start: () => Promise<{ url: string; stop: () => Promise<void> }>, version: 4 | 5): void {
  let broker: { url: string; stop: () => Promise<void> };
  beforeAll(async () => {
    broker = await start();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it(`speaks MQTT ${version === 5 ? '5' : '3.1.1'} to this broker`, async () => {
    const sink = openSink(broker.url);
    const types: string[] = [];
    sink.events$.subscribe((e) => types.push(e.type));
    await sink.ready;
    expect(sink.connection.protocolVersion).toBe(version);
    expect(types.includes('fallback')).toBe(version === 4);
  });

  it('leaves retained info, status and factors with the documented JSON shapes for a late subscriber', async () => {
    const sink = openSink(broker.url);
    await sink.ready;
    sink.publishFactors(factors(1));
    sink.publishFactors(factors(2));
    sink.publishMetrics(metrics(1));
    await waitFor(() => {
      const p = sink.stats().published;
      return p.info >= 1 && p.status >= 1 && p.factors === 2 && p.metrics === 1;
    }, 'the acknowledgements');
    const late = await subscribe(broker.url, `${sink.topics.base}/#`, version);
    await waitFor(() => late.messages.length >= 3, 'three retained messages');
    await new Promise((r) => setTimeout(r, 50));
    const byTopic = new Map(late.messages.map((m) => [m.topic.slice(sink.topics.base.length + 1), m]));
    expect([...byTopic.keys()].sort()).toEqual(['factors', 'info', 'status']); // metrics are not retained
    expect(late.messages.every((m) => m.retain)).toBe(true);
    expect(sink.topics.base).toMatch(/^cf\/s\d+$/);
    expect(JSON.parse(byTopic.get('info')!.payload.toString())).toEqual(INFO);
    expect(byTopic.get('status')!.payload.toString()).toBe('online');
    const f = JSON.parse(byTopic.get('factors')!.payload.toString()) as Record<string, unknown>;
    expect(f).toMatchObject({ seq: 2, t: 2 / 250, n: 6, d: 3, rank: 2, error: 1e-9 });
    const W = f.W as number[][];
    expect(W).toHaveLength(2);
    expect(W.every((col) => col.length === 6)).toBe(true);
    expect(f.longestSliceMs).toBeNull(); // NaN travels as JSON null
    if (version === 5) {
      expect(byTopic.get('info')!.properties).toMatchObject({ contentType: 'application/json', payloadFormatIndicator: true });
      expect(byTopic.get('factors')!.properties).toMatchObject({ contentType: 'application/json' });
      expect(byTopic.get('status')!.properties).toMatchObject({ contentType: 'text/plain' });
    } else {
      for (const m of late.messages) expect(m.properties).toBeUndefined();
    }
    // A live metrics message: JSON with the publisher's counters, expiring after 60 s on MQTT 5.
    sink.publishMetrics(metrics(2));
    await waitFor(() => late.texts(sink.topics.metrics).length === 1, 'the metrics');
    const m = late.messages.find((x) => x.topic === sink.topics.metrics)!;
    expect(JSON.parse(m.payload.toString())).toMatchObject({ at: 2, framesPerSecond: 250, publisher: { dropped: 0, queued: 0, queueLimit: 1000, protocolVersion: version } });
    expect(m.qos).toBe(0);
    if (version === 5) {
      expect(m.properties).toMatchObject({ contentType: 'application/json' });
      expect(m.properties!.messageExpiryInterval).toBeGreaterThan(50);
      expect(m.properties!.messageExpiryInterval).toBeLessThanOrEqual(60);
    }
  });

  it('publishes the will, offline, when the process running the sink is killed with SIGKILL', async () => {
    const stream = nextStream();
    const status = `cf/${stream}/status`;
    const child = await sinkChild(broker.url, stream);
    try {
      expect(child.protocolVersion).toBe(version);
      const sub = await subscribe(broker.url, status, version);
      await waitFor(() => sub.texts(status).includes('online'), "the retained 'online'");
      process.kill(child.pid, 'SIGKILL');
      await waitFor(() => sub.texts(status).at(-1) === 'offline', 'the will', 5000);
      const late = await subscribe(broker.url, status, version);
      await waitFor(() => late.messages.length === 1, 'the retained status');
      expect(late.messages[0]).toMatchObject({ retain: true });
      expect(late.texts(status)).toEqual(['offline']);
    } finally {
      await child.stop();
    }
  });

  it('publishes offline, retained, on close()', async () => {
    const sink = openSink(broker.url);
    await sink.ready;
    await sink.close();
    expect(sink.connection.state).toBe('closed');
    const late = await subscribe(broker.url, sink.topics.status, version);
    await waitFor(() => late.messages.length === 1, 'the retained status');
    expect(late.texts(sink.topics.status)).toEqual(['offline']);
  });
}

describe('MqttSink against the embedded aedes broker (MQTT 3.1.1)', () => {
  sinkSuite(async () => {
    const b = await startBroker({ port: 0, wsPort: false });
    return { url: b.url, stop: () => b.close() };
  }, 4);
});

describeMosquitto('MqttSink against mosquitto (MQTT 5)', () => {
  sinkSuite(async () => {
    const m = await startMosquitto();
    return { url: m.url, stop: () => m.stop() };
  }, 5);
});

describe('MqttSink offline queue', () => {
  let broker: EmbeddedBroker | undefined;
  afterEach(async () => {
    await broker?.close();
    broker = undefined;
  });

  it('bounds the offline queue: drops the oldest metrics, counts and reports them, keeps the latest retained value', async () => {
    broker = await startBroker({ port: 0, wsPort: false });
    const port = broker.port;
    const sink = openSink(broker.url, { queueLimit: 5, broker: { url: broker.url, reconnectPeriod: 500, reconnectMaxPeriod: 500 } });
    const events: MqttSinkEvent[] = [];
    sink.events$.subscribe((e) => events.push(e));
    await sink.ready;
    await waitFor(() => sink.stats().published.status === 1, "the first 'online'"); // nothing in flight at the loss
    await broker.close();
    await waitFor(() => events.some((e) => e.type === 'offline'), 'the loss');
    for (let i = 0; i < 12; i++) sink.publishMetrics(metrics(i));
    for (let s = 1; s <= 3; s++) sink.publishFactors(factors(s));
    expect(sink.stats()).toMatchObject({ queued: 5, queueLimit: 5, dropped: 7, superseded: 2, retainedPending: 1 });
    const drops = events.filter((e) => e.type === 'drop');
    expect(drops).toHaveLength(7);
    expect(drops.at(-1)).toMatchObject({ topic: sink.topics.metrics, reason: 'queue-full', count: 1, dropped: 7 });
    // Back online: info, 'online', the latest factors, and the 5 newest metrics in order.
    broker = await startBroker({ port, wsPort: false });
    const sub = await subscribe(broker.url, `${sink.topics.base}/#`, 4);
    await waitFor(() => sink.stats().published.metrics === 5, 'the queued metrics', 4000);
    await waitFor(() => sub.messages.length === 8, 'the subscriber to get info, status, factors and 5 metrics');
    const got = sub.texts(sink.topics.metrics).map((t) => JSON.parse(t) as { at: number; publisher: { dropped: number } });
    expect(got.map((m) => m.at)).toEqual([7, 8, 9, 10, 11]);
    expect(got.at(-1)!.publisher.dropped).toBe(6); // the counters as the snapshot was handed over
    // mqtt.js writes QoS 0 at once and QoS 1 after its store: order holds within each QoS level.
    expect(sub.messages.map((m) => m.topic.split('/').at(-1)).sort()).toEqual(['factors', 'info', 'metrics', 'metrics', 'metrics', 'metrics', 'metrics', 'status']);
    expect(JSON.parse(sub.texts(sink.topics.factors)[0]!)).toMatchObject({ seq: 3 });
    expect(sink.stats()).toMatchObject({ queued: 0, retainedPending: 0, dropped: 7, connects: 2 });
  });

  it('drops every offline metrics message with queueLimit 0, and what is still queued at close()', async () => {
    broker = await startBroker({ port: 0, wsPort: false });
    const sink = openSink(broker.url, { queueLimit: 0, broker: { url: broker.url, reconnectPeriod: 1000 } });
    const events: MqttSinkEvent[] = [];
    sink.events$.subscribe((e) => events.push(e));
    await sink.ready;
    await broker.close();
    await waitFor(() => !sink.connection.connected, 'the loss');
    sink.publishMetrics(metrics(1));
    sink.publishActivations({ seq: 1, t: 0, rank: 2, h: [0.5, 0.25] });
    sink.publishFactors(factors(1));
    expect(sink.stats()).toMatchObject({ dropped: 2, queued: 0, retainedPending: 1 });
    await sink.close();
    expect(sink.stats().dropped).toBe(3);
    expect(events.filter((e) => e.type === 'drop').map((e) => [(e as { reason: string }).reason, (e as { count: number }).count])).toEqual([
      ['queue-full', 1], ['queue-full', 1], ['closed', 1],
    ]);
  });
});

describe('MqttSink.attach and options', () => {
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    broker = await startBroker({ port: 0, wsPort: false });
  });
  afterAll(async () => {
    await broker.close();
  });

  it('publishes what attached sources emit; a failing source stops alone', async () => {
    const sink = openSink(broker.url);
    const events: MqttSinkEvent[] = [];
    sink.events$.subscribe((e) => events.push(e));
    await sink.ready;
    const sub = await subscribe(broker.url, `${sink.topics.base}/+`, 4);
    const factors$ = new Subject<FactorsMessage>();
    const metrics$ = new Subject<MetricsSnapshot>();
    const activations$ = new Subject<{ seq: number; t: number; rank: number; h: number[] }>();
    const info$ = new Subject<StreamInfo>();
    sink.attach({ factors$, metrics$, activations$, info$ });
    metrics$.error(new Error('metrics broke'));
    factors$.next(factors(4));
    activations$.next({ seq: 9, t: 1, rank: 2, h: [1, 2] });
    info$.next({ ...INFO, rate: 125 });
    await waitFor(() => sink.stats().published.factors === 1 && sink.stats().published.activations === 1 && sink.stats().published.info === 2, 'the publishes');
    await waitFor(() => sub.texts(sink.topics.activations).length === 1, 'the activations');
    expect(JSON.parse(sub.texts(sink.topics.activations)[0]!)).toEqual({ seq: 9, t: 1, rank: 2, h: [1, 2] });
    expect(JSON.parse(sub.texts(sink.topics.info).at(-1)!)).toMatchObject({ rate: 125 });
    expect(events.filter((e) => e.type === 'source-error')).toEqual([{ type: 'source-error', source: 'metrics$', message: 'metrics broke' }]);
  });

  it('derives a topic-safe stream level from the info id', () => {
    const sink = MqttSink.open({ broker: { url: broker.url }, info: INFO });
    sinks.push(sink);
    expect(sink.topics.status).toBe('cfstream/eeg_1/status');
  });

  it('documents its defaults', () => {
    expect(DEFAULT_MQTT_SINK_OPTIONS).toEqual({ prefix: 'cfstream', queueLimit: 1000, messageExpirySeconds: 60, metricsQos: 0, closeTimeoutMs: 5000, maxInFlight: 10 });
    const sink = openSink(broker.url);
    expect(sink.stats()).toMatchObject({ queueLimit: 1000, maxInFlight: 10, inFlight: 0 });
    expect(sink.currentStatus).toBe('online');
  });

  it.each([
    [{ queueLimit: -1 }, 'queueLimit'],
    [{ maxInFlight: 0 }, 'maxInFlight'],
    [{ metricsQos: 2 }, 'metricsQos'],
    [{ messageExpirySeconds: 1.5 }, 'messageExpirySeconds'],
    [{ prefix: 'a/#' }, 'prefix'],
    [{ stream: 'a/b' }, 'stream'],
    [{ info: { id: 'x', kind: 'raw', n: 0, rate: 1 } }, 'info'],
    [{ broker: { url: 'mqtt://h:1', will: { topic: 'a', payload: 'b' } } }, 'broker.will'],
    [{ broker: { url: 'ftp://h' } }, 'url'],
    [{ colour: 'red' }, 'colour'],
  ])('refuses %j naming %s', (extra, option) => {
    let err: unknown;
    try {
      MqttSink.open({ broker: { url: broker.url }, info: INFO, ...extra } as never);
    } catch (e) {
      err = e;
    }
    if (option === 'info') {
      expect((err as Error).message).toMatch(/MqttSink option 'info'.*'n'/);
      return;
    }
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect((err as InvalidOptionError).option).toBe(option);
  });
});

describe('MqttSink status and retained state across a broker restart (aedes keeps nothing)', () => {
  let broker: EmbeddedBroker | undefined;
  afterEach(async () => {
    await broker?.close();
    broker = undefined;
  });

  it("says 'stale' and 'online' on the status topic, and republishes info, the status and the latest factors to a broker that restarted empty", async () => {
    broker = await startBroker({ port: 0, wsPort: false });
    const port = broker.port;
    const sink = openSink(broker.url, { broker: { url: broker.url, reconnectPeriod: 200, reconnectMaxPeriod: 200 } });
    const events: MqttSinkEvent[] = [];
    sink.events$.subscribe((e) => events.push(e));
    await sink.ready;
    const status$ = new Subject<MqttSinkStatus>();
    sink.attach({ status$ });
    sink.publishFactors(factors(1));
    sink.publishFactors(factors(2));
    status$.next('stale');
    status$.next('stale'); // unchanged: not published again
    await waitFor(() => sink.stats().published.status === 2 && sink.stats().published.factors === 2, 'the stale status and the factors');
    let late = await subscribe(broker.url, `${sink.topics.base}/+`, 4);
    await waitFor(() => late.messages.length === 3, 'three retained messages');
    expect(late.texts(sink.topics.status)).toEqual(['stale']);
    expect(sink.currentStatus).toBe('stale');
    await late.end();

    await broker.close();
    await waitFor(() => events.some((e) => e.type === 'offline'), 'the loss');
    broker = await startBroker({ port, wsPort: false }); // an empty broker: no retained messages
    await waitFor(() => sink.stats().connects === 2 && sink.stats().published.factors === 3, 'the reconnect and the republished factors', 5000);
    late = await subscribe(broker.url, `${sink.topics.base}/+`, 4);
    await waitFor(() => late.messages.length === 3, 'info, status and factors, retained again');
    expect(late.messages.every((m) => m.retain)).toBe(true);
    expect(JSON.parse(late.texts(sink.topics.info)[0]!)).toEqual(INFO);
    expect(late.texts(sink.topics.status)).toEqual(['stale']); // the current status, not a blanket 'online'
    expect(JSON.parse(late.texts(sink.topics.factors)[0]!)).toMatchObject({ seq: 2 });

    status$.next('online');
    await waitFor(() => late.texts(sink.topics.status).at(-1) === 'online', "'online' again");
    expect(() => sink.setStatus('lost' as never)).toThrow(InvalidOptionError);
    await sink.close();
    const after = await subscribe(broker.url, sink.topics.status, 4);
    await waitFor(() => after.messages.length === 1, 'the retained status');
    expect(after.texts(sink.topics.status)).toEqual(['offline']);
  });
});

describeMosquitto('MqttSink against a stalled broker (mosquitto under SIGSTOP)', () => {
  let mosq: Mosquitto | undefined;
  afterEach(async () => {
    await mosq?.stop();
    mosq = undefined;
  });

  /** Activations of `size` values: ~10 bytes each as JSON, enough to fill the socket's buffers quickly. */
  const big = (seq: number, size = 10_000) => ({ seq, t: seq, rank: size, h: Array.from({ length: size }, (_, i) => i / 7) });

  it('bounds what it hands to a broker that stops reading (in flight ≤ maxInFlight, FIFO ≤ queueLimit, the rest dropped and counted); it all flows again when the broker goes on', async () => {
    mosq = await startMosquitto();
    const sink = openSink(mosq.url, { maxInFlight: 4, queueLimit: 20 });
    const events: MqttSinkEvent[] = [];
    sink.events$.subscribe((e) => events.push(e));
    await sink.ready;
    await waitFor(() => sink.stats().published.status === 1, "the first 'online'");
    mosq.signal('SIGSTOP');
    const sent = 300;
    let peakWritable = 0;
    for (let i = 0; i < sent; i++) {
      sink.publishActivations(big(i));
      if (i % 5 === 0) sink.publishFactors(factors(i + 1));
      peakWritable = Math.max(peakWritable, sink.connection.client!.stream.writableLength);
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 5)); // let the socket take what it can
    }
    const st = sink.stats();
    expect(st.inFlight).toBeLessThanOrEqual(4);
    expect(st.queued).toBeLessThanOrEqual(20);
    expect(st.retainedPending).toBeLessThanOrEqual(1); // the factors: only the latest waits
    expect(st.dropped).toBeGreaterThan(0); // how many depends on how much the kernel's socket buffers took before the stall showed
    const accounted = st.published.activations + st.inFlight + st.queued + st.dropped; // inFlight may hold factors messages too
    expect(accounted).toBeGreaterThanOrEqual(sent);
    expect(accounted).toBeLessThanOrEqual(sent + st.inFlight);
    expect(st.superseded).toBeGreaterThan(0);
    // What Node holds for the socket is bounded by the window, not by what was offered (300 × ~120 kB).
    const one = JSON.stringify(big(0)).length;
    expect(peakWritable).toBeLessThan(6 * one);
    expect(events.filter((e) => e.type === 'drop').every((e) => (e as { reason: string }).reason === 'queue-full')).toBe(true);

    mosq.signal('SIGCONT');
    await waitFor(() => sink.stats().queued === 0 && sink.stats().inFlight === 0 && sink.stats().retainedPending === 0, 'the queues to drain', 10_000);
    const end = sink.stats();
    expect(end.published.activations + end.dropped).toBe(sent);
    const late = await subscribe(mosq.url, sink.topics.factors, 5);
    await waitFor(() => late.messages.length === 1, 'the retained factors');
    expect(JSON.parse(late.texts(sink.topics.factors)[0]!)).toMatchObject({ seq: 296 }); // the latest one
  });

  it('counts the QoS 0 messages the socket still held when the link to a stalled broker dropped (link-lost), and goes on after the reconnect', async () => {
    mosq = await startMosquitto();
    const port = mosq.port;
    const sink = openSink(mosq.url, { maxInFlight: 4, queueLimit: 5, broker: { url: mosq.url, reconnectPeriod: 200, reconnectMaxPeriod: 200 } });
    const events: MqttSinkEvent[] = [];
    sink.events$.subscribe((e) => events.push(e));
    await sink.ready;
    await waitFor(() => sink.stats().published.status === 1, "the first 'online'");
    mosq.signal('SIGSTOP');
    for (let i = 0; i < 200 && sink.stats().inFlight < 4; i++) {
      sink.publishActivations(big(i));
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(sink.stats().inFlight).toBe(4);
    await mosq.kill('SIGKILL');
    await waitFor(() => events.some((e) => e.type === 'offline'), 'the loss');
    const lost = events.filter((e) => e.type === 'drop' && e.reason === 'link-lost');
    expect(lost).toEqual(Array.from({ length: 4 }, () => ({ type: 'drop', topic: sink.topics.activations, reason: 'link-lost', count: 1, dropped: expect.any(Number) })));
    expect(sink.stats().inFlight).toBe(0);
    mosq = await startMosquitto({ port });
    await waitFor(() => sink.stats().connects === 2 && sink.stats().queued === 0, 'the reconnect and the queued activations', 5000);
    sink.publishActivations({ seq: 1, t: 0, rank: 1, h: [1] });
    await waitFor(() => sink.stats().inFlight === 0 && sink.stats().queued === 0, 'a publish after the reconnect');
  });
});
