/** Planted tensors and naive references for the CP tests (not a test file). */
import { matrix, type Matrix } from '../../../src/linalg/matrix.js';
import { Rng } from '../../../src/linalg/random.js';
import { cpReconstruct, type CpFactors } from '../../../src/factorize/cp/index.js';
import type { Tensor3 } from '../../../src/sensing/operator.js';

/** A seeded random matrix (N(0,1), or |N(0,1)| + offset when non-negative). */
export function randomMatrix(rng: Rng, rows: number, cols: number, nonneg = false): Matrix {
  const m = matrix(rows, cols);
  for (let p = 0; p < m.data.length; p++) m.data[p] = nonneg ? Math.abs(rng.normal()) + 0.1 : rng.normal();
  return m;
}

/** An exact rank-r tensor [[A, B, C]] with seeded random factors. */
export function plantedCp(dims: [number, number, number], r: number, seed: number, nonneg: boolean): {
  T: Tensor3; factors: CpFactors;
} {
  const rng = new Rng(seed);
  const factors = [randomMatrix(rng, dims[0], r, nonneg), randomMatrix(rng, dims[1], r, nonneg), randomMatrix(rng, dims[2], r, nonneg)] as const;
  return { T: cpReconstruct(factors), factors };
}

/** A seeded random dense tensor. */
export function randomTensor(rng: Rng, dims: [number, number, number]): Tensor3 {
  const data = new Float64Array(dims[0] * dims[1] * dims[2]);
  for (let p = 0; p < data.length; p++) data[p] = rng.normal();
  return { dims, data };
}

/** Khatri–Rao product X ⊙ Y (rows (p·Y.rows + q) = X[p] ∘ Y[q]), materialised. */
export function khatriRao(X: Matrix, Y: Matrix): Matrix {
  const r = X.cols;
  const out = matrix(X.rows * Y.rows, r);
  for (let p = 0; p < X.rows; p++) {
    for (let q = 0; q < Y.rows; q++) {
      for (let t = 0; t < r; t++) out.data[(p * Y.rows + q) * r + t] = X.data[p * r + t]! * Y.data[q * r + t]!;
    }
  }
  return out;
}

/** The mode-n unfolding T₍n₎ (dims[n] × product of the other two, other indices in increasing mode order, row-major). */
export function unfold(T: Tensor3, mode: 0 | 1 | 2): Matrix {
  const [I, J, K] = T.dims;
  const out = matrix(T.dims[mode], (I * J * K) / T.dims[mode]);
  for (let i = 0; i < I; i++) {
    for (let j = 0; j < J; j++) {
      for (let k = 0; k < K; k++) {
        const v = T.data[(i * J + j) * K + k]!;
        const [row, col] = mode === 0 ? [i, j * K + k] : mode === 1 ? [j, i * K + k] : [k, i * J + j];
        out.data[row * out.cols + col] = v;
      }
    }
  }
  return out;
}

/** Naive C = A·B. */
export function matmul(A: Matrix, B: Matrix): Matrix {
  const C = matrix(A.rows, B.cols);
  for (let i = 0; i < A.rows; i++) {
    for (let j = 0; j < B.cols; j++) {
      let s = 0;
      for (let p = 0; p < A.cols; p++) s += A.data[i * A.cols + p]! * B.data[p * B.cols + j]!;
      C.data[i * B.cols + j] = s;
    }
  }
  return C;
}

/** ‖T − T̂‖_F / ‖T‖_F computed explicitly. */
export function explicitRelError(T: Tensor3, That: Tensor3): number {
  let num = 0, den = 0;
  for (let p = 0; p < T.data.length; p++) {
    num += (T.data[p]! - That.data[p]!) ** 2;
    den += T.data[p]! ** 2;
  }
  return Math.sqrt(num / den);
}
