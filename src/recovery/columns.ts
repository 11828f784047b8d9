/**
 * The column view of a measurement matrix that both recovery solvers work on: P (d×n) in
 * compressed sparse column form with optional values (`values === null` means every stored
 * entry is 1, the sparse-binary case). Dense ensembles are converted once and cached per
 * matrix object, so r recoveries against the same P share it.
 *
 * Kernels here are pure loops over caller-owned buffers (outputs last), like src/linalg.
 * `cgls` is the least-squares projection onto range(P) used by the LP (Paige & Saunders 1982;
 * CGLS = conjugate gradients on the normal equations, Björck 1996 §7.4).
 */
import { ShapeMismatchError } from '../errors.js';
import type { Projection } from '../sensing/index.js';

/** What the recovery code needs of a measurement matrix: its size and exactly one storage. */
export type MeasurementMatrix = Pick<Projection, 'd' | 'n' | 'sparse' | 'dense'>;

/** P in CSC form with the per-column facts the solvers need. */
export interface ColumnMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly colPtr: Int32Array;
  readonly rowIdx: Int32Array;
  /** Entry values parallel to rowIdx; null when every stored entry is exactly 1. */
  readonly values: Float64Array | null;
  /** ||P_j||² per column. */
  readonly colNormSq: Float64Array;
  /** Every entry is ≥ 0 (sparse-binary P): a zero measurement then forces its columns to 0 when x ≥ 0. */
  readonly nonnegative: boolean;
  /** c if 1ᵀP = c·1ᵀ (every column sums to c; p for sparse-binary), else null. */
  readonly constantColumnSum: number | null;
  /** p if every column stores exactly p unit entries (values null, colPtr[j] = j·p), else null: lets hot loops skip colPtr. */
  readonly binaryStride: number | null;
}

const cache = new WeakMap<object, ColumnMatrix>();

/** The CSC view of P (cached per matrix object; built in O(nnz) or O(d·n) once). */
export function columnMatrixOf(P: MeasurementMatrix): ColumnMatrix {
  const key: object | undefined = P.sparse ?? P.dense;
  if (!key) throw new ShapeMismatchError('measurement matrix', 'a sparse or dense P', 'neither');
  const hit = cache.get(key);
  if (hit) return hit;
  const built = P.sparse ? fromSparse(P) : fromDense(P);
  cache.set(key, built);
  return built;
}

function fromSparse(P: MeasurementMatrix): ColumnMatrix {
  const S = P.sparse!;
  if (S.rows !== P.d || S.cols !== P.n) throw new ShapeMismatchError('P.sparse', `${P.d}x${P.n}`, `${S.rows}x${S.cols}`);
  const colNormSq = new Float64Array(S.cols);
  let constant: number | null = S.cols > 0 ? S.colPtr[1]! - S.colPtr[0]! : null;
  for (let j = 0; j < S.cols; j++) {
    const c = S.colPtr[j + 1]! - S.colPtr[j]!;
    colNormSq[j] = c;
    if (c !== constant) constant = null;
  }
  return {
    rows: S.rows, cols: S.cols, colPtr: S.colPtr, rowIdx: S.rowIdx, values: null, colNormSq,
    nonnegative: true, constantColumnSum: constant, binaryStride: constant !== null && S.colPtr[0] === 0 ? constant : null,
  };
}

function fromDense(P: MeasurementMatrix): ColumnMatrix {
  const D = P.dense!;
  const { rows: d, cols: n, data } = D;
  if (d !== P.d || n !== P.n) throw new ShapeMismatchError('P.dense', `${P.d}x${P.n}`, `${d}x${n}`);
  let nnz = 0;
  for (let t = 0; t < d * n; t++) if (data[t] !== 0) nnz++;
  const colPtr = new Int32Array(n + 1);
  const rowIdx = new Int32Array(nnz);
  const values = new Float64Array(nnz);
  const colNormSq = new Float64Array(n);
  let nonnegative = true;
  let constant: number | null = null;
  let q = 0;
  for (let j = 0; j < n; j++) {
    let ss = 0, sum = 0;
    for (let i = 0; i < d; i++) {
      const v = data[i * n + j]!;
      if (v === 0) continue;
      rowIdx[q] = i;
      values[q++] = v;
      ss += v * v;
      sum += v;
      if (v < 0) nonnegative = false;
    }
    colPtr[j + 1] = q;
    colNormSq[j] = ss;
    if (j === 0) constant = sum;
    else if (constant !== null && sum !== constant) constant = null;
  }
  return { rows: d, cols: n, colPtr, rowIdx, values, colNormSq, nonnegative, constantColumnSum: constant, binaryStride: null };
}

/** out(d) = P·x. */
export function mulVec(A: ColumnMatrix, x: Float64Array, out: Float64Array): void {
  out.fill(0, 0, A.rows);
  const { colPtr, rowIdx, values, cols } = A;
  for (let j = 0; j < cols; j++) {
    const xj = x[j]!;
    if (xj === 0) continue;
    const e = colPtr[j + 1]!;
    if (values === null) for (let q = colPtr[j]!; q < e; q++) out[rowIdx[q]!]! += xj;
    else for (let q = colPtr[j]!; q < e; q++) out[rowIdx[q]!]! += xj * values[q]!;
  }
}

/** out(n) = Pᵀ·y. */
export function mulTransVec(A: ColumnMatrix, y: Float64Array, out: Float64Array): void {
  const { colPtr, rowIdx, values, cols } = A;
  for (let j = 0; j < cols; j++) out[j] = columnDot(j, y, colPtr, rowIdx, values);
}

/** P_jᵀ·v from P's CSC arrays (passed unpacked so hot callers keep them in locals). */
export function columnDot(
  j: number, v: Float64Array, colPtr: Int32Array, rowIdx: Int32Array, values: Float64Array | null,
): number {
  let s = 0;
  const e = colPtr[j + 1]!;
  if (values === null) for (let q = colPtr[j]!; q < e; q++) s += v[rowIdx[q]!]!;
  else for (let q = colPtr[j]!; q < e; q++) s += v[rowIdx[q]!]! * values[q]!;
  return s;
}

/** Euclidean norm of the first `len` entries. */
export function norm2(v: Float64Array, len = v.length): number {
  let s = 0;
  for (let i = 0; i < len; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

/** Result of the least-squares projection of y onto range(P). */
export interface RangeProjection {
  /** P·x_ls, the point of range(P) closest to y. */
  readonly y: Float64Array;
  /** ||y − P·x_ls|| (the part of y no x can explain). */
  readonly residualNorm: number;
  readonly iterations: number;
}

/**
 * Projects y onto range(P) by CGLS on min ||P x − y||₂ (x0 = 0, so the minimum-norm solution
 * for rank-deficient P). Stops when ||Pᵀr|| ≤ tol·||Pᵀy|| or after maxIter iterations.
 */
export function cgls(A: ColumnMatrix, y: Float64Array, tol = 1e-13, maxIter = 4 * A.rows + 20): RangeProjection {
  const d = A.rows, n = A.cols;
  const x = new Float64Array(n), s = new Float64Array(n), p = new Float64Array(n);
  const r = Float64Array.from(y), q = new Float64Array(d);
  mulTransVec(A, r, s);
  p.set(s);
  let gamma = dotN(s, s, n);
  const stop = tol * Math.sqrt(gamma);
  let it = 0;
  while (it < maxIter && Math.sqrt(gamma) > stop && gamma > 0) {
    mulVec(A, p, q);
    const qq = dotN(q, q, d);
    if (!(qq > 0)) break;
    const alpha = gamma / qq;
    for (let j = 0; j < n; j++) x[j]! += alpha * p[j]!;
    for (let i = 0; i < d; i++) r[i]! -= alpha * q[i]!;
    mulTransVec(A, r, s);
    const gNew = dotN(s, s, n);
    const beta = gNew / gamma;
    gamma = gNew;
    for (let j = 0; j < n; j++) p[j] = s[j]! + beta * p[j]!;
    it++;
  }
  // Recompute P·x rather than y − r so the result is exactly in range(P) up to rounding.
  const py = new Float64Array(d);
  mulVec(A, x, py);
  let res = 0;
  for (let i = 0; i < d; i++) { const e = y[i]! - py[i]!; res += e * e; }
  return { y: py, residualNorm: Math.sqrt(res), iterations: it };
}

function dotN(a: Float64Array, b: Float64Array, len: number): number {
  let s = 0;
  for (let i = 0; i < len; i++) s += a[i]! * b[i]!;
  return s;
}
