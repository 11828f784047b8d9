/**
 * Test helpers for the MQTT suites: a real mosquitto on a free loopback port, free ports, an
 * independent raw mqtt.js subscriber, and polling.
 *
 * mosquitto: the suites that need it use `describeMosquitto`. Without the binary they are skipped
 * (with the reason in the suite name and on stderr) only when CI is unset; under CI they run and
 * fail with an install hint, so a machine without it cannot pass silently.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket, type AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { describe } from 'vitest';

/** The mosquitto binary, or undefined. */
export const MOSQUITTO: string | undefined = findMosquitto();

function findMosquitto(): string | undefined {
  // CFSTREAM_MOSQUITTO names the binary (a path that does not exist: behave as if it were missing).
  const forced = process.env.CFSTREAM_MOSQUITTO;
  if (forced !== undefined) return existsSync(forced) ? forced : undefined;
  const which = spawnSync('sh', ['-c', 'command -v mosquitto'], { encoding: 'utf8' });
  const onPath = which.status === 0 ? which.stdout.trim() : '';
  if (onPath) return onPath;
  return ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto'].find((p) => existsSync(p));
}

const SKIP_REASON = 'SKIPPED: mosquitto not found on PATH or in /usr/sbin (apt-get install mosquitto); with CI set this suite fails instead';

/** `describe` for suites that need mosquitto (see the header for when it skips). */
export function describeMosquitto(name: string, fn: () => void): void {
  if (MOSQUITTO || process.env.CI) {
    describe(name, fn);
    return;
  }
  process.stderr.write(`${name}: ${SKIP_REASON}\n`);
  describe.skip(`${name} — ${SKIP_REASON}`, fn);
}

/** A free TCP port on 127.0.0.1 (bound and released; a race with other processes is possible, so callers retry). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A running mosquitto. */
export interface Mosquitto {
  readonly port: number;
  readonly url: string;
  /** The directory of its config (and persistence file). */
  readonly dir: string;
  /** What mosquitto logged so far. */
  log(): string;
  /** Sends `signal` (a crash: 'SIGKILL'; a clean shutdown that saves the database: 'SIGTERM') and waits for the exit; the directory stays. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Sends `signal` without waiting ('SIGSTOP' stalls the broker with its connections open, 'SIGCONT' lets it go on). */
  signal(signal: NodeJS.Signals): void;
  /** Ends it (SIGTERM, then SIGKILL) and removes the directory if `startMosquitto` made it. */
  stop(): Promise<void>;
}

/** Options of `startMosquitto`. */
export interface MosquittoOptions {
  /** A free one. The loopback port (give the old one to restart a broker where clients expect it). */
  port?: number;
  /** A fresh temp directory, removed by stop(). Where the config and the persistence file live (given: kept, the caller removes it). */
  dir?: string;
  /** false. Persistence: the in-memory database saved after every change (autosave_on_changes, autosave_interval 1) and at a clean shutdown, loaded at start. */
  persistence?: boolean;
  /** []. More config lines. */
  config?: readonly string[];
}

/** Starts mosquitto on a loopback port with anonymous access; throws with an install hint if it is missing. */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  if (!MOSQUITTO) throw new Error('mosquitto is required here (CI is set) but was not found: apt-get install mosquitto');
  let lastError = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = options.port ?? await freePort();
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'cfstream-mosquitto-'));
    const owned = options.dir === undefined;
    const conf = join(dir, 'mosquitto.conf');
    const persistence = options.persistence
      // Run as root, mosquitto drops to user 'mosquitto' unless told to stay (it could not write the directory).
      ? ['persistence true', `persistence_location ${dir}/`, 'autosave_interval 1', 'autosave_on_changes true', `user ${userInfo().username}`]
      : ['persistence false'];
    writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', ...persistence, ...(options.config ?? []), 'log_dest stderr', 'log_type all', ''].join('\n'));
    const child = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const up = await waitForPort(port, child, 5000);
    if (up) {
      return {
        port, url: `mqtt://127.0.0.1:${port}`, dir, log: () => log,
        kill: async (signal) => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
          child.kill(signal);
          await exited;
        },
        signal: (signal) => {
          child.kill(signal);
        },
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGCONT'); // a stalled one cannot handle SIGTERM
          await stopChild(child);
          if (owned) rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    lastError = log;
    await stopChild(child);
    if (owned) rmSync(dir, { recursive: true, force: true });
    if (options.port !== undefined) await sleep(200); // the old one's port may take a moment to free
  }
  throw new Error(`mosquitto did not start: ${lastError}`);
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return false;
    const ok = await new Promise<boolean>((resolve) => {
      const s = new Socket();
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
      s.connect(port, '127.0.0.1');
    });
    if (ok) return true;
    await sleep(20);
  }
  return false;
}

/** Ends a child process (SIGTERM, then SIGKILL after 2 s) and waits for it. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(timer);
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `predicate` every 10 ms until it holds; throws `what` after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** A message as the raw test subscriber saw it. */
export interface Seen {
  topic: string;
  payload: Buffer;
  retain: boolean;
  qos: number;
  properties: IPublishPacket['properties'];
}

/** An independent mqtt.js subscriber (not our wrapper): what a third-party client sees. */
export interface RawSubscriber {
  readonly client: MqttClient;
  readonly messages: Seen[];
  /** Messages on one topic, as text. */
  texts(topic: string): string[];
  end(): Promise<void>;
}

/** Connects a raw mqtt.js client (no reconnect) and subscribes to `filter`. */
export async function rawSubscriber(url: string, filter: string | string[], protocolVersion: 4 | 5 = 4): Promise<RawSubscriber> {
  const client = await mqtt.connectAsync(url, { protocolVersion, reconnectPeriod: 0, clientId: `test_${Math.random().toString(16).slice(2, 10)}` });
  const messages: Seen[] = [];
  client.on('message', (topic, payload, packet) => messages.push({ topic, payload, retain: packet.retain, qos: packet.qos, properties: packet.properties }));
  await client.subscribeAsync(filter, { qos: 1 });
  return {
    client, messages,
    texts: (topic) => messages.filter((m) => m.topic === topic).map((m) => m.payload.toString()),
    end: async () => {
      await client.endAsync(true);
    },
  };
}

/** Connects a raw mqtt.js publisher (3.1.1 unless asked). */
export async function rawPublisher(url: string, protocolVersion: 4 | 5 = 4): Promise<MqttClient> {
  return mqtt.connectAsync(url, { protocolVersion, reconnectPeriod: 0, clientId: `testpub_${Math.random().toString(16).slice(2, 10)}` });
}

/** A fake broker that accepts a connection (CONNACK 0) and then stops reading it: the client's socket backs up. */
export interface StuckBroker {
  readonly url: string;
  /** Every connection accepted, in order. */
  readonly sockets: Socket[];
  /** Destroys every connection first (a clean close would wait for a stuck socket), then stops listening. */
  close(): Promise<void>;
}

/**
 * Starts a `StuckBroker` on a free loopback port.
 * @param stuckConnections how many connections to stall (the first ones); later ones read and discard everything
 */
export async function startStuckBroker(stuckConnections = Infinity): Promise<StuckBroker> {
  const sockets: Socket[] = [];
  const server = createServer((sock) => {
    const stuck = sockets.length < stuckConnections;
    sockets.push(sock);
    sock.once('data', () => {
      sock.write(Buffer.from([0x20, 0x02, 0x00, 0x00]));
      if (stuck) sock.pause();
      else sock.on('data', () => undefined);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sockets,
    async close() {
      for (const sock of sockets) sock.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** The factors `index` of a results message. */
function factorsIndex(m: Seen): number {
  return (JSON.parse(m.payload.toString()) as { index: number }).index;
}

/** The highest factors index `sub` saw on `topic` (−1: none). */
export function lastFactorsIndex(sub: RawSubscriber, topic: string): number {
  return Math.max(-1, ...sub.messages.filter((m) => m.topic === topic).map(factorsIndex));
}

/**
 * True once `sub` saw on `topic` factors computed after it subscribed: a live message whose index
 * is above every retained one and above `after`. A publisher republishing its latest value after
 * a reconnect (which a subscriber sees as live) does not count.
 */
export function newFactors(sub: RawSubscriber, topic: string, after = -1): boolean {
  const seen = sub.messages.filter((m) => m.topic === topic);
  const base = Math.max(after, ...seen.filter((m) => m.retain).map(factorsIndex));
  return seen.some((m) => !m.retain && factorsIndex(m) > base);
}
