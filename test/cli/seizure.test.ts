import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { seizureCommand } from '../../src/cli/commands/seizure.js';
import { UsageError } from '../../src/cli/args.js';

const dir = mkdtempSync(join(tmpdir(), 'cfstream-seizure-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

/** Runs the command in-process and returns its exit code and stdout. */
async function run(...argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  });
  const code = await seizureCommand(argv);
  vi.restoreAllMocks();
  return { code, out };
}

// 15 minutes of 8 channels × 10 frequency bins: 80 fibers, so RF takes about a second.
const TINY = ['--hours', '0.25', '--bursts', '3', '--channels', '8', '--freq-bins', '10', '--iters', '10'];

describe('cfstream experiment seizure', () => {
  it('--json prints one document with FR, RF and full results; --plot writes the SVG atomically', async () => {
    const plot = join(dir, 'fig4.svg');
    const { code, out } = await run(...TINY, '--json', '--plot', plot, '--seed', '1');
    expect(code).toBe(0);
    const j = JSON.parse(out);
    expect(j).toMatchObject({ hours: 0.25, bursts: 3, channels: 8, freqBins: 10, n: 900, J: 10, K: 8, d: 180, p: 5, rank: 7, seed: 1, plot });
    expect(j.onsets).toHaveLength(3);
    for (const m of [j.fr, j.rf, j.full]) {
      for (const k of ['error', 'correlation', 'hitRate', 'falsePeakRate', 'cpuSeconds']) expect(typeof m[k], k).toBe('number');
      for (const k of ['compress', 'factorize', 'recover', 'total']) expect(typeof m.seconds[k], k).toBe('number');
      expect(m.factor).toHaveLength(900);
    }
    for (const k of ['total', 'recovery', 'cpu']) expect(j.speedup[k], k).toBeGreaterThan(0);
    const svg = readFileSync(plot, 'utf8');
    expect(svg.startsWith('<?xml')).toBe(true);
    expect(svg.match(/<g class="panel"/g)?.length).toBe(4); // truth, FR, RF, uncompressed
    expect(svg.match(/<line class="marker"/g)?.length).toBe(4 * 3); // the onsets in every panel
    for (const t of ['true burst activation', 'FR, 5.0× compression', 'RF, 5.0× compression', 'uncompressed CP', 'time (minutes)']) expect(svg).toContain(t);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('prints a table for people; --no-rf drops RF', async () => {
    const { code, out } = await run(...TINY, '--no-rf', '--cp', 'nn-hals', '--rank', '5');
    expect(code).toBe(0);
    expect(out).toMatch(/seizure: 900×10×8 spectrogram/);
    expect(out).toMatch(/CP nn-hals rank 5/);
    expect(out).toMatch(/\|\s+FR \|/);
    expect(out).toMatch(/\|\s+FULL \|/);
    expect(out).not.toMatch(/\|\s+RF \|/);
    expect(out).not.toMatch(/RF\/FR time/);
    expect(out).toMatch(/CPU s/);
    expect(JSON.parse((await run(...TINY, '--no-rf', '--json')).out).rf).toBeNull();
  });

  it('refuses bad flags up front with a UsageError naming the flag', async () => {
    const bad: [string[], RegExp][] = [
      [['--hours', '0'], /--hours/], [['--hours', 'x'], /--hours/], [['--hours', '0.0001'], /--hours.*two/], [['--bursts', '0'], /--bursts/],
      [['--bursts', '100'], /--bursts.*at most/], [['--compression', '1'], /--compression/], [['--compression', '5000'], /--compression/],
      [['--channels', '0'], /--channels/], [['--freq-bins', '1'], /--freq-bins/], [['--rank', '0'], /--rank/],
      [['--p', '0'], /--p/], [['--p', '500'], /--p 500/], [['--recovery', 'omp'], /--recovery/], [['--cp', 'pgd'], /--cp/],
      [['--iters', '1.5'], /--iters/], [['--seed', 'a'], /--seed/], [['--plot', join(dir, 'x.png')], /--plot.*\.svg/],
      [['--plot', join(dir, 'missing', 'x.svg')], /--plot.*does not exist/], [['--frobnicate'], /frobnicate/], [['extra'], /unexpected argument/],
    ];
    for (const [args, re] of bad) {
      const p = seizureCommand(['--hours', '0.25', '--bursts', '3', ...args]);
      await expect(p, args.join(' ')).rejects.toThrow(UsageError);
      await expect(seizureCommand(['--hours', '0.25', '--bursts', '3', ...args]), args.join(' ')).rejects.toThrow(re);
    }
  });

  it('leaves no partial plot when the target cannot be written', async () => {
    const target = join(dir, 'taken.svg');
    mkdirSync(target); // a directory where the file should go: the rename fails
    await expect(seizureCommand([...TINY, '--no-rf', '--json', '--plot', target])).rejects.toThrow(/cannot write --plot/);
    expect(readdirSync(dir).filter((f) => f.includes('taken.svg.'))).toEqual([]);
  });
});
