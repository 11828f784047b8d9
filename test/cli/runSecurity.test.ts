/**
 * `cfstream run` with a secured embedded broker, end to end: users from the config and from the
 * environment, logins checked, a device held to its own stream, anonymous clients refused, each
 * refusal in the run's log, and no secret ever printed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { hashSecretSync } from '../../devices/mqtt/brokerAuth.js';
import { cliWith } from './spawn.js';
import { waitFor } from '../devices/mqtt/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'cfstream-sec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Made up here, so a leak is recognisable in the output.
const DEVICE_SECRET = `dev-${process.pid}-Zq8t`;
const VIEWER_SECRET = `view-${process.pid}-Kp3w`;
const WRONG_SECRET = `wrong-${process.pid}-Xx9y`;

const CONFIG = `version: 1
source: sim:synthetic?n=200&d=40&p=5&r=3&k=8&noise=0.1&rate=250&seed=0
stages:
  - type: batch
    maxBatch: 25
  - type: onlineNmf
    rank: 3
    warmStartFrames: 50
  - type: reconstruct
    everyMs: 500
outputs:
  mqtt:
    broker: embedded
    prefix: cfstream
  broker:
    port: 0
    users:
      - name: sim
        role: device
        password: ${DEVICE_SECRET}
`;

/** Connects once (no retry); resolves 'ok' or the refusal's message. */
async function tryConnect(url: string, options: mqtt.IClientOptions): Promise<string> {
  try {
    const c = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 3000, ...options });
    await c.endAsync();
    return 'ok';
  } catch (e) {
    return (e as Error).message;
  }
}

describe('cfstream run with a secured embedded broker', () => {
  it('checks logins, holds a device to its own stream, logs every refusal, never prints a secret', async () => {
    const file = join(dir, 'secure.yaml');
    writeFileSync(file, CONFIG);
    const env = { ...process.env, CFSTREAM_BROKER_USERS: `watcher:viewer:${hashSecretSync(VIEWER_SECRET)}` };
    const run = cliWith({ env }, 'run', file, '--headless', '--duration', '8', '--json');
    try {
      await waitFor(() => /MQTT broker \(embedded\): mqtt:\/\/[\d.]+:\d+/.test(run.err()), 'the broker address', 15_000);
      const url = /MQTT broker \(embedded\): (mqtt:\/\/[\d.]+:\d+)/.exec(run.err())![1]!;

      expect(await tryConnect(url, {})).toMatch(/Not authorized|Bad username or password|refused/i);
      expect(await tryConnect(url, { username: 'sim', password: WRONG_SECRET })).toMatch(/Bad username or password|Not authorized/i);
      expect(await tryConnect(url, { username: 'watcher', password: VIEWER_SECRET })).toBe('ok'); // from the environment

      // The device may publish its own stream, not another's.
      const device = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, username: 'sim', password: DEVICE_SECRET });
      const closed = new Promise<void>((r) => device.once('close', () => r()));
      device.publish('cfstream/other/frames', 'x', { qos: 1 });
      await closed; // aedes closes a client whose publish it refuses
      // The viewer can watch the results the run publishes.
      const viewer = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, username: 'watcher', password: VIEWER_SECRET });
      const factors: string[] = [];
      viewer.on('message', (topic) => factors.push(topic));
      await viewer.subscribeAsync('cfstream/+/factors');
      await waitFor(() => factors.length > 0, 'factors at the viewer', 10_000);
      await viewer.endAsync();

      await waitFor(() => /publish to cfstream\/other\/frames refused/.test(run.err()), 'the ACL refusal in the log', 5000);
      expect(await run.exit, run.err()).toBe(0);
      const log = run.err();
      expect(log).toMatch(/broker refused client '[^']*' gave no user name/);
      expect(log).toMatch(/broker refused client '[^']*': bad user name or password for user 'sim'/);
      expect(log).toMatch(/broker refused publish to cfstream\/other\/frames refused: not allowed for user 'sim' \(role device\)/);
      for (const s of [DEVICE_SECRET, VIEWER_SECRET, WRONG_SECRET]) {
        expect(log).not.toContain(s);
        expect(run.out()).not.toContain(s);
      }
      expect(JSON.parse(run.out()).stoppedBy).toBe('duration');
    } finally {
      run.child.kill('SIGKILL');
    }
  }, 40_000);
});
