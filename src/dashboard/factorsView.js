// @ts-check
/**
 * Draws the recovered factors W (rank columns of length n) on one canvas, in O(rank · n) with
 * no allocation per sample, so n = 2000, r = 10 takes a few ms:
 *
 * ```
 * traces  (rank ≤ 12 in 'auto')        heatmap (rank > 12 in 'auto')
 * W1 ▁▁▁█▁▁▁▁▃▁▁▁▁▁▁▁█▁▁               W1  ░░░▓░░░░▒░░░░░░░▓░░
 * W2 ▁▁▁▁▁▁▆▁▁▁▁▁▂▁▁▁▁▁▁               W2  ░░░░░░▓░░░░░▒░░░░░░
 * …                                    …   (|w| / max|w| per row, viridis)
 * ```
 *
 * Each pixel column covers n / width entries and shows their min and max (traces) or their
 * largest |w| (heatmap), so a lone spike of a sparse factor never falls between pixels. Every
 * row has its own scale: NMF fixes a factor only up to scale.
 */

const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const GUTTER = 34; // css px for the row labels
const TRACE_ROW = 34; // css px per component in traces
const AUTO_TRACES_MAX_RANK = 12;

/** Viridis, 256 entries as packed RGB, from 9 anchor colours. */
const LUT = (() => {
  const anchors = [[68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142], [31, 158, 137], [53, 183, 121], [109, 205, 89], [253, 231, 37]];
  const out = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const x = (i / 255) * (anchors.length - 1);
    const k = Math.min(anchors.length - 2, Math.floor(x));
    const f = x - k;
    const a = /** @type {number[]} */ (anchors[k]), b = /** @type {number[]} */ (anchors[k + 1]);
    for (let ch = 0; ch < 3; ch++) out[i * 3 + ch] = (a[ch] ?? 0) + f * ((b[ch] ?? 0) - (a[ch] ?? 0));
  }
  return out;
})();

/** @typedef {'auto' | 'traces' | 'heatmap'} FactorsViewMode */

/** The heatmap's scratch canvas, reused between draws. */
let scratch = /** @type {HTMLCanvasElement | null} */ (null);

/**
 * Draws W on `canvas` (resizing its backing store to its CSS width and the device pixel ratio).
 * @param {HTMLCanvasElement} canvas
 * @param {number[][]} W  rank columns of length n
 * @param {FactorsViewMode} mode
 * @returns {{ mode: 'traces' | 'heatmap', ms: number }}
 */
export function drawFactors(canvas, W, mode) {
  const t0 = performance.now();
  const rank = W.length;
  const resolved = mode === 'auto' ? (rank <= AUTO_TRACES_MAX_RANK ? 'traces' : 'heatmap') : mode;
  const rowCss = resolved === 'traces' ? TRACE_ROW : Math.max(6, Math.min(24, Math.floor(240 / Math.max(1, rank))));
  const dpr = window.devicePixelRatio || 1;
  const cssWidth = Math.max(100, canvas.clientWidth);
  const cssHeight = Math.max(1, rank) * rowCss;
  canvas.style.height = `${cssHeight}px`;
  canvas.width = Math.round(cssWidth * dpr);
  canvas.height = Math.round(cssHeight * dpr);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2d canvas context');
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const gutter = Math.round(GUTTER * dpr);
  const plotW = canvas.width - gutter;
  const rowH = rowCss * dpr;
  if (resolved === 'traces') drawTraces(ctx, W, gutter, plotW, rowH, dpr);
  else drawHeatmap(ctx, W, gutter, plotW, rowH);
  ctx.fillStyle = '#667085';
  ctx.font = `${11 * dpr}px ui-monospace, monospace`;
  ctx.textBaseline = 'middle';
  const every = Math.ceil(12 / rowCss); // thin rows: label every k-th so the labels do not overlap
  for (let c = 0; c < rank; c += every) ctx.fillText(`W${c + 1}`, 2 * dpr, (c + 0.5) * rowH);
  return { mode: resolved, ms: performance.now() - t0 };
}

/**
 * One trace per component: the min–max envelope of each pixel column's entries.
 * @param {CanvasRenderingContext2D} ctx
 * @param {number[][]} W
 * @param {number} x0
 * @param {number} plotW
 * @param {number} rowH
 * @param {number} dpr
 */
function drawTraces(ctx, W, x0, plotW, rowH, dpr) {
  const pad = 3 * dpr;
  for (let c = 0; c < W.length; c++) {
    const col = /** @type {number[]} */ (W[c]);
    const n = col.length;
    let lo = 0, hi = 0;
    for (let i = 0; i < n; i++) {
      const v = /** @type {number} */ (col[i]);
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const m = Math.max(-lo, hi) || 1;
    const yLo = lo < 0 ? -m : 0; // non-negative factors use the whole row
    const top = c * rowH + pad, h = rowH - 2 * pad;
    /** @param {number} v */
    const y = (v) => top + h - ((v - yLo) / (m - yLo)) * h;
    ctx.strokeStyle = '#e3e6eb';
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(x0, y(0) + 0.5);
    ctx.lineTo(x0 + plotW, y(0) + 0.5);
    ctx.stroke();
    ctx.strokeStyle = PALETTE[c % PALETTE.length] ?? '#4e79a7';
    ctx.lineWidth = Math.max(1, dpr);
    ctx.beginPath();
    if (n <= plotW) {
      for (let i = 0; i < n; i++) {
        const x = x0 + (n === 1 ? plotW / 2 : (i / (n - 1)) * (plotW - 1));
        if (i === 0) ctx.moveTo(x, y(/** @type {number} */ (col[i])));
        else ctx.lineTo(x, y(/** @type {number} */ (col[i])));
      }
    } else {
      let prev = /** @type {number} */ (col[0]);
      for (let px = 0; px < plotW; px++) {
        const i0 = Math.floor((px * n) / plotW), i1 = Math.floor(((px + 1) * n) / plotW);
        let mn = prev, mx = prev; // include the previous column's last entry so the envelope is connected
        for (let i = i0; i < i1; i++) {
          const v = /** @type {number} */ (col[i]);
          if (v < mn) mn = v;
          if (v > mx) mx = v;
        }
        prev = /** @type {number} */ (col[i1 - 1]);
        const x = x0 + px + 0.5;
        ctx.moveTo(x, y(mn));
        ctx.lineTo(x, y(mx) - 0.5);
      }
    }
    ctx.stroke();
  }
}

/**
 * One row per component: the largest |w| of each pixel column's entries over the row's max |w|.
 * @param {CanvasRenderingContext2D} ctx
 * @param {number[][]} W
 * @param {number} x0
 * @param {number} plotW
 * @param {number} rowH
 */
function drawHeatmap(ctx, W, x0, plotW, rowH) {
  const rank = W.length;
  const n = W[0]?.length ?? 0;
  const cols = Math.max(1, Math.min(n, plotW));
  scratch ??= document.createElement('canvas');
  scratch.width = cols;
  scratch.height = rank;
  const sctx = scratch.getContext('2d');
  if (!sctx) throw new Error('no 2d canvas context');
  const img = sctx.createImageData(cols, rank);
  const px = img.data;
  for (let c = 0; c < rank; c++) {
    const col = /** @type {number[]} */ (W[c]);
    let m = 0;
    for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(/** @type {number} */ (col[i])));
    const scale = m > 0 ? 255 / m : 0;
    for (let x = 0; x < cols; x++) {
      const i0 = Math.floor((x * n) / cols), i1 = Math.max(i0 + 1, Math.floor(((x + 1) * n) / cols));
      let a = 0;
      for (let i = i0; i < i1; i++) a = Math.max(a, Math.abs(/** @type {number} */ (col[i])));
      const k = Math.min(255, Math.round(a * scale)) * 3;
      const o = (c * cols + x) * 4;
      px[o] = /** @type {number} */ (LUT[k]);
      px[o + 1] = /** @type {number} */ (LUT[k + 1]);
      px[o + 2] = /** @type {number} */ (LUT[k + 2]);
      px[o + 3] = 255;
    }
  }
  sctx.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(scratch, 0, 0, cols, rank, x0, 0, plotW, rank * rowH);
}
