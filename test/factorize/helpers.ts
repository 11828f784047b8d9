/** Planted data and naive references for the factorize tests (not a test file). */
import type { Matrix } from '../../src/linalg/matrix.js';
import { Rng } from '../../src/linalg/random.js';
import { makeProjection } from '../../src/sensing/index.js';

/** Naive C = A·B. */
export function matmul(A: Matrix, B: Matrix): Matrix {
  const C = new Float64Array(A.rows * B.cols);
  for (let i = 0; i < A.rows; i++) {
    for (let j = 0; j < B.cols; j++) {
      let s = 0;
      for (let p = 0; p < A.cols; p++) s += A.data[i * A.cols + p]! * B.data[p * B.cols + j]!;
      C[i * B.cols + j] = s;
    }
  }
  return { rows: A.rows, cols: B.cols, data: C };
}

/** ‖X − W H‖_F / ‖X‖_F, computed naively. */
export function relError(X: Matrix, W: Matrix, H: Matrix): number {
  const P = matmul(W, H);
  let num = 0, den = 0;
  for (let i = 0; i < X.data.length; i++) {
    num += (X.data[i]! - P.data[i]!) ** 2;
    den += X.data[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

/** ‖A − B‖_F / ‖B‖_F. */
export function relDiff(A: Matrix | Float64Array, B: Matrix | Float64Array): number {
  const a = 'data' in A ? A.data : A;
  const b = 'data' in B ? B.data : B;
  let num = 0, den = 0;
  for (let i = 0; i < b.length; i++) { num += (a[i]! - b[i]!) ** 2; den += b[i]! ** 2; }
  return Math.sqrt(num / den);
}

/**
 * The paper's generator: W = B ⊙ Y (k non-zeros per column at random rows, Y ~ N(0,1)),
 * H ~ N(0,1) rows scaled to unit norm; `nonneg` takes |·| of both. X = W H (+ noise of the given
 * relative Frobenius size).
 */
export function planted(
  d: number, m: number, r: number, k: number, seed: number, opts: { nonneg?: boolean; noise?: number } = {},
): { X: Matrix; W: Matrix; H: Matrix } {
  const { nonneg = true, noise = 0 } = opts;
  const rng = new Rng(seed);
  const W = new Float64Array(d * r);
  for (let t = 0; t < r; t++) {
    const rows = new Set<number>();
    while (rows.size < k) rows.add(rng.int(d));
    for (const i of rows) { const v = rng.normal(); W[i * r + t] = nonneg ? Math.abs(v) : v; }
  }
  const H = new Float64Array(r * m);
  for (let t = 0; t < r; t++) {
    let s = 0;
    for (let j = 0; j < m; j++) { const v = rng.normal(); H[t * m + j] = nonneg ? Math.abs(v) : v; s += v * v; }
    for (let j = 0; j < m; j++) H[t * m + j]! /= Math.sqrt(s);
  }
  const Wm = { rows: d, cols: r, data: W };
  const Hm = { rows: r, cols: m, data: H };
  const X = matmul(Wm, Hm);
  if (noise > 0) addNoise(X, noise, rng, nonneg);
  return { X, W: Wm, H: Hm };
}

/** Adds Gaussian noise with ‖E‖ = level·‖X‖ (then clips at 0 if `nonneg`). */
function addNoise(X: Matrix, level: number, rng: Rng, nonneg: boolean): void {
  const E = rng.fillNormal(new Float64Array(X.data.length));
  let ee = 0, xx = 0;
  for (let i = 0; i < E.length; i++) { ee += E[i]! ** 2; xx += X.data[i]! ** 2; }
  const c = level * Math.sqrt(xx / ee);
  for (let i = 0; i < E.length; i++) {
    const v = X.data[i]! + c * E[i]!;
    X.data[i] = nonneg && v < 0 ? 0 : v;
  }
}

/**
 * The paper's synthetic NMF setting in the compressed domain: M = |W||H| + 10% noise (n×m,
 * k-sparse columns of W), compressed with a sparse-binary P (d×n, p = 5): X = P M (d×m).
 */
export function paperCompressed(n: number, m: number, d: number, r: number, k: number, seed: number, nonneg = true): Matrix {
  const { X: M } = planted(n, m, r, k, seed, { nonneg, noise: 0.1 });
  const P = makeProjection({ ensemble: 'sparse-binary', n, d, p: 5, seed: seed + 1 });
  return P.applyColumns(M);
}

/** Seeded uniform [0,1) matrix. */
export function uniformMatrix(rows: number, cols: number, seed: number): Matrix {
  return { rows, cols, data: new Rng(seed).fillUniform(new Float64Array(rows * cols)) };
}

/**
 * Matches estimated columns of W to true ones by greedy max |cosine| and returns, for each true
 * column t, the estimated column index and the cosine.
 */
export function matchColumns(Wtrue: Matrix, West: Matrix): { index: number[]; cosine: number[] } {
  const r = Wtrue.cols;
  const col = (M: Matrix, t: number) => Array.from({ length: M.rows }, (_, i) => M.data[i * M.cols + t]!);
  const cos = (a: number[], b: number[]) => {
    let ab = 0, aa = 0, bb = 0;
    for (let i = 0; i < a.length; i++) { ab += a[i]! * b[i]!; aa += a[i]! ** 2; bb += b[i]! ** 2; }
    return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
  };
  const pairs: { t: number; s: number; c: number }[] = [];
  for (let t = 0; t < r; t++) for (let s = 0; s < West.cols; s++) pairs.push({ t, s, c: cos(col(Wtrue, t), col(West, s)) });
  pairs.sort((a, b) => Math.abs(b.c) - Math.abs(a.c));
  const index = new Array<number>(r).fill(-1);
  const cosine = new Array<number>(r).fill(0);
  const used = new Set<number>();
  for (const p of pairs) {
    if (index[p.t] !== -1 || used.has(p.s)) continue;
    index[p.t] = p.s; cosine[p.t] = p.c; used.add(p.s);
  }
  return { index, cosine };
}
