/**
 * The embedded broker: aedes (MQTT 3.1.1; it refuses MQTT 5, and clients fall back) on TCP and on
 * WebSocket for the dashboard, loopback only unless `host` says otherwise.
 *
 * ```
 * startBroker({ port: 0, wsPort: 0 })
 *   tcp  127.0.0.1:<port>     mqtt://127.0.0.1:<port>     sensors, pipelines, mosquitto_sub
 *   ws   127.0.0.1:<wsPort>   ws://127.0.0.1:<wsPort>/mqtt the dashboard (mqtt.js in a browser); any path works
 * close() ─▶ clients disconnected ─▶ both servers closed ─▶ ports free
 * ```
 *
 * WebSocket: a `ws` WebSocketServer on a plain http server, each socket turned into a stream by
 * `createWebSocketStream` and handed to aedes (what aedes' own docs/Examples.md shows). Plain
 * HTTP requests to that port get `onHttpRequest` (default: 426 Upgrade Required), so a dashboard
 * can serve its page from the same port.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { Aedes, type AuthenticateError } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { InvalidOptionError } from '../../src/errors.js';

/** Options of `startBroker`. */
export interface BrokerOptions {
  /** '127.0.0.1'. Address both listeners bind to; '0.0.0.0' or '::' to serve the network. */
  host?: string;
  /** 1883. TCP port; 0 picks a free one (see `EmbeddedBroker.port`). */
  port?: number;
  /** 9001. WebSocket port; 0 picks a free one; false: no WebSocket listener. */
  wsPort?: number | false;
  /** undefined. With `password`: clients must log in with these (CONNACK 4 'bad user name or password' otherwise). */
  username?: string;
  /** undefined. See `username`. */
  password?: string;
  /** 426 Upgrade Required. Handler for plain HTTP requests on the WebSocket port (e.g. the dashboard page). */
  onHttpRequest?: (req: IncomingMessage, res: ServerResponse) => void;
}

/** The documented defaults of `BrokerOptions`. */
export const DEFAULT_BROKER_OPTIONS = Object.freeze({ host: '127.0.0.1', port: 1883, wsPort: 9001 as number | false });

/** A running embedded broker. */
export interface EmbeddedBroker {
  /** The bound address. */
  readonly host: string;
  /** The bound TCP port. */
  readonly port: number;
  /** The bound WebSocket port, or undefined without one. */
  readonly wsPort: number | undefined;
  /** `mqtt://<host>:<port>` (IPv6 hosts bracketed). */
  readonly url: string;
  /** `ws://<host>:<wsPort>/mqtt`, or undefined. */
  readonly wsUrl: string | undefined;
  /** The aedes instance (events, `publish`, hooks). */
  readonly aedes: Aedes;
  /** Clients connected now. */
  clients(): number;
  /** Disconnects every client and closes both listeners; idempotent. */
  close(): Promise<void>;
}

const OWNER = 'startBroker';
const KNOWN = new Set(['host', 'port', 'wsPort', 'username', 'password', 'onHttpRequest']);

/**
 * Starts aedes on TCP (and WebSocket), loopback only by default.
 *
 * @example
 * const broker = await startBroker({ port: 0, wsPort: 0 });
 * const conn = await connectMqtt({ url: broker.url });   // falls back to 3.1.1
 * await broker.close();
 * @param options see `BrokerOptions`; checked now (InvalidOptionError)
 * @returns the running broker with its bound ports
 * @throws Error naming the address when a port is taken (EADDRINUSE)
 */
export async function startBroker(options: BrokerOptions = {}): Promise<EmbeddedBroker> {
  const o = resolveBrokerOptions(options);
  const aedes = await Aedes.createBroker(o.username === undefined ? {} : { authenticate: authenticator(o.username, o.password!) });
  const tcp = createNetServer((socket) => aedes.handle(socket));
  let http: HttpServer | undefined;
  let wss: WebSocketServer | undefined;
  try {
    await listen(tcp, o.port, o.host, 'MQTT');
    if (o.wsPort !== false) {
      http = createHttpServer(o.onHttpRequest ?? upgradeRequired);
      wss = new WebSocketServer({ server: http });
      wss.on('connection', (ws, req) => {
        const stream = createWebSocketStream(ws);
        // A socket reset by the browser must not crash the process; aedes sees the stream close.
        stream.on('error', () => undefined);
        aedes.handle(stream, req);
      });
      await listen(http, o.wsPort, o.host, 'MQTT over WebSocket');
    }
  } catch (e) {
    await closeAll(aedes, tcp, http, wss);
    throw e;
  }
  const port = (tcp.address() as AddressInfo).port;
  const wsPort = http ? (http.address() as AddressInfo).port : undefined;
  const hostInUrl = o.host.includes(':') ? `[${o.host}]` : o.host;
  let closing: Promise<void> | undefined;
  return {
    host: o.host, port, wsPort, aedes,
    url: `mqtt://${hostInUrl}:${port}`,
    wsUrl: wsPort === undefined ? undefined : `ws://${hostInUrl}:${wsPort}/mqtt`,
    clients: () => aedes.connectedClients,
    close: () => (closing ??= closeAll(aedes, tcp, http, wss)),
  };
}

function resolveBrokerOptions(options: BrokerOptions): Required<Omit<BrokerOptions, 'username' | 'password' | 'onHttpRequest'>> & BrokerOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError(OWNER, 'options', 'an object', options);
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new InvalidOptionError(OWNER, key, `a known option (${[...KNOWN].join(', ')})`, (options as Record<string, unknown>)[key]);
  }
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as BrokerOptions;
  const o = { ...DEFAULT_BROKER_OPTIONS, ...given };
  if (typeof o.host !== 'string' || o.host.length === 0) throw new InvalidOptionError(OWNER, 'host', "an address to bind, e.g. '127.0.0.1'", o.host);
  const isPort = (p: unknown) => typeof p === 'number' && Number.isInteger(p) && p >= 0 && p <= 65535;
  if (!isPort(o.port)) throw new InvalidOptionError(OWNER, 'port', 'an integer port in [0, 65535] (0 = any free port)', o.port);
  if (o.wsPort !== false && !isPort(o.wsPort)) throw new InvalidOptionError(OWNER, 'wsPort', 'an integer port in [0, 65535] (0 = any free port) or false', o.wsPort);
  if ((o.username === undefined) !== (o.password === undefined)) {
    const missing = o.username === undefined ? 'username' : 'password';
    throw new InvalidOptionError(OWNER, missing, `a string (username and password go together)`, undefined);
  }
  if (o.username !== undefined && (typeof o.username !== 'string' || typeof o.password !== 'string')) {
    throw new InvalidOptionError(OWNER, typeof o.username !== 'string' ? 'username' : 'password', 'a string', typeof o.username !== 'string' ? o.username : o.password);
  }
  if (o.onHttpRequest !== undefined && typeof o.onHttpRequest !== 'function') throw new InvalidOptionError(OWNER, 'onHttpRequest', 'a function', o.onHttpRequest);
  return o;
}

function authenticator(username: string, password: string) {
  const user = Buffer.from(username);
  const pass = Buffer.from(password);
  // Constant-time comparison, so the reply time does not leak how much of a guess was right.
  const same = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);
  return (_client: unknown, u: Readonly<string | undefined>, p: Readonly<Buffer | undefined>, done: (error: AuthenticateError | null, success: boolean | null) => void) => {
    if (u !== undefined && p !== undefined && same(Buffer.from(u), user) && same(Buffer.from(p), pass)) {
      done(null, true);
      return;
    }
    const err = new Error('bad user name or password') as AuthenticateError;
    err.returnCode = 4; // AuthErrorCode.BAD_USERNAME_OR_PASSWORD (a const enum, not importable under isolatedModules)
    done(err, null);
  };
}

function upgradeRequired(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
  res.end('this port speaks MQTT over WebSocket\n');
}

function listen(server: NetServer | HttpServer, port: number, host: string, what: string): Promise<void> {
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

async function closeAll(aedes: Aedes, tcp: NetServer, http: HttpServer | undefined, wss: WebSocketServer | undefined): Promise<void> {
  // aedes first: it disconnects its clients, so the servers' close() has no sockets left to wait for.
  await new Promise<void>((resolve) => aedes.close(() => resolve()));
  if (wss) {
    for (const ws of wss.clients) ws.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  }
  const closeServer = (s: NetServer | HttpServer) => new Promise<void>((resolve) => {
    if (!s.listening) return resolve();
    s.close(() => resolve());
    if ('closeAllConnections' in s) s.closeAllConnections();
  });
  await closeServer(tcp);
  if (http) await closeServer(http);
}
