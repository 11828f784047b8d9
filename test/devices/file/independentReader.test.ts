/**
 * cfstream-written EDF+ and BDF+ opened by a reader nobody on the team wrote: biosig's `save2gdf`
 * (Debian biosig-tools) or MNE-Python (Debian python3-mne), whichever is installed.
 *
 * Skipped only outside CI: a developer's machine may lack both (they are apt packages, not npm
 * ones), and the rest of the suite does not need them. Under CI (process.env.CI set) a missing
 * reader is a failure, because CI is where the writer's compatibility is promised.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { EdfWriter } from '../../../devices/file/edfWriter.js';
import type { StreamInfo } from '../../../src/frames/index.js';
import { rng, tempDir } from './craft.js';

const tmp = tempDir('cfstream-oracle-');
afterAll(tmp.cleanup);

function has(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}
const save2gdf = has('sh', ['-c', 'command -v save2gdf']);
// Debian's python3-mne lands in the system python, which a pyenv `python3` on PATH would hide.
const python = ['python3', '/usr/bin/python3'].find((p) => has(p, ['-c', 'import mne']));
const reader = save2gdf ? 'save2gdf' : python ? 'mne' : undefined;
const inCi = Boolean(process.env.CI);

const N = 3, RATE = 200, RECORDS = 4;
const info: StreamInfo = { id: 'oracle', kind: 'raw', n: N, rate: RATE, units: 'uV', labels: ['Fz', 'Cz', 'Pz'] };
const PMIN = [-200, -50, -1000], PMAX = [200, 150, 1000];
const MARKERS = [{ t: 0.5, duration: 1.25, text: 'eyes closed' }, { t: 2.75, duration: 0, text: 'blink' }];

/** Writes whole records only (no padding), with two markers; returns the input and the half digital steps. */
function writeFile(ext: 'edf' | 'bdf'): { path: string; input: Float64Array[]; half: number[] } {
  const path = `${tmp.dir}/oracle.${ext}`;
  const w = EdfWriter.create({ path, info, physicalMin: PMIN, physicalMax: PMAX, start: new Date(2024, 10, 24, 10, 20, 30) });
  const u = rng(5);
  const input = Array.from({ length: N }, () => new Float64Array(RATE * RECORDS));
  for (const m of MARKERS) w.annotate(m); // before the frames: they go into the first records
  for (let k = 0; k < RATE * RECORDS; k++) {
    const values = new Float64Array(N);
    for (let c = 0; c < N; c++) values[c] = input[c]![k] = PMIN[c]! + u() * (PMAX[c]! - PMIN[c]!);
    w.write({ seq: k, t: k / RATE, values });
  }
  w.close();
  return { path, input, half: Array.from(w.gain, (g) => g / 2) };
}

interface Seen {
  rate: number;
  labels: string[];
  samples: number;
  data: number[][]; // [sample][channel], µV
  events: { onset: number; duration: number; text: string }[];
  /** Extra tolerance for how the reader prints numbers (save2gdf: 6 significant digits). */
  printTolerance: (v: number) => number;
}

function readWithSave2gdf(path: string): Seen {
  const json = JSON.parse(execFileSync('save2gdf', ['-JSON', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).replace(/^[^{]*/, '')) as {
    Samplingrate: number; NumberOfRecords: number; CHANNEL: { Label: string }[]; EVENT?: { POS: number; DUR: number; Description: string }[];
  };
  const csv = `${path}.csv`;
  execFileSync('save2gdf', ['-CSV', path, csv], { stdio: 'ignore' });
  const lines = readFileSync(csv, 'utf8').trim().split('\n');
  return {
    rate: json.Samplingrate,
    labels: json.CHANNEL.map((c) => c.Label).filter((l) => !/Annotations/.test(l)),
    samples: lines.length - 1,
    data: lines.slice(1).map((l) => l.split(',').map(Number)),
    events: (json.EVENT ?? []).map((e) => ({ onset: e.POS, duration: e.DUR, text: e.Description })),
    printTolerance: (v) => 5e-6 * Math.abs(v) + 1e-9,
  };
}

function readWithMne(path: string): Seen {
  const script = `
import json, sys, mne
p = sys.argv[1]
raw = (mne.io.read_raw_bdf if p.endswith('.bdf') else mne.io.read_raw_edf)(p, preload=True, verbose='error')
data = raw.get_data() * 1e6  # MNE gives volts for uV channels
print(json.dumps({'rate': raw.info['sfreq'], 'labels': raw.ch_names, 'samples': int(raw.n_times),
  'data': data.T.tolist(),
  'events': [{'onset': float(a['onset']), 'duration': float(a['duration']), 'text': a['description']} for a in raw.annotations]}))
`;
  const out = JSON.parse(execFileSync(python!, ['-c', script, path], { encoding: 'utf8', maxBuffer: 64 << 20 })) as Omit<Seen, 'printTolerance'>;
  return { ...out, printTolerance: (v) => 1e-9 * Math.abs(v) + 1e-9 };
}

// Outside CI with neither reader installed the tests are reported as skipped (not silently absent).
const skip = reader === undefined && !inCi;

describe(`an independent reader (${reader ?? 'none installed: apt biosig-tools or python3-mne'}) opens cfstream's EDF+ and BDF+`, () => {
  it.skipIf(skip).each(['edf', 'bdf'] as const)('%s: rate, labels, every sample within half a digital step, the annotations', (ext) => {
    if (!reader) expect.fail('CI needs save2gdf (Debian biosig-tools) or MNE (Debian python3-mne) to check files against an independent EDF reader');
    const { path, input, half } = writeFile(ext);
    const seen = reader === 'save2gdf' ? readWithSave2gdf(path) : readWithMne(path);
    expect(seen.rate).toBe(RATE);
    expect(seen.labels).toEqual(info.labels);
    expect(seen.samples).toBe(RATE * RECORDS);
    for (let k = 0; k < seen.samples; k++) {
      for (let c = 0; c < N; c++) {
        const want = input[c]![k]!, got = seen.data[k]![c]!;
        if (!(Math.abs(got - want) <= half[c]! * (1 + 1e-9) + seen.printTolerance(want))) expect.fail(`${reader} sample ${k} channel ${c}: ${got}, written ${want} (half step ${half[c]})`);
      }
    }
    const events = seen.events.filter((e) => !e.text.startsWith('cfstream')).map((e) => ({ ...e, onset: round(e.onset), duration: round(e.duration) }));
    expect(events).toEqual(MARKERS.map((m) => ({ onset: m.t, duration: m.duration, text: m.text })));
  });
});

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
