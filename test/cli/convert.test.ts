import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const fixture = join(root, 'test/fixtures/S001R01.edf');
const dir = mkdtempSync(join(tmpdir(), 'cfstream-convert-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'src/cli/cfstream.js'), ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('cfstream convert', () => {
  it('writes physical values, one row per sample: t then one column per channel, the header holding the labels', () => {
    const out = join(dir, 'fx.csv');
    const r = cli('convert', fixture, out, '--json');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ format: 'csv', frames: 9760, rows: 9760 });
    const lines = readFileSync(out, 'utf8').split('\n');
    const header = lines[0]!.split(',');
    expect(header.length).toBe(65);
    expect(header.slice(0, 4)).toEqual(['t', 'Fc5.', 'Fc3.', 'Fc1.']);
    expect(header[64]).toBe('Iz..');
    const rows = lines.slice(1, 6).map((l) => l.split(',').map(Number));
    expect(rows.map((x) => x[0])).toEqual([0, 0.00625, 0.0125, 0.01875, 0.025]);
    expect(rows.map((x) => x[1])).toEqual([-16, -56, -55, -50, -36]); // Fc5., µV
    expect(lines.length).toBe(9762); // header, 9760 rows, the final newline
    expect(lines[9760]!.startsWith('60.99375,')).toBe(true);
  });

  it('round-trips: CSV → BDF → CSV keeps every value within half a BDF step (--range sets the physical range)', () => {
    const csv = join(dir, 'fx.csv');
    if (!existsSync(csv)) cli('convert', fixture, csv);
    const bdf = join(dir, 'fx.bdf');
    expect(cli('convert', csv, bdf, '--range=-8092:8092').code).toBe(0);
    const back = join(dir, 'back.csv');
    expect(cli('convert', bdf, back).code).toBe(0);
    const a = readFileSync(csv, 'utf8').split('\n').slice(1, 400), b = readFileSync(back, 'utf8').split('\n').slice(1, 400);
    const half = 16184 / (2 ** 24 - 1) / 2;
    a.forEach((line, k) => {
      const x = line.split(',').map(Number), y = b[k]!.split(',').map(Number);
      expect(y[0]).toBe(x[0]);
      for (let c = 1; c < x.length; c++) expect(Math.abs(x[c]! - y[c]!)).toBeLessThanOrEqual(half * (1 + 1e-9));
    });
  });

  it('refuses an unknown output type and a missing input, leaving no partial file', () => {
    const bad = cli('convert', fixture, join(dir, 'out.txt'));
    expect([bad.code, bad.err]).toEqual([2, expect.stringMatching(/convert: output .*out\.txt must end in \.csv, \.edf, \.bdf or \.cfs/)]);
    const missing = cli('convert', join(dir, 'none.edf'), join(dir, 'none.csv'));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/none\.edf: cannot open: no such file/);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp') || f === 'none.csv')).toEqual([]);
  });
});
