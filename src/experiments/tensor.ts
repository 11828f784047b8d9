/**
 * `cfstream experiment tensor`: the synthetic check of Proposition 1 (PAPER.md §3.2). A has
 * k-sparse non-negative columns, B and C are dense non-negative; T = [[A, B, C]] + noise is
 * compressed along mode 1 and decomposed by FR (and optionally RF / full); the factors are
 * compared with the truth after unit-norm columns and a sign-invariant optimal matching.
 * Seeds: data from `seed`, P from `seed + 1`, the CP start from `seed + 2`.
 */
import { matrix, unitColumns, type Matrix } from '../linalg/matrix.js';
import { Rng } from '../linalg/random.js';
import { makeProjection } from '../sensing/index.js';
import { cpReconstruct, type CpMethod } from '../factorize/cp/index.js';
import { recoverColumns, type RecoveryMethod } from '../recovery/index.js';
import { matchedError, relError } from '../compressed/metrics.js';
import {
  tensorFactorizeRecover, tensorFull, tensorRecoverFactorize, tensorRelError, type TensorResult,
} from '../compressed/tensor.js';
import type { StageSeconds } from '../compressed/pipeline.js';
import type { SyntheticSetting } from './synthetic.js';

/** Options of the tensor experiment: the synthetic setting with two sample modes m1 × m2. */
export interface TensorExperimentOptions extends Omit<SyntheticSetting, 'm'> {
  m1: number;
  m2: number;
  method: 'fr' | 'rf' | 'full';
  recovery: RecoveryMethod;
  cpMethod: CpMethod;
  maxIter: number;
}

/** One result row. */
export interface TensorExperimentRow extends Omit<SyntheticSetting, 'm'> {
  method: 'fr' | 'rf' | 'full';
  m1: number;
  m2: number;
  /** Matched errors of the unit-norm columns of each factor. */
  errA: number;
  errB: number;
  errC: number;
  /** ‖T − [[Â, B̂, Ĉ]]‖ / ‖T‖ against the observed (noisy) tensor. */
  errRecon: number;
  /** Err(R_P(P·A), A): recovery from the exact compressed factor (FR and RF only). */
  errOracle: number | null;
  seconds: StageSeconds;
}

/** Runs one point. */
export async function runTensorExperiment(o: TensorExperimentOptions): Promise<TensorExperimentRow> {
  const rng = new Rng(o.seed);
  const A = matrix(o.n, o.r), B = matrix(o.m1, o.r), C = matrix(o.m2, o.r);
  for (let c = 0; c < o.r; c++) {
    const rows = new Set<number>();
    while (rows.size < o.k) rows.add(rng.int(o.n));
    for (const i of rows) A.data[i * o.r + c] = Math.abs(rng.normal());
  }
  for (const F of [B, C]) for (let i = 0; i < F.data.length; i++) F.data[i] = rng.uniform();
  const T = cpReconstruct([A, B, C]);
  if (o.noise > 0) {
    const E = rng.fillNormal(new Float64Array(T.data.length));
    let st = 0, se = 0;
    for (let i = 0; i < E.length; i++) { st += T.data[i]! ** 2; se += E[i]! ** 2; }
    const s = o.noise * Math.sqrt(st / se);
    for (let i = 0; i < E.length; i++) T.data[i]! += s * E[i]!;
  }
  const P = makeProjection({ ensemble: 'sparse-binary', n: o.n, d: o.d, p: o.p, seed: o.seed + 1 });
  const nonneg = o.cpMethod === 'nn-hals';
  const opts = { cp: { rank: o.r, method: o.cpMethod, nonneg, maxIter: o.maxIter, seed: o.seed + 2 }, recovery: { method: o.recovery } };
  let res: TensorResult;
  let compress = 0;
  if (o.method === 'full') res = tensorFull(T, opts);
  else {
    const t0 = performance.now() / 1000;
    const Tc = P.applyMode1(T);
    compress = performance.now() / 1000 - t0;
    res = o.method === 'fr' ? await tensorFactorizeRecover(Tc, P, opts) : await tensorRecoverFactorize(Tc, P, opts);
  }
  let errOracle: number | null = null;
  if (o.method !== 'full') errOracle = relError((await recoverColumns(P, P.applyColumns(A), { method: o.recovery })).W, A);
  return {
    method: o.method, n: o.n, m1: o.m1, m2: o.m2, r: o.r, k: o.k, d: o.d, p: o.p, noise: o.noise, seed: o.seed,
    errA: matchedError(unitColumns(A), unitColumns(res.A)).error,
    errB: matchedError(unitColumns(B), unitColumns(res.B)).error,
    errC: matchedError(unitColumns(C), unitColumns(res.C)).error,
    errRecon: tensorRelError(T, res),
    errOracle,
    seconds: { ...res.seconds, compress, total: res.seconds.total + compress },
  };
}
