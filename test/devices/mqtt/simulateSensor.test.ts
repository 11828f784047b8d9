/**
 * `cfstream simulate sensor` as a subprocess, publishing on the embedded broker, read by an
 * in-process mqttSource; and the VirtualSensor's QoS 1 outbox across a broker restart, its bound,
 * and pause/resume (a silent sensor).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Subscription } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type EmbeddedBroker } from '../../../devices/mqtt/broker.js';
import { VirtualSensor, DEFAULT_VIRTUAL_SENSOR_OPTIONS, QOS0_BACKLOG } from '../../../simulators/virtualSensor.js';
import { mqttSource, type MqttSourceEvent } from '../../../devices/mqtt/sensor.js';
import type { Frame } from '../../../src/frames/index.js';
import { startStuckBroker, waitFor } from './helpers.js';

const root = join(import.meta.dirname, '..', '..', '..');

/** Starts the CLI; `done` resolves with its exit code and output. */
function cli(args: string[]) {
  const child = spawn(process.execPath, [join(root, 'src/cli/cfstream.js'), 'simulate', 'sensor', ...args], { cwd: root });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) => child.on('close', (code) => resolve({ code, out, err })));
  return { child, done, stderr: () => err };
}

describe('cfstream simulate sensor', () => {
  let broker: EmbeddedBroker;
  const subs: Subscription[] = [];
  beforeAll(async () => {
    broker = await startBroker({ port: 0, wsPort: false });
  });
  afterEach(() => {
    for (const s of subs.splice(0)) s.unsubscribe();
  });
  afterAll(async () => {
    await broker.close();
  });

  it('publishes a compressed CFSB stream with its ProjectionSpec and faults, then prints a JSON summary', async () => {
    const src = mqttSource(`${broker.url}/cfstream/lab1`);
    const frames: Frame[] = [];
    const events: MqttSourceEvent[] = [];
    subs.push(src.events$.subscribe((e) => events.push(e)));
    subs.push(src.frames$.subscribe((f) => frames.push(f)));
    await waitFor(() => events.some((e) => e.type === 'subscribed'), 'the subscription');
    const run = cli(['--mqtt', broker.url, '--stream', 'lab1', '--rate', '2000', '--n', '16', '--compressed', '6', '--seed', '4',
      '--batch', '20', '--frames', '400', '--malformed-every', '4', '--json']);
    const { code, out, err } = await run.done;
    expect(code, err).toBe(0);
    expect(err).toMatch(/virtual sensor on cfstream\/lab1\/frames at mqtt:\/\/127\.0\.0\.1:\d+ \(compressed n=16 d=6, 2000 frames\/s, CFSB batches of 20, seed 4, MQTT 3\.1\.1, QoS 0\)/);
    const summary = JSON.parse(out) as Record<string, unknown>;
    expect(summary).toMatchObject({
      board: 'sensor', topic: 'cfstream/lab1', protocolVersion: 4, qos: 0, messages: 20, frames: 400, malformed: 5, unsent: 0, dropped: 0,
      info: { id: 'lab1', kind: 'compressed', n: 16, rate: 2000, projection: { ensemble: 'sparse-binary', n: 16, d: 6, p: 5, seed: 4 } },
    });
    await waitFor(() => src.stats().messages === 20, 'every message');
    expect(src.info?.projection).toEqual({ ensemble: 'sparse-binary', n: 16, d: 6, p: 5, seed: 4 });
    expect(frames).toHaveLength(300);
    expect(src.stats().rejects.decode).toBe(5);
  });

  it('publishes JSON frames with --json-frames', async () => {
    const src = mqttSource(`${broker.url}/lab/j`);
    const frames: Frame[] = [];
    const events: MqttSourceEvent[] = [];
    subs.push(src.events$.subscribe((e) => events.push(e)));
    subs.push(src.frames$.subscribe((f) => frames.push(f)));
    await waitFor(() => events.some((e) => e.type === 'subscribed'), 'the subscription');
    const run = cli(['--mqtt', broker.url, '--prefix', 'lab', '--stream', 'j', '--json-frames', '--n', '4', '--rate', '1000', '--frames', '50']);
    const { code, out, err } = await run.done;
    expect(code, err).toBe(0);
    expect(out).toMatch(/virtual sensor on lab\/j: sent 50 messages \(50 frames/);
    await waitFor(() => frames.length === 50, '50 frames');
    expect(frames.map((f) => f.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(frames[1]!.t - frames[0]!.t).toBeCloseTo(0.001, 5); // Unix seconds: ~2e-7 s resolution
  });

  it('with --qos 1 every frame message is acknowledged before it counts as sent', async () => {
    const src = mqttSource(`${broker.url}/lab/q1?qos=1`);
    const frames: Frame[] = [];
    const events: MqttSourceEvent[] = [];
    subs.push(src.events$.subscribe((e) => events.push(e)));
    subs.push(src.frames$.subscribe((f) => frames.push(f)));
    await waitFor(() => events.some((e) => e.type === 'subscribed'), 'the subscription');
    const { code, out, err } = await cli(['--mqtt', broker.url, '--prefix', 'lab', '--stream', 'q1', '--qos', '1', '--n', '4', '--rate', '2000', '--batch', '10', '--frames', '300', '--json']).done;
    expect(code, err).toBe(0);
    expect(err).toMatch(/, QoS 1\)/);
    expect(JSON.parse(out)).toMatchObject({ qos: 1, messages: 30, frames: 300, unsent: 0, dropped: 0, droppedFrames: 0, retried: 0 });
    await waitFor(() => frames.length === 300, 'every frame');
  });

  it.each([
    [[], /--mqtt <broker url> is required/],
    [['--mqtt', 'mqtt://127.0.0.1:1', '--qos', '2'], /--qos must be ≤ 1/],
    [['--mqtt', 'http://x'], /option 'url' must be a URL with scheme mqtt, mqtts, ws, wss/],
    [['--mqtt', 'mqtt://127.0.0.1:1', '--compressed', '40'], /option 'compressed' must be an integer in \[1, 31\]/],
    [['--mqtt', 'mqtt://127.0.0.1:1', '--rate', 'fast'], /--rate must be a number/],
  ])('refuses %j with exit code 2', async (args, message) => {
    const { code, err } = await cli(args).done;
    expect(code).toBe(2);
    expect(err).toMatch(message);
  });
});

describe('VirtualSensor delivery', () => {
  it('documents its delivery defaults', () => {
    expect(DEFAULT_VIRTUAL_SENSOR_OPTIONS).toMatchObject({ qos: 0, queueLimit: 10_000, maxInFlight: 20, closeTimeoutMs: 5000 });
  });

  it('QoS 1: keeps its frames in order in the outbox while the broker is down and delivers every one after the restart', async () => {
    let broker = await startBroker({ port: 0, wsPort: false });
    const port = broker.port;
    const sensor = await VirtualSensor.start({
      broker: { url: broker.url, protocolVersion: 4, reconnectPeriod: 100, reconnectMaxPeriod: 100 }, prefix: 'qs', stream: 'r1', n: 4, rate: 1000, batch: 10, frames: 1500, qos: 1,
    });
    try {
      await waitFor(() => sensor.stats().frames >= 200, 'frames acknowledged before the outage');
      await broker.close();
      await waitFor(() => sensor.stats().queued >= 20, 'the outbox filling while the broker is down', 3000);
      const during = sensor.stats();
      expect(during.unsent).toBe(0);
      expect(during.inFlight).toBeLessThanOrEqual(20);
      broker = await startBroker({ port, wsPort: false });
      await sensor.done;
      await waitFor(() => sensor.stats().frames === 1500, 'every frame acknowledged', 10_000);
      expect(sensor.stats()).toMatchObject({ messages: 150, frames: 1500, unsent: 0, dropped: 0, queued: 0, inFlight: 0 });
    } finally {
      await sensor.close();
      await broker.close();
    }
  });

  it('QoS 1: a full outbox drops its oldest messages and counts them; close() counts what is left as unsent', async () => {
    let broker = await startBroker({ port: 0, wsPort: false });
    const sensor = await VirtualSensor.start({
      broker: { url: broker.url, protocolVersion: 4, reconnectPeriod: 60_000, reconnectMaxPeriod: 60_000 }, prefix: 'qs', stream: 'r2', n: 4, rate: 2000, batch: 10, qos: 1, queueLimit: 5, closeTimeoutMs: 100,
    });
    try {
      await waitFor(() => sensor.stats().frames >= 50, 'some frames acknowledged');
      await broker.close();
      await waitFor(() => sensor.stats().dropped >= 10, 'the outbox overflowing', 3000);
      const s = sensor.stats();
      expect(s.queued).toBe(5);
      expect(s.droppedFrames).toBe(10 * s.dropped);
      await sensor.close();
      expect(sensor.stats().unsent).toBe(5 + s.inFlight);
    } finally {
      await sensor.close();
      await broker.close();
      broker = undefined as never;
    }
  });

  it('QoS 0: a broker that stops reading backs the socket up; at most QOS0_BACKLOG messages wait, the rest are dropped and counted', async () => {
    const stuck = await startStuckBroker();
    const sensor = await VirtualSensor.start({ broker: { url: stuck.url, protocolVersion: 4, keepalive: 0 }, prefix: 'q0', stream: 'stuck', n: 64, rate: 100_000, batch: 25, publishInfo: false });
    try {
      let most = 0;
      await waitFor(() => {
        const st = sensor.stats();
        most = Math.max(most, st.inFlight);
        return st.dropped >= 100 && st.inFlight === QOS0_BACKLOG;
      }, 'the socket stuck and messages dropped', 10_000);
      const s = sensor.stats();
      expect(most).toBe(QOS0_BACKLOG); // waiting, never more
      expect(s.droppedFrames).toBe(25 * s.dropped);
      expect(s.messages).toBeGreaterThan(0); // what the kernel's buffers took before
    } finally {
      await stuck.close(); // first: a clean close would wait for the stuck socket
      await sensor.close();
    }
  });

  it('QoS 0: the messages a backed-up socket held when the link dropped are counted as unsent, and sending goes on after the reconnect', async () => {
    const stuck = await startStuckBroker(1); // later connections read everything
    const sensor = await VirtualSensor.start({ broker: { url: stuck.url, protocolVersion: 4, keepalive: 0, reconnectPeriod: 100, reconnectMaxPeriod: 100 }, prefix: 'q0', stream: 'relink', n: 64, rate: 100_000, batch: 25, publishInfo: false });
    try {
      await waitFor(() => sensor.stats().inFlight === QOS0_BACKLOG, 'the socket to back up', 10_000);
      const before = sensor.stats();
      stuck.sockets[0]!.destroy(); // the link drops with QOS0_BACKLOG messages in the socket
      await waitFor(() => stuck.sockets.length === 2 && sensor.stats().messages > before.messages + 1000, 'messages written after the reconnect', 10_000);
      const s = sensor.stats();
      expect(s.inFlight).toBeLessThan(QOS0_BACKLOG);
      // Written off with the link, not waiting for a socket that is gone.
      expect(s.unsent - before.unsent).toBeGreaterThanOrEqual(QOS0_BACKLOG);
    } finally {
      await stuck.close();
      await sensor.close();
    }
  });

  it('pause() silences it and resume() goes on from the next seq at the same rate', async () => {
    const broker = await startBroker({ port: 0, wsPort: false });
    const sensor = await VirtualSensor.start({ broker: { url: broker.url, protocolVersion: 4 }, prefix: 'qs', stream: 'p1', n: 4, rate: 1000, batch: 10 });
    try {
      await waitFor(() => sensor.stats().frames >= 100, 'frames');
      sensor.pause();
      expect(sensor.paused).toBe(true);
      await new Promise((r) => setTimeout(r, 50));
      const paused = sensor.stats().frames;
      await new Promise((r) => setTimeout(r, 200));
      expect(sensor.stats().frames).toBe(paused);
      sensor.resume();
      await new Promise((r) => setTimeout(r, 200));
      const after = sensor.stats().frames - paused;
      expect(after).toBeGreaterThan(100);
      expect(after).toBeLessThan(300); // ~200 frames in 200 ms: no burst for the paused time
      expect(sensor.stats().gaps).toEqual([]);
    } finally {
      await sensor.close();
      await broker.close();
    }
  });
});
