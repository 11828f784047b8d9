import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../../src/errors.js';
import { GapDetector } from '../../../src/frames/index.js';
import { Rng } from '../../../src/linalg/random.js';
import {
  CYTON_PACKET_BYTES, cytonMicrovoltsPerCount, encodeCytonPacket,
} from '../../../devices/serial/cytonPacket.js';
import { CytonParser, type CytonReject, type CytonRejectReason, type CytonSample } from '../../../devices/serial/cytonParser.js';

/** A copy of what the parser emitted (it reuses its sample object). */
interface Got {
  index: number;
  counter: number;
  restart: boolean;
  footer: number;
  counts: number[];
  uv: number[];
  accel: number[];
  aux: number[];
  boardTime: number;
  stamp: number;
}

function copy(s: CytonSample): Got {
  return {
    index: s.index, counter: s.counter, restart: s.restart, footer: s.footer, counts: [...s.counts], uv: [...s.microvolts],
    accel: [...s.accel], aux: [...s.aux], boardTime: s.boardTime, stamp: s.stamp,
  };
}

/** Runs a parser over `chunks` (then flush) and returns the samples, rejects and stats. */
function parse(chunks: Uint8Array[], options: { daisy?: boolean; gain?: number | number[]; flush?: boolean } = {}) {
  const samples: Got[] = [];
  const rejects: CytonReject[] = [];
  const parser = new CytonParser({ ...options, onSample: (s) => samples.push(copy(s)), onReject: (r) => rejects.push(r) });
  chunks.forEach((c, i) => parser.push(c, i));
  if (options.flush !== false) parser.flush();
  const byReason = (r: CytonRejectReason) => rejects.filter((x) => x.reason === r).reduce((a, x) => a + x.count, 0);
  return { samples, rejects, byReason, stats: parser.stats() };
}

/** Deterministic counts for packet k, channel c: spread over the whole 24-bit range, both signs. */
function countsOf(k: number, seed = 0): number[] {
  const rng = new Rng(seed * 100003 + k);
  return Array.from({ length: 8 }, (_, c) => (c === 0 ? k : rng.int(1 << 24) - (1 << 23)));
}

/** Packets k = from … to−1 (counter k mod 256), `skip` ones left out, one Uint8Array. */
function stream(from: number, to: number, opts: { skip?: Set<number>; seed?: number; counts?: (k: number) => number[]; aux?: (k: number) => number[] } = {}): Uint8Array {
  const ks: number[] = [];
  for (let k = from; k < to; k++) if (!opts.skip?.has(k)) ks.push(k);
  const out = new Uint8Array(ks.length * CYTON_PACKET_BYTES);
  ks.forEach((k, i) => encodeCytonPacket(out, i * CYTON_PACKET_BYTES, k, (opts.counts ?? ((kk) => countsOf(kk, opts.seed)))(k), opts.aux?.(k) ?? [k, -k, 1000]));
  return out;
}

const SCALE24 = (4.5 / 24 / (2 ** 23 - 1)) * 1e6;

describe('CytonParser: decoding', () => {
  it('decodes a hand-written packet exactly: 24-bit big-endian two\'s complement, accel, footer', () => {
    // prettier-ignore
    const bytes = Uint8Array.from([
      0xa0, 0x07,
      0x00, 0x00, 0x01, //  1
      0xff, 0xff, 0xff, // −1
      0x7f, 0xff, 0xff, //  8388607
      0x80, 0x00, 0x00, // −8388608
      0x12, 0x34, 0x56, //  1193046
      0xfe, 0xdc, 0xba, // −74566
      0x00, 0x00, 0x00, //  0
      0x80, 0x00, 0x01, // −8388607
      0x7f, 0xff, 0x80, 0x00, 0xff, 0xfe, // accel 32767, −32768, −2
      0xc0,
    ]);
    const { samples, rejects } = parse([bytes]);
    expect(rejects).toEqual([]);
    expect(samples).toHaveLength(1);
    const s = samples[0]!;
    expect(s.counter).toBe(7);
    expect(s.index).toBe(7);
    expect(s.counts).toEqual([1, -1, 8388607, -8388608, 1193046, -74566, 0, -8388607]);
    expect(s.uv).toEqual(s.counts.map((c) => c * SCALE24));
    expect(s.uv[0]).toBeCloseTo(0.022351744, 8); // the documented 0.02235 µV per count at gain 24
    expect(s.uv[2]).toBeCloseTo(187500, 6); // full scale: 4.5 V / 24
    expect(s.uv[3]).toBeCloseTo(-187500.0223517, 5);
    expect(s.accel).toEqual([32767 * 0.000125, -32768 * 0.000125, -2 * 0.000125]);
    expect(s.footer).toBe(0xc0);
    expect(s.boardTime).toBeNaN();
    expect(s.aux).toEqual([0x7f, 0xff, 0x80, 0x00, 0xff, 0xfe]);
  });

  it('reads the board time of footers 0xC3–0xC6 and has no accel outside 0xC0', () => {
    const b = new Uint8Array(33 * 3);
    encodeCytonPacket(b, 0, 1, [0, 0, 0, 0, 0, 0, 0, 0], [0x58, 0x12, 0xde, 0xad, 0xbe, 0xef], 0xc4);
    encodeCytonPacket(b, 33, 2, [0, 0, 0, 0, 0, 0, 0, 0], [1, 2, 3, 4, 5, 6], 0xc1);
    encodeCytonPacket(b, 66, 3, [0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 1], 0xc6);
    const { samples } = parse([b]);
    expect(samples.map((s) => s.boardTime)).toEqual([0xdeadbeef, NaN, 1]);
    for (const s of samples) expect(s.accel.every(Number.isNaN)).toBe(true);
  });

  it('scales each channel by its own gain', () => {
    const gains = [1, 2, 4, 6, 8, 12, 24, 24];
    const counts = [1000, -1000, 8388607, -8388608, 1, -1, 123456, 0];
    const b = new Uint8Array(33);
    encodeCytonPacket(b, 0, 0, counts, [0, 0, 0]);
    const { samples } = parse([b], { gain: gains });
    expect(samples[0]!.uv).toEqual(counts.map((c, i) => c * ((4.5 / gains[i]! / 8388607) * 1e6)));
    expect(samples[0]!.uv[0]).toBeCloseTo(536.441867, 5); // 1000 counts at gain 1
    expect(cytonMicrovoltsPerCount(24)).toBe(SCALE24);
  });

  it('refuses bad gains naming the entry', () => {
    const onSample = () => {};
    expect(() => new CytonParser({ onSample, gain: 3 })).toThrow(InvalidOptionError);
    expect(() => new CytonParser({ onSample, gain: 3 })).toThrow(/option 'gain' must be one of 1, 2, 4, 6, 8, 12, 24; got 3/);
    expect(() => new CytonParser({ onSample, gain: [24, 24, 24, 24, 24, 24, 24, 5] })).toThrow(/option 'gain\[7\]'/);
    expect(() => new CytonParser({ onSample, gain: [24, 24] })).toThrow(/array of 8/);
    expect(() => new CytonParser({ onSample, daisy: true, gain: new Array(8).fill(24) })).toThrow(/array of 16/);
  });

  it('gives the same samples for every chunking: whole, each split point, byte by byte', () => {
    const bytes = stream(0, 6);
    const whole = parse([bytes]).samples;
    expect(whole.map((s) => s.counter)).toEqual([0, 1, 2, 3, 4, 5]);
    for (let cut = 1; cut < bytes.length; cut++) {
      const got = parse([bytes.subarray(0, cut), bytes.subarray(cut)]).samples;
      expect(got.map((s) => [s.index, ...s.counts]), `cut at ${cut}`).toEqual(whole.map((s) => [s.index, ...s.counts]));
    }
    const bytewise = parse(Array.from(bytes, (b) => Uint8Array.of(b))).samples;
    expect(bytewise.map((s) => s.uv)).toEqual(whole.map((s) => s.uv));
  });

  it('stamps each sample with the stamp of the push that framed it', () => {
    const bytes = stream(0, 4);
    const { samples } = parse([bytes.subarray(0, 70), bytes.subarray(70, 100), bytes.subarray(100)]);
    // Packet 0 is confirmed by packet 1 (complete at byte 66, chunk 0); 2 ends at 99 (chunk 1), 3 in chunk 2.
    expect(samples.map((s) => s.stamp)).toEqual([0, 0, 1, 2]);
  });
});

describe('CytonParser: resynchronisation', () => {
  const N = 7;
  /** Adversarial data: channel bytes full of header and footer values. */
  const nasty = (k: number) => Array.from({ length: 8 }, (_, c) => ((k + c) % 3 === 0 ? 0xa0c0a0 : (k * 7 + c) % 3 === 1 ? -0x3f5f40 : 0xc0a0c3 - (1 << 24)));
  const nastyAux = (k: number) => [0xa0c0 - 65536, 0xc3a0 - 65536, k];

  for (const [name, opts] of [['sine-like data', {}], ['data full of 0xA0 and 0xC0–0xC6 bytes', { counts: nasty, aux: nastyAux }]] as const) {
    const clean = stream(0, N, opts);
    const want = parse([clean]).samples;

    /** Checks that a fault in packet `hit` cost at most that packet, and every other sample is exact. */
    const check = (bytes: Uint8Array, hit: number, label: string) => {
      const r = parse([bytes]);
      const others = r.samples.filter((s) => s.index !== hit);
      expect(others.map((s) => s.index), label).toEqual(want.filter((s) => s.index !== hit).map((s) => s.index));
      for (const s of others) expect(s, label).toEqual({ ...want[s.index]!, stamp: 0 });
      expect(r.samples.length, label).toBeGreaterThanOrEqual(N - 1);
      // Byte accounting: every byte is in a framed packet, skipped, or still buffered.
      expect(r.stats.bytes, label).toBe(r.stats.packets * 33 + r.stats.rejects['bytes-skipped'] + r.stats.buffered);
      return r;
    };

    it(`a deleted byte at any position costs only the packet it hit (${name})`, () => {
      let rejected = 0;
      for (let pos = 0; pos < clean.length; pos++) {
        const bytes = new Uint8Array(clean.length - 1);
        bytes.set(clean.subarray(0, pos));
        bytes.set(clean.subarray(pos + 1), pos);
        const r = check(bytes, Math.floor(pos / 33), `delete byte ${pos}`);
        if (r.samples.length === N - 1) rejected++;
      }
      expect(rejected).toBe(clean.length); // a packet one byte short is never taken
    });

    it(`a corrupted byte (any position, many wrong values) costs at most the packet it hit (${name})`, () => {
      let dropped = 0;
      // Every bit flip, all bits, and every value that is a framing byte, at every position;
      // every one of the 255 wrong values at the header, counter and footer of packets 0, 1, 3, 6.
      const some = [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff];
      const framing = [0xa0, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0x00];
      const all = Array.from({ length: 255 }, (_, i) => i + 1);
      const critical = new Set([0, 1, 32, 33, 34, 65, 99, 100, 131, 198, 199, 230]);
      for (let pos = 0; pos < clean.length; pos++) {
        const masks = critical.has(pos) ? all : [...some, ...framing.map((v) => v ^ clean[pos]!).filter((m) => m !== 0)];
        for (const mask of masks) {
          const bytes = clean.slice();
          bytes[pos] = bytes[pos]! ^ mask;
          const r = check(bytes, Math.floor(pos / 33), `byte ${pos} ^ 0x${mask.toString(16)}`);
          if (r.samples.length < N) dropped++;
          const off = pos % 33;
          if (off === 0 || off === 1 || (off === 32 && ((clean[pos]! ^ mask) < 0xc0 || (clean[pos]! ^ mask) > 0xc6))) {
            expect(r.samples.map((s) => s.index), `byte ${pos} ^ ${mask}: header, counter and footer faults are detected`).not.toContain(Math.floor(pos / 33));
          }
        }
      }
      expect(dropped).toBeGreaterThan(0);
    });

    it(`an inserted byte costs at most the packet it hit (${name})`, () => {
      for (let pos = 1; pos < clean.length; pos++) {
        for (const extra of [0xa0, 0xc0, 0x00]) {
          const bytes = new Uint8Array(clean.length + 1);
          bytes.set(clean.subarray(0, pos));
          bytes[pos] = extra;
          bytes.set(clean.subarray(pos), pos + 1);
          // A byte inserted between two packets hits either of them.
          const hits = pos % 33 === 0 ? [pos / 33 - 1, pos / 33] : [Math.floor(pos / 33)];
          const r = parse([bytes]);
          const label = `insert 0x${extra.toString(16)} at ${pos}`;
          for (const s of r.samples) expect(s.counts, label).toEqual(want[s.index]!.counts);
          const lost = want.filter((w) => !r.samples.some((s) => s.index === w.index) && !hits.includes(w.index)).map((w) => w.index);
          // Known limit: at the very start (nothing framed yet) data this hostile can fake a
          // packet inside packet 0 when packet 1 is one byte long, costing packets 0 and 2 too.
          const allowed = 'counts' in opts && pos > 33 && pos < 66 ? [0, 2] : [];
          expect(lost.filter((k) => !allowed.includes(k)), label).toEqual([]);
        }
      }
    });
  }

  it('resyncing, a fake packet inside the damaged one loses to the real packet that starts inside it', () => {
    // Packet 2's footer is damaged. Its data and packet 3's hold a fake candidate at byte 80
    // (0xA0, counter 80, a footer at 112) whose fake successor at 113 (0xA0, footer at 145) steps
    // the counter by `step`: with step 5 that was enough to be taken (packets lost after it?),
    // with step 1 it even looked confirmed. Packet 3 at byte 99 overlaps it and fits packet 1 by
    // counter and distance, so it wins; before, packets 3 and 4 were lost besides packet 2.
    for (const step of [5, 1]) {
      const bytes = stream(0, 7);
      bytes.set([0xa0, 80], 2 * 33 + 14);
      bytes[3 * 33 + 13] = 0xc0;
      bytes.set([0xa0, 80 + step], 3 * 33 + 14);
      bytes[4 * 33 + 13] = 0xc1;
      const want = parse([bytes]).samples;
      expect(want.map((s) => s.index), 'the data bytes alone do not disturb framing').toEqual([0, 1, 2, 3, 4, 5, 6]);
      bytes[2 * 33 + 32] = 0x00;
      for (const chunks of [[bytes], Array.from(bytes, (b) => Uint8Array.of(b))]) {
        const r = parse(chunks);
        expect(r.samples.map((s) => s.index), `step ${step}, ${chunks.length} chunks`).toEqual([0, 1, 3, 4, 5, 6]);
        for (const s of r.samples) expect(s.counts).toEqual(want[s.index]!.counts);
        expect(r.byReason('bytes-skipped')).toBe(33);
        expect(r.byReason('counter-outlier')).toBe(0);
      }
    }
  });

  it('reports rejects with reasons: bad footer, bad header, skipped bytes', () => {
    const bytes = stream(0, 5);
    const bad = bytes.slice();
    bad[2 * 33 + 32] = 0x00; // footer of packet 2
    let r = parse([bad]);
    expect(r.samples.map((s) => s.index)).toEqual([0, 1, 3, 4]);
    expect(r.byReason('bad-footer')).toBe(1);
    expect(r.byReason('bytes-skipped')).toBe(33);
    const hdr = bytes.slice();
    hdr[3 * 33] = 0x00;
    r = parse([hdr]);
    expect(r.samples.map((s) => s.index)).toEqual([0, 1, 2, 4]);
    expect(r.byReason('bad-header')).toBe(1);
    expect(r.byReason('bytes-skipped')).toBe(33);
    expect(r.rejects.find((x) => x.reason === 'bad-header')!.message).toMatch(/expected a packet header 0xA0, got 0x00/);
  });

  it('skips text and noise between packets (a banner before the stream, garbage mid-stream)', () => {
    const banner = new TextEncoder().encode('OpenBCI V3 8-16 channel\nFirmware: v3.1.2\n$$$');
    const a = stream(0, 3), b = stream(3, 6);
    const noise = Uint8Array.from([0xa0, 0x01, 0xc0, 0xa0, 0xa0, 0xc3, 0x55]);
    const r = parse([banner, a, noise, b]);
    expect(r.samples.map((s) => s.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(r.byReason('bytes-skipped')).toBe(banner.length + noise.length);
  });

  it('never throws on noise and accounts for every byte', () => {
    const rng = new Rng(11);
    const chunks: Uint8Array[] = [];
    let total = 0;
    while (total < 300_000) {
      const n = 1 + rng.int(700);
      const c = new Uint8Array(n);
      // Bias towards the framing bytes so candidates are frequent.
      for (let i = 0; i < n; i++) { const u = rng.int(16); c[i] = u === 0 ? 0xa0 : u === 1 ? 0xc0 + rng.int(7) : rng.int(256); }
      chunks.push(c);
      total += n;
    }
    const r = parse(chunks);
    expect(r.stats.bytes).toBe(total);
    expect(r.stats.buffered).toBe(0);
    expect(r.stats.bytes).toBe(r.stats.packets * 33 + r.stats.rejects['bytes-skipped']);
    // Even with 0xA0 and a footer each in 1 of 16 bytes, fakes are rare: one needs 3 framing bytes and a counter step to line up.
    expect(r.stats.packets).toBeLessThan(total / 33 / 500);
    expect(r.rejects.every((x) => x.count >= 1 && typeof x.message === 'string')).toBe(true);
    // Uniform noise: no fake packet at all in 300 kB.
    const uniform = parse([Uint8Array.from({ length: 300_000 }, () => rng.int(256))]);
    expect(uniform.stats.packets).toBe(0);
    expect(uniform.byReason('bytes-skipped')).toBe(300_000);
  });

  it('recovers a clean stream after noise, losing nothing after the first confirmed packet', () => {
    const rng = new Rng(5);
    const noise = Uint8Array.from({ length: 5000 }, () => rng.int(256));
    const r = parse([noise, stream(0, 50)]);
    expect(r.samples.map((s) => s.counter)).toEqual(Array.from({ length: 50 }, (_, k) => k));
  });
});

describe('CytonParser: counter', () => {
  const counters = (cs: number[]) => {
    const out = new Uint8Array(cs.length * 33);
    cs.forEach((c, i) => encodeCytonPacket(out, i * 33, c, countsOf(c), [0, 0, 0]));
    return out;
  };

  it('unwraps the 8-bit counter across 255 → 0, and GapDetector(256) sees no gap', () => {
    const cs = Array.from({ length: 600 }, (_, i) => (i + 250) % 256);
    const { samples } = parse([counters(cs)]);
    expect(samples.map((s) => s.index)).toEqual(cs.map((_, i) => 250 + i));
    const gaps = new GapDetector({ modulo: 256 });
    for (const s of samples) gaps.observe(s.counter);
    expect(gaps.totals()).toMatchObject({ gaps: 0, lost: 0 });
  });

  it('keeps gaps (dropped packets) in the index, across the wrap, exactly', () => {
    const kept = [250, 251, 253, 254, 2, 3, 100, 101];
    const { samples } = parse([counters(kept)]);
    expect(samples.map((s) => s.index)).toEqual([250, 251, 253, 254, 258, 259, 356, 357]);
    const gaps = new GapDetector({ modulo: 256 });
    for (const s of samples) gaps.observe(s.counter);
    expect(gaps.totals()).toMatchObject({ gaps: 3, lost: 1 + 3 + 96 });
  });

  it('drops a packet whose counter byte is corrupt, counting it as one lost sample', () => {
    const r = parse([counters([10, 11, 200, 13, 14])]);
    expect(r.samples.map((s) => s.index)).toEqual([10, 11, 13, 14]);
    expect(r.byReason('counter-outlier')).toBe(1);
    // Also at the very first packet: it has no predecessor, so its successor must vouch for it.
    const first = parse([counters([77, 1, 2, 3])]);
    expect(first.samples.map((s) => s.index)).toEqual([1, 2, 3]);
  });

  it('drops a repeated packet and reads a confirmed step back as a counter restart', () => {
    const dup = parse([counters([10, 11, 11, 12])]);
    expect(dup.samples.map((s) => [s.index, s.restart])).toEqual([[10, false], [11, false], [12, false]]);
    const restart = parse([counters([100, 101, 102, 0, 1, 2])]);
    expect(restart.samples.map((s) => [s.index, s.counter, s.restart])).toEqual([
      [100, 100, false], [101, 101, false], [102, 102, false], [256, 0, true], [257, 1, false], [258, 2, false],
    ]);
  });
});

describe('CytonParser: Daisy', () => {
  /** Board packets k = 0 … n−1 (counter k mod 256): odd k carry channels 1–8 of pair (k−1)/2, even k ≥ 2 channels 9–16 of pair k/2 − 1. */
  const daisyCounts = (k: number) => {
    const pair = k % 2 === 1 ? (k - 1) / 2 : k / 2 - 1;
    const half = k % 2 === 1 ? 0 : 8;
    return Array.from({ length: 8 }, (_, c) => (pair + 1) * 1000 * (c + half + 1) * (c % 2 ? -1 : 1));
  };
  const daisyStream = (n: number, skip = new Set<number>()) => stream(0, n, { skip, counts: daisyCounts, aux: (k) => [k, k % 2 ? 1 : 2, 3] });

  it('merges each odd packet with the next even one into 16 channels at half the rate', () => {
    const r = parse([daisyStream(11)], { daisy: true });
    // Packet 0 (even, no odd before it) is the board's invalid first packet.
    expect(r.byReason('daisy-unpaired')).toBe(1);
    expect(r.samples).toHaveLength(5);
    r.samples.forEach((s, j) => {
      expect(s.counter).toBe(j + 1); // even counter / 2
      expect(s.index).toBe(j + 1);
      expect(s.counts).toEqual(Array.from({ length: 16 }, (_, c) => (j + 1) * 1000 * (c + 1) * (c % 2 ? -1 : 1)));
      expect(s.uv).toEqual(s.counts.map((c) => c * SCALE24));
      expect(s.accel).toEqual([(2 * j + 1) * 0.000125, 0.000125, 3 * 0.000125]); // the odd packet's
      expect(s.aux.slice(6)).toEqual([0, 2 * j + 2, 0, 2, 0, 3]);
    });
  });

  it('drops the partner of a lost packet and counts the pair as one gap (GapDetector mod 128)', () => {
    const lostPackets = new Set([5, 12, 13]); // pair 2 (5,6), pair 5 (11,12) and pair 6 (13,14)
    const r = parse([daisyStream(21, lostPackets)], { daisy: true });
    expect(r.samples.map((s) => s.index)).toEqual([1, 2, 4, 5, 8, 9, 10]);
    expect(r.byReason('daisy-unpaired')).toBe(1 + 3); // packet 0, then 6, 11, 14
    const gaps = new GapDetector({ modulo: 128 });
    for (const s of r.samples) gaps.observe(s.counter);
    expect(gaps.totals()).toMatchObject({ gaps: 2, lost: 3 });
  });

  it('wraps the pair counter 127 → 0 with the 8-bit counter', () => {
    const r = parse([stream(250, 263, { counts: () => [1, 2, 3, 4, 5, 6, 7, 8] })], { daisy: true });
    expect(r.samples.map((s) => s.counter)).toEqual([126, 127, 0, 1, 2, 3]);
    expect(r.samples.map((s) => s.index)).toEqual([126, 127, 128, 129, 130, 131]);
  });

  it('a corrupt byte costs at most the pair it hit', () => {
    const clean = daisyStream(13);
    const want = parse([clean], { daisy: true }).samples;
    for (let pos = 33; pos < clean.length; pos++) {
      for (const mask of [0x01, 0x80, 0xff, 0x60]) {
        const bytes = clean.slice();
        bytes[pos] = bytes[pos]! ^ mask;
        const k = Math.floor(pos / 33);
        const pair = Math.ceil(k / 2);
        const got = parse([bytes], { daisy: true }).samples.filter((s) => s.index !== pair);
        expect(got.map((s) => s.index)).toEqual(want.filter((s) => s.index !== pair).map((s) => s.index));
        for (const s of got) expect(s.counts).toEqual(want[s.index - 1]!.counts);
      }
    }
  });
});

describe('CytonParser: flush and reset', () => {
  it('holds the first packet until the second confirms it; flush releases it', () => {
    const samples: number[] = [];
    const p = new CytonParser({ onSample: (s) => samples.push(s.index) });
    p.push(stream(5, 6));
    expect(samples).toEqual([]);
    expect(p.stats().buffered).toBe(33);
    p.flush();
    expect(samples).toEqual([5]);
    p.reset();
    p.push(stream(0, 3));
    p.flush();
    expect(samples).toEqual([5, 0, 1, 2]);
    expect(p.stats()).toMatchObject({ bytes: 33 * 4, packets: 4, samples: 4, buffered: 0 });
  });
});
