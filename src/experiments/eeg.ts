/**
 * `cfstream experiment eeg`: the Fig. 6 analogue on a real spectrogram tensor (PAPER.md §4.4).
 *
 * The time × frequency × channel tensor is compressed along one mode (`mode`, time by default as in
 * the paper) at each compression factor n/d, decomposed by FR (CP of the compressed tensor, then r
 * recoveries) and, at the compressions in `rfAt`, by RF (one recovery per fiber, then CP); the
 * uncompressed CP is the reference. Reported per compression: the normalised reconstruction error
 * ‖T − [[Â, B̂, Ĉ]]‖/‖T‖ against the original tensor, and for each mode the median |Pearson|
 * correlation between the compressed and the uncompressed decomposition's factors.
 *
 * Matching, two ways. `correlation` scores each mode on its own (the repo's `match_correlation`
 * per factor matrix: Hungarian on |corr|, median over components), which is what the paper's
 * Fig. 6 and the reference numbers report. `jointCorrelation` is stricter: a component is a
 * triple (time, frequency, channel factor), so components are paired once, maximising the sum over
 * pairs of the product of the three modes' |corr| (the factor match score of the tensor literature,
 * Pearson in place of the cosine), and every mode is scored on that one pairing.
 *
 * Seeds: P from `seed + 1`, every CP start from `seed + 2` (the same start for FR, RF and full).
 */
import { munkres } from 'munkres';
import { ShapeMismatchError } from '../errors.js';
import { getColumn, type Matrix } from '../linalg/matrix.js';
import { median } from '../linalg/stats.js';
import { makeProjection } from '../sensing/index.js';
import { inversePermutation, permuteModes, type Tensor3 } from '../sensing/operator.js';
import type { BasisName } from '../sensing/basis.js';
import type { CpMethod } from '../factorize/cp/index.js';
import type { RecoveryMethod, RecoveryOptions } from '../recovery/index.js';
import { absPearson, matchedCorrelation } from '../compressed/metrics.js';
import {
  tensorFactorizeRecover, tensorFull, tensorRecoverFactorize, tensorRelError, type TensorOptions, type TensorResult, type TensorLift,
} from '../compressed/tensor.js';
import type { StageSeconds } from '../compressed/pipeline.js';

/** The modes of a spectrogram tensor, in storage order. */
export const EEG_MODES = ['time', 'frequency', 'channel'] as const;
/** A mode of the spectrogram tensor. */
export type EegMode = (typeof EEG_MODES)[number];

/** How the compressed mode's signals are recovered: a BP solver, or 'min-l2' (non-negative BP, least-ℓ2 optimum; src/recovery/minl2.ts). */
export type EegRecovery = RecoveryMethod | 'min-l2';

/** The recovery choices of the experiment. */
export const EEG_RECOVERIES: readonly EegRecovery[] = ['lp', 'fast', 'min-l2'];

/** The recovery options an EegRecovery stands for. */
export function eegRecoveryOptions(r: EegRecovery): RecoveryOptions {
  return r === 'min-l2' ? { nonneg: true, tieBreak: 'min-l2' } : { method: r };
}

/** Settings of the EEG experiment (the CLI's defaults in brackets). */
export interface EegOptions {
  /** [10] CP rank. */
  rank: number;
  /** [2, 3, 4, 5, 6] compression factors n/d of the compressed mode (d = round(n / c)). */
  compressions: number[];
  /** [2, 5] compressions at which RF runs too (it recovers every fiber, so it is the slow one). */
  rfAt: number[];
  /** ['time'] the mode that is compressed. */
  mode: EegMode;
  /** ['identity'] the basis the compressed mode's signals are recovered in. */
  basis: BasisName;
  /** [5] ones per column of the sparse-binary P. */
  p: number;
  /** [0] see the module header. */
  seed: number;
  /** ['nn-hals'] CP method (non-negative, since a spectrogram is). */
  cpMethod: CpMethod;
  /** [500] CP sweeps. */
  maxIter: number;
  /** [1e-6] CP stopping tolerance. */
  tol: number;
  /** ['lp'] recovery (EEG_RECOVERIES): exact basis pursuit with HiGHS, the fast solver, or non-negative BP's least-ℓ2 optimum (identity basis only). */
  recovery: EegRecovery;
  /** ['factor'] FR: recover the compressed factor (the paper) or the compressed MTTKRP (TensorOptions.lift). */
  lift: TensorLift;
  /** [10] FR: sweeps re-fitting the uncompressed modes to T~ with the recovered factor fixed (0 = the paper's FR; see TensorOptions.refit). */
  refit: number;
  /** Progress: fraction done and a label. */
  onProgress?: (fraction: number, label: string) => void;
}

/** Median matched |correlation| with the uncompressed decomposition, per mode. */
export type ModeCorrelation = Record<EegMode, number>;

/** One method's result at one compression. */
export interface EegMethodResult {
  error: number;
  /** Each mode matched on its own (the paper's metric). */
  correlation: ModeCorrelation;
  /** All modes scored on one pairing of whole components. */
  jointCorrelation: ModeCorrelation;
  seconds: StageSeconds;
}

/** One compression factor. */
export interface EegRow {
  compression: number;
  d: number;
  fr: EegMethodResult;
  rf: EegMethodResult | null;
}

/** The whole experiment. */
export interface EegResult {
  /** [time, frequency, channel] sizes of the tensor. */
  dims: [number, number, number];
  mode: EegMode;
  basis: BasisName;
  rank: number;
  full: { error: number; seconds: number };
  rows: EegRow[];
}

/** Mode order that brings `mode` to the front (the others keep their order). */
function orderFor(mode: EegMode): [number, number, number] {
  const m = EEG_MODES.indexOf(mode);
  return [m, ...[0, 1, 2].filter((x) => x !== m)] as [number, number, number];
}

/** Factors of a result in storage order [time, frequency, channel]. */
function inStorageOrder(res: Pick<TensorResult, 'A' | 'B' | 'C'>, order: [number, number, number]): [Matrix, Matrix, Matrix] {
  const byPosition = [res.A, res.B, res.C];
  const inv = inversePermutation(order);
  return [byPosition[inv[0]]!, byPosition[inv[1]]!, byPosition[inv[2]]!];
}

/**
 * Median |corr| per mode between matched components of two CP models (factors in storage order);
 * the pairing maximises Σ over pairs of Π over modes of |corr| (see the module header).
 */
export function matchedModeCorrelation(ref: [Matrix, Matrix, Matrix], est: [Matrix, Matrix, Matrix]): ModeCorrelation {
  const r = ref[0].cols;
  if (est.some((F, m) => F.cols !== r || F.rows !== ref[m]!.rows)) {
    throw new ShapeMismatchError('matchedModeCorrelation', ref.map((F) => `${F.rows}×${F.cols}`).join(', '), est.map((F) => `${F.rows}×${F.cols}`).join(', '));
  }
  const corr = ref.map((F, m) => {
    const G = est[m]!;
    const fc = Array.from({ length: r }, (_, i) => getColumn(F, i));
    const gc = Array.from({ length: r }, (_, j) => getColumn(G, j));
    return fc.map((a) => gc.map((b) => absPearson(a, b)));
  });
  const cost = Array.from({ length: r }, (_, i) => Array.from({ length: r }, (_, j) => -(corr[0]![i]![j]! * corr[1]![i]![j]! * corr[2]![i]![j]!)));
  const pairs = munkres(cost);
  const out = {} as ModeCorrelation;
  EEG_MODES.forEach((name, m) => { out[name] = median(pairs.map(([i, j]) => corr[m]![i]![j]!)); });
  return out;
}

/** Median matched |corr| per mode, each mode matched on its own (`matchedCorrelation`). */
export function perModeCorrelation(ref: [Matrix, Matrix, Matrix], est: [Matrix, Matrix, Matrix]): ModeCorrelation {
  const out = {} as ModeCorrelation;
  EEG_MODES.forEach((name, m) => { out[name] = matchedCorrelation(ref[m]!, est[m]!).median; });
  return out;
}

/** Runs the experiment on a non-negative time × frequency × channel tensor. */
export async function runEegExperiment(T: Tensor3, o: EegOptions): Promise<EegResult> {
  const order = orderFor(o.mode);
  const Tm = permuteModes(T, order);
  const n = Tm.dims[0];
  const opts = (): TensorOptions => ({
    cp: { rank: o.rank, method: o.cpMethod, nonneg: true, maxIter: o.maxIter, tol: o.tol, seed: o.seed + 2 },
    recovery: eegRecoveryOptions(o.recovery),
    basis: o.basis,
    refit: o.refit,
    lift: o.lift,
  });
  const steps = 1 + o.compressions.length + o.compressions.filter((c) => o.rfAt.includes(c)).length;
  let done = 0;
  const tick = (label: string) => o.onProgress?.(done++ / steps, label);

  tick('uncompressed CP');
  const full = tensorFull(Tm, opts());
  const fullFactors = inStorageOrder(full, order);
  const score = (res: TensorResult, compress: number): EegMethodResult => ({
    error: tensorRelError(Tm, res),
    correlation: perModeCorrelation(fullFactors, inStorageOrder(res, order)),
    jointCorrelation: matchedModeCorrelation(fullFactors, inStorageOrder(res, order)),
    seconds: { ...res.seconds, compress, total: res.seconds.total + compress },
  });

  const rows: EegRow[] = [];
  for (const c of o.compressions) {
    const d = Math.round(n / c);
    const P = makeProjection({ ensemble: 'sparse-binary', n, d, p: o.p, seed: o.seed + 1 });
    const t0 = performance.now();
    const Tc = P.applyMode1(Tm);
    const compress = (performance.now() - t0) / 1000;
    tick(`FR ${c}×`);
    const fr = score(await tensorFactorizeRecover(Tc, P, opts()), compress);
    let rf: EegMethodResult | null = null;
    if (o.rfAt.includes(c)) {
      tick(`RF ${c}×`);
      rf = score(await tensorRecoverFactorize(Tc, P, opts()), compress);
    }
    rows.push({ compression: c, d, fr, rf });
  }
  o.onProgress?.(1, 'done');
  return {
    dims: [T.dims[0], T.dims[1], T.dims[2]], mode: o.mode, basis: o.basis, rank: o.rank,
    full: { error: tensorRelError(Tm, full), seconds: full.seconds.total }, rows,
  };
}
