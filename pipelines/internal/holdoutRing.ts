/**
 * The ring of recent whole frames behind `ModelUpdate.holdout`: written on the frame path (one
 * copy of d values per frame, no allocation), copied out only when a reconstruction starts.
 */
import type { HoldoutProbe } from '../types.js';

/** A fixed-capacity ring of frames of one length (fixed by the first frame written). */
export class HoldoutRing implements HoldoutProbe {
  private buf = new Float64Array(0);
  private seqBuf: Float64Array;
  private head = 0; // next slot
  private n = 0;
  private dims = 0;

  constructor(readonly rows: number, readonly capacity: number) {
    this.seqBuf = new Float64Array(capacity);
  }

  /** Frames in the ring. */
  size(): number { return this.n; }

  /**
   * Writes one frame (values[offset .. offset + dims)), negatives set to 0 with `clip`; the oldest
   * falls out when full. A frame the model would refuse (an entry not finite, or < 0 without
   * `clip`) is not written: returns false.
   */
  push(values: ArrayLike<number>, offset: number, dims: number, seq: number, clip: boolean): boolean {
    for (let i = 0; i < dims; i++) {
      const v = values[offset + i]!;
      if (!(v < Infinity && v > -Infinity) || (!clip && v < 0)) return false;
    }
    if (this.dims !== dims) {
      // A new frame length (the first frame, or a stream restarted with another d): start over.
      this.dims = dims;
      this.buf = new Float64Array(this.capacity * dims);
      this.head = 0;
      this.n = 0;
    }
    const at = this.head * dims;
    for (let i = 0; i < dims; i++) { const v = values[offset + i]!; this.buf[at + i] = v < 0 ? 0 : v; }
    this.seqBuf[this.head] = seq;
    this.head = (this.head + 1) % this.capacity;
    if (this.n < this.capacity) this.n++;
    return true;
  }

  /** A copy of the held frames, oldest first. */
  copy(): { values: Float64Array; seqs: Float64Array; count: number; dims: number } {
    const { n, dims, capacity } = this;
    const values = new Float64Array(n * dims), seqs = new Float64Array(n);
    const first = (this.head - n + capacity) % capacity;
    for (let f = 0; f < n; f++) {
      const slot = (first + f) % capacity;
      values.set(this.buf.subarray(slot * dims, (slot + 1) * dims), f * dims);
      seqs[f] = this.seqBuf[slot]!;
    }
    return { values, seqs, count: n, dims };
  }
}
