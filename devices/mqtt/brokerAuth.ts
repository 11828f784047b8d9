/**
 * Who may use the embedded broker, and for what: hashed secrets, users and their roles, the topic
 * ACL, and the aedes hooks (`authenticate`, `authorizePublish`, `authorizeSubscribe`) that apply
 * them and count every refusal.
 *
 * ```
 * secret hash   scrypt$<N>$<r>$<p>$<salt, base64>$<key, base64>      (cfstream hash-secret)
 * env           CFSTREAM_BROKER_USERS='name:role:hash[:stream,stream] …'   (entries split by ';' or whitespace)
 *               CFSTREAM_BROKER_PASSWORD=<plain>  [CFSTREAM_BROKER_USERNAME=admin]  → one admin user
 *
 * role       publish                                            subscribe
 * device     <prefix>/<s>/frames, <prefix>/<s>/info, s ∈ streams  filters under <prefix>/<s>, s ∈ streams
 *            (streams: default [its own name])
 * pipeline   <prefix>/<s>/{info,status,factors,metrics,activations} anything (or under its streams)
 * viewer     nothing                                            filters under <prefix> (or its streams)
 * admin      anything                                           anything
 * every role: no publish to $SYS/…, no payload over maxPayloadBytes
 * ```
 *
 * MQTT 3.1.1 cannot refuse one PUBLISH: aedes closes the connection of a client whose publish is
 * refused (MQTT-3.3.5-2); a refused subscription gets SUBACK 0x80 and the connection stays.
 * Secrets never appear in errors, events or stats: only user names, client ids and topics do.
 */
import { randomBytes, scrypt, scryptSync, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { AedesOptions, Client } from 'aedes';
import { Subject, type Observable } from 'rxjs';
import { InvalidOptionError } from '../../src/errors.js';
import { checkTopicPart } from './topics.js';

/** Bytes a PUBLISH needs besides its payload in MQTT 3.1.1: topic length (2), the longest topic (65535), packet id (2). */
export const PUBLISH_HEADER_ROOM = 2 + 65535 + 2;

/** The largest `maxPayloadBytes`: the most an MQTT packet holds (remaining length 268435455) less `PUBLISH_HEADER_ROOM`. */
export const MAX_PAYLOAD_BYTES_LIMIT = 268_435_455 - PUBLISH_HEADER_ROOM;

// ---------------------------------------------------------------------------------------------
// Secrets.

/** Cost parameters of `hashSecret`. */
export interface SecretHashOptions {
  /** 16384 (2^14). scrypt CPU/memory cost N, a power of 2 in [2, 2^20]; memory is 128·N·r bytes (16 MiB). */
  N?: number;
  /** 8. scrypt block size r, in [1, 64]. */
  r?: number;
  /** 1. scrypt parallelization p, in [1, 16]. */
  p?: number;
  /** 16. Random salt length in bytes, in [8, 64]. */
  saltBytes?: number;
  /** 32. Derived key length in bytes, in [16, 64]. */
  keyBytes?: number;
}

/** The documented defaults of `SecretHashOptions`. */
export const DEFAULT_SECRET_HASH_OPTIONS = Object.freeze({ N: 16384, r: 8, p: 1, saltBytes: 16, keyBytes: 32 });

/** The form of a secret hash, for messages. */
export const SECRET_HASH_FORM = 'scrypt$N$r$p$<salt base64>$<key base64> (from cfstream hash-secret)';

interface ParsedHash { N: number; r: number; p: number; salt: Buffer; key: Buffer }

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

function parseHash(hash: unknown): ParsedHash | undefined {
  if (typeof hash !== 'string') return undefined;
  const parts = hash.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt' || !parts.slice(1, 4).every((s) => /^\d{1,8}$/.test(s))) return undefined;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (!B64.test(parts[4]!) || !B64.test(parts[5]!)) return undefined;
  const salt = Buffer.from(parts[4]!, 'base64');
  const key = Buffer.from(parts[5]!, 'base64');
  const ok = checkCost({ N, r, p, saltBytes: salt.length, keyBytes: key.length }) === undefined;
  return ok ? { N, r, p, salt, key } : undefined;
}

/** The first cost parameter out of range, as [name, allowed], or undefined. */
function checkCost(o: Required<SecretHashOptions>): [keyof SecretHashOptions, string] | undefined {
  const int = (v: number, lo: number, hi: number) => Number.isInteger(v) && v >= lo && v <= hi;
  if (!int(o.N, 2, 2 ** 20) || (o.N & (o.N - 1)) !== 0) return ['N', 'a power of 2 in [2, 1048576]'];
  if (!int(o.r, 1, 64)) return ['r', 'an integer in [1, 64]'];
  if (!int(o.p, 1, 16)) return ['p', 'an integer in [1, 16]'];
  if (!int(o.saltBytes, 8, 64)) return ['saltBytes', 'an integer in [8, 64]'];
  if (!int(o.keyBytes, 16, 64)) return ['keyBytes', 'an integer in [16, 64]'];
  return undefined;
}

function scryptParams(h: { N: number; r: number; p: number }): ScryptOptions {
  return { N: h.N, r: h.r, p: h.p, maxmem: 256 * h.N * h.r * h.p + 1024 * 1024 };
}

function resolveCost(options: SecretHashOptions, owner: string): Required<SecretHashOptions> {
  const o = { ...DEFAULT_SECRET_HASH_OPTIONS, ...Object.fromEntries(Object.entries(options ?? {}).filter(([, v]) => v !== undefined)) };
  const bad = checkCost(o);
  if (bad) throw new InvalidOptionError(owner, bad[0], bad[1], o[bad[0]]);
  return o;
}

function format(o: Required<SecretHashOptions>, salt: Buffer, key: Buffer): string {
  return `scrypt$${o.N}$${o.r}$${o.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

function checkPlain(plain: unknown, owner: string): asserts plain is string | Uint8Array {
  if (typeof plain !== 'string' && !(plain instanceof Uint8Array)) throw new InvalidOptionError(owner, 'secret', 'a string or bytes', `(a ${typeof plain}; not shown)`);
}

/** Hashes a secret with scrypt and a random salt into `scrypt$N$r$p$salt$key` (off the main thread). */
export async function hashSecret(plain: string | Uint8Array, options: SecretHashOptions = {}): Promise<string> {
  checkPlain(plain, 'hashSecret');
  const o = resolveCost(options, 'hashSecret');
  const salt = randomBytes(o.saltBytes);
  const key = await new Promise<Buffer>((resolve, reject) => scrypt(plain, salt, o.keyBytes, scryptParams(o), (e, k) => (e ? reject(e) : resolve(k))));
  return format(o, salt, key);
}

/** `hashSecret`, blocking (for config loading). */
export function hashSecretSync(plain: string | Uint8Array, options: SecretHashOptions = {}): string {
  checkPlain(plain, 'hashSecretSync');
  const o = resolveCost(options, 'hashSecretSync');
  const salt = randomBytes(o.saltBytes);
  return format(o, salt, scryptSync(plain, salt, o.keyBytes, scryptParams(o)));
}

/** True for a well-formed `scrypt$N$r$p$salt$key` string with parameters in range. */
export function isSecretHash(hash: unknown): hash is string {
  return parseHash(hash) !== undefined;
}

/**
 * Checks a secret against a hash from `hashSecret`, comparing in constant time.
 * @throws InvalidOptionError when `hash` is not a secret hash (its text is not shown)
 */
export async function verifySecret(plain: string | Uint8Array, hash: string): Promise<boolean> {
  checkPlain(plain, 'verifySecret');
  const h = parseHash(hash);
  if (!h) throw new InvalidOptionError('verifySecret', 'hash', SECRET_HASH_FORM, '(not a secret hash; not shown)');
  const key = await new Promise<Buffer>((resolve, reject) => scrypt(plain, h.salt, h.key.length, scryptParams(h), (e, k) => (e ? reject(e) : resolve(k))));
  return timingSafeEqual(key, h.key);
}

// ---------------------------------------------------------------------------------------------
// Users.

/** The roles of broker users (module header). */
export const BROKER_ROLES = Object.freeze(['device', 'pipeline', 'viewer', 'admin'] as const);

/** A role: what a user may publish and subscribe to (module header). */
export type BrokerRole = (typeof BROKER_ROLES)[number];

/** A broker user, as configured. Exactly one of `password` and `passwordHash`. */
export interface BrokerUser {
  /** Required. The MQTT user name (non-empty, no ':' or whitespace). */
  name: string;
  /** Required. See `BrokerRole`. */
  role: BrokerRole;
  /** A hash from `hashSecret` / `cfstream hash-secret` (preferred). */
  passwordHash?: string;
  /** A plain password: hashed when the broker starts; the broker keeps only the hash. */
  password?: string;
  /** device: [name]; others: every stream. The stream topic levels (`<prefix>/<stream>/…`) the user is limited to. */
  streams?: readonly string[];
}

/** A checked user: the plain password is gone. */
export interface ResolvedBrokerUser {
  readonly name: string;
  readonly role: BrokerRole;
  readonly passwordHash: string;
  /** undefined: every stream. */
  readonly streams: readonly string[] | undefined;
}

const NOT_SHOWN = '(not shown: a secret)';

/**
 * Checks users and hashes their plain passwords (off the main thread); names must be unique.
 * @throws InvalidOptionError naming `<owner>` and `users[i].<field>`; secrets are never quoted
 */
export async function resolveBrokerUsers(users: readonly BrokerUser[], owner = 'brokerUsers'): Promise<ResolvedBrokerUser[]> {
  const checked = checkUsers(users, owner);
  return Promise.all(checked.map(async ({ user: { password, ...user }, hash }) => Object.freeze({ ...user, passwordHash: hash ?? (await hashSecret(password!)) })));
}

function checkUsers(users: readonly BrokerUser[], owner: string): { user: Omit<ResolvedBrokerUser, 'passwordHash'> & { password?: string }; hash: string | undefined }[] {
  if (!Array.isArray(users)) throw new InvalidOptionError(owner, 'users', 'a list of { name, role, passwordHash | password, streams? }', typeof users);
  const seen = new Set<string>();
  return users.map((u, i) => {
    const at = `users[${i}]`;
    if (typeof u !== 'object' || u === null) throw new InvalidOptionError(owner, at, 'an object { name, role, passwordHash | password, streams? }', typeof u);
    for (const key of Object.keys(u)) {
      if (!['name', 'role', 'password', 'passwordHash', 'streams'].includes(key)) throw new InvalidOptionError(owner, `${at}.${key}`, 'a known field (name, role, password, passwordHash, streams)', key);
    }
    if (typeof u.name !== 'string' || !/^[^\s:]+$/.test(u.name)) throw new InvalidOptionError(owner, `${at}.name`, 'a non-empty user name without whitespace or \':\'', u.name);
    if (seen.has(u.name)) throw new InvalidOptionError(owner, `${at}.name`, 'unique among the users', u.name);
    seen.add(u.name);
    if (!BROKER_ROLES.includes(u.role)) throw new InvalidOptionError(owner, `${at}.role`, `one of ${BROKER_ROLES.join(', ')}`, u.role);
    if ((u.password === undefined) === (u.passwordHash === undefined)) {
      throw new InvalidOptionError(owner, `${at}.passwordHash`, `given, or else password (exactly one of them) for user '${u.name}'`, u.password === undefined ? undefined : NOT_SHOWN);
    }
    if (u.password !== undefined && (typeof u.password !== 'string' || u.password.length === 0)) throw new InvalidOptionError(owner, `${at}.password`, 'a non-empty string', NOT_SHOWN);
    if (u.passwordHash !== undefined && !isSecretHash(u.passwordHash)) throw new InvalidOptionError(owner, `${at}.passwordHash`, SECRET_HASH_FORM, NOT_SHOWN);
    let streams: readonly string[] | undefined;
    if (u.streams !== undefined) {
      if (!Array.isArray(u.streams) || u.streams.length === 0) throw new InvalidOptionError(owner, `${at}.streams`, 'a non-empty list of stream names', u.streams);
      (u.streams as readonly unknown[]).forEach((s, j) => checkTopicPart(owner, `${at}.streams[${j}]`, s, false));
      streams = Object.freeze([...(u.streams as readonly string[])]);
    } else if (u.role === 'device') {
      checkTopicPart(owner, `${at}.name (a device's default stream; or give streams)`, u.name, false);
      streams = Object.freeze([u.name]);
    }
    const user = { name: u.name, role: u.role, streams, ...(u.password !== undefined ? { password: u.password } : {}) };
    return { user, hash: u.passwordHash };
  });
}

/** The environment variable with the broker's users (module header). */
export const BROKER_USERS_ENV = 'CFSTREAM_BROKER_USERS';

/**
 * Parses `name:role:passwordHash[:stream,stream]` entries separated by ';' or whitespace (plain
 * passwords are not accepted here). Errors name the variable and the entry, never the hash.
 */
export function parseBrokerUsers(text: string, source = BROKER_USERS_ENV): BrokerUser[] {
  const entries = text.split(/[;\s]+/).filter((e) => e !== '');
  return entries.map((entry, i) => {
    const parts = entry.split(':');
    const name = parts[0] ?? '';
    const where = `entry ${i + 1}${name ? ` (user '${name}')` : ''}`;
    if (parts.length < 3 || parts.length > 4) throw new InvalidOptionError(source, where, 'name:role:passwordHash[:stream,stream]', `${parts.length} ':'-separated fields`);
    const [, role, passwordHash, streams] = parts as [string, string, string, string | undefined];
    if (!BROKER_ROLES.includes(role as BrokerRole)) throw new InvalidOptionError(source, `${where} role`, `one of ${BROKER_ROLES.join(', ')}`, role);
    if (!isSecretHash(passwordHash)) throw new InvalidOptionError(source, `${where} passwordHash`, SECRET_HASH_FORM, NOT_SHOWN);
    const user: BrokerUser = { name, role: role as BrokerRole, passwordHash };
    if (streams !== undefined) user.streams = streams.split(',');
    checkUsers([user], `${source} ${where}`);
    return user;
  });
}

/**
 * The users the environment defines: `CFSTREAM_BROKER_USERS` (see `parseBrokerUsers`), and one
 * admin named `CFSTREAM_BROKER_USERNAME` (default 'admin') when `CFSTREAM_BROKER_PASSWORD` is set.
 */
export function brokerUsersFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): BrokerUser[] {
  const users = env[BROKER_USERS_ENV] ? parseBrokerUsers(env[BROKER_USERS_ENV]) : [];
  const password = env.CFSTREAM_BROKER_PASSWORD;
  if (password) users.push({ name: env.CFSTREAM_BROKER_USERNAME || 'admin', role: 'admin', password });
  return users;
}

// ---------------------------------------------------------------------------------------------
// The topic ACL.

/** Who a connected client is. */
export interface BrokerPrincipal {
  /** undefined for an anonymous client. */
  readonly name: string | undefined;
  readonly role: BrokerRole;
  /** undefined: every stream. */
  readonly streams: readonly string[] | undefined;
}

const PUBLISHES: Readonly<Record<Exclude<BrokerRole, 'admin'>, readonly string[]>> = {
  device: ['frames', 'info'],
  pipeline: ['info', 'status', 'factors', 'metrics', 'activations'],
  viewer: [],
};

/** True when `who` may publish to `topic` under `prefix` (module header; $SYS and sizes are checked by the hooks). */
export function canPublish(who: BrokerPrincipal, topic: string, prefix: string): boolean {
  if (who.role === 'admin') return true;
  if (!topic.startsWith(`${prefix}/`)) return false;
  const levels = topic.slice(prefix.length + 1).split('/');
  if (levels.length !== 2 || levels[0] === '') return false;
  const [stream, kind] = levels as [string, string];
  return (who.streams === undefined || who.streams.includes(stream)) && PUBLISHES[who.role].includes(kind);
}

/** True when `who` may subscribe to `filter` under `prefix` (module header). */
export function canSubscribe(who: BrokerPrincipal, filter: string, prefix: string): boolean {
  if (who.role === 'admin' || (who.role === 'pipeline' && who.streams === undefined)) return true;
  const bases = who.streams === undefined ? [prefix] : who.streams.map((s) => `${prefix}/${s}`);
  // The bases have no wildcards, so a filter that starts with one matches nothing outside it.
  return bases.some((base) => filter === base || filter.startsWith(`${base}/`));
}

// ---------------------------------------------------------------------------------------------
// The aedes hooks.

/** Why the broker refused something. */
export type BrokerRefusalReason =
  | 'no-credentials' | 'bad-credentials' | 'client-id-taken'
  | 'acl' | 'reserved-topic' | 'payload-too-large' | 'packet-too-large';

/** One refusal, as `EmbeddedBroker.refusals$` reports it (no secrets). */
export interface BrokerRefusal {
  /** What was refused; 'packet' is a connection closed for an oversized packet before it was read. */
  readonly type: 'connect' | 'publish' | 'subscribe' | 'packet';
  readonly reason: BrokerRefusalReason;
  /** The MQTT client id, when known. */
  readonly clientId: string | undefined;
  /** The user name the client gave (or logged in with), when any. */
  readonly user: string | undefined;
  /** The publish topic or the subscription filter. */
  readonly topic?: string;
  /** The payload (publish) or packet (packet) size in bytes. */
  readonly bytes?: number;
  /** One line saying what happened. */
  readonly message: string;
}

/** Refusal counts since the broker started. */
export interface BrokerRefusalStats {
  readonly connect: number;
  readonly publish: number;
  readonly subscribe: number;
  readonly packet: number;
  readonly byReason: Readonly<Partial<Record<BrokerRefusalReason, number>>>;
}

/** Options of `createBrokerAccess`. */
export interface BrokerAccessOptions {
  /** Required. Checked users (`resolveBrokerUsers`); none: no login, every client is an admin. */
  users: readonly ResolvedBrokerUser[];
  /** Required. The topic prefix of the ACL. */
  prefix: string;
  /** Required. Largest PUBLISH payload in bytes. */
  maxPayloadBytes: number;
  /** undefined: with users, clients without a user name are refused; 'viewer': they may subscribe as viewers. */
  anonymousRole?: 'viewer';
}

type Hooks = Required<Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'>>;

/** The hooks of one broker and its refusal accounting. */
export interface BrokerAccess extends Hooks {
  /** True when clients must log in. */
  readonly requiresLogin: boolean;
  /** Every refusal, as it happens. */
  readonly refusals$: Observable<BrokerRefusal>;
  /** Counts so far. */
  stats(): BrokerRefusalStats;
  /** Records a refusal made elsewhere (the packet size guard). */
  refuse(refusal: BrokerRefusal): void;
  /** Who a connected client logged in as, if it did. */
  principalOf(client: Client): BrokerPrincipal | undefined;
  /** Forgets a disconnected client (aedes 'clientDisconnect'). */
  release(client: Client): void;
  /** Completes `refusals$`. */
  close(): void;
}

const OPEN: BrokerPrincipal = Object.freeze({ name: undefined, role: 'admin', streams: undefined });

/** Builds the aedes hooks enforcing users, the ACL and the payload limit (module header). */
export function createBrokerAccess(options: BrokerAccessOptions): BrokerAccess {
  const { prefix, maxPayloadBytes } = options;
  const users = new Map(options.users.map((u) => [u.name, u]));
  const requiresLogin = users.size > 0;
  const anonymous: BrokerPrincipal | undefined = !requiresLogin ? OPEN : options.anonymousRole ? { name: undefined, role: options.anonymousRole, streams: undefined } : undefined;
  const principals = new WeakMap<Client, BrokerPrincipal>();
  // A logged-in client's id belongs to its user while connected: another user cannot take it over.
  const owners = new Map<string, { client: Client; user: string | undefined }>();
  // Unknown users cost the same scrypt as known ones, so timing does not tell which names exist.
  let decoy: Promise<string> | undefined;
  const counts = { connect: 0, publish: 0, subscribe: 0, packet: 0 };
  const byReason: Partial<Record<BrokerRefusalReason, number>> = {};
  const refusals = new Subject<BrokerRefusal>();
  const refuse = (r: BrokerRefusal): void => {
    counts[r.type]++;
    byReason[r.reason] = (byReason[r.reason] ?? 0) + 1;
    refusals.next(Object.freeze(r));
  };
  const userOf = (client: Client | null) => (client ? principals.get(client)?.name : undefined);

  const authenticate: Hooks['authenticate'] = (client, username, password, done) => {
    const fail = (code: 4 | 5 | 2, reason: BrokerRefusalReason, message: string) => {
      refuse({ type: 'connect', reason, clientId: client.id, user: username, message });
      const err = new Error(message) as Error & { returnCode: number };
      err.returnCode = code; // AuthErrorCode (a const enum, not importable under isolatedModules)
      done(err as Parameters<typeof done>[0], null);
    };
    const accept = (who: BrokerPrincipal) => {
      const owner = owners.get(client.id);
      if (requiresLogin && owner && owner.client !== client && !owner.client.closed && owner.user !== who.name) {
        fail(2, 'client-id-taken', `client id '${client.id}' is in use by another user`);
        return;
      }
      principals.set(client, who);
      owners.set(client.id, { client, user: who.name });
      done(null, true);
    };
    if (username === undefined) {
      if (anonymous) accept(anonymous);
      else fail(5, 'no-credentials', `client '${client.id}' gave no user name; this broker requires a login`);
      return;
    }
    if (!requiresLogin) return accept(OPEN);
    const user = users.get(username);
    const check = async () => (user ? verifySecret(password ?? '', user.passwordHash) : verifySecret(password ?? '', await (decoy ??= hashSecret(randomBytes(16)))).then(() => false));
    check().then(
      (ok) => (ok && user ? accept({ name: user.name, role: user.role, streams: user.streams }) : fail(4, 'bad-credentials', `client '${client.id}': bad user name or password for user '${username}'`)),
      () => fail(4, 'bad-credentials', `client '${client.id}': the password could not be checked for user '${username}'`),
    );
  };

  const authorizePublish: Hooks['authorizePublish'] = (client, packet, callback) => {
    const bytes = packet.payload?.length ?? 0;
    const no = (reason: BrokerRefusalReason, message: string) => {
      refuse({ type: 'publish', reason, clientId: client?.id, user: userOf(client), topic: packet.topic, bytes, message });
      callback(new Error(message));
    };
    if (packet.topic.startsWith('$SYS')) return no('reserved-topic', `publish to ${packet.topic} refused: $SYS topics are the broker's`);
    if (bytes > maxPayloadBytes) return no('payload-too-large', `publish to ${packet.topic} refused: payload of ${bytes} bytes exceeds maxPayloadBytes ${maxPayloadBytes}`);
    if (client === null) return callback(null); // a will published after its client left: checked when it was set
    const who = principals.get(client);
    if (!who || !canPublish(who, packet.topic, prefix)) {
      return no('acl', `publish to ${packet.topic} refused: not allowed for ${who?.name ? `user '${who.name}'` : 'an anonymous client'} (role ${who?.role ?? 'none'})`);
    }
    callback(null);
  };

  const authorizeSubscribe: Hooks['authorizeSubscribe'] = (client, sub, callback) => {
    const who = principals.get(client);
    if (who && canSubscribe(who, sub.topic, prefix)) return callback(null, sub);
    refuse({
      type: 'subscribe', reason: 'acl', clientId: client.id, user: who?.name, topic: sub.topic,
      message: `subscription to ${sub.topic} refused: not allowed for ${who?.name ? `user '${who.name}'` : 'an anonymous client'} (role ${who?.role ?? 'none'})`,
    });
    callback(null, null); // SUBACK 0x80 for this filter; the connection stays
  };

  return {
    requiresLogin, authenticate, authorizePublish, authorizeSubscribe, refuse,
    refusals$: refusals.asObservable(),
    stats: () => ({ ...counts, byReason: { ...byReason } }),
    principalOf: (client) => principals.get(client),
    release: (client) => {
      if (owners.get(client.id)?.client === client) owners.delete(client.id);
    },
    close: () => refusals.complete(),
  };
}
