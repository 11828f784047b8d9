import { request } from 'node:http';
import { createServer, Socket, type AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { connectMqtt, MqttConnection, MqttConnectionError, type MqttConnectionEvent } from '../../../devices/mqtt/client.js';
import { DEFAULT_BROKER_OPTIONS, startBroker, type EmbeddedBroker } from '../../../devices/mqtt/broker.js';
import { InvalidOptionError } from '../../../src/errors.js';
import { rawPublisher, rawSubscriber, waitFor } from './helpers.js';

let broker: EmbeddedBroker | undefined;
afterEach(async () => {
  await broker?.close();
  broker = undefined;
});

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
  it('documents its defaults: loopback, 1883, WebSocket 9001', () => {
    expect(DEFAULT_BROKER_OPTIONS).toEqual({ host: '127.0.0.1', port: 1883, wsPort: 9001 });
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

  it('reports a taken port by address', async () => {
    broker = await startBroker({ port: 0, wsPort: false });
    await expect(startBroker({ port: broker.port, wsPort: false })).rejects.toThrow(new RegExp(`127\\.0\\.0\\.1:${broker.port}.*EADDRINUSE`));
  });

  it.each([
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
});
