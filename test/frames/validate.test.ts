import { describe, expect, it } from 'vitest';
import { DataError, InvalidOptionError } from '../../src/errors.js';
import {
  DEFAULT_FRAME_VALIDATOR_OPTIONS, FrameValidator, REJECT_REASONS, type Frame, type RejectReason,
} from '../../src/frames/index.js';
import { COMPRESSED, RAW4 } from './helpers.js';

const f = (seq: number, t: number, values: number[] = [1, 2, 3, 4]): Frame => ({ seq, t, values: Float32Array.from(values) });

/** Runs frames through a fresh validator and returns 'ok' or the reason per frame. */
function verdicts(v: FrameValidator, frames: Frame[]): string[] {
  return frames.map((fr) => {
    const r = v.check(fr);
    return r.ok ? 'ok' : r.reason;
  });
}

describe('FrameValidator: each rejection reason and its message', () => {
  const cases: [RejectReason, Frame[], string][] = [
    ['length', [f(1, 0, [1, 2, 3])], 'stream eeg1 frame seq 1: expected 4 values, got 3'],
    ['non-finite', [f(17, 0, [1, 2, 3, NaN])], 'stream eeg1 frame seq 17: value 3 is NaN'],
    ['non-finite', [f(17, 0, [Infinity, 2, 3, 4])], 'stream eeg1 frame seq 17: value 0 is Infinity'],
    ['non-finite', [f(17, 0, [1, -Infinity, 3, 4])], 'stream eeg1 frame seq 17: value 1 is -Infinity'],
    ['seq-duplicate', [f(5, 0), f(5, 1)], 'stream eeg1 frame seq 5: duplicate of the last accepted seq'],
    ['seq-backwards', [f(5, 0), f(4, 1)], 'stream eeg1 frame seq 4: seq went backwards from 5'],
    ['t-backwards', [f(5, 2), f(6, 1.5)], 'stream eeg1 frame seq 6: t = 1.5 s is before the last accepted t = 2 s'],
    ['type', [{ seq: -1, t: 0, values: new Float32Array(4) }], 'stream eeg1 frame seq -1: seq must be a non-negative integer; got -1'],
    ['type', [{ seq: 1.5, t: 0, values: new Float32Array(4) }], 'seq must be a non-negative integer; got 1.5'],
    ['type', [{ seq: '3' as unknown as number, t: 0, values: new Float32Array(4) }], 'seq must be a non-negative integer; got "3"'],
    ['type', [{ seq: 3, t: NaN, values: new Float32Array(4) }], 'stream eeg1 frame seq 3: t must be a finite number of seconds; got NaN'],
    ['type', [{ seq: 3, t: 0, values: [1, 2, 3, 4] as unknown as Float32Array }], 'values must be a Float32Array or Float64Array; got an array of length 4'],
    ['type', [null as unknown as Frame], 'stream eeg1 frame seq ?: expected a frame object; got null'],
  ];
  it.each(cases)('%s: %s', (reason, frames, message) => {
    const v = new FrameValidator(RAW4);
    const results = frames.map((fr) => v.check(fr));
    const last = results[results.length - 1]!;
    expect(results.slice(0, -1).every((r) => r.ok)).toBe(true);
    expect(last).toEqual({ ok: false, reason, message: expect.stringContaining(message) });
    expect(v.counts().byReason[reason]).toBe(1);
    expect(v.counts().rejected).toBe(1);
  });

  it('modulo: seq ≥ modulo is a type error; backwards names the distance', () => {
    const v = new FrameValidator(RAW4, { seqModulo: 256 });
    expect(v.check(f(256, 0))).toMatchObject({ ok: false, reason: 'type', message: expect.stringContaining('an integer in [0, 255]') });
    expect(v.check(f(10, 0)).ok).toBe(true);
    expect(v.check(f(250, 1))).toMatchObject({ ok: false, reason: 'seq-backwards', message: expect.stringContaining('(counter mod 256: 16 behind)') });
  });

  it('accepts equal t (host clocks stamp frames of one chunk alike) and forward seq gaps', () => {
    const v = new FrameValidator(RAW4);
    expect(verdicts(v, [f(1, 1), f(2, 1), f(10, 1.5)])).toEqual(['ok', 'ok', 'ok']);
  });

  it('checks compressed frames against projection.d and accepts Float64Array', () => {
    const v = new FrameValidator(COMPRESSED);
    expect(v.length).toBe(8);
    expect(v.check({ seq: 0, t: 0, values: new Float64Array(8) }).ok).toBe(true);
    expect(v.check({ seq: 1, t: 0, values: new Float64Array(40) })).toMatchObject({ reason: 'length', message: expect.stringContaining('expected 8 values, got 40') });
  });
});

describe('FrameValidator: rejects never touch the state', () => {
  it('a good frame after a NaN frame with the same seq is accepted', () => {
    const v = new FrameValidator(RAW4);
    expect(verdicts(v, [f(1, 0), f(2, 1), f(3, 2, [NaN, 0, 0, 0]), f(3, 2), f(4, 3)])).toEqual(['ok', 'ok', 'non-finite', 'ok', 'ok']);
  });

  it('a frame with a far-future seq or t that is rejected does not move the expectations', () => {
    const v = new FrameValidator(RAW4);
    // seq 1000 rejected for length, t 99 rejected for NaN: neither becomes the reference.
    expect(verdicts(v, [f(1, 0), f(1000, 1, [1]), f(2, 99, [NaN, 1, 1, 1]), f(2, 1), f(3, 2)])).toEqual(['ok', 'length', 'non-finite', 'ok', 'ok']);
  });

  it('a rejected backwards frame leaves the newest seq in place (wrap-aware)', () => {
    const v = new FrameValidator(RAW4, { seqModulo: 256 });
    expect(verdicts(v, [f(254, 0), f(255, 1), f(200, 2), f(0, 3), f(1, 4), f(1, 5)])).toEqual(['ok', 'ok', 'seq-backwards', 'ok', 'ok', 'seq-duplicate']);
  });

  it('the pipeline keeps running: a long stream with injected faults keeps every good frame', () => {
    const v = new FrameValidator(RAW4, { seqModulo: 256 });
    const faults: Record<RejectReason, number> = { type: 0, length: 0, 'seq-duplicate': 0, 'seq-backwards': 0, 't-backwards': 0, 'non-finite': 0 };
    let good = 0;
    for (let i = 0; i < 3000; i++) {
      const seq = i % 256;
      const t = i / 250;
      switch (i % 7) { // inject one bad frame before every seventh good one
        case 0: expect(v.check(f(seq, t, [1, NaN, 3, 4])).ok).toBe(false); faults['non-finite']++; break;
        case 1: expect(v.check(f(seq, t, [1, 2])).ok).toBe(false); faults.length++; break;
        case 2: if (i > 0) { expect(v.check(f((i - 1) % 256, t)).ok).toBe(false); faults['seq-duplicate']++; } break;
        case 3: if (i > 5) { expect(v.check(f((i - 5) % 256, t)).ok).toBe(false); faults['seq-backwards']++; } break;
        case 4: if (i > 0) { expect(v.check(f(seq, t - 1)).ok).toBe(false); faults['t-backwards']++; } break;
        default: break;
      }
      expect(v.check(f(seq, t)).ok).toBe(true);
      good++;
    }
    const c = v.counts();
    expect(c.accepted).toBe(good);
    expect(c.byReason).toEqual(faults);
    expect(c.rejected).toBe(Object.values(faults).reduce((a, b) => a + b, 0));
  });
});

describe('FrameValidator: construction, counters, reset', () => {
  it('returns one shared frozen verdict on accept (no allocation per frame)', () => {
    const v = new FrameValidator(RAW4);
    const a = v.check(f(1, 0));
    const b = v.check(f(2, 1));
    expect(a).toBe(b);
    expect(Object.isFrozen(a)).toBe(true);
  });

  it('counts() returns copies, with every reason present', () => {
    const v = new FrameValidator(RAW4);
    const c = v.counts();
    expect(Object.keys(c.byReason).sort()).toEqual([...REJECT_REASONS].sort());
    c.byReason.length = 99;
    c.accepted = 99;
    expect(v.counts()).toEqual({ accepted: 0, rejected: 0, byReason: Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) });
  });

  it('reset() accepts a restarted counter and keeps the counts', () => {
    const v = new FrameValidator(RAW4);
    verdicts(v, [f(100, 10), f(101, 11)]);
    expect(v.check(f(0, 0)).ok).toBe(false);
    v.reset();
    expect(verdicts(v, [f(0, 0), f(1, 1)])).toEqual(['ok', 'ok']);
    expect(v.counts()).toMatchObject({ accepted: 4, rejected: 1 });
  });

  it('validates the StreamInfo and the options when built', () => {
    expect(() => new FrameValidator({ ...RAW4, n: 0 })).toThrow(DataError);
    expect(() => new FrameValidator(RAW4, { seqModulo: 1 })).toThrow(InvalidOptionError);
    expect(() => new FrameValidator(RAW4, { seqModulo: 255.5 })).toThrow(InvalidOptionError);
    expect(() => new FrameValidator(RAW4, { modulo: 256 } as never)).toThrow(/modulo/);
    expect(DEFAULT_FRAME_VALIDATOR_OPTIONS).toEqual({ seqModulo: undefined });
    expect(new FrameValidator(RAW4).seqModulo).toBeUndefined();
  });
});
