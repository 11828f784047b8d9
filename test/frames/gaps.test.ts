import { describe, expect, it } from 'vitest';
import { DataError, InvalidOptionError } from '../../src/errors.js';
import { DEFAULT_GAP_DETECTOR_OPTIONS, GapDetector, seqDelta } from '../../src/frames/index.js';
import { Rng } from '../../src/linalg/random.js';

/** Feeds seqs and returns [kind, lost] per seq. */
function run(d: GapDetector, seqs: number[]): [string, number][] {
  return seqs.map((s) => {
    const o = d.observe(s);
    return [o.kind, o.lost];
  });
}

/**
 * 0..total−1 with a seeded random set of drops (single drops and bursts up to maxBurst), the first
 * and last always kept. Returns the kept seqs and, counted independently, the dropped frames and runs.
 */
function lossyStream(seed: number, total: number, maxBurst: number) {
  const rng = new Rng(seed);
  const dropped = new Uint8Array(total);
  for (let i = 1; i < total - 1; i++) {
    const u = rng.uniform();
    if (u < 0.08) dropped[i] = 1;
    else if (u < 0.085) {
      const len = 1 + rng.int(maxBurst);
      for (let j = i; j < Math.min(i + len, total - 1); j++) dropped[j] = 1;
      i += len;
    }
  }
  const kept: number[] = [];
  let lost = 0;
  let runs = 0;
  for (let i = 0; i < total; i++) {
    if (dropped[i]) {
      lost++;
      if (!dropped[i - 1]) runs++;
    } else kept.push(i);
  }
  return { kept, lost, runs };
}

describe('GapDetector, unbounded counter', () => {
  it('classifies first, consecutive, gap, duplicate and backwards', () => {
    const d = new GapDetector();
    expect(run(d, [5, 6, 9, 9, 7, 10, 20])).toEqual([
      ['first', 0], ['consecutive', 0], ['gap', 2], ['duplicate', 0], ['backwards', 0], ['consecutive', 0], ['gap', 9],
    ]);
    expect(d.totals()).toEqual({ observed: 7, gaps: 2, lost: 11, duplicates: 1, backwards: 1 });
    expect(d.lastSeq).toBe(20);
  });

  it('a gap at the very first frame is not visible (nothing to compare with)', () => {
    const d = new GapDetector();
    expect(d.observe(1000)).toEqual({ kind: 'first', lost: 0 });
    expect(d.totals().lost).toBe(0);
  });

  it('counts lost frames exactly on 10,000 seqs with a seeded random drop set', () => {
    const { kept, lost, runs } = lossyStream(2024, 10_000, 500);
    expect(lost).toBeGreaterThan(500); // the fixture really drops frames
    const d = new GapDetector();
    for (const s of kept) d.observe(s);
    expect(d.totals()).toEqual({ observed: kept.length, gaps: runs, lost, duplicates: 0, backwards: 0 });
    expect(kept.length + lost).toBe(10_000);
  });

  it('reset() makes the next seq "first" and keeps the totals', () => {
    const d = new GapDetector();
    run(d, [1, 2, 5]);
    d.reset();
    expect(d.lastSeq).toBeUndefined();
    expect(d.observe(0).kind).toBe('first');
    expect(d.observe(1).kind).toBe('consecutive');
    expect(d.totals()).toMatchObject({ observed: 5, gaps: 1, lost: 2 });
  });

  it('returns shared verdicts for the common cases (no allocation per frame)', () => {
    const d = new GapDetector();
    d.observe(1);
    const a = d.observe(2);
    const b = d.observe(3);
    expect(a).toBe(b);
    expect(Object.isFrozen(a)).toBe(true);
  });
});

describe('GapDetector, counter modulo 256', () => {
  it('wraps: 254 → 1 is a gap of 2; 255 → 0 is consecutive', () => {
    const d = new GapDetector({ modulo: 256 });
    expect(run(d, [253, 254, 1, 2, 120, 240, 255, 0])).toEqual([
      ['first', 0], ['consecutive', 0], ['gap', 2], ['consecutive', 0], ['gap', 117], ['gap', 119], ['gap', 14], ['consecutive', 0],
    ]);
  });

  it('rule: a step of 0 is a duplicate, a step ≤ 128 forward, a step > 128 backwards (the state stays)', () => {
    const d = new GapDetector({ modulo: 256 });
    expect(run(d, [10, 10, 138, 11])).toEqual([['first', 0], ['duplicate', 0], ['gap', 127], ['backwards', 0]]);
    // 138 stays the newest: 139 is consecutive even after the late 11.
    expect(d.observe(139).kind).toBe('consecutive');
    const e = new GapDetector({ modulo: 256 });
    expect(run(e, [10, 139])).toEqual([['first', 0], ['backwards', 0]]); // step 129 > 128
  });

  it('documents the ambiguity: losses of ≥ m/2 frames are misread', () => {
    const lossOf = (lost: number): [string, number] => {
      const d = new GapDetector({ modulo: 256 });
      d.observe(0);
      const o = d.observe((lost + 1) % 256);
      return [o.kind, o.lost];
    };
    expect(lossOf(127)).toEqual(['gap', 127]); // the largest loss seen exactly
    expect(lossOf(128)).toEqual(['backwards', 0]);
    expect(lossOf(255)).toEqual(['duplicate', 0]);
    expect(lossOf(256)).toEqual(['consecutive', 0]);
    expect(lossOf(300)).toEqual(['gap', 44]);
  });

  it('counts lost frames exactly on 10,000 wrapped seqs with seeded drops (bursts < 128)', () => {
    const { kept, lost, runs } = lossyStream(77, 10_000, 120);
    const d = new GapDetector({ modulo: 256 });
    for (const s of kept) d.observe(s % 256);
    expect(d.totals()).toEqual({ observed: kept.length, gaps: runs, lost, duplicates: 0, backwards: 0 });
  });

  it('rejects seqs outside [0, modulo) and non-integers with a DataError', () => {
    const d = new GapDetector({ modulo: 256 });
    for (const bad of [256, -1, 1.5, NaN, '3' as unknown as number]) expect(() => d.observe(bad)).toThrow(DataError);
    expect(() => new GapDetector().observe(-1)).toThrow(/non-negative integer/);
    expect(d.totals().observed).toBe(0);
  });
});

describe('GapDetector options', () => {
  it('defaults to an unbounded counter, as documented', () => {
    expect(DEFAULT_GAP_DETECTOR_OPTIONS).toEqual({ modulo: undefined });
    expect(new GapDetector().modulo).toBeUndefined();
  });

  it.each([1, 0, -256, 2.5, NaN, '256'])('refuses modulo %j with InvalidOptionError', (m) => {
    expect(() => new GapDetector({ modulo: m as number })).toThrow(InvalidOptionError);
  });

  it('refuses unknown options (a typo must not silently mean "unbounded")', () => {
    expect(() => new GapDetector({ modulus: 256 } as never)).toThrow(/modulus/);
  });
});

describe('seqDelta', () => {
  it('matches a brute-force "nearest representative" rule for every pair mod 16', () => {
    const m = 16;
    for (let a = 0; a < m; a++) {
      for (let b = 0; b < m; b++) {
        // candidates b − a + k·m; pick the one in (−m/2, m/2]
        let want = NaN;
        for (let k = -2; k <= 2; k++) {
          const c = b - a + k * m;
          if (c > -m / 2 && c <= m / 2) want = c;
        }
        expect(seqDelta(a, b, m), `${a} → ${b}`).toBe(want);
      }
    }
    expect(seqDelta(5, 2, undefined)).toBe(-3);
  });
});
