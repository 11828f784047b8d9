/**
 * Bad-input corpus for the EDF/BDF reader (devices/file/edf.ts): valid EDF, EDF+C (with an
 * annotation signal) and BDF files whose header fields are overwritten (version, sizes negative or
 * absurd, NaN/Infinity/hex numbers, non-ASCII and control bytes, dates), whose TALs are garbage,
 * or which are truncated or extended; parsed from bytes (`parseEdfHeader`) and opened from temp
 * files (`EdfReader.open`, then every record read).
 *
 * Properties: only DataError (the reader's documented error) comes out, and an accepted header is
 * consistent with the file (records fit in it, torn bytes ≥ 0, one signal block per signal,
 * rates finite, scaling finite for every digital value) and every sample read is finite.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_RECORD_BYTES } from '../../devices/file/blocks.js';
import { EdfReader, parseEdfHeader, type EdfHeader } from '../../devices/file/edf.js';
import { DataError } from '../../src/errors.js';
import { buildEdf, tempDir } from '../devices/file/craft.js';
import { concat, expectOnly, expectOnlyAsync, runAsyncProperty, runProperty } from './helpers.js';

const tmp = tempDir('cfstream-fuzz-edf-');
afterAll(() => tmp.cleanup());

/** A valid file: 1–3 signals, 0–3 records, EDF / BDF, optionally EDF+C with an annotation signal. */
const validFile = fc.record({
  bdf: fc.boolean(),
  plus: fc.boolean(),
  spr: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 }),
  records: fc.integer({ min: 0, max: 3 }),
  seed: fc.nat({ max: 1000 }),
}).map(({ bdf, plus, spr, records, seed }) => {
  const sprs = plus ? [...spr, 16] : spr;
  const labels = sprs.map((_, i) => (plus && i === sprs.length - 1 ? (bdf ? 'BDF Annotations' : 'EDF Annotations') : `ch${i}`));
  const recs = Array.from({ length: records }, (_, r) => sprs.map((n, s) => Array.from({ length: n }, (_, k) => ((seed + 31 * r + 7 * s + k) % 1999) - 999)));
  const bytes = buildEdf({
    bdf, spr: sprs, labels, records: recs, reserved: plus ? (bdf ? 'BDF+C' : 'EDF+C') : '',
    annotation: (r) => `+${r}\x14\x14\x00+${r}.5\x150.25\x14event ${r}\x14\x00`,
  });
  return { bytes: new Uint8Array(bytes), ns: sprs.length };
});

/** The header fields: fixed part (offset, size) and per-signal blocks (offset within the block table, size). */
const FIXED: readonly [string, number, number][] = [
  ['version', 0, 8], ['patient', 8, 80], ['recording', 88, 80], ['startdate', 168, 8], ['starttime', 176, 8],
  ['header bytes', 184, 8], ['reserved', 192, 44], ['records', 236, 8], ['duration', 244, 8], ['signals', 252, 4],
];
const SIGNAL: readonly [string, number, number][] = [
  ['label', 0, 16], ['transducer', 16, 80], ['dimension', 96, 8], ['pmin', 104, 8], ['pmax', 112, 8],
  ['dmin', 120, 8], ['dmax', 128, 8], ['prefilter', 136, 80], ['spr', 216, 8], ['reserved', 224, 32],
];

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

/** A field value: numbers in every bad spelling, non-ASCII, control bytes, dates, magic words. */
const fieldValue: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.constantFrom(
    '-1', '0', '-999999', '99999999', '1e308', '-1e308', '1e999', 'NaN', 'Infinity', '-Inf', '0x10', '1.5', '+5', '1_0', '', ' ', '-0', '2e-9',
    '\xffBIOSEMI', '0', 'EDF+D', 'EDF+C', 'BDF+C', '31.02.99', '99.99.99', '12.34.5', 'EDF Annotations', '1 2', '١٢', '\x00\x00',
  ).map(latin1),
  fc.integer({ min: -99999999, max: 999999999 }).map((v) => latin1(String(v))),
  fc.uint8Array({ maxLength: 16 }),
  fc.string({ unit: 'binary', maxLength: 6 }).map((s) => new TextEncoder().encode(s)),
);

type EdfMutation =
  | { kind: 'fixed'; field: number; value: Uint8Array }
  | { kind: 'signal'; field: number; signal: number; value: Uint8Array }
  | { kind: 'truncate'; keep: number }
  | { kind: 'append'; bytes: Uint8Array }
  | { kind: 'data'; at: number; bytes: Uint8Array }
  | { kind: 'range'; signal: number; pmin: string; pmax: string };

const edfMutation: fc.Arbitrary<EdfMutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('fixed' as const), field: fc.nat({ max: FIXED.length - 1 }), value: fieldValue }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('signal' as const), field: fc.nat({ max: SIGNAL.length - 1 }), signal: fc.nat(), value: fieldValue }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 70 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('data' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 24 }) }) },
  // Both ends of a physical range at once (one field at a time cannot make the range overflow).
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('range' as const), signal: fc.nat(), pmin: fc.constantFrom('-1e308', '-1.7e308', '0', '1e-320', '-5e-324'), pmax: fc.constantFrom('1e308', '1.7e308', '0', '5e-324', '1e-320') }) },
);

/** Writes `value` into a field, space-padded and cut to its size (an EDF header is fixed-width ASCII). */
function setField(b: Uint8Array, offset: number, size: number, value: Uint8Array): void {
  if (offset + size > b.length) return;
  b.fill(0x20, offset, offset + size);
  b.set(value.subarray(0, size), offset);
}

function mutate(file: { bytes: Uint8Array; ns: number }, m: EdfMutation): Uint8Array {
  const b = file.bytes.slice();
  const ns = file.ns;
  switch (m.kind) {
    case 'fixed': {
      const [, off, size] = FIXED[m.field]!;
      setField(b, off, size, m.value);
      return b;
    }
    case 'signal': {
      const [, off, size] = SIGNAL[m.field]!;
      setField(b, 256 + off * ns + size * (m.signal % ns), size, m.value);
      return b;
    }
    case 'range': {
      setField(b, 256 + 104 * ns + 8 * (m.signal % ns), 8, latin1(m.pmin));
      setField(b, 256 + 112 * ns + 8 * (m.signal % ns), 8, latin1(m.pmax));
      return b;
    }
    case 'truncate': return b.subarray(0, m.keep % (b.length + 1));
    case 'append': return concat([b, m.bytes]);
    case 'data': {
      const head = 256 + 256 * ns;
      if (b.length <= head) return b;
      const at = head + (m.at % (b.length - head));
      b.set(m.bytes.subarray(0, b.length - at), at);
      return b;
    }
  }
}

/** What an accepted header must satisfy against the file it came from. */
function checkHeader(h: EdfHeader, fileBytes: number, where: string): void {
  expect(h.signals.length, where).toBeGreaterThan(0);
  expect(h.headerBytes, where).toBe(256 + 256 * h.signals.length);
  expect(Number.isSafeInteger(h.records) && h.records >= 0, `${where}: records ${h.records}`).toBe(true);
  expect(Number.isSafeInteger(h.recordBytes) && h.recordBytes <= MAX_RECORD_BYTES, `${where}: recordBytes ${h.recordBytes}`).toBe(true);
  expect(h.tornBytes, where).toBeGreaterThanOrEqual(0);
  if (h.records > 0) expect(h.headerBytes + h.records * h.recordBytes, `${where}: records must fit in the file`).toBeLessThanOrEqual(fileBytes);
  if (h.declaredRecords >= 0) expect(h.records, where).toBeLessThanOrEqual(h.declaredRecords);
  expect(h.recordBytes, where).toBe(h.signals.reduce((s, x) => s + x.samplesPerRecord, 0) * h.bytesPerSample);
  for (const s of h.signals) {
    expect(Number.isInteger(s.samplesPerRecord) && s.samplesPerRecord >= 1, where).toBe(true);
    expect(s.digitalMax, where).toBeGreaterThan(s.digitalMin);
    expect(Number.isFinite(s.rate) && s.rate >= 0, `${where}: rate ${s.rate}`).toBe(true);
    // Every digital value the file can hold (16 or 24 bits) scales to a finite physical value.
    const limit = h.bytesPerSample === 3 ? 2 ** 23 : 2 ** 15;
    expect(Number.isFinite(Math.abs(s.gain) * limit + Math.abs(s.offset)), `${where}: gain ${s.gain}, offset ${s.offset}`).toBe(true);
  }
}

describe('EDF/BDF header fuzz', () => {
  it('parseEdfHeader on mutated headers: only DataError; an accepted header is consistent with the file', () => {
    const arb = fc.record({ file: validFile, mutations: fc.array(edfMutation, { minLength: 1, maxLength: 3 }) });
    let accepted = 0, refused = 0;
    runProperty('edf parse', 41, 500, arb, ({ file, mutations }) => {
      const bytes = mutations.reduce<Uint8Array>((b, m) => mutate({ bytes: b, ns: file.ns }, m), file.bytes);
      const r = expectOnly('parseEdfHeader', [DataError], () => parseEdfHeader(bytes, bytes.length, 'fuzz.edf'));
      if (r.ok) {
        accepted++;
        checkHeader(r.value, bytes.length, 'fuzz.edf');
      } else refused++;
    });
    expect(accepted, 'the corpus also holds headers that pass').toBeGreaterThan(20);
    expect(refused, 'most mutations must be refused').toBeGreaterThan(100);
  });

  it('EdfReader.open on mutated files: only DataError, and every record of an opened file reads (or fails with DataError)', async () => {
    const arb = fc.record({ file: validFile, mutations: fc.array(edfMutation, { minLength: 1, maxLength: 2 }) });
    let n = 0;
    let opened = 0;
    await runAsyncProperty('edf open', 42, 150, arb, async ({ file, mutations }) => {
      const bytes = mutations.reduce<Uint8Array>((b, m) => mutate({ bytes: b, ns: file.ns }, m), file.bytes);
      const path = tmp.file(`f${n++}.${file.bytes[0] === 0xff ? 'bdf' : 'edf'}`, bytes);
      const r = await expectOnlyAsync('EdfReader.open', [DataError], () => EdfReader.open(path));
      if (!r.ok) {
        expect(r.error.message).toContain(path);
        return;
      }
      opened++;
      const reader = r.value;
      try {
        checkHeader(reader.header, bytes.length, path);
        for (let i = 0; i < reader.header.records; i++) {
          const rec = await expectOnlyAsync(`readRecord(${i})`, [DataError], () => reader.readRecord(i));
          if (!rec.ok) continue;
          expect(rec.value.samples).toHaveLength(reader.dataSignals.length);
          // A header whose scaling could overflow is refused, so every sample is finite.
          rec.value.samples.forEach((s) => {
            for (const v of s) expect(Number.isFinite(v), `${path}: record ${i} has a sample ${v}`).toBe(true);
          });
          for (const a of rec.value.annotations) expect(Number.isFinite(a.onset) && Number.isFinite(a.duration)).toBe(true);
        }
      } finally {
        await reader.close();
      }
    });
    expect(opened).toBeGreaterThan(10);
  });
});
