import { readFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { createDashboardHandler, DEFAULT_DASHBOARD_OPTIONS, startDashboard, type Dashboard } from '../../src/dashboard/server.js';

const root = join(import.meta.dirname, '..', '..');
const WS = 'ws://127.0.0.1:9001/mqtt';

interface Reply { status: number; headers: IncomingHttpHeaders; body: Buffer }

/** One raw request: node:http sends `path` as given (fetch would normalise `/../`). */
function get(port: number, path: string, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The local address of the listening TCP socket on `port` from /proc/net/tcp (Linux), e.g. '0100007F' for 127.0.0.1; null without /proc. */
function boundAddress(port: number): string | null | undefined {
  let table: string;
  try {
    table = readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return null;
  }
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const line of table.split('\n').slice(1)) {
    const [, local, , state] = line.trim().split(/\s+/);
    if (local?.endsWith(`:${hex}`) && state === '0A') return local.split(':')[0]; // 0A = LISTEN
  }
  return undefined;
}

describe('startDashboard', () => {
  let dash: Dashboard;
  beforeAll(async () => {
    dash = await startDashboard({ wsUrl: WS, prefix: 'lab/eeg', stream: 'cyton1' });
  });
  afterAll(() => dash.close());

  it('binds loopback on a free port by default', () => {
    expect(DEFAULT_DASHBOARD_OPTIONS).toEqual({ host: '127.0.0.1', port: 0, prefix: 'cfstream', stream: 'sim' });
    expect(dash.host).toBe('127.0.0.1');
    expect(dash.port).toBeGreaterThan(0);
    expect(dash.url).toBe(`http://127.0.0.1:${dash.port}/`);
    const bound = boundAddress(dash.port);
    if (bound !== null) expect(bound).toBe('0100007F'); // the kernel's own view: 127.0.0.1, not 0.0.0.0
  });

  it.each([
    ['/', 'text/html; charset=utf-8', 'src/dashboard/index.html'],
    ['/index.html', 'text/html; charset=utf-8', 'src/dashboard/index.html'],
    ['/dashboard.js', 'text/javascript; charset=utf-8', 'src/dashboard/dashboard.js'],
    ['/messages.js', 'text/javascript; charset=utf-8', 'src/dashboard/messages.js'],
    ['/factorsView.js', 'text/javascript; charset=utf-8', 'src/dashboard/factorsView.js'],
    ['/style.css', 'text/css; charset=utf-8', 'src/dashboard/style.css'],
    ['/vendor/mqtt.esm.js', 'text/javascript; charset=utf-8', 'node_modules/mqtt/dist/mqtt.esm.js'],
    ['/vendor/uPlot.esm.js', 'text/javascript; charset=utf-8', 'node_modules/uplot/dist/uPlot.esm.js'],
    ['/vendor/uPlot.min.css', 'text/css; charset=utf-8', 'node_modules/uplot/dist/uPlot.min.css'],
  ])('serves %s as %s', async (path, type, file) => {
    const r = await get(dash.port, path);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe(type);
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.body.equals(readFileSync(join(root, file)))).toBe(true);
    expect(Number(r.headers['content-length'])).toBe(r.body.length);
  });

  it('gives the page a CSP that admits exactly its import map', async () => {
    const r = await get(dash.port, '/');
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/]+=*'/);
    expect(csp).toContain("connect-src 'self' ws: wss:");
    expect(csp).not.toContain('unsafe');
    const map = /<script type="importmap">([\s\S]*?)<\/script>/.exec(r.body.toString())![1]!;
    expect(JSON.parse(map).imports).toEqual({ mqtt: '/vendor/mqtt.esm.js', uplot: '/vendor/uPlot.esm.js' });
  });

  it('tells the page the broker URL, prefix and stream in /config.json', async () => {
    const r = await get(dash.port, '/config.json');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(r.body.toString())).toEqual({ wsUrl: WS, prefix: 'lab/eeg', stream: 'cyton1' });
  });

  it('ignores the query string of a whitelisted path', async () => {
    expect((await get(dash.port, '/?ws=ws://x:1/mqtt&stream=other')).status).toBe(200);
    expect((await get(dash.port, '/dashboard.js?v=2')).status).toBe(200);
  });

  it.each([
    '/../package.json', '/..%2fpackage.json', '/%2e%2e/package.json', '/%2e%2e%2fpackage.json', '/%252e%252e/package.json',
    '/vendor/../package.json', '/vendor/..%2f..%2fpackage.json', '/vendor/%2e%2e/%2e%2e/package.json', '/vendor/../../../etc/passwd',
    '/..\\package.json', '//etc/passwd', '/./dashboard.js', '/dashboard.js/', '/DASHBOARD.JS', '/dashboard.js%00', '/dashboard%2ejs',
    '/server.ts', '/tsconfig.json', '/vendor/', '/vendor/mqtt.js', '/vendor/mqtt.min.js', '/node_modules/mqtt/dist/mqtt.esm.js',
    '/src/dashboard/index.html', '/package.json', '/favicon.ico', 'http://127.0.0.1/package.json',
  ])('answers 404 to %s', async (path) => {
    const r = await get(dash.port, path);
    expect(r.status).toBe(404);
    expect(r.body.toString()).toBe('not found\n');
  });

  it('answers HEAD without a body and other methods with 405', async () => {
    const head = await get(dash.port, '/dashboard.js', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(Number(head.headers['content-length'])).toBe(readFileSync(join(root, 'src/dashboard/dashboard.js')).length);
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const r = await get(dash.port, '/index.html', method);
      expect(r.status).toBe(405);
      expect(r.headers.allow).toBe('GET, HEAD');
    }
  });

  it('close() is idempotent and frees the port', async () => {
    const d = await startDashboard({ wsUrl: WS });
    await Promise.all([d.close(), d.close()]);
    await expect(get(d.port, '/')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('names the address when the port is taken', async () => {
    await expect(startDashboard({ wsUrl: WS, port: dash.port })).rejects.toThrow(`dashboard listener on 127.0.0.1:${dash.port}: EADDRINUSE`);
  });

  it.each([
    [{ wsUrl: 'http://127.0.0.1:9001/mqtt' }, 'wsUrl'],
    [{ wsUrl: 'not a url' }, 'wsUrl'],
    [{}, 'wsUrl'],
    [{ wsUrl: WS, prefix: 'a/#' }, 'prefix'],
    [{ wsUrl: WS, prefix: '/lead' }, 'prefix'],
    [{ wsUrl: WS, stream: 'a/b' }, 'stream'],
    [{ wsUrl: WS, stream: '' }, 'stream'],
    [{ wsUrl: WS, port: -1 }, 'port'],
    [{ wsUrl: WS, port: 1.5 }, 'port'],
    [{ wsUrl: WS, host: '' }, 'host'],
    [{ wsUrl: WS, prot: 80 }, 'prot'],
  ])('refuses %j (option %s)', async (options, option) => {
    const e = await startDashboard(options as never).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(InvalidOptionError);
    expect((e as InvalidOptionError).option).toBe(option);
  });
});

describe('createDashboardHandler', () => {
  it('serves the page on any server; without wsUrl the page uses its own host', async () => {
    const server = createServer(createDashboardHandler());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      expect(JSON.parse((await get(port, '/config.json')).body.toString())).toEqual({ wsUrl: null, prefix: 'cfstream', stream: 'sim' });
      expect((await get(port, '/vendor/mqtt.esm.js')).status).toBe(200);
      expect((await get(port, '/../package.json')).status).toBe(404);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
