/**
 * Recovery benchmark: HiGHS basis pursuit vs the fast lasso-path solver on the paper's synthetic
 * setting (sparse-binary P, p ones per column; non-negative k-sparse columns, values |N(0,1)|).
 * Times are per column; medians over columns (fast: each column's median over `reps` runs after
 * one untimed warm-up run, because one fast solve is ~1000× shorter than one LP).
 */
import { Rng } from '../linalg/random.js';
import { getColumn, type Matrix } from '../linalg/matrix.js';
import { median } from '../linalg/stats.js';
import { frobDiffSq, sumSquares } from '../linalg/kernels.js';
import { makeProjection } from '../sensing/index.js';
import { loadHighs } from './lp.js';
import { recoverColumns } from './index.js';

/** Benchmark parameters (the acceptance setting is n=2000, d=400, p=5, k=40, r=10). */
export interface BenchRecoveryOptions {
  n: number;
  d: number;
  p: number;
  k: number;
  r: number;
  seed: number;
  /** Relative noise ||e_i||/||P w_i|| added to each column; also passed to the fast solver as `noise`. */
  noise: number;
  /** false (the paper's signed R_P). true: both methods solve the x ≥ 0 variant. */
  nonneg?: boolean;
  /** 5. Timed repetitions of the fast solver. */
  reps?: number;
}

/** Timing summary of one method. */
export interface MethodTiming {
  /** Median seconds per column. */
  median: number;
  /** Seconds per column. */
  perColumn: number[];
  /** ||Ŵ − W||_F / ||W||_F against the planted truth. */
  errVsTruth: number;
}

/** Result of benchRecovery. */
export interface BenchRecoveryResult {
  lp: MethodTiming;
  fast: MethodTiming;
  /** lp.median / fast.median. */
  speedup: number;
  /** Every column has the same support (|x_j| > 1e-6·||x||∞) under both methods. */
  sameSupport: boolean;
  /** max over columns of ||x_fast − x_lp|| / ||x_lp||. */
  relErrVsLp: number;
  /** Columns whose fast solution carries an optimality certificate. */
  certifiedColumns: number;
  config: Required<BenchRecoveryOptions>;
}

/** Plants k-sparse non-negative columns, compresses them and times LP vs fast recovery of each. */
export async function benchRecovery(opts: BenchRecoveryOptions): Promise<BenchRecoveryResult> {
  const config: Required<BenchRecoveryOptions> = { nonneg: false, reps: 5, ...opts };
  const { n, d, p, k, r, seed, noise, nonneg, reps } = config;
  const P = makeProjection({ ensemble: 'sparse-binary', n, d, p, seed });
  const W = plantSparse(n, r, k, new Rng(seed + 1));
  const Wc = P.applyColumns(W);
  if (noise > 0) addColumnNoise(Wc, noise, new Rng(seed + 2));

  await loadHighs();
  const lp = await recoverColumns(P, Wc, { method: 'lp', nonneg });
  const fastOpts = { method: 'fast', nonneg, noise } as const;
  let fast = await recoverColumns(P, Wc, fastOpts); // warm-up (JIT), untimed
  const runs: number[][] = Array.from({ length: r }, () => []);
  for (let t = 0; t < reps; t++) {
    fast = await recoverColumns(P, Wc, fastOpts);
    fast.secondsPerColumn.forEach((s, c) => runs[c]!.push(s));
  }
  const fastPerColumn = runs.map(median);

  let sameSupport = true, relErrVsLp = 0;
  for (let c = 0; c < r; c++) {
    const a = getColumn(lp.W, c), b = getColumn(fast.W, c);
    if (!equalSupport(a, b)) sameSupport = false;
    relErrVsLp = Math.max(relErrVsLp, Math.sqrt(frobDiffSq(a, b)) / (Math.sqrt(sumSquares(a)) || 1));
  }
  const lpMedian = median(lp.secondsPerColumn), fastMedian = median(fastPerColumn);
  return {
    lp: { median: lpMedian, perColumn: lp.secondsPerColumn, errVsTruth: Math.sqrt(frobDiffSq(lp.W.data, W.data) / sumSquares(W.data)) },
    fast: { median: fastMedian, perColumn: fastPerColumn, errVsTruth: Math.sqrt(frobDiffSq(fast.W.data, W.data) / sumSquares(W.data)) },
    speedup: lpMedian / fastMedian,
    sameSupport,
    relErrVsLp,
    certifiedColumns: fast.columns.filter((x) => x.method === 'fast' && x.stats.certified).length,
    config,
  };
}

/** n×r matrix whose columns have k non-zeros at distinct random rows, values |N(0,1)|. */
export function plantSparse(n: number, r: number, k: number, rng: Rng): Matrix {
  const data = new Float64Array(n * r);
  for (let c = 0; c < r; c++) {
    let placed = 0;
    while (placed < k) {
      const j = rng.int(n);
      if (data[j * r + c] !== 0) continue;
      let v = 0;
      while (v === 0) v = Math.abs(rng.normal());
      data[j * r + c] = v;
      placed++;
    }
  }
  return { rows: n, cols: r, data };
}

/** Adds Gaussian noise to each column, scaled to ||e_c|| = level·||column c||. */
export function addColumnNoise(M: Matrix, level: number, rng: Rng): void {
  const { rows, cols, data } = M;
  const e = new Float64Array(rows);
  for (let c = 0; c < cols; c++) {
    let cn = 0, en = 0;
    for (let i = 0; i < rows; i++) { const v = data[i * cols + c]!; cn += v * v; e[i] = rng.normal(); en += e[i]! * e[i]!; }
    const s = en > 0 ? (level * Math.sqrt(cn)) / Math.sqrt(en) : 0;
    for (let i = 0; i < rows; i++) data[i * cols + c]! += s * e[i]!;
  }
}

/** Same support at relative threshold 1e-6·||·||∞ (simplex zeros are exact; CD zeros too). */
export function equalSupport(a: Float64Array, b: Float64Array): boolean {
  const ta = 1e-6 * maxAbs(a), tb = 1e-6 * maxAbs(b);
  for (let i = 0; i < a.length; i++) if ((Math.abs(a[i]!) > ta) !== (Math.abs(b[i]!) > tb)) return false;
  return true;
}

function maxAbs(v: Float64Array): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]!));
  return m;
}
