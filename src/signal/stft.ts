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

interface Plan { L: number; hopN: number; nfft: number; k0: number; k1: number; scale: 'magnitude' | 'power'; rate: number }

function plan(o: StftOptions, length: number): Plan {
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
  return { L, hopN, nfft, k0, k1, scale, rate: o.rate };
}

/** The STFT of one signal. */
export function stft(x: Float64Array, o: StftOptions): Spectrogram {
  const p = plan(o, x.length);
  return runStft([x], p).spectrograms[0]!;
}

function runStft(signals: Float64Array[], p: Plan): { spectrograms: Spectrogram[] } {
  const { L, hopN, nfft, k0, k1, rate } = p;
  const frames = Math.floor((signals[0]!.length - L) / hopN) + 1;
  const bins = k1 - k0 + 1;
  const w = new Float64Array(L);
  let wsum = 0;
  for (let i = 0; i < L; i++) { w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / L); wsum += w[i]!; }
  const fft = new FFT(nfft);
  const buf = new Array<number>(nfft).fill(0);
  const out = fft.createComplexArray() as number[];
  const times = Float64Array.from({ length: frames }, (_, f) => (f * hopN + L / 2) / rate);
  const freqs = Float64Array.from({ length: bins }, (_, b) => ((k0 + b) * rate) / nfft);
  const spectrograms = signals.map((x) => {
    const S = new Float64Array(frames * bins);
    for (let f = 0; f < frames; f++) {
      const start = f * hopN;
      for (let i = 0; i < L; i++) buf[i] = x[start + i]! * w[i]!;
      fft.realTransform(out, buf);
      for (let b = 0; b < bins; b++) {
        const k = k0 + b;
        const mag = Math.hypot(out[2 * k]!, out[2 * k + 1]!) / wsum;
        S[f * bins + b] = p.scale === 'power' ? mag * mag : mag;
      }
    }
    return { S: { rows: frames, cols: bins, data: S }, times, freqs };
  });
  return { spectrograms };
}

/**
 * Spectrogram tensor of several equally long channels: dims [frames, bins, channels], entry
 * (t, f, c) = S_c[t, f]. Mode 1 is time, the mode the paper compresses.
 */
export function spectrogramTensor(signals: Float64Array[], o: StftOptions): { tensor: Tensor3; times: Float64Array; freqs: Float64Array } {
  if (signals.length === 0) throw new ShapeMismatchError('spectrogramTensor: signals', 'at least one channel', '0 channels');
  const len = signals[0]!.length;
  signals.forEach((s, c) => { if (s.length !== len) throw new ShapeMismatchError(`spectrogramTensor: channel ${c}`, `${len} samples like channel 0`, `${s.length}`); });
  const p = plan(o, len);
  const { spectrograms } = runStft(signals, p);
  const T = spectrograms[0]!.S.rows, F = spectrograms[0]!.S.cols, C = signals.length;
  const data = new Float64Array(T * F * C);
  spectrograms.forEach((sp, c) => {
    for (let t = 0; t < T; t++) for (let f = 0; f < F; f++) data[(t * F + f) * C + c] = sp.S.data[t * F + f]!;
  });
  return { tensor: { dims: [T, F, C], data }, times: spectrograms[0]!.times, freqs: spectrograms[0]!.freqs };
}
