/**
 * Sparse recovery R_P: the step of Factorize-Recover that maps each compressed factor column
 * W~_i (d) back to a sparse n-vector, W = R_P(W~) (Sharan et al. 2019, §2.2, Algorithm 1).
 *
 *   Wc (d×r) ──R_P per column──▶ W (n×r)        y_i ↦ argmin ||x||₁ s.t. P x = y_i
 *
 * `method: 'lp'` solves that LP exactly with HiGHS (lp.ts); `method: 'fast'` (default) runs a
 * lasso path by coordinate descent that stops with a certified basis-pursuit solution, or at the
 * discrepancy level when `noise` is given (fast.ts). When the BP solution is not sparse (noisy or
 * dense y) it returns a feasible refit within `l1Tolerance` of the BP value, or a certified
 * x ≥ 0 when y lies in the cone {P x : x ≥ 0} (dense.ts).
 *
 * @example
 * const P = makeProjection({ ensemble: 'sparse-binary', n: 2000, d: 400, seed: 1 });
 * const { W } = await recoverColumns(P, P.applyColumns(Wtrue));
 */
import { DataError, InvalidOptionError, ShapeMismatchError } from '../errors.js';
import { getColumn, setColumn, type Matrix } from '../linalg/matrix.js';
import { columnMatrixOf, type ColumnMatrix, type MeasurementMatrix } from './columns.js';
import { FastWorkspace, solveFast, type FastStats } from './fast.js';
import { loadHighs, solveBasisPursuitLPSync, type LpResult } from './lp.js';
import { minL2Applies, MinL2Workspace, solveMinL2, type MinL2Stats } from './minl2.js';
import { fastOptionsOf, resolveRecoveryOptions, type RecoveryMethod, type RecoveryOptions, type ResolvedRecoveryOptions } from './options.js';

export * from './options.js';
export { solveBasisPursuitLP, loadHighs, NONNEG_FIT_WEIGHT, DEFAULT_HIGHS_OPTIONS } from './lp.js';
export type { LpOptions, LpResult, LpStatus, RangeProjectionMode, NonnegFallback, HighsOptionValues } from './lp.js';
export { solveFast, solveLasso, FastWorkspace } from './fast.js';
export type { FastSolverOptions, FastStats, FastResult, FastStopReason } from './fast.js';
export { columnMatrixOf, cgls } from './columns.js';
export { solveMinL2, MinL2Workspace, MIN_L2_FEASIBLE_TOL } from './minl2.js';
export type { MinL2Stats } from './minl2.js';
export type { ColumnMatrix, MeasurementMatrix, RangeProjection } from './columns.js';

/** Per-column diagnostics: the fast solver's stats or the LP's status. */
export type ColumnReport =
  | { method: 'fast'; stats: FastStats }
  | { method: 'min-l2'; stats: MinL2Stats }
  | { method: 'lp'; status: LpResult['status']; relativeResidual: number; solves: number };

/** Result of recoverColumns. */
export interface RecoveryResult {
  /** n×r, column i = R_P(column i of Wc). */
  W: Matrix;
  /** Wall-clock seconds for all columns (including the one-time HiGHS load for 'lp'). */
  seconds: number;
  /** Wall-clock seconds of each column's solve. */
  secondsPerColumn: number[];
  method: RecoveryMethod;
  /** Per-column diagnostics. */
  columns: ColumnReport[];
}

/** Recovers each column of Wc (d×r) to an n-vector: W = R_P(Wc). */
export async function recoverColumns(P: MeasurementMatrix, Wc: Matrix, options?: RecoveryOptions): Promise<RecoveryResult> {
  const t0 = performance.now();
  const o = resolveRecoveryOptions(options);
  if (Wc.rows !== P.d) throw new ShapeMismatchError('recoverColumns: Wc', `${P.d}×r`, `${Wc.rows}×${Wc.cols}`);
  if (o.warmStart && (o.warmStart.rows !== P.n || o.warmStart.cols !== Wc.cols)) {
    throw new ShapeMismatchError('recoverColumns: warmStart', `${P.n}×${Wc.cols}`, `${o.warmStart.rows}×${o.warmStart.cols}`);
  }
  const A = columnMatrixOf(P);
  const r = Wc.cols;
  const W: Matrix = { rows: P.n, cols: r, data: new Float64Array(P.n * r) };
  const secondsPerColumn: number[] = [];
  const columns: ColumnReport[] = [];
  const y = new Float64Array(P.d);
  const x0 = o.warmStart ? new Float64Array(P.n) : undefined;
  const solveColumn = await columnSolver(A, o);
  for (let c = 0; c < r; c++) {
    getColumn(Wc, c, y);
    checkFinite(y, `recoverColumns: Wc column ${c}`);
    if (x0) getColumn(o.warmStart!, c, x0);
    const tc = performance.now();
    const { x, report } = solveColumn(y, x0);
    secondsPerColumn.push((performance.now() - tc) / 1000);
    setColumn(W, c, x);
    columns.push(report);
  }
  return { W, seconds: (performance.now() - t0) / 1000, secondsPerColumn, method: o.method, columns };
}

/** Recovers one n-vector from y (d): x = R_P(y). `warmStart` here is n×1 if given. */
export async function recoverVector(
  P: MeasurementMatrix, y: Float64Array, options?: RecoveryOptions,
): Promise<{ x: Float64Array; seconds: number; report: ColumnReport }> {
  const t0 = performance.now();
  const o = resolveRecoveryOptions(options);
  if (y.length !== P.d) throw new ShapeMismatchError('recoverVector: y', `length ${P.d}`, `length ${y.length}`);
  if (o.warmStart && (o.warmStart.rows !== P.n || o.warmStart.cols !== 1)) {
    throw new ShapeMismatchError('recoverVector: warmStart', `${P.n}×1`, `${o.warmStart.rows}×${o.warmStart.cols}`);
  }
  checkFinite(y, 'recoverVector: y');
  const solveColumn = await columnSolver(columnMatrixOf(P), o);
  const { x, report } = solveColumn(y, o.warmStart?.data);
  return { x, seconds: (performance.now() - t0) / 1000, report };
}

type ColumnSolver = (y: Float64Array, x0?: Float64Array) => { x: Float64Array; report: ColumnReport };

/** One closure per call: the workspace (fast) or the loaded runtime (lp) is shared by all columns. */
async function columnSolver(A: ColumnMatrix, o: ResolvedRecoveryOptions): Promise<ColumnSolver> {
  if (o.tieBreak === 'min-l2') {
    if (!minL2Applies(A)) {
      throw new InvalidOptionError('recovery', 'tieBreak', "'none' for this P: 'min-l2' needs P ≥ 0 with equal column sums (e.g. sparse-binary), where every x ≥ 0 fitting y is BP-optimal", 'min-l2');
    }
    const ws = new MinL2Workspace(A.cols, A.rows);
    const onMiss = o.nonnegFallback === 'error' ? 'error' : 'fit';
    return (y) => {
      const { x, stats } = solveMinL2(A, y, ws, onMiss);
      return { x, report: { method: 'min-l2', stats } };
    };
  }
  if (o.method === 'fast') {
    const ws = new FastWorkspace(A.cols, A.rows);
    const fo = fastOptionsOf(o);
    return (y, x0) => {
      const { x, stats } = solveFast(A, y, fo, x0, ws);
      return { x, report: { method: 'fast', stats } };
    };
  }
  const highs = await loadHighs();
  const lo = { nonneg: o.nonneg, rangeProjection: o.rangeProjection, nonnegFallback: o.nonnegFallback, highsOptions: o.highsOptions };
  return (y) => {
    const res = solveBasisPursuitLPSync(highs, A, y, lo);
    return { x: res.x, report: { method: 'lp', status: res.status, relativeResidual: res.relativeResidual, solves: res.solves } };
  };
}

function checkFinite(v: Float64Array, where: string): void {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) throw new DataError(`non-finite value ${v[i]} at index ${i}`, where);
}
