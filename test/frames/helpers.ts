/** Shared fixtures for the frames tests. */
import type { StreamInfo } from '../../src/frames/index.js';

/** A raw 4-channel stream. */
export const RAW4: StreamInfo = { id: 'eeg1', kind: 'raw', n: 4, rate: 250, labels: ['C3', 'C4', 'O1', 'O2'], units: 'uV' };

/** A compressed stream: n = 40 projected to d = 8. */
export const COMPRESSED: StreamInfo = {
  id: 'cs1', kind: 'compressed', n: 40, rate: 250,
  projection: { ensemble: 'sparse-binary', n: 40, d: 8, p: 3, seed: 5 },
};

/** Calls `fn` and returns what it threw (fails the test if nothing was thrown). */
export function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw, but the call returned normally');
}

/** Places `bytes` at `offset` inside a larger Buffer (with junk on both sides) and returns the exact sub-view. */
export function atOffset(bytes: Uint8Array, offset: number): Buffer {
  const big = Buffer.concat([Buffer.alloc(offset, 0xee), Buffer.from(bytes), Buffer.alloc(5, 0xdd)]);
  return big.subarray(offset, offset + bytes.length);
}
