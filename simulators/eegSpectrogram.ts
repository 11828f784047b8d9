/**
 * A seeded EEG-like power spectrogram with seizure-like bursts and its ground truth: the Fig. 4
 * analogue of PAPER.md §4.4 (CHB-MIT spectrograms), small enough to run in seconds.
 *
 * Like `stftTensor` of a real recording, but synthetic: T is [time, frequency, channel] with
 * `binSeconds` (1 s) time bins, bin j centred at (j + 1)·40/J Hz, channels on a ring of scalp
 * positions x_c = c/K, and T a sum of R = 5 non-negative rank-one components times a noise factor:
 *
 *   T[t, f, c] = ( Σ_r a_r(t) · b_r(f) · s_r(c) ) · g[t, f, c],   g ~ Gamma(shape 1/noise², scale noise²)
 *
 *   r  name       a_r(t) (temporal)                       b_r(f) (spectral)             s_r(c) (spatial)
 *   0  broadband  exp(0.3·OU(10 min)): dense, slow drift   1/f                           0.7 … 1.3 per channel
 *   1  alpha      exp(0.6·OU(20 s)): dense, fluctuating    0.3·N(f; 9…11 Hz, σ 1.2 Hz)   posterior (x ≈ 0.75)
 *   2  muscle     exp(0.8·OU(5 s)): dense, bursty          0.05, ramping up over 20–25 Hz  two temporal sites
 *   3  artifact   blinks/movements, ~1 a minute, 1–3 bins  2·exp(−(f − 1)/1.5)            frontal (x ≈ 0)
 *                 each, log-normal size; 0 in between
 *   4  seizure    0 except at the bursts (below)           gain/f₀ at f₀ ∈ [3, 6] Hz,     a random focus, Gaussian
 *                                                          half at 2f₀, 0 below 1%        width 0.1, 0 below 0.2
 *
 * OU(τ) is a stationary unit-variance Ornstein–Uhlenbeck process with time constant τ, sampled every
 * bin: the three background activations are positive at every time bin (dense in time), with mean 1.
 * The artifacts are sparse in time but frequent (~120 in 2 h): transient non-seizure events. The
 * seizure is confined to a band (its fundamental and first harmonic: ~8 of 40 bins) and a focus
 * (~11 of 32 channels); `burstGain` (40) is its power at f₀ over the 1/f background power there,
 * i.e. an amplitude ≈ 6× the background's, typical of ictal rhythmic discharges. The noise g is the
 * χ² scatter of a multitaper/Welch power estimate from 1/noise² tapers (CV = `noise`; 0.5 ≈ 4
 * tapers), independent per entry; `noise = 0` gives the exact rank-5 tensor.
 *
 * Seizure bursts (the `burstComponent`): one onset o_b drawn uniformly in each of B equal segments
 * of the record, late enough for the rise bin and early enough that the burst and L quiet bins fit
 * in the segment. Each burst has an amplitude h ~ U(0.7, 1.3) and the shape (τ = burstDecay, 15 s,
 * and τ₀ = 2 s, both in bins)
 *
 *   a(o − 1) = 0.4·h,   a(o + u) = h·(½·e^(−u/τ₀) + ½·e^(−u/τ))  for u = 0 … L − 2,   L = ⌈3τ⌉ + 2
 *
 *           ▲ h  (onset o: the maximum)
 *          ╱│╲
 *   ──────╯ │ ╲▁▁▁▁▁▁▁▁▁▁▁▁▁▁______          a sharp spike at the onset, then a decay over
 *        o−1 o                    o+L−2     tens of seconds, cut to 0 at ≈ 2.5% of h
 *
 * so the burst's largest value sits exactly at its onset ("a peak at the onset" is well defined).
 * Bursts never overlap and at least L quiet bins separate consecutive ones.
 *
 * @example
 * const { tensor, truth } = simulateSeizureSpectrogram({ hours: 2, bursts: 8, seed: 0 });
 * tensor.dims; // [7200, 40, 32]
 * truth.onsets; // 8 increasing time-bin indices
 *
 * @see stftTensor in src/signal/stft.ts for the spectrogram tensor of a real recording.
 */
import { InvalidOptionError } from '../src/errors.js';
import { resolveOptions, type ConstraintTable } from '../src/factorize/validate.js';
import type { Matrix } from '../src/linalg/matrix.js';
import { Rng } from '../src/linalg/random.js';
import type { Tensor3 } from '../src/sensing/operator.js';

/** Options of `simulateSeizureSpectrogram`. */
export interface SeizureSpectrogramOptions {
  /** 2; length of the record in hours (> 0). */
  hours: number;
  /** 8; number of seizure-like bursts (integer ≥ 1; they must fit, see the module header). */
  bursts: number;
  /** 32; number of channels K (integer ≥ 1). */
  channels: number;
  /** 40; number of frequency bins J spanning 0–40 Hz (integer ≥ 2). */
  freqBins: number;
  /** 1; seconds per time bin (> 0). */
  binSeconds: number;
  /** 15; decay time constant of a burst in seconds (> 0); a burst lasts ⌈3τ⌉ + 1 bins. */
  burstDecay: number;
  /** 40; seizure power at its fundamental over the 1/f background power there (> 0). */
  burstGain: number;
  /** 0.5; coefficient of variation of the multiplicative Gamma noise, in [0, 2] (0 = none). */
  noise: number;
  /** 0; integer seed: same seed, same tensor, truth and onsets. */
  seed: number;
}

/** The defaults, frozen. */
export const DEFAULT_SEIZURE_SPECTROGRAM_OPTIONS: Readonly<SeizureSpectrogramOptions> = Object.freeze({
  hours: 2, bursts: 8, channels: 32, freqBins: 40, binSeconds: 1, burstDecay: 15, burstGain: 40, noise: 0.5, seed: 0,
});

/** Allowed values of each option. */
export const SEIZURE_SPECTROGRAM_CONSTRAINTS: ConstraintTable<SeizureSpectrogramOptions> = Object.freeze({
  hours: { type: 'number', min: 0, minExclusive: true },
  bursts: { type: 'int', min: 1 },
  channels: { type: 'int', min: 1 },
  freqBins: { type: 'int', min: 2 },
  binSeconds: { type: 'number', min: 0, minExclusive: true },
  burstDecay: { type: 'number', min: 0, minExclusive: true },
  burstGain: { type: 'number', min: 0, minExclusive: true },
  noise: { type: 'number', min: 0, max: 2 },
  seed: { type: 'seed' },
});

/** The planted model. */
export interface SeizureTruth {
  /** time × R activations a_r(t) (≥ 0). */
  temporal: Matrix;
  /** freqBins × R spectral profiles b_r(f) (≥ 0). */
  spectral: Matrix;
  /** channels × R spatial profiles s_r(c) (≥ 0). */
  spatial: Matrix;
  /** Column of the seizure component in the three factors. */
  burstComponent: number;
  /** Burst onsets (the peak bin of each burst), increasing time-bin indices. */
  onsets: number[];
  /** Burst length L in bins (rise bin included). */
  burstBins: number;
  /** Centre frequency of each frequency bin, Hz. */
  freqs: Float64Array;
  /** Component names, one per column. */
  names: string[];
}

/** A simulated record. */
export interface SeizureSpectrogram {
  /** [time, frequency, channel], non-negative. */
  tensor: Tensor3;
  truth: SeizureTruth;
  /** Seconds per time bin. */
  binSeconds: number;
  /** The resolved options. */
  options: Readonly<SeizureSpectrogramOptions>;
}

const OWNER = 'simulateSeizureSpectrogram';
const NAMES = ['broadband', 'alpha', 'muscle', 'artifact', 'seizure'];
const SEIZURE = 4;
const F_MAX_HZ = 40;
/** Time constant of the onset spike, seconds. */
const ONSET_DECAY_SECONDS = 2;

/** Burst length in bins for a decay time constant of `tauBins` bins: rise bin + ⌈3τ⌉ + 1 (to 5%). */
const burstLength = (tauBins: number): number => Math.ceil(3 * tauBins) + 2;

/**
 * Simulates an EEG-like spectrogram tensor with seizure-like bursts (see the module header).
 * Throws InvalidOptionError naming the option (including "bursts" when they do not fit).
 *
 * @param options  partial options over DEFAULT_SEIZURE_SPECTROGRAM_OPTIONS.
 * @returns the tensor, the planted factors and the burst onsets.
 */
export function simulateSeizureSpectrogram(options?: Partial<SeizureSpectrogramOptions>): SeizureSpectrogram {
  const o = resolveOptions(OWNER, SEIZURE_SPECTROGRAM_CONSTRAINTS, DEFAULT_SEIZURE_SPECTROGRAM_OPTIONS, options);
  const n = Math.round((o.hours * 3600) / o.binSeconds);
  if (n < 2) throw new InvalidOptionError(OWNER, 'hours', `long enough for 2 time bins of ${o.binSeconds} s`, o.hours);
  const tau = o.burstDecay / o.binSeconds;
  const tauOnset = ONSET_DECAY_SECONDS / o.binSeconds;
  const L = burstLength(tau);
  const maxBursts = Math.floor(n / (2 * L));
  if (o.bursts > maxBursts) {
    throw new InvalidOptionError(
      OWNER, 'bursts',
      `at most ${maxBursts}: each burst lasts ${L} bins and needs as many quiet bins, in a record of ${n} bins`,
      o.bursts,
    );
  }
  const J = o.freqBins, K = o.channels, R = NAMES.length;
  const rng = new Rng(o.seed);
  const freqs = Float64Array.from({ length: J }, (_, j) => ((j + 1) * F_MAX_HZ) / J);
  const temporal: Matrix = { rows: n, cols: R, data: new Float64Array(n * R) };

  const spectral = spectralProfiles(rng, freqs, o.burstGain);
  const spatial = spatialProfiles(rng, K);

  // Temporal activations.
  ouLogNormal(rng, temporal, 0, 0.3, 600 / o.binSeconds);
  ouLogNormal(rng, temporal, 1, 0.6, 20 / o.binSeconds);
  ouLogNormal(rng, temporal, 2, 0.8, 5 / o.binSeconds);
  artifacts(rng, temporal, 3, 60 / o.binSeconds);
  const onsets = burstOnsets(rng, n, o.bursts, L);
  for (const onset of onsets) {
    const h = 0.7 + 0.6 * rng.uniform();
    temporal.data[(onset - 1) * R + SEIZURE] = 0.4 * h;
    for (let u = 0; u < L - 1; u++) temporal.data[(onset + u) * R + SEIZURE] = h * (0.5 * Math.exp(-u / tauOnset) + 0.5 * Math.exp(-u / tau));
  }

  const data = compose(temporal, spectral, spatial);
  if (o.noise > 0) multiplyGamma(rng, data, 1 / (o.noise * o.noise));
  return {
    tensor: { dims: [n, J, K], data },
    truth: { temporal, spectral, spatial, burstComponent: SEIZURE, onsets, burstBins: L, freqs, names: [...NAMES] },
    binSeconds: o.binSeconds,
    options: o,
  };
}

/** J×R spectral profiles b_r(f) at the bin centres `freqs` (Hz); see the module header. */
function spectralProfiles(rng: Rng, freqs: Float64Array, gain: number): Matrix {
  const J = freqs.length, R = NAMES.length;
  const B: Matrix = { rows: J, cols: R, data: new Float64Array(J * R) };
  const fAlpha = 9 + 2 * rng.uniform();
  const f0 = 3 + 3 * rng.uniform();
  let nearest = 0;
  for (let j = 0; j < J; j++) {
    const f = freqs[j]!;
    const row = j * R;
    B.data[row] = 1 / f;
    B.data[row + 1] = 0.3 * Math.exp(-0.5 * ((f - fAlpha) / 1.2) ** 2);
    B.data[row + 2] = 0.05 * Math.min(1, Math.max(0, (f - 20) / 5));
    B.data[row + 3] = 2 * Math.exp(-Math.max(0, f - 1) / 1.5);
    const sz = Math.exp(-0.5 * ((f - f0) / 0.8) ** 2) + 0.5 * Math.exp(-0.5 * ((f - 2 * f0) / 0.8) ** 2);
    B.data[row + SEIZURE] = sz >= 0.01 ? (gain / f0) * sz : 0;
    if (Math.abs(f - f0) < Math.abs(freqs[nearest]! - f0)) nearest = j;
  }
  // Coarse bins can straddle the band: keep the bin nearest f0.
  if (B.data[nearest * R + SEIZURE] === 0) B.data[nearest * R + SEIZURE] = gain / freqs[nearest]!;
  return B;
}

/** K×R spatial profiles s_r(c) on the ring x_c = c/K; see the module header. */
function spatialProfiles(rng: Rng, K: number): Matrix {
  const R = NAMES.length;
  const S: Matrix = { rows: K, cols: R, data: new Float64Array(K * R) };
  const ring = (c: number, centre: number, width: number): number => {
    const x = Math.abs(c / K - centre);
    return Math.exp(-0.5 * (Math.min(x, 1 - x) / width) ** 2);
  };
  const focus = rng.uniform();
  for (let c = 0; c < K; c++) {
    const row = c * R;
    S.data[row] = 0.7 + 0.6 * rng.uniform();
    S.data[row + 1] = 0.05 + ring(c, 0.75, 0.12);
    S.data[row + 2] = ring(c, 0.3, 0.06) + ring(c, 0.55, 0.06);
    S.data[row + 3] = ring(c, 0, 0.08);
    const s = ring(c, focus, 0.1);
    S.data[row + SEIZURE] = s >= 0.2 ? s : 0;
  }
  // Few channels can all lie far from the focus: keep the nearest one.
  const nearest = Math.round(focus * K) % K;
  if (S.data[nearest * R + SEIZURE] === 0) S.data[nearest * R + SEIZURE] = ring(nearest, focus, 0.1);
  return S;
}

/** Column `col` of A ← exp(σ·x_t − σ²/2) with x a stationary unit-variance OU process of time constant τ bins. */
function ouLogNormal(rng: Rng, A: Matrix, col: number, sigma: number, tau: number): void {
  const rho = Math.exp(-1 / tau), s = Math.sqrt(1 - rho * rho);
  let x = rng.normal();
  for (let t = 0; t < A.rows; t++) {
    A.data[t * A.cols + col] = Math.exp(sigma * x - 0.5 * sigma * sigma);
    x = rho * x + s * rng.normal();
  }
}

/** Column `col` of A ← short events (1–3 bins, log-normal size), one per `meanGap` bins on average. */
function artifacts(rng: Rng, A: Matrix, col: number, meanGap: number): void {
  let t = Math.floor(-meanGap * Math.log(1 - rng.uniform()));
  while (t < A.rows) {
    const len = 1 + rng.int(3);
    const h = Math.exp(0.5 * rng.normal());
    for (let u = 0; u < len && t + u < A.rows; u++) A.data[(t + u) * A.cols + col]! += h;
    t += len + Math.floor(-meanGap * Math.log(1 - rng.uniform()));
  }
}

/**
 * One onset per segment [⌊b·n/B⌋, ⌊(b+1)·n/B⌋): uniform in [start + 1, end − 2L + 1] so the rise
 * bin, the burst and L quiet bins fit in the segment.
 */
function burstOnsets(rng: Rng, n: number, B: number, L: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < B; b++) {
    const start = Math.floor((b * n) / B), end = Math.floor(((b + 1) * n) / B);
    const span = end - start - 2 * L + 1;
    out.push(start + 1 + rng.int(Math.max(1, span)));
  }
  return out;
}

/** The n×J×K tensor Σ_r a_r ⊗ b_r ⊗ s_r, built one time slice at a time. */
function compose(A: Matrix, B: Matrix, S: Matrix): Float64Array {
  const n = A.rows, J = B.rows, K = S.rows, R = A.cols;
  const out = new Float64Array(n * J * K);
  // Rank-one slices b_r ⊗ s_r (J·K each), reused for every time bin.
  const slices = new Float64Array(R * J * K);
  for (let r = 0; r < R; r++) {
    for (let j = 0; j < J; j++) for (let c = 0; c < K; c++) slices[(r * J + j) * K + c] = B.data[j * R + r]! * S.data[c * R + r]!;
  }
  const JK = J * K;
  for (let t = 0; t < n; t++) {
    const base = t * JK;
    for (let r = 0; r < R; r++) {
      const a = A.data[t * R + r]!;
      if (a === 0) continue;
      const off = r * JK;
      for (let q = 0; q < JK; q++) out[base + q]! += a * slices[off + q]!;
    }
  }
  return out;
}

/** x[i] ← x[i]·g_i with g_i ~ Gamma(k, 1/k) (mean 1, CV 1/√k): Marsaglia & Tsang (2000). */
function multiplyGamma(rng: Rng, x: Float64Array, k: number): void {
  // k < 1: Gamma(k) = Gamma(k + 1)·U^(1/k).
  const boost = k < 1;
  const kk = boost ? k + 1 : k;
  const d = kk - 1 / 3, c = 1 / Math.sqrt(9 * d);
  for (let i = 0; i < x.length; i++) {
    let g: number;
    for (;;) {
      const z = rng.normal();
      const v0 = 1 + c * z;
      if (v0 <= 0) continue;
      const v = v0 * v0 * v0;
      const u = rng.uniform();
      if (u < 1 - 0.0331 * z * z * z * z || Math.log(u) < 0.5 * z * z + d * (1 - v + Math.log(v))) { g = d * v; break; }
    }
    if (boost) g *= Math.pow(rng.uniform() || Number.MIN_VALUE, 1 / k);
    x[i]! *= g / k;
  }
}

