import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'src/cli/cfstream.js');
const dir = mkdtempSync(join(tmpdir(), 'cfstream-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, 'run', ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const SMALL = [
  'version: 1',
  'source: sim:synthetic?n=300&d=80&r=3&k=8&noise=0.05&rate=1000&frames=3000&seed=1',
  'stages:',
  '  - type: validate',
  '  - type: batch',
  '    maxBatch: 32',
  '  - type: onlineNmf',
  '    rank: 3',
  '    warmStartFrames: 300',
  '    holdoutRows: 10',
  '  - type: reconstruct',
  '    everyFrames: 1000',
  '    everyMs: 0',
  '  - type: metrics',
].join('\n');

describe('cfstream run', () => {
  it('runs a config to the end of its source and prints a JSON summary with the true error', () => {
    const file = join(dir, 'small.yaml');
    writeFileSync(file, SMALL);
    const r = cli(file, '--pacing', 'max', '--json');
    expect(r.code, r.err).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.stoppedBy).toBe('end of source');
    expect(s.frames).toBe(3000);
    expect(s.reconstructions).toBeGreaterThanOrEqual(2);
    expect(s.errW).toBeLessThan(0.2);
    expect(s.lastFactors.quality.rows).toBe(10);
    expect(r.err).toMatch(/source: simulated compressive front-end/);
  });

  it('runs raw EEG-like samples through stft → compressed NMF (sim:eeg, as fast as possible)', () => {
    const r = cli('config/eeg-spectrogram.yaml', '--source', 'sim:eeg?frames=15000', '--pacing', 'max', '--json');
    expect(r.code, r.err).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.frames).toBe(15000);
    expect(s.lastFactors.framesSeen).toBeGreaterThan(200); // 60 s of 0.25 s hops
    expect(s.lastFactors.error).toBeLessThan(1e-6);
  });

  it('replays an EDF recording (file:) through stft → compressed NMF, taking the stream header from the file', () => {
    const file = join(dir, 'edf.yaml');
    writeFileSync(file, [
      'version: 1',
      'source: file:test/fixtures/S001R01.edf',
      'stages:',
      '  - type: validate',
      '  - type: stft',
      '    window: 1',
      '    hop: 0.5',
      '    fmin: 1',
      '    fmax: 40',
      '  - type: compress',
      '    projection: { ensemble: sparse-binary, n: 4032, d: 1008, p: 5, seed: 1 }  # 63 bins (0.625 Hz apart) × 64 channels',
      '  - type: batch',
      '    maxBatch: 16',
      '  - type: onlineNmf',
      '    rank: 5',
      '    warmStartFrames: 20',
      '  - type: reconstruct',
      '    everyMs: 0',
    ].join('\n'));
    const r = cli(file, '--pacing', 'max', '--json');
    expect(r.code, r.err).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.frames).toBe(9760); // 61 records × 160 samples
    expect(s.stoppedBy).toBe('end of source');
    expect(s.lastFactors.framesSeen).toBe(121); // spectra: (61 − 1) / 0.5 + 1
    expect(r.err).toMatch(/source: EDF recording .*S001R01\.edf \(64 channels at 160 Hz\)/);
    expect(r.err).toMatch(/device marker: T0 at 0 s/);
  });

  it('--checkpoint saves the model at a clean stop and the next run continues from it', () => {
    const file = join(dir, 'small.yaml');
    writeFileSync(file, SMALL);
    const ckpt = join(dir, 'model.json');
    const first = cli(file, '--pacing', 'max', '--json', '--checkpoint', ckpt, '--broker', 'none');
    expect(first.code, first.err).toBe(0);
    expect(first.err).toMatch(/no usable checkpoint at .*model\.json; a new model/);
    const saved = JSON.parse(readFileSync(ckpt, 'utf8'));
    expect(saved).toMatchObject({ format: 'cfstream-run-checkpoint', version: 1, lastSeq: 2999 });
    const second = cli(file, '--pacing', 'max', '--json', '--checkpoint', ckpt, '--broker', 'none');
    expect(second.code, second.err).toBe(0);
    expect(second.err).toMatch(/model restored from .*model\.json \(3000 frames seen\)/);
    expect(second.err).toMatch(/resuming after seq 2999/);
    const s = JSON.parse(second.out);
    expect(s.lastFactors.framesSeen).toBe(6000);
    expect(s.lastFactors.seq).toBe(5999); // seq continues
    // Corrupted on disk: set aside, and the previous generation (the first run's) is used instead.
    writeFileSync(ckpt, '{"format":"cfstream-run-checkpoint","version":1,"model":{"trunc');
    const third = cli(file, '--pacing', 'max', '--json', '--checkpoint', ckpt, '--broker', 'none');
    expect(third.code, third.err).toBe(0);
    expect(third.err).toMatch(/warning: checkpoint .*model\.json not used: not a JSON document .*truncated or corrupted; moved to .*model\.json\.rejected-/);
    expect(third.err).toMatch(/model restored from .*model\.json\.prev \(3000 frames seen\)/);
    expect(JSON.parse(third.out).lastFactors.framesSeen).toBe(6000);
    expect(readdirSync(dir).filter((f) => f.startsWith('model.json.rejected-'))).toHaveLength(1);
  });

  it('the ready configs run on their own sources (replay-edf as fast as possible, tensor-eeg and eeg-spectrogram on the simulated board)', () => {
    const edf = cli('config/replay-edf.yaml', '--pacing', 'max', '--broker', 'none', '--json');
    expect(edf.code, edf.err).toBe(0);
    expect(JSON.parse(edf.out)).toMatchObject({ frames: 9760, stoppedBy: 'end of source' });
    for (const config of ['config/tensor-eeg.yaml', 'config/eeg-spectrogram.yaml']) {
      const r = cli(config, '--source', 'sim:eeg?frames=20000', '--pacing', 'max', '--broker', 'none', '--json');
      expect(r.code, `${config}: ${r.err}`).toBe(0);
      expect(JSON.parse(r.out)).toMatchObject({ frames: 20000, stoppedBy: 'end of source' });
    }
  });

  it('--record keeps what the source sent, closed cleanly at the stop', () => {
    const file = join(dir, 'small.yaml');
    writeFileSync(file, SMALL);
    const cfs = join(dir, 'run.cfs');
    const r = cli(file, '--pacing', 'max', '--record', cfs, '--broker', 'none', '--json');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/recording .*run\.cfs closed/);
    const replay = spawnSync(process.execPath, [bin, 'replay', cfs, '--speed', 'max', '--json'], { cwd: root, encoding: 'utf8' });
    expect(replay.status, replay.stderr).toBe(0);
    expect(JSON.parse(replay.stdout).frames).toBe(3000);
    const bdf = cli('config/eeg-spectrogram.yaml', '--source', 'sim:eeg?frames=100', '--pacing', 'max', '--record', join(dir, 'x.bdf'));
    expect(bdf.code).toBe(2);
    expect(bdf.err).toMatch(/record .*x\.bdf: .*physical.*\(give outputs\.record\.range: \[min, max\]\)/);
  });

  it('runs the default config in real time and publishes factors within the duration', () => {
    const r = cli('--duration', '5', '--json');
    expect(r.code, r.err).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.stoppedBy).toBe('duration');
    expect(s.frames).toBeGreaterThan(800); // 250 frames/s
    expect(s.reconstructions).toBeGreaterThanOrEqual(1);
    expect(s.errW).toBeLessThan(0.2);
    expect(r.err).toMatch(/\[\d+\.\d s\] \d+ frames/); // status lines
  });

  it('stops cleanly on SIGTERM with a summary', async () => {
    const child = spawn(process.execPath, [bin, 'run', '--json'], { cwd: root });
    let err = '', out = '';
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => { if (/\[\d+\.\d s\]/.test(err)) { clearInterval(poll); resolve(); } }, 50);
    });
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, err).toBe(0);
    expect(JSON.parse(out).stoppedBy).toBe('signal');
  });

  it('refuses bad configs and sources at start-up with one line and exit code 2', () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, SMALL.replace('    rank: 3', '    rank: 3\n    rnak: 4'));
    const wrongType = join(dir, 'wrong-type.yaml');
    writeFileSync(wrongType, SMALL.replace('    rank: 3', '    rank: three'));
    const cases: [string[], RegExp][] = [
      [[join(dir, 'missing.yaml')], /cannot read config .*missing\.yaml: no such file/],
      [[wrongType], /wrong-type\.yaml:8:11: stages\[2\]\.rank: must be /],
      [[bad], /bad\.yaml:9:5: stages\[2\]\.rnak: unknown key 'rnak'/],
      [[bad, '--source', 'ftp:x'], /unknown scheme "ftp"/],
      [[join(root, 'config/default.yaml'), '--source', 'sim:synthetic?q=1'], /unknown parameter "q"/],
      [[join(root, 'config/default.yaml'), '--source', 'sim:synthetic?n=3000'], /stream: does not match the source's header/],
      [['--pacing', 'warp'], /--pacing must be one of/],
      [[join(root, 'config/default.yaml'), '--source', 'mqtt://127.0.0.1:1/cfstream/dev1', '--broker', 'mqtt://127.0.0.1:1'], /results would be published under cfstream\/, the sensor's own prefix on the same broker/],
    ];
    for (const [args, re] of cases) {
      const r = cli(...args);
      expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(2);
      expect(r.err).toMatch(re);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    }
  });
});
