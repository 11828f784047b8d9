/**
 * A measurement operator built from a `ProjectionSpec`: y = P·x for vectors, the columns of a
 * matrix (M~ = P·M, samples are columns) and mode 1 of a 3-way tensor (T~ = T ×₁ P).
 */
import { gemm, gemmTN } from '../linalg/kernels.js';
import type { Matrix } from '../linalg/matrix.js';
import { ShapeMismatchError } from '../errors.js';
import {
  spMulMat, spMulTransMat, spMulTransVec, spMulVec, type SparseBinaryMatrix,
} from '../linalg/sparseBinary.js';
import {
  generateDense, generateSparseBinary, validateProjectionSpec, type ProjectionSpec,
} from './projection.js';

/** A 3-way tensor, row-major: entry (i, j, k) at `data[(i·J + j)·K + k]` for dims [I, J, K]. */
export interface Tensor3 {
  readonly dims: readonly [number, number, number];
  readonly data: Float64Array;
}

/** The measurement operator P (d×n) with its spec; sparse for `sparse-binary`, dense otherwise. */
export interface Projection {
  readonly spec: Required<ProjectionSpec>;
  readonly d: number;
  readonly n: number;
  /** Present for `sparse-binary`. */
  readonly sparse?: SparseBinaryMatrix;
  /** Present for dense ensembles (d×n row-major). */
  readonly dense?: Matrix;
  /** y(d) = P·x(n), written into `out`. */
  apply(x: ArrayLike<number>, out?: Float64Array): Float64Array;
  /** x(n) = Pᵀ·y(d), written into `out`. */
  applyT(y: ArrayLike<number>, out?: Float64Array): Float64Array;
  /** M~ (d×m) = P·M for M n×m (each column a sample). */
  applyColumns(M: Matrix): Matrix;
  /** Pᵀ·Y (n×m) for Y d×m. */
  applyTColumns(Y: Matrix): Matrix;
  /** T ×₁ P: compresses mode 1 of a tensor with dims [n, J, K] to [d, J, K]. */
  applyMode1(T: Tensor3): Tensor3;
}

/** Builds the operator for a spec (validates it; same spec ⇒ same P everywhere). */
export function makeProjection(specIn: ProjectionSpec): Projection {
  const spec = validateProjectionSpec(specIn);
  const sparse = spec.ensemble === 'sparse-binary' ? generateSparseBinary(spec) : undefined;
  return operatorOf(spec, spec.d, spec.n, sparse, sparse ? undefined : generateDense(spec));
}

/**
 * Rows [from, to) of P as a projection of its own (d = to − from): e.g. the measurement rows a
 * model trains on when the others are held out to estimate its error. `spec` stays the parent's
 * (the generator); the block's columns may hold fewer than p ones.
 */
export function rowBlock(P: Projection, from: number, to: number): Projection {
  if (!(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from < to && to <= P.d)) {
    throw new ShapeMismatchError('rowBlock: rows', `0 ≤ from < to ≤ d = ${P.d}`, `[${from}, ${to})`);
  }
  const d = to - from;
  if (P.sparse) {
    const S = P.sparse;
    const colPtr = new Int32Array(S.cols + 1);
    const kept: number[] = [];
    for (let j = 0; j < S.cols; j++) {
      for (let q = S.colPtr[j]!; q < S.colPtr[j + 1]!; q++) {
        const r = S.rowIdx[q]!;
        if (r >= from && r < to) kept.push(r - from);
      }
      colPtr[j + 1] = kept.length;
    }
    return operatorOf(P.spec, d, P.n, { rows: d, cols: S.cols, colPtr, rowIdx: Int32Array.from(kept) }, undefined);
  }
  const D = P.dense!;
  return operatorOf(P.spec, d, P.n, undefined, { rows: d, cols: P.n, data: D.data.slice(from * P.n, to * P.n) });
}

function operatorOf(spec: Required<ProjectionSpec>, d: number, n: number, sparse: SparseBinaryMatrix | undefined, dense: Matrix | undefined): Projection {

  const applyColumns = (M: Matrix): Matrix => {
    if (M.rows !== n) throw new ShapeMismatchError('P·M: M', `${n}×m`, `${M.rows}×${M.cols}`);
    const out = new Float64Array(d * M.cols);
    if (sparse) spMulMat(sparse, M.data, M.cols, out);
    else gemm(dense!.data, M.data, d, n, M.cols, out);
    return { rows: d, cols: M.cols, data: out };
  };

  return {
    spec, d, n, sparse, dense,
    apply(x, out = new Float64Array(d)) {
      if (x.length !== n) throw new ShapeMismatchError('P·x: x', `length ${n}`, `length ${x.length}`);
      if (sparse) spMulVec(sparse, x, out);
      else {
        const a = dense!.data;
        for (let i = 0; i < d; i++) {
          let s = 0;
          for (let j = 0; j < n; j++) s += a[i * n + j]! * x[j]!;
          out[i] = s;
        }
      }
      return out;
    },
    applyT(y, out = new Float64Array(n)) {
      if (y.length !== d) throw new ShapeMismatchError('Pᵀ·y: y', `length ${d}`, `length ${y.length}`);
      if (sparse) spMulTransVec(sparse, y, out);
      else {
        const a = dense!.data;
        out.fill(0);
        for (let i = 0; i < d; i++) {
          const yi = y[i]!;
          for (let j = 0; j < n; j++) out[j]! += a[i * n + j]! * yi;
        }
      }
      return out;
    },
    applyColumns,
    applyTColumns(Y) {
      if (Y.rows !== d) throw new ShapeMismatchError('Pᵀ·Y: Y', `${d}×m`, `${Y.rows}×${Y.cols}`);
      const out = new Float64Array(n * Y.cols);
      if (sparse) spMulTransMat(sparse, Y.data, Y.cols, out);
      else gemmTN(dense!.data, Y.data, d, n, Y.cols, out);
      return { rows: n, cols: Y.cols, data: out };
    },
    applyMode1(T) {
      const [I, J, K] = T.dims;
      if (I !== n) throw new ShapeMismatchError('T ×₁ P: mode-1 size of T', String(n), String(I));
      // Row-major [I, J, K] is the mode-1 unfolding I×(J·K) already.
      const out = applyColumns({ rows: I, cols: J * K, data: T.data });
      return { dims: [d, J, K], data: out.data };
    },
  };
}

/**
 * Reorders a tensor's modes: mode t of the result is mode `order[t]` of T (numpy's
 * `transpose(T, order)`). Used to bring the mode being compressed to the front.
 */
export function permuteModes(T: Tensor3, order: readonly [number, number, number]): Tensor3 {
  const sorted = [...order].sort();
  if (sorted.join() !== '0,1,2') throw new ShapeMismatchError('permuteModes: order', 'a permutation of [0, 1, 2]', `[${order.join(', ')}]`);
  const [I, J, K] = T.dims;
  const dims = [T.dims[order[0]]!, T.dims[order[1]]!, T.dims[order[2]]!] as const;
  const strides = [J * K, K, 1];
  const s0 = strides[order[0]]!, s1 = strides[order[1]]!, s2 = strides[order[2]]!;
  const out = new Float64Array(I * J * K);
  const x = T.data;
  let q = 0;
  for (let a = 0; a < dims[0]; a++) {
    for (let b = 0; b < dims[1]; b++) {
      const base = a * s0 + b * s1;
      for (let c = 0; c < dims[2]; c++) out[q++] = x[base + c * s2]!;
    }
  }
  return { dims, data: out };
}

/** The order that undoes `permuteModes(·, order)`. */
export function inversePermutation(order: readonly [number, number, number]): [number, number, number] {
  const inv: [number, number, number] = [0, 0, 0];
  order.forEach((m, t) => { inv[m] = t; });
  return inv;
}
