/**
 * A small dependency-free SVG line-chart writer for the experiment plots (`--plot out.svg`):
 * stacked panels that share the chart width, each with axes, ticks, a legend, optional vertical
 * markers (e.g. seizure onsets) and any number of line series.
 *
 *   ┌ title ───────────────────────────────────────────┐
 *   │ panel title                          ── a  ┄┄ b │
 *   │ 1 ┤    ╷  /\      ╷                             │
 *   │ 0 ┼────╵─/──\─────╵──────                       │   ╷ markers (dashed)
 *   │   0        1000       2000                      │
 *   └──────────────────────────────────────────────────┘
 *
 * Long series are decimated per pixel column: of the points that fall in one column only the
 * minimum and the maximum are kept (in their original order), so a path has at most about two
 * points per column whatever the series length, and spikes stay visible. A non-finite x or y ends
 * the current line (a gap); the next finite point starts a new one. All text is XML-escaped.
 *
 * @example
 * writeFileSync('out.svg', svgChart([{ title: 'signal', series: [{ label: 'y', y: [0, 1, 0.5] }], markers: [1] }]));
 */
import { DataError, InvalidOptionError } from '../errors.js';

/** One line. */
export interface Series {
  label: string;
  /** The values; non-finite values leave a gap. */
  y: ArrayLike<number>;
  /** x of each value (same length as y; default 0, 1, 2, …). */
  x?: ArrayLike<number>;
  /** CSS colour (default: from a 10-colour palette by position in the panel). */
  color?: string;
  /** Draw dashed. */
  dashed?: boolean;
}

/** One stacked panel. */
export interface Panel {
  title?: string;
  series: Series[];
  xLabel?: string;
  yLabel?: string;
  /** Vertical dashed lines at these x (those outside the x range are skipped). */
  markers?: number[];
  /** Fixed y range [lo, hi] (default: the data's range, widened to nice ticks). */
  yRange?: [number, number];
  /** Tick positions on x (default: about 8 nice ticks). */
  xTicks?: number[];
}

/** Options of the whole chart. */
export interface ChartOptions {
  /** Chart title above the panels. */
  title?: string;
  /** 960; width in px (≥ 200). */
  width?: number;
  /** 180; height of each panel in px, titles and axis labels included (≥ 80). */
  panelHeight?: number;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const MARGIN = { left: 64, right: 16 };
/** Panel header (title, legend) and footer (x tick labels, x label) heights, px. */
const HEAD = 22, FOOT = 34, CHART_TITLE = 28;

/** Escapes text for SVG content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const r1 = (v: number) => (Math.round(v * 10) / 10).toString();

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count - 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  const step = (f < 1.5 ? 1 : f < 2.25 ? 2 : f < 3.5 ? 2.5 : f < 7.5 ? 5 : 10) * mag;
  const k0 = Math.ceil(lo / step - 1e-9), k1 = Math.floor(hi / step + 1e-9);
  if (!(k1 - k0 <= 1000)) return [lo, hi]; // non-finite, or a span lost in rounding
  const out: number[] = [];
  for (let i = 0; i <= k1 - k0; i++) out.push(k0 + i === 0 ? 0 : (k0 + i) * step);
  return out;
}

/** A tick value with as many decimals as the tick spacing `step` needs. */
function tickLabel(v: number, step: number): string {
  let decimals = 0;
  while (decimals < 6 && step > 0 && Math.abs(Math.round(step * 10 ** decimals) - step * 10 ** decimals) > 1e-6 * step * 10 ** decimals) decimals++;
  const s = v.toFixed(decimals);
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

/** The smallest gap between consecutive ticks (1 if there is none). */
function tickStep(ticks: number[]): number {
  let step = Infinity;
  for (let i = 1; i < ticks.length; i++) step = Math.min(step, Math.abs(ticks[i]! - ticks[i - 1]!));
  return Number.isFinite(step) && step > 0 ? step : 1;
}

function range(values: Iterable<number>): [number, number] | null {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) if (Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
  return lo <= hi ? [lo, hi] : null;
}

function* xsOf(s: Series): Generator<number> {
  for (let i = 0; i < s.y.length; i++) if (Number.isFinite(s.y[i]!)) yield s.x ? s.x[i]! : i;
}

function* ysOf(s: Series): Generator<number> {
  for (let i = 0; i < s.y.length; i++) if (s.x === undefined || Number.isFinite(s.x[i]!)) yield s.y[i]!;
}

/**
 * The path of one series in pixel space: min and max per pixel column, gaps at non-finite points.
 * `sx`, `sy` map data to pixels.
 */
function seriesPath(s: Series, sx: (v: number) => number, sy: (v: number) => number): string {
  const parts: string[] = [];
  let pen = false;
  let col = NaN, minI = -1, maxI = -1, minV = 0, maxV = 0, minX = 0, maxX = 0;
  const flush = () => {
    if (minI < 0) return;
    const pts = minI === maxI ? [[minX, minV]] : minI < maxI ? [[minX, minV], [maxX, maxV]] : [[maxX, maxV], [minX, minV]];
    for (const [px, v] of pts) {
      parts.push(`${pen ? 'L' : 'M'}${r1(px!)} ${r1(sy(v!))}`);
      pen = true;
    }
    minI = maxI = -1;
  };
  for (let i = 0; i < s.y.length; i++) {
    const xv = s.x ? s.x[i]! : i, yv = s.y[i]!;
    if (!Number.isFinite(xv) || !Number.isFinite(yv)) { flush(); pen = false; col = NaN; continue; }
    const px = sx(xv);
    const c = Math.round(px);
    if (c !== col) { flush(); col = c; }
    if (minI < 0 || yv < minV) { minI = i; minV = yv; minX = px; }
    if (maxI < 0 || yv > maxV) { maxI = i; maxV = yv; maxX = px; }
  }
  flush();
  return parts.join('');
}

function checkOptions(o: ChartOptions): { width: number; panelHeight: number } {
  const width = o.width ?? 960, panelHeight = o.panelHeight ?? 180;
  if (!Number.isFinite(width) || width < 200) throw new InvalidOptionError('svgChart', 'width', 'a finite number ≥ 200 (px)', width);
  if (!Number.isFinite(panelHeight) || panelHeight < 80) throw new InvalidOptionError('svgChart', 'panelHeight', 'a finite number ≥ 80 (px)', panelHeight);
  return { width, panelHeight };
}

function checkPanel(p: Panel, k: number): void {
  const where = `svgChart: panel ${k}${p.title ? ` (${JSON.stringify(p.title)})` : ''}`;
  if (!p.series || p.series.length === 0) throw new DataError('has no series', where);
  for (const s of p.series) {
    if (s.y.length === 0) throw new DataError(`series ${JSON.stringify(s.label)} is empty`, where);
    if (s.x && s.x.length !== s.y.length) throw new DataError(`series ${JSON.stringify(s.label)} has ${s.x.length} x values for ${s.y.length} y values`, where);
  }
  if (p.yRange && !(Number.isFinite(p.yRange[0]) && Number.isFinite(p.yRange[1]) && p.yRange[1] > p.yRange[0])) {
    throw new DataError(`yRange must be two finite numbers lo < hi; got [${p.yRange.join(', ')}]`, where);
  }
}

/** Renders stacked panels sharing the chart width into one standalone SVG document. */
export function svgChart(panels: Panel[], options: ChartOptions = {}): string {
  const { width, panelHeight } = checkOptions(options);
  if (!Array.isArray(panels) || panels.length === 0) throw new DataError('svgChart: no panels to draw');
  panels.forEach(checkPanel);
  const top0 = options.title ? CHART_TITLE : 4;
  const height = top0 + panels.length * panelHeight;
  const plotW = width - MARGIN.left - MARGIN.right;
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  if (options.title) out.push(`<text class="chart-title" x="${width / 2}" y="19" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(options.title)}</text>`);
  panels.forEach((p, k) => {
    const where = `svgChart: panel ${k}${p.title ? ` (${JSON.stringify(p.title)})` : ''}`;
    const top = top0 + k * panelHeight + HEAD;
    const plotH = panelHeight - HEAD - FOOT;
    const left = MARGIN.left, right = left + plotW, bottom = top + plotH;
    const xr = range((function* () { for (const s of p.series) yield* xsOf(s); })());
    const yr0 = p.yRange ?? range((function* () { for (const s of p.series) yield* ysOf(s); })());
    if (!xr || !yr0) throw new DataError('has no finite values to draw', where);
    let [y0, y1] = yr0;
    if (!p.yRange) {
      if (y1 === y0) { const pad = Math.abs(y0) * 0.1 || 1; y0 -= pad; y1 += pad; }
      // Widen to whole tick steps so the axis ends on labelled ticks.
      const step = tickStep(niceTicks(y0, y1, 5));
      y0 = Math.floor(y0 / step + 1e-9) * step;
      y1 = Math.ceil(y1 / step - 1e-9) * step;
    }
    const [x0, x1] = xr[1] > xr[0] ? xr : [xr[0] - 0.5, xr[0] + 0.5];
    const sx = (v: number) => left + ((v - x0) / (x1 - x0)) * plotW;
    const sy = (v: number) => bottom - ((v - y0) / (y1 - y0)) * plotH;
    out.push(`<g class="panel" data-index="${k}">`);
    out.push(`<clipPath id="clip-${k}"><rect x="${left}" y="${top}" width="${plotW}" height="${plotH}"/></clipPath>`);
    if (p.title) out.push(`<text class="panel-title" x="${left}" y="${top - 7}" font-weight="bold">${escapeXml(p.title)}</text>`);
    // y grid, ticks and labels
    const yt = niceTicks(y0, y1, 5);
    const ys = tickStep(yt);
    for (const v of yt) {
      const py = r1(sy(v));
      out.push(`<line class="grid" x1="${left}" x2="${right}" y1="${py}" y2="${py}" stroke="#e6e6e6" stroke-width="1"/>`);
      out.push(`<text class="tick" x="${left - 5}" y="${py}" dy="0.32em" text-anchor="end">${escapeXml(tickLabel(v, ys))}</text>`);
    }
    // x ticks
    const xt = (p.xTicks ?? niceTicks(x0, x1, 8)).filter((v) => Number.isFinite(v) && v >= x0 - 1e-9 * (x1 - x0) && v <= x1 + 1e-9 * (x1 - x0));
    const xs = tickStep(xt);
    for (const v of xt) {
      const px = r1(sx(v));
      out.push(`<line x1="${px}" x2="${px}" y1="${bottom}" y2="${bottom + 4}" stroke="#333"/>`);
      out.push(`<text class="tick" x="${px}" y="${bottom + 15}" text-anchor="middle">${escapeXml(tickLabel(v, xs))}</text>`);
    }
    // markers under the series
    for (const m of p.markers ?? []) {
      if (!Number.isFinite(m) || m < x0 || m > x1) continue;
      const px = r1(sx(m));
      out.push(`<line class="marker" x1="${px}" x2="${px}" y1="${top}" y2="${bottom}" stroke="#555" stroke-width="0.8" stroke-dasharray="3,3"/>`);
    }
    // series
    p.series.forEach((s, i) => {
      const color = escapeXml(s.color ?? PALETTE[i % PALETTE.length]!);
      const d = seriesPath(s, sx, sy);
      if (d === '') return;
      out.push(`<path class="series" d="${d}" fill="none" stroke="${color}" stroke-width="1.2" stroke-linejoin="round"${s.dashed ? ' stroke-dasharray="6,3"' : ''} clip-path="url(#clip-${k})"/>`);
    });
    // axes
    out.push(`<path class="axis" d="M${left} ${top}V${bottom}H${right}" fill="none" stroke="#333" stroke-width="1"/>`);
    if (p.yLabel) out.push(`<text class="axis-label" transform="translate(14 ${r1((top + bottom) / 2)}) rotate(-90)" text-anchor="middle">${escapeXml(p.yLabel)}</text>`);
    if (p.xLabel) out.push(`<text class="axis-label" x="${r1((left + right) / 2)}" y="${bottom + 30}" text-anchor="middle">${escapeXml(p.xLabel)}</text>`);
    // legend, right-aligned in the header row
    const items = p.series.map((s, i) => ({ s, i, w: 24 + 6.2 * s.label.length + 12 }));
    let lx = right - items.reduce((a, it) => a + it.w, 0);
    const ly = top - 10;
    for (const { s, i, w } of items) {
      const color = escapeXml(s.color ?? PALETTE[i % PALETTE.length]!);
      out.push(`<g class="legend"><line x1="${r1(lx)}" x2="${r1(lx + 18)}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6,3"' : ''}/><text x="${r1(lx + 22)}" y="${ly}" dy="0.32em">${escapeXml(s.label)}</text></g>`);
      lx += w;
    }
    out.push('</g>');
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

