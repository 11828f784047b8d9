import { truncateSync, statSync, readFileSync } from 'node:fs';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { EdfReader, readEdfSignals } from '../../../devices/file/edf.js';
import { DEFAULT_EDF_WRITER_OPTIONS, EdfWriter, edfNumber } from '../../../devices/file/edfWriter.js';
import { fileSource, type FileEvent } from '../../../devices/file/replay.js';
import { DataError, InvalidOptionError } from '../../../src/errors.js';
import type { Frame, StreamInfo } from '../../../src/frames/index.js';
import { rng, tempDir } from './craft.js';

const tmp = tempDir('cfstream-edfw-');
afterAll(tmp.cleanup);
const at = (name: string) => `${tmp.dir}/${name}`;

const PMIN = [-100, 0, -3.3, -187500, -0.001];
const PMAX = [100, 5000, 3.3, 187500, 0.002];
const info: StreamInfo = { id: 'w', kind: 'raw', n: 5, rate: 256, units: 'uV', labels: ['Fp1', 'Fp2', 'C3', 'C4', 'tiny'] };

/** Seeded frames inside each channel's physical range, the first two at the range ends. */
function frames(count: number, seed = 1, seqOf: (k: number) => number = (k) => k): Frame[] {
  const u = rng(seed);
  return Array.from({ length: count }, (_, k) => {
    const values = new Float64Array(info.n);
    for (let c = 0; c < info.n; c++) values[c] = k === 0 ? PMIN[c]! : k === 1 ? PMAX[c]! : PMIN[c]! + u() * (PMAX[c]! - PMIN[c]!);
    const seq = seqOf(k);
    return { seq, t: 100 + seq / info.rate, values };
  });
}

async function replay(path: string): Promise<{ frames: Frame[]; events: FileEvent[]; torn: number }> {
  const src = fileSource({ path, speed: 'max' });
  const events: FileEvent[] = [];
  src.events$.subscribe((e) => events.push(e));
  const out = await lastValueFrom(src.frames$.pipe(toArray()));
  return { frames: out, events, torn: src.stats().tornBytes };
}

function write(path: string, input: Frame[], extra: Partial<Parameters<typeof EdfWriter.create>[0]> = {}) {
  const w = EdfWriter.create({ path, info, physicalMin: PMIN, physicalMax: PMAX, start: new Date(2024, 10, 24, 10, 20, 30), ...extra });
  for (const f of input) w.write(f);
  return w;
}

describe.each([['edf', 'EDF+C', 2], ['bdf', 'BDF+C', 3]] as const)('EdfWriter %s', (ext, format, bytes) => {
  it(`writes ${format} that reads back equal to the input within half a digital step (hard bound), the last record padded and left out on replay`, async () => {
    const input = frames(256 * 3 + 100);
    const path = at(`round.${ext}`);
    const summary = write(path, input).close();
    expect(summary).toMatchObject({ format, records: 4, frames: input.length, clipped: 0, filled: 156, gaps: 0 });
    const r = await EdfReader.open(path);
    try {
      const h = r.header;
      expect([h.format, h.bytesPerSample, h.declaredRecords, h.records, h.tornBytes, h.recordDuration]).toEqual([format, bytes, 4, 4, 0, 1]);
      expect(r.dataSignals.map((s) => [s.label, s.rate, s.physicalDimension])).toEqual(info.labels!.map((l) => [l, 256, 'uV']));
      expect(h.start).toBe('2024-11-24T10:20:30');
    } finally {
      await r.close();
    }
    const { signals, header } = await readEdfSignals(path);
    let worst = 0;
    for (let c = 0; c < info.n; c++) {
      const half = header.signals[c]!.gain / 2;
      // The written range covers the requested one (rounded outwards to 8 characters).
      expect(header.signals[c]!.physicalMin).toBeLessThanOrEqual(PMIN[c]!);
      expect(header.signals[c]!.physicalMax).toBeGreaterThanOrEqual(PMAX[c]!);
      input.forEach((f, k) => {
        const err = Math.abs(signals[c]![k]! - f.values[c]!);
        worst = Math.max(worst, err / half);
        if (err > half * (1 + 1e-9)) expect.fail(`channel ${c} sample ${k}: |${signals[c]![k]} − ${f.values[c]}| = ${err} > half a step ${half}`);
      });
    }
    expect(worst).toBeGreaterThan(0.5); // the bound is tight: the data do use most of the half step
    const back = await replay(path);
    expect(back.frames.length).toBe(input.length);
    expect(back.frames.map((f) => f.seq)).toEqual(input.map((f) => f.seq));
    expect(back.frames[300]!.t).toBe(300 / 256);
    expect(back.events).toEqual([]);
  });

  it('round-trips annotations: onsets relative to the first frame, durations, UTF-8 text, separators cleaned, markers before the first frame', async () => {
    const path = at(`ann.${ext}`);
    const input = frames(600);
    const w = EdfWriter.create({ path, info, physicalMin: PMIN, physicalMax: PMAX });
    w.annotate({ t: 100, duration: 2.5, text: 'T0' }); // before any frame: queued until the time base is known
    input.forEach((f, k) => {
      w.write(f);
      if (k === 300) w.annotate({ t: f.t + 0.25, text: 'stimulus µ 42' });
      if (k === 301) w.annotate({ t: f.t, duration: 0.125, text: 'bad\x14chars\x00here' });
    });
    w.annotate({ t: 101.5, text: 'late' });
    const s = w.close();
    expect([s.markers, s.markersDropped]).toEqual([4, 0]);
    const { annotations } = await readEdfSignals(path);
    const markers = annotations.filter((a) => !a.text.startsWith('cfstream'));
    expect(markers).toEqual([
      { onset: 0, duration: 2.5, text: 'T0' },
      { onset: 300 / 256 + 0.25, duration: 0, text: 'stimulus µ 42' },
      { onset: 301 / 256, duration: 0.125, text: 'bad chars here' },
      { onset: 1.5, duration: 0, text: 'late' },
    ]);
    const back = await replay(path);
    expect(back.events.map((e) => (e.type === 'marker' ? [e.t, e.text] : e.type))).toEqual([[0, 'T0'], [301 / 256, 'bad chars here'], [300 / 256 + 0.25, 'stimulus µ 42'], [1.5, 'late']]); // in time order
  });

  it('spills annotations that do not fit a record into later ones, and on close into extra records of fill, all read back', async () => {
    const path = at(`spill.${ext}`);
    const w = EdfWriter.create({ path, info, physicalMin: PMIN, physicalMax: PMAX, annotationBytes: 120 });
    const input = frames(300);
    input.forEach((f, k) => {
      w.write(f);
      if (k === 10) for (let i = 0; i < 30; i++) w.annotate({ t: f.t, text: `marker number ${i}` });
    });
    const s = w.close();
    expect(s.records).toBeGreaterThan(2); // 300 frames need 2 records; the rest are annotation spill
    const { annotations } = await readEdfSignals(path);
    expect(annotations.filter((a) => a.text.startsWith('marker')).map((a) => a.text)).toEqual(Array.from({ length: 30 }, (_, i) => `marker number ${i}`));
    const back = await replay(path);
    expect(back.frames.length).toBe(300);
    expect(back.events.filter((e) => e.type === 'marker').length).toBe(30);
    expect(back.events.some((e) => e.type === 'gap')).toBe(false);
  });

  it('gaps: lost samples inside a record are filled and annotated, a longer gap starts a new record (EDF+D); replay gives back the seqs, values and gap sizes', async () => {
    // 0–99, lose 100–109 (inside record 0), 110–299, lose 300–999 (crosses records), 1000–1100, lose 1101–1279 (to the record boundary), 1280–1400
    const seqs = [...range(0, 100), ...range(110, 300), ...range(1000, 1101), ...range(1280, 1401)];
    const input = frames(seqs.length, 3, (k) => seqs[k]!);
    const path = at(`gaps.${ext}`);
    const s = write(path, input).close();
    expect(s).toMatchObject({ format: format.replace('+C', '+D'), gaps: 3, lost: 10 + 700 + 179, frames: seqs.length });
    const r = await EdfReader.open(path);
    const starts: number[] = [];
    for await (const rec of r.records()) starts.push(rec.start);
    await r.close();
    expect(starts).toEqual([0, 1, 1000 / 256, 1280 / 256]);
    const { annotations } = await readEdfSignals(path);
    expect(annotations.filter((a) => a.text.startsWith('cfstream gap'))).toEqual([
      { onset: 100 / 256, duration: 10 / 256, text: 'cfstream gap: 10 samples lost' },
      { onset: 300 / 256, duration: 700 / 256, text: 'cfstream gap: 700 samples lost' },
      { onset: 1101 / 256, duration: 179 / 256, text: 'cfstream gap: 179 samples lost' },
    ]);
    const back = await replay(path);
    expect(back.frames.map((f) => f.seq)).toEqual(seqs);
    expect(back.events.filter((e) => e.type === 'gap')).toEqual([
      { type: 'gap', seq: 110, t: 110 / 256, lost: 10 },
      { type: 'gap', seq: 1000, t: 1000 / 256, lost: 700 },
      { type: 'gap', seq: 1280, t: 1280 / 256, lost: 179 },
    ]);
    const half = (await EdfReader.open(path).then(async (x) => { const g = x.dataSignals.map((q) => q.gain / 2); await x.close(); return g; }));
    back.frames.forEach((f, k) => {
      for (let c = 0; c < info.n; c++) expect(Math.abs(f.values[c]! - input[k]!.values[c]!)).toBeLessThanOrEqual(half[c]! * (1 + 1e-9));
    });
  });

  it('the header says −1 records while recording (readers count whole records from the size) and the count is fixed on close', async () => {
    const path = at(`open.${ext}`);
    const w = write(path, frames(256 * 3 + 17));
    const r = await EdfReader.open(path);
    expect([r.header.declaredRecords, r.header.records, r.header.tornBytes]).toEqual([-1, 3, 0]);
    await r.close();
    const mid = await replay(path);
    expect(mid.frames.length).toBe(256 * 3);
    w.close();
    const r2 = await EdfReader.open(path);
    expect([r2.header.declaredRecords, r2.header.records]).toEqual([4, 4]);
    await r2.close();
  });

  it('a file truncated mid-record is read up to the last whole record; the torn tail is left out and reported', async () => {
    const path = at(`torn.${ext}`);
    write(path, frames(256 * 3)).close();
    const r0 = await EdfReader.open(path);
    const recordBytes = r0.header.recordBytes, headerBytes = r0.header.headerBytes;
    await r0.close();
    truncateSync(path, headerBytes + 2 * recordBytes + Math.floor(recordBytes / 2));
    const r = await EdfReader.open(path);
    expect([r.header.declaredRecords, r.header.records, r.header.tornBytes]).toEqual([3, 2, Math.floor(recordBytes / 2)]);
    await r.close();
    const back = await replay(path);
    expect(back.frames.map((f) => f.seq)).toEqual(range(0, 512));
    expect(back.torn).toBe(Math.floor(recordBytes / 2));
  });
});

describe('EdfWriter scaling and options', () => {
  it('saturates values outside the physical range at the digital limits and counts them; NaN repeats the last value', async () => {
    const path = at('clip.edf');
    const one: StreamInfo = { id: 'c', kind: 'raw', n: 1, rate: 4 };
    const w = EdfWriter.create({ path, info: one, physicalMin: -1, physicalMax: 1 });
    [0.5, 2, -3, NaN].forEach((v, k) => w.write({ seq: k, t: k / 4, values: Float64Array.of(v) }));
    expect(w.close()).toMatchObject({ clipped: 2, nonFinite: 1, records: 1 });
    const { signals } = await readEdfSignals(path);
    expect(Array.from(signals[0]!).map((v) => Math.round(v * 1e4) / 1e4)).toEqual([0.5, 1, -1, -1]);
  });

  it('keeps a given digital range (a lossless copy of an EDF whose digital and physical ranges match)', async () => {
    const path = at('digital.edf');
    const one: StreamInfo = { id: 'd', kind: 'raw', n: 1, rate: 3 };
    const w = EdfWriter.create({ path, info: one, physicalMin: -8092, physicalMax: 8092, digitalMin: -8092, digitalMax: 8092 });
    [-16, -56, 8092].forEach((v, k) => w.write({ seq: k, t: k, values: Float64Array.of(v) }));
    w.close();
    expect(Array.from((await readEdfSignals(path)).signals[0]!)).toEqual([-16, -56, 8092]);
  });

  it('formats physical limits in 8 characters, rounded outwards', () => {
    expect(edfNumber(-187500, -1)).toBe('-187500');
    expect(edfNumber(0.1234567891, 1)).toBe('0.123457');
    expect(edfNumber(-0.1234567891, -1)).toBe('-0.12346');
    expect(edfNumber(3.3, 1)).toBe('3.3');
    expect(Number(edfNumber(1 / 3, -1))).toBeLessThanOrEqual(1 / 3);
    expect(Number(edfNumber(1 / 3, 1))).toBeGreaterThanOrEqual(1 / 3);
    expect(() => edfNumber(123456789, 1)).toThrow(/8 characters/);
  });

  it.each([
    ['a compressed stream', { info: { ...info, kind: 'compressed', projection: { ensemble: 'gaussian', n: 5, d: 2, seed: 0 } } }, DataError, /compressed: EDF\/BDF holds raw signals; record compressed streams to \.cfs/],
    ['rate × duration not whole', { recordDuration: 0.3 }, InvalidOptionError, /option 'recordDuration' must be seconds making rate × duration a whole number of samples \(rate 256 Hz\); got 0\.3/],
    ['a per-channel list of the wrong length', { physicalMin: [0, 1] }, InvalidOptionError, /option 'physicalMin' must be one value or 5/],
    ['max not above min', { physicalMax: [100, 5000, -3.3, 187500, 0.002] }, InvalidOptionError, /option 'physicalMax\[2\]' must be a number above physicalMin -3\.3/],
    ['a digital range beyond 16 bits', { digitalMax: 40000 }, InvalidOptionError, /option 'digitalMax' must be an integer in \[-32768, 32767\]; got 40000/],
    ['too little room for annotations', { annotationBytes: 50 }, InvalidOptionError, /option 'annotationBytes' must be an integer in \[120, 65535\]/],
  ] as const)('refuses %s', (_name, patch, type, re) => {
    const make = () => EdfWriter.create({ path: at('bad.edf'), info, physicalMin: PMIN, physicalMax: PMAX, ...(patch as object) });
    expect(make).toThrow(type);
    expect(make).toThrow(re);
  });

  it('documents its defaults', () => {
    expect(DEFAULT_EDF_WRITER_OPTIONS).toEqual({ recordDuration: 1, annotationBytes: 320, patient: 'X X X X' });
  });

  it('writes an EDF+ header field by field (version, EDF+C, −1 then the count, annotation signal last)', () => {
    const path = at('head.edf');
    const w = write(path, frames(10));
    const open = readFileSync(path, 'latin1');
    expect(open.slice(0, 8)).toBe('0       ');
    expect(open.slice(192, 197)).toBe('EDF+C');
    expect(open.slice(236, 244)).toBe('-1      ');
    w.close();
    const done = readFileSync(path, 'latin1');
    expect(done.slice(236, 244)).toBe('1       ');
    expect(done.slice(252, 256)).toBe('6   ');
    expect(done.slice(256 + 5 * 16, 256 + 6 * 16)).toBe('EDF Annotations ');
    expect(statSync(path).size).toBe(256 * 7 + (5 * 256 + 160) * 2);
  });
});

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a }, (_, i) => a + i);
}
