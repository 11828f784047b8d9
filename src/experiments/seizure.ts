/**
 * `cfstream experiment seizure`: the Fig. 4 analogue (PAPER.md §4.4). An EEG-like spectrogram T
 * (time × frequency × channel) with planted seizure-like bursts is compressed along time,
 * T~ = T ×₁ P (P sparse-binary, d = round(n / compression)), and decomposed by FR, RF and the
 * uncompressed CP. In each model the temporal factor that best matches the true burst activation
 * (largest |Pearson|) is "the burst factor"; its peaks are compared with the burst onsets.
 *
 *   T (n×J×K) ─×₁P→ T~ (d×J×K) ─CP→ A~ ─r recoveries→ Â      FR
 *                             └─ J·K fiber recoveries → T̂ ─CP→ Â   RF
 *   T ─CP→ Â                                                    full
 *
 * Choices (measured on the default simulation, 2 h × 40 × 32, 8 bursts, 5×):
 * - CP: projected Orth-ALS (`orth-als` with non-negativity), the paper's method for this
 *   experiment, at most 15 sweeps. Non-negative HALS needs hundreds of sweeps in the compressed
 *   domain and often misses the seizure component there: each compressed time row sums ~p·n/d
 *   random time bins, so the dense background activations all become nearly constant (nearly
 *   collinear) and only the orthogonalising sweeps separate them quickly.
 * - Rank: the number of planted components + 2 (7) unless given. With exactly 5, one or two of 9
 *   compressed CPs (3 simulations × 3 random starts) merged the seizure into a background
 *   component (the multiplicative noise makes T only approximately rank 5); two spare components
 *   absorb that. At rank 7 and 15 sweeps the compressed CP found the burst component in 12 of 12
 *   runs (4 simulations × 3 starts), and FR hit all 8 onsets without a false peak on simulation
 *   seeds 0–7. More sweeps cost FR time (the CP is most of it) without changing that.
 * - Recovery: the fast solver, signed (the paper's R_P; `nonnegRecovery` switches to x ≥ 0). The
 *   background temporal factors are dense, so no recovery returns them (Proposition 1 assumes
 *   sparse factors); the burst factor is sparse and survives. Hence FR's reconstruction error is
 *   large while its burst factor is still right, as the paper's Fig. 4 shows.
 * - Peaks (`detectPeaks`): local maxima of the burst factor (scaled to max 1) at or above
 *   `peakThreshold`, then non-maximum suppression: taken from the highest down, a peak within
 *   `peakSeparation` bins of a kept one is dropped. A burst onset is hit when a peak lies within
 *   ±`tolerance` bins of it; a peak with no onset that close is a false peak.
 * - Timing: compression is shared and counted in both FR and RF totals; the speed-up is
 *   RF total / FR total (also given for the recovery stage alone, bounded by J·K / rank), in
 *   wall-clock and in CPU seconds. FR takes seconds, so on a shared machine a burst of load from
 *   other processes distorts its wall-clock time (and the ratio) far more than RF's minutes; the
 *   CPU-time ratio is what the code costs. Everything here runs on one thread, so on an idle
 *   machine the two agree.
 *
 * Seeds: P from `seed + 1`, the CP start from `seed + 2` (the data come with their own seed).
 */
import { getColumn, type Matrix } from '../linalg/matrix.js';
import type { Tensor3 } from '../sensing/operator.js';
import { makeProjection } from '../sensing/index.js';
import type { CpMethod } from '../factorize/cp/index.js';
import type { RecoveryMethod } from '../recovery/index.js';
import { absPearson, matchedCorrelation } from '../compressed/metrics.js';
import {
  tensorFactorizeRecover, tensorFull, tensorRecoverFactorize, tensorRelError, type TensorOptions, type TensorResult,
} from '../compressed/tensor.js';
import type { StageSeconds } from '../compressed/pipeline.js';
import { InvalidOptionError } from '../errors.js';
import { resolveOptions, type ConstraintTable } from '../factorize/validate.js';

/** What the experiment needs of a simulated record (the simulator's result satisfies it). */
export interface SeizureData {
  /** [time, frequency, channel], non-negative. */
  tensor: Tensor3;
  truth: {
    /** time × R true activations. */
    temporal: Matrix;
    /** Column of `temporal` holding the burst (seizure) activation. */
    burstComponent: number;
    /** Burst onsets, time-bin indices. */
    onsets: readonly number[];
    /** Component names (their number is the default rank). */
    names: readonly string[];
  };
}

/** Options of `runSeizureExperiment`. */
export interface SeizureExperimentOptions {
  /** 5; n/d, the compression of the time mode (> 1). */
  compression: number;
  /** 0; the CP rank, 0 = the number of planted components + 2 (integer ≥ 0). */
  rank: number;
  /** 5; non-zeros per column of the sparse-binary P (integer ≥ 1, ≤ d). */
  p: number;
  /** 0; integer seed: P from seed + 1, the CP start from seed + 2. */
  seed: number;
  /** 'orth-als'; the CP method: 'orth-als' (projected, i.e. non-negative), 'nn-hals', or 'als' (signed). */
  cpMethod: CpMethod;
  /** 15; CP sweeps at most (integer ≥ 1), the same cap for FR, RF and full. */
  maxIter: number;
  /** 'fast'; the sparse-recovery solver ('lp' is exact basis pursuit with HiGHS, much slower). */
  recovery: RecoveryMethod;
  /** false; recover x ≥ 0 instead of the paper's signed R_P. */
  nonnegRecovery: boolean;
  /** true; also run RF (J·K recoveries: by far the slowest stage). */
  rf: boolean;
  /** true; also run the uncompressed CP. */
  full: boolean;
  /** 0.3; a peak must reach this fraction of the factor's maximum, in (0, 1]. */
  peakThreshold: number;
  /** 30; bins: of two peaks closer than this only the higher is kept (integer ≥ 1). */
  peakSeparation: number;
  /** 2; bins: a peak within ±tolerance of an onset hits it (integer ≥ 0). */
  tolerance: number;
}

/** The defaults, frozen. */
export const DEFAULT_SEIZURE_EXPERIMENT_OPTIONS: Readonly<SeizureExperimentOptions> = Object.freeze({
  compression: 5, rank: 0, p: 5, seed: 0, cpMethod: 'orth-als', maxIter: 15, recovery: 'fast', nonnegRecovery: false,
  rf: true, full: true, peakThreshold: 0.3, peakSeparation: 30, tolerance: 2,
});

/** Allowed values of each option. */
export const SEIZURE_EXPERIMENT_CONSTRAINTS: ConstraintTable<SeizureExperimentOptions> = Object.freeze({
  compression: { type: 'number', min: 1, minExclusive: true },
  rank: { type: 'int', min: 0 },
  p: { type: 'int', min: 1 },
  seed: { type: 'seed' },
  cpMethod: { type: 'enum', values: ['orth-als', 'nn-hals', 'als'] },
  maxIter: { type: 'int', min: 1 },
  recovery: { type: 'enum', values: ['fast', 'lp'] },
  nonnegRecovery: { type: 'boolean' },
  rf: { type: 'boolean' },
  full: { type: 'boolean' },
  peakThreshold: { type: 'number', min: 0, max: 1, minExclusive: true },
  peakSeparation: { type: 'int', min: 1 },
  tolerance: { type: 'int', min: 0 },
});

/** How well one method's burst factor marks the onsets. */
export interface PeakScore {
  /** Onsets with a peak within ±tolerance. */
  hits: number;
  /** hits / number of onsets. */
  hitRate: number;
  /** Peaks with no onset within ±tolerance. */
  falsePeaks: number;
  /** falsePeaks / number of peaks (0 when there are none). */
  falsePeakRate: number;
}

/** One method's result. */
export interface SeizureMethodResult extends PeakScore {
  method: 'fr' | 'rf' | 'full';
  /** ‖T − [[Â, B̂, Ĉ]]‖ / ‖T‖ against the simulated tensor. */
  error: number;
  /** Column of Â matched to the bursts. */
  burstFactor: number;
  /** |Pearson| of that column with the true burst activation. */
  correlation: number;
  /** Detected peaks (time bins, increasing). */
  peaks: number[];
  /** The burst factor, sign-aligned with the truth and scaled to max 1 (length n). */
  factor: number[];
  /** Wall-clock seconds per stage (compression counted in FR's and RF's totals). */
  seconds: StageSeconds;
  /** CPU seconds of the whole method (process user + system time, compression included for FR and RF). */
  cpuSeconds: number;
}

/** The experiment's result (JSON-friendly). */
export interface SeizureExperimentResult {
  n: number;
  J: number;
  K: number;
  d: number;
  compression: number;
  p: number;
  rank: number;
  cpMethod: CpMethod;
  recovery: RecoveryMethod;
  nonnegRecovery: boolean;
  maxIter: number;
  seed: number;
  peakThreshold: number;
  peakSeparation: number;
  tolerance: number;
  onsets: number[];
  /** The true burst activation scaled to max 1. */
  truth: number[];
  fr: SeizureMethodResult;
  rf: SeizureMethodResult | null;
  full: SeizureMethodResult | null;
  /** Median matched |Pearson| of FR's temporal factors with the uncompressed ones (Fig. 6's measure). */
  frVsFullCorrelation: number | null;
  /** RF seconds / FR seconds: wall-clock total, the recovery stage alone, and CPU time. */
  speedup: { total: number; recovery: number; cpu: number } | null;
}

const OWNER = 'runSeizureExperiment';
const now = () => performance.now() / 1000;
/** Process CPU seconds (user + system): unlike wall-clock time, not inflated by other processes. */
const cpuNow = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };

/**
 * Peaks of y: local maxima (the first bin of a flat top) at or above threshold·max(y), thinned by
 * non-maximum suppression (highest first; a peak closer than minSeparation bins to a kept one is
 * dropped; ties go to the earlier bin). Returns increasing bin indices; [] if max(y) ≤ 0.
 *
 * @example
 * detectPeaks([0, 1, 0, 0.9, 0, 0, 0.2, 0], { threshold: 0.5, minSeparation: 2 }); // [1, 3]
 */
export function detectPeaks(y: ArrayLike<number>, o: { threshold: number; minSeparation: number }): number[] {
  const n = y.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (y[i]! > max) max = y[i]!;
  if (!(max > 0)) return [];
  const level = o.threshold * max;
  const cand: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = y[i]!;
    if (!(v >= level) || (i > 0 && y[i - 1]! >= v)) continue;
    let k = i + 1;
    while (k < n && y[k] === v) k++;
    if (k === n || y[k]! < v) cand.push(i);
  }
  cand.sort((a, b) => y[b]! - y[a]! || a - b);
  const kept: number[] = [];
  for (const i of cand) if (kept.every((j) => Math.abs(i - j) >= o.minSeparation)) kept.push(i);
  return kept.sort((a, b) => a - b);
}

/** Scores peaks against onsets with a ±tolerance window (see PeakScore). */
export function scorePeaks(peaks: readonly number[], onsets: readonly number[], tolerance: number): PeakScore {
  const near = (a: number, list: readonly number[]) => list.some((b) => Math.abs(a - b) <= tolerance);
  const hits = onsets.filter((o) => near(o, peaks)).length;
  const falsePeaks = peaks.filter((p) => !near(p, onsets)).length;
  return {
    hits, hitRate: onsets.length ? hits / onsets.length : 0,
    falsePeaks, falsePeakRate: peaks.length ? falsePeaks / peaks.length : 0,
  };
}

/** v·s / max(v·s) with s = ±1 chosen so that v·s correlates positively with `ref`. */
function aligned(v: Float64Array, ref: Float64Array): number[] {
  let mv = 0, mr = 0;
  for (let i = 0; i < v.length; i++) { mv += v[i]!; mr += ref[i]!; }
  mv /= v.length; mr /= v.length;
  let cov = 0;
  for (let i = 0; i < v.length; i++) cov += (v[i]! - mv) * (ref[i]! - mr);
  const s = cov < 0 ? -1 : 1;
  let max = 0;
  for (let i = 0; i < v.length; i++) max = Math.max(max, s * v[i]!);
  const scale = max > 0 ? s / max : s;
  return Array.from(v, (x) => x * scale);
}

function evaluate(
  T: Tensor3, res: TensorResult, truth: Float64Array, onsets: readonly number[], o: Readonly<SeizureExperimentOptions>,
  compress: number, cpuSeconds: number,
): SeizureMethodResult {
  let best = 0, corr = -1;
  for (let c = 0; c < res.A.cols; c++) {
    const r = absPearson(getColumn(res.A, c), truth);
    if (r > corr) { corr = r; best = c; }
  }
  const factor = aligned(getColumn(res.A, best), truth);
  const peaks = detectPeaks(factor, { threshold: o.peakThreshold, minSeparation: o.peakSeparation });
  return {
    method: res.method, error: tensorRelError(T, res), burstFactor: best, correlation: corr, peaks,
    ...scorePeaks(peaks, onsets, o.tolerance), factor,
    seconds: { ...res.seconds, compress, total: res.seconds.total + compress }, cpuSeconds,
  };
}

/**
 * Runs FR (and RF, full) on the time-compressed spectrogram and scores the burst factors.
 * Throws InvalidOptionError for bad options, when d = round(n / compression) is not in [1, n),
 * is below p or the rank, or when the burst component is out of range.
 *
 * @param data     the spectrogram and its truth (e.g. from `simulateSeizureSpectrogram`).
 * @param options  partial options over DEFAULT_SEIZURE_EXPERIMENT_OPTIONS.
 * @param onStage  called with a stage name before each stage (for progress display).
 */
export async function runSeizureExperiment(
  data: SeizureData, options?: Partial<SeizureExperimentOptions>, onStage?: (stage: 'fr' | 'rf' | 'full', fraction: number) => void,
): Promise<SeizureExperimentResult> {
  const o = resolveOptions(OWNER, SEIZURE_EXPERIMENT_CONSTRAINTS, DEFAULT_SEIZURE_EXPERIMENT_OPTIONS, options);
  const T = data.tensor;
  const [n, J, K] = T.dims;
  const { temporal, burstComponent, onsets } = data.truth;
  if (temporal.rows !== n) throw new InvalidOptionError(OWNER, 'data.truth.temporal', `${n} rows (the tensor's time bins)`, temporal.rows);
  if (!Number.isInteger(burstComponent) || burstComponent < 0 || burstComponent >= temporal.cols) {
    throw new InvalidOptionError(OWNER, 'data.truth.burstComponent', `a column of truth.temporal in [0, ${temporal.cols - 1}]`, burstComponent);
  }
  const rank = o.rank === 0 ? data.truth.names.length + 2 : o.rank;
  const d = Math.round(n / o.compression);
  if (d < 1 || d >= n) throw new InvalidOptionError(OWNER, 'compression', `giving 1 ≤ d = round(n / compression) < n = ${n}`, o.compression);
  if (o.p > d) throw new InvalidOptionError(OWNER, 'p', `≤ d = ${d} (n = ${n} / compression ${o.compression})`, o.p);
  if (rank > d) throw new InvalidOptionError(OWNER, 'rank', `≤ d = ${d} (n = ${n} / compression ${o.compression})`, rank);
  const truth = getColumn(temporal, burstComponent);
  const P = makeProjection({ ensemble: 'sparse-binary', n, d, p: o.p, seed: o.seed + 1 });
  const t0 = now(), c0 = cpuNow();
  const Tc = P.applyMode1(T);
  const compress = now() - t0, compressCpu = cpuNow() - c0;
  const nonneg = o.cpMethod !== 'als';
  const opts: TensorOptions = {
    cp: { rank, method: o.cpMethod, nonneg, maxIter: o.maxIter, seed: o.seed + 2 },
    recovery: { method: o.recovery, nonneg: o.nonnegRecovery },
  };
  const stages = 1 + (o.rf ? 1 : 0) + (o.full ? 1 : 0);
  onStage?.('fr', 0);
  let c1 = cpuNow();
  const frRes = await tensorFactorizeRecover(Tc, P, opts);
  const fr = evaluate(T, frRes, truth, onsets, o, compress, compressCpu + cpuNow() - c1);
  let rf: SeizureMethodResult | null = null, full: SeizureMethodResult | null = null;
  let fullRes: TensorResult | null = null;
  if (o.full) {
    onStage?.('full', 1 / stages);
    c1 = cpuNow();
    fullRes = tensorFull(T, opts);
    full = evaluate(T, fullRes, truth, onsets, o, 0, cpuNow() - c1);
  }
  if (o.rf) {
    onStage?.('rf', (stages - 1) / stages);
    c1 = cpuNow();
    const rfRes = await tensorRecoverFactorize(Tc, P, opts);
    rf = evaluate(T, rfRes, truth, onsets, o, compress, compressCpu + cpuNow() - c1);
  }
  return {
    n, J, K, d, compression: n / d, p: o.p, rank, cpMethod: o.cpMethod, recovery: o.recovery, nonnegRecovery: o.nonnegRecovery,
    maxIter: o.maxIter, seed: o.seed, peakThreshold: o.peakThreshold, peakSeparation: o.peakSeparation, tolerance: o.tolerance,
    onsets: [...onsets], truth: aligned(truth, truth),
    fr, rf, full,
    frVsFullCorrelation: fullRes ? matchedCorrelation(fullRes.A, frRes.A).median : null,
    speedup: rf ? {
      total: rf.seconds.total / fr.seconds.total, recovery: rf.seconds.recover / fr.seconds.recover, cpu: rf.cpuSeconds / fr.cpuSeconds,
    } : null,
  };
}
