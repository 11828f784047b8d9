// @ts-check
/**
 * The live dashboard: subscribes to one stream's retained info/status/factors and its metrics
 * over MQTT/WebSocket (mqtt.js' browser build) and draws them.
 *
 * ```
 * page URL ?ws=ws://127.0.0.1:9001/mqtt&prefix=cfstream&stream=sim
 *     each missing one from /config.json (startDashboard), else ws://<page host>/mqtt, cfstream, sim
 * <prefix>/<stream>/info     → header line (kind, n, d, rate, …)
 * <prefix>/<stream>/status   → device badge online / stale (the sensor went silent) / offline
 * <prefix>/<stream>/factors  → factor traces or heatmap; error chart (held-out, compressed fit, true)
 * <prefix>/<stream>/metrics  → tiles (frames/s, p99, gaps, rejects, queue); frames/s + p99 chart
 * a payload that fails its check (messages.js) is ignored, counted per topic and shown.
 * ```
 *
 * Messages only update state; drawing happens once per animation frame for whatever changed,
 * so a burst of messages costs one draw. `window.__cfstream` exposes the state for tests.
 */
import mqtt from 'mqtt';
import uPlot from 'uplot';
import { drawFactors } from './factorsView.js';
import { checkActivations, checkFactors, checkInfo, checkMetrics, checkStatus, decodeText, MalformedError, parseObject } from './messages.js';

/** @typedef {import('./messages.js').FactorsView} FactorsView */
/** @typedef {import('./messages.js').MetricsView} MetricsView */
/** @typedef {import('./messages.js').StreamInfoView} StreamInfoView */
/** @typedef {'info' | 'status' | 'factors' | 'metrics' | 'activations'} Topic */

const HISTORY = 600; // points kept per chart
const CHART_HEIGHT = 220;

/**
 * Where to connect: the page's query, then /config.json, then defaults.
 * @returns {Promise<{ wsUrl: string, prefix: string, stream: string }>}
 */
async function loadConfig() {
  const q = new URLSearchParams(location.search);
  /** @type {{ wsUrl?: unknown, prefix?: unknown, stream?: unknown }} */
  let server = {};
  try {
    const r = await fetch('/config.json', { cache: 'no-store' });
    if (r.ok) server = await r.json();
  } catch {
    // served without startDashboard: defaults below
  }
  /** @param {unknown} v */
  const str = (v) => (typeof v === 'string' && v !== '' ? v : undefined);
  const own = location.host ? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/mqtt` : 'ws://127.0.0.1:9001/mqtt';
  return {
    wsUrl: reachable(str(q.get('ws')) ?? str(server.wsUrl) ?? own),
    prefix: str(q.get('prefix')) ?? str(server.prefix) ?? 'cfstream',
    stream: str(q.get('stream')) ?? str(server.stream) ?? 'sim',
  };
}

/**
 * A broker bound to every interface reports ws://0.0.0.0:…: connect to the host that served the page instead.
 * @param {string} wsUrl
 */
function reachable(wsUrl) {
  try {
    const u = new URL(wsUrl);
    if ((u.hostname === '0.0.0.0' || u.hostname === '[::]') && location.hostname) {
      u.hostname = location.hostname;
      return u.href;
    }
  } catch {
    // not a URL: mqtt.connect reports it
  }
  return wsUrl;
}

/**
 * @param {string} id
 * @returns {HTMLElement}
 */
function el(id) {
  const e = document.getElementById(id);
  if (!e) throw new Error(`dashboard: #${id} missing from index.html`);
  return e;
}

/**
 * @param {number | null | undefined} v
 * @param {number} digits
 */
function fmt(v, digits) {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits);
}

/** What the page knows; `window.__cfstream` for tests. */
const state = {
  config: /** @type {{ wsUrl: string, prefix: string, stream: string } | null} */ (null),
  broker: 'connecting',
  status: /** @type {'unknown' | 'online' | 'stale' | 'offline'} */ ('unknown'),
  info: /** @type {StreamInfoView | null} */ (null),
  factorsSeen: 0,
  metricsSeen: 0,
  activationsSeen: 0,
  lastIndex: /** @type {number | null} */ (null),
  factors: /** @type {FactorsView | null} */ (null),
  metrics: /** @type {MetricsView | null} */ (null),
  malformed: { total: 0, info: 0, status: 0, factors: 0, metrics: 0, activations: 0 },
  lastProblem: /** @type {string | null} */ (null),
  renders: { factors: 0, errors: 0, metrics: 0, activations: 0 },
  factorsMode: /** @type {'traces' | 'heatmap' | null} */ (null),
  lastFactorsRenderMs: /** @type {number | null} */ (null),
  errorPoints: 0,
  metricsPoints: 0,
};
/** @type {Window & { __cfstream?: typeof state }} */ (window).__cfstream = state;

// Chart histories: x, then one array per series (uPlot's column layout).
/** @type {[number[], (number | null)[], (number | null)[], (number | null)[]]} */
const errorData = [[], [], [], []];
/** @type {[number[], (number | null)[], (number | null)[]]} */
const metricsData = [[], [], []];
/** @type {(number | null)[][]} time, then one series per component (made when the rank is known) */
let activationData = [[]];
const dirty = { header: true, factors: false, errors: false, metrics: false, activations: false };
let frameRequested = false;

/** @type {uPlot | null} */
let errorChart = null;
/** @type {uPlot | null} */
let metricsChart = null;
/** @type {uPlot | null} */
let activationChart = null;
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

function requestDraw() {
  if (frameRequested) return;
  frameRequested = true;
  requestAnimationFrame(() => {
    frameRequested = false;
    try {
      draw();
    } catch (e) {
      showProblem(`drawing failed: ${/** @type {Error} */ (e).message}`);
    }
  });
}

/**
 * Appends a point, dropping the oldest beyond HISTORY; the same x replaces the last point, a step
 * back in x (a restarted pipeline) starts afresh.
 * @param {(number | null)[][]} data
 * @param {number} x
 * @param {(number | null)[]} ys
 */
function push(data, x, ys) {
  const xs = /** @type {number[]} */ (data[0]);
  const last = xs[xs.length - 1];
  if (last !== undefined && x < last) for (const s of data) s.length = 0;
  else if (last !== undefined && x === last) for (const s of data) s.pop();
  xs.push(x);
  ys.forEach((y, i) => /** @type {(number | null)[]} */ (data[i + 1]).push(y));
  if (xs.length > HISTORY) for (const s of data) s.shift();
}

/** @param {string} text */
function showProblem(text) {
  state.lastProblem = text;
  const p = el('problem');
  p.textContent = text;
  p.classList.remove('hidden');
}

/**
 * @param {Topic} topic
 * @param {string} why
 */
function countMalformed(topic, why) {
  state.malformed[topic]++;
  state.malformed.total++;
  const badge = el('malformed');
  badge.textContent = `${state.malformed.total} malformed ignored`;
  badge.title = `ignored: info ${state.malformed.info}, status ${state.malformed.status}, factors ${state.malformed.factors}, metrics ${state.malformed.metrics}`;
  badge.className = 'badge malformed';
  showProblem(`ignored a malformed ${topic} message: ${why}`);
}

/**
 * Handles one message of the stream's topics; a bad payload is counted, never thrown.
 * @param {Topic} topic
 * @param {Uint8Array} payload
 */
function onMessage(topic, payload) {
  try {
    if (payload.length === 0) { // a retained message being cleared
      if (topic === 'status') state.status = 'unknown';
      if (topic === 'info') state.info = null;
      dirty.header = true;
      requestDraw();
      return;
    }
    const text = decodeText(payload);
    switch (topic) {
      case 'status':
        state.status = checkStatus(text);
        dirty.header = true;
        break;
      case 'info':
        state.info = checkInfo(parseObject(text));
        dirty.header = true;
        break;
      case 'factors': {
        const f = checkFactors(parseObject(text));
        const prev = state.factors;
        state.factorsSeen++;
        state.factors = f;
        state.lastIndex = f.index;
        dirty.factors = true;
        // The retained message comes again after a reconnect: plot it once.
        if (!prev || prev.index !== f.index || prev.seq !== f.seq) {
          push(errorData, f.t, [f.quality?.heldOutError ?? null, f.quality?.compressedError ?? null, f.trueError]);
          dirty.errors = true;
        }
        break;
      }
      case 'activations': {
        const a = checkActivations(parseObject(text));
        if (activationData.length !== a.rank + 1) { // a new rank: a new chart
          activationData = [[], ...Array.from({ length: a.rank }, () => [])];
          activationChart?.destroy();
          activationChart = null;
        }
        state.activationsSeen++;
        push(activationData, a.t, a.h);
        dirty.activations = true;
        break;
      }
      case 'metrics': {
        const m = checkMetrics(parseObject(text));
        state.metricsSeen++;
        state.metrics = m;
        push(metricsData, (m.at ?? performance.now()) / 1000, [m.framesPerSecond, m.p99]);
        dirty.metrics = true;
        break;
      }
    }
  } catch (e) {
    if (e instanceof MalformedError) countMalformed(topic, e.message);
    else showProblem(`${topic}: ${/** @type {Error} */ (e).message}`);
    return;
  }
  requestDraw();
}

function drawHeader() {
  const { config, info, status, broker } = state;
  if (config) el('stream-name').textContent = `${config.prefix}/${config.stream}`;
  const device = el('device-status');
  device.textContent = `device: ${status}`;
  device.className = `badge ${status}`;
  document.body.dataset.status = status;
  const b = el('broker-status');
  b.textContent = `broker: ${broker}`;
  b.className = `badge ${broker}`;
  b.title = config?.wsUrl ?? '';
  if (info) {
    const parts = [info.id, info.kind, `n = ${info.n}`];
    if (info.projection) parts.push(`d = ${fmt(info.projection.d, 0)} (${info.projection.ensemble}${info.projection.p !== null ? `, p = ${info.projection.p}` : ''})`);
    if (info.rate !== null) parts.push(info.rate > 0 ? `${info.rate} Hz` : 'irregular rate');
    if (info.units) parts.push(info.units);
    if (info.labels) parts.push(`${info.labels} labels`);
    el('info').textContent = parts.join(' · ');
  } else {
    el('info').textContent = 'waiting for the stream\'s info…';
  }
}

function drawFactorsPanel() {
  const f = state.factors;
  if (!f) return;
  const select = /** @type {HTMLSelectElement} */ (el('factors-view'));
  const mode = /** @type {import('./factorsView.js').FactorsViewMode} */ (select.value);
  const r = drawFactors(/** @type {HTMLCanvasElement} */ (el('factors-canvas')), f.W, mode);
  state.factorsMode = r.mode;
  state.lastFactorsRenderMs = r.ms;
  state.renders.factors++;
  el('factors-meta').textContent = `#${f.index} · rank ${f.rank} · n ${f.n}${f.d !== null ? ` · d ${f.d}` : ''} · seq ${f.seq} · t ${fmt(f.t, 2)} s` +
    `${f.framesSeen !== null ? ` · ${f.framesSeen} frames seen` : ''}${f.seconds !== null ? ` · recovered in ${fmt(f.seconds, 2)} s` : ''} · ${r.mode} drawn in ${fmt(r.ms, 1)} ms`;
  el('factors-axis').replaceChildren(...[0, Math.floor((f.n - 1) / 2), f.n - 1].map((i) => {
    const s = document.createElement('span');
    s.textContent = String(i);
    return s;
  }));
  el('f-index').textContent = `#${f.index}`;
}

/**
 * @param {HTMLElement} host
 * @param {Omit<uPlot.Options, 'width' | 'height'>} opts
 * @param {uPlot.AlignedData} data
 */
function makeChart(host, opts, data) {
  host.replaceChildren(); // the placeholder
  const chart = new uPlot({ ...opts, legend: { live: false }, width: Math.max(200, host.clientWidth), height: CHART_HEIGHT }, data, host);
  new ResizeObserver(() => chart.setSize({ width: Math.max(200, host.clientWidth), height: CHART_HEIGHT })).observe(host);
  return chart;
}

/** @type {uPlot.Scale.Range} */
const fromZero = (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1];

function drawErrors() {
  errorChart ??= makeChart(el('error-chart'), {
    scales: { x: { time: false }, y: { range: fromZero } },
    axes: [{ label: 'stream time (s)' }, { label: 'relative error', size: 60 }],
    series: [
      { label: 't' },
      { label: 'held-out', stroke: '#4e79a7', width: 2, spanGaps: true },
      { label: 'compressed fit', stroke: '#f28e2b', width: 2, spanGaps: true },
      { label: 'true errW (factors, simulators)', stroke: '#59a14f', width: 2, dash: [6, 4], spanGaps: true },
    ],
  }, errorData);
  errorChart.setData(errorData);
  state.errorPoints = errorData[0].length;
  state.renders.errors++;
  const f = state.factors;
  el('error-meta').textContent = f
    ? `held-out ${fmt(f.quality?.heldOutError, 3)} · compressed ${fmt(f.quality?.compressedError, 3)}${f.trueError !== null ? ` · true errW ${fmt(f.trueError, 3)}` : ''} · residual ${f.error === null ? '–' : f.error.toExponential(1)}`
    : '';
}

function drawMetrics() {
  const m = state.metrics;
  if (!m) return;
  metricsChart ??= makeChart(el('metrics-chart'), {
    scales: { x: { time: false }, fps: { range: fromZero }, ms: { range: fromZero } },
    axes: [
      { label: 'pipeline clock (s)' },
      { scale: 'fps', label: 'frames/s', size: 60 },
      { scale: 'ms', label: 'latency p99 (ms)', side: 1, size: 60, grid: { show: false } },
    ],
    series: [
      { label: 'clock' },
      { label: 'frames/s', scale: 'fps', stroke: '#4e79a7', width: 2, spanGaps: true },
      { label: 'p99 (ms)', scale: 'ms', stroke: '#e15759', width: 2, spanGaps: true },
    ],
  }, metricsData);
  metricsChart.setData(metricsData);
  state.metricsPoints = metricsData[0].length;
  state.renders.metrics++;
  el('m-fps').textContent = fmt(m.framesPerSecond, 0);
  el('m-p99').textContent = m.p99 === null ? '–' : `${fmt(m.p99, m.p99 < 10 ? 2 : 1)} ms`;
  el('m-gaps').textContent = `${m.gaps}${m.lost !== null ? ` (${m.lost})` : ''}`;
  el('m-rejects').textContent = String(m.rejects);
  el('m-queue').textContent = m.queueCapacity ? `${fmt(m.queueDepth, 0)}/${m.queueCapacity}` : '–';
  el('metrics-meta').textContent = `p50 ${fmt(m.p50, 2)} ms${m.framesTotal !== null ? ` · ${m.framesTotal} frames` : ''}` +
    `${m.skipped ? ` · ${m.skipped} skipped` : ''}${m.failures ? ` · ${m.failures} failed` : ''}`;
}

function drawActivations() {
  const rank = activationData.length - 1;
  if (rank < 1) return;
  activationChart ??= makeChart(el('activations-chart'), {
    scales: { x: { time: false }, y: { range: fromZero } },
    axes: [{ label: 'stream time (s)' }, { label: 'activation h', size: 60 }],
    series: [{ label: 't' }, ...Array.from({ length: rank }, (_, c) => ({ label: `h${c + 1}`, stroke: PALETTE[c % PALETTE.length], width: 1.5, spanGaps: true }))],
  }, /** @type {uPlot.AlignedData} */ (activationData));
  activationChart.setData(/** @type {uPlot.AlignedData} */ (activationData));
  state.renders.activations++;
  el('activations-meta').textContent = `${rank} components · ${/** @type {number[]} */ (activationData[0]).length} points`;
}

function draw() {
  if (dirty.header) { dirty.header = false; drawHeader(); }
  if (dirty.factors) { dirty.factors = false; drawFactorsPanel(); }
  if (dirty.errors) { dirty.errors = false; drawErrors(); }
  if (dirty.metrics) { dirty.metrics = false; drawMetrics(); }
  if (dirty.activations) { dirty.activations = false; drawActivations(); }
}

async function main() {
  const config = await loadConfig();
  state.config = config;
  const base = `${config.prefix}/${config.stream}`;
  /** @type {Topic[]} */
  const topics = ['info', 'status', 'factors', 'metrics', 'activations'];
  const client = mqtt.connect(config.wsUrl, {
    clientId: `cfstream-dashboard-${Math.random().toString(16).slice(2, 10)}`,
    protocolVersion: 4, // the embedded broker (aedes) speaks 3.1.1
    reconnectPeriod: 2000,
    connectTimeout: 5000,
  });
  /** @param {string} s */
  const setBroker = (s) => { state.broker = s; dirty.header = true; requestDraw(); };
  client.on('connect', () => {
    setBroker('connected');
    client.subscribe(topics.map((t) => `${base}/${t}`), { qos: 0 }, (err) => { if (err) showProblem(`subscribe failed: ${err.message}`); });
  });
  client.on('reconnect', () => setBroker('reconnecting'));
  client.on('offline', () => setBroker('offline'));
  client.on('error', (e) => { setBroker('error'); showProblem(`broker ${config.wsUrl}: ${e.message}`); });
  client.on('message', (topic, payload) => {
    const suffix = topic.startsWith(`${base}/`) ? topic.slice(base.length + 1) : '';
    if (topics.includes(/** @type {Topic} */ (suffix))) onMessage(/** @type {Topic} */ (suffix), payload);
  });
  el('factors-view').addEventListener('change', () => { dirty.factors = true; requestDraw(); });
  let resizeTimer = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(() => { dirty.factors = true; requestDraw(); }, 100);
  });
  requestDraw();
}

main().catch((e) => showProblem(`dashboard failed to start: ${/** @type {Error} */ (e).message}`));
