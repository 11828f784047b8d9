/** Shared fixtures for the recovery tests: planted sparse columns and comparison helpers. */
import { Rng } from '../../src/linalg/random.js';
import type { Matrix } from '../../src/linalg/matrix.js';
import { makeProjection, type Ensemble, type Projection } from '../../src/sensing/index.js';
import { addColumnNoise, plantSparse } from '../../src/recovery/bench.js';

/** A planted problem: P, the truth W (n×r) and its compression Wc = P·W (+ noise). */
export interface Planted {
  P: Projection;
  W: Matrix;
  Wc: Matrix;
}

/** k-sparse columns (signed unless nonneg) compressed by P; optional relative noise per column. */
export function planted(opts: {
  n: number; d: number; k: number; r: number; seed: number; p?: number; nonneg?: boolean; noise?: number; ensemble?: Ensemble;
}): Planted {
  const { n, d, k, r, seed, p = 5, nonneg = false, noise = 0, ensemble = 'sparse-binary' } = opts;
  const P = makeProjection({ ensemble, n, d, p, seed });
  const W = plantSparse(n, r, k, new Rng(seed + 100));
  if (!nonneg) {
    const rng = new Rng(seed + 200);
    for (let i = 0; i < W.data.length; i++) if (W.data[i] !== 0 && rng.uniform() < 0.5) W.data[i] = -W.data[i]!;
  }
  const Wc = P.applyColumns(W);
  if (noise > 0) addColumnNoise(Wc, noise, new Rng(seed + 300));
  return { P, W, Wc };
}

/** ||a − b|| / ||b||. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0, t = 0;
  for (let i = 0; i < b.length; i++) { s += (a[i]! - b[i]!) ** 2; t += b[i]! ** 2; }
  return Math.sqrt(s / (t || 1));
}

/** Column c of M. */
export function col(M: Matrix, c: number): Float64Array {
  const out = new Float64Array(M.rows);
  for (let i = 0; i < M.rows; i++) out[i] = M.data[i * M.cols + c]!;
  return out;
}

/** Indices with |v_i| > rel·||v||∞ (so rounding-level entries do not count). */
export function supportOf(v: ArrayLike<number>, rel = 1e-6): number[] {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]!));
  const out: number[] = [];
  for (let i = 0; i < v.length; i++) if (Math.abs(v[i]!) > rel * m) out.push(i);
  return out;
}

/** A dense "projection" from explicit rows, for hand-checkable LPs. */
export function denseP(rows: number[][]): Pick<Projection, 'd' | 'n' | 'sparse' | 'dense'> {
  const d = rows.length, n = rows[0]!.length;
  const data = new Float64Array(d * n);
  rows.forEach((row, i) => row.forEach((v, j) => { data[i * n + j] = v; }));
  return { d, n, sparse: undefined, dense: { rows: d, cols: n, data } };
}
