/**
 * Error metrics of the paper (PAPER.md §2.6), following the authors' `metrics.py`:
 * relative Frobenius error, factor normalisation (unit-norm rows of H), sign-invariant matched
 * factor error with an optimal assignment, and matched |Pearson| correlation.
 */
import { munkres } from 'munkres';
import { ShapeMismatchError } from '../errors.js';
import { gemm } from '../linalg/kernels.js';
import type { Matrix } from '../linalg/matrix.js';
import { median } from '../linalg/stats.js';

/** ‖X − Ref‖_F / ‖Ref‖_F. */
export function relError(X: Matrix, Ref: Matrix): number {
  if (X.rows !== Ref.rows || X.cols !== Ref.cols) {
    throw new ShapeMismatchError('relError', `${Ref.rows}x${Ref.cols}`, `${X.rows}x${X.cols}`);
  }
  let num = 0, den = 0;
  const a = X.data, b = Ref.data;
  for (let i = 0; i < a.length; i++) { const d = a[i]! - b[i]!; num += d * d; den += b[i]! * b[i]!; }
  return den === 0 ? (num === 0 ? 0 : Infinity) : Math.sqrt(num / den);
}

/** ‖W·H − M‖_F / ‖M‖_F without keeping W·H (row blocks of 64 samples). */
export function reconstructionError(W: Matrix, H: Matrix, M: Matrix): number {
  const n = W.rows, r = W.cols, m = H.cols;
  if (H.rows !== r || M.rows !== n || M.cols !== m) {
    throw new ShapeMismatchError('reconstructionError', `W ${n}x${r}, H ${r}x${m}, M ${n}x${m}`, `W ${W.rows}x${W.cols}, H ${H.rows}x${H.cols}, M ${M.rows}x${M.cols}`);
  }
  const block = 64;
  const buf = new Float64Array(block * m);
  let num = 0, den = 0;
  for (let i0 = 0; i0 < n; i0 += block) {
    const rows = Math.min(block, n - i0);
    gemm(W.data.subarray(i0 * r, (i0 + rows) * r), H.data, rows, r, m, buf);
    const base = i0 * m;
    for (let t = 0; t < rows * m; t++) {
      const ref = M.data[base + t]!;
      const d = buf[t]! - ref;
      num += d * d;
      den += ref * ref;
    }
  }
  return den === 0 ? (num === 0 ? 0 : Infinity) : Math.sqrt(num / den);
}

/**
 * Rescales each component so that row i of H has unit ℓ2 norm, multiplying column i of W by the
 * old norm (W·H unchanged). Zero rows are left as they are. Returns new matrices.
 */
export function normalizeFactors(W: Matrix, H: Matrix): { W: Matrix; H: Matrix } {
  const r = W.cols;
  if (H.rows !== r) throw new ShapeMismatchError('normalizeFactors: H', `${r}xm`, `${H.rows}x${H.cols}`);
  const Wn = W.data.slice(), Hn = H.data.slice();
  const m = H.cols;
  for (let c = 0; c < r; c++) {
    let s = 0;
    for (let j = 0; j < m; j++) s += Hn[c * m + j]! ** 2;
    const nrm = Math.sqrt(s);
    if (nrm === 0) continue;
    for (let j = 0; j < m; j++) Hn[c * m + j]! /= nrm;
    for (let i = 0; i < W.rows; i++) Wn[i * r + c]! *= nrm;
  }
  return { W: { rows: W.rows, cols: r, data: Wn }, H: { rows: r, cols: m, data: Hn } };
}

/** Result of matching estimated components to true ones. */
export interface Matching {
  /** perm[i] = index of the estimated component matched to true component i (−1 if none). */
  perm: number[];
  /** +1 or −1 per true component (sign flip applied to the match). */
  signs: number[];
}

function columns(X: Matrix): Float64Array[] {
  const out: Float64Array[] = [];
  for (let c = 0; c < X.cols; c++) {
    const v = new Float64Array(X.rows);
    for (let i = 0; i < X.rows; i++) v[i] = X.data[i * X.cols + c]!;
    out.push(v);
  }
  return out;
}

function rowsOf(X: Matrix): Float64Array[] {
  const out: Float64Array[] = [];
  for (let i = 0; i < X.rows; i++) out.push(X.data.slice(i * X.cols, (i + 1) * X.cols));
  return out;
}

function assign(cost: number[][]): number[] {
  const perm = new Array<number>(cost.length).fill(-1);
  for (const [i, j] of munkres(cost)) perm[i] = j;
  return perm;
}

/**
 * Sign-invariant matched error (the repo's `match_l2`): cost(i, j) = min(‖x_i − y_j‖², ‖x_i + y_j‖²)
 * between true and estimated components, optimal assignment, error = √(Σ matched cost) / ‖X_true‖_F.
 * Components are columns (W) by default, rows with `byRows` (H).
 */
export function matchedError(Xtrue: Matrix, Xest: Matrix, byRows = false): { error: number } & Matching {
  const A = byRows ? rowsOf(Xtrue) : columns(Xtrue);
  const B = byRows ? rowsOf(Xest) : columns(Xest);
  const len = A[0]?.length ?? 0;
  if ((B[0]?.length ?? 0) !== len) throw new ShapeMismatchError('matchedError: component length', String(len), String(B[0]?.length ?? 0));
  const cost: number[][] = [];
  const sgn: number[][] = [];
  for (const a of A) {
    const row: number[] = [], srow: number[] = [];
    for (const b of B) {
      let dm = 0, dp = 0;
      for (let t = 0; t < len; t++) { dm += (a[t]! - b[t]!) ** 2; dp += (a[t]! + b[t]!) ** 2; }
      row.push(Math.min(dm, dp));
      srow.push(dp < dm ? -1 : 1);
    }
    cost.push(row);
    sgn.push(srow);
  }
  const perm = assign(cost);
  let total = 0, norm = 0;
  const signs: number[] = [];
  for (let i = 0; i < A.length; i++) {
    const j = perm[i]!;
    if (j >= 0) { total += cost[i]![j]!; signs.push(sgn[i]![j]!); }
    else { for (const v of A[i]!) total += v * v; signs.push(1); }
    for (const v of A[i]!) norm += v * v;
  }
  return { error: norm === 0 ? 0 : Math.sqrt(total / norm), perm, signs };
}

/** |Pearson correlation| of two vectors (0 if either is constant). */
export function absPearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) { mx += x[i]!; my += y[i]!; }
  mx /= n; my /= n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const a = x[i]! - mx, b = y[i]! - my;
    sxy += a * b; sxx += a * a; syy += b * b;
  }
  return sxx === 0 || syy === 0 ? 0 : Math.abs(sxy) / Math.sqrt(sxx * syy);
}

/** Matched |Pearson| correlation: optimal assignment maximising Σ|r|; mean, median and per component. */
export function matchedCorrelation(Xtrue: Matrix, Xest: Matrix, byRows = false): {
  mean: number; median: number; perComponent: number[]; perm: number[];
} {
  const A = byRows ? rowsOf(Xtrue) : columns(Xtrue);
  const B = byRows ? rowsOf(Xest) : columns(Xest);
  const corr = A.map((a) => B.map((b) => absPearson(a, b)));
  const perm = assign(corr.map((row) => row.map((c) => -c)));
  const per = perm.map((j, i) => (j >= 0 ? corr[i]![j]! : 0));
  return { mean: per.reduce((s, v) => s + v, 0) / Math.max(1, per.length), median: per.length === 0 ? 0 : median(per), perComponent: per, perm };
}
