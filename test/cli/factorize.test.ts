import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { Rng } from '../../src/linalg/random.js';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'cfstream-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the real executable (bin launcher → tsx → main.ts). */
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'src/cli/cfstream.js'), ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A planted non-negative rank-3 matrix with sparse W, written with labels like esGolub. */
function plantedCsv(name: string, n = 120, m = 40, r = 3, k = 6): string {
  const rng = new Rng(21);
  const W = new Float64Array(n * r), H = new Float64Array(r * m);
  for (let c = 0; c < r; c++) for (let t = 0; t < k; t++) W[rng.int(n) * r + c] = 1 + rng.uniform();
  for (let i = 0; i < H.length; i++) H[i] = rng.uniform();
  const lines = ['"",' + Array.from({ length: m }, (_, j) => `s${j}`).join(',')];
  for (let i = 0; i < n; i++) {
    const row: string[] = [`g${i}`];
    for (let j = 0; j < m; j++) {
      let v = 0;
      for (let c = 0; c < r; c++) v += W[i * r + c]! * H[c * m + j]!;
      row.push(String(v));
    }
    lines.push(row.join(','));
  }
  const path = join(dir, name);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

const good = plantedCsv('good.csv');

describe('cfstream factorize (good input)', () => {
  it('FR with --json prints the documented fields and a small error on planted data', () => {
    const r = cli('factorize', good, '--rank', '3', '--d', '60', '--json', '--seed', '1');
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ method: 'fr', n: 120, m: 40, d: 60, r: 3, p: 5 });
    for (const k of ['compress', 'factorize', 'recover', 'total']) expect(typeof j.seconds[k]).toBe('number');
    expect(j.relError).toBeLessThan(0.05);
  });

  it('--compression C sets d = round(n / C); --method rf and full work', () => {
    const a = JSON.parse(cli('factorize', good, '--rank', '3', '--compression', '3', '--method', 'rf', '--json').out);
    expect(a.d).toBe(40);
    expect(a.method).toBe('rf');
    // RF recovers every sample (up to 18 non-zeros each) from d = 40: harder than FR's r columns.
    expect(a.relError).toBeLessThan(0.5);
    const b = JSON.parse(cli('factorize', good, '--rank', '3', '--method', 'full', '--json').out);
    expect(b.relError).toBeLessThan(0.01);
  });

  it('--out writes W.csv (n×r with labels), H.csv (r×m), Wc.csv and summary.json', () => {
    const out = join(dir, 'out-good');
    const r = cli('factorize', good, '--rank', '3', '--d', '60', '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/FR nmf/);
    const W = readFileSync(join(out, 'W.csv'), 'utf8').trim().split('\n');
    expect(W.length).toBe(121);
    expect(W[1]!.split(',')[0]).toBe('g0');
    const H = readFileSync(join(out, 'H.csv'), 'utf8').trim().split('\n');
    expect(H.length).toBe(4);
    expect(H[0]!.split(',').length).toBe(41);
    expect(existsSync(join(out, 'Wc.csv'))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).r).toBe(3);
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('cfstream factorize (bad input)', () => {
  const write = (name: string, text: string) => { const p = join(dir, name); writeFileSync(p, text); return p; };
  const cases: [string, () => string[], RegExp][] = [
    ['missing file', () => [join(dir, 'nope.csv'), '--rank', '2', '--d', '3'], /cannot read .*nope\.csv: no such file/],
    ['empty file', () => [write('empty.csv', ''), '--rank', '2', '--d', '3'], /empty\.csv: the file is empty/],
    ['ragged CSV', () => [write('ragged.csv', '1,2,3\n4,5\n'), '--rank', '1', '--d', '1'], /ragged\.csv:2: ragged row/],
    ['non-numeric CSV', () => [write('text.csv', '1,2\n3,abc\n4,5\n'), '--rank', '1', '--d', '1'], /text\.csv:2, column 2: non-numeric value "abc"/],
    ['NaN', () => [write('nan.csv', '1,2\n3,NaN\n4,5\n'), '--rank', '1', '--d', '1'], /nan\.csv:2, column 2: non-finite value "NaN"/],
    ['rank > min(n, m)', () => [good, '--rank', '41', '--d', '60'], /--rank 41 exceeds min\(n, m\) = 40/],
    ['d ≥ n', () => [good, '--rank', '3', '--d', '120'], /d = 120 must be smaller than n = 120/],
    ['p > d', () => [good, '--rank', '3', '--d', '4', '--p', '5'], /--p 5 must be ≤ d = 4/],
    ['negative entry for NMF', () => [write('neg.csv', 'a,b,c\n1,2,3\n4,-5,6\n7,8,9\n'), '--rank', '1', '--d', '2', '--p', '1'], /neg\.csv:3, column 2: negative entry -5/],
    ['both --d and --compression', () => [good, '--rank', '3', '--d', '10', '--compression', '2'], /exactly one of --d or --compression/],
    ['unknown flag', () => [good, '--rank', '3', '--d', '10', '--bogus'], /Unknown option '--bogus'/],
    ['non-numeric flag', () => [good, '--rank', 'three', '--d', '10'], /--rank must be a number; got "three"/],
    ['bad method', () => [good, '--rank', '3', '--d', '10', '--method', 'xx'], /--method must be one of fr, rf, full/],
  ];
  for (const [name, args, re] of cases) {
    it(`${name}: exit code 2, a message naming it, nothing written to --out`, () => {
      const out = join(dir, `out-${name.replace(/\W+/g, '_')}`);
      const r = cli('factorize', ...args(), '--out', out);
      expect(r.code, r.out + r.err).toBe(2);
      expect(r.err).toMatch(re);
      expect(r.err).not.toMatch(/at .*\.ts:\d+/); // no stack trace for user errors
      expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
    });
  }

  it('--clip sets negatives to 0 and runs', () => {
    const p = join(dir, 'neg2.csv');
    writeFileSync(p, 'a,b,c\n1,2,3\n4,-5,6\n7,8,9\n1,1,1\n');
    const r = cli('factorize', p, '--rank', '1', '--d', '2', '--p', '1', '--clip', '--json');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).clipped).toBe(1);
    expect(r.err).toMatch(/--clip set 1 negative entries/);
  });
});

describe('cfstream misc', () => {
  it('help lists every command; unknown commands fail with code 2', () => {
    const h = cli('help');
    expect(h.code).toBe(0);
    for (const c of ['factorize', 'experiment synthetic', 'experiment genes', 'bench factorize']) expect(h.out).toContain(c);
    const u = cli('frobnicate');
    expect(u.code).toBe(2);
    expect(u.err).toMatch(/unknown command "frobnicate"/);
  });

  it('experiment tensor: FR recovers a planted sparse-mode CP model (Proposition 1) with --json', () => {
    const r = cli('experiment', 'tensor', '--n', '300', '--m1', '12', '--m2', '10', '--r', '3', '--k', '8', '--d', '80', '--json');
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ method: 'fr', n: 300, m1: 12, m2: 10, r: 3, k: 8, d: 80 });
    for (const key of ['errA', 'errB', 'errC', 'errRecon']) expect(j[key], key).toBeLessThan(0.01);
    const bad = cli('experiment', 'tensor', '--r', '9', '--d', '5');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--p 5|--r 9 exceeds --d 5/);
  });

  it('experiment synthetic runs one point with --json', () => {
    const r = cli('experiment', 'synthetic', '--n', '300', '--m', '200', '--r', '3', '--k', '10', '--d', '120', '--seed', '3', '--json');
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ solver: 'nmf', method: 'fr', n: 300, m: 200, r: 3, k: 10, d: 120, p: 5 });
    expect(j.errW).toBeLessThan(0.2);
    expect(j.errOracle).toBeLessThan(0.2);
  });
});
