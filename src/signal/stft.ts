/**
 * Short-time Fourier transform and the non-negative spectrogram tensor time × frequency × channel
 * used by the tensor experiments (PAPER.md §4.4).
 *
 * Frames start every `hop` seconds and hold `window` seconds of samples; only whole frames are
 * taken (no padding at the ends, so no edge transients). Each frame is multiplied by a periodic
 * Hann window w[i] = 0.5 − 0.5·cos(2πi/L), zero-padded to nfft (the next power of two ≥ L, as the
 * FFT of fft.js requires), transformed, and scaled by 1/Σw so that a sinusoid of amplitude a shows
 * |X| ≈ a/2 at its bin ('magnitude'), or its square ('power'). Bin k is at k·rate/nfft Hz; bins
 * outside [fmin, fmax] are dropped. Frame times are the frame centres in seconds.
 *
 * The per-frame work is one kernel, `StftKernel.spectrum`, shared by the batch functions here and
 * the streaming operator `stft` in pipelines/stft.ts, so both give the same numbers.
 */
import FFT from 'fft.js';
import { InvalidOptionError, ShapeMismatchError } from '../errors.js';
import type { Matrix } from '../linalg/matrix.js';
import type { Tensor3 } from '../sensing/operator.js';

/** STFT settings. */
export interface StftOptions {
  /** Sampling rate in Hz (required, > 0). */
  rate: number;
  /** 1; window length in seconds (at least 2 samples). */
  window?: number;
  /** 0.5; hop between frame starts in seconds (at least 1 sample). */
  hop?: number;
  /** 0; lowest frequency kept, Hz. */
  fmin?: number;
  /** rate/2; highest frequency kept, Hz (≤ rate/2). */
  fmax?: number;
  /** 'power'; 'magnitude' = |X|, 'power' = |X|². */
  scale?: 'magnitude' | 'power';
}

/** A spectrogram: S[frame, bin]. */
export interface Spectrogram {
  /** frames × bins, non-negative. */
  S: Matrix;
  /** Frame centres, seconds. */
  times: Float64Array;
  /** Bin frequencies, Hz. */
  freqs: Float64Array;
}

/** StftOptions resolved to samples and bins. */
export interface StftPlan {
  /** Samples per frame (the window), ≥ 2. */
  readonly L: number;
  /** Samples between frame starts, ≥ 1. */
  readonly hopN: number;
  /** FFT size: the next power of two ≥ L. */
  readonly nfft: number;
  /** First and last kept FFT bin (bin k is at k·rate/nfft Hz). */
  readonly k0: number;
  readonly k1: number;
  /** Kept bins, k1 − k0 + 1. */
  readonly bins: number;
  readonly scale: 'magnitude' | 'power';
  readonly rate: number;
}

/**
 * Checks `o` and resolves it to samples and bins; throws InvalidOptionError (owner 'stft').
 * @param length the signal length in samples, which the window must not exceed (none if omitted)
 */
export function stftPlan(o: StftOptions, length = Infinity): StftPlan {
  const owner = 'stft';
  if (!(o.rate > 0) || !Number.isFinite(o.rate)) throw new InvalidOptionError(owner, 'rate', 'a finite number > 0 (Hz)', o.rate);
  const window = o.window ?? 1, hop = o.hop ?? 0.5, fmin = o.fmin ?? 0, fmax = o.fmax ?? o.rate / 2;
  const L = Math.round(window * o.rate), hopN = Math.round(hop * o.rate);
  if (!(L >= 2)) throw new InvalidOptionError(owner, 'window', `at least 2 samples (${2 / o.rate} s at ${o.rate} Hz)`, window);
  if (!(hopN >= 1)) throw new InvalidOptionError(owner, 'hop', `at least 1 sample (${1 / o.rate} s)`, hop);
  if (L > length) throw new InvalidOptionError(owner, 'window', `at most the signal length ${length / o.rate} s`, window);
  if (!(fmin >= 0) || !(fmax <= o.rate / 2) || !(fmin <= fmax)) {
    throw new InvalidOptionError(owner, 'fmin/fmax', `0 ≤ fmin ≤ fmax ≤ rate/2 = ${o.rate / 2} Hz`, [fmin, fmax]);
  }
  const scale = o.scale ?? 'power';
  if (scale !== 'magnitude' && scale !== 'power') throw new InvalidOptionError(owner, 'scale', "'magnitude' or 'power'", scale);
  let nfft = 2;
  while (nfft < L) nfft *= 2;
  const k0 = Math.ceil((fmin * nfft) / o.rate - 1e-9), k1 = Math.floor((fmax * nfft) / o.rate + 1e-9);
  return { L, hopN, nfft, k0, k1, bins: k1 - k0 + 1, scale, rate: o.rate };
}

/** The frequencies (Hz) of a plan's kept bins. */
export function stftFreqs(p: StftPlan): Float64Array {
  return Float64Array.from({ length: p.bins }, (_, b) => ((p.k0 + b) * p.rate) / p.nfft);
}

/** The part of fft.js we use (it ships no types). */
interface RealFft {
  realTransform(out: Float64Array, data: Float64Array): void;
}

/**
 * The spectrum of one frame under a plan: the Hann window, the FFT and their scratch buffers,
 * allocated once and reused for every frame (so one kernel serves one caller at a time).
 */
export class StftKernel {
  private readonly w: Float64Array;
  private readonly wsum: number;
  private readonly fft: RealFft;
  /** nfft samples: the windowed frame in [0, L), zeros after (never written). */
  private readonly buf: Float64Array;
  private readonly out: Float64Array;

  /** Builds the window and the FFT for `plan`. */
  constructor(readonly plan: StftPlan) {
    const { L, nfft } = plan;
    this.w = new Float64Array(L);
    let wsum = 0;
    for (let i = 0; i < L; i++) { this.w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / L); wsum += this.w[i]!; }
    this.wsum = wsum;
    this.fft = new FFT(nfft) as RealFft;
    this.buf = new Float64Array(nfft);
    this.out = new Float64Array(2 * nfft);
  }

  /**
   * Writes the spectrum of the L samples src[srcOffset + i·srcStride] (i < L) to
   * dst[dstOffset + b·dstStride] (b < bins). No checks, no allocation: callers check once.
   */
  spectrum(src: Float64Array, srcOffset: number, srcStride: number, dst: Float64Array, dstOffset: number, dstStride: number): void {
    const { L, k0, bins, scale } = this.plan;
    const { w, wsum, buf, out } = this;
    for (let i = 0, j = srcOffset; i < L; i++, j += srcStride) buf[i] = src[j]! * w[i]!;
    this.fft.realTransform(out, buf);
    for (let b = 0; b < bins; b++) {
      const k = k0 + b;
      const mag = Math.hypot(out[2 * k]!, out[2 * k + 1]!) / wsum;
      dst[dstOffset + b * dstStride] = scale === 'power' ? mag * mag : mag;
    }
  }
}

/** Frame count of a signal of `length` samples (whole frames only). */
function frameCount(p: StftPlan, length: number): number {
  return Math.floor((length - p.L) / p.hopN) + 1;
}

/** Frame centres, seconds from the first sample. */
function frameTimes(p: StftPlan, frames: number): Float64Array {
  return Float64Array.from({ length: frames }, (_, f) => (f * p.hopN + p.L / 2) / p.rate);
}

/** The STFT of one signal. */
export function stft(x: Float64Array, o: StftOptions): Spectrogram {
  const p = stftPlan(o, x.length);
  const frames = frameCount(p, x.length);
  const kernel = new StftKernel(p);
  const S = new Float64Array(frames * p.bins);
  for (let f = 0; f < frames; f++) kernel.spectrum(x, f * p.hopN, 1, S, f * p.bins, 1);
  return { S: { rows: frames, cols: p.bins, data: S }, times: frameTimes(p, frames), freqs: stftFreqs(p) };
}

/**
 * Spectrogram tensor of several equally long channels: dims [frames, bins, channels], entry
 * (t, f, c) = S_c[t, f]. Mode 1 is time, the mode the paper compresses.
 */
export function spectrogramTensor(signals: Float64Array[], o: StftOptions): { tensor: Tensor3; times: Float64Array; freqs: Float64Array } {
  if (signals.length === 0) throw new ShapeMismatchError('spectrogramTensor: signals', 'at least one channel', '0 channels');
  const len = signals[0]!.length;
  signals.forEach((s, c) => { if (s.length !== len) throw new ShapeMismatchError(`spectrogramTensor: channel ${c}`, `${len} samples like channel 0`, `${s.length}`); });
  const p = stftPlan(o, len);
  const T = frameCount(p, len), F = p.bins, C = signals.length;
  const kernel = new StftKernel(p);
  const data = new Float64Array(T * F * C);
  // Entry (t, f, c) at (t·F + f)·C + c: frame t of channel c goes to offset t·F·C + c, stride C.
  signals.forEach((x, c) => {
    for (let t = 0; t < T; t++) kernel.spectrum(x, t * p.hopN, 1, data, t * F * C + c, C);
  });
  return { tensor: { dims: [T, F, C], data }, times: frameTimes(p, T), freqs: stftFreqs(p) };
}
