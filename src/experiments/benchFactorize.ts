/**
 * `cfstream bench factorize`: FR at the paper's synthetic point (n = m = 2000, r = 10, k = 40,
 * d = 400, p = 5, 10% noise) timed stage by stage, next to RF with the same recovery solver and
 * FR with the exact LP recovery. All variants run in the same process, interleaved per repetition,
 * so their ratios are measured under the same machine load.
 */
import { makeProjection } from '../sensing/index.js';
import type { RecoveryMethod } from '../recovery/index.js';
import { factorizeRecover, recoverFactorize, type CompressedOptions, type StageSeconds } from '../compressed/pipeline.js';
import { matchedError, normalizeFactors } from '../compressed/metrics.js';
import { median } from '../linalg/stats.js';
import { generateSyntheticModel } from './syntheticModel.js';
import type { SyntheticSetting } from './synthetic.js';

/** Options of the factorize benchmark. */
export interface BenchFactorizeOptions extends SyntheticSetting {
  /** 5: repetitions of FR (median reported). */
  reps: number;
  /** 3: repetitions of RF (it is much slower). */
  rfReps: number;
  /** true: also FR with the HiGHS LP recovery. */
  lp: boolean;
  nmfAlgorithm: 'hals' | 'pgd';
  onProgress?: (fraction: number, text: string) => void;
}

/** Medians of one variant. */
export interface BenchVariant {
  label: string;
  method: 'fr' | 'rf';
  recovery: RecoveryMethod;
  reps: number;
  seconds: StageSeconds;
  /** Median seconds per recovered column. */
  secondsPerColumn: number;
  errW: number;
}

/** The benchmark report. */
export interface BenchFactorizeResult {
  config: Omit<BenchFactorizeOptions, 'onProgress'>;
  variants: BenchVariant[];
  ratios: { rfOverFr: number; lpOverFastPerColumn?: number; frLpOverFrFast?: number };
}

function summarize(label: string, method: 'fr' | 'rf', recovery: RecoveryMethod, runs: { s: StageSeconds; e: number; cols: number }[]): BenchVariant {
  const med = (k: keyof StageSeconds) => median(runs.map((x) => x.s[k]));
  return {
    label, method, recovery, reps: runs.length,
    seconds: { compress: med('compress'), factorize: med('factorize'), recover: med('recover'), total: med('total') },
    secondsPerColumn: median(runs.map((x) => x.s.recover / x.cols)),
    errW: median(runs.map((x) => x.e)),
  };
}

/** Runs the benchmark. */
export async function benchFactorize(o: BenchFactorizeOptions): Promise<BenchFactorizeResult> {
  const model = generateSyntheticModel({ n: o.n, m: o.m, r: o.r, k: o.k, noise: o.noise, nonneg: true, seed: o.seed });
  const spec = { ensemble: 'sparse-binary' as const, n: o.n, d: o.d, p: o.p, seed: o.seed + 1 };
  const opts = (recovery: RecoveryMethod): CompressedOptions => ({
    factorization: { solver: 'nmf', rank: o.r, seed: o.seed + 2, nmfAlgorithm: o.nmfAlgorithm },
    recovery: { method: recovery },
  });
  const once = async (method: 'fr' | 'rf', recovery: RecoveryMethod) => {
    const t0 = performance.now() / 1000;
    // P is regenerated inside the timed region: a device's host must do the same from the spec.
    const P = makeProjection(spec);
    const Mc = P.applyColumns(model.M);
    const tc = performance.now() / 1000 - t0;
    const res = method === 'fr' ? await factorizeRecover(Mc, P, opts(recovery)) : await recoverFactorize(Mc, P, opts(recovery));
    res.seconds.compress = tc;
    res.seconds.total += tc;
    const e = matchedError(model.W, normalizeFactors(res.W, res.H).W).error;
    return { s: res.seconds, e, cols: method === 'fr' ? o.r : o.m };
  };
  const fr: { s: StageSeconds; e: number; cols: number }[] = [];
  const frLp: typeof fr = [];
  const rf: typeof fr = [];
  const total = o.reps + (o.lp ? o.reps : 0) + o.rfReps;
  let done = 0;
  const tick = (text: string) => o.onProgress?.(done++ / total, text);
  await once('fr', 'fast'); // warm-up: JIT and WASM instantiation are not part of the figures
  if (o.lp) await once('fr', 'lp');
  for (let i = 0; i < Math.max(o.reps, o.rfReps); i++) {
    if (i < o.reps) { tick('FR fast'); fr.push(await once('fr', 'fast')); }
    if (o.lp && i < o.reps) { tick('FR lp'); frLp.push(await once('fr', 'lp')); }
    if (i < o.rfReps) { tick('RF fast'); rf.push(await once('rf', 'fast')); }
  }
  o.onProgress?.(1, 'done');
  const variants = [summarize('FR (fast recovery)', 'fr', 'fast', fr)];
  if (o.lp) variants.push(summarize('FR (LP recovery)', 'fr', 'lp', frLp));
  if (rf.length) variants.push(summarize('RF (fast recovery)', 'rf', 'fast', rf));
  const frV = variants[0]!;
  const lpV = variants.find((v) => v.recovery === 'lp');
  const rfV = variants.find((v) => v.method === 'rf');
  const { onProgress: _omit, ...config } = o;
  return {
    config,
    variants,
    ratios: {
      rfOverFr: rfV ? rfV.seconds.total / frV.seconds.total : NaN,
      ...(lpV ? { lpOverFastPerColumn: lpV.secondsPerColumn / frV.secondsPerColumn, frLpOverFrFast: lpV.seconds.total / frV.seconds.total } : {}),
    },
  };
}
