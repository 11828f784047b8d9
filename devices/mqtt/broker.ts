/**
 * The embedded broker: aedes (MQTT 3.1.1; it refuses MQTT 5, and clients fall back) on TCP and on
 * WebSocket for the dashboard, loopback only unless `host` says otherwise; optionally TLS
 * (mqtts://, wss://), users with roles and a topic ACL (brokerAuth.ts), a payload size limit.
 *
 * ```
 * startBroker({ port: 0, wsPort: 0 })
 *   tcp  127.0.0.1:<port>      mqtt://127.0.0.1:<port>       sensors, pipelines, mosquitto_sub
 *   ws   127.0.0.1:<wsPort>    ws://127.0.0.1:<wsPort>/mqtt  the dashboard (mqtt.js in a browser); any path works
 * startBroker({ …, tls: { key, cert, host: '0.0.0.0', port: 8883, wsPort: 8884 } })
 *   tls  0.0.0.0:8883          mqtts://…                      remote devices (plain TCP stays on loopback)
 *   wss  0.0.0.0:8884          wss://…/mqtt
 * every connection ─▶ packet size guard ─▶ aedes (authenticate, authorizePublish, authorizeSubscribe)
 * close() ─▶ clients disconnected ─▶ every server closed ─▶ ports free
 * ```
 *
 * WebSocket: a `ws` WebSocketServer on a plain (or https) server, each socket turned into a stream
 * by `createWebSocketStream` and handed to aedes (what aedes' own docs/Examples.md shows). Plain
 * HTTP requests to that port get `onHttpRequest` (default: 426 Upgrade Required), so a dashboard
 * can serve its page from the same port.
 *
 * Payload size: aedes' parser (mqtt-packet) has no size limit and buffers a packet whole, up to
 * the 256 MB MQTT allows. So every connection first passes a guard that reads only the fixed
 * headers and closes the connection at the first packet longer than `maxPayloadBytes` plus
 * `PUBLISH_HEADER_ROOM` (the largest topic and packet id), before its body is buffered (refusal
 * 'packet-too-large'). A PUBLISH under that bound whose payload exceeds `maxPayloadBytes` is
 * refused by `authorizePublish` ('payload-too-large'). Both close that client's connection.
 *
 * Slow subscribers: aedes delivers a message to its subscribers in a bounded number of slots and
 * waits for a backed-up socket to drain, so one client that stops reading (a frozen browser tab,
 * a stalled link) would stall delivery to everyone, and what it cannot take would pile up here.
 * So each connection may hold `maxClientBacklogBytes` of unsent output; while it is over that,
 * QoS 0 messages for it are dropped (counted per client, `slowClientDrops()`), like mosquitto's
 * `max_queued_bytes`; QoS 1 deliveries wait, and a client that does not drain within
 * `drainTimeoutMs` is disconnected (its persistent session keeps the messages).
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { createSecureContext, createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { Aedes, type Client } from 'aedes';
import type { Observable } from 'rxjs';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { InvalidOptionError } from '../../src/errors.js';
import { createBrokerAccess, MAX_PAYLOAD_BYTES_LIMIT, PUBLISH_HEADER_ROOM, resolveBrokerUsers, type BrokerAccess, type BrokerRefusal, type BrokerRefusalStats, type BrokerUser } from './brokerAuth.js';
import { checkTopicPart, DEFAULT_TOPIC_PREFIX } from './topics.js';

/** TLS listeners of the embedded broker. PEM values are file paths, or the PEM text itself (starting '-----BEGIN'). */
export interface BrokerTlsOptions {
  /** Required. The server's private key (unencrypted PEM). */
  key: string;
  /** Required. The server's certificate (chain), PEM. */
  cert: string;
  /** undefined. CA certificate(s), PEM, that sign client certificates (with `requestCert`). */
  ca?: string;
  /** false. Demand a client certificate signed by `ca`; clients without one are refused in the handshake. */
  requestCert?: boolean;
  /** The broker's `host`. Address the TLS listeners bind to (e.g. '0.0.0.0' while plain TCP stays on loopback). */
  host?: string;
  /** 8883. mqtts:// port; 0 picks a free one. */
  port?: number;
  /** false. wss:// port (MQTT over secure WebSocket); 0 picks a free one. */
  wsPort?: number | false;
}

/** Options of `startBroker`. */
export interface BrokerOptions {
  /** '127.0.0.1'. Address the plain listeners bind to; '0.0.0.0' or '::' to serve the network. */
  host?: string;
  /** 1883. TCP port; 0 picks a free one (see `EmbeddedBroker.port`). */
  port?: number;
  /** 9001. WebSocket port; 0 picks a free one; false: no WebSocket listener. */
  wsPort?: number | false;
  /** []. Users (brokerAuth.ts); with any user (or `username`), every client must log in. Plain passwords are hashed at start. */
  users?: readonly BrokerUser[];
  /** undefined. With `password`: shorthand for one admin user. */
  username?: string;
  /** undefined. See `username`. */
  password?: string;
  /** undefined: clients without a user name are refused when there are users; 'viewer': they may subscribe (a dashboard without login). */
  anonymousRole?: 'viewer';
  /** 'cfstream'. The topic prefix the ACL applies to (`<prefix>/<stream>/…`). */
  prefix?: string;
  /** 1048576 (1 MiB). Largest PUBLISH payload; bigger ones are refused and their client disconnected. */
  maxPayloadBytes?: number;
  /** 1048576 (1 MiB). Bytes that may wait for a subscriber that reads slowly; past that its QoS 0 messages are dropped and counted (module header). */
  maxClientBacklogBytes?: number;
  /** 10000 ms. How long a QoS 1 delivery waits for a subscriber that stopped reading before that client is disconnected. */
  drainTimeoutMs?: number;
  /** undefined. TLS listeners (mqtts://, wss://) besides the plain ones. */
  tls?: BrokerTlsOptions;
  /** 426 Upgrade Required. Handler for plain HTTP requests on the WebSocket ports (e.g. the dashboard page). */
  onHttpRequest?: (req: IncomingMessage, res: ServerResponse) => void;
}

/** The documented defaults of `BrokerOptions`. */
export const DEFAULT_BROKER_OPTIONS = Object.freeze({
  host: '127.0.0.1', port: 1883, wsPort: 9001 as number | false, prefix: DEFAULT_TOPIC_PREFIX, maxPayloadBytes: 1024 * 1024,
  maxClientBacklogBytes: 1024 * 1024, drainTimeoutMs: 10_000,
});

/** The documented defaults of `BrokerTlsOptions`. */
export const DEFAULT_BROKER_TLS_OPTIONS = Object.freeze({ requestCert: false, port: 8883, wsPort: false as number | false });

/** A running embedded broker. */
export interface EmbeddedBroker {
  /** The bound address of the plain listeners. */
  readonly host: string;
  /** The bound TCP port. */
  readonly port: number;
  /** The bound WebSocket port, or undefined without one. */
  readonly wsPort: number | undefined;
  /** `mqtt://<host>:<port>` (IPv6 hosts bracketed). */
  readonly url: string;
  /** `ws://<host>:<wsPort>/mqtt`, or undefined. */
  readonly wsUrl: string | undefined;
  /** The bound mqtts:// port, or undefined without TLS. */
  readonly tlsPort: number | undefined;
  /** `mqtts://<tls host>:<tlsPort>`, or undefined. */
  readonly tlsUrl: string | undefined;
  /** The bound wss:// port, or undefined. */
  readonly wssPort: number | undefined;
  /** `wss://<tls host>:<wssPort>/mqtt`, or undefined. */
  readonly wssUrl: string | undefined;
  /** True when clients must log in (there are users). */
  readonly requiresLogin: boolean;
  /** The aedes instance (events, `publish`, hooks). */
  readonly aedes: Aedes;
  /** Every refused login, publish, subscription and oversized packet (no secrets). */
  readonly refusals$: Observable<BrokerRefusal>;
  /** Refusal counts so far. */
  stats(): BrokerRefusalStats;
  /** Clients connected now. */
  clients(): number;
  /** QoS 0 messages dropped for subscribers that did not keep up (module header), in all and per client id. */
  slowClientDrops(): { messages: number; byClient: Readonly<Record<string, number>> };
  /** Disconnects every client and closes every listener; idempotent. */
  close(): Promise<void>;
}

const OWNER = 'startBroker';
const KNOWN = new Set(['host', 'port', 'wsPort', 'users', 'username', 'password', 'anonymousRole', 'prefix', 'maxPayloadBytes', 'maxClientBacklogBytes', 'drainTimeoutMs', 'tls', 'onHttpRequest']);
const TLS_KNOWN = new Set(['key', 'cert', 'ca', 'requestCert', 'host', 'port', 'wsPort']);

type Server = NetServer | HttpServer;

/**
 * Starts aedes on TCP (and WebSocket, and TLS), loopback only by default.
 *
 * @example
 * const broker = await startBroker({ port: 0, wsPort: 0, users: [{ name: 'eeg1', role: 'device', passwordHash }] });
 * const conn = await connectMqtt({ url: broker.url, username: 'eeg1', password });   // falls back to 3.1.1
 * await broker.close();
 * @param options see `BrokerOptions`; checked now (InvalidOptionError; secrets are never quoted)
 * @returns the running broker with its bound ports
 * @throws Error naming the address when a port is taken (EADDRINUSE)
 */
export async function startBroker(options: BrokerOptions = {}): Promise<EmbeddedBroker> {
  const o = resolveBrokerOptions(options);
  const tlsContext = o.tls ? loadTls(o.tls) : undefined;
  const legacy: BrokerUser[] = o.username !== undefined ? [{ name: o.username, role: 'admin', password: o.password! }] : [];
  const users = await resolveBrokerUsers([...(o.users ?? []), ...legacy], OWNER);
  const access = createBrokerAccess({ users, prefix: o.prefix, maxPayloadBytes: o.maxPayloadBytes, ...(o.anonymousRole ? { anonymousRole: o.anonymousRole } : {}) });
  const drops = { messages: 0, byClient: {} as Record<string, number> };
  const aedes = await Aedes.createBroker({
    authenticate: access.authenticate, authorizePublish: access.authorizePublish, authorizeSubscribe: access.authorizeSubscribe,
    authorizeForward: (client, packet) => {
      if (packet.qos !== 0 || !client.conn.writableNeedDrain) return packet;
      drops.messages++;
      drops.byClient[client.id] = (drops.byClient[client.id] ?? 0) + 1;
      return null;
    },
    drainTimeout: o.drainTimeoutMs,
  });
  aedes.on('clientDisconnect', (client) => access.release(client));
  const maxPacketBytes = o.maxPayloadBytes + PUBLISH_HEADER_ROOM;
  const serve = (stream: Duplex, req?: IncomingMessage): void => {
    let client: Client | undefined;
    const guarded = guardPacketSize(stream, maxPacketBytes, o.maxClientBacklogBytes, (bytes) => access.refuse({
      type: 'packet', reason: 'packet-too-large', clientId: client?.id, user: client ? access.principalOf(client)?.name : undefined, bytes,
      message: `connection closed: an MQTT packet of ${bytes} bytes exceeds ${maxPacketBytes} (maxPayloadBytes ${o.maxPayloadBytes} + ${PUBLISH_HEADER_ROOM} header room)`,
    }));
    client = aedes.handle(guarded, req);
  };
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  const track = <S extends Server>(server: S): S => {
    // Sockets that never reach aedes (a TLS handshake that fails or stalls) must not hold close() up.
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    servers.push(server);
    return server;
  };
  const wssList: WebSocketServer[] = [];
  const webSocket = (server: HttpServer): void => {
    const wss = new WebSocketServer({ server, maxPayload: maxPacketBytes + 64 * 1024 });
    wss.on('connection', (ws, req) => {
      const stream = createWebSocketStream(ws);
      // A socket reset by the browser must not crash the process; aedes sees the stream close.
      stream.on('error', () => undefined);
      serve(stream, req);
    });
    wssList.push(wss);
  };
  const closeEverything = () => closeAll(aedes, access, servers, wssList, sockets);
  const bound = (s: Server) => (s.address() as AddressInfo).port;
  let tcp: NetServer, http: HttpServer | undefined, tls: NetServer | undefined, https: HttpServer | undefined;
  try {
    tcp = track(createNetServer((socket) => serve(socket)));
    await listen(tcp, o.port, o.host, 'MQTT');
    if (o.wsPort !== false) {
      http = track(createHttpServer(o.onHttpRequest ?? upgradeRequired));
      webSocket(http);
      await listen(http, o.wsPort, o.host, 'MQTT over WebSocket');
    }
    if (o.tls && tlsContext) {
      const tlsHost = o.tls.host ?? o.host;
      tls = track(createTlsServer(tlsContext, (socket) => serve(socket)));
      await listen(tls, o.tls.port ?? DEFAULT_BROKER_TLS_OPTIONS.port, tlsHost, 'MQTT over TLS');
      const wssPort = o.tls.wsPort ?? DEFAULT_BROKER_TLS_OPTIONS.wsPort;
      if (wssPort !== false) {
        https = track(createHttpsServer(tlsContext, o.onHttpRequest ?? upgradeRequired));
        webSocket(https);
        await listen(https, wssPort, tlsHost, 'MQTT over secure WebSocket');
      }
    }
  } catch (e) {
    await closeEverything();
    throw e;
  }
  const inUrl = (host: string) => (host.includes(':') ? `[${host}]` : host);
  const port = bound(tcp);
  const wsPort = http ? bound(http) : undefined;
  const tlsPort = tls ? bound(tls) : undefined;
  const wssPort = https ? bound(https) : undefined;
  const tlsHost = inUrl(o.tls?.host ?? o.host);
  let closing: Promise<void> | undefined;
  return {
    host: o.host, port, wsPort, tlsPort, wssPort, aedes,
    url: `mqtt://${inUrl(o.host)}:${port}`,
    wsUrl: wsPort === undefined ? undefined : `ws://${inUrl(o.host)}:${wsPort}/mqtt`,
    tlsUrl: tlsPort === undefined ? undefined : `mqtts://${tlsHost}:${tlsPort}`,
    wssUrl: wssPort === undefined ? undefined : `wss://${tlsHost}:${wssPort}/mqtt`,
    requiresLogin: access.requiresLogin,
    refusals$: access.refusals$,
    stats: () => access.stats(),
    clients: () => aedes.connectedClients,
    slowClientDrops: () => ({ messages: drops.messages, byClient: { ...drops.byClient } }),
    close: () => (closing ??= closeEverything()),
  };
}

type ResolvedBrokerOptions = BrokerOptions & Required<Pick<BrokerOptions, 'host' | 'port' | 'wsPort' | 'prefix' | 'maxPayloadBytes' | 'maxClientBacklogBytes' | 'drainTimeoutMs'>>;

function resolveBrokerOptions(options: BrokerOptions): ResolvedBrokerOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError(OWNER, 'options', 'an object', options);
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new InvalidOptionError(OWNER, key, `a known option (${[...KNOWN].join(', ')})`, key);
  }
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as BrokerOptions;
  const o = { ...DEFAULT_BROKER_OPTIONS, ...given };
  if (typeof o.host !== 'string' || o.host.length === 0) throw new InvalidOptionError(OWNER, 'host', "an address to bind, e.g. '127.0.0.1'", o.host);
  if (!isPort(o.port)) throw new InvalidOptionError(OWNER, 'port', 'an integer port in [0, 65535] (0 = any free port)', o.port);
  if (o.wsPort !== false && !isPort(o.wsPort)) throw new InvalidOptionError(OWNER, 'wsPort', 'an integer port in [0, 65535] (0 = any free port) or false', o.wsPort);
  if ((o.username === undefined) !== (o.password === undefined)) {
    const missing = o.username === undefined ? 'username' : 'password';
    throw new InvalidOptionError(OWNER, missing, `a string (username and password go together)`, undefined);
  }
  if (o.username !== undefined && typeof o.username !== 'string') throw new InvalidOptionError(OWNER, 'username', 'a string', o.username);
  if (o.password !== undefined && typeof o.password !== 'string') throw new InvalidOptionError(OWNER, 'password', 'a string', `(a ${typeof o.password}; not shown)`);
  if (o.users !== undefined && !Array.isArray(o.users)) throw new InvalidOptionError(OWNER, 'users', 'a list of users { name, role, passwordHash | password, streams? }', typeof o.users);
  if (o.anonymousRole !== undefined && o.anonymousRole !== 'viewer') throw new InvalidOptionError(OWNER, 'anonymousRole', "'viewer' or undefined", o.anonymousRole);
  checkTopicPart(OWNER, 'prefix', o.prefix, true);
  if (!Number.isSafeInteger(o.maxPayloadBytes) || o.maxPayloadBytes < 1 || o.maxPayloadBytes > MAX_PAYLOAD_BYTES_LIMIT) {
    throw new InvalidOptionError(OWNER, 'maxPayloadBytes', `an integer number of bytes in [1, ${MAX_PAYLOAD_BYTES_LIMIT}]`, o.maxPayloadBytes);
  }
  if (!Number.isSafeInteger(o.maxClientBacklogBytes) || o.maxClientBacklogBytes < 1024) {
    throw new InvalidOptionError(OWNER, 'maxClientBacklogBytes', 'an integer number of bytes ≥ 1024', o.maxClientBacklogBytes);
  }
  if (!Number.isSafeInteger(o.drainTimeoutMs) || o.drainTimeoutMs < 1) throw new InvalidOptionError(OWNER, 'drainTimeoutMs', 'an integer number of ms ≥ 1', o.drainTimeoutMs);
  if (o.tls !== undefined) resolveTlsOptions(o.tls);
  if (o.onHttpRequest !== undefined && typeof o.onHttpRequest !== 'function') throw new InvalidOptionError(OWNER, 'onHttpRequest', 'a function', o.onHttpRequest);
  return o;
}

function isPort(p: unknown): p is number {
  return typeof p === 'number' && Number.isInteger(p) && p >= 0 && p <= 65535;
}

function resolveTlsOptions(t: BrokerTlsOptions): void {
  if (typeof t !== 'object' || t === null) throw new InvalidOptionError(OWNER, 'tls', 'an object { key, cert, ca?, requestCert?, host?, port?, wsPort? }', typeof t);
  for (const key of Object.keys(t)) if (!TLS_KNOWN.has(key)) throw new InvalidOptionError(OWNER, `tls.${key}`, `a known option (${[...TLS_KNOWN].join(', ')})`, key);
  for (const key of ['key', 'cert'] as const) {
    if (typeof t[key] !== 'string' || t[key].length === 0) throw new InvalidOptionError(OWNER, `tls.${key}`, 'a PEM file path or PEM text', typeof t[key]);
  }
  if (t.ca !== undefined && (typeof t.ca !== 'string' || t.ca.length === 0)) throw new InvalidOptionError(OWNER, 'tls.ca', 'a PEM file path or PEM text', typeof t.ca);
  if (t.requestCert !== undefined && typeof t.requestCert !== 'boolean') throw new InvalidOptionError(OWNER, 'tls.requestCert', 'true or false', t.requestCert);
  if (t.requestCert && t.ca === undefined) throw new InvalidOptionError(OWNER, 'tls.ca', 'the CA that signs client certificates (tls.requestCert is true)', undefined);
  if (t.host !== undefined && (typeof t.host !== 'string' || t.host.length === 0)) throw new InvalidOptionError(OWNER, 'tls.host', "an address to bind, e.g. '0.0.0.0'", t.host);
  if (t.port !== undefined && !isPort(t.port)) throw new InvalidOptionError(OWNER, 'tls.port', 'an integer port in [0, 65535] (0 = any free port)', t.port);
  if (t.wsPort !== undefined && t.wsPort !== false && !isPort(t.wsPort)) throw new InvalidOptionError(OWNER, 'tls.wsPort', 'an integer port in [0, 65535] (0 = any free port) or false', t.wsPort);
}

/** PEM text from a file path or the text itself; errors name the option and path, never PEM content. */
function pem(value: string, option: string): string {
  if (value.trimStart().startsWith('-----BEGIN')) return value;
  try {
    return readFileSync(value, 'utf8');
  } catch (e) {
    throw new InvalidOptionError(OWNER, option, `a readable PEM file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, value);
  }
}

function loadTls(t: BrokerTlsOptions): TlsOptions {
  const requestCert = t.requestCert ?? DEFAULT_BROKER_TLS_OPTIONS.requestCert;
  const opts: TlsOptions = { key: pem(t.key, 'tls.key'), cert: pem(t.cert, 'tls.cert'), requestCert, rejectUnauthorized: requestCert };
  if (t.ca !== undefined) opts.ca = pem(t.ca, 'tls.ca');
  try {
    createSecureContext(opts); // bad PEM fails here, with OpenSSL's reason (it never quotes the key)
  } catch (e) {
    throw new InvalidOptionError(OWNER, 'tls', `a usable key, certificate and CA (${(e as Error).message})`, '(PEM not shown)');
  }
  return opts;
}

/**
 * Passes an MQTT byte stream through unchanged, reading only each packet's fixed header; at the
 * first packet whose remaining length exceeds `maxPacketBytes` it calls `onTooBig` and destroys
 * the connection, before that packet's body is read. A malformed length is left to aedes' parser.
 */
export function guardPacketSize(inner: Duplex, maxPacketBytes: number, backlogBytes: number, onTooBig: (bytes: number) => void): Duplex {
  let state: 'header' | 'length' | 'body' | 'off' = 'header';
  let length = 0, multiplier = 1, lengthBytes = 0, toSkip = 0;
  /** The oversized length, or undefined when the chunk is fine. */
  const scan = (chunk: Buffer): number | undefined => {
    let i = 0;
    while (i < chunk.length && state !== 'off') {
      if (state === 'header') {
        i++;
        state = 'length';
        length = 0; multiplier = 1; lengthBytes = 0;
      } else if (state === 'length') {
        const b = chunk[i++]!;
        length += (b & 0x7f) * multiplier;
        multiplier *= 128;
        lengthBytes++;
        if (b & 0x80) {
          if (lengthBytes === 4) state = 'off';
          continue;
        }
        if (length > maxPacketBytes) return length;
        toSkip = length;
        state = toSkip > 0 ? 'body' : 'header';
      } else {
        const n = Math.min(toSkip, chunk.length - i);
        i += n;
        toSkip -= n;
        if (toSkip === 0) state = 'header';
      }
    }
    return undefined;
  };
  const outer = new Duplex({
    // The output waiting for this client: aedes sees writableNeedDrain past it (module header).
    writableHighWaterMark: backlogBytes,
    read: () => void inner.resume(),
    write: (chunk, encoding, callback) => void inner.write(chunk, encoding, callback),
    final: (callback) => {
      inner.end();
      callback();
    },
    destroy: (err, callback) => {
      inner.destroy();
      callback(err);
    },
  });
  inner.on('data', (chunk: Buffer) => {
    if (outer.destroyed) return;
    const over = scan(chunk);
    if (over !== undefined) {
      onTooBig(over);
      outer.destroy(new Error(`MQTT packet of ${over} bytes exceeds the limit of ${maxPacketBytes}`));
      return;
    }
    if (!outer.push(chunk)) inner.pause();
  });
  inner.once('end', () => outer.push(null));
  inner.on('error', (e) => outer.destroy(e));
  inner.once('close', () => outer.destroy());
  return outer;
}

function upgradeRequired(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
  res.end('this port speaks MQTT over WebSocket\n');
}

function listen(server: Server, port: number, host: string, what: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(new Error(`${what} listener on ${host}:${port}: ${e.code ?? ''} ${e.message}`.trim()));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

async function closeAll(aedes: Aedes, access: BrokerAccess, servers: Server[], wssList: WebSocketServer[], sockets: Set<Socket>): Promise<void> {
  // aedes first: it disconnects its clients, so the servers' close() has no sockets left to wait for.
  await new Promise<void>((resolve) => aedes.close(() => resolve()));
  access.close();
  for (const wss of wssList) {
    for (const ws of wss.clients) ws.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  }
  for (const s of sockets) s.destroy();
  for (const s of servers) {
    await new Promise<void>((resolve) => {
      if (!s.listening) return resolve();
      s.close(() => resolve());
      if ('closeAllConnections' in s) s.closeAllConnections();
    });
  }
}
