import { lastValueFrom, map, take, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { readEdfSignals } from '../../../devices/file/edf.js';
import { DEFAULT_FILE_SOURCE_OPTIONS, fileSource, parseFileUri, type FileEvent } from '../../../devices/file/replay.js';
import { DataError, InvalidOptionError } from '../../../src/errors.js';
import { buildEdf, FIXTURE, tempDir } from './craft.js';

const tmp = tempDir('cfstream-replay-');
afterAll(tmp.cleanup);

async function replay(path: string, options: { speed?: number | 'max'; signals?: string[]; rate?: number } = {}) {
  const src = fileSource({ path, speed: 'max', ...options });
  const events: FileEvent[] = [];
  src.events$.subscribe((e) => events.push(e));
  return { src, frames: await lastValueFrom(src.frames$.pipe(toArray())), events };
}

describe('fileSource on the PhysioNet fixture', () => {
  it('at max equals reading the file directly: seq 0…9759, t = seq/160, every value, the T0 marker before the first frame', async () => {
    const { src, frames, events } = await replay(FIXTURE);
    const ref = await readEdfSignals(FIXTURE);
    expect(src.info).toMatchObject({ id: 'S001R01', kind: 'raw', n: 64, rate: 160, units: 'uV' });
    expect(src.info.labels).toEqual(ref.labels);
    expect(frames.length).toBe(9760);
    let mismatches = 0;
    frames.forEach((f, k) => {
      if (f.seq !== k || f.t !== k / 160) mismatches++;
      for (let c = 0; c < 64; c++) if (f.values[c] !== ref.signals[c]![k]) mismatches++;
    });
    expect(mismatches).toBe(0);
    expect(Array.from(frames[0]!.values.subarray(0, 1))).toEqual([-16]);
    expect(events).toEqual([{ type: 'marker', t: 0, duration: 60.2, text: 'T0' }]);
    expect(src.stats()).toEqual({ frames: 9760, samples: 624640, markers: 1, gaps: 0, lost: 0, tornBytes: 0 });
    expect(src.edf?.header.format).toBe('EDF+C');
  });

  it('reads only the selected signals, in the order given (?signals=…)', async () => {
    const { src, frames } = await replay(FIXTURE, { signals: ['Cz..', 'Fc5.'] });
    const ref = await readEdfSignals(FIXTURE);
    expect(src.info.labels).toEqual(['Cz..', 'Fc5.']);
    expect(Array.from(frames[3]!.values)).toEqual([ref.signals[10]![3], ref.signals[0]![3]]);
  });

  it('stops reading when the consumer unsubscribes early', async () => {
    const src = fileSource({ path: FIXTURE, speed: 'max', chunkValues: 64 * 16 });
    const got = await lastValueFrom(src.frames$.pipe(take(5), toArray()));
    expect(got.map((f) => f.seq)).toEqual([0, 1, 2, 3, 4]);
    await new Promise((r) => setTimeout(r, 20));
    expect(src.stats().frames).toBe(5);
  });
});

describe('paced replay on a virtual clock (TestScheduler)', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  });
  // 4 Hz: 4 samples per 1 s record, 3 records; digital k+1 → physical (k+1)/10.
  const paced = () => tmp.file('paced.edf', buildEdf({ spr: [4], records: [0, 1, 2].map((r) => [[1, 2, 3, 4].map((v) => v + 4 * r)]) }));
  const letters = 'abcdefghijkl'.split('');
  const values = Object.fromEntries(letters.map((l, k) => [l, k]));

  it('speed 1 emits each frame at its file timestamp (every 250 ms), then completes', () => {
    const path = paced();
    scheduler.run(({ expectObservable }) => {
      const src = fileSource({ path, speed: 1, scheduler });
      expectObservable(src.frames$.pipe(map((f) => f.seq))).toBe(letters.slice(0, -1).join(' 249ms ') + ' 249ms (l|)', values);
    });
  });

  it('speed 2 halves the spacing; t and values stay the file\'s', () => {
    const path = paced();
    scheduler.run(({ expectObservable }) => {
      const src = fileSource({ path, speed: 2, scheduler });
      expectObservable(src.frames$.pipe(map((f) => [f.t, f.values[0]]))).toBe(
        letters.slice(0, -1).join(' 124ms ') + ' 124ms (l|)',
        Object.fromEntries(letters.map((l, k) => [l, [k / 4, (k + 1) * 0.1]])), // digital k + 1 · gain 0.1
      );
    });
  });

  it('max emits everything at once in virtual time, in chunks of chunkValues', () => {
    const path = paced();
    scheduler.run(({ expectObservable }) => {
      const src = fileSource({ path, speed: 'max', scheduler, chunkValues: 5 });
      expectObservable(src.frames$.pipe(map((f) => f.seq))).toBe(`(${letters.join('')}|)`, values);
    });
  });

  it('EDF+D: a discontinuity is a seq jump at the record\'s start time with a gap event; a marker comes at its onset', () => {
    const starts = [0, 1, 5];
    const path = tmp.file('paced-d.edf', buildEdf({
      reserved: 'EDF+D', spr: [4, 30], labels: ['x', 'EDF Annotations'], records: [0, 1, 2].map((r) => [[1, 2, 3, 4].map((v) => v + 4 * r)]),
      annotation: (r) => `+${starts[r]}\x14\x14\x00` + (r === 2 ? '+5.5\x150.25\x14blink\x14\x00' : ''),
    }));
    scheduler.run(({ expectObservable }) => {
      const src = fileSource({ path, speed: 1, scheduler });
      const seqs = [0, 1, 2, 3, 4, 5, 6, 7, 20, 21, 22, 23];
      const marbles = letters.slice(0, seqs.length);
      // 0…1.75 s every 250 ms, then the third record at 5 s
      const frames = marbles.slice(0, 8).join(' 249ms ') + ' 3249ms ' + marbles.slice(8, 11).join(' 249ms ') + ' 249ms (l|)';
      expectObservable(src.frames$.pipe(map((f) => f.seq))).toBe(frames, Object.fromEntries(seqs.map((s, k) => [letters[k], s])));
      expectObservable(src.events$).toBe('5000ms g 499ms m', {
        g: { type: 'gap', seq: 20, t: 5, lost: 12 },
        m: { type: 'marker', t: 5.5, duration: 0.25, text: 'blink' },
      });
    });
  });
});

describe('fileSource on CSV', () => {
  it('reads t then one column per channel (header = labels), infers the rate, turns a jump in t into a gap, skips a torn last line', async () => {
    const path = tmp.file('a.csv', 't,Fz,"C,z"\n0,1,2\n0.5,3,4\r\n1,5,6\n2.5,7,NaN\n3,9');
    const { src, frames, events } = await replay(path);
    expect(src.info).toEqual({ id: 'a', kind: 'raw', n: 2, rate: 2, labels: ['Fz', 'C,z'] });
    expect(frames.map((f) => [f.seq, f.t, ...f.values])).toEqual([[0, 0, 1, 2], [1, 0.5, 3, 4], [2, 1, 5, 6], [5, 2.5, 7, NaN]]);
    expect(events).toEqual([{ type: 'gap', seq: 5, t: 2.5, lost: 2 }]);
    expect(src.stats().tornBytes).toBe(3);
  });

  it('takes a given rate and a file without a header row', async () => {
    const path = tmp.file('b.csv', '10,1\n10.1,2\n10.3,3\n');
    const { src, frames } = await replay(path, { rate: 10 });
    expect(src.info.labels).toEqual(['ch1']);
    expect(frames.map((f) => f.seq)).toEqual([0, 1, 3]);
  });

  it.each([
    ['a non-numeric value', 't,x\n0,1\n1,abc\n2,3\n', /c\.csv:3: column 2: non-numeric value "abc"/],
    ['a ragged row', 't,x\n0,1\n1,2,3\n2,3\n', /c\.csv:3: 3 columns, expected 2 \(t and 1 channels\)/],
    ['time going backwards', 't,x\n0,1\n1,2\n0.5,3\n', /c\.csv:4: t = 0\.5 does not advance/],
    ['an empty file', '', /c\.csv: the file is empty/],
  ])('rejects %s naming the file and line', async (_name, text, re) => {
    const path = tmp.file('c.csv', text);
    await expect((async () => replay(path))()).rejects.toThrow(re);
  });
});

describe('URIs and options', () => {
  it('parses file: URIs with speed, id, signals and rate', () => {
    expect(parseFileUri('file:///data/x.edf?speed=10&signals=Fz,Cz&id=eeg')).toEqual({ path: '/data/x.edf', speed: 10, signals: ['Fz', 'Cz'], id: 'eeg' });
    expect(parseFileUri('file:rel/y.csv?speed=max&rate=250')).toEqual({ path: 'rel/y.csv', speed: 'max', rate: 250 });
    expect(fileSource(`file:${FIXTURE}?speed=max`).options.speed).toBe('max');
    expect(DEFAULT_FILE_SOURCE_OPTIONS).toEqual({ speed: 1, chunkValues: 65536 });
  });

  it.each([
    ['an unknown parameter', `file:${FIXTURE}?pace=2`, /option 'uri \?pace' must be one of speed, id, signals, rate; got "2"/],
    ['speed 0', `file:${FIXTURE}?speed=0`, /option 'speed' must be a number > 0 or 'max'; got 0/],
    ['a non-numeric speed', `file:${FIXTURE}?speed=fast`, /option 'speed' must be a number > 0 or 'max'; got NaN/],
    ['an unknown extension', 'file:/tmp/x.wav', /option 'path' must be a file ending in \.edf, \.bdf, \.csv or \.cfs; got "\/tmp\/x\.wav"/],
    ['a rate for an EDF file', `file:${FIXTURE}?rate=100`, /option 'rate' must be given only for CSV files/],
    ['not a file: URI', 'mqtt://host/x', /option 'uri' must be a URI 'file:<path>/],
  ])('refuses %s (InvalidOptionError naming the option)', (_name, uri, re) => {
    expect(() => fileSource(uri)).toThrow(InvalidOptionError);
    expect(() => fileSource(uri)).toThrow(re);
  });
});

describe('bad EDF input: clear errors naming the file and the field', () => {
  const good = () => buildEdf({ spr: [4], records: [[[1, 2, 3, 4]]] });
  const patch = (at: number, text: string) => () => {
    const b = good();
    b.write(text, at, 'latin1');
    return b;
  };
  it.each([
    ['a truncated header', () => good().subarray(0, 100), /file too short for an EDF header \(100 of 256 bytes\)/],
    ['a header cut inside the signal block', () => good().subarray(0, 300), /header truncated: 300 of 512 bytes/],
    ['garbage', () => Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 7919 + 13) % 251)), /header field 'number of signals' must be an integer/],
    ['a wrong version field', patch(0, '1       '), /unknown version field "1"/],
    ['a negative record count', patch(236, '-5      '), /header field 'number of data records' is -5; must be ≥ 0, or −1 while recording/],
    ['a negative record duration', patch(244, '-1      '), /record duration -1 is negative/],
    ['a zero record duration', patch(244, '0       '), /header field 'record duration' is 0: the file has no sampling rate/],
    ['a negative signal count', patch(252, '-3  '), /header declares -3 signals/],
    ['a wrong header size', patch(184, '77      '), /header bytes 77 ≠ 256 \+ 256·1 signals/],
    ['an absurd samples-per-record', patch(256 + 216, '99999999'), /header field 'samples per record' gives records of 199999998 bytes, above the 67108864-byte limit/],
    ['a non-numeric physical minimum', patch(256 + 104, 'abc     '), /signal 1: header field 'physical minimum' must be a number; got "abc"/],
  ])('%s', (_name, make, re) => {
    const path = tmp.file('bad.edf', make());
    expect(() => fileSource({ path })).toThrow(DataError);
    expect(() => fileSource({ path })).toThrow(re);
    expect(() => fileSource({ path })).toThrow(/bad\.edf/);
  });

  it('signals of different rates need a selection', () => {
    const path = tmp.file('mixed.edf', buildEdf({ spr: [4, 8], labels: ['slow', 'fast'], records: [[[1, 2, 3, 4], [1, 2, 3, 4, 5, 6, 7, 8]]] }));
    expect(() => fileSource({ path })).toThrow(/mixed\.edf: signals have different rates \(slow 4 Hz, fast 8 Hz\); a frame stream needs one: select signals of one rate/);
    expect(fileSource({ path, signals: ['fast'] }).info.rate).toBe(8);
    expect(() => fileSource({ path, signals: ['nope'] })).toThrow(/no data signal labelled "nope"; the file has "slow", "fast"/);
  });

  it('a record that starts before the previous one ends is an error naming the record', async () => {
    const starts = [0, 0.5];
    const path = tmp.file('overlap.edf', buildEdf({
      reserved: 'EDF+D', spr: [4, 30], labels: ['x', 'EDF Annotations'], records: [[[1, 2, 3, 4]], [[5, 6, 7, 8]]],
      annotation: (r) => `+${starts[r]}\x14\x14\x00`,
    }));
    await expect(replay(path)).rejects.toThrow(/overlap\.edf: record 1 starts at 0\.5 s, before the previous record ends \(1 s\)/);
  });

  it('a missing file', () => {
    expect(() => fileSource({ path: `${tmp.dir}/none.edf` })).toThrow(/none\.edf: cannot open: no such file/);
  });
});
