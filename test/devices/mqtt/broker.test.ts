import { request } from 'node:http';
import { createServer, Socket, type AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { connectMqtt, MqttConnection, MqttConnectionError, type MqttConnectionEvent } from '../../../devices/mqtt/client.js';
import { DEFAULT_BROKER_OPTIONS, DEFAULT_BROKER_TLS_OPTIONS, startBroker, type EmbeddedBroker } from '../../../devices/mqtt/broker.js';
import type { BrokerRefusal } from '../../../devices/mqtt/brokerAuth.js';
import { InvalidOptionError } from '../../../src/errors.js';
import { rawPublisher, rawSubscriber, waitFor } from './helpers.js';

let broker: EmbeddedBroker | undefined;
afterEach(async () => {
  await broker?.close();
  broker = undefined;
});

/** The MQTT remaining-length bytes of `n`. */
function remainingLength(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

/** A minimal MQTT 3.1.1 CONNECT (clean session, keepalive 60 s, no login). */
function connectPacket(clientId: string): Buffer {
  const id = Buffer.from(clientId);
  const body = Buffer.concat([Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c, 0x00, id.length]), id]);
  return Buffer.concat([Buffer.from([0x10]), remainingLength(body.length), body]);
}

function tcpConnect(host: string, port: number): Promise<'connected' | string> {
  return new Promise((resolve) => {
    const s = new Socket();
    s.setTimeout(1000, () => {
      s.destroy();
      resolve('timeout');
    });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    s.connect(port, host);
  });
}

describe('startBroker (aedes)', () => {
  it('documents its defaults: loopback, 1883, WebSocket 9001, prefix cfstream, 1 MiB payloads and client backlogs, 10 s drain timeout; TLS 8883 without wss', () => {
    expect(DEFAULT_BROKER_OPTIONS).toEqual({ host: '127.0.0.1', port: 1883, wsPort: 9001, prefix: 'cfstream', maxPayloadBytes: 1048576, maxClientBacklogBytes: 1048576, drainTimeoutMs: 10_000 });
    expect(DEFAULT_BROKER_TLS_OPTIONS).toEqual({ requestCert: false, port: 8883, wsPort: false });
  });

  // 127.0.0.2 is loopback too (Linux routes all of 127/8 to lo), but only a socket bound to
  // 0.0.0.0 (or to 127.0.0.2) accepts it: so it tells "bound to 127.0.0.1" from "bound to all".
  it.runIf(process.platform === 'linux')('binds exactly 127.0.0.1 by default (127.0.0.2 is refused; with host 0.0.0.0 it is not)', async () => {
    broker = await startBroker({ port: 0, wsPort: 0 });
    expect(await tcpConnect('127.0.0.2', broker.port)).toBe('ECONNREFUSED');
    expect(await tcpConnect('127.0.0.2', broker.wsPort!)).toBe('ECONNREFUSED');
    expect(await tcpConnect('127.0.0.1', broker.port)).toBe('connected');
    await broker.close();
    broker = await startBroker({ host: '0.0.0.0', port: 0, wsPort: 0 });
    expect(broker.url).toBe(`mqtt://0.0.0.0:${broker.port}`);
    expect(await tcpConnect('127.0.0.2', broker.port)).toBe('connected');
    expect(await tcpConnect('127.0.0.2', broker.wsPort!)).toBe('connected');
  });

  it('binds loopback only by default, on the free ports it returns', async () => {
    broker = await startBroker({ port: 0, wsPort: 0 });
    expect(broker.host).toBe('127.0.0.1');
    expect(broker.port).toBeGreaterThan(0);
    expect(broker.wsPort).toBeGreaterThan(0);
    expect(broker.url).toBe(`mqtt://127.0.0.1:${broker.port}`);
    expect(broker.wsUrl).toBe(`ws://127.0.0.1:${broker.wsPort}/mqtt`);
    expect(await tcpConnect('127.0.0.1', broker.port)).toBe('connected');
    expect(await tcpConnect('127.0.0.1', broker.wsPort!)).toBe('connected');
    // Reachable only on loopback: a non-loopback address of this machine is refused (if it has one).
    const external = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal);
    if (external) {
      expect(await tcpConnect(external.address, broker.port)).not.toBe('connected');
      expect(await tcpConnect(external.address, broker.wsPort!)).not.toBe('connected');
    }
  });

  it('carries MQTT over TCP and over WebSocket to the same clients', async () => {
    broker = await startBroker({ port: 0, wsPort: 0 });
    const sub = await rawSubscriber(broker.url, 'a/#');
    const wsPub = await rawPublisher(broker.wsUrl!);
    await wsPub.publishAsync('a/ws', 'from the dashboard side', { qos: 1 });
    await waitFor(() => sub.texts('a/ws').length === 1, 'the WebSocket message on TCP');
    expect(sub.texts('a/ws')).toEqual(['from the dashboard side']);
    expect(broker.clients()).toBe(2);
    await wsPub.endAsync();
    await sub.end();
  });

  it('answers plain HTTP on the WebSocket port with 426, or with onHttpRequest', async () => {
    broker = await startBroker({ port: 0, wsPort: 0 });
    const get = (port: number) => new Promise<{ status: number; body: string }>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/' }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      }).on('error', reject).end();
    });
    expect((await get(broker.wsPort!)).status).toBe(426);
    await broker.close();
    broker = await startBroker({ port: 0, wsPort: 0, onHttpRequest: (_req, res) => res.end('dashboard') });
    expect(await get(broker.wsPort!)).toEqual({ status: 200, body: 'dashboard' });
  });

  it('has no WebSocket listener with wsPort false', async () => {
    broker = await startBroker({ port: 0, wsPort: false });
    expect(broker.wsPort).toBeUndefined();
    expect(broker.wsUrl).toBeUndefined();
  });

  it('checks username and password; a refusal is fatal, not retried', async () => {
    broker = await startBroker({ port: 0, wsPort: false, username: 'lab', password: 's3cret' });
    const events: MqttConnectionEvent[] = [];
    const bad = new MqttConnection({ url: broker.url, username: 'lab', password: 'wrong', reconnectPeriod: 10 });
    bad.events$.subscribe((e) => events.push(e));
    const err = await bad.connect().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(MqttConnectionError);
    expect((err as MqttConnectionError).by).toBe('refused');
    expect((err as MqttConnectionError).code).toBe(4);
    expect((err as Error).message).toMatch(/Bad username or password/i);
    expect(events.map((e) => e.type)).toEqual(['error', 'fallback', 'error', 'close']);
    expect(events.filter((e) => e.type === 'reconnect')).toHaveLength(0);
    const good = await connectMqtt({ url: `mqtt://lab:s3cret@127.0.0.1:${broker.port}` });
    expect(good.url).toBe(`mqtt://127.0.0.1:${broker.port}`); // credentials never printed
    expect(good.protocolVersion).toBe(4);
    await good.close();
  });

  it('closes cleanly: clients see the loss, both ports are free again, close is idempotent', async () => {
    broker = await startBroker({ port: 0, wsPort: 0 });
    const { port, wsPort } = broker;
    const conn = await connectMqtt({ url: broker.url, reconnectPeriod: 0 });
    const events: string[] = [];
    conn.events$.subscribe((e) => events.push(e.type));
    await Promise.all([broker.close(), broker.close()]);
    broker = undefined;
    await waitFor(() => events.includes('close'), 'the client to notice');
    expect(events).toContain('offline');
    for (const p of [port, wsPort!]) {
      const s = createServer();
      await new Promise<void>((resolve, reject) => s.once('error', reject).listen(p, '127.0.0.1', resolve));
      expect((s.address() as AddressInfo).port).toBe(p);
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  });

  it('a subscriber that stops reading does not hold up the others: its QoS 0 messages are dropped past its backlog, and counted', async () => {
    broker = await startBroker({ port: 0, wsPort: false, maxClientBacklogBytes: 256 * 1024, drainTimeoutMs: 60_000 });
    // A frozen client: CONNECT, SUBSCRIBE slow/# (QoS 0), then it never reads again.
    const frozen = new Socket();
    await new Promise<void>((r) => frozen.connect(broker!.port, '127.0.0.1', r));
    const filter = Buffer.from('slow/#');
    const sub = Buffer.concat([Buffer.from([0x00, 0x01, 0x00, filter.length]), filter, Buffer.from([0x00])]);
    frozen.write(Buffer.concat([connectPacket('frozen'), Buffer.from([0x82]), remainingLength(sub.length), sub]));
    await waitFor(() => broker!.clients() === 1, 'the frozen client');
    await new Promise((r) => setTimeout(r, 100));
    frozen.pause();
    const live = await rawSubscriber(broker.url, 'slow/#');
    const pub = await rawPublisher(broker.url);
    const payload = Buffer.alloc(10_000, 7);
    const total = 2000; // 20 MB: far more than the kernel's buffers and the backlog hold for the frozen client
    try {
      const t0 = performance.now();
      for (let i = 0; i < total; i++) await pub.publishAsync(`slow/${i % 10}`, payload, { qos: 0 });
      await waitFor(() => live.messages.length === total, "every message at the live subscriber", 8000);
      const seconds = (performance.now() - t0) / 1000;
      expect(seconds, `${seconds} s`).toBeLessThan(5); // not stalled until the drain timeout (60 s here)
      const drops = broker.slowClientDrops();
      expect(drops.messages).toBeGreaterThan(0);
      expect(drops.byClient['frozen']).toBe(drops.messages);
      expect(drops.byClient[live.client.options.clientId!]).toBeUndefined();
    } finally {
      frozen.destroy();
      await pub.endAsync();
      await live.end();
    }
  }, 30_000);

  it('reports a taken port by address', async () => {
    broker = await startBroker({ port: 0, wsPort: false });
    await expect(startBroker({ port: broker.port, wsPort: false })).rejects.toThrow(new RegExp(`127\\.0\\.0\\.1:${broker.port}.*EADDRINUSE`));
  });

  describe('maxPayloadBytes', () => {
    /** A subscriber on 'a/#' and a publisher that keep working while another client is refused. */
    async function bystanders(b: EmbeddedBroker) {
      const sub = await rawSubscriber(b.url, 'a/#');
      const pub = await rawPublisher(b.url);
      const check = async (text: string) => {
        await pub.publishAsync('a/ok', text, { qos: 1 });
        await waitFor(() => sub.texts('a/ok').includes(text), `'${text}' to arrive`);
      };
      return { sub, check, end: async () => { await pub.endAsync(true); await sub.end(); } };
    }

    it('refuses a bigger payload (counted, the publisher disconnected); the broker and other clients carry on', async () => {
      broker = await startBroker({ port: 0, wsPort: false, maxPayloadBytes: 1000 });
      const refusals: BrokerRefusal[] = [];
      broker.refusals$.subscribe((r) => refusals.push(r));
      const others = await bystanders(broker);
      await others.check('before');
      const big = await rawPublisher(broker.url);
      const closed = new Promise<void>((resolve) => big.once('close', () => resolve()));
      big.publish('a/big', Buffer.alloc(1001, 1), { qos: 0 });
      await closed;
      big.end(true);
      const exact = await rawPublisher(broker.url);
      await exact.publishAsync('a/exact', Buffer.alloc(1000, 2), { qos: 1 }); // at the limit: accepted
      await waitFor(() => others.sub.messages.some((m) => m.topic === 'a/exact'), 'the 1000-byte message');
      await exact.endAsync(true);
      await others.check('after');
      expect(others.sub.messages.some((m) => m.topic === 'a/big')).toBe(false);
      expect(broker.stats()).toMatchObject({ publish: 1, packet: 0, byReason: { 'payload-too-large': 1 } });
      expect(refusals).toEqual([expect.objectContaining({ type: 'publish', reason: 'payload-too-large', topic: 'a/big', bytes: 1001 })]);
      expect(refusals[0]!.message).toMatch(/1001 bytes exceeds maxPayloadBytes 1000/);
      await others.end();
    });

    it('closes a connection at the header of a packet far over the limit, before reading its body', async () => {
      broker = await startBroker({ port: 0, wsPort: false, maxPayloadBytes: 1000 });
      const others = await bystanders(broker);
      // mqtt.js publishing 1 MiB: over maxPayloadBytes + PUBLISH_HEADER_ROOM, so the guard closes it.
      const big = await rawPublisher(broker.url);
      const closed = new Promise<void>((resolve) => big.once('close', () => resolve()));
      big.on('error', () => undefined);
      big.publish('a/big', Buffer.alloc(1024 * 1024, 1), { qos: 0 });
      await closed;
      big.end(true);
      // A raw client that announces a 200 MB PUBLISH and sends 10 bytes of it: the broker hangs up
      // on the announcement alone (it never waits for, or buffers, the 200 MB).
      const raw = new Socket();
      const received: Buffer[] = [];
      raw.on('data', (d: Buffer) => received.push(d));
      const rawClosed = new Promise<void>((resolve) => raw.once('close', () => resolve()));
      await new Promise<void>((resolve) => raw.connect(broker!.port, '127.0.0.1', resolve));
      raw.write(connectPacket('huge'));
      await waitFor(() => Buffer.concat(received).length >= 4, 'the CONNACK');
      expect([...Buffer.concat(received).subarray(0, 4)]).toEqual([0x20, 0x02, 0x00, 0x00]);
      raw.write(Buffer.concat([Buffer.from([0x30]), remainingLength(200_000_000), Buffer.from([0x00, 0x03, 0x61, 0x2f, 0x62]), Buffer.alloc(5)]));
      await rawClosed;
      expect(broker.stats()).toMatchObject({ packet: 2, byReason: { 'packet-too-large': 2 } });
      await others.check('still fine');
      expect(broker.clients()).toBe(2);
      await others.end();
    });
  });

  it.each([
    [{ maxPayloadBytes: 0 }, 'maxPayloadBytes'],
    [{ maxPayloadBytes: 1.5 }, 'maxPayloadBytes'],
    [{ maxClientBacklogBytes: 10 }, 'maxClientBacklogBytes'],
    [{ drainTimeoutMs: 0 }, 'drainTimeoutMs'],
    [{ prefix: 'a/#' }, 'prefix'],
    [{ anonymousRole: 'admin' }, 'anonymousRole'],
    [{ users: [{ name: 'a', role: 'king', password: 'p' }] }, 'users[0].role'],
    [{ users: [{ name: 'a', role: 'device' }] }, 'users[0].passwordHash'],
    [{ tls: { key: 'k.pem' } }, 'tls.cert'],
    [{ tls: { key: 'k.pem', cert: 'c.pem', requestCert: true } }, 'tls.ca'],
    [{ tls: { key: '/nonexistent/k.pem', cert: '/nonexistent/c.pem' } }, 'tls.key'],
    [{ tls: { key: 'k', cert: 'c', bogus: 1 } }, 'tls.bogus'],
    [{ port: -1 }, 'port'],
    [{ port: 1.5 }, 'port'],
    [{ wsPort: 70000 }, 'wsPort'],
    [{ host: '' }, 'host'],
    [{ username: 'u' }, 'password'],
    [{ password: 'p' }, 'username'],
    [{ bogus: 1 }, 'bogus'],
  ])('refuses %j naming %s', async (opts, option) => {
    const err = await startBroker(opts as never).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect((err as InvalidOptionError).option).toBe(option);
  });

  it('never quotes a password in its errors', async () => {
    for (const opts of [{ username: 'u', password: 12345678 }, { users: [{ name: 'u', role: 'admin', password: 'sup3rs3cret', passwordHash: 'sup3rs3cret' }] }]) {
      const err = await startBroker(opts as never).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidOptionError);
      expect(String((err as Error).message)).not.toMatch(/12345678|sup3rs3cret/);
      expect(JSON.stringify((err as InvalidOptionError).received)).not.toMatch(/12345678|sup3rs3cret/);
    }
  });
});
