/**
 * `compress`: the software front-end at the edge, y = P x for every raw frame.
 */
import { Observable, type OperatorFunction } from 'rxjs';
import type { ConstraintTable } from '../src/factorize/validate.js';
import type { Frame } from '../src/frames/index.js';
import { makeProjection, type Projection, type ProjectionSpec } from '../src/sensing/index.js';
import type { EventSink } from './events.js';
import { resolvePipelineOptions, seqAndT } from './internal/options.js';

/** Options of `compress`. */
export interface CompressOptions {
  /** 256 frames; output buffers in the ring (integer in [0, 65536]): an emitted frame's `values` stay valid until this many more frames have been emitted. 0 = a new array per frame (safe to keep, costs an allocation per frame). */
  poolSize: number;
}

/** Hooks of `compress`. */
export interface CompressHooks {
  /** undefined; called with a `reject` event (reason `type` or `length`) for each dropped frame. */
  onEvent?: EventSink;
}

/** The documented defaults of `CompressOptions`. */
export const DEFAULT_COMPRESS_OPTIONS: Readonly<CompressOptions> = Object.freeze({ poolSize: 256 });

/** Allowed values of `CompressOptions`. */
export const COMPRESS_CONSTRAINTS: ConstraintTable<CompressOptions> = Object.freeze({ poolSize: { type: 'int', min: 0, max: 65536 } });

/**
 * Compresses raw frames (length n) to y = P x (length d), keeping seq and t. `P` is regenerated
 * from `spec` (same spec ⇒ same P everywhere, as the hardware front-end and its host share a
 * seed), once, when the operator is built; it is immutable and shared by all subscriptions.
 *
 * Like `map(f => ({ ...f, values: P.apply(f.values) }))`, but without allocating: outputs are
 * written into a ring of `poolSize` buffers (per subscription). **Lifetime:** an emitted frame's
 * `values` is overwritten `poolSize` emissions later; consumers that keep frames longer
 * (`toArray`, `bufferCount(n > poolSize)`, an asynchronous hop) must copy them or use
 * `poolSize: 0`. `batchFrames` copies each frame on arrival, so any `poolSize ≥ 1` is safe in
 * front of it.
 *
 * ```
 * raw (n = 2000):   --x1--x2--x3(length 1999)--x4--|
 * output (d = 400): --y1--y2---------------------y4--|      y = P x
 * events:           ------------reject(3, length)
 * ```
 *
 * Frames whose values are not a Float32Array/Float64Array of length n are dropped and reported.
 * Values are not checked for finiteness: validate the raw stream first (`validateFrames`).
 *
 * @example
 * raw$.pipe(validateFrames(rawInfo), compress({ ensemble: 'sparse-binary', n: 2000, d: 400, p: 5, seed: 1 }))
 * @see makeProjection (the generator), batchFrames
 * @param spec the projection (validated now: InvalidOptionError)
 * @param options see `CompressOptions`, `CompressHooks`
 * @returns an operator emitting compressed frames (Float64Array values of length d)
 */
export function compress(spec: ProjectionSpec, options: Partial<CompressOptions> & CompressHooks = {}): OperatorFunction<Frame, Frame> {
  const o = resolvePipelineOptions<CompressOptions, CompressHooks>('compress', COMPRESS_CONSTRAINTS, DEFAULT_COMPRESS_OPTIONS, { onEvent: 'function' }, options);
  const P: Projection = makeProjection(spec);
  const { n, d } = P;
  const { poolSize, onEvent } = o;
  return (source) => new Observable<Frame>((subscriber) => {
    // The ring: one slab, one view per slot (allocated once per subscription).
    let slots: Float64Array[] = [];
    if (poolSize > 0) {
      const slab = new Float64Array(poolSize * d);
      for (let i = 0; i < poolSize; i++) slots.push(slab.subarray(i * d, (i + 1) * d));
    }
    let next = 0;
    const reject = (frame: Frame, reason: 'type' | 'length', message: string): void => {
      if (!onEvent) return;
      const { seq, t } = seqAndT(frame);
      try {
        onEvent({ type: 'reject', operator: 'compress', seq, t, reason, message });
      } catch (e) {
        subscriber.error(e);
      }
    };
    const subscription = source.subscribe({
      next(frame) {
        const x = frame?.values;
        if (!(x instanceof Float64Array) && !(x instanceof Float32Array)) {
          reject(frame, 'type', `compress: frame seq ${String(frame?.seq)}: values must be a Float32Array or Float64Array`);
          return;
        }
        if (x.length !== n) {
          reject(frame, 'length', `compress: frame seq ${frame.seq}: expected ${n} raw values, got ${x.length}`);
          return;
        }
        let y: Float64Array;
        if (poolSize > 0) {
          y = slots[next]!;
          next = next + 1 === poolSize ? 0 : next + 1;
        } else {
          y = new Float64Array(d);
        }
        P.apply(x, y);
        subscriber.next({ seq: frame.seq, t: frame.t, values: y });
      },
      error: (e) => subscriber.error(e),
      complete: () => subscriber.complete(),
    });
    return () => {
      subscription.unsubscribe();
      slots = [];
    };
  });
}
