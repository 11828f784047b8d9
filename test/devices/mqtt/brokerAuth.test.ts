/**
 * Broker access control: secret hashes (format, constant-time check, cost bounds), users from
 * config and environment, the topic ACL of each role as pure functions and on a running broker
 * (refusals counted with their reason, never with a secret), and `cfstream run`'s outputs that
 * log in as a pipeline user without ever logging a password or hash.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { NEVER } from 'rxjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startBroker, type EmbeddedBroker } from '../../../devices/mqtt/broker.js';
import {
  BROKER_USERS_ENV, brokerUsersFromEnv, canPublish, canSubscribe, DEFAULT_SECRET_HASH_OPTIONS, hashSecret, hashSecretSync,
  isSecretHash, parseBrokerUsers, resolveBrokerUsers, verifySecret, type BrokerPrincipal, type BrokerRefusal,
} from '../../../devices/mqtt/brokerAuth.js';
import { parsePipelineConfig } from '../../../pipelines/config.js';
import { startOutputs } from '../../../src/cli/outputs.js';
import { InvalidOptionError } from '../../../src/errors.js';
import { waitFor } from './helpers.js';

const HASH_FORM = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

describe('hashSecret / verifySecret', () => {
  it('documents its defaults: scrypt N 2^14, r 8, p 1, 16-byte salt, 32-byte key', () => {
    expect(DEFAULT_SECRET_HASH_OPTIONS).toEqual({ N: 16384, r: 8, p: 1, saltBytes: 16, keyBytes: 32 });
  });

  it('writes scrypt$N$r$p$salt$key, salted (two hashes of one secret differ), and verifies only the right secret', async () => {
    const a = await hashSecret('correct horse');
    const b = hashSecretSync('correct horse');
    const m = HASH_FORM.exec(a)!;
    expect(m.slice(1, 4)).toEqual(['16384', '8', '1']);
    expect(Buffer.from(m[4]!, 'base64')).toHaveLength(16);
    expect(Buffer.from(m[5]!, 'base64')).toHaveLength(32);
    expect(a).not.toBe(b);
    expect(a).not.toContain('correct horse');
    for (const h of [a, b]) {
      expect(await verifySecret('correct horse', h)).toBe(true);
      expect(await verifySecret(Buffer.from('correct horse'), h)).toBe(true);
      expect(await verifySecret('correct hors', h)).toBe(false);
      expect(await verifySecret('correct horsE', h)).toBe(false);
      expect(await verifySecret('', h)).toBe(false);
    }
  });

  it('takes cost options, records them in the hash, and refuses ones out of range', async () => {
    const h = await hashSecret('x', { N: 1024, r: 4, saltBytes: 8, keyBytes: 16 });
    expect(HASH_FORM.exec(h)!.slice(1, 4)).toEqual(['1024', '4', '1']);
    expect(await verifySecret('x', h)).toBe(true);
    for (const [opts, option] of [[{ N: 1000 }, 'N'], [{ r: 0 }, 'r'], [{ p: 17 }, 'p'], [{ saltBytes: 4 }, 'saltBytes'], [{ keyBytes: 8 }, 'keyBytes']] as const) {
      const err = await hashSecret('x', opts).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidOptionError);
      expect((err as InvalidOptionError).option).toBe(option);
    }
  });

  it('tells hashes from other text, and refuses to verify against a non-hash without quoting it', async () => {
    const h = await hashSecret('x', { N: 1024 });
    expect(isSecretHash(h)).toBe(true);
    for (const bad of ['', 'hunter2', h.replace('scrypt', 'bcrypt'), h.replace('$1024$', '$1000$'), h.replace('$1024$', '$4194304$'), `${h}$x`, h.slice(0, -30), 42]) {
      expect(isSecretHash(bad), String(bad)).toBe(false);
    }
    const err = await verifySecret('x', 'hunter2').then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect((err as Error).message).not.toContain('hunter2');
  });
});

describe('the topic ACL (canPublish, canSubscribe)', () => {
  const who = (role: BrokerPrincipal['role'], streams?: string[]): BrokerPrincipal => ({ name: 'u', role, streams });
  const P = 'cfstream';

  it.each([
    // role, streams, topic, allowed
    ['device', ['eeg1'], 'cfstream/eeg1/frames', true],
    ['device', ['eeg1'], 'cfstream/eeg1/info', true],
    ['device', ['eeg1'], 'cfstream/eeg1/factors', false],
    ['device', ['eeg1'], 'cfstream/eeg1/status', false],
    ['device', ['eeg1'], 'cfstream/eeg2/frames', false],
    ['device', ['eeg1'], 'cfstream/eeg1/frames/x', false],
    ['device', ['eeg1'], 'other/eeg1/frames', false],
    ['device', ['eeg1'], 'cfstreamX/eeg1/frames', false],
    ['device', ['eeg1', 'eeg2'], 'cfstream/eeg2/frames', true],
    ['pipeline', undefined, 'cfstream/any/factors', true],
    ['pipeline', undefined, 'cfstream/any/status', true],
    ['pipeline', undefined, 'cfstream/any/activations', true],
    ['pipeline', undefined, 'cfstream/any/frames', false],
    ['pipeline', undefined, 'elsewhere/x', false],
    ['pipeline', ['a'], 'cfstream/b/factors', false],
    ['viewer', undefined, 'cfstream/eeg1/info', false],
    ['admin', undefined, 'anything/at/all', true],
  ] as const)('%s %j publishing to %s: %s', (role, streams, topic, allowed) => {
    expect(canPublish(who(role, streams ? [...streams] : undefined), topic, P)).toBe(allowed);
  });

  it.each([
    ['device', ['eeg1'], 'cfstream/eeg1/#', true],
    ['device', ['eeg1'], 'cfstream/eeg1/factors', true],
    ['device', ['eeg1'], 'cfstream/eeg1', true],
    ['device', ['eeg1'], 'cfstream/eeg2/#', false],
    ['device', ['eeg1'], 'cfstream/+/frames', false],
    ['device', ['eeg1'], 'cfstream/#', false],
    ['device', ['eeg1'], '#', false],
    ['device', ['eeg1'], 'cfstream/eeg10/#', false],
    ['device', ['eeg1'], '$share/g/cfstream/eeg2/#', false],
    ['pipeline', undefined, '#', true],
    ['pipeline', ['a'], 'cfstream/b/#', false],
    ['viewer', undefined, 'cfstream/#', true],
    ['viewer', undefined, 'cfstream/+/factors', true],
    ['viewer', undefined, '#', false],
    ['viewer', undefined, '$SYS/#', false],
    ['viewer', ['a'], 'cfstream/b/factors', false],
    ['admin', undefined, '$SYS/#', true],
  ] as const)('%s %j subscribing to %s: %s', (role, streams, filter, allowed) => {
    expect(canSubscribe(who(role, streams ? [...streams] : undefined), filter, P)).toBe(allowed);
  });

  it('applies a multi-level prefix literally', () => {
    expect(canPublish(who('device', ['e']), 'site/a/e/frames', 'site/a')).toBe(true);
    expect(canPublish(who('device', ['e']), 'site/b/e/frames', 'site/a')).toBe(false);
    expect(canSubscribe(who('viewer'), 'site/+/e/#', 'site/a')).toBe(false);
  });
});

describe('users from config and environment', () => {
  let hash: string;
  beforeAll(async () => {
    hash = await hashSecret('s3cret', { N: 1024 });
  });

  it('resolveBrokerUsers hashes plain passwords and keeps no plain text; a device streams under its own name', async () => {
    const users = await resolveBrokerUsers([
      { name: 'eeg1', role: 'device', password: 'plain-pass' },
      { name: 'pipe', role: 'pipeline', passwordHash: hash },
      { name: 'multi', role: 'device', passwordHash: hash, streams: ['a', 'b'] },
    ]);
    expect(users.map((u) => [u.name, u.role, u.streams])).toEqual([['eeg1', 'device', ['eeg1']], ['pipe', 'pipeline', undefined], ['multi', 'device', ['a', 'b']]]);
    expect(JSON.stringify(users)).not.toContain('plain-pass');
    expect(users.every((u) => !('password' in u))).toBe(true);
    expect(await verifySecret('plain-pass', users[0]!.passwordHash)).toBe(true);
    expect(users[1]!.passwordHash).toBe(hash);
  });

  it.each([
    [[{ name: 'a', role: 'device', password: 'p1' }, { name: 'a', role: 'viewer', password: 'p2' }], 'users[1].name'],
    [[{ name: 'a/b', role: 'device', password: 'p1' }], "users[0].name (a device's default stream; or give streams)"],
    [[{ name: 'a', role: 'device', password: 'p1', streams: ['x/#'] }], 'users[0].streams[0]'],
    [[{ name: 'a', role: 'device', password: 'topsecret', passwordHash: 'topsecret' }], 'users[0].passwordHash'],
    [[{ name: 'a', role: 'device', passwordHash: 'topsecret' }], 'users[0].passwordHash'],
    [[{ name: 'a b', role: 'device', password: 'p1' }], 'users[0].name'],
    [[{ name: 'a', role: 'device', password: 'p1', extra: 1 }], 'users[0].extra'],
  ])('refuses %j naming %s, without quoting a secret', async (users, option) => {
    const err = await resolveBrokerUsers(users as never).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect((err as InvalidOptionError).option).toBe(option);
    expect((err as Error).message).not.toMatch(/topsecret|p1/);
  });

  it(`parses ${BROKER_USERS_ENV}: name:role:hash[:streams], split by ';' or whitespace`, () => {
    const users = parseBrokerUsers(`eeg1:device:${hash};  pipe:pipeline:${hash}\n multi:device:${hash}:a,b `);
    expect(users).toEqual([
      { name: 'eeg1', role: 'device', passwordHash: hash },
      { name: 'pipe', role: 'pipeline', passwordHash: hash },
      { name: 'multi', role: 'device', passwordHash: hash, streams: ['a', 'b'] },
    ]);
    expect(parseBrokerUsers('  ')).toEqual([]);
  });

  it.each([
    ['eeg1:device', /entry 1 \(user 'eeg1'\).*name:role:passwordHash/],
    ['eeg1:king:HASH', /entry 1 \(user 'eeg1'\) role.*one of device, pipeline, viewer, admin/],
    ['ok:device:HASH;eeg2:device:plaintextpw', /entry 2 \(user 'eeg2'\) passwordHash.*scrypt\$N\$r\$p/],
    ['eeg1:device:HASH:a/b', /entry 1.*streams\[0\]/],
  ])('refuses %s naming the entry, never quoting the hash or password', (text, message) => {
    const err = (() => { try { parseBrokerUsers(text.replace(/HASH/g, hash)); } catch (e) { return e as Error; } return undefined; })();
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect(err!.message).toMatch(message);
    expect(err!.message).not.toContain(hash);
    expect(err!.message).not.toContain('plaintextpw');
    expect(err!.message).toMatch(new RegExp(BROKER_USERS_ENV));
  });

  it('brokerUsersFromEnv: the list plus one admin from CFSTREAM_BROKER_PASSWORD (user CFSTREAM_BROKER_USERNAME, default admin)', () => {
    expect(brokerUsersFromEnv({})).toEqual([]);
    expect(brokerUsersFromEnv({ [BROKER_USERS_ENV]: `eeg1:device:${hash}`, CFSTREAM_BROKER_PASSWORD: 'pw' })).toEqual([
      { name: 'eeg1', role: 'device', passwordHash: hash },
      { name: 'admin', role: 'admin', password: 'pw' },
    ]);
    expect(brokerUsersFromEnv({ CFSTREAM_BROKER_PASSWORD: 'pw', CFSTREAM_BROKER_USERNAME: 'ops' })).toEqual([{ name: 'ops', role: 'admin', password: 'pw' }]);
  });
});

// ---------------------------------------------------------------------------------------------
// A running broker with one user of each role.

const SECRETS = { eeg1: 'eeg1-pass-Xq7', eeg2: 'eeg2-pass-Lm3', pipe: 'pipe-pass-Zr9', dash: 'dash-pass-Tk2', root: 'root-pass-Wv5' };

async function login(url: string, username?: keyof typeof SECRETS | string, password?: string, clientId?: string): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, {
    protocolVersion: 4, reconnectPeriod: 0, clientId: clientId ?? `t_${Math.random().toString(16).slice(2, 10)}`,
    ...(username !== undefined ? { username, password: password ?? SECRETS[username as keyof typeof SECRETS] } : {}),
  });
  client.on('error', () => undefined);
  return client;
}

/** The CONNACK return code of a refused login, or 'accepted'. */
async function loginResult(url: string, username?: string, password?: string, clientId?: string): Promise<number | 'accepted'> {
  try {
    const c = await login(url, username, password, clientId);
    await c.endAsync(true);
    return 'accepted';
  } catch (e) {
    return (e as { code?: number }).code ?? -1;
  }
}

/** The SUBACK return codes for `filters` (mqtt.js rejects when one is 0x80: the codes are on the error). */
async function grants(client: MqttClient, filters: string[], qos: 0 | 1): Promise<number[]> {
  try {
    return (await client.subscribeAsync(filters, { qos })).map((g) => g.qos);
  } catch (e) {
    const granted = (e as { packet?: { granted?: number[] } }).packet?.granted;
    if (!granted) throw e;
    return granted;
  }
}

/** Collects what a client receives. */
function inbox(client: MqttClient): { topic: string; text: string }[] {
  const got: { topic: string; text: string }[] = [];
  client.on('message', (topic, payload) => got.push({ topic, text: payload.toString() }));
  return got;
}

/** Publishes at QoS 0 and resolves when the broker closes the connection. */
function publishRefused(client: MqttClient, topic: string, payload = 'x'): Promise<void> {
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  client.publish(topic, payload, { qos: 0 });
  return closed;
}

describe('startBroker with users: logins and the ACL', () => {
  let broker: EmbeddedBroker | undefined;
  let refusals: BrokerRefusal[] = [];
  const clients: MqttClient[] = [];
  const keep = (c: MqttClient) => (clients.push(c), c);
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.endAsync(true).catch(() => undefined);
    await broker?.close();
    broker = undefined;
  });

  async function start(extra: Parameters<typeof startBroker>[0] = {}): Promise<EmbeddedBroker> {
    const h = (s: string) => hashSecret(s, { N: 1024 });
    broker = await startBroker({
      port: 0, wsPort: false, ...extra,
      users: [
        { name: 'eeg1', role: 'device', passwordHash: await h(SECRETS.eeg1) },
        { name: 'eeg2', role: 'device', passwordHash: await h(SECRETS.eeg2) },
        { name: 'pipe', role: 'pipeline', passwordHash: await h(SECRETS.pipe) },
        { name: 'dash', role: 'viewer', passwordHash: await h(SECRETS.dash) },
        { name: 'root', role: 'admin', password: SECRETS.root }, // plain: hashed at start
      ],
    });
    refusals = [];
    broker.refusals$.subscribe((r) => refusals.push(r));
    return broker;
  }

  it('needs a login: a wrong password or unknown user is 4, none is 5; the right one gets in', async () => {
    const b = await start();
    expect(b.requiresLogin).toBe(true);
    expect(await loginResult(b.url, 'eeg1', 'wrong')).toBe(4);
    expect(await loginResult(b.url, 'nobody', 'whatever')).toBe(4);
    expect(await loginResult(b.url, 'eeg1', SECRETS.eeg2)).toBe(4);
    expect(await loginResult(b.url)).toBe(5);
    expect(await loginResult(b.url, 'root')).toBe('accepted');
    expect(await loginResult(b.url, 'eeg1')).toBe('accepted');
    expect(b.stats()).toMatchObject({ connect: 4, byReason: { 'bad-credentials': 3, 'no-credentials': 1 } });
    expect(refusals.map((r) => [r.type, r.reason, r.user])).toEqual([
      ['connect', 'bad-credentials', 'eeg1'], ['connect', 'bad-credentials', 'nobody'], ['connect', 'bad-credentials', 'eeg1'], ['connect', 'no-credentials', undefined],
    ]);
    const all = JSON.stringify(refusals);
    for (const s of [...Object.values(SECRETS), 'wrong', 'whatever']) expect(all).not.toContain(s);
  });

  it('a device publishes its own frames and info only; anything else closes it and is counted', async () => {
    const b = await start();
    const pipe = keep(await login(b.url, 'pipe'));
    const seen = inbox(pipe);
    await pipe.subscribeAsync('#', { qos: 1 });
    const eeg1 = keep(await login(b.url, 'eeg1'));
    await eeg1.publishAsync('cfstream/eeg1/info', '{"id":"eeg1"}', { qos: 1 });
    await eeg1.publishAsync('cfstream/eeg1/frames', 'f1', { qos: 1 });
    await waitFor(() => seen.length === 2, 'the device messages');
    await publishRefused(eeg1, 'cfstream/eeg2/frames', 'spoofed');
    const again = keep(await login(b.url, 'eeg1'));
    await publishRefused(again, 'cfstream/eeg1/factors', 'not a device topic');
    const sys = keep(await login(b.url, 'root'));
    await publishRefused(sys, '$SYS/fake', 'x');
    const eeg2 = keep(await login(b.url, 'eeg2'));
    await eeg2.publishAsync('cfstream/eeg2/frames', 'real', { qos: 1 });
    await waitFor(() => seen.some((m) => m.text === 'real'), 'eeg2 frames');
    expect(seen.map((m) => m.topic)).toEqual(['cfstream/eeg1/info', 'cfstream/eeg1/frames', 'cfstream/eeg2/frames']);
    expect(b.stats()).toMatchObject({ publish: 3, byReason: { acl: 2, 'reserved-topic': 1 } });
    expect(refusals.map((r) => [r.reason, r.user, r.topic])).toEqual([
      ['acl', 'eeg1', 'cfstream/eeg2/frames'], ['acl', 'eeg1', 'cfstream/eeg1/factors'], ['reserved-topic', 'root', '$SYS/fake'],
    ]);
    expect(refusals[0]!.message).toMatch(/publish to cfstream\/eeg2\/frames refused: not allowed for user 'eeg1' \(role device\)/);
  });

  it("subscriptions outside a user's streams get SUBACK 0x80 and the connection stays", async () => {
    const b = await start();
    const eeg1 = keep(await login(b.url, 'eeg1'));
    expect(await grants(eeg1, ['cfstream/eeg1/#', 'cfstream/eeg2/#', '#', 'cfstream/+/frames'], 1)).toEqual([1, 128, 128, 128]);
    const dash = keep(await login(b.url, 'dash'));
    expect(await grants(dash, ['cfstream/#', '#'], 0)).toEqual([0, 128]);
    expect(eeg1.connected && dash.connected).toBe(true);
    expect(b.stats()).toMatchObject({ subscribe: 4, publish: 0, byReason: { acl: 4 } });
  });

  it('a pipeline publishes results, not frames; a viewer publishes nothing', async () => {
    const b = await start();
    const dash = keep(await login(b.url, 'dash'));
    const seen = inbox(dash);
    await dash.subscribeAsync('cfstream/#', { qos: 1 });
    const pipe = keep(await login(b.url, 'pipe'));
    for (const t of ['info', 'status', 'factors', 'metrics', 'activations']) await pipe.publishAsync(`cfstream/eeg1/${t}`, t, { qos: 1 });
    await waitFor(() => seen.length === 5, 'the results');
    await publishRefused(pipe, 'cfstream/eeg1/frames');
    await publishRefused(dash, 'cfstream/eeg1/info');
    expect(refusals.map((r) => [r.reason, r.user, r.topic])).toEqual([['acl', 'pipe', 'cfstream/eeg1/frames'], ['acl', 'dash', 'cfstream/eeg1/info']]);
  });

  it("anonymousRole 'viewer': no login needed to subscribe under the prefix, and nothing more", async () => {
    const b = await start({ anonymousRole: 'viewer' });
    const anon = keep(await login(b.url));
    expect(await grants(anon, ['cfstream/eeg1/factors', 'elsewhere/#'], 0)).toEqual([0, 128]);
    await publishRefused(anon, 'cfstream/eeg1/info');
    expect(refusals.map((r) => [r.type, r.reason, r.user])).toEqual([['subscribe', 'acl', undefined], ['publish', 'acl', undefined]]);
    expect(await loginResult(b.url, 'eeg1', 'wrong')).toBe(4); // a bad login is still refused
  });

  it("another user cannot take over a connected client's id (2); the same user can", async () => {
    const b = await start();
    const first = keep(await login(b.url, 'eeg1', undefined, 'device-eeg1'));
    expect(await loginResult(b.url, 'eeg2', undefined, 'device-eeg1')).toBe(2);
    expect(first.connected).toBe(true);
    expect(refusals.at(-1)).toMatchObject({ type: 'connect', reason: 'client-id-taken', clientId: 'device-eeg1', user: 'eeg2' });
    const closed = new Promise<void>((resolve) => first.once('close', () => resolve()));
    keep(await login(b.url, 'eeg1', undefined, 'device-eeg1'));
    await closed; // taken over by its own user, as MQTT says
  });
});

// ---------------------------------------------------------------------------------------------
// cfstream run's outputs: the publisher's login, and nothing secret in the log.

describe('startOutputs with an embedded broker that requires a login', () => {
  const STREAM = 'version: 1\nstream: { id: sim, kind: raw, n: 4, rate: 10 }\nstages:\n  - type: validate\n';
  const info = { id: 'sim', kind: 'raw' as const, n: 4, rate: 10 };
  let running: Awaited<ReturnType<typeof startOutputs>> | undefined;
  let spies: { mockRestore(): void }[] = [];
  afterEach(async () => {
    await running?.close();
    running = undefined;
    for (const s of spies.splice(0)) s.mockRestore();
    vi.unstubAllEnvs();
  });

  /** Starts the outputs of `yaml`, with every log line and every stdout/stderr write captured. */
  async function run(yaml: string): Promise<{ lines: string[]; url: string }> {
    const config = parsePipelineConfig(STREAM + yaml);
    const lines: string[] = [];
    const capture = (chunk: unknown) => { lines.push(String(chunk)); return true; };
    spies = [vi.spyOn(process.stdout, 'write').mockImplementation(capture), vi.spyOn(process.stderr, 'write').mockImplementation(capture)];
    try {
      running = await startOutputs({ outputs: config.outputs, headless: true, info, factors$: NEVER, metrics$: NEVER, log: (l) => lines.push(l) });
    } finally {
      for (const s of spies.splice(0)) s.mockRestore();
    }
    return { lines, url: running.brokerUrl! };
  }

  /** The results the publisher sent, as a viewer sees them. */
  async function statusSeenBy(url: string, user: string, password: string): Promise<string | undefined> {
    const c = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, username: user, password });
    const seen = inbox(c);
    await c.subscribeAsync('cfstream/sim/status', { qos: 1 });
    await waitFor(() => seen.length > 0, 'the retained status');
    await c.endAsync(true);
    return seen[0]?.text;
  }

  it('logs in as outputs.mqtt.username (a pipeline user); no password or hash reaches the log', async () => {
    const pipeSecret = 'Pipe-Secret-8c1f';
    const viewerHash = await hashSecret('Viewer-Secret-2b7e', { N: 1024 });
    const { lines, url } = await run([
      'outputs:',
      `  mqtt: { broker: embedded, username: pipe, password: ${pipeSecret} }`,
      '  broker:',
      '    port: 0',
      '    users:',
      `      - { name: pipe, role: pipeline, password: ${pipeSecret} }`,
      `      - { name: dash, role: viewer, passwordHash: "${viewerHash}" }`,
    ].join('\n'));
    expect(lines.join('\n')).toMatch(/MQTT broker \(embedded\): mqtt:\/\/127\.0\.0\.1:\d+/);
    expect(lines.join('\n')).toMatch(/broker login required \(users: 2 from outputs\.broker\.users\); results published as user 'pipe'/);
    expect(await statusSeenBy(url, 'dash', 'Viewer-Secret-2b7e')).toBe('online');
    const all = lines.join('\n');
    expect(all).not.toContain(pipeSecret);
    expect(all).not.toContain('Viewer-Secret-2b7e');
    expect(all).not.toContain(viewerHash);
    expect(all).not.toMatch(/scrypt\$/);
  });

  it('without outputs.mqtt.username it logs in as an internal pipeline user; env users count too, their hashes unlogged', async () => {
    const envHash = await hashSecret('Env-Viewer-9d3a', { N: 1024 });
    vi.stubEnv(BROKER_USERS_ENV, `dash:viewer:${envHash}`);
    vi.stubEnv('CFSTREAM_BROKER_PASSWORD', 'Env-Admin-4e6b');
    const { lines, url } = await run('outputs:\n  mqtt: { broker: embedded }\n  broker: { port: 0 }\n');
    expect(lines.join('\n')).toMatch(/broker login required \(users: 2 from the environment\); results published as an internal pipeline user/);
    expect(await statusSeenBy(url, 'dash', 'Env-Viewer-9d3a')).toBe('online');
    expect(await statusSeenBy(url, 'admin', 'Env-Admin-4e6b')).toBe('online');
    const all = lines.join('\n');
    for (const s of [envHash, 'Env-Viewer-9d3a', 'Env-Admin-4e6b']) expect(all).not.toContain(s);
    expect(all).not.toMatch(/scrypt\$/);
  });

  it('a wrong outputs.mqtt.password or a non-pipeline user fails at start-up, naming the user but not the password', async () => {
    const h = await hashSecret('Right-Pass-1a2b', { N: 1024 });
    const broker = (user: string, role: string) => `  broker: { port: 0, users: [{ name: ${user}, role: ${role}, passwordHash: "${h}" }] }`;
    const fail = (yaml: string) => run(yaml).then(() => undefined, (e: unknown) => e as Error);
    const wrong = await fail(`outputs:\n  mqtt: { broker: embedded, username: pipe, password: Wrong-Pass-3c4d }\n${broker('pipe', 'pipeline')}\n`);
    expect(wrong?.message).toMatch(/outputs\.mqtt\.username 'pipe': outputs\.mqtt\.password does not match/);
    expect(wrong?.message).not.toContain('Wrong-Pass-3c4d');
    expect(wrong?.message).not.toContain(h);
    const device = await fail(`outputs:\n  mqtt: { broker: embedded, username: eeg1, password: Right-Pass-1a2b }\n${broker('eeg1', 'device')}\n`);
    expect(device?.message).toMatch(/has role device: the results publisher needs role pipeline/);
    const missing = await fail(`outputs:\n  mqtt: { broker: embedded, username: ghost, password: x }\n${broker('pipe', 'pipeline')}\n`);
    expect(missing?.message).toMatch(/'ghost' is not a user of the embedded broker/);
  });
});
