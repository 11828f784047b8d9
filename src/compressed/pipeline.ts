/**
 * Factorize-recover (FR, the paper's Algorithm 1), recover-factorize (RF, the baseline) and the
 * uncompressed reference, with the time of every stage.
 *
 *   FR:   M~ = P·M (d×m) ─factorize→ W~ (d×r), H~ ─r recoveries→ Ŵ = R_P(W~), Ĥ = H~
 *   RF:   M~ ─m recoveries→ M̂ (n×m) ─factorize→ Ŵ, Ĥ
 *   full: M ─factorize→ Ŵ, Ĥ
 *
 * For NMF, RF clips the recovered M̂ at 0 before factorizing (NMF needs non-negative input; the
 * paper does not say what it did). FR optionally clips Ŵ at 0 (`clipRecovered`, the repo's
 * `nonneg=True`), off by default as in the paper's synthetic runs.
 */
import { InvalidOptionError } from '../errors.js';
import type { Matrix } from '../linalg/matrix.js';
import { makeProjection, type Projection, type ProjectionSpec } from '../sensing/index.js';
import { recoverColumns, type RecoveryOptions } from '../recovery/index.js';
import { fitFactorization, type FactorizationSpec, type Solver } from './factorization.js';

/** Which pipeline to run. */
export type Method = 'fr' | 'rf' | 'full';

/** Options of a compressed factorization run. */
export interface CompressedOptions {
  /** 'fr': factorize-recover (default), 'rf': recover-factorize, 'full': uncompressed reference. */
  method?: Method;
  /** What factorization to run in the chosen domain. */
  factorization: FactorizationSpec;
  /** Recovery solver settings (default: the fast solver, signed, as the paper's LP). */
  recovery?: RecoveryOptions;
  /** false: clip the recovered Ŵ of FR at 0. */
  clipRecovered?: boolean;
  /** Stage progress for long runs (0..1 within a stage). */
  onProgress?: (stage: 'compress' | 'factorize' | 'recover', fraction: number) => void;
}

/** Seconds per stage. */
export interface StageSeconds {
  compress: number;
  factorize: number;
  recover: number;
  total: number;
}

/** Result of any of the three methods. */
export interface CompressedResult {
  method: Method;
  n: number;
  m: number;
  d: number;
  r: number;
  p: number;
  /** Recovered (or, for 'full', fitted) uncompressed factor, n×r. */
  W: Matrix;
  /** Sample factor, r×m. */
  H: Matrix;
  /** FR only: the compressed factor W~ (d×r). */
  Wc?: Matrix;
  seconds: StageSeconds;
}

const now = () => performance.now() / 1000;
const METHODS: readonly Method[] = ['fr', 'rf', 'full'];

function clip0(X: Matrix): Matrix {
  const data = X.data;
  for (let i = 0; i < data.length; i++) if (data[i]! < 0) data[i] = 0;
  return X;
}

/** FR on already-compressed data M~ (d×m). */
export async function factorizeRecover(Mc: Matrix, P: Projection, o: CompressedOptions): Promise<CompressedResult> {
  const t0 = now();
  o.onProgress?.('factorize', 0);
  const f = fitFactorization(Mc, o.factorization, (x) => o.onProgress?.('factorize', x));
  const t1 = now();
  o.onProgress?.('recover', 0);
  const rec = await recoverColumns(P, f.W, { ...o.recovery });
  const W = o.clipRecovered ? clip0(rec.W) : rec.W;
  const t2 = now();
  return {
    method: 'fr', n: P.n, m: Mc.cols, d: P.d, r: f.W.cols, p: P.spec.p, W, H: f.H, Wc: f.W,
    seconds: { compress: 0, factorize: t1 - t0, recover: t2 - t1, total: t2 - t0 },
  };
}

/** RF's first stage: recovers every sample of M~ (d×m) to an n×m estimate; clipped at 0 for NMF. */
export async function recoverSamples(Mc: Matrix, P: Projection, solver: Solver, recovery?: RecoveryOptions): Promise<{ M: Matrix; seconds: number }> {
  const t0 = now();
  const rec = await recoverColumns(P, Mc, { ...recovery });
  return { M: solver === 'nmf' ? clip0(rec.W) : rec.W, seconds: now() - t0 };
}

/** RF on already-compressed data M~ (d×m): m recoveries, then factorize the n×m estimate. */
export async function recoverFactorize(Mc: Matrix, P: Projection, o: CompressedOptions): Promise<CompressedResult> {
  o.onProgress?.('recover', 0);
  const samples = await recoverSamples(Mc, P, o.factorization.solver, o.recovery);
  const t1 = now();
  const f = fitFactorization(samples.M, o.factorization, (x) => o.onProgress?.('factorize', x));
  const t2 = now();
  return {
    method: 'rf', n: P.n, m: Mc.cols, d: P.d, r: f.W.cols, p: P.spec.p, W: f.W, H: f.H,
    seconds: { compress: 0, factorize: t2 - t1, recover: samples.seconds, total: samples.seconds + t2 - t1 },
  };
}

/** The uncompressed reference: factorize M itself. */
export function factorizeFull(M: Matrix, o: CompressedOptions): CompressedResult {
  const t0 = now();
  const f = fitFactorization(M, o.factorization, (x) => o.onProgress?.('factorize', x));
  const t1 = now();
  return {
    method: 'full', n: M.rows, m: M.cols, d: M.rows, r: f.W.cols, p: 0, W: f.W, H: f.H,
    seconds: { compress: 0, factorize: t1 - t0, recover: 0, total: t1 - t0 },
  };
}

/**
 * Compresses M with the projection `spec` (its n must match M's rows) and runs the method; the
 * compression time is part of the total for FR and RF.
 */
export async function runCompressed(M: Matrix, spec: ProjectionSpec | undefined, o: CompressedOptions): Promise<CompressedResult & { P?: Projection }> {
  const method = o.method ?? 'fr';
  if (!METHODS.includes(method)) throw new InvalidOptionError('runCompressed', 'method', `one of ${METHODS.join(', ')}`, method);
  if (method === 'full') return factorizeFull(M, o);
  if (!spec) throw new InvalidOptionError('runCompressed', 'spec', `a ProjectionSpec for method ${method}`, spec);
  const P = makeProjection(spec);
  const t0 = now();
  o.onProgress?.('compress', 0);
  const Mc = P.applyColumns(M);
  const tc = now() - t0;
  const res = method === 'fr' ? await factorizeRecover(Mc, P, o) : await recoverFactorize(Mc, P, o);
  res.seconds.compress = tc;
  res.seconds.total += tc;
  return { ...res, P };
}
