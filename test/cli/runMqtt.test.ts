/**
 * `cfstream run` publishing over MQTT: the embedded broker (what `npm start` runs) and a real
 * mosquitto the test starts; retained info/status/factors with the documented shapes; the will
 * marks the stream offline after kill -9; an unreachable broker fails at start-up.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli } from './spawn.js';
import { describeMosquitto, freePort, rawSubscriber, startMosquitto, waitFor, type Mosquitto, type RawSubscriber } from '../devices/mqtt/helpers.js';


const run = (...args: string[]) => cli('run', ...args);

/** The retained messages a late subscriber gets, checked against ARCHITECTURE.md's shapes. */
function checkShapes(sub: RawSubscriber): void {
  const info = JSON.parse(sub.texts('cfstream/sim/info').at(-1)!);
  expect(info).toMatchObject({ id: 'sim', kind: 'compressed', n: 2000, rate: 250, projection: { ensemble: 'sparse-binary', n: 2000, d: 400, p: 5, seed: 1 } });
  expect(sub.texts('cfstream/sim/status').at(-1)).toBe('online');
  const f = JSON.parse(sub.texts('cfstream/sim/factors').at(-1)!);
  expect(f).toMatchObject({ n: 2000, d: 360, rank: 10 }); // d: the 360 training rows (40 held out)
  expect(typeof f.seq).toBe('number');
  expect(typeof f.t).toBe('number');
  expect(f.W).toHaveLength(10);
  for (const col of f.W) expect(col).toHaveLength(2000);
  expect(f.quality.heldOutError).toBeGreaterThan(0);
  expect(f.trueError).toBeLessThan(0.3);
}

describe('cfstream run → embedded broker', () => {
  let proc: ReturnType<typeof run> | undefined;
  afterEach(async () => { proc?.child.kill('SIGKILL'); await proc?.exit; });

  it('publishes retained info, status and factors within 10 s of start, and prints where', async () => {
    proc = run('--headless', '--duration', '20');
    const started = performance.now();
    await waitFor(() => /MQTT broker \(embedded\): mqtt:\/\/127\.0\.0\.1:\d+/.test(proc!.err()), 'the broker line', 10_000);
    const url = /MQTT broker \(embedded\): (mqtt:\/\/127\.0\.0\.1:\d+)/.exec(proc.err())![1]!;
    let sub = await rawSubscriber(url, 'cfstream/sim/#');
    await waitFor(() => sub.texts('cfstream/sim/factors').length > 0, 'factors', 10_000);
    expect((performance.now() - started) / 1000).toBeLessThan(10);
    await waitFor(() => sub.texts('cfstream/sim/activations').length > 0, 'activations', 3000);
    const a = JSON.parse(sub.texts('cfstream/sim/activations').at(-1)!);
    expect(a.rank).toBe(10);
    expect(a.h).toHaveLength(10);
    expect(a.h.every((v: number) => v >= 0)).toBe(true);
    await sub.end();
    sub = await rawSubscriber(url, 'cfstream/sim/#'); // late: only retained messages
    await waitFor(() => sub.texts('cfstream/sim/factors').length > 0 && sub.texts('cfstream/sim/info').length > 0, 'retained messages', 3000);
    checkShapes(sub);
    // What a late subscriber got first came from the broker's retained store.
    for (const topic of ['info', 'status', 'factors']) expect(sub.messages.find((m) => m.topic === `cfstream/sim/${topic}`)!.retain, topic).toBe(true);
    await sub.end();
  }, 30_000);

  it('an unreachable broker is one clear line and exit code 2 at start-up', async () => {
    const port = await freePort();
    proc = run('--broker', `mqtt://127.0.0.1:${port}`, '--headless');
    expect(await proc.exit).toBe(2);
    expect(proc.err()).toMatch(new RegExp(`cannot reach the MQTT broker mqtt://127\\.0\\.0\\.1:${port}: .*(ECONNREFUSED|no answer)`));
  }, 20_000);
});

describeMosquitto('cfstream run → mosquitto', () => {
  let mosq: Mosquitto | undefined;
  let proc: ReturnType<typeof run> | undefined;
  afterEach(async () => { proc?.child.kill('SIGKILL'); await proc?.exit; await mosq?.stop(); });

  it('publishes to a real broker; after kill -9 the will marks the stream offline', async () => {
    mosq = await startMosquitto();
    proc = run('--broker', mosq.url, '--headless');
    const sub = await rawSubscriber(mosq.url, 'cfstream/sim/#');
    await waitFor(() => sub.texts('cfstream/sim/factors').length > 0, 'factors', 15_000);
    checkShapes(sub);
    proc.child.kill('SIGKILL');
    await proc.exit;
    await waitFor(() => sub.texts('cfstream/sim/status').at(-1) === 'offline', "the will's offline", 5000);
    await sub.end();
  }, 30_000);
});

describe('cfstream run ← an MQTT sensor (mqtt:// source)', () => {
  it('takes the header from the retained info and factorizes the frames; malformed payloads are counted, not fatal', async () => {
    const { startBroker } = await import('../../devices/mqtt/broker.js');
    const { VirtualSensor } = await import('../../simulators/virtualSensor.js');
    const broker = await startBroker({ port: 0, wsPort: false });
    const sensor = await VirtualSensor.start({ broker: { url: broker.url, protocolVersion: 4 }, stream: 'lab', n: 300, rank: 3, k: 8, compressed: 80, rate: 500, seed: 2, malformedEvery: 50 });
    try {
      const { writeFileSync, mkdtempSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      const file = join(mkdtempSync(join(tmpdir(), 'cfstream-mq-')), 'sensor.yaml');
      writeFileSync(file, ['version: 1', 'stages:', '  - type: validate', '  - type: batch', '    maxBatch: 16', '  - type: onlineNmf', '    rank: 3', '    warmStartFrames: 200', '  - type: reconstruct', '    everyMs: 500'].join('\n'));
      const proc = run(file, '--source', `${broker.url}/cfstream/lab`, '--duration', '4', '--broker', 'none', '--json');
      expect(await proc.exit, proc.err()).toBe(0);
      const s = JSON.parse(proc.out());
      expect(s.frames).toBeGreaterThan(800);
      expect(s.reconstructions).toBeGreaterThanOrEqual(1);
      expect(s.deviceRejects).toBeGreaterThan(0); // the malformed payloads, counted by the source
      expect(proc.err()).toMatch(/source: MQTT sensor cfstream\/lab\/frames \(compressed, n = 300, d = 80/);
    } finally {
      await sensor.close();
      await broker.close();
    }
  }, 30_000);
});
