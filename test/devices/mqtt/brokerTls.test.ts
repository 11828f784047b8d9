/**
 * The embedded broker's TLS listeners (mqtts://, wss://), with throwaway self-signed certificates
 * made by the `openssl` CLI in a temporary directory at test time (no key material in the
 * repository). Without openssl the suite is skipped, saying why, only when CI is unset; under CI it
 * runs and fails with an install hint.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type EmbeddedBroker } from '../../../devices/mqtt/broker.js';
import { InvalidOptionError } from '../../../src/errors.js';
import { rawSubscriber, waitFor } from './helpers.js';

const OPENSSL = spawnSync('sh', ['-c', 'command -v openssl'], { encoding: 'utf8' }).stdout.trim() || undefined;
const SKIP_REASON = 'SKIPPED: the openssl CLI was not found on PATH (apt-get install openssl); with CI set this suite fails instead';

function describeTls(name: string, fn: () => void): void {
  if (OPENSSL || process.env.CI) {
    describe(name, fn);
    return;
  }
  process.stderr.write(`${name}: ${SKIP_REASON}\n`);
  describe.skip(`${name} — ${SKIP_REASON}`, fn);
}

interface Pair { key: string; cert: string; keyPem: string; certPem: string }

/** A self-signed P-256 certificate for `cn` (and 127.0.0.1 / localhost), valid one day. */
function selfSigned(dir: string, cn: string): Pair {
  if (!OPENSSL) throw new Error('openssl is required here (CI is set) but was not found: apt-get install openssl');
  const key = join(dir, `${cn}.key`);
  const cert = join(dir, `${cn}.crt`);
  const r = spawnSync(OPENSSL, [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
    '-days', '1', '-subj', `/CN=${cn}`, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl req failed (${r.status}): ${r.stderr}`);
  return { key, cert, keyPem: readFileSync(key, 'utf8'), certPem: readFileSync(cert, 'utf8') };
}

async function connect(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, clientId: `tls_${Math.random().toString(16).slice(2, 10)}`, ...options });
  client.on('error', () => undefined);
  return client;
}

/**
 * How a connection attempt ends: 'connected', the error, or 'closed' (a TLS server may hang up
 * without an error reaching the client, e.g. after refusing its certificate; mqtt.js'
 * connectAsync would then never settle).
 */
async function connectError(url: string, options: IClientOptions = {}): Promise<Error | 'connected' | 'closed'> {
  const c = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, clientId: `tls_${Math.random().toString(16).slice(2, 10)}`, ...options });
  const outcome = await new Promise<Error | 'connected' | 'closed'>((resolve) => {
    c.once('connect', () => resolve('connected'));
    c.once('error', (e) => resolve(e));
    c.once('close', () => resolve('closed'));
  });
  c.on('error', () => undefined);
  await c.endAsync(true);
  return outcome;
}

describeTls('startBroker with TLS', () => {
  let dir: string;
  let server: Pair, client: Pair, stranger: Pair;
  let broker: EmbeddedBroker | undefined;
  const clients: MqttClient[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cfstream-tls-'));
    server = selfSigned(dir, 'broker');
    client = selfSigned(dir, 'device');
    stranger = selfSigned(dir, 'stranger');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.endAsync(true).catch(() => undefined);
    await broker?.close();
    broker = undefined;
  });

  it('serves mqtts:// (key and cert from files) to a client that trusts the CA, into the same broker as plain TCP, with logins', async () => {
    broker = await startBroker({
      port: 0, wsPort: false, tls: { key: server.key, cert: server.cert, port: 0 },
      users: [{ name: 'eeg1', role: 'device', password: 'tls-pass' }, { name: 'pipe', role: 'pipeline', password: 'pipe-pass' }],
    });
    expect(broker.tlsUrl).toBe(`mqtts://127.0.0.1:${broker.tlsPort}`);
    expect(broker.wssUrl).toBeUndefined();
    const pipe = await connect(broker.url, { username: 'pipe', password: 'pipe-pass' }); // plain TCP on loopback
    clients.push(pipe);
    const got: string[] = [];
    pipe.on('message', (_t, p) => got.push(p.toString()));
    await pipe.subscribeAsync('cfstream/#', { qos: 1 });
    const device = await connect(broker.tlsUrl!, { ca: server.certPem, username: 'eeg1', password: 'tls-pass' });
    clients.push(device);
    expect((device.stream as unknown as { encrypted?: boolean }).encrypted).toBe(true);
    await device.publishAsync('cfstream/eeg1/frames', 'over tls', { qos: 1 });
    await waitFor(() => got.includes('over tls'), 'the TLS message on TCP');
    expect(await connectError(broker.tlsUrl!, { ca: server.certPem, username: 'eeg1', password: 'nope' })).toMatchObject({ code: 4 });
  });

  it('is refused by a client that does not trust the certificate', async () => {
    broker = await startBroker({ port: 0, wsPort: false, tls: { key: server.key, cert: server.cert, port: 0 } });
    const err = await connectError(broker.tlsUrl!, { ca: stranger.certPem });
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/self[- ]signed|unable to verify|certificate/i);
  });

  it('does not speak MQTT in the clear on the TLS port: a plain CONNECT gets no CONNACK and is closed', async () => {
    broker = await startBroker({ port: 0, wsPort: false, tls: { key: server.key, cert: server.cert, port: 0 } });
    const socket = new Socket();
    const received: Buffer[] = [];
    socket.on('data', (d: Buffer) => received.push(d));
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise<void>((resolve) => socket.connect(broker!.tlsPort!, '127.0.0.1', resolve));
    const id = Buffer.from('plain');
    const body = Buffer.concat([Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c, 0x00, id.length]), id]);
    socket.write(Buffer.concat([Buffer.from([0x10, body.length]), body]));
    await closed;
    const reply = Buffer.concat(received);
    expect(reply[0]).not.toBe(0x20); // not a CONNACK (a TLS alert, if anything: 0x15)
    expect(broker.clients()).toBe(0);
    // And mqtt.js over plain TCP to the TLS port never gets connected.
    expect(await connectError(`mqtt://127.0.0.1:${broker.tlsPort}`, { connectTimeout: 2000 })).not.toBe('connected');
  });

  it('with requestCert, demands a client certificate signed by ca', async () => {
    broker = await startBroker({ port: 0, wsPort: false, tls: { key: server.key, cert: server.cert, ca: client.cert, requestCert: true, port: 0 } });
    expect(await connectError(broker.tlsUrl!, { ca: server.certPem })).not.toBe('connected');
    expect(await connectError(broker.tlsUrl!, { ca: server.certPem, key: stranger.keyPem, cert: stranger.certPem })).not.toBe('connected');
    expect(await connectError(broker.tlsUrl!, { ca: server.certPem, key: client.keyPem, cert: client.certPem })).toBe('connected');
  });

  it('serves wss:// with PEM text given inline, alongside plain ws://', async () => {
    broker = await startBroker({ port: 0, wsPort: 0, tls: { key: server.keyPem, cert: server.certPem, port: 0, wsPort: 0 } });
    expect(broker.wssUrl).toBe(`wss://127.0.0.1:${broker.wssPort}/mqtt`);
    const sub = await rawSubscriber(broker.wsUrl!, 'a/#');
    const pub = await connect(broker.wssUrl!, { ca: server.certPem });
    clients.push(pub);
    await pub.publishAsync('a/wss', 'secure websocket', { qos: 1 });
    await waitFor(() => sub.texts('a/wss').length === 1, 'the wss message on ws');
    await sub.end();
  });

  it('refuses a key that is not one, without quoting it', async () => {
    const fake = '-----BEGIN PRIVATE KEY-----\nTm90QUtleUF0QWxsMTIzNDU2Nzg5MA==\n-----END PRIVATE KEY-----\n';
    const err = await startBroker({ port: 0, wsPort: false, tls: { key: fake, cert: server.cert } }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect((err as InvalidOptionError).option).toBe('tls');
    expect((err as Error).message).not.toContain('Tm90QUtleUF0QWxs');
  });
});
