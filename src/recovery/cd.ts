/**
 * The coordinate-descent engine of the fast solver: one lasso solve at a fixed λ, warm-started
 * from the current x, over a working set (Friedman, Hastie & Tibshirani 2010, §2.6 and §4;
 * sequential strong rules of Tibshirani et al. 2012). The sweep is the only hot loop; it
 * allocates nothing and, for a sparse-binary P, touches p rows per coordinate.
 *
 *   F_λ(x) = ½||P x − y||² + λ||x||₁   (nonneg: λ·1ᵀx with x ≥ 0)
 *   x_j ← S_λ(P_jᵀr + c_j x_j) / c_j,  r ← r − Δx_j·P_j,  c_j = ||P_j||²
 */
import { columnDot, type ColumnMatrix } from './columns.js';
import type { FastSolverOptions, FastStats } from './fast.js';
import { PolishWorkspace } from './support.js';

/** All buffers of one recovery, allocated once and reused across the r columns. */
export class FastWorkspace {
  readonly x: Float64Array;
  readonly r: Float64Array;
  readonly g: Float64Array;
  readonly best: Float64Array;
  readonly inSet: Uint8Array;
  readonly inSupp: Uint8Array;
  readonly setList: Int32Array;
  readonly activeList: Int32Array;
  readonly allowed: Int32Array;
  readonly supp: Int32Array;
  readonly prevSupp: Int32Array;
  readonly fsupp: Int32Array;
  readonly polish: PolishWorkspace;
  constructor(readonly n: number, readonly d: number) {
    this.x = new Float64Array(n);
    this.r = new Float64Array(d);
    this.g = new Float64Array(n);
    this.best = new Float64Array(n);
    this.inSet = new Uint8Array(n);
    this.inSupp = new Uint8Array(n);
    this.setList = new Int32Array(n);
    this.activeList = new Int32Array(n);
    this.allowed = new Int32Array(n);
    this.supp = new Int32Array(n);
    this.prevSupp = new Int32Array(n);
    this.fsupp = new Int32Array(n);
    this.polish = new PolishWorkspace(d);
  }
}

/** Relative slack of the KKT check (|P_jᵀr| ≤ λ(1 + KKT_SLACK) counts as satisfied). */
const KKT_SLACK = 1e-7;
/** Working-set threshold floor, as a fraction of λ (see solveAtLambda). */
const STRONG_FLOOR = 0.8;

/** Per-call state shared by the solver's helpers (one object: no closures in hot loops). */
export interface Ctx {
  A: ColumnMatrix; y: Float64Array; o: FastSolverOptions; ws: FastWorkspace; stats: FastStats;
  nAllowed: number; tolSq: number; yNorm: number;
  /** ws.g holds Pᵀr for the current r. */
  gradValid: boolean;
}

/** Fills ws.allowed with the candidate columns; with `zeroRows`, drops columns touching y_i ≤ 0. */
export function screen(c: Ctx, zeroRows: boolean): number {
  const { A, y, ws } = c;
  const { colPtr, rowIdx } = A;
  let m = 0;
  for (let j = 0; j < A.cols; j++) {
    let keep = true;
    if (zeroRows) {
      for (let q = colPtr[j]!, e = colPtr[j + 1]!; q < e; q++) if (!(y[rowIdx[q]!]! > 0)) { keep = false; break; }
    }
    if (keep && A.colNormSq[j]! > 0) ws.allowed[m++] = j;
  }
  return m;
}

/** r = y − P x. */
export function setResidual(c: Ctx): void {
  const { A, y, ws } = c;
  const { colPtr, rowIdx, values } = A;
  const r = ws.r, x = ws.x;
  c.gradValid = false;
  r.set(y.subarray(0, A.rows));
  for (let t = 0; t < c.nAllowed; t++) {
    const j = ws.allowed[t]!, xj = x[j]!;
    if (xj === 0) continue;
    const e = colPtr[j + 1]!;
    if (values === null) for (let q = colPtr[j]!; q < e; q++) r[rowIdx[q]!]! -= xj;
    else for (let q = colPtr[j]!; q < e; q++) r[rowIdx[q]!]! -= xj * values[q]!;
  }
}

/** max_j |P_jᵀv| (nonneg: max_j P_jᵀv, or |·| for j with x_j > 0 when `kkt`) over candidates. */
export function maxCorrelation(c: Ctx, v: Float64Array, kkt: boolean): number {
  const { A, ws, o } = c;
  const { colPtr, rowIdx, values } = A;
  let best = 0;
  for (let t = 0; t < c.nAllowed; t++) {
    const j = ws.allowed[t]!;
    const g = columnDot(j, v, colPtr, rowIdx, values);
    const a = o.nonneg && !(kkt && ws.x[j]! > 0) ? g : Math.abs(g);
    if (a > best) best = a;
  }
  c.stats.gradientEvaluations += c.nAllowed;
  return best;
}

/** One pass of coordinate descent over list[0..len); returns max c_j·Δx_j². */
export function sweep(A: ColumnMatrix, list: Int32Array, len: number, x: Float64Array, r: Float64Array, lam: number, nonneg: boolean): number {
  const { colPtr, rowIdx, values, colNormSq } = A;
  let maxCh = 0;
  for (let t = 0; t < len; t++) {
    const j = list[t]!;
    const s = colPtr[j]!, e = colPtr[j + 1]!;
    let g = 0;
    if (values === null) for (let q = s; q < e; q++) g += r[rowIdx[q]!]!;
    else for (let q = s; q < e; q++) g += r[rowIdx[q]!]! * values[q]!;
    const cj = colNormSq[j]!, xj = x[j]!;
    const z = g + cj * xj;
    const xn = z > lam ? (z - lam) / cj : !nonneg && z < -lam ? (z + lam) / cj : 0;
    const delta = xn - xj;
    if (delta !== 0) {
      x[j] = xn;
      if (values === null) for (let q = s; q < e; q++) r[rowIdx[q]!]! -= delta;
      else for (let q = s; q < e; q++) r[rowIdx[q]!]! -= delta * values[q]!;
      const ch = cj * delta * delta;
      if (ch > maxCh) maxCh = ch;
    }
  }
  return maxCh;
}

/**
 * Solves the lasso at λ from the current x: working set = active columns plus those whose
 * |P_jᵀr| exceeds max(2λ − λ_prev, 0.8λ) (the sequential strong rule, floored because with
 * ρ ≤ 1/2 it admits everything; 0.8 measured best of 0.5/0.8/1), CD on it, a KKT check on the
 * rest, repeat. The KKT pass also
 * refreshes ws.g = Pᵀr for every candidate, which the next λ's screen reuses.
 */
export function solveAtLambda(c: Ctx, lam: number, lamPrev: number): void {
  const { A, ws, o, stats } = c;
  const { colPtr, rowIdx, values } = A;
  const { x, r, g, inSet, setList, activeList, allowed } = ws;
  const strong = Math.max(2 * lam - lamPrev, STRONG_FLOOR * lam);
  let m = 0;
  for (let t = 0; t < c.nAllowed; t++) {
    const j = allowed[t]!;
    let take = x[j] !== 0;
    if (!take) {
      const gj = c.gradValid ? g[j]! : columnDot(j, r, colPtr, rowIdx, values);
      take = o.nonneg ? gj > strong : Math.abs(gj) > strong;
    }
    if (take) { inSet[j] = 1; setList[m++] = j; }
  }
  if (!c.gradValid) stats.gradientEvaluations += c.nAllowed;
  c.gradValid = false;
  const kktLim = lam * (1 + KKT_SLACK);
  for (;;) {
    // CD on the working set: one full pass, then passes over its active part until converged.
    while (stats.sweeps < o.maxSweeps) {
      const ch = sweep(A, setList, m, x, r, lam, o.nonneg);
      stats.sweeps++;
      stats.coordinateUpdates += m;
      if (ch <= c.tolSq) break;
      let na = 0;
      for (let t = 0; t < m; t++) if (x[setList[t]!] !== 0) activeList[na++] = setList[t]!;
      while (stats.sweeps < o.maxSweeps) {
        const cha = sweep(A, activeList, na, x, r, lam, o.nonneg);
        stats.sweeps++;
        stats.coordinateUpdates += na;
        if (cha <= c.tolSq) break;
      }
    }
    // KKT over the columns left out; violators join the set.
    let added = 0;
    for (let t = 0; t < c.nAllowed; t++) {
      const j = allowed[t]!;
      const gj = columnDot(j, r, colPtr, rowIdx, values);
      g[j] = gj;
      if (!inSet[j] && (o.nonneg ? gj > kktLim : Math.abs(gj) > kktLim)) { inSet[j] = 1; setList[m++] = j; added++; }
    }
    stats.gradientEvaluations += c.nAllowed;
    if (added === 0) { c.gradValid = true; break; }
    if (stats.sweeps >= o.maxSweeps) break;
  }
  for (let t = 0; t < m; t++) inSet[setList[t]!] = 0;
}

/** ws.supp = non-zeros of x among candidates (ascending); returns their count. */
export function collectSupport(c: Ctx): number {
  const { ws } = c;
  let m = 0;
  for (let t = 0; t < c.nAllowed; t++) { const j = ws.allowed[t]!; if (ws.x[j] !== 0) ws.supp[m++] = j; }
  return m;
}
