import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readEdfSignals } from '../../devices/file/edf.js';
import { inspectFile } from '../../devices/file/inspect.js';

const root = join(import.meta.dirname, '..', '..');
const fixture = join(root, 'test/fixtures/S001R01.edf');
const bin = join(root, 'src/cli/cfstream.js');
const dir = mkdtempSync(join(tmpdir(), 'cfstream-record-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const json = (...args: string[]) => {
  const r = cli(...args);
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.err}`);
  return JSON.parse(r.out);
};
const RECORD_BYTES = 64 * 160 * 2 + 160 * 2; // the fixture's layout, EDF+ as cfstream writes it with its digital range

/** Starts a recording at ×`speed`, waits until `records` records are on disk, then sends `signal`. */
function recordUntil(out: string, speed: number, records: number, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [bin, 'record', `file:${fixture}?speed=${speed}`, '--out', out, '--json'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    const header = 256 * 66;
    const poll = setInterval(() => {
      let size = 0;
      try {
        size = statSync(out).size;
      } catch { /* not created yet */ }
      if (size >= header + records * RECORD_BYTES) {
        clearInterval(poll);
        p.kill(signal);
      }
    }, 20);
    p.on('exit', (code, sig) => {
      clearInterval(poll);
      resolve({ code, signal: sig, out: stdout });
    });
  });
}

describe('cfstream record', () => {
  it('file: → BDF+ with --duration: whole seconds, the annotation kept, values within half a BDF step of the source', async () => {
    const out = join(dir, 'five.bdf');
    const doc = json('record', `file:${fixture}?speed=max`, '--out', out, '--duration', '5', '--json');
    expect(doc).toMatchObject({ format: 'BDF+C', stoppedBy: 'duration', frames: 800, markers: 1, records: 5 });
    const info = inspectFile(out);
    expect(info).toMatchObject({ format: 'BDF+C', records: 5, declaredRecords: 5, annotations: [{ onset: 0, duration: 60.2, text: 'T0' }] });
    expect((info as { signals: unknown[] }).signals[0]).toMatchObject({ label: 'Fc5.', physicalMin: -8092, physicalMax: 8092, digitalMin: -8388608, digitalMax: 8388607, transducer: 'BCI2000' });
    const a = await readEdfSignals(fixture), b = await readEdfSignals(out);
    const half = 16184 / (2 ** 24 - 1) / 2;
    expect(b.signals[0]!.length).toBe(800);
    for (let c = 0; c < 64; c++) {
      for (let k = 0; k < 800; k++) if (!(Math.abs(b.signals[c]![k]! - a.signals[c]![k]!) <= half * (1 + 1e-9))) expect.fail(`channel ${c} sample ${k}`);
    }
  });

  it('file: EDF → EDF+ keeps the digital range: a lossless copy', async () => {
    const out = join(dir, 'copy.edf');
    expect(json('record', `file:${fixture}?speed=max`, '--out', out, '--json')).toMatchObject({ format: 'EDF+C', frames: 9760, records: 61, stoppedBy: 'end' });
    expect((await readEdfSignals(out)).signals).toEqual((await readEdfSignals(fixture)).signals);
  });

  it('a compressed stream goes to .cfs (--compress); recording it to EDF is refused', () => {
    const cfs = join(dir, 'c.cfs');
    expect(json('record', `file:${fixture}?speed=max`, '--out', cfs, '--compress', 'sparse-binary:16:4:3', '--duration', '2', '--json')).toMatchObject({ format: 'cfs', frames: 320 });
    const info = inspectFile(cfs);
    expect(info).toMatchObject({ format: 'cfs', frames: 320, info: { kind: 'compressed', n: 64, projection: { ensemble: 'sparse-binary', n: 64, d: 16, p: 4, seed: 3 } } });
    const bad = cli('record', `file:${cfs}?speed=max`, '--out', join(dir, 'c.edf'));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/gives a compressed stream; EDF\/BDF hold raw signals — record it to \.cfs/);
  });

  it('sim: sources (src/cli/sources.ts) record too; EDF output needs --range for them', () => {
    const uri = 'sim:synthetic?n=6&d=0&r=2&k=2&frames=250&rate=100';
    const none = cli('record', uri, '--out', join(dir, 's.edf'), '--pacing', 'max');
    expect([none.code, none.err]).toEqual([2, expect.stringMatching(/--range min:max is required to record sim:synthetic/)]);
    expect(json('record', uri, '--out', join(dir, 's.edf'), '--pacing', 'max', '--range=-50:50', '--json')).toMatchObject({ format: 'EDF+C', frames: 250, records: 3 });
  });

  it('SIGTERM ends a recording cleanly: exit 0, the header count fixed', async () => {
    const out = join(dir, 'term.edf');
    const r = await recordUntil(out, 8, 2, 'SIGTERM');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ stoppedBy: 'signal' });
    const info = inspectFile(out) as { records: number; declaredRecords: number };
    expect(info.records).toBeGreaterThanOrEqual(2);
    expect(info.declaredRecords).toBe(info.records);
  });

  it('SIGKILL leaves a readable file: count −1 in the header, every whole record there and equal to the source', async () => {
    const out = join(dir, 'kill.edf');
    const r = await recordUntil(out, 8, 2, 'SIGKILL');
    expect(r.signal).toBe('SIGKILL');
    const { header, signals } = await readEdfSignals(out);
    expect(header.declaredRecords).toBe(-1);
    expect(header.records).toBeGreaterThanOrEqual(2);
    const source = (await readEdfSignals(fixture)).signals;
    signals.forEach((x, c) => expect(Array.from(x)).toEqual(Array.from(source[c]!.subarray(0, x.length))));
  });

  it('usage error: an unknown output type', () => {
    expect(cli('record', `file:${fixture}`, '--out', join(dir, 'x.wav')).err).toMatch(/--out .*x\.wav: the extension must be \.edf \(EDF\+\), \.bdf \(BDF\+\), \.cfs/);
  });
});
