/**
 * Compressed CP for 3-way tensors compressed along mode 1 (PAPER.md §1.2, Algorithm 2):
 *
 *   FR:   T~ = T ×₁ P (d×J×K) ─CP→ [[w; A~, B, C]] ─r recoveries→ Â = R_P(A~·diag(w)), B̂ = B, Ĉ = C
 *   RF:   T~ ─J·K fiber recoveries→ T̂ (n×J×K) ─CP→ Â, B̂, Ĉ
 *   full: T ─CP→ Â, B̂, Ĉ
 *
 * Results carry the weights in Â (B̂ and Ĉ have unit-norm columns), so [[Â, B̂, Ĉ]] is the model.
 * For non-negative CP the tensor being decomposed (T~, the recovered T̂ or T) is clipped at 0 on a
 * copy first: noise makes a few entries slightly negative (as in the matrix pipeline). With a
 * non-negative model the recovered mode-1 signals (FR's Â, RF's fibers) are clipped at 0 as well.
 * `basis: 'dct'` recovers DCT coefficients s (x = Ψ s) instead of x itself, for signals that are
 * smooth rather than sparse (src/sensing/basis.ts).
 */
import { InvalidOptionError } from '../errors.js';
import { scaleColumns, type Matrix } from '../linalg/matrix.js';
import type { Projection, Tensor3 } from '../sensing/operator.js';
import { inBasis, type BasisName } from '../sensing/basis.js';
import { recoverColumns, type RecoveryOptions } from '../recovery/index.js';
import { cp, cpErrorSq, tensorNormSq, type CpOptions } from '../factorize/cp/index.js';
import type { StageSeconds } from './pipeline.js';
import { withoutNegatives } from './factorization.js';

/** Options of a compressed tensor decomposition. */
export interface TensorOptions {
  /** CP settings (rank, method, …); non-negative methods make RF clip the recovered tensor. */
  cp: Partial<CpOptions>;
  /** Recovery settings (default: the fast solver). */
  recovery?: RecoveryOptions;
  /** 'identity'. The basis the mode-1 signals are sparse in: recovery finds s with x = Ψ s (src/sensing/basis.ts). */
  basis?: BasisName;
}

/** A fitted tensor model in the original domain. */
export interface TensorResult {
  method: 'fr' | 'rf' | 'full';
  /** Mode-1 factor n×r, carrying the component weights. */
  A: Matrix;
  /** Mode-2 factor J×r, unit-norm columns. */
  B: Matrix;
  /** Mode-3 factor K×r, unit-norm columns. */
  C: Matrix;
  /** FR: the compressed mode-1 factor d×r (with weights). */
  Ac?: Matrix;
  seconds: StageSeconds;
}

const now = () => performance.now() / 1000;
const nonnegative = (o: Partial<CpOptions>) => o.method === 'nn-hals' || o.nonneg === true;

/** The tensor a non-negative CP may see: negatives set to 0 on a copy (the input is left alone). */
function cpInput(T: Tensor3, o: Partial<CpOptions>): Tensor3 {
  return nonnegative(o) ? { dims: T.dims, data: withoutNegatives(T.data) } : T;
}

/**
 * A rank above the smallest dimension of the decomposed tensor is rejected: for FR it would give
 * more compressed columns than measurements (d), which no recovery can separate, and for RF/full it
 * means a degenerate model. CP itself accepts it (`cp`), this pipeline does not.
 */
function checkRank(T: Tensor3, o: TensorOptions, where: string): void {
  const rank = o.cp.rank ?? 10;
  const min = Math.min(...T.dims);
  if (rank > min) {
    throw new InvalidOptionError(where, 'cp.rank', `at most the smallest dimension of the ${T.dims.join('×')} tensor (${min})`, rank);
  }
}

/** Recovered mode-1 signals, in the requested basis, clipped at 0 for non-negative CP. */
async function recoverMode1(P: Projection, Y: Matrix, o: TensorOptions): Promise<Matrix> {
  const B = inBasis(P, o.basis ?? 'identity');
  const rec = await recoverColumns(B.matrix, Y, { ...o.recovery });
  const X = B.synthesize(rec.W);
  if (nonnegative(o.cp)) for (let i = 0; i < X.data.length; i++) if (X.data[i]! < 0) X.data[i] = 0;
  return X;
}

/** FR on a mode-1-compressed tensor T~ (d×J×K). */
export async function tensorFactorizeRecover(Tc: Tensor3, P: Projection, o: TensorOptions): Promise<TensorResult> {
  checkRank(Tc, o, 'tensorFactorizeRecover');
  const t0 = now();
  const fit = cp(cpInput(Tc, o.cp), o.cp);
  const Ac = scaleColumns(fit.factors[0], fit.weights);
  const t1 = now();
  const A = await recoverMode1(P, Ac, o);
  const t2 = now();
  return {
    method: 'fr', A, B: fit.factors[1], C: fit.factors[2], Ac,
    seconds: { compress: 0, factorize: t1 - t0, recover: t2 - t1, total: t2 - t0 },
  };
}

/** RF on T~: recovers every mode-1 fiber, then decomposes the n×J×K estimate. */
export async function tensorRecoverFactorize(Tc: Tensor3, P: Projection, o: TensorOptions): Promise<TensorResult> {
  const [d, J, K] = Tc.dims;
  checkRank(Tc, o, 'tensorRecoverFactorize');
  const t0 = now();
  // Row-major [d, J, K] is the d×(J·K) mode-1 unfolding: its columns are the fibers.
  const X = await recoverMode1(P, { rows: d, cols: J * K, data: Tc.data }, o);
  const t1 = now();
  const full = tensorFull({ dims: [P.n, J, K], data: X.data }, o);
  return { ...full, method: 'rf', seconds: { compress: 0, factorize: full.seconds.factorize, recover: t1 - t0, total: now() - t0 } };
}

/** The uncompressed reference: CP of T itself. */
export function tensorFull(T: Tensor3, o: TensorOptions): TensorResult {
  checkRank(T, o, 'tensorFull');
  const t0 = now();
  const fit = cp(cpInput(T, o.cp), o.cp);
  const t1 = now();
  return {
    method: 'full', A: scaleColumns(fit.factors[0], fit.weights), B: fit.factors[1], C: fit.factors[2],
    seconds: { compress: 0, factorize: t1 - t0, recover: 0, total: t1 - t0 },
  };
}

/** ‖T − [[A, B, C]]‖_F / ‖T‖_F without forming the model tensor. */
export function tensorRelError(T: Tensor3, res: Pick<TensorResult, 'A' | 'B' | 'C'>): number {
  const nt = tensorNormSq(T);
  return nt === 0 ? 0 : Math.sqrt(cpErrorSq(T, [res.A, res.B, res.C]) / nt);
}
