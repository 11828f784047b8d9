/**
 * A simulated compressive front-end, as sensing hardware would measure: y = P·x "in hardware"
 * (sparse-binary P by default: each x_j is added into p accumulators, no multiplications), then
 * additive noise of the analogue chain, then ADC quantisation:
 *
 *   y_i = Q( (P·x)_i + σ·N(0, 1) ),   Q(v) = Δ·round(v/Δ) clamped to [−range, range − Δ],
 *   Δ = 2·range / 2^bits            (bits = 0: no quantisation)
 *
 * A sample whose code would fall outside the ADC's codes is clipped to the end code and counted (`stats.saturated`), as a real ADC
 * would report overrange. The front-end publishes its `ProjectionSpec` in the compressed
 * stream's header, so the host regenerates the same P from the seed; P itself never travels.
 * Output values live in a ring of `poolSize` buffers (valid until `poolSize − 1` further frames).
 * Noise draws come from Rng(noiseSeed) per subscription.
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { InvalidOptionError } from '../src/errors.js';
import type { Frame, StreamInfo } from '../src/frames/index.js';
import { Rng } from '../src/linalg/random.js';
import { makeProjection, validateProjectionSpec, type ProjectionSpec } from '../src/sensing/index.js';

/** Options of the front-end. */
export interface FrontEndOptions {
  /** The measurement matrix's spec; `n` must equal the raw stream's n. */
  projection: ProjectionSpec;
  /** 0; ADC resolution in bits (0 = ideal, no quantisation; else an integer in [2, 32]). */
  bits?: number;
  /** ADC full scale ±range (required when bits > 0; > 0), in the units of y. */
  range?: number;
  /** 0; σ of the additive analogue noise, in the units of y (≥ 0). */
  noise?: number;
  /** 0; seed of the noise draws. */
  noiseSeed?: number;
  /** 8; output buffers in the ring (≥ 2). */
  poolSize?: number;
}

/** What the front-end counted (live, per front-end object, summed over its subscriptions). */
export interface FrontEndStats {
  /** Frames measured. */
  frames: number;
  /** Samples clipped at the ADC rails. */
  saturated: number;
  /** Frames refused: wrong length (the hardware would never see them; counted, not thrown). */
  refused: number;
}

/** A configured front-end: the compressed header, the operator that measures, its counters. */
export interface FrontEnd {
  info: StreamInfo;
  measure: OperatorFunction<Frame, Frame>;
  stats: FrontEndStats;
}

/** Builds the front-end for a raw stream (module header); options checked now. */
export function compressiveFrontEnd(raw: StreamInfo, o: FrontEndOptions): FrontEnd {
  const owner = 'compressiveFrontEnd';
  if (raw.kind !== 'raw') throw new InvalidOptionError(owner, 'info.kind', "'raw' (the front-end measures raw frames)", raw.kind);
  const spec = validateProjectionSpec(o.projection);
  if (spec.n !== raw.n) throw new InvalidOptionError(owner, 'projection.n', `the raw stream's n = ${raw.n}`, spec.n);
  const bits = o.bits ?? 0, noise = o.noise ?? 0, poolSize = o.poolSize ?? 8, noiseSeed = o.noiseSeed ?? 0;
  if (!(bits === 0 || (Number.isInteger(bits) && bits >= 2 && bits <= 32))) throw new InvalidOptionError(owner, 'bits', '0 or an integer in [2, 32]', bits);
  if (bits > 0 && !(o.range !== undefined && o.range > 0 && o.range < Infinity)) throw new InvalidOptionError(owner, 'range', 'a finite number > 0 when bits > 0', o.range);
  if (!(noise >= 0 && noise < Infinity)) throw new InvalidOptionError(owner, 'noise', 'a finite number ≥ 0', noise);
  if (!(Number.isInteger(poolSize) && poolSize >= 2)) throw new InvalidOptionError(owner, 'poolSize', 'an integer ≥ 2', poolSize);
  const P = makeProjection(spec);
  const d = spec.d, range = o.range ?? 0;
  const step = bits > 0 ? (2 * range) / 2 ** bits : 0;
  const lo = -range, hi = range - step;
  const stats: FrontEndStats = { frames: 0, saturated: 0, refused: 0 };

  const measure: OperatorFunction<Frame, Frame> = (source) => new Observable<Frame>((subscriber) => {
    const rng = new Rng(noiseSeed);
    const pool = Array.from({ length: poolSize }, () => new Float64Array(d));
    let next = 0;
    return source.subscribe({
      next(frame) {
        if (frame.values.length !== raw.n) { stats.refused++; return; }
        const y = pool[next]!;
        next = (next + 1) % poolSize;
        P.apply(frame.values, y);
        for (let i = 0; i < d; i++) {
          let v = noise > 0 ? y[i]! + noise * rng.normal() : y[i]!;
          if (step > 0) {
            v = step * Math.round(v / step);
            if (v < lo) { v = lo; stats.saturated++; } else if (v > hi) { v = hi; stats.saturated++; }
          }
          y[i] = v;
        }
        stats.frames++;
        subscriber.next({ seq: frame.seq, t: frame.t, values: y });
      },
      error: (e) => subscriber.error(e),
      complete: () => subscriber.complete(),
    });
  });
  const info: StreamInfo = { ...raw, kind: 'compressed', projection: { ...spec } };
  return { info, measure, stats };
}
