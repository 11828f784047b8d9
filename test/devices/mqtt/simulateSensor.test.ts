/** `cfstream simulate sensor` as a subprocess, publishing on the embedded broker, read by an in-process mqttSource. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Subscription } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type EmbeddedBroker } from '../../../devices/mqtt/broker.js';
import { mqttSource, type MqttSourceEvent } from '../../../devices/mqtt/sensor.js';
import type { Frame } from '../../../src/frames/index.js';
import { waitFor } from './helpers.js';

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
    expect(err).toMatch(/virtual sensor on cfstream\/lab1\/frames at mqtt:\/\/127\.0\.0\.1:\d+ \(compressed n=16 d=6, 2000 frames\/s, CFSB batches of 20, seed 4, MQTT 3\.1\.1\)/);
    const summary = JSON.parse(out) as Record<string, unknown>;
    expect(summary).toMatchObject({
      board: 'sensor', topic: 'cfstream/lab1', protocolVersion: 4, messages: 20, frames: 400, malformed: 5, unsent: 0,
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

  it.each([
    [[], /--mqtt <broker url> is required/],
    [['--mqtt', 'http://x'], /option 'url' must be a URL with scheme mqtt, mqtts, ws, wss/],
    [['--mqtt', 'mqtt://127.0.0.1:1', '--compressed', '40'], /option 'compressed' must be an integer in \[1, 31\]/],
    [['--mqtt', 'mqtt://127.0.0.1:1', '--rate', 'fast'], /--rate must be a number/],
  ])('refuses %j with exit code 2', async (args, message) => {
    const { code, err } = await cli(args).done;
    expect(code).toBe(2);
    expect(err).toMatch(message);
  });
});
