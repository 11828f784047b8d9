/**
 * The synthetic experiment of the paper (Fig. 2, PAPER.md §4.1): draw the sparse model, compress
 * with a sparse-binary P, run FR (or RF / full) with NMF or sparse PCA, and report
 *   errCompressed = Err(W~, P·W)       (FR only; after unit-norm rows of H and matching)
 *   errW          = Err(Ŵ, W)          (matched, sign-invariant, unit-norm rows of Ĥ)
 *   errOracle     = Err(R_P(P·W), W)   (recovery from the exact compressed factor)
 * Seeds: data from `seed`, P from `seed + 1`, the factorization from `seed + 2`.
 */
import type { Matrix } from '../linalg/matrix.js';
import { makeProjection } from '../sensing/index.js';
import { recoverColumns, type RecoveryMethod } from '../recovery/index.js';
import { recoverSamples, type Method } from '../compressed/pipeline.js';
import { matchedError, normalizeFactors, relError, reconstructionError } from '../compressed/metrics.js';
import { fitFactorization, type Solver } from '../compressed/factorization.js';
import { generateSyntheticModel } from './syntheticModel.js';

/** The synthetic model's size and the compression: what identifies one point of Fig. 2. */
export interface SyntheticSetting {
  n: number;
  m: number;
  r: number;
  k: number;
  d: number;
  p: number;
  noise: number;
  seed: number;
}

/** One point of the synthetic experiment. */
export interface SyntheticPointOptions extends SyntheticSetting {
  solver: Solver;
  method: Method;
  recovery: RecoveryMethod;
  /** NMF algorithm: 'hals' (default, fast) or 'pgd' (the paper's). */
  nmfAlgorithm?: 'hals' | 'pgd';
  /** Iteration cap of the factorization (default: the solver's). */
  iters?: number;
  /** Sparse PCA ℓ1 grid (relative α); the best by error is kept, as the paper did. */
  alphas?: number[];
}

/** One row of the table / one JSON object. */
export interface SyntheticRow extends SyntheticSetting {
  solver: Solver;
  method: Method;
  recovery: RecoveryMethod;
  errCompressed: number | null;
  errW: number;
  errOracle: number | null;
  /** ‖Ŵ·Ĥ − M‖_F / ‖M‖_F on the observed data. */
  errRecon: number;
  /** Sparse PCA: the chosen α. */
  alpha?: number;
  seconds: { compress: number; factorize: number; recover: number; total: number };
}

/** Default sparse PCA grid (relative α, see src/factorize/sparsePca.ts). */
export const DEFAULT_SPCA_ALPHAS = [0, 0.01, 0.03, 0.1, 0.3];

/** Runs one point and returns its row. */
export async function runSyntheticPoint(o: SyntheticPointOptions): Promise<SyntheticRow> {
  const model = generateSyntheticModel({ n: o.n, m: o.m, r: o.r, k: o.k, noise: o.noise, nonneg: o.solver === 'nmf', seed: o.seed });
  const P = makeProjection({ ensemble: 'sparse-binary', n: o.n, d: o.d, p: o.p, seed: o.seed + 1 });
  const recovery = { method: o.recovery };
  const alphas = o.solver === 'spca' ? (o.alphas ?? DEFAULT_SPCA_ALPHAS) : [0];
  const PW = P.applyColumns(model.W);

  const t0 = performance.now() / 1000;
  const Mc = o.method === 'full' ? model.M : P.applyColumns(model.M);
  const compress = o.method === 'full' ? 0 : performance.now() / 1000 - t0;

  // The ℓ1 weight is chosen as the paper did, by the lowest error: FR by the compressed error
  // (before recovery), RF and full by the factor error. Work that does not depend on α runs
  // once: RF's m recoveries before the grid, FR's r recoveries for the chosen α only.
  const samples = o.method === 'rf' ? await recoverSamples(Mc, P, o.solver, recovery) : undefined;
  const domain = samples ? samples.M : Mc;
  let best: { W: Matrix; H: Matrix; alpha: number; score: number; errCompressed: number | null; factorize: number } | undefined;
  for (const alpha of alphas) {
    const t = performance.now() / 1000;
    const f = fitFactorization(domain, { solver: o.solver, rank: o.r, seed: o.seed + 2, nmfAlgorithm: o.nmfAlgorithm, iters: o.iters, alpha });
    const factorize = performance.now() / 1000 - t;
    const errCompressed = o.method === 'fr' ? matchedError(PW, normalizeFactors(f.W, f.H).W).error : null;
    const score = errCompressed ?? matchedError(model.W, normalizeFactors(f.W, f.H).W).error;
    if (!best || score < best.score) best = { W: f.W, H: f.H, alpha, score, errCompressed, factorize };
  }
  const chosen = best!;
  let W = chosen.W, recover = samples?.seconds ?? 0;
  if (o.method === 'fr') {
    const rec = await recoverColumns(P, chosen.W, recovery);
    W = rec.W;
    recover = rec.seconds;
  }
  const row: SyntheticRow = {
    solver: o.solver, method: o.method, recovery: o.recovery,
    n: o.n, m: o.m, r: o.r, k: o.k, d: o.d, p: o.p, noise: o.noise, seed: o.seed,
    errCompressed: chosen.errCompressed,
    errW: matchedError(model.W, normalizeFactors(W, chosen.H).W).error,
    errOracle: null,
    errRecon: reconstructionError(W, chosen.H, model.M),
    seconds: { compress, factorize: chosen.factorize, recover, total: compress + chosen.factorize + recover },
  };
  if (o.solver === 'spca') row.alpha = chosen.alpha;
  if (o.method !== 'full') {
    const oracle = await recoverColumns(P, PW, recovery);
    row.errOracle = relError(oracle.W, model.W);
  }
  return row;
}

/** The Fig. 2 grid. */
export const FIG2_KS = [20, 40, 60, 80, 100, 120, 140, 160, 180];
export const FIG2_DS = [200, 400, 800];

/** Runs the Fig. 2 sweep (every k × d × recovery), reporting each row as it completes. */
export async function runSyntheticSweep(
  base: Omit<SyntheticPointOptions, 'k' | 'd' | 'recovery'>,
  recoveries: RecoveryMethod[],
  ks = FIG2_KS,
  ds = FIG2_DS,
  onRow?: (row: SyntheticRow, done: number, total: number) => void,
): Promise<SyntheticRow[]> {
  const rows: SyntheticRow[] = [];
  const total = ks.length * ds.length * recoveries.length;
  for (const d of ds) {
    for (const k of ks) {
      for (const recovery of recoveries) {
        const row = await runSyntheticPoint({ ...base, k, d, recovery });
        rows.push(row);
        onRow?.(row, rows.length, total);
      }
    }
  }
  return rows;
}

/** Re-exported for callers that format matrices. */
export type { Matrix };
