/**
 * `stft`: the streaming short-time Fourier transform: raw multichannel samples in, one spectral
 * frame per hop out, equal to a time slice of the batch `spectrogramTensor` (src/signal/stft.ts).
 */
import { defer, map, type OperatorFunction } from 'rxjs';
import { InvalidOptionError } from '../src/errors.js';
import { checkSeqModulo } from '../src/frames/gaps.js';
import type { Frame } from '../src/frames/index.js';
import { StftKernel, stftPlan, type StftOptions } from '../src/signal/stft.js';
import type { EventSink, PipelineEvent } from './events.js';
import { resolvePipelineOptions } from './internal/options.js';
import { window, WINDOW_CONSTRAINTS } from './window.js';

/** Options of the `stft` operator: the batch `StftOptions` (same defaults and checks) plus the seq counter. */
export interface StftOperatorOptions extends StftOptions {
  /** undefined (an unbounded counter); modulus of the source's seq counter, an integer ≥ 2 (e.g. 256 for 8-bit board counters). */
  seqModulo?: number;
}

/** Hooks of the `stft` operator. */
export interface StftOperatorHooks {
  /** undefined; called with a `reject` event (reason `type` or `length`) per dropped frame and a `reset` event per restart. */
  onEvent?: EventSink;
}

/** `window`'s bound on length and hop, in samples (its ring holds window × channels samples). */
const MAX_SAMPLES = (WINDOW_CONSTRAINTS.length as { max: number }).max;

/**
 * Turns raw frames (one sample per frame, `values` = the C channels) into one spectral frame per
 * hop: once `window` seconds of samples are in, and then every `hop` seconds, the Hann-windowed
 * spectrum of each channel over [fmin, fmax], laid out like one time slice of
 * `spectrogramTensor`: values[f·C + c] = S_c(bin f) (frequency-major, channel fastest; F·C
 * values, bin f at `stftFreqs(stftPlan(options))[f]` Hz).
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
 * eeg$.pipe(stft({ rate: 250, window: 1, hop: 0.25, fmax: 45 }, { onEvent }), batchFrames(), onlineNmf({ rank: 8 }))
 * @see spectrogramTensor (the batch equivalent), StftKernel (the shared per-frame kernel), window
 * @param options see `StftOperatorOptions` (`rate` required); checked now (InvalidOptionError)
 * @param hooks see `StftOperatorHooks`; checked now (InvalidOptionError)
 * @returns an operator emitting one spectral `Frame` per hop
 */
export function stft(options: StftOperatorOptions, hooks: StftOperatorHooks = {}): OperatorFunction<Frame, Frame> {
  // Unknown keys and non-numbers fail here; ranges are the batch plan's checks.
  const o = resolvePipelineOptions<Pick<StftOptions, 'scale'>, Omit<StftOperatorOptions, 'scale'>>(
    'stft', { scale: { type: 'enum', values: ['magnitude', 'power'] } }, { scale: 'power' },
    { rate: 'number', window: 'number', hop: 'number', fmin: 'number', fmax: 'number', seqModulo: 'number' }, options,
  );
  const { onEvent } = resolvePipelineOptions<object, StftOperatorHooks>('stft', {}, {}, { onEvent: 'function' }, hooks);
  const plan = stftPlan(o as StftOptions); // a missing rate fails in there
  const { L, hopN, bins, rate } = plan;
  const most = `at most ${MAX_SAMPLES} samples (${MAX_SAMPLES / rate} s at ${rate} Hz)`;
  if (L > MAX_SAMPLES) throw new InvalidOptionError('stft', 'window', most, o.window);
  if (hopN > MAX_SAMPLES) throw new InvalidOptionError('stft', 'hop', most, o.hop);
  const seqModulo = checkSeqModulo('stft', 'seqModulo', o.seqModulo);
  // The window's events, under this operator's name (events are rare: a copy each is fine).
  const relabel: EventSink | undefined = onEvent && ((e: PipelineEvent) => onEvent(
    e.type === 'reject' ? { ...e, operator: 'stft', message: `stft${e.message.slice('window'.length)}` }
      : e.type === 'reset' ? { ...e, operator: 'stft' } : e,
  ));
  const frames = window({ length: L, hop: hopN, ...(seqModulo === undefined ? {} : { seqModulo }) }, relabel ? { onEvent: relabel } : {});
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
