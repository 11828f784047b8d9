import { describe, expect, it } from 'vitest';
import { DataError, ShapeMismatchError } from '../../src/errors.js';
import {
  BATCH_FIXED_HEADER_BYTES, FrameDecodeError, MAX_BATCH_VALUES, batchToFrames, decodeBatch, encodeBatch, framesToBatch,
  type Frame, type FrameBatch,
} from '../../src/frames/index.js';
import { readFloat32LE } from '../../src/frames/binary.js';
import { Rng } from '../../src/linalg/random.js';
import { atOffset, thrown } from './helpers.js';

function randomBatch(rng: Rng, count: number, dims: number, streamId = 'eeg1'): FrameBatch {
  const values = new Float32Array(count * dims);
  for (let i = 0; i < values.length; i++) values[i] = rng.normal() * 100;
  return { streamId, seq: rng.int(1_000_000), t0: rng.uniform() * 1e9, dt: 1 / 250, count, dims, values };
}

/** Bit patterns of a Float32Array, so NaN payloads and −0 compare exactly. */
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('encodeBatch: the documented layout, byte for byte', () => {
  it('writes a tiny batch exactly as the table in binary.ts says (golden bytes written by hand)', () => {
    const batch: FrameBatch = {
      streamId: 'ab', seq: 0x0102030405, t0: 1.5, dt: 0.25, count: 2, dims: 1, values: Float32Array.from([1, -2]),
    };
    const golden = [
      0x43, 0x46, 0x53, 0x42, //       0  magic 'CFSB'
      0x01, //                         4  version 1
      0x00, //                         5  flags
      0x02, //                         6  id length L = 2
      0x00, //                         7  reserved
      0x05, 0x04, 0x03, 0x02, 0x01, 0x00, 0x00, 0x00, // 8  seq uint64 LE = 0x01_0203_0405 (above 2^32)
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x3f, // 16 t0 = 1.5  (float64 0x3FF8000000000000)
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xd0, 0x3f, // 24 dt = 0.25 (float64 0x3FD0000000000000)
      0x02, 0x00, 0x00, 0x00, //       32 count = 2
      0x01, 0x00, 0x00, 0x00, //       36 dims = 1
      0x61, 0x62, //                   40 'a' 'b'
      0x00, 0x00, //                   42 padding to 44 (a multiple of 4)
      0x00, 0x00, 0x80, 0x3f, //       44 1.0f  (0x3F800000)
      0x00, 0x00, 0x00, 0xc0, //       48 -2.0f (0xC0000000)
    ];
    expect(Array.from(encodeBatch(batch))).toEqual(golden);
    expect(decodeBatch(Uint8Array.from(golden))).toEqual(batch);
  });

  it('pads the id so the samples start 4-aligned, for every id length 1…8', () => {
    for (let L = 1; L <= 8; L++) {
      const enc = encodeBatch({ streamId: 'x'.repeat(L), seq: 0, t0: 0, dt: 0, count: 1, dims: 1, values: Float32Array.from([7]) });
      const start = enc.length - 4;
      expect(start % 4, `L = ${L}`).toBe(0);
      expect(start).toBe(BATCH_FIXED_HEADER_BYTES + 4 * Math.ceil(L / 4));
    }
  });
});

describe('binary round trips', () => {
  const rng = new Rng(3);
  const batch = randomBatch(rng, 32, 400);
  const enc = encodeBatch(batch);

  it.each([0, 1, 3, 7])('decodes a 32×400 batch at byte offset %i inside a larger Buffer', (off) => {
    const buf = atOffset(enc, off);
    const out = decodeBatch(buf, 'mqtt cfstream/eeg1/frames');
    expect(out).toEqual(batch);
    expect(out.values.buffer).not.toBe(buf.buffer); // a copy, never a view on mqtt.js's buffer
  });

  it('actually exercised unaligned inputs (Buffer byteOffset not a multiple of 4)', () => {
    const misaligned = [1, 3, 7].map((off) => atOffset(enc, off).byteOffset % 4);
    expect(misaligned.every((r) => r !== 0)).toBe(true);
  });

  it('preserves every float32 bit pattern (NaN payloads, ±0, ±Infinity, subnormals, extremes)', () => {
    const raw = Uint32Array.from([0x7fc00001, 0xffc12345, 0x80000000, 0, 0x7f800000, 0xff800000, 1, 0x807fffff, 0x7f7fffff, 0x3eaaaaab]);
    const values = new Float32Array(raw.buffer);
    // The largest first seq for 5 frames: the last one is 2^53 − 1.
    const b: FrameBatch = { streamId: 'edge', seq: 2 ** 53 - 5, t0: -1e300, dt: 0, count: 5, dims: 2, values };
    for (const off of [0, 1, 3, 7]) {
      const out = decodeBatch(atOffset(encodeBatch(b), off));
      expect(bits(out.values)).toEqual(Array.from(raw));
      expect(out.seq).toBe(2 ** 53 - 5);
      expect(out.t0).toBe(-1e300);
    }
  });

  it('keeps non-ASCII stream ids (UTF-8) up to 255 bytes', () => {
    const id = 'é'.repeat(127) + 'x'; // 255 bytes
    const out = decodeBatch(encodeBatch({ ...batch, streamId: id }));
    expect(out.streamId).toBe(id);
    expect(() => encodeBatch({ ...batch, streamId: id + 'y' })).toThrow(/256 UTF-8 bytes/);
  });

  it('the DataView path (big-endian hosts) decodes the same values at odd offsets', () => {
    for (const off of [0, 1, 3, 7]) {
      const buf = atOffset(enc, off);
      const start = enc.length - 4 * batch.values.length;
      const slow = readFloat32LE(buf, start, batch.values.length, true);
      const fast = readFloat32LE(buf, start, batch.values.length, false);
      expect(slow).toEqual(batch.values);
      expect(fast).toEqual(batch.values);
    }
  });

  it('encodes from a Float32Array that is itself a view at an offset', () => {
    const big = new Float32Array(10).map((_, i) => i + 0.5);
    const b: FrameBatch = { streamId: 's', seq: 1, t0: 0, dt: 1, count: 2, dims: 2, values: big.subarray(3, 7) };
    expect(Array.from(decodeBatch(encodeBatch(b)).values)).toEqual([3.5, 4.5, 5.5, 6.5]);
  });

  it('decodes 32×400 batches quickly (a single pass; loose bound)', () => {
    const bufs = [1, 3, 5, 7].map((off) => atOffset(enc, off));
    const reps = 400;
    const t = performance.now();
    for (let i = 0; i < reps; i++) decodeBatch(bufs[i % 4]!);
    const ms = performance.now() - t;
    expect(ms / reps, `ms per 32×400 decode`).toBeLessThan(2);
  });
});

describe('decodeBatch: every field is checked against the buffer', () => {
  const good = encodeBatch({ streamId: 'abc', seq: 9, t0: 2, dt: 0.5, count: 3, dims: 2, values: Float32Array.from([1, 2, 3, 4, 5, 6]) });
  const mutate = (fn: (b: Uint8Array, v: DataView) => void): Uint8Array => {
    const b = good.slice();
    fn(b, new DataView(b.buffer));
    return b;
  };
  const cases: [string, Uint8Array, number, string][] = [
    ['empty input', new Uint8Array(0), 0, 'truncated header: message is 0 bytes'],
    ['short garbage', Uint8Array.from([1, 2, 3]), 0, 'bad magic 01 02 03'],
    ['header cut at 20 bytes', good.subarray(0, 20), 20, 'truncated header: message is 20 bytes, the fixed header needs 40'],
    ['wrong magic', mutate((b) => { b[3] = 0x41; }), 3, "bad magic 43 46 53 41, expected 43 46 53 42 ('CFSB')"],
    ['unsupported version', mutate((b) => { b[4] = 2; }), 4, 'unsupported version 2 (this decoder reads version 1)'],
    ['unknown flags', mutate((b) => { b[5] = 0x80; }), 5, 'unknown flags 0x80'],
    ['empty id', mutate((b) => { b[6] = 0; }), 6, 'stream id length is 0'],
    ['reserved byte set', mutate((b) => { b[7] = 1; }), 7, 'reserved byte is 1'],
    ['seq above 2^53 − 1', mutate((_, v) => v.setUint32(12, 0x200000, true)), 8, 'seq exceeds 2^53 − 1'],
    ['t0 NaN', mutate((_, v) => v.setFloat64(16, NaN, true)), 16, 't0 is NaN'],
    ['dt negative', mutate((_, v) => v.setFloat64(24, -0.5, true)), 24, 'dt is -0.5'],
    ['dt infinite', mutate((_, v) => v.setFloat64(24, Infinity, true)), 24, 'dt is Infinity'],
    ['count 0', mutate((_, v) => v.setUint32(32, 0, true)), 32, 'count is 0'],
    ['frames past seq 2^53 − 1', mutate((_, v) => { v.setUint32(8, 0xfffffffe, true); v.setUint32(12, 0x1fffff, true); }), 8, 'seq 9007199254740990 + 2 (the last of 3 frames) runs past 2^53 − 1'],
    ['last frame time overflowing', mutate((_, v) => { v.setFloat64(16, 1e308, true); v.setFloat64(24, 1e308, true); }), 24, 't0 + 2·dt = 1e+308 + 2·1e+308 is Infinity (the last of 3 frames)'],
    ['dims 0', mutate((_, v) => v.setUint32(36, 0, true)), 36, 'dims is 0'],
    ['absurd count × dims', mutate((_, v) => { v.setUint32(32, 0xffffffff, true); v.setUint32(36, 0xffffffff, true); }), 32, `exceeds the limit of ${MAX_BATCH_VALUES} values`],
    ['id longer than the message', mutate((b) => { b[6] = 255; }), 68, 'truncated stream id: header says 255 id bytes plus 1 padding, message ends at 68'],
    ['cut inside the id', good.subarray(0, 41), 41, 'truncated stream id'],
    ['invalid UTF-8 id', mutate((b) => { b[40] = 0xff; }), 40, 'stream id is not valid UTF-8'],
    ['non-zero padding', mutate((b) => { b[43] = 9; }), 43, 'padding byte is 9'],
    ['samples cut short', good.subarray(0, good.length - 1), good.length - 1, 'truncated samples: count × dims = 3 × 2 needs 24 bytes from byte 44, only 23 remain'],
    ['count larger than the samples', mutate((_, v) => v.setUint32(32, 4, true)), 68, 'needs 32 bytes'],
    ['trailing bytes', Uint8Array.from([...good, 0, 0]), good.length, '2 trailing bytes after the samples'],
  ];
  it.each(cases)('%s', (_name, bytes, offset, fragment) => {
    const e = thrown(() => decodeBatch(bytes, 'mqtt cfstream/abc/frames'));
    expect(e).toBeInstanceOf(DataError);
    expect(e).toBeInstanceOf(FrameDecodeError);
    expect(e.message).toContain(fragment);
    expect(e.message.startsWith(`mqtt cfstream/abc/frames: byte ${offset}: `)).toBe(true);
    expect((e as FrameDecodeError).byteOffset).toBe(offset);
  });

  it('names the batch seq once the header got that far', () => {
    const e = thrown(() => decodeBatch(good.subarray(0, good.length - 4))) as FrameDecodeError;
    expect(e.seq).toBe(9);
    expect(e.message).toContain('(batch seq 9)');
  });

  it('refuses a non-Uint8Array input', () => {
    expect(() => decodeBatch('CFSB' as unknown as Uint8Array)).toThrow(/expected a Uint8Array or Buffer/);
  });

  it('decodes the good message used above (the mutations really are the only difference)', () => {
    expect(decodeBatch(good).values).toEqual(Float32Array.from([1, 2, 3, 4, 5, 6]));
  });

  it('accepts a batch whose last frame is exactly seq 2^53 − 1, or has a huge but finite t', () => {
    const edge = { streamId: 'abc', count: 3, dims: 1, values: Float32Array.from([1, 2, 3]) };
    for (const b of [{ ...edge, seq: 2 ** 53 - 3, t0: 0, dt: 1 }, { ...edge, seq: 0, t0: 1e308, dt: 3e307 }]) {
      const frames = batchToFrames(decodeBatch(encodeBatch(b)));
      expect(frames[2]!.seq).toBe(b.seq + 2);
      expect(Number.isFinite(frames[2]!.t)).toBe(true);
    }
  });
});

describe('encodeBatch refuses malformed batches', () => {
  const ok: FrameBatch = { streamId: 's', seq: 0, t0: 0, dt: 0.1, count: 2, dims: 2, values: new Float32Array(4) };
  const cases: [string, Partial<FrameBatch> | Record<string, unknown>, RegExp][] = [
    ['empty id', { streamId: '' }, /streamId must be a non-empty string/],
    ['negative seq', { seq: -1 }, /seq must be an integer/],
    ['seq beyond 2^53', { seq: 2 ** 53 }, /seq must be an integer/],
    ['frames past seq 2^53 − 1', { seq: 2 ** 53 - 1 }, /seq 9007199254740991 \+ 1 \(the last of 2 frames\) runs past 2\^53 − 1/],
    ['last frame time overflowing', { t0: 1.7e308, dt: 1e308 }, /t0 \+ 1·dt = .* is Infinity/],
    ['t0 NaN', { t0: NaN }, /t0 must be a finite number/],
    ['dt negative', { dt: -1 }, /dt must be a finite number ≥ 0/],
    ['count 0', { count: 0, values: new Float32Array(0) }, /count must be an integer/],
    ['dims fractional', { dims: 1.5 }, /dims must be an integer/],
    ['Float64Array values', { values: new Float64Array(4) }, /values must be a Float32Array/],
    ['too many values', { count: 4097, dims: 4096, values: new Float32Array(0) }, /exceeds the limit/],
  ];
  it.each(cases)('%s', (_name, patch, re) => {
    expect(() => encodeBatch({ ...ok, ...patch } as FrameBatch)).toThrow(re);
  });

  it('wrong values length is a ShapeMismatchError', () => {
    expect(() => encodeBatch({ ...ok, values: new Float32Array(5) })).toThrow(ShapeMismatchError);
  });
});

describe('batchToFrames / framesToBatch', () => {
  const frames: Frame[] = [0, 1, 2, 3].map((i) => ({ seq: 40 + i, t: 100 + i * 0.004, values: Float32Array.from([i, -i, i / 2]) }));

  it('round-trips frames → batch → bytes → batch → frames', () => {
    const batch = framesToBatch('eeg1', frames);
    expect(batch).toMatchObject({ streamId: 'eeg1', seq: 40, t0: 100, count: 4, dims: 3 });
    expect(batch.dt).toBeCloseTo(0.004, 12);
    const back = batchToFrames(decodeBatch(atOffset(encodeBatch(batch), 3)));
    expect(back.map((f) => f.seq)).toEqual([40, 41, 42, 43]);
    back.forEach((f, i) => {
      expect(f.t).toBeCloseTo(frames[i]!.t, 9);
      expect(f.values).toEqual(frames[i]!.values);
    });
  });

  it('frames are views on the batch values (documented: no copy)', () => {
    const b = framesToBatch('s', frames);
    const out = batchToFrames(b);
    expect(out[2]!.values.buffer).toBe(b.values.buffer);
    expect(out[2]!.values.byteOffset).toBe(2 * 3 * 4);
  });

  it('one frame gives dt 0, or the dt passed in', () => {
    expect(framesToBatch('s', frames.slice(0, 1)).dt).toBe(0);
    expect(framesToBatch('s', frames.slice(0, 1), 0.004).dt).toBe(0.004);
  });

  it('rounds Float64Array values to float32', () => {
    const b = framesToBatch('s', [{ seq: 0, t: 0, values: Float64Array.from([0.1, 1 / 3]) }]);
    expect(Array.from(b.values)).toEqual([Math.fround(0.1), Math.fround(1 / 3)]);
  });

  it('accepts epoch-scale time stamps built as t0 + i/rate', () => {
    const t0 = 1_735_000_000.123;
    const fs = Array.from({ length: 32 }, (_, i) => ({ seq: i, t: t0 + i / 250, values: new Float32Array(2) }));
    expect(framesToBatch('s', fs).dt).toBeCloseTo(1 / 250, 7); // inferred from epoch-scale t: ~1e-9 s rounding
  });

  it('refuses empty input, a seq gap, uneven times, a given dt that does not fit, and ragged lengths', () => {
    expect(() => framesToBatch('s', [])).toThrow(/at least one frame/);
    const gap = [frames[0]!, frames[1]!, { ...frames[2]!, seq: 43 }];
    expect(() => framesToBatch('s', gap)).toThrow('frames[2] has seq 43, expected 42: a batch holds consecutive frames, split at gaps');
    const uneven = [frames[0]!, { ...frames[1]!, t: 100.001 }, frames[2]!];
    expect(() => framesToBatch('s', uneven)).toThrow(/frames\[1\] has t = 100.001, expected t0 \+ 1·dt = 100.00(4|39+\d*) .*not uniformly spaced/);
    expect(() => framesToBatch('s', frames, 0.005)).toThrow(/frames\[1\].*not uniformly spaced/);
    const ragged = [frames[0]!, { ...frames[1]!, values: new Float32Array(2) }];
    expect(() => framesToBatch('s', ragged)).toThrow(ShapeMismatchError);
  });

  it('batchToFrames refuses a batch whose values do not match count × dims', () => {
    expect(() => batchToFrames({ streamId: 's', seq: 0, t0: 0, dt: 1, count: 2, dims: 3, values: new Float32Array(5) })).toThrow(ShapeMismatchError);
  });
});
