/**
 * Dense row-major matrices on `Float64Array`. A matrix is a plain record so that kernels can
 * take caller-owned buffers and nothing allocates inside iterations.
 */
import { ShapeMismatchError } from '../errors.js';

/** A dense row-major matrix: entry (i, j) is `data[i * cols + j]`. */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

/** Creates a zero matrix (or wraps `data`, which must have rows·cols entries). */
export function matrix(rows: number, cols: number, data?: Float64Array): Matrix {
  if (data && data.length !== rows * cols) {
    throw new ShapeMismatchError('matrix data', `${rows}x${cols} (${rows * cols} entries)`, `${data.length} entries`);
  }
  return { rows, cols, data: data ?? new Float64Array(rows * cols) };
}

/** Builds a matrix from an array of equal-length rows. */
export function fromRows(rows: ArrayLike<number>[]): Matrix {
  const r = rows.length;
  const c = r === 0 ? 0 : rows[0]!.length;
  const m = matrix(r, c);
  for (let i = 0; i < r; i++) {
    const row = rows[i]!;
    if (row.length !== c) throw new ShapeMismatchError(`row ${i}`, `${c} entries`, `${row.length}`);
    for (let j = 0; j < c; j++) m.data[i * c + j] = row[j]!;
  }
  return m;
}

/** Returns the rows as plain arrays (for JSON and tests). */
export function toRows(a: Matrix): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < a.rows; i++) out.push(Array.from(a.data.subarray(i * a.cols, (i + 1) * a.cols)));
  return out;
}

/** Deep copy. */
export function clone(a: Matrix): Matrix {
  return { rows: a.rows, cols: a.cols, data: a.data.slice() };
}

/** Transpose into a new matrix (or into `out`, cols×rows). */
export function transpose(a: Matrix, out?: Matrix): Matrix {
  const o = out ?? matrix(a.cols, a.rows);
  const { rows, cols, data } = a;
  const od = o.data;
  // Tiled so that both the read and the write stay in cache for large matrices.
  const B = 32;
  for (let i0 = 0; i0 < rows; i0 += B) {
    const i1 = Math.min(rows, i0 + B);
    for (let j0 = 0; j0 < cols; j0 += B) {
      const j1 = Math.min(cols, j0 + B);
      for (let i = i0; i < i1; i++) {
        const base = i * cols;
        for (let j = j0; j < j1; j++) od[j * rows + i] = data[base + j]!;
      }
    }
  }
  return o;
}

/** Column j as a new vector. */
export function getColumn(a: Matrix, j: number, out?: Float64Array): Float64Array {
  const o = out ?? new Float64Array(a.rows);
  for (let i = 0; i < a.rows; i++) o[i] = a.data[i * a.cols + j]!;
  return o;
}

/** Writes vector `v` into column j. */
export function setColumn(a: Matrix, j: number, v: ArrayLike<number>): void {
  for (let i = 0; i < a.rows; i++) a.data[i * a.cols + j] = v[i]!;
}

/** Throws a ShapeMismatchError unless `a` is rows×cols. */
export function assertShape(name: string, a: Matrix, rows: number, cols: number): void {
  if (a.rows !== rows || a.cols !== cols) {
    throw new ShapeMismatchError(name, `${rows}x${cols}`, `${a.rows}x${a.cols}`);
  }
}

/** Scales each column of a row-major rows×cols array to unit ℓ2 norm in place (zero columns stay); returns the old norms. */
export function normalizeColumnsInPlace(data: Float64Array, rows: number, cols: number): Float64Array {
  const norms = new Float64Array(cols);
  for (let i = 0; i < rows; i++) for (let c = 0; c < cols; c++) norms[c]! += data[i * cols + c]! ** 2;
  for (let c = 0; c < cols; c++) norms[c] = Math.sqrt(norms[c]!);
  for (let i = 0; i < rows; i++) for (let c = 0; c < cols; c++) if (norms[c]! > 0) data[i * cols + c]! /= norms[c]!;
  return norms;
}

/** A copy of A with unit ℓ2-norm columns (zero columns stay zero). */
export function unitColumns(A: Matrix): Matrix {
  const U = clone(A);
  normalizeColumnsInPlace(U.data, U.rows, U.cols);
  return U;
}

/** The n×r matrix whose column c is cols[c] (the column arrays of a JSON factors message). */
export function fromColumns(cols: readonly ArrayLike<number>[]): Matrix {
  const r = cols.length, n = cols[0]?.length ?? 0;
  const data = new Float64Array(n * r);
  for (let c = 0; c < r; c++) for (let i = 0; i < n; i++) data[i * r + c] = cols[c]![i]!;
  return { rows: n, cols: r, data };
}

/** A copy of A with column c multiplied by s[c]. */
export function scaleColumns(A: Matrix, s: ArrayLike<number>): Matrix {
  const out = A.data.slice();
  for (let i = 0; i < A.rows; i++) for (let c = 0; c < A.cols; c++) out[i * A.cols + c]! *= s[c]!;
  return { rows: A.rows, cols: A.cols, data: out };
}
