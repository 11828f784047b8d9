/**
 * Bad-input corpus for `CytonParser` (devices/serial/cytonParser.ts): OpenBCI byte streams with
 * random corruption, insertion, deletion, duplication and noise, pushed in arbitrary chunks.
 *
 * Properties:
 * - it never throws, and every byte and every packet is accounted for: after `flush()`,
 *   bytes = 33·packets + bytes-skipped and packets = samples (×2 with the Daisy) +
 *   counter-outlier + daisy-unpaired, and the onReject events add up to `stats().rejects`;
 * - the samples it emits are well-formed (index strictly increasing, counter ≡ index, finite µV);
 * - its documented resync promise: single-byte faults at least three packets apart (not in the
 *   first two or the last two packets) cost the packet they hit and no other, also when the
 *   channel data are full of framing bytes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CYTON_PACKET_BYTES } from '../../devices/serial/cytonPacket.js';
import { CYTON_REJECT_REASONS, CytonParser, type CytonRejectReason, type CytonSample } from '../../devices/serial/cytonParser.js';
import { chunked, concat, expectOnly, runProperty } from './helpers.js';

const BODY = 30; // counter excluded: 24 channel bytes + 6 aux bytes
const FRAMING = [0xa0, 0xc0, 0xc1, 0xc3, 0xc6] as const;

/** A clean stream: packets with consecutive counters from `start`, bodies and footers as given. */
interface CleanStream {
  start: number;
  packets: number;
  bytes: Uint8Array;
}

function buildStream(start: number, packets: number, body: Uint8Array, footers: Uint8Array, hostile: boolean): CleanStream {
  const bytes = new Uint8Array(packets * CYTON_PACKET_BYTES);
  for (let k = 0; k < packets; k++) {
    const o = k * CYTON_PACKET_BYTES;
    bytes[o] = 0xa0;
    bytes[o + 1] = (start + k) & 0xff;
    for (let i = 0; i < BODY; i++) {
      const b = body[(k * BODY + i) % body.length]!;
      // Hostile data: about half the body bytes are header or footer values.
      bytes[o + 2 + i] = hostile && b < 128 ? FRAMING[b % FRAMING.length]! : b;
    }
    bytes[o + 32] = 0xc0 + (footers[k % footers.length]! % 7);
  }
  return { start, packets, bytes };
}

const cleanStream = (maxPackets: number, hostile: fc.Arbitrary<boolean> = fc.boolean()) => fc.record({
  start: fc.integer({ min: 0, max: 255 }),
  packets: fc.integer({ min: 1, max: maxPackets }),
  body: fc.uint8Array({ minLength: 64, maxLength: 64 * BODY }),
  footers: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  hostile,
}).map((r) => buildStream(r.start, r.packets, r.body, r.footers, r.hostile));

/** One damage to a byte stream; positions are taken modulo the current length. */
type Damage =
  | { kind: 'set'; at: number; byte: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; len: number }
  | { kind: 'duplicate'; at: number; len: number }
  | { kind: 'truncate'; keep: number };

const damage: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 3 }), fc.uint8Array({ minLength: 1, maxLength: 120 }), fc.constant(Uint8Array.from([0xa0])), fc.constant(Uint8Array.from([0xc0]))) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 70 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 70 }) }),
  fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }),
);

function applyDamage(bytes: Uint8Array, d: Damage): Uint8Array {
  const n = bytes.length;
  if (n === 0) return d.kind === 'insert' ? d.bytes.slice() : bytes;
  switch (d.kind) {
    case 'set': {
      const out = bytes.slice();
      out[d.at % n] = d.byte;
      return out;
    }
    case 'insert': {
      const at = d.at % (n + 1);
      return concat([bytes.subarray(0, at), d.bytes, bytes.subarray(at)]);
    }
    case 'delete': {
      const at = d.at % n;
      return concat([bytes.subarray(0, at), bytes.subarray(Math.min(n, at + d.len))]);
    }
    case 'duplicate': {
      const at = d.at % n;
      const end = Math.min(n, at + d.len);
      return concat([bytes.subarray(0, end), bytes.subarray(at, end), bytes.subarray(end)]);
    }
    case 'truncate':
      return bytes.subarray(0, d.keep % (n + 1));
  }
}

/** A copy of what matters in an emitted sample. */
interface Got { index: number; counter: number; counts: number[]; uvFinite: boolean; footer: number }

interface Parsed {
  samples: Got[];
  rejectSums: Record<CytonRejectReason, number>;
  stats: ReturnType<CytonParser['stats']>;
}

/** Pushes the chunks (checking the running totals after each), flushes, and returns what came out. */
function parse(chunks: readonly Uint8Array[], daisy: boolean): Parsed {
  const samples: Got[] = [];
  const rejectSums = Object.fromEntries(CYTON_REJECT_REASONS.map((r) => [r, 0])) as Record<CytonRejectReason, number>;
  const parser = new CytonParser({
    daisy,
    onSample: (s: CytonSample) => samples.push({ index: s.index, counter: s.counter, counts: [...s.counts], uvFinite: s.microvolts.every(Number.isFinite), footer: s.footer }),
    onReject: (r) => {
      expect(CYTON_REJECT_REASONS).toContain(r.reason);
      expect(r.count).toBeGreaterThan(0);
      expect(r.message.length).toBeGreaterThan(0);
      rejectSums[r.reason] += r.count;
    },
  });
  let pushed = 0;
  chunks.forEach((c, i) => {
    expectOnly('CytonParser.push', [], () => parser.push(c, i));
    pushed += c.length;
    const st = parser.stats();
    expect(st.bytes).toBe(pushed);
    expect(st.buffered).toBeGreaterThanOrEqual(0);
    // Mid-stream a run of skipped bytes may not be reported yet: the sum can only fall short.
    expect(CYTON_PACKET_BYTES * st.packets + st.rejects['bytes-skipped'] + st.buffered).toBeLessThanOrEqual(pushed);
  });
  expectOnly('CytonParser.flush', [], () => parser.flush());
  return { samples, rejectSums, stats: parser.stats() };
}

function checkAccounting(r: Parsed, bytes: number, daisy: boolean): void {
  const { stats, samples } = r;
  expect(stats.bytes).toBe(bytes);
  expect(stats.buffered).toBe(0);
  expect(stats.rejects).toEqual(r.rejectSums);
  // Every byte: in a framed packet or skipped.
  expect(CYTON_PACKET_BYTES * stats.packets + stats.rejects['bytes-skipped']).toBe(bytes);
  // Every framed packet: in a sample, or rejected with a reason.
  expect((daisy ? 2 : 1) * stats.samples + stats.rejects['counter-outlier'] + stats.rejects['daisy-unpaired']).toBe(stats.packets);
  expect(samples).toHaveLength(stats.samples);
  const mod = daisy ? 128 : 256;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    if (i > 0) expect(s.index).toBeGreaterThan(samples[i - 1]!.index);
    expect(((s.index % mod) + mod) % mod).toBe(s.counter);
    expect(s.counts).toHaveLength(daisy ? 16 : 8);
    expect(s.uvFinite).toBe(true);
    expect(s.footer >= 0xc0 && s.footer <= 0xc6).toBe(true);
  }
}

describe('CytonParser fuzz', () => {
  it('never throws and accounts for every byte and packet (damaged streams, arbitrary chunks, 8 and 16 channels)', () => {
    const arb = fc.record({
      clean: cleanStream(40),
      damages: fc.array(damage, { maxLength: 6 }),
      cuts: fc.array(fc.nat(), { maxLength: 12 }),
      daisy: fc.boolean(),
      prefixNoise: fc.uint8Array({ maxLength: 80 }),
    });
    const seen = Object.fromEntries(CYTON_REJECT_REASONS.map((r) => [r, 0])) as Record<CytonRejectReason, number>;
    runProperty('cyton accounting', 1, 300, arb, ({ clean, damages, cuts, daisy, prefixNoise }) => {
      let bytes = concat([prefixNoise, clean.bytes]);
      for (const d of damages) bytes = applyDamage(bytes, d);
      const r = parse(chunked(bytes, cuts), daisy);
      checkAccounting(r, bytes.length, daisy);
      for (const k of CYTON_REJECT_REASONS) seen[k] += r.stats.rejects[k];
    });
    // The corpus reaches every reject reason.
    for (const k of CYTON_REJECT_REASONS) expect(seen[k], `reason ${k} never occurred`).toBeGreaterThan(0);
  });

  it('never throws on pure noise and on streams of framing bytes only', () => {
    const noise = fc.oneof(
      fc.uint8Array({ maxLength: 600 }),
      fc.array(fc.constantFrom(0xa0, 0xc0, 0xc1, 0xc6, 0x00, 0x01, 0x02), { maxLength: 600 }).map((a) => Uint8Array.from(a)),
    );
    runProperty('cyton noise', 2, 120, fc.record({ bytes: noise, cuts: fc.array(fc.nat(), { maxLength: 8 }), daisy: fc.boolean() }), ({ bytes, cuts, daisy }) => {
      checkAccounting(parse(chunked(bytes, cuts), daisy), bytes.length, daisy);
    });
  });

  it('a single-byte fault costs the packet it hit and no other (faults ≥ 3 packets apart)', () => {
    type Fault = { packet: number; offset: number; kind: 'set' | 'insert' | 'delete'; byte: number };
    const arb = fc.record({
      clean: cleanStream(60, fc.constant(false)).filter((c) => c.packets >= 8),
      faults: fc.array(fc.record({
        packet: fc.nat(), offset: fc.integer({ min: 0, max: CYTON_PACKET_BYTES - 1 }),
        kind: fc.constantFrom('set' as const, 'insert' as const, 'delete' as const), byte: fc.integer({ min: 0, max: 255 }),
      }), { minLength: 1, maxLength: 8 }),
      cuts: fc.array(fc.nat(), { maxLength: 10 }),
    });
    runProperty('cyton resync', 3, 250, arb, ({ clean, faults, cuts }) => {
      // Faults in packets 2 … n−3, at least three packets apart.
      const usable = clean.packets - 4;
      const chosen: Fault[] = [];
      for (const f of faults) {
        const packet = 2 + (f.packet % usable);
        if (chosen.every((c) => Math.abs(c.packet - packet) >= 3)) chosen.push({ ...f, packet });
      }
      chosen.sort((a, b) => b.packet - a.packet || b.offset - a.offset); // back to front: earlier positions stay valid
      let bytes: Uint8Array = clean.bytes;
      const hit = new Set<number>();
      for (const f of chosen) {
        const at = f.packet * CYTON_PACKET_BYTES + f.offset;
        if (f.kind === 'set') {
          if (bytes[at] === f.byte) continue; // not a fault
          bytes = applyDamage(bytes, { kind: 'set', at, byte: f.byte });
        } else if (f.kind === 'insert') {
          bytes = applyDamage(bytes, { kind: 'insert', at, bytes: Uint8Array.of(f.byte) });
        } else {
          bytes = applyDamage(bytes, { kind: 'delete', at, len: 1 });
        }
        hit.add(f.packet);
      }
      const r = parse(chunked(bytes, cuts), false);
      checkAccounting(r, bytes.length, false);
      const got = new Map(r.samples.map((s) => [s.index, s]));
      for (let k = 0; k < clean.packets; k++) {
        const index = clean.start + k;
        const s = got.get(index);
        if (hit.has(k)) continue; // lost, or taken with its damage (a flipped data byte is undetectable)
        expect(s, `packet ${k} (index ${index}) was not hit by a fault but is missing; faults in ${[...hit].sort((a, b) => a - b).join(', ')}`).toBeDefined();
        const o = k * CYTON_PACKET_BYTES;
        const want = Array.from({ length: 8 }, (_, c) => {
          const p = o + 2 + 3 * c;
          return ((((clean.bytes[p]! << 16) | (clean.bytes[p + 1]! << 8) | clean.bytes[p + 2]!) << 8) >> 8);
        });
        expect(s!.counts, `packet ${k} decoded wrongly`).toEqual(want);
      }
      // Nothing else: every sample is an original packet's index.
      for (const s of r.samples) expect(s.index - clean.start >= 0 && s.index - clean.start < clean.packets, `sample index ${s.index} is no packet of the stream`).toBe(true);
    });
  });
});
