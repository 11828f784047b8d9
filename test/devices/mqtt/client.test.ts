import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type EmbeddedBroker } from '../../../devices/mqtt/broker.js';
import {
  connectMqtt, DEFAULT_MQTT_CLIENT_OPTIONS, MqttConnection, MqttConnectionError, resolveMqttClientOptions,
  type MqttConnectionEvent, type MqttMessage,
} from '../../../devices/mqtt/client.js';
import { topicMatches } from '../../../devices/mqtt/topics.js';
import { InvalidOptionError } from '../../../src/errors.js';
import { describeMosquitto, freePort, rawSubscriber, startMosquitto, startStuckBroker, waitFor, type Mosquitto } from './helpers.js';

const open: MqttConnection[] = [];
function track(c: MqttConnection): MqttConnection {
  open.push(c);
  return c;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close(true)));
});

describe('MqttConnection options', () => {
  it('documents its defaults', () => {
    expect(DEFAULT_MQTT_CLIENT_OPTIONS).toEqual({
      rejectUnauthorized: true, protocolVersion: 5, fallback: true, keepalive: 30, connectTimeout: 10_000,
      reconnectPeriod: 1000, reconnectMaxPeriod: 30_000, reconnectFactor: 2, reconnectAttempts: Infinity, clean: true, sessionExpiry: 3600,
    });
    const o = resolveMqttClientOptions({ url: 'mqtt://127.0.0.1:1883' });
    expect(o).toMatchObject(DEFAULT_MQTT_CLIENT_OPTIONS);
    expect(o.clientId).toMatch(/^cfstream_[0-9a-f]{8}$/);
  });

  it('takes credentials out of the URL and never prints them', () => {
    const o = resolveMqttClientOptions({ url: 'mqtts://ann:p%40ss@broker.example:8883' });
    expect(o).toMatchObject({ url: 'mqtts://broker.example:8883', username: 'ann', password: 'p@ss' });
    expect(resolveMqttClientOptions({ url: 'ws://h:9001/mqtt' }).url).toBe('ws://h:9001/mqtt');
  });

  it('does not touch the caller\'s object', () => {
    const given = { url: 'mqtt://h:1', keepalive: 5 };
    const o = resolveMqttClientOptions(given);
    expect(given).toEqual({ url: 'mqtt://h:1', keepalive: 5 });
    expect(Object.isFrozen(o)).toBe(true);
  });

  it.each([
    [{ url: 'http://h:1' }, 'url'],
    [{ url: 'not a url' }, 'url'],
    [{ url: 'mqtt://h:1', protocolVersion: 3 }, 'protocolVersion'],
    [{ url: 'mqtt://h:1', keepalive: -1 }, 'keepalive'],
    [{ url: 'mqtt://h:1', connectTimeout: 0 }, 'connectTimeout'],
    [{ url: 'mqtt://h:1', reconnectPeriod: 500, reconnectMaxPeriod: 100 }, 'reconnectMaxPeriod'],
    [{ url: 'mqtt://h:1', reconnectFactor: 0.5 }, 'reconnectFactor'],
    [{ url: 'mqtt://h:1', reconnectAttempts: 0 }, 'reconnectAttempts'],
    [{ url: 'mqtt://h:1', clientId: '' }, 'clientId'],
    [{ url: 'mqtt://h:1', will: { topic: 'a/+', payload: 'x' } }, 'will.topic'],
    [{ url: 'mqtt://h:1', will: { topic: 'a/b', payload: 'x', qos: 3 } }, 'will.qos'],
    [{ url: 'mqtt://h:1', fallback: 'yes' }, 'fallback'],
    [{ url: 'mqtt://h:1', reconect: 1 }, 'reconect'],
    [{ url: 'mqtt://h:1', sessionExpiry: -1 }, 'sessionExpiry'],
    [{ url: 'mqtt://h:1', sessionExpiry: 2 ** 32 }, 'sessionExpiry'],
  ])('refuses %j naming %s', (opts, option) => {
    let err: unknown;
    try {
      new MqttConnection(opts as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect((err as InvalidOptionError).option).toBe(option);
  });
});

describe('MqttConnection against aedes (MQTT 3.1.1 only)', () => {
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    broker = await startBroker({ port: 0, wsPort: false });
  });
  afterAll(async () => {
    await broker.close();
  });

  it('falls back from 5 to 3.1.1 when the broker refuses 5, with typed events naming the url', async () => {
    const conn = track(new MqttConnection({ url: broker.url }));
    const events: MqttConnectionEvent[] = [];
    conn.events$.subscribe((e) => events.push(e));
    await conn.connect();
    expect(conn.protocolVersion).toBe(4);
    expect(conn.connected).toBe(true);
    expect(events.map((e) => e.type)).toEqual(['error', 'fallback', 'connect']);
    expect(events[0]).toMatchObject({ type: 'error', url: broker.url, code: 1, fatal: false });
    expect(events[1]).toMatchObject({ type: 'fallback', url: broker.url, from: 5, to: 4 });
    expect((events[1] as { reason: string }).reason).toMatch(/protocol version/i);
    expect(events[2]).toMatchObject({ type: 'connect', url: broker.url, protocolVersion: 4, attempt: 0 });
    // MQTT 5 properties are dropped on a 3.1.1 connection instead of failing the publish.
    const sub = await rawSubscriber(broker.url, 'fb/x');
    await conn.publish('fb/x', 'hello', { qos: 1, properties: { contentType: 'text/plain' } });
    await waitFor(() => sub.messages.length === 1, 'the message');
    expect(sub.messages[0]!.properties).toBeUndefined();
    await sub.end();
  });

  it('asks for 3.1.1 directly with protocolVersion 4 (no fallback)', async () => {
    const conn = track(new MqttConnection({ url: broker.url, protocolVersion: 4 }));
    const types: string[] = [];
    conn.events$.subscribe((e) => types.push(e.type));
    await conn.connect();
    expect(types).toEqual(['connect']);
  });

  it('with fallback false, a refusal of 5 is retried as 5 (and never connects)', async () => {
    const conn = track(new MqttConnection({ url: broker.url, fallback: false, reconnectPeriod: 5, reconnectAttempts: 2 }));
    const err = await conn.connect().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(MqttConnectionError);
    expect((err as MqttConnectionError).by).toBe('gave-up');
    expect(conn.state).toBe('closed');
  });

  it('delivers messages with their topic, payload and retain flag', async () => {
    const conn = track(await connectMqtt({ url: broker.url }));
    const got: MqttMessage[] = [];
    conn.messages$.subscribe((m) => got.push(m));
    await conn.publish('m/retained', 'kept', { qos: 1, retain: true });
    await conn.subscribe('m/#', 1);
    await conn.publish('m/live', new Uint8Array([1, 2, 3]), { qos: 1 });
    await waitFor(() => got.length === 2, 'two messages');
    expect(got.map((m) => [m.topic, m.retain, [...m.payload]])).toEqual([
      ['m/retained', true, [...Buffer.from('kept')]],
      ['m/live', false, [1, 2, 3]],
    ]);
  });

  it('publishes the will on an abrupt close, not on a clean one', async () => {
    const sub = await rawSubscriber(broker.url, 'will/#');
    const will = (topic: string) => ({ topic, payload: 'gone', qos: 1 as const, retain: false });
    const clean = track(await connectMqtt({ url: broker.url, will: will('will/clean') }));
    const abrupt = track(await connectMqtt({ url: broker.url, will: will('will/abrupt') }));
    await clean.close();
    await abrupt.close(true);
    await waitFor(() => sub.messages.length >= 1, 'the will');
    await new Promise((r) => setTimeout(r, 100));
    expect(sub.messages.map((m) => m.topic)).toEqual(['will/abrupt']);
    await sub.end();
  });

  it('routes messages by topic: an exact topic reaches only its observers, a wildcard filter its matches, messages$ all of them', async () => {
    const conn = track(await connectMqtt({ url: broker.url, protocolVersion: 4 }));
    const seen = (f: string) => {
      const got: string[] = [];
      conn.messagesOn(f).subscribe((m) => got.push(m.topic));
      return got;
    };
    const a = seen('rt/a'), a2 = seen('rt/a'), b = seen('rt/b'), plus = seen('rt/+'), hash = seen('rt/#'), deep = seen('rt/+/x');
    const all: string[] = [];
    conn.messages$.subscribe((m) => all.push(m.topic));
    const gone = conn.messagesOn('rt/b').subscribe(() => all.push('never'));
    gone.unsubscribe();
    await conn.subscribe('rt/#', 1);
    for (const t of ['rt/a', 'rt/b', 'rt/c/x', 'rt']) await conn.publish(t, 'x', { qos: 1 });
    await waitFor(() => all.length === 4, 'four messages');
    expect({ a, a2, b, plus, hash, deep, all }).toEqual({
      a: ['rt/a'], a2: ['rt/a'], b: ['rt/b'], plus: ['rt/a', 'rt/b'], hash: ['rt/a', 'rt/b', 'rt/c/x', 'rt'], deep: ['rt/c/x'], all: ['rt/a', 'rt/b', 'rt/c/x', 'rt'],
    });
    let completed = false;
    conn.messagesOn('rt/a').subscribe({ complete: () => (completed = true) });
    await conn.close();
    expect(completed).toBe(true);
  });

  it('calls each of 100 observers on one connection only for its own topic (one lookup per message, not 100 comparisons)', async () => {
    const conn = track(await connectMqtt({ url: broker.url, protocolVersion: 4 }));
    const calls = new Array<number>(100).fill(0);
    for (let i = 0; i < 100; i++) conn.messagesOn(`many/s${i}/frames`).subscribe(() => calls[i]!++);
    await conn.subscribe('many/#', 1);
    const pub = track(await connectMqtt({ url: broker.url, protocolVersion: 4 }));
    for (let i = 0; i < 100; i++) await pub.publish(`many/s${i}/frames`, String(i), { qos: 1 });
    await waitFor(() => conn.stats().messagesIn === 100, 'a hundred messages');
    expect(calls).toEqual(new Array<number>(100).fill(1)); // 100 handler calls in all; a broadcast made 10 000
  });

  it('refuses to publish after close', async () => {
    const conn = await connectMqtt({ url: broker.url });
    await conn.close();
    await expect(conn.publish('x/y', 'z')).rejects.toBeInstanceOf(MqttConnectionError);
    expect(conn.state).toBe('closed');
  });
});

describe('MqttConnection reconnecting', () => {
  it('backs off exponentially while the broker is away, then reconnects and resubscribes', async () => {
    let broker = await startBroker({ port: 0, wsPort: false });
    const port = broker.port;
    const conn = track(new MqttConnection({ url: broker.url, protocolVersion: 4, reconnectPeriod: 40, reconnectFactor: 2, reconnectMaxPeriod: 160 }));
    const events: MqttConnectionEvent[] = [];
    conn.events$.subscribe((e) => events.push(e));
    const got: string[] = [];
    conn.messages$.subscribe((m) => got.push(m.payload.toString()));
    await conn.connect();
    await conn.subscribe('r/#', 1);
    await broker.close();
    await waitFor(() => events.filter((e) => e.type === 'reconnect').length >= 4, 'four reconnect attempts');
    const offline = events.find((e) => e.type === 'offline');
    expect(offline).toMatchObject({ url: `mqtt://127.0.0.1:${port}` });
    const delays = events.filter((e) => e.type === 'reconnect').slice(0, 4).map((e) => (e as { delayMs: number }).delayMs);
    expect(delays).toEqual([40, 80, 160, 160]);
    expect(events.filter((e) => e.type === 'reconnect').slice(1).every((e) => /ECONNREFUSED/.test((e as { reason: string }).reason))).toBe(true);
    expect(conn.state).toBe('reconnecting');
    broker = await startBroker({ port, wsPort: false });
    try {
      await waitFor(() => conn.connected, 'the reconnect', 3000);
      const connect = events.filter((e) => e.type === 'connect').at(-1)!;
      expect((connect as { attempt: number }).attempt).toBeGreaterThanOrEqual(4);
      const pub = await connectMqtt({ url: broker.url, protocolVersion: 4 });
      await waitFor(() => broker.clients() === 2, 'both clients');
      // The renewed SUBSCRIBE trails the CONNACK by a round trip: publish until it is in place.
      const deadline = Date.now() + 2000;
      while (!got.includes('back') && Date.now() < deadline) {
        await pub.publish('r/after', 'back', { qos: 1 });
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(got).toContain('back');
      await pub.close();
      expect(conn.stats()).toMatchObject({ connects: 2, disconnects: 1 });
    } finally {
      await conn.close();
      await broker.close();
    }
  });

  it('gives up after reconnectAttempts and says why', async () => {
    const port = await freePort(); // nothing listens there
    const conn = track(new MqttConnection({ url: `mqtt://127.0.0.1:${port}`, reconnectPeriod: 5, reconnectAttempts: 2 }));
    const events: MqttConnectionEvent[] = [];
    conn.events$.subscribe((e) => events.push(e));
    const err = await conn.connect().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(MqttConnectionError);
    expect((err as Error).message).toMatch(new RegExp(`mqtt mqtt://127.0.0.1:${port}: gave up reconnecting: 2 failed attempts in a row: .*ECONNREFUSED`));
    expect(events.filter((e) => e.type === 'reconnect').map((e) => (e as { attempt: number }).attempt)).toEqual([1, 2]);
    expect(events.at(-1)).toMatchObject({ type: 'close', by: 'gave-up' });
  });

  it('rejects the QoS 0 publishes a backed-up socket held when the link drops (link-lost), instead of never settling', async () => {
    const stuck = await startStuckBroker();
    try {
      const conn = track(await connectMqtt({ url: stuck.url, protocolVersion: 4, keepalive: 0, reconnectPeriod: 0 }));
      const big = new Uint8Array(256 * 1024);
      const outcomes: (Error | 'written')[] = [];
      for (let i = 0; i < 64; i++) conn.publish(`t/${i}`, big).then(() => outcomes.push('written'), (e: Error) => outcomes.push(e));
      await new Promise((r) => setTimeout(r, 200)); // 16 MiB cannot all go into the kernel's buffers
      const unsettled = 64 - outcomes.length;
      expect(unsettled).toBeGreaterThan(0);
      stuck.sockets[0]!.destroy();
      await waitFor(() => outcomes.length === 64, 'every publish to settle', 5000);
      const lost = outcomes.filter((o): o is MqttConnectionError => o instanceof MqttConnectionError);
      expect(lost).toHaveLength(unsettled);
      expect(lost[0]!.by).toBe('link-lost');
      expect(lost[0]!.message).toMatch(/: link lost: QoS 0 publish to t\/\d+ was still in the socket, not written/);
    } finally {
      await stuck.close();
    }
  });

  it('close() on a broker that stopped answering gives up after connectTimeout and drops the socket (it would hold the process open)', async () => {
    const stuck = await startStuckBroker();
    try {
      const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
      const conn = track(await connectMqtt({ url: stuck.url, protocolVersion: 4, keepalive: 0, connectTimeout: 300, reconnectPeriod: 0 }));
      const open = sockets();
      const t0 = performance.now();
      await conn.close();
      expect(performance.now() - t0).toBeLessThan(2000);
      await waitFor(() => sockets() === open - 1, 'the client socket to be gone', 2000);
    } finally {
      await stuck.close();
    }
  });

  it('with reconnectPeriod 0 closes at the first loss', async () => {
    const broker = await startBroker({ port: 0, wsPort: false });
    const conn = track(await connectMqtt({ url: broker.url, reconnectPeriod: 0 }));
    const events: MqttConnectionEvent[] = [];
    conn.events$.subscribe((e) => events.push(e));
    await broker.close();
    await waitFor(() => conn.state === 'closed', 'the close');
    expect(events.map((e) => e.type)).toEqual(['offline', 'close']);
    expect((events[1] as { reason: string }).reason).toMatch(/reconnecting is off/);
  });
});

describeMosquitto('MqttConnection against mosquitto (MQTT 5)', () => {
  let mosquitto: Mosquitto;
  beforeAll(async () => {
    mosquitto = await startMosquitto();
  });
  afterAll(async () => {
    await mosquitto?.stop();
  });

  it('negotiates MQTT 5 and sends publish properties', async () => {
    const conn = track(new MqttConnection({ url: mosquitto.url }));
    const types: string[] = [];
    conn.events$.subscribe((e) => types.push(e.type));
    await conn.connect();
    expect(conn.protocolVersion).toBe(5);
    expect(types).toEqual(['connect']);
    const sub = await rawSubscriber(mosquitto.url, 'p/#', 5);
    await conn.publish('p/x', '{"a":1}', {
      qos: 1,
      properties: { contentType: 'application/json', messageExpiryInterval: 60, payloadFormatIndicator: true, userProperties: { source: 'test' } },
    });
    await waitFor(() => sub.messages.length === 1, 'the message');
    expect(sub.messages[0]!.properties).toMatchObject({
      contentType: 'application/json', payloadFormatIndicator: true, userProperties: { source: 'test' },
    });
    // mosquitto forwards the remaining lifetime (≤ 60 s).
    expect(sub.messages[0]!.properties!.messageExpiryInterval).toBeGreaterThan(55);
    await sub.end();
    expect(mosquitto.log()).toMatch(/p5/);
  });

  it('keeps a persistent session (clientId, clean false, session expiry): QoS 1 messages sent while the client was away arrive at the reconnect', async () => {
    const clientId = `persist_${process.pid}`;
    const first = track(new MqttConnection({ url: mosquitto.url, clientId, clean: false }));
    await first.connect();
    await first.subscribe('ps/x', 1);
    await first.close();
    const pub = track(await connectMqtt({ url: mosquitto.url }));
    for (const m of ['m1', 'm2', 'm3']) await pub.publish('ps/x', m, { qos: 1 });
    const again = track(new MqttConnection({ url: mosquitto.url, clientId, clean: false }));
    const got: string[] = [];
    again.messagesOn('ps/x').subscribe((m) => got.push(m.payload.toString())); // before connect(): they come right after the CONNACK
    const events: MqttConnectionEvent[] = [];
    again.events$.subscribe((e) => events.push(e));
    await again.connect();
    await waitFor(() => got.length === 3, 'the queued messages');
    expect(got).toEqual(['m1', 'm2', 'm3']);
    expect(events[0]).toMatchObject({ type: 'connect', protocolVersion: 5, sessionPresent: true });
    expect(mosquitto.log()).toMatch(new RegExp(`as ${clientId} \\(p5, c0`));
  });

  it('publishes a v5 will with its content type on an abrupt close', async () => {
    const sub = await rawSubscriber(mosquitto.url, 'w5/#', 5);
    const conn = track(await connectMqtt({ url: mosquitto.url, will: { topic: 'w5/status', payload: 'offline', contentType: 'text/plain', retain: false } }));
    await conn.close(true);
    await waitFor(() => sub.messages.length === 1, 'the will');
    expect(sub.messages[0]).toMatchObject({ topic: 'w5/status' });
    expect(sub.messages[0]!.properties).toMatchObject({ contentType: 'text/plain' });
    await sub.end();
  });
});

describe('topicMatches (MQTT 3.1.1 §4.7)', () => {
  it.each([
    ['a/b', 'a/b', true], ['a/b', 'a/c', false], ['a/+', 'a/b', true], ['a/+', 'a', false], ['a/+', 'a/b/c', false],
    ['a/#', 'a', true], ['a/#', 'a/b/c', true], ['#', 'a/b', true], ['+/+', '/x', true], ['a/+/c', 'a/b/c', true],
    ['a/+/c', 'a/b/d', false], ['#', '$SYS/x', false], ['+/x', '$SYS/x', false], ['$SYS/#', '$SYS/x', true],
  ])('%s matches %s: %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });
});

const OPENSSL = spawnSync('openssl', ['version']).status === 0;

describe.skipIf(!OPENSSL)('MqttConnection over TLS (mqtts://, needs the openssl CLI for a throwaway certificate)', () => {
  let dir: string;
  let cert: string;
  let server: TlsServer;
  let aedes: Aedes;
  let url: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cfstream-tls-'));
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]);
    if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr.toString()}`);
    cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    aedes = await Aedes.createBroker();
    server = createTlsServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (socket) => aedes.handle(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `mqtts://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('connects when the CA is given, and refuses an unknown certificate unless rejectUnauthorized is false', async () => {
    const trusted = track(await connectMqtt({ url, ca: cert }));
    expect(trusted.connected).toBe(true);
    const untrusted = track(new MqttConnection({ url, reconnectPeriod: 5, reconnectAttempts: 1 }));
    const err = await untrusted.connect().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(MqttConnectionError);
    expect((err as Error).message).toMatch(/self[- ]signed certificate/i);
    const lax = track(await connectMqtt({ url, rejectUnauthorized: false }));
    expect(lax.connected).toBe(true);
  });
});
