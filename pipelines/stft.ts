/**
 * `stft`: the streaming short-time Fourier transform: raw multichannel samples in, one spectral
 * frame per hop out, equal to a time slice of the batch `spectrogramTensor` (src/signal/stft.ts).
 * `stftStreamInfo` gives the header of those spectral frames (what config.ts checks later stages
 * against).
 */
import { defer, map, type OperatorFunction } from 'rxjs';
import { DataError, InvalidOptionError } from '../src/errors.js';
import type { ConstraintTable } from '../src/factorize/validate.js';
import { checkSeqModulo } from '../src/frames/gaps.js';
import { frameLength, type Frame, type StreamInfo } from '../src/frames/index.js';
import { StftKernel, stftFreqs, stftPlan, type StftOptions, type StftPlan } from '../src/signal/stft.js';
import type { EventSink, PipelineEvent } from './events.js';
import { resolvePipelineOptions } from './internal/options.js';
import { window, WINDOW_CONSTRAINTS } from './window.js';

/** Options of the `stft` operator: the batch `StftOptions` (same defaults and checks; `rate` required) plus the seq counter. */
export interface StftOperatorOptions extends StftOptions {
  /** undefined (an unbounded counter); modulus of the source's seq counter, an integer ≥ 2 (e.g. 256 for 8-bit board counters). */
  seqModulo?: number;
}

/** Hooks of the `stft` operator. */
export interface StftOperatorHooks {
  /** undefined; called with a `reject` event (reason `type` or `length`) per dropped frame and a `reset` event per restart. */
  onEvent?: EventSink;
}

/** The fields of `StftOptions`, all present (what the constraint table checks). */
type StftFields = Required<StftOptions>;

/**
 * The defaults of `StftOptions` (documented in src/signal/stft.ts, applied by `stftPlan`); `rate`
 * is required and `fmax` defaults to rate/2, so neither is here.
 */
export const DEFAULT_STFT_OPERATOR_OPTIONS: Readonly<Pick<StftFields, 'window' | 'hop' | 'fmin' | 'scale'>> = Object.freeze({
  window: 1,
  hop: 0.5,
  fmin: 0,
  scale: 'power',
});

/**
 * Allowed values of each field of `StftOptions` on its own. The rules between fields are
 * `stftPlan`'s (window ≥ 2 samples, hop ≥ 1 sample, fmin ≤ fmax ≤ rate/2) plus the ring's bound
 * (window and hop at most 1048576 samples); seqModulo is checked by checkSeqModulo.
 */
export const STFT_OPERATOR_CONSTRAINTS: ConstraintTable<StftFields> = Object.freeze({
  rate: { type: 'number', min: 0, minExclusive: true },
  window: { type: 'number', min: 0, minExclusive: true },
  hop: { type: 'number', min: 0, minExclusive: true },
  fmin: { type: 'number', min: 0 },
  fmax: { type: 'number', min: 0 },
  scale: { type: 'enum', values: ['magnitude', 'power'] },
});

/** `window`'s bound on length and hop, in samples (its ring holds window × channels samples). */
const MAX_SAMPLES = (WINDOW_CONSTRAINTS.length as { max: number }).max;

/** Checks the options (table, then the plan, then the ring's bound) and resolves them; throws InvalidOptionError (owner 'stft'). */
function resolveStft(options: StftOperatorOptions & StftOperatorHooks): { plan: StftPlan; seqModulo: number | undefined; onEvent: EventSink | undefined } {
  const given: unknown = options;
  const rate = typeof given === 'object' && given !== null ? (given as { rate?: unknown }).rate : undefined;
  // rate has no default and fmax's is rate/2: both come from the given object (rate is checked first).
  const defaults = { rate, ...DEFAULT_STFT_OPERATOR_OPTIONS, fmax: typeof rate === 'number' ? rate / 2 : undefined } as unknown as StftFields;
  const o = resolvePipelineOptions<StftFields, Pick<StftOperatorOptions, 'seqModulo'> & StftOperatorHooks>(
    'stft', STFT_OPERATOR_CONSTRAINTS, defaults, { seqModulo: 'number', onEvent: 'function' }, options,
  );
  const plan = stftPlan(o);
  const most = `at most ${MAX_SAMPLES} samples (${MAX_SAMPLES / plan.rate} s at ${plan.rate} Hz)`;
  if (plan.L > MAX_SAMPLES) throw new InvalidOptionError('stft', 'window', most, o.window);
  if (plan.hopN > MAX_SAMPLES) throw new InvalidOptionError('stft', 'hop', most, o.hop);
  return { plan, seqModulo: checkSeqModulo('stft', 'seqModulo', o.seqModulo), onEvent: o.onEvent };
}

/** A frequency as a label part: enough decimals to tell neighbouring bins apart, trailing zeros dropped. */
function formatHz(f: number, resolution: number): string {
  const decimals = Math.min(6, Math.max(0, Math.ceil(-Math.log10(resolution))) + 1);
  return String(Number(f.toFixed(decimals)));
}

/**
 * The header of the frames `stft` emits, from the header of its input (raw frames of C channels)
 * and its options: raw frames of n = bins × C values (frequency-major, channel fastest), at
 * rate/hopN frames per second (1/hop, hop rounded to whole samples). With input labels, label
 * f·C + c is `<channel c>@<bin f's frequency>Hz` (e.g. `Fz@10Hz`); units become `<units>^2` for
 * power. `rate` may be left out: it is then the input's (which must be > 0); given, it must
 * equal the input's unless that is 0 (irregular).
 *
 * @example
 * stftStreamInfo({ id: 'eeg', kind: 'raw', n: 8, rate: 250 }, { window: 1, hop: 0.25, fmin: 1, fmax: 45 }) // n = 45 × 8 = 360, rate 250/63
 * @param input the header of the frames entering `stft` (kind 'raw', else DataError)
 * @param options the operator's options (InvalidOptionError as the operator would throw)
 * @returns a new StreamInfo for the spectral frames
 */
export function stftStreamInfo(input: StreamInfo, options: Omit<StftOperatorOptions, 'rate'> & { rate?: number }): StreamInfo {
  if (input.kind !== 'raw') {
    throw new DataError(`stream ${input.id} is ${input.kind}; stft takes raw frames (one sample of each channel per frame)`, 'stftStreamInfo');
  }
  if (options.rate !== undefined && input.rate !== 0 && options.rate !== input.rate) {
    throw new InvalidOptionError('stft', 'rate', `the rate of its input frames, ${input.rate} Hz (or absent)`, options.rate);
  }
  const rate = options.rate ?? input.rate;
  const { plan } = resolveStft({ ...options, rate });
  const C = frameLength(input);
  const out: StreamInfo = { id: input.id, kind: 'raw', n: plan.bins * C, rate: plan.rate / plan.hopN };
  if (input.labels) {
    const freqs = stftFreqs(plan), step = plan.rate / plan.nfft;
    const labels: string[] = [];
    for (let f = 0; f < plan.bins; f++) for (let c = 0; c < C; c++) labels.push(`${input.labels[c]}@${formatHz(freqs[f]!, step)}Hz`);
    out.labels = labels;
  }
  if (input.units !== undefined) out.units = plan.scale === 'power' ? `${input.units}^2` : input.units;
  return out;
}

/**
 * Turns raw frames (one sample per frame, `values` = the C channels) into one spectral frame per
 * hop: once `window` seconds of samples are in, and then every `hop` seconds, the Hann-windowed
 * spectrum of each channel over [fmin, fmax], laid out like one time slice of
 * `spectrogramTensor`: values[f·C + c] = S_c(bin f) (frequency-major, channel fastest; F·C
 * values, bin f at `stftFreqs(stftPlan(options))[f]` Hz). The output header: `stftStreamInfo`.
 *
 * Like `window(L, hopN)` followed by `map(spectrum)`, which is exactly how it is built: the
 * samples wait in the window's ring across chunks, so a signal fed in any chunking gives the
 * batch spectrogram of the whole signal, with no transients at chunk edges.
 *
 * ```
 * rate 4, window 1 s (L = 4), hop 0.5 s (2 samples):  -1-2-3-4-5-6-7-8-|
 * output:                                             -------A---B---C-|
 *   A = spectrum of samples 1..4 (seq 0), B = 3..6 (seq 1), C = 5..8 (seq 2)
 * ```
 *
 * Output frames: `seq` counts the emitted spectra 0, 1, 2, … per subscription (consecutive, so a
 * downstream `detectGaps` sees none; restarts do not reset it); `t` = the window's centre, the
 * first sample's t + L/(2·rate), as the batch times; `values` is a **fresh Float64Array per
 * emission** (safe to keep: spectra are rare compared with samples).
 *
 * A seq jump restarts the transform like `window` does (the buffered samples are dropped, a
 * `reset` event is reported with operator `stft`); frames of another channel count than the
 * first are dropped and reported (`reject`). Values are not checked for finiteness: a NaN
 * spreads over every window it falls in, so validate the stream first (`validateFrames`).
 * State (the ring, the FFT buffers) is per subscription; nothing is allocated per sample.
 *
 * @example
 * eeg$.pipe(stft({ rate: 250, window: 1, hop: 0.25, fmax: 45, onEvent }), batchFrames(), onlineNmf({ rank: 8 }))
 * @see spectrogramTensor (the batch equivalent), StftKernel (the shared per-frame kernel), window, stftStreamInfo
 * @param options see `StftOperatorOptions` (`rate` required) and `StftOperatorHooks`; checked now (InvalidOptionError)
 * @returns an operator emitting one spectral `Frame` per hop
 */
export function stft(options: StftOperatorOptions & StftOperatorHooks): OperatorFunction<Frame, Frame> {
  const { plan, seqModulo, onEvent } = resolveStft(options);
  const { L, hopN, bins, rate } = plan;
  // The window's events, under this operator's name (events are rare: a copy each is fine).
  const relabel: EventSink | undefined = onEvent && ((e: PipelineEvent) => onEvent(
    e.type === 'reject' ? { ...e, operator: 'stft', message: `stft${e.message.slice('window'.length)}` }
      : e.type === 'reset' ? { ...e, operator: 'stft' } : e,
  ));
  const frames = window({ length: L, hop: hopN, ...(seqModulo === undefined ? {} : { seqModulo }), ...(relabel ? { onEvent: relabel } : {}) });
  const centre = L / (2 * rate);

  return (source) => defer(() => {
    const kernel = new StftKernel(plan); // FFT scratch, per subscription
    let seq = 0;
    return source.pipe(frames, map((w): Frame => {
      const C = w.dims;
      const values = new Float64Array(bins * C);
      // Channel c is every C-th value of the window; its bin f goes to f·C + c.
      for (let c = 0; c < C; c++) kernel.spectrum(w.values, c, C, values, c, C);
      return { seq: seq++, t: w.t0 + centre, values };
    }));
  });
}
