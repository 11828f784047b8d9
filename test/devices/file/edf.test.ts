import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EdfReader, parseTals, readEdfSignals } from '../../../devices/file/edf.js';
import { buildEdf } from './craft.js';

const fixture = join(import.meta.dirname, '..', '..', 'fixtures', 'S001R01.edf');
const dir = mkdtempSync(join(tmpdir(), 'cfstream-edf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('EDF+ reader on the PhysioNet fixture S001R01.edf', () => {
  it('parses the header: EDF+C, 64 EEG signals at 160 Hz + annotations, 61 records of 1 s, start 2009-08-12 16:15', async () => {
    const r = await EdfReader.open(fixture);
    try {
      const h = r.header;
      expect(h.format).toBe('EDF+C');
      expect(h.signals.length).toBe(65);
      expect(r.dataSignals.length).toBe(64);
      expect(r.dataSignals.every((s) => s.rate === 160 && s.physicalDimension === 'uV')).toBe(true);
      expect(h.signals[64]!.isAnnotation).toBe(true);
      expect([h.records, h.declaredRecords, h.recordDuration, h.tornBytes]).toEqual([61, 61, 1, 0]);
      expect(h.start).toBe('2009-08-12T16:15:00');
      expect(r.dataSignals[0]!.label).toBe('Fc5.');
    } finally {
      await r.close();
    }
  });

  it('first samples of Fc5. are −16, −56, −55, −50, −36 µV; annotation T0 at 0 s lasting 60.2 s; record starts from the time-keeping TAL', async () => {
    const { signals, labels, annotations, header } = await readEdfSignals(fixture);
    expect(labels[0]).toBe('Fc5.');
    expect(Array.from(signals[0]!.subarray(0, 5))).toEqual([-16, -56, -55, -50, -36]);
    expect(signals[0]!.length).toBe(9760);
    expect(annotations).toEqual([{ onset: 0, duration: 60.2, text: 'T0' }]);
    expect(header.records).toBe(61);
    const r = await EdfReader.open(fixture);
    try {
      expect((await r.readRecord(7)).start).toBe(7);
      await expect(r.readRecord(61)).rejects.toThrow(/record 61 out of range \[0, 61\)/);
    } finally {
      await r.close();
    }
  });

  it('content check: channel standard deviations within 24–110 µV', async () => {
    const { signals } = await readEdfSignals(fixture);
    for (const x of signals) {
      const mean = x.reduce((a, b) => a + b, 0) / x.length;
      const sd = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length);
      expect(sd).toBeGreaterThan(20);
      expect(sd).toBeLessThan(120);
    }
  });
});

/** Builds an EDF/BDF file byte for byte (test/devices/file/craft.ts, shared with the writer's tests). */
const build = buildEdf;

function file(name: string, bytes: Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

describe('crafted files', () => {
  it('scales digital to physical with the header ranges (gain and offset)', async () => {
    const p = file('a.edf', build({ spr: [3], records: [[[-1000, 0, 1000]]], pmin: 0, pmax: 10, dmin: -1000, dmax: 1000 }));
    const { signals } = await readEdfSignals(p);
    expect(Array.from(signals[0]!)).toEqual([0, 5, 10]);
  });

  it('reads huge but finite physical ranges as finite values, over every 16-bit digital value', async () => {
    const p = file('h.edf', build({ spr: [4], records: [[[-32768, -1000, 1000, 32767]]], pmin: -1e300, pmax: 1e300, dmin: -1000, dmax: 1000 }));
    const { signals } = await readEdfSignals(p);
    expect(Array.from(signals[0]!.subarray(1, 3))).toEqual([-1e300, 1e300]);
    expect(signals[0]!.every(Number.isFinite)).toBe(true);
  });

  it('BDF: 24-bit little-endian samples with sign extension', async () => {
    const p = file('b.bdf', build({ bdf: true, spr: [4], records: [[[-8388608, -1, 1, 8388607]]], pmin: -8388608, pmax: 8388607, dmin: -8388608, dmax: 8388607 }));
    const r = await readEdfSignals(p);
    expect(r.header.format).toBe('BDF');
    expect(Array.from(r.signals[0]!)).toEqual([-8388608, -1, 1, 8388607]);
  });

  it('EDF+D: record starts come from the time-keeping TAL (a gap stays a gap)', async () => {
    const starts = [0, 1, 5];
    const p = file('d.edf', build({
      reserved: 'EDF+D', spr: [2, 30], labels: ['x', 'EDF Annotations'], records: [[[1, 2]], [[3, 4]], [[5, 6]]],
      annotation: (r) => `+${starts[r]}\x14\x14\x00` + (r === 2 ? '+5.5\x152\x14seizure\x14\x00' : ''),
    }));
    const r = await EdfReader.open(p);
    try {
      expect(r.header.format).toBe('EDF+D');
      const recs = [];
      for await (const rec of r.records()) recs.push(rec);
      expect(recs.map((x) => x.start)).toEqual([0, 1, 5]);
      expect(recs[2]!.annotations).toEqual([{ onset: 5.5, duration: 2, text: 'seizure' }]);
      expect(recs[2]!.samples.length).toBe(1);
    } finally {
      await r.close();
    }
  });

  it('a torn last record (writer killed) is detected and left out; a declared −1 count is inferred', async () => {
    const whole = build({ spr: [4], records: [[[1, 2, 3, 4]], [[5, 6, 7, 8]]] });
    const torn = file('t.edf', whole.subarray(0, whole.length - 3));
    const r = await EdfReader.open(torn);
    try {
      expect([r.header.records, r.header.tornBytes]).toEqual([1, 5]);
      const got = Array.from((await r.readRecord(0)).samples[0]!);
      [0.1, 0.2, 0.3, 0.4].forEach((v, k) => expect(got[k]).toBeCloseTo(v, 12));
    } finally {
      await r.close();
    }
    const unknown = file('u.edf', build({ spr: [4], records: [[[1, 2, 3, 4]], [[5, 6, 7, 8]]], declared: -1 }));
    const u = await EdfReader.open(unknown);
    expect(u.header.records).toBe(2);
    await u.close();
  });

  it.each([
    ['a short file', () => Buffer.from('0       abc'), /too short for an EDF header \(11 of 256 bytes\)/],
    ['a wrong header size', () => { const b = build({ spr: [2], records: [] }); b.write('999     ', 184, 'latin1'); return b; }, /header bytes 999 ≠ 256 \+ 256·1 signals/],
    ['a non-numeric record duration', () => { const b = build({ spr: [2], records: [] }); b.write('abc     ', 244, 'latin1'); return b; }, /'record duration' must be a number; got "abc"/],
    ['digital max ≤ min', () => build({ spr: [2], records: [], dmin: 5, dmax: 5 }), /signal 1: digital maximum 5 must exceed digital minimum 5/],
    ['zero samples per record', () => build({ spr: [0], records: [] }), /signal 1: samples per record 0 must be ≥ 1/],
    ['samples per record 1e308', () => { const b = build({ spr: [2], records: [] }); b.write('1e308   ', 256 + 216, 'latin1'); return b; }, /signal 1: header field 'samples per record' must be an integer of at most 2\^53 − 1 in magnitude; got "1e308"/],
    ['records above the size limit', () => build({ spr: [99999999], records: [] }), /header field 'samples per record' gives records of 199999998 bytes, above the 67108864-byte limit/],
    ['a physical range that overflows', () => build({ spr: [2], records: [], pmin: -1e308, pmax: 1e308 }), /signal 1: header fields 'physical maximum' 1e\+308 − 'physical minimum' -1e\+308 overflow to Infinity/],
    ['a scaling that overflows', () => build({ spr: [2], records: [], pmin: -1e308, pmax: 0, dmin: 0, dmax: 1 }), /signal 1: header fields 'physical minimum' -1e\+308 \/ 'physical maximum' 0 over 'digital minimum' 0 \/ 'digital maximum' 1 scale 16-bit samples beyond/],
    ['an unknown version', () => { const b = build({ spr: [2], records: [] }); b.write('9', 0, 'latin1'); return b; }, /unknown version field "9"/],
  ])('rejects %s with a message naming the file and field', async (_name, make, re) => {
    const p = file('bad.edf', make());
    await expect(EdfReader.open(p)).rejects.toThrow(re);
    await expect(EdfReader.open(p)).rejects.toThrow(/bad\.edf/);
  });
});

describe('parseTals', () => {
  it('reads onset, duration and several texts; rejects a malformed onset', () => {
    const t = parseTals(Buffer.from('+10\x14\x14\x00+10.5\x151.5\x14a\x14b\x14\x00\x00\x00', 'utf8'), 'x');
    expect(t.recordStart).toBe(10);
    expect(t.annotations).toEqual([{ onset: 10.5, duration: 1.5, text: 'a' }, { onset: 10.5, duration: 1.5, text: 'b' }]);
    expect(() => parseTals(Buffer.from('10\x14\x14\x00'), 'rec 3')).toThrow(/rec 3: annotation onset "10"/);
  });
});
