/**
 * A binary sparse matrix stored by columns: the row indices of the ones in column j are
 * `rowIdx[colPtr[j] .. colPtr[j+1])`, sorted ascending. This is the natural form of an expander
 * measurement matrix `P` (p ones per column) and makes P·x, Pᵀ·y and P·M cost O(nnz) per vector.
 */
import { ShapeMismatchError } from '../errors.js';
import type { Matrix } from './matrix.js';

/** Binary matrix with entries in {0, 1}, compressed sparse column layout. */
export interface SparseBinaryMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly colPtr: Int32Array;
  readonly rowIdx: Int32Array;
}

/** Builds from per-column row-index lists (duplicates rejected, indices sorted). */
export function sparseBinaryFromColumns(rows: number, columns: ArrayLike<number>[]): SparseBinaryMatrix {
  const cols = columns.length;
  const colPtr = new Int32Array(cols + 1);
  let nnz = 0;
  for (let j = 0; j < cols; j++) { nnz += columns[j]!.length; colPtr[j + 1] = nnz; }
  const rowIdx = new Int32Array(nnz);
  for (let j = 0; j < cols; j++) {
    const sorted = Array.from(columns[j]!).sort((x, y) => x - y);
    for (let t = 0; t < sorted.length; t++) {
      const r = sorted[t]!;
      if (!(r >= 0 && r < rows) || !Number.isInteger(r)) {
        throw new ShapeMismatchError(`column ${j} row index`, `integer in [0, ${rows})`, String(r));
      }
      if (t > 0 && sorted[t - 1] === r) throw new ShapeMismatchError(`column ${j}`, 'distinct row indices', `duplicate ${r}`);
      rowIdx[colPtr[j]! + t] = r;
    }
  }
  return { rows, cols, colPtr, rowIdx };
}

/** y(rows) = P·x(cols). */
export function spMulVec(P: SparseBinaryMatrix, x: ArrayLike<number>, y: Float64Array): void {
  y.fill(0, 0, P.rows);
  const { colPtr, rowIdx, cols } = P;
  for (let j = 0; j < cols; j++) {
    const xj = x[j]!;
    if (xj === 0) continue;
    for (let t = colPtr[j]!, e = colPtr[j + 1]!; t < e; t++) y[rowIdx[t]!]! += xj;
  }
}

/** x(cols) = Pᵀ·y(rows). */
export function spMulTransVec(P: SparseBinaryMatrix, y: ArrayLike<number>, x: Float64Array): void {
  const { colPtr, rowIdx, cols } = P;
  for (let j = 0; j < cols; j++) {
    let s = 0;
    for (let t = colPtr[j]!, e = colPtr[j + 1]!; t < e; t++) s += y[rowIdx[t]!]!;
    x[j] = s;
  }
}

/** Out(rows×m) = P·M with M cols×m, both row-major: each row of M is added to p rows of Out. */
export function spMulMat(P: SparseBinaryMatrix, M: Float64Array, m: number, out: Float64Array): void {
  out.fill(0, 0, P.rows * m);
  const { colPtr, rowIdx, cols } = P;
  for (let j = 0; j < cols; j++) {
    const src = j * m;
    for (let t = colPtr[j]!, e = colPtr[j + 1]!; t < e; t++) {
      const dst = rowIdx[t]! * m;
      for (let c = 0; c < m; c++) out[dst + c]! += M[src + c]!;
    }
  }
}

/** Out(cols×m) = Pᵀ·Y with Y rows×m, both row-major. */
export function spMulTransMat(P: SparseBinaryMatrix, Y: Float64Array, m: number, out: Float64Array): void {
  out.fill(0, 0, P.cols * m);
  const { colPtr, rowIdx, cols } = P;
  for (let j = 0; j < cols; j++) {
    const dst = j * m;
    for (let t = colPtr[j]!, e = colPtr[j + 1]!; t < e; t++) {
      const src = rowIdx[t]! * m;
      for (let c = 0; c < m; c++) out[dst + c]! += Y[src + c]!;
    }
  }
}

/** Dense copy (rows×cols), for small cases and for reference tests. */
export function spToDense(P: SparseBinaryMatrix): Matrix {
  const data = new Float64Array(P.rows * P.cols);
  for (let j = 0; j < P.cols; j++) {
    for (let t = P.colPtr[j]!; t < P.colPtr[j + 1]!; t++) data[P.rowIdx[t]! * P.cols + j] = 1;
  }
  return { rows: P.rows, cols: P.cols, data };
}
