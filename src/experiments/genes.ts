/**
 * The gene-expression experiment (Fig. 3 and Table 1, PAPER.md §4.3) on a real non-negative
 * matrix: for each compression factor c (d = round(n / c)), FR and RF with the same recovery
 * solver, error ‖Ŵ·Ĥ − M‖_F / ‖M‖_F and the time of every stage, next to the uncompressed NMF.
 * Also the rank-2 clustering check: argmax of each column of Ĥ against the known classes.
 */
import type { Matrix } from '../linalg/matrix.js';
import { makeProjection } from '../sensing/index.js';
import type { RecoveryMethod } from '../recovery/index.js';
import {
  factorizeFull, factorizeRecover, recoverFactorize, type CompressedOptions, type StageSeconds,
} from '../compressed/pipeline.js';
import { reconstructionError } from '../compressed/metrics.js';

/** Options of the genes experiment. */
export interface GenesOptions {
  /** 10: rank of the factorization. */
  rank: number;
  /** 2..12: compression factors n/d. */
  compressions: number[];
  /** 5: ones per column of P. */
  p: number;
  /** 'fast' or 'lp' (the paper's Table 1 setting). */
  recovery: RecoveryMethod;
  /** NMF algorithm ('pgd' is the paper's, 250 iterations). */
  nmfAlgorithm: 'hals' | 'pgd';
  /** Iteration cap (default 250 for pgd, the solver default for hals). */
  iters?: number;
  /** Independent draws of P (and NMF init) per compression; mean and sd reported. */
  trials: number;
  seed: number;
  /** Also run RF (m recoveries per point). */
  rf: boolean;
  onProgress?: (fraction: number, text: string) => void;
}

/** Mean and standard deviation over trials. */
export interface Stat { mean: number; sd: number }

/** One compression factor's results. */
export interface GenesRow {
  compression: number;
  d: number;
  fr: { error: Stat; seconds: StageSeconds };
  rf?: { error: Stat; seconds: StageSeconds };
  /** (RF − FR) / RF of the mean errors. */
  reduction?: number;
}

/** The whole experiment. */
export interface GenesResult {
  n: number;
  m: number;
  rank: number;
  recovery: RecoveryMethod;
  nmfAlgorithm: 'hals' | 'pgd';
  full: { error: number; seconds: number };
  rows: GenesRow[];
}

function stat(xs: number[]): Stat {
  const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((s, v) => s + (v - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd };
}

function meanSeconds(all: StageSeconds[]): StageSeconds {
  const out: StageSeconds = { compress: 0, factorize: 0, recover: 0, total: 0 };
  for (const s of all) for (const k of Object.keys(out) as (keyof StageSeconds)[]) out[k] += s[k] / all.length;
  return out;
}

/** Runs the sweep over compression factors. */
export async function runGenes(M: Matrix, o: GenesOptions): Promise<GenesResult> {
  const iters = o.iters ?? (o.nmfAlgorithm === 'pgd' ? 250 : undefined);
  const fopts = (seed: number): CompressedOptions => ({
    factorization: { solver: 'nmf', rank: o.rank, seed, nmfAlgorithm: o.nmfAlgorithm, iters },
    recovery: { method: o.recovery },
  });
  const full = factorizeFull(M, fopts(o.seed));
  const result: GenesResult = {
    n: M.rows, m: M.cols, rank: o.rank, recovery: o.recovery, nmfAlgorithm: o.nmfAlgorithm,
    full: { error: reconstructionError(full.W, full.H, M), seconds: full.seconds.total },
    rows: [],
  };
  const steps = o.compressions.length * o.trials;
  let step = 0;
  for (const c of o.compressions) {
    const d = Math.max(1, Math.round(M.rows / c));
    const fr: { e: number; s: StageSeconds }[] = [];
    const rf: { e: number; s: StageSeconds }[] = [];
    for (let t = 0; t < o.trials; t++) {
      o.onProgress?.(step / steps, `n/d=${c} trial ${t + 1}`);
      const seed = o.seed + 1000 * t + 1;
      const t0 = performance.now() / 1000;
      const P = makeProjection({ ensemble: 'sparse-binary', n: M.rows, d, p: o.p, seed });
      const Mc = P.applyColumns(M);
      const tc = performance.now() / 1000 - t0;
      const a = await factorizeRecover(Mc, P, fopts(seed + 1));
      a.seconds.compress = tc;
      a.seconds.total += tc;
      fr.push({ e: reconstructionError(a.W, a.H, M), s: a.seconds });
      if (o.rf) {
        const b = await recoverFactorize(Mc, P, fopts(seed + 1));
        b.seconds.compress = tc;
        b.seconds.total += tc;
        rf.push({ e: reconstructionError(b.W, b.H, M), s: b.seconds });
      }
      step++;
    }
    const row: GenesRow = { compression: c, d, fr: { error: stat(fr.map((x) => x.e)), seconds: meanSeconds(fr.map((x) => x.s)) } };
    if (o.rf) {
      row.rf = { error: stat(rf.map((x) => x.e)), seconds: meanSeconds(rf.map((x) => x.s)) };
      row.reduction = (row.rf.error.mean - row.fr.error.mean) / row.rf.error.mean;
    }
    result.rows.push(row);
  }
  o.onProgress?.(1, 'done');
  return result;
}

/** Rank-2 clustering agreement: how many samples argmax(Ĥ[:, j]) puts with their class. */
export function clusterAgreement(H: Matrix, classes: string[]): { correct: number; total: number; clusters: number[] } {
  const clusters: number[] = [];
  for (let j = 0; j < H.cols; j++) {
    let best = 0;
    for (let c = 1; c < H.rows; c++) if (H.data[c * H.cols + j]! > H.data[best * H.cols + j]!) best = c;
    clusters.push(best);
  }
  // Map each cluster to its majority class; count matches.
  let correct = 0;
  for (let c = 0; c < H.rows; c++) {
    const counts = new Map<string, number>();
    clusters.forEach((k, j) => { if (k === c) counts.set(classes[j]!, (counts.get(classes[j]!) ?? 0) + 1); });
    correct += Math.max(0, ...counts.values());
  }
  return { correct, total: H.cols, clusters };
}

/** Rank-2 FR (and uncompressed) clustering at each compression factor, over several seeds. */
export async function runGenesClustering(
  M: Matrix, classes: string[], compressions: number[], o: Pick<GenesOptions, 'p' | 'recovery' | 'nmfAlgorithm' | 'seed'> & { seeds: number },
): Promise<{ full: number[]; fr: { compression: number; correct: number[] }[]; total: number }> {
  const opts = (seed: number): CompressedOptions => ({
    factorization: { solver: 'nmf', rank: 2, seed, nmfAlgorithm: o.nmfAlgorithm },
    recovery: { method: o.recovery },
  });
  const full: number[] = [];
  for (let s = 0; s < o.seeds; s++) full.push(clusterAgreement(factorizeFull(M, opts(o.seed + s)).H, classes).correct);
  const fr: { compression: number; correct: number[] }[] = [];
  for (const c of compressions) {
    const correct: number[] = [];
    for (let s = 0; s < o.seeds; s++) {
      const P = makeProjection({ ensemble: 'sparse-binary', n: M.rows, d: Math.round(M.rows / c), p: o.p, seed: o.seed + 7919 * (s + 1) });
      const res = await factorizeRecover(P.applyColumns(M), P, opts(o.seed + s));
      correct.push(clusterAgreement(res.H, classes).correct);
    }
    fr.push({ compression: c, correct });
  }
  return { full, fr, total: M.cols };
}
