/**
 * The live dashboard in headless Chromium (playwright-core driving Debian's /usr/bin/chromium):
 * the embedded broker on free ports, the page server, a publisher (mqtt.js over TCP) and the page
 * (mqtt.js over WebSocket). Checks that retained info/status/factors/metrics reach the page, that
 * new messages redraw its canvases, that a malformed payload is ignored, counted and shown, and
 * that 'offline' is shown. Writes a screenshot (CFSTREAM_DASHBOARD_SCREENSHOT, default
 * <tmpdir>/cfstream-dashboard/dashboard.png).
 *
 * Without Chromium the suite skips, but only outside CI (process.env.CI unset): CI installs it.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Rng } from '../../src/linalg/random.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type EmbeddedBroker } from '../../devices/mqtt/broker.js';
import { startDashboard, type Dashboard } from '../../src/dashboard/server.js';

// $CHROMIUM_PATH if set (only that), else Debian's.
const CANDIDATES = process.env.CHROMIUM_PATH ? [process.env.CHROMIUM_PATH] : ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
const CHROMIUM = CANDIDATES.find((p) => existsSync(p));
const CI = Boolean(process.env.CI);
const SKIP_REASON = `skipped: no Chromium at ${CANDIDATES.join(' or ')} (apt-get install chromium, or set CHROMIUM_PATH); CI must have it`;
const SCREENSHOT = process.env.CFSTREAM_DASHBOARD_SCREENSHOT ?? join(tmpdir(), 'cfstream-dashboard', 'dashboard.png');
const BASE = 'cfstream/sim';
const N = 2000, R = 10;

/** What dashboard.js exposes as window.__cfstream (the fields read here). */
interface PageState {
  config: { wsUrl: string; prefix: string; stream: string } | null;
  broker: string;
  status: string;
  info: { id: string; n: number } | null;
  factorsSeen: number;
  metricsSeen: number;
  activationsSeen: number;
  lastIndex: number | null;
  malformed: { total: number; info: number; status: number; factors: number; metrics: number };
  lastProblem: string | null;
  renders: { factors: number; errors: number; metrics: number; activations: number };
  factorsMode: 'traces' | 'heatmap' | null;
  lastFactorsRenderMs: number | null;
  errorPoints: number;
  metricsPoints: number;
}

/** A seeded uniform generator (the project's Rng), so the published data (and the screenshot) are the same every run. */
function rng(seed: number): () => number {
  const g = new Rng(seed);
  return () => g.uniform();
}

/** Sparse non-negative factors like the paper's model (k = 40 nonzeros per column), 4 decimals. */
function sparseW(seed: number): number[][] {
  const rand = rng(seed);
  return Array.from({ length: R }, () => {
    const col = new Array<number>(N).fill(0);
    for (let j = 0; j < 40; j++) col[Math.floor(rand() * N)] = Math.round((0.2 + rand()) * 1e4) / 1e4;
    return col;
  });
}

function factors(index: number, extra: Record<string, unknown> = {}): string {
  const held = 0.08 + 0.5 * Math.exp(-index / 3);
  return JSON.stringify({
    seq: index * 250, t: index, n: N, d: 400, rank: R, W: sparseW(index), Wc: [], error: 1e-9, framesSeen: index * 250,
    seconds: 0.12, longestSliceMs: 15, warmStarted: index > 1, index, skipped: 0,
    quality: { heldOutError: held, compressedError: 0.04 + 0.02 * Math.exp(-index / 3), frames: 200, rows: 40 },
    ...extra,
  });
}

function metrics(i: number, extra: Record<string, unknown> = {}): string {
  const rand = rng(100 + i);
  return JSON.stringify({
    at: 1000 * i, intervalMs: 1000, frames: 250, framesPerSecond: 240 + 20 * rand(), framesTotal: 250 * i, updates: 8,
    latencyMs: { p50: 1.2 + rand(), p99: 3 + 4 * rand(), max: 9, samples: 250, dropped: 0 },
    rejects: 0, rejectsByReason: {}, gaps: 0, lost: 0, clippedTotal: 0, skipped: 0, failures: 0, queueDepth: 3, queueCapacity: 64,
    ...extra,
  });
}

const INFO = JSON.stringify({
  id: 'sim', kind: 'compressed', n: N, rate: 250, projection: { ensemble: 'sparse-binary', n: N, d: 400, p: 5, seed: 1 },
});

describe.skipIf(!CHROMIUM && !CI)(CHROMIUM || CI ? 'dashboard in headless Chromium' : `dashboard in headless Chromium (${SKIP_REASON})`, () => {
  let broker: EmbeddedBroker;
  let dash: Dashboard;
  let pub: MqttClient;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  const publish = (topic: string, payload: string, retain = false) => pub.publishAsync(`${BASE}/${topic}`, payload, { qos: 1, retain });
  // The page's CSP forbids eval, so no string predicates in the page: poll its state from here (without W).
  const pageState = (): Promise<PageState> => page.evaluate(() => ({ ...(window as unknown as { __cfstream: PageState }).__cfstream, factors: undefined, metrics: undefined }));
  const waitFor = async (predicate: (s: PageState) => boolean): Promise<PageState> => {
    const deadline = Date.now() + 5000;
    for (;;) {
      const s = await pageState();
      if (predicate(s)) return s;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${predicate.toString()}; page state ${JSON.stringify(s)}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  const canvasUrl = (selector: string) => page.$eval(selector, (c) => (c as HTMLCanvasElement).toDataURL());

  beforeAll(async () => {
    if (!CHROMIUM) throw new Error(`dashboard test: ${SKIP_REASON} (CI is set, so this fails instead of skipping)`);
    broker = await startBroker({ port: 0, wsPort: 0 });
    dash = await startDashboard({ wsUrl: broker.wsUrl!, prefix: 'cfstream', stream: 'sim' });
    pub = await mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
    // Retained before the page exists: the page must get them on subscribe.
    await publish('info', INFO, true);
    await publish('status', 'online', true);
    await publish('factors', factors(1), true);
    await publish('metrics', metrics(1)); // not retained: reaches only current subscribers
    // --no-sandbox: the test runs as root in a container, where Chromium's sandbox cannot start; the page is our own.
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`); });
    await page.goto(dash.url);
  }, 20_000);

  afterAll(async () => {
    await browser?.close();
    await pub?.endAsync();
    await dash?.close();
    await broker?.close();
  });

  it('shows the retained info, status and factors with the WebSocket URL from /config.json', async () => {
    await waitFor((s) => s.broker === 'connected' && s.status === 'online' && s.info !== null && s.lastIndex === 1 && s.renders.factors >= 1);
    const s = await pageState();
    expect(s.config).toEqual({ wsUrl: broker.wsUrl, prefix: 'cfstream', stream: 'sim' });
    expect(s.factorsSeen).toBe(1);
    expect(s.metricsSeen).toBe(0); // published before the page subscribed, not retained
    expect(s.factorsMode).toBe('traces'); // rank 10
    expect(await page.textContent('#device-status')).toBe('device: online');
    expect(await page.textContent('#info')).toContain('n = 2000');
    expect(await page.textContent('#info')).toContain('d = 400 (sparse-binary, p = 5)');
    expect(await page.textContent('#f-index')).toBe('#1');
  });

  it('redraws factors, errors and metrics as live messages arrive, fast at n = 2000, r = 10', async () => {
    const factorsBefore = await canvasUrl('#factors-canvas');
    await publish('factors', factors(2, { trueError: 0.3 }), true);
    await publish('metrics', metrics(2, { gaps: 3, lost: 7, rejects: 2, latencyMs: { p50: 1.5, p99: 12.34, max: 20, samples: 250, dropped: 0 } }));
    await waitFor((s) => s.lastIndex === 2 && s.renders.factors >= 2 && s.metricsSeen === 1 && s.renders.metrics >= 1 && s.errorPoints === 2);
    expect(await canvasUrl('#factors-canvas')).not.toBe(factorsBefore);
    expect(await page.textContent('#m-p99')).toBe('12.3 ms');
    expect(await page.textContent('#m-gaps')).toBe('3 (7)');
    expect(await page.textContent('#m-rejects')).toBe('2');
    expect(await page.textContent('#m-queue')).toBe('3/64');
    expect(await page.textContent('#error-meta')).toContain('true errW 0.300');

    const errorsBefore = await canvasUrl('#error-chart canvas');
    const metricsBefore = await canvasUrl('#metrics-chart canvas');
    for (let i = 3; i <= 14; i++) {
      await publish('factors', factors(i, { trueError: 0.05 + 0.4 * Math.exp(-i / 3) }), true);
      await publish('metrics', metrics(i));
    }
    await waitFor((s) => s.lastIndex === 14 && s.metricsSeen === 13 && s.errorPoints === 14 && s.metricsPoints === 13);
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    expect(await canvasUrl('#error-chart canvas')).not.toBe(errorsBefore);
    expect(await canvasUrl('#metrics-chart canvas')).not.toBe(metricsBefore);
    // Activations over time: one series per component, a single frame or a block (averaged).
    for (let i = 0; i < 5; i++) await publish('activations', JSON.stringify({ seq: 100 * i, t: i, rank: 10, h: Array.from({ length: 10 }, (_, c) => (c + 1) * (i + 1)) }));
    await publish('activations', JSON.stringify({ seq: 600, t: 6, rank: 10, h: [Array(10).fill(1), Array(10).fill(3)] }));
    await waitFor((st) => st.activationsSeen === 6 && st.renders.activations >= 1);
    expect(await page.textContent('#activations-meta')).toContain('10 components · 6 points');
    const activationsBefore = await canvasUrl('#activations-chart canvas');
    await publish('activations', JSON.stringify({ seq: 700, t: 7, rank: 10, h: Array(10).fill(50) }));
    await waitFor((st) => st.activationsSeen === 7);
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    expect(await canvasUrl('#activations-chart canvas')).not.toBe(activationsBefore);
    const s = await pageState();
    expect(s.factorsSeen).toBe(14);
    expect(s.lastFactorsRenderMs).toBeLessThan(50);

    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(statSync(SCREENSHOT).size).toBeLessThan(150_000);

    await page.selectOption('#factors-view', 'heatmap');
    await waitFor((s) => s.factorsMode === 'heatmap');
    expect((await pageState()).lastFactorsRenderMs).toBeLessThan(50);
    await page.selectOption('#factors-view', 'auto');
    await waitFor((s) => s.factorsMode === 'traces');
  });

  it('ignores malformed payloads, counts and shows them, and keeps working', async () => {
    await publish('factors', 'not json {');
    await publish('factors', JSON.stringify({ seq: 1, t: 1, n: N, rank: R, index: 99, W: [[1, 2]] }));
    await publish('metrics', JSON.stringify({ W: 5 }));
    await publish('status', 'maybe');
    await pub.publishAsync(`${BASE}/info`, Buffer.from([0xff, 0xfe, 0x00]), { qos: 1 });
    await waitFor((s) => s.malformed.total === 5);
    let s = await pageState();
    expect(s.malformed).toEqual({ total: 5, info: 1, status: 1, factors: 2, metrics: 1, activations: 0 });
    expect(s.lastIndex).toBe(14); // the bad factors (index 99) were not taken
    expect(s.status).toBe('online');
    expect(await page.textContent('#malformed')).toBe('5 malformed ignored');
    expect(await page.isVisible('#problem')).toBe(true);
    expect(await page.textContent('#problem')).toContain('malformed info message: not UTF-8');

    const rendered = s.renders.factors;
    await publish('factors', factors(15), true);
    s = await waitFor((p) => p.lastIndex === 15 && p.renders.factors > rendered);
    expect(s.factorsSeen).toBe(15);
    expect(pageErrors).toEqual([]);
  });

  it("shows the retained status 'offline'", async () => {
    await publish('status', 'offline', true);
    await waitFor((s) => s.status === 'offline');
    await page.waitForFunction(() => document.querySelector('#device-status')?.textContent === 'device: offline', undefined, { timeout: 5000 });
    expect(await page.getAttribute('#device-status', 'class')).toBe('badge offline');
    // An empty retained payload clears the topic: status unknown, and not a malformed message.
    await publish('status', '', true);
    const s = await waitFor((p) => p.status === 'unknown');
    expect(s.malformed.total).toBe(5);
  });

  it("takes the stream from the page's own query over /config.json", async () => {
    const other = await browser.newPage();
    try {
      await other.goto(`${dash.url}?stream=other&prefix=lab`);
      await other.waitForFunction(() => (window as unknown as { __cfstream?: PageState }).__cfstream?.broker === 'connected', undefined, { timeout: 5000 });
      const s = await other.evaluate(() => (window as unknown as { __cfstream: PageState }).__cfstream);
      expect(s.config).toEqual({ wsUrl: broker.wsUrl, prefix: 'lab', stream: 'other' });
      expect(s.factorsSeen).toBe(0);
      expect(await other.textContent('#stream-name')).toBe('lab/other');
    } finally {
      await other.close();
    }
  });
});
