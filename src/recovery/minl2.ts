/**
 * The least-ℓ2 tie-break of non-negative basis pursuit (`tieBreak: 'min-l2'`).
 *
 * When P ≥ 0 has equal column sums c (sparse-binary P), every x ≥ 0 with P x = y has
 * ||x||₁ = 1ᵀy/c: the whole feasible set is optimal for non-negative BP, and which point a solver
 * returns is an accident of the solver (the LP: a vertex with ≤ d non-zeros). For sparse signals
 * the feasible set is usually the one point, so nothing changes; for signals that are not sparse
 * (resting EEG time courses) the vertex is a poor estimate. 'min-l2' returns the one optimum of
 * least ℓ2 norm,
 *
 *   x* = argmin ½||x||² s.t. P x = y, x ≥ 0,
 *
 * through its dual in d variables, max_λ g(λ) = yᵀλ − ½||(Pᵀλ)₊||² − ν/2·||λ||², x = (Pᵀλ)₊:
 * semismooth Newton (Qi & Sun 2006, the nearest-point problem) with Armijo backtracking; the
 * generalized Hessian P_S P_Sᵀ + νI over S = {j : (Pᵀλ)_j > 0} is d×d and factored by Cholesky.
 * x = (Pᵀλ)₊ together with P x = y are the KKT conditions, so the residual alone certifies x.
 * The tiny ν = NU·mean diag(PPᵀ) keeps the system definite when S is small and λ bounded when y
 * lies outside the cone {P x : x ≥ 0}; x is then, to within ν, the least-norm x ≥ 0 minimising
 * ||P x − y||, reported as infeasible.
 */
import { SolverError } from '../errors.js';
import { cholesky, choleskySolve } from '../linalg/small.js';
import { mulTransVec, mulVec, norm2, type ColumnMatrix } from './columns.js';

/** ν relative to mean diag(PPᵀ): small enough to change x by ~1e-10 relative, large enough to keep Cholesky stable. */
const NU = 1e-10;
/** Newton stops when ||∇g|| ≤ GRAD_TOL·||y||. */
const GRAD_TOL = 1e-11;
/** ||P x − y|| ≤ FEASIBLE_TOL·||y|| counts as an exact fit. */
export const MIN_L2_FEASIBLE_TOL = 1e-6;
const MAX_NEWTON = 100;
const MAX_HALVINGS = 50;

/** Diagnostics of one min-ℓ2 solve. */
export interface MinL2Stats {
  /** Newton iterations. */
  iterations: number;
  /** ||P x − y|| / ||y|| (0 for y = 0). */
  residual: number;
  /** The residual is within MIN_L2_FEASIBLE_TOL: y was in the cone and x is the certified optimum. */
  feasible: boolean;
  /** Non-zeros of x. */
  support: number;
}

/** Buffers of solveMinL2, reused across the columns of one recovery. */
export class MinL2Workspace {
  readonly lambda: Float64Array;
  readonly trial: Float64Array;
  readonly step: Float64Array;
  readonly grad: Float64Array;
  readonly px: Float64Array;
  readonly hessian: Float64Array;
  readonly z: Float64Array;
  constructor(readonly n: number, readonly d: number) {
    this.lambda = new Float64Array(d);
    this.trial = new Float64Array(d);
    this.step = new Float64Array(d);
    this.grad = new Float64Array(d);
    this.px = new Float64Array(d);
    this.hessian = new Float64Array(d * d);
    this.z = new Float64Array(n);
  }
}

/** Whether P is a matrix for which min-ℓ2 is a BP tie-break (P ≥ 0, equal column sums). */
export function minL2Applies(A: ColumnMatrix): boolean {
  return A.nonnegative && A.constantColumnSum !== null;
}

/**
 * The least-norm x ≥ 0 with P x = y (module comment). Throws SolverError when y is outside the
 * cone and `infeasible` is 'error'; with 'fit' it returns the least-norm best fit.
 */
export function solveMinL2(
  A: ColumnMatrix, y: Float64Array, ws: MinL2Workspace = new MinL2Workspace(A.cols, A.rows), infeasible: 'fit' | 'error' = 'fit',
): { x: Float64Array; stats: MinL2Stats } {
  const d = A.rows, n = A.cols;
  const x = new Float64Array(n);
  const ny = norm2(y);
  if (ny === 0) return { x, stats: { iterations: 0, residual: 0, feasible: true, support: 0 } };
  let diag = 0;
  for (let j = 0; j < n; j++) diag += A.colNormSq[j]!;
  const nu = (NU * diag) / d;
  const { lambda, trial, step, grad, px, z } = ws;

  // Start from the unconstrained least-norm point (S = every column): (PPᵀ + νI) λ = y.
  z.fill(1);
  lambda.set(y);
  if (!factorHessian(A, z, nu, ws)) throw new SolverError('min-l2', 'P·Pᵀ is singular (a row of P is empty)');
  choleskySolve(ws.hessian, d, lambda);

  let value = objective(A, y, lambda, nu, ws);
  let it = 0;
  for (; it < MAX_NEWTON; it++) {
    // z = Pᵀλ (left by objective), x = z₊, ∇g = y − P x − νλ.
    for (let j = 0; j < n; j++) x[j] = z[j]! > 0 ? z[j]! : 0;
    mulVec(A, x, px);
    for (let i = 0; i < d; i++) grad[i] = y[i]! - px[i]! - nu * lambda[i]!;
    if (norm2(grad) <= GRAD_TOL * ny) break;
    if (!factorHessian(A, z, nu, ws)) break;
    step.set(grad);
    choleskySolve(ws.hessian, d, step);
    let slope = 0;
    for (let i = 0; i < d; i++) slope += grad[i]! * step[i]!;
    let t = 1, next = -Infinity, h = 0;
    for (; h < MAX_HALVINGS; h++, t /= 2) {
      for (let i = 0; i < d; i++) trial[i] = lambda[i]! + t * step[i]!;
      next = objective(A, y, trial, nu, ws);
      if (next >= value + 1e-4 * t * slope) break;
    }
    if (h === MAX_HALVINGS || next <= value) {
      mulTransVec(A, lambda, z); // no ascent left at machine precision: keep λ
      break;
    }
    lambda.set(trial);
    value = next;
  }
  for (let j = 0; j < n; j++) x[j] = z[j]! > 0 ? z[j]! : 0;
  mulVec(A, x, px);
  let rr = 0, support = 0;
  for (let i = 0; i < d; i++) rr += (px[i]! - y[i]!) ** 2;
  for (let j = 0; j < n; j++) if (x[j]! > 0) support++;
  const residual = Math.sqrt(rr) / ny;
  const feasible = residual <= MIN_L2_FEASIBLE_TOL;
  if (!feasible && infeasible === 'error') {
    throw new SolverError('min-l2', `y is outside the cone {P x : x ≥ 0} (best non-negative fit leaves ${residual.toExponential(2)} of ||y||)`);
  }
  return { x, stats: { iterations: it, residual, feasible, support } };
}

/** g(λ) = yᵀλ − ½||(Pᵀλ)₊||² − ν/2·||λ||²; leaves Pᵀλ in ws.z. */
function objective(A: ColumnMatrix, y: Float64Array, lambda: Float64Array, nu: number, ws: MinL2Workspace): number {
  mulTransVec(A, lambda, ws.z);
  let g = 0;
  for (let i = 0; i < y.length; i++) g += y[i]! * lambda[i]! - 0.5 * nu * lambda[i]! * lambda[i]!;
  for (let j = 0; j < ws.z.length; j++) { const v = ws.z[j]!; if (v > 0) g -= 0.5 * v * v; }
  return g;
}

/** ws.hessian ← Cholesky factor of P_S P_Sᵀ + νI with S = {j : z_j > 0}. */
function factorHessian(A: ColumnMatrix, z: Float64Array, nu: number, ws: MinL2Workspace): boolean {
  const d = A.rows, H = ws.hessian;
  H.fill(0);
  const { colPtr, rowIdx, values } = A;
  for (let j = 0; j < A.cols; j++) {
    if (!(z[j]! > 0)) continue;
    for (let a = colPtr[j]!; a < colPtr[j + 1]!; a++) {
      const ia = rowIdx[a]!, va = values ? values[a]! : 1;
      for (let b = colPtr[j]!; b <= a; b++) H[ia * d + rowIdx[b]!]! += va * (values ? values[b]! : 1);
    }
  }
  // Only one triangle was filled (row indices within a column are sorted? not assumed): symmetrise.
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < i; k++) { const s = H[i * d + k]! + H[k * d + i]!; H[i * d + k] = s; H[k * d + i] = s; }
    H[i * d + i]! += nu;
  }
  return cholesky(H, d);
}
