import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { CFS_MAGIC, CfsReader, CfsWriter } from '../../../devices/file/cfsRecording.js';
import { fileSource, type FileEvent } from '../../../devices/file/replay.js';
import { DataError } from '../../../src/errors.js';
import type { Frame, StreamInfo } from '../../../src/frames/index.js';
import { rng, tempDir } from './craft.js';

const tmp = tempDir('cfstream-cfs-');
afterAll(tmp.cleanup);
const at = (name: string) => `${tmp.dir}/${name}`;

const raw: StreamInfo = { id: 'eeg1', kind: 'raw', n: 3, rate: 250, units: 'uV', labels: ['a', 'b', 'c'] };
const compressed: StreamInfo = { id: 'eeg1', kind: 'compressed', n: 8, rate: 250, projection: { ensemble: 'sparse-binary', n: 8, d: 3, p: 2, seed: 7 } };

function frames(seqs: number[], seed = 1): Frame[] {
  const u = rng(seed);
  return seqs.map((seq) => ({ seq, t: 12 + seq / 250, values: Float64Array.from({ length: 3 }, () => (u() - 0.5) * 1000) }));
}

async function replay(path: string) {
  const src = fileSource({ path, speed: 'max' });
  const events: FileEvent[] = [];
  src.events$.subscribe((e) => events.push(e));
  const out = await lastValueFrom(src.frames$.pipe(toArray()));
  return { frames: out, events, src };
}

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a }, (_, i) => a + i);
}

describe('CfsWriter / CfsReader', () => {
  it('round-trips a raw stream: header, seqs, times, float32 values, gaps as seq jumps, markers in order', async () => {
    const path = at('raw.cfs');
    const seqs = [...range(0, 600), ...range(650, 700)];
    const input = frames(seqs);
    const w = CfsWriter.create({ path, info: raw, start: new Date('2024-11-24T10:20:30Z') });
    input.forEach((f, k) => {
      if (k === 100) w.annotate({ t: f.t, duration: 0.5, text: 'stimulus' });
      w.write(f);
    });
    const s = w.close();
    expect(s).toMatchObject({ frames: 650, gaps: 1, lost: 50, markers: 1, dropped: 0 });
    expect(s.batches).toBe(4); // 0–99 | 100–349 | 350–599 | 650–699 (a marker and the gap cut batches; 250 frames a batch)
    const r = CfsReader.open(path);
    expect(r.info).toEqual(raw);
    expect(r.header.start).toBe('2024-11-24T10:20:30.000Z');
    r.close();
    const back = await replay(path);
    expect(back.src.info).toEqual(raw);
    expect(back.frames.map((f) => f.seq)).toEqual(seqs);
    back.frames.forEach((f, k) => {
      expect(f.t).toBeCloseTo(input[k]!.t, 9);
      expect(Array.from(f.values)).toEqual(Array.from(input[k]!.values, Math.fround));
    });
    expect(back.events).toEqual([
      { type: 'marker', t: 12 + 100 / 250, duration: 0.5, text: 'stimulus' },
      { type: 'gap', seq: 650, t: back.frames[600]!.t, lost: 50 },
    ]);
  });

  it('keeps a compressed stream header (projection) and drops frames whose seq does not advance', async () => {
    const path = at('comp.cfs');
    const w = CfsWriter.create({ path, info: compressed, batchFrames: 4 });
    for (const seq of [0, 1, 2, 2, 1, 3, 4]) w.write({ seq, t: seq / 250, values: Float64Array.of(seq, -seq, 0.5) });
    expect(w.close()).toMatchObject({ frames: 5, dropped: 2, batches: 2 });
    const back = await replay(path);
    expect(back.src.info).toEqual(compressed);
    expect(back.frames.map((f) => [f.seq, ...f.values])).toEqual([0, 1, 2, 3, 4].map((s) => [s, s, -s, 0.5]));
  });

  it('a file cut mid-record (or mid length prefix) is read up to the last whole record; the torn tail is reported', async () => {
    const path = at('torn.cfs');
    const w = CfsWriter.create({ path, info: raw, batchFrames: 100 });
    frames(range(0, 300)).forEach((f) => w.write(f));
    const { bytes } = w.close();
    const record = 4 + 40 + 4 + 4 * 100 * 3; // length prefix, CFSB header, id 'eeg1', samples
    truncateSync(path, bytes - Math.floor(record / 3));
    const back = await replay(path);
    expect(back.frames.length).toBe(200);
    expect(back.src.stats().tornBytes).toBe(record - Math.floor(record / 3));
    truncateSync(path, bytes - 2 * record + 2);
    const r = CfsReader.open(path);
    let batches = 0;
    while (r.next()) batches++;
    expect([batches, r.tornBytes]).toEqual([1, 2]);
    r.close();
  });

  it.each([
    ['a wrong magic', (b: Buffer) => { b.write('XXXX', 0, 'latin1'); }, /field 'magic' is 58585858, expected 43465352 \('CFSR'\): not a \.cfs recording/],
    ['a wrong version', (b: Buffer) => { b[4] = 9; }, /field 'version' is 9; this reader reads version 1/],
    ['an absurd header length', (b: Buffer) => { b.writeUInt32LE(0xffffffff, 8); }, /field 'header length' is 4294967295, outside 1 … 16777216/],
    ['a header longer than the file', (b: Buffer) => { b.writeUInt32LE(5000, 8); }, /header truncated: the JSON needs 5000 bytes/],
    ['a header that is not JSON', (b: Buffer) => { b.write('!', 12, 'latin1'); }, /header JSON is not valid/],
    ['a StreamInfo with a bad field', (b: Buffer) => { const i = b.indexOf('"rate":250'); b.write('"rate":-25', i, 'latin1'); }, /header: field 'rate' must be a finite number ≥ 0/],
    ['an absurd record length', (b: Buffer, h: number) => { b.writeUInt32LE(0x7fffffff, h); }, /byte \d+: record length 2147483647 is outside 1 … 67108864/],
    ['a corrupted batch', (b: Buffer, h: number) => { b[h + 4 + 4] = 7; }, /byte \d+: unsupported version 7/],
  ])('rejects %s with a DataError naming the file and field', async (_name, corrupt, re) => {
    const good = at('good.cfs');
    const w = CfsWriter.create({ path: good, info: raw, batchFrames: 10 });
    frames(range(0, 20)).forEach((f) => w.write(f));
    w.close();
    const b = readFileSync(good);
    const h = 12 + b.readUInt32LE(8);
    corrupt(b, h);
    const bad = at('bad.cfs');
    writeFileSync(bad, b);
    const open = async () => {
      const r = CfsReader.open(bad);
      try {
        while (r.next());
      } finally {
        r.close();
      }
    };
    await expect(open()).rejects.toThrow(DataError);
    await expect(open()).rejects.toThrow(re);
    await expect(open()).rejects.toThrow(/bad\.cfs/);
  });

  it('refuses a file too short for the header and writes the documented magic', () => {
    const p = at('short.cfs');
    writeFileSync(p, Buffer.from('CFSR\x01'));
    expect(() => CfsReader.open(p)).toThrow(/short\.cfs: file too short for a \.cfs header \(5 of 12 bytes\)/);
    const w = CfsWriter.create({ path: at('m.cfs'), info: raw });
    w.close();
    expect(Array.from(readFileSync(at('m.cfs')).subarray(0, 8))).toEqual([...CFS_MAGIC, 1, 0, 0, 0]);
  });
});
