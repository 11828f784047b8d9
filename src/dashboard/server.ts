/**
 * The dashboard's page server: a node:http static server for the live dashboard (index.html,
 * dashboard.js, style.css beside this file), the browser builds of mqtt.js and uPlot from
 * node_modules, and `/config.json` telling the page where the broker's WebSocket is.
 *
 * ```
 * startDashboard({ wsUrl: 'ws://127.0.0.1:9001/mqtt', prefix: 'cfstream', stream: 'sim' })
 *   GET /                    index.html        the page (the import map's hash in its CSP)
 *   GET /dashboard.js        the page's code   plain ES modules, no build step
 *   GET /messages.js, /factorsView.js             (imported by dashboard.js)
 *   GET /style.css
 *   GET /config.json         {"wsUrl":"ws://…","prefix":"cfstream","stream":"sim"}
 *   GET /vendor/mqtt.esm.js  node_modules/mqtt/dist/mqtt.esm.js
 *   GET /vendor/uPlot.esm.js, /vendor/uPlot.min.css   node_modules/uplot/dist/…
 *   anything else            404 (exact paths only: nothing is joined from the URL, so no traversal)
 *   other methods            405
 * page URL ?ws=…&prefix=…&stream=…  overrides config.json (see dashboard.js)
 * ```
 *
 * The page connects to the broker itself (MQTT over WebSocket); this server never touches MQTT,
 * so `src/` stays free of `devices/`. `createDashboardHandler` is the same request handler
 * without a listener, for the broker's `onHttpRequest` (page and WebSocket on one port).
 */
import { createHash } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidOptionError } from '../errors.js';

/** What the page is told by `/config.json` (the page's own query string overrides each). */
export interface DashboardPageOptions {
  /** undefined: the page uses `ws://<its own host>/mqtt` (served from the broker's WebSocket port). The broker's MQTT-over-WebSocket URL (ws:// or wss://). */
  wsUrl?: string;
  /** 'cfstream'. Topic prefix (one or more levels). */
  prefix?: string;
  /** 'sim' (the id of config/default.yaml's stream). The stream's topic level. */
  stream?: string;
}

/** Options of `startDashboard`. */
export interface DashboardOptions extends DashboardPageOptions {
  /** '127.0.0.1'. Address to bind; '0.0.0.0' or '::' to serve the network. */
  host?: string;
  /** 0. TCP port; 0 picks a free one (see `Dashboard.port`). */
  port?: number;
  /** Required. The broker's MQTT-over-WebSocket URL, e.g. `EmbeddedBroker.wsUrl`. */
  wsUrl: string;
}

/** The documented defaults of `DashboardOptions`. */
export const DEFAULT_DASHBOARD_OPTIONS = Object.freeze({ host: '127.0.0.1', port: 0, prefix: 'cfstream', stream: 'sim' });

/** A running dashboard server. */
export interface Dashboard {
  /** `http://<host>:<port>/`, the page (IPv6 hosts bracketed). */
  readonly url: string;
  /** The bound address and port. */
  readonly host: string;
  readonly port: number;
  /** Closes the listener and its open connections; idempotent. */
  close(): Promise<void>;
}

/** A request handler for node:http. */
export type DashboardRequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

interface Asset {
  readonly file: string;
  readonly type: string;
}

const OWNER = 'startDashboard';
const KNOWN = new Set(['host', 'port', 'wsUrl', 'prefix', 'stream']);
const HERE = dirname(fileURLToPath(import.meta.url));
const JS = 'text/javascript; charset=utf-8';

/** The whitelist: URL path → file. Only these exact paths are served. */
function assets(): ReadonlyMap<string, Asset> {
  const require = createRequire(import.meta.url);
  const mqttDist = join(dirname(require.resolve('mqtt/package.json')), 'dist');
  const uplotDist = join(dirname(require.resolve('uplot/package.json')), 'dist');
  const page: Asset = { file: join(HERE, 'index.html'), type: 'text/html; charset=utf-8' };
  const map = new Map<string, Asset>([
    ['/', page],
    ['/index.html', page],
    ['/dashboard.js', { file: join(HERE, 'dashboard.js'), type: JS }],
    ['/messages.js', { file: join(HERE, 'messages.js'), type: JS }],
    ['/factorsView.js', { file: join(HERE, 'factorsView.js'), type: JS }],
    ['/style.css', { file: join(HERE, 'style.css'), type: 'text/css; charset=utf-8' }],
    ['/vendor/mqtt.esm.js', { file: join(mqttDist, 'mqtt.esm.js'), type: JS }],
    ['/vendor/uPlot.esm.js', { file: join(uplotDist, 'uPlot.esm.js'), type: JS }],
    ['/vendor/uPlot.min.css', { file: join(uplotDist, 'uPlot.min.css'), type: 'text/css; charset=utf-8' }],
  ]);
  for (const { file } of map.values()) {
    try {
      accessSync(file, constants.R_OK);
    } catch {
      throw new Error(`dashboard: cannot read ${file} (is the package installed? npm install)`);
    }
  }
  return map;
}

/** CSP of the page: own scripts plus the inline import map (by its hash), blob workers (mqtt.js' keepalive timers), WebSockets anywhere (the broker may be on another port or host). */
function contentSecurityPolicy(html: string): string {
  const importMap = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)?.[1];
  const hash = importMap === undefined ? '' : ` 'sha256-${createHash('sha256').update(importMap).digest('base64')}'`;
  return [
    "default-src 'self'", `script-src 'self'${hash}`, "worker-src 'self' blob:", "style-src 'self'", "img-src 'self' data:",
    "connect-src 'self' ws: wss:", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
  ].join('; ');
}

/** Builds the dashboard's request handler (whitelisted files, `/config.json`, 404 otherwise), e.g. for the broker's `onHttpRequest`. */
export function createDashboardHandler(options: DashboardPageOptions = {}): DashboardRequestHandler {
  const page = resolvePageOptions(options, 'createDashboardHandler');
  const files = assets();
  const config = Buffer.from(JSON.stringify({ wsUrl: page.wsUrl ?? null, prefix: page.prefix, stream: page.stream }));
  const common = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-cache' };

  const send = (req: IncomingMessage, res: ServerResponse, status: number, headers: Record<string, string>, body: Buffer): void => {
    res.writeHead(status, { ...common, ...headers, 'content-length': String(body.length) });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  const notFound = (req: IncomingMessage, res: ServerResponse): void =>
    send(req, res, 404, { 'content-type': 'text/plain; charset=utf-8' }, Buffer.from('not found\n'));

  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(req, res, 405, { 'content-type': 'text/plain; charset=utf-8', allow: 'GET, HEAD' }, Buffer.from('method not allowed\n'));
      return;
    }
    // The raw path, query cut off, never decoded nor normalised: it must equal a key exactly.
    const path = (req.url ?? '').split('?', 1)[0]!;
    if (path === '/config.json') {
      send(req, res, 200, { 'content-type': 'application/json; charset=utf-8' }, config);
      return;
    }
    const asset = files.get(path);
    if (!asset) {
      notFound(req, res);
      return;
    }
    readFile(asset.file).then((body) => {
      const headers: Record<string, string> = { 'content-type': asset.type };
      if (asset.type.startsWith('text/html')) headers['content-security-policy'] = contentSecurityPolicy(body.toString('utf8'));
      send(req, res, 200, headers, body);
    }, () => notFound(req, res));
  };
}

/**
 * Serves the live dashboard on its own port, loopback only by default.
 *
 * @example
 * const broker = await startBroker({ port: 0, wsPort: 0 });          // devices/mqtt/broker.ts
 * const dash = await startDashboard({ wsUrl: broker.wsUrl!, prefix: 'cfstream', stream: 'sim' });
 * console.error(`dashboard: ${dash.url}`);
 * await dash.close();
 * @see createDashboardHandler for serving the page from the broker's WebSocket port instead
 * @param options see `DashboardOptions`; checked now (InvalidOptionError)
 * @returns the running server and the page's URL
 * @throws Error naming the address when the port is taken (EADDRINUSE)
 */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError(OWNER, 'options', 'an object', options);
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new InvalidOptionError(OWNER, key, `a known option (${[...KNOWN].join(', ')})`, (options as unknown as Record<string, unknown>)[key]);
  }
  const host = options.host ?? DEFAULT_DASHBOARD_OPTIONS.host;
  const port = options.port ?? DEFAULT_DASHBOARD_OPTIONS.port;
  if (typeof host !== 'string' || host.length === 0) throw new InvalidOptionError(OWNER, 'host', "an address to bind, e.g. '127.0.0.1'", host);
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidOptionError(OWNER, 'port', 'an integer port in [0, 65535] (0 = any free port)', port);
  }
  if (options.wsUrl === undefined) throw new InvalidOptionError(OWNER, 'wsUrl', 'the broker\'s WebSocket URL (ws://host:port/path)', undefined);
  const server: Server = createServer(createDashboardHandler({ wsUrl: options.wsUrl, prefix: options.prefix, stream: options.stream }));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`dashboard listener on ${host}:${port}: ${e.code ?? ''} ${e.message}`.trim())));
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/`,
    host,
    port: bound,
    close: () => (closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    })),
  };
}

function resolvePageOptions(options: DashboardPageOptions, owner: string): { wsUrl: string | undefined; prefix: string; stream: string } {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError(owner, 'options', 'an object', options);
  const { wsUrl } = options;
  const prefix = options.prefix ?? DEFAULT_DASHBOARD_OPTIONS.prefix;
  const stream = options.stream ?? DEFAULT_DASHBOARD_OPTIONS.stream;
  if (wsUrl !== undefined && !isWsUrl(wsUrl)) throw new InvalidOptionError(owner, 'wsUrl', 'a ws:// or wss:// URL', wsUrl);
  checkTopicPart(owner, 'prefix', prefix, true);
  checkTopicPart(owner, 'stream', stream, false);
  return { wsUrl, prefix, stream };
}

function isWsUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    const u = new URL(value);
    return (u.protocol === 'ws:' || u.protocol === 'wss:') && u.hostname !== '';
  } catch {
    return false;
  }
}

/** Topic rules of devices/mqtt/topics.ts `checkTopicPart`, repeated here because src/ must not import devices/. */
function checkTopicPart(owner: string, option: string, value: unknown, multiLevel: boolean): asserts value is string {
  const allowed = multiLevel
    ? "a non-empty topic (levels separated by '/', no '+', '#', NUL, leading or trailing '/')"
    : "a non-empty topic level (no '/', '+', '#' or NUL)";
  const bad = typeof value !== 'string' || value.length === 0 || /[+#\0]/.test(value) ||
    (multiLevel ? value.startsWith('/') || value.endsWith('/') || value.includes('//') : value.includes('/'));
  if (bad) throw new InvalidOptionError(owner, option, allowed, value);
}
