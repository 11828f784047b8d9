/**
 * An EEG-like raw multichannel source with ground truth: a few sparse spectral-spatial patterns
 * (a narrow band on a few neighbouring channels each) whose amplitudes vary slowly, seizure-like
 * bursts (one pattern switching on hard at known onsets), mains interference and electrode
 * drift, in µV:
 *
 *   x_c(t) = Σ_r s_r[c] · a_r(t) · sin(2π f_r t + φ_rc)          the patterns (r = 0 … R−1)
 *          + L · sin(2π·line·t + ψ_c)                            50/60 Hz line noise, every channel
 *          + D · OU_c(t; 30 s)                                   slow drift per channel
 *          + σ · N(0, 1)                                         sensor noise
 *
 *   s_r: `spread` neighbouring channels (of C, on a ring) with weights 1, 0.6, 0.3, …, 0 elsewhere
 *   f_r: spread over [fmin, fmax] (seeded), a_r(t) = A·exp(0.5·OU_r(t; 5 s)) (dense, positive);
 *   the burst pattern (r = R−1) has a_r(t) = 0 except after each onset o_b: A·burstGain·e^(−(t−o_b)/decay)
 *
 * so after an STFT each pattern is (about) rank one in frequency × channel, k-sparse with k ≈
 * 3 bins × `spread` channels: the setting compressed factorization targets. The truth (`truth`)
 * lists every pattern's frequency, spatial weights and the burst onsets. Draws from Rng(seed) for
 * the layout and Rng(seed + 1) per subscription for the time series; t = seq / rate.
 */
import { InvalidOptionError } from '../src/errors.js';
import type { Frame, StreamInfo } from '../src/frames/index.js';
import { Rng } from '../src/linalg/random.js';
import { checkPacing, paced, type PacingOptions } from './pacing.js';
import type { Observable } from 'rxjs';

/** Options of `eegSource` (all optional). */
export interface EegSourceOptions extends Partial<PacingOptions> {
  /** 'eeg'. */
  id?: string;
  /** 8 channels. */
  channels?: number;
  /** 4 patterns (the last one is the burst pattern). */
  patterns?: number;
  /** 3 channels per pattern. */
  spread?: number;
  /** 4 / 30 Hz: the band the pattern frequencies are spread over. */
  fmin?: number;
  fmax?: number;
  /** 20 µV pattern amplitude A. */
  amplitude?: number;
  /** 60 Hz mains (50 in Europe); 0 = none. */
  line?: number;
  /** 5 µV line noise amplitude. */
  lineAmplitude?: number;
  /** 10 µV drift. */
  drift?: number;
  /** 2 µV sensor noise σ. */
  noise?: number;
  /** 60 s between burst onsets (the first after one interval); 0 = no bursts. */
  burstEvery?: number;
  /** 3: burst amplitude over A. */
  burstGain?: number;
  /** 4 s burst decay. */
  burstDecay?: number;
  /** 0. */
  seed?: number;
}

/** What is behind the signal. */
export interface EegTruth {
  patterns: { frequency: number; channels: number[]; weights: number[] }[];
  /** Burst onsets (s) of the last pattern; an infinite stream has one every `burstEvery`. */
  burstEvery: number;
  firstBurst: number;
}

/** The EEG-like source (module header). */
export function eegSource(options: EegSourceOptions = {}): { info: StreamInfo; frames$: Observable<Frame>; truth: EegTruth } {
  const owner = 'eegSource';
  const {
    id = 'eeg', channels: C = 8, patterns: R = 4, spread = 3, fmin = 4, fmax = 30, amplitude = 20, line = 60, lineAmplitude = 5,
    drift = 10, noise = 2, burstEvery = 60, burstGain = 3, burstDecay = 4, seed = 0,
  } = options;
  const pacing: PacingOptions = {
    pacing: options.pacing ?? 'realtime', rate: options.rate ?? 250, frames: options.frames ?? Infinity,
    tickMs: options.tickMs ?? 25, chunk: options.chunk ?? 1024, scheduler: options.scheduler,
  };
  checkPacing(owner, pacing);
  const int = (name: string, v: number, lo: number, hi = Infinity): void => {
    if (!(Number.isInteger(v) && v >= lo && v <= hi)) throw new InvalidOptionError(owner, name, `an integer in [${lo}, ${hi}]`, v);
  };
  int('channels', C, 1, 1024);
  int('patterns', R, 1, 64);
  int('spread', spread, 1, C);
  for (const [name, v] of Object.entries({ amplitude, lineAmplitude, drift, noise, burstEvery, burstGain, burstDecay, line })) {
    if (!(v >= 0 && v < Infinity)) throw new InvalidOptionError(owner, name, 'a finite number ≥ 0', v);
  }
  if (!(fmin > 0 && fmin < fmax && fmax < pacing.rate / 2)) throw new InvalidOptionError(owner, 'fmin/fmax', `0 < fmin < fmax < rate/2 = ${pacing.rate / 2}`, [fmin, fmax]);

  // Layout: R frequencies spread over the band (jittered), spatial maps on a ring of channels.
  const layout = new Rng(seed);
  const patterns = Array.from({ length: R }, (_, r) => {
    const frequency = fmin + ((r + 0.2 + 0.6 * layout.uniform()) * (fmax - fmin)) / R;
    const start = layout.int(C);
    const chans = Array.from({ length: spread }, (_, i) => (start + i) % C);
    const weights = chans.map((_, i) => Math.max(0, 1 - 0.4 * i));
    return { frequency, channels: chans, weights };
  });
  const S = new Float64Array(R * C);
  patterns.forEach((p, r) => p.channels.forEach((c, i) => { S[r * C + c] = p.weights[i]!; }));
  const dt = 1 / pacing.rate;
  const ou = (tau: number) => ({ a: Math.exp(-dt / tau), b: Math.sqrt(1 - Math.exp((-2 * dt) / tau)) });
  const fast = ou(5), slow = ou(30);

  const frames$ = paced<Frame>(pacing, () => {
    const rng = new Rng(seed + 1);
    const phase = Float64Array.from({ length: R * C }, () => 2 * Math.PI * rng.uniform());
    const linePhase = Float64Array.from({ length: C }, () => 2 * Math.PI * rng.uniform());
    const amp = new Float64Array(R), drifts = new Float64Array(C);
    for (let r = 0; r < R; r++) amp[r] = rng.normal();
    for (let c = 0; c < C; c++) drifts[c] = rng.normal();
    const out = Array.from({ length: 4 }, () => new Float64Array(C));
    return (seq, subscriber) => {
      const t = seq * dt;
      const x = out[seq % out.length]!;
      for (let r = 0; r < R; r++) amp[r] = fast.a * amp[r]! + fast.b * rng.normal();
      for (let c = 0; c < C; c++) drifts[c] = slow.a * drifts[c]! + slow.b * rng.normal();
      for (let c = 0; c < C; c++) {
        let v = lineAmplitude * Math.sin(2 * Math.PI * line * t + linePhase[c]!) + drift * drifts[c]! + noise * rng.normal();
        for (let r = 0; r < R; r++) {
          const w = S[r * C + c]!;
          if (w === 0) continue;
          let a: number;
          if (r === R - 1 && burstEvery > 0) {
            const since = t - burstEvery * Math.floor(t / burstEvery);
            a = t >= burstEvery ? amplitude * burstGain * Math.exp(-since / burstDecay) : 0;
          } else {
            a = amplitude * Math.exp(0.5 * amp[r]!);
          }
          v += w * a * Math.sin(2 * Math.PI * patterns[r]!.frequency * t + phase[r * C + c]!);
        }
        x[c] = v;
      }
      subscriber.next({ seq, t, values: x });
    };
  });
  const info: StreamInfo = { id, kind: 'raw', n: C, rate: pacing.rate, units: 'uV', labels: Array.from({ length: C }, (_, c) => `ch${c + 1}`) };
  return { info, frames$, truth: { patterns, burstEvery, firstBurst: burstEvery } };
}
