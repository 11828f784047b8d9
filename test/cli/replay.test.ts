import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EdfWriter } from '../../devices/file/edfWriter.js';

const root = join(import.meta.dirname, '..', '..');
const fixture = join(root, 'test/fixtures/S001R01.edf');
const dir = mkdtempSync(join(tmpdir(), 'cfstream-replay-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'src/cli/cfstream.js'), 'replay', ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('cfstream replay', () => {
  it('--speed max --json: a final summary with samples, samples/s, gaps and annotations', () => {
    const r = cli(fixture, '--speed', 'max', '--json');
    expect(r.code, r.err).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc).toMatchObject({ format: 'edf', channels: 64, rate: 160, speed: 'max', frames: 9760, samples: 624640, fileSeconds: 61, gaps: 0, lost: 0, annotations: 1, tornBytes: 0 });
    expect(doc.markers).toEqual([{ t: 0, duration: 60.2, text: 'T0' }]);
    expect(doc.samplesPerSecond).toBeGreaterThan(1e5);
  });

  it('paced (--speed 40): per-second lines while it runs, then the summary; it takes at least 61/40 s', () => {
    const r = cli(fixture, '--speed', '40');
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines.filter((l) => /^\s+\d+\.\d s {2}file t .* frames \d+ {2}samples \d+ \(\d+\/s\) {2}gaps 0 {2}annotations 1$/.test(l)).length).toBeGreaterThanOrEqual(1);
    expect(r.out).toMatch(/replayed .*S001R01\.edf \(EDF, 64 channels at 160 Hz, speed 40\): 9760 frames, 624640 samples in (\d+\.\d+) s .*; 61\.00 s of recording; gaps 0 \(0 frames lost\); annotations 1\n {2}annotation at 0 s lasting 60\.2 s: T0\n$/);
    const seconds = Number(/samples in (\d+\.\d+) s/.exec(r.out)![1]);
    expect(seconds).toBeGreaterThanOrEqual(61 / 40 - 0.05);
  });

  it('reports the gaps of an EDF+D recording (seq jumps at the record starts)', () => {
    const path = join(dir, 'gaps.edf');
    const w = EdfWriter.create({ path, info: { id: 'g', kind: 'raw', n: 2, rate: 10, labels: ['a', 'b'] }, physicalMin: -1, physicalMax: 1 });
    for (const seq of [...Array(25).keys(), ...Array.from({ length: 10 }, (_, i) => 40 + i)]) w.write({ seq, t: seq / 10, values: Float64Array.of(0.5, -0.5) });
    w.close();
    const doc = JSON.parse(cli(path, '--speed', 'max', '--json').out);
    expect(doc).toMatchObject({ frames: 35, gaps: 1, lost: 15, annotations: 0 });
  });

  it('refuses a bad speed and a bad file with exit 2 and one line', () => {
    const s = cli(fixture, '--speed', '0');
    expect([s.code, s.err]).toEqual([2, 'cfstream: error: --speed must be a number > 0 or max; got "0"\n']);
    const f = cli(join(dir, 'missing.bdf'));
    expect([f.code, f.err]).toEqual([2, expect.stringMatching(/missing\.bdf: cannot open: no such file\n$/)]);
  });
});
