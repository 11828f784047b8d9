import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.js';
import { FrameDecodeError, decodeBatch, encodeBatch, type FrameBatch } from '../../src/frames/index.js';
import { Rng } from '../../src/linalg/random.js';
import { atOffset } from './helpers.js';

/** One random corruption of `good`: byte flips, truncation, extension, header field overwrite, cut, or noise. */
function mutate(rng: Rng, good: Uint8Array): Uint8Array {
  const b = good.slice();
  const v = new DataView(b.buffer);
  switch (rng.int(6)) {
    case 0: { // flip 1–4 random bytes anywhere
      const k = 1 + rng.int(4);
      for (let i = 0; i < k; i++) b[rng.int(b.length)] = rng.int(256);
      return b;
    }
    case 1: return b.subarray(0, rng.int(b.length)); // truncate
    case 2: { // append 1–16 bytes
      const tail = new Uint8Array(1 + rng.int(16)).map(() => rng.int(256));
      return Uint8Array.from([...b, ...tail]);
    }
    case 3: { // overwrite one 32-bit word of the fixed header (seq, t0, dt, count, dims, …)
      v.setUint32(4 * rng.int(10), rng.nextUint32(), true);
      return b;
    }
    case 4: { // cut a random range out
      const from = rng.int(b.length);
      const to = from + 1 + rng.int(b.length - from);
      return Uint8Array.from([...b.subarray(0, from), ...b.subarray(to)]);
    }
    default: { // noise, sometimes with a valid magic and version in front
      const n = rng.int(120);
      const out = new Uint8Array(n).map(() => rng.int(256));
      if (rng.int(2) === 0) out.set(good.subarray(0, Math.min(n, 8)));
      return out;
    }
  }
}

describe('decodeBatch fuzz', () => {
  it('2,000 random mutations/truncations only ever throw DataError, never hang, and what decodes re-encodes to the same bytes', () => {
    const rng = new Rng(99);
    const values = new Float32Array(5 * 6).map(() => rng.normal());
    const base: FrameBatch = { streamId: 'fuzz-é', seq: 123_456_789_012, t0: 1.7e9, dt: 0.004, count: 5, dims: 6, values };
    const good = encodeBatch(base);
    let accepted = 0;
    let rejected = 0;
    const started = performance.now();
    for (let i = 0; i < 2000; i++) {
      const bytes = atOffset(mutate(rng, good), rng.int(8));
      let out: FrameBatch;
      try {
        out = decodeBatch(bytes, `fuzz #${i}`);
      } catch (e) {
        if (!(e instanceof DataError) || !(e instanceof FrameDecodeError)) {
          throw new Error(`mutation #${i} threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
        }
        expect(e.byteOffset).toBeGreaterThanOrEqual(0);
        expect(e.byteOffset).toBeLessThanOrEqual(bytes.length);
        rejected++;
        continue;
      }
      accepted++;
      expect(out.values.length).toBe(out.count * out.dims);
      // Accepted messages are canonical: nothing in them was ignored.
      expect(Buffer.from(encodeBatch(out)).equals(bytes), `mutation #${i} decoded but does not re-encode identically`).toBe(true);
    }
    const ms = performance.now() - started;
    expect(rejected).toBeGreaterThan(1000); // most corruptions must be caught …
    expect(accepted).toBeGreaterThan(20); // … while sample-only flips legitimately decode
    expect(ms).toBeLessThan(10_000);
  });
});
