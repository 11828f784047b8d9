import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const fixture = join(root, 'test/fixtures/S001R01.edf');
const dir = mkdtempSync(join(tmpdir(), 'cfstream-eeg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'src/cli/cfstream.js'), 'experiment', 'eeg', ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('cfstream experiment eeg', () => {
  it('runs FR, RF and the reference on the PhysioNet file, prints JSON and writes the plot', () => {
    const plot = join(dir, 'fig6.svg');
    const r = cli('--input', fixture, '--compressions', '2,5', '--rf', '5', '--rank', '4', '--iters', '40', '--fmax', '20', '--recovery', 'fast', '--json', '--plot', plot);
    expect(r.err).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.dims).toEqual([121, 33, 64]);
    expect(doc.mode).toBe('time');
    expect(doc.rows.map((x: { d: number }) => x.d)).toEqual([61, 24]);
    expect(doc.rows[0].rf).toBeNull();
    const five = doc.rows[1];
    expect(five.rf).not.toBeNull();
    for (const m of [five.fr, five.rf]) {
      expect(m.error).toBeGreaterThan(doc.full.error);
      expect(m.error).toBeLessThan(2);
      for (const c of [m.correlation, m.jointCorrelation]) for (const v of Object.values(c)) expect(v).toBeGreaterThanOrEqual(0);
    }
    // FR keeps the frequency factors of the uncompressed model under time compression (the paper's observation).
    expect(five.fr.correlation.frequency).toBeGreaterThan(0.8);
    const svg = readFileSync(plot, 'utf8');
    expect(svg.startsWith('<svg') || svg.startsWith('<?xml')).toBe(true);
    expect(svg).toContain('S001R01.edf');
  });

  it("defaults to the min-ℓ2 recovery lifting the MTTKRP in the identity basis, the LP lifting the factor in the DCT basis", () => {
    const small = ['--input', fixture, '--compressions', '5', '--no-rf', '--rank', '3', '--iters', '20', '--fmax', '10', '--json'];
    const id = JSON.parse(cli(...small).out);
    expect([id.recovery, id.lift]).toEqual(['min-l2', 'mttkrp']);
    const dct = JSON.parse(cli(...small, '--basis', 'dct').out);
    expect([dct.recovery, dct.lift]).toEqual(['lp', 'factor']);
    const explicit = JSON.parse(cli(...small, '--recovery', 'min-l2', '--lift', 'factor').out);
    expect([explicit.recovery, explicit.lift]).toEqual(['min-l2', 'factor']);
    expect(explicit.rows[0].fr.error).not.toBe(id.rows[0].fr.error);
  });

  it('plots without RF rows when --no-rf is given', () => {
    const plot = join(dir, 'norf.svg');
    const r = cli('--input', fixture, '--compressions', '4', '--no-rf', '--rank', '3', '--iters', '20', '--fmax', '10', '--recovery', 'fast', '--plot', plot);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/\|\s+4 \|/);
    expect(readFileSync(plot, 'utf8')).not.toContain('>RF<');
  });

  it('rejects bad flags and bad files with one line and exit code 2', () => {
    const cases: [string[], RegExp][] = [
      [[], /--input file.edf is required/],
      [['--input', fixture, '--compressions', '2,5', '--rf', '3'], /--rf 3 is not one of --compressions 2,5/],
      [['--input', fixture, '--rank', '500'], /--rank 500 exceeds the smallest tensor dimension/],
      [['--input', fixture, '--mode', 'space'], /--mode must be one of time, frequency, channel/],
      [['--input', fixture, '--mode', 'channel', '--compressions', '8'], /--compressions 8 gives d = 8 < max\(p, rank\) = 10 for the channel mode/],
      [['--input', fixture, '--window', '100'], /window/],
      [['--input', join(dir, 'missing.edf')], /missing\.edf/],
      [['--input', fixture, '--basis', 'dct', '--recovery', 'min-l2'], /--recovery min-l2 needs --basis identity/],
      [['--input', fixture, '--lift', 'fibers'], /--lift must be one of/],
      [['--input', fixture, '--plot', join(dir, 'fig.png')], /only SVG output is supported/],
      [['--input', fixture, '--plot', join(dir, 'nope', 'fig.svg')], /directory .*nope does not exist/],
    ];
    for (const [args, re] of cases) {
      const r = cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(re);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    }
    const junk = join(dir, 'junk.edf');
    writeFileSync(junk, 'this is not an EDF file at all');
    const r = cli('--input', junk);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/junk\.edf/);
    expect(existsSync(join(dir, 'none.svg'))).toBe(false);
  });
});
