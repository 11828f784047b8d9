/**
 * The paper's synthetic model (PAPER.md §4.1): M = W·H + E with W = B ⊙ Y (k random ones per
 * column of B, Y ~ N(0,1)), H ~ N(0,1) with unit-norm rows (as the authors' repo does), both
 * taken elementwise absolute for NMF, and dense Gaussian noise E scaled to ‖E‖_F = noise·‖W·H‖_F.
 *
 * Draw order from `Rng(seed)` (so any port reproduces the data): for each column c of W, k
 * distinct rows by `int(n)` with rejection of repeats, then k values `normal()` in draw order;
 * then H row by row (r×m, `normal()`); then E row by row (n×m, `normal()`).
 */
import { InvalidOptionError } from '../errors.js';
import { gemm } from '../linalg/kernels.js';
import type { Matrix } from '../linalg/matrix.js';
import { Rng } from '../linalg/random.js';

/** Parameters of the synthetic model. */
export interface SyntheticModelOptions {
  /** 2000: features (uncompressed dimension). */
  n: number;
  /** 2000: samples. */
  m: number;
  /** 10: rank. */
  r: number;
  /** Non-zeros per column of W, 1 ≤ k ≤ n. */
  k: number;
  /** 0.1: ‖E‖_F / ‖W·H‖_F. */
  noise: number;
  /** true: take |W| and |H| (the NMF variant). */
  nonneg: boolean;
  /** Seed of the data generator. */
  seed: number;
}

/** A drawn instance with its ground truth. */
export interface SyntheticModel {
  W: Matrix;
  H: Matrix;
  /** The observed (noisy) matrix n×m. */
  M: Matrix;
}

/** Draws one instance of the synthetic model. */
export function generateSyntheticModel(o: SyntheticModelOptions): SyntheticModel {
  const owner = 'generateSyntheticModel';
  for (const key of ['n', 'm', 'r', 'k'] as const) {
    if (!Number.isInteger(o[key]) || o[key] < 1) throw new InvalidOptionError(owner, key, 'a positive integer', o[key]);
  }
  if (o.k > o.n) throw new InvalidOptionError(owner, 'k', `an integer ≤ n = ${o.n}`, o.k);
  if (!(o.noise >= 0) || !Number.isFinite(o.noise)) throw new InvalidOptionError(owner, 'noise', 'a finite number ≥ 0', o.noise);
  const { n, m, r, k, nonneg } = o;
  const rng = new Rng(o.seed);
  const W = new Float64Array(n * r);
  const rows = new Int32Array(k);
  for (let c = 0; c < r; c++) {
    let taken = 0;
    while (taken < k) {
      const i = rng.int(n);
      let dup = false;
      for (let t = 0; t < taken; t++) if (rows[t] === i) { dup = true; break; }
      if (!dup) rows[taken++] = i;
    }
    for (let t = 0; t < k; t++) {
      const v = rng.normal();
      W[rows[t]! * r + c] = nonneg ? Math.abs(v) : v;
    }
  }
  const H = new Float64Array(r * m);
  for (let c = 0; c < r; c++) {
    let s = 0;
    for (let j = 0; j < m; j++) {
      const v = rng.normal();
      const a = nonneg ? Math.abs(v) : v;
      H[c * m + j] = a;
      s += a * a;
    }
    const nrm = Math.sqrt(s) || 1;
    for (let j = 0; j < m; j++) H[c * m + j]! /= nrm;
  }
  const M = new Float64Array(n * m);
  gemm(W, H, n, r, m, M);
  if (o.noise > 0) {
    const E = rng.fillNormal(new Float64Array(n * m));
    let sm = 0, se = 0;
    for (let t = 0; t < M.length; t++) { sm += M[t]! * M[t]!; se += E[t]! * E[t]!; }
    const s = o.noise * Math.sqrt(sm / se);
    for (let t = 0; t < M.length; t++) M[t]! += s * E[t]!;
  }
  return {
    W: { rows: n, cols: r, data: W },
    H: { rows: r, cols: m, data: H },
    M: { rows: n, cols: m, data: M },
  };
}
