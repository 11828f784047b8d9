/**
 * `cfstream bench stream` (the command function; wiring into `cfstream bench` lives in bench.ts):
 * one JSON document with --json, a table otherwise, flags checked with usage errors.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../src/cli/args.js';
import { benchStreamCommand } from '../../src/cli/commands/benchStream.js';

const SMALL = ['--n', '300', '--d', '80', '--r', '3', '--k', '10', '--frames', '1500', '--pool', '500', '--jit', '0', '--reconstruct-ms', '0'];

function capture(): { text: () => string } {
  let out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => { out += String(chunk); return true; });
  return { text: () => out };
}

describe('bench stream command', () => {
  afterEach(() => { vi.restoreAllMocks(); });

  it('prints one JSON document with the options and the measurements', async () => {
    const out = capture();
    expect(await benchStreamCommand([...SMALL, '--batch', '8', '--json'])).toBe(0);
    const doc = JSON.parse(out.text());
    expect(doc.options).toMatchObject({ n: 300, d: 80, r: 3, k: 10, frames: 1500, batch: 8, warmStartFrames: 0, raw: false });
    for (const key of ['framesPerSecond', 'p50Ms', 'p99Ms', 'errCompressed', 'errW', 'rssEndMB']) expect(typeof doc[key], key).toBe('number');
    expect(doc.reconstructions).toBe(1);
    expect(doc.quality).toBeNull();
  });

  it('with --holdout reports the held-out estimate next to the true error', async () => {
    const out = capture();
    expect(await benchStreamCommand([...SMALL, '--holdout', '16', '--json'])).toBe(0);
    const { options, quality } = JSON.parse(out.text());
    expect(options.holdout).toBe(16);
    // Recovery works at this size: both small, the estimate within a factor 2 of the truth.
    expect(quality.trueError).toBeLessThan(0.3);
    expect(quality.heldOutError).toBeGreaterThan(0.5 * quality.trueError);
    expect(quality.heldOutError).toBeLessThan(2 * quality.trueError);
    await expect(benchStreamCommand([...SMALL, '--holdout', '78'])).rejects.toThrow(/--holdout/);
  });

  it('prints a table, and runs the raw path with --raw', async () => {
    const out = capture();
    expect(await benchStreamCommand([...SMALL, '--raw', '--warm-start', '300'])).toBe(0);
    expect(out.text()).toMatch(/raw frames \(compress operator in the pipeline\)/);
    expect(out.text()).toMatch(/\| frames\/s \| p50 ms \| p99 ms \|/);
    expect(out.text()).toMatch(/warm start: [\d.]+ s/);
  });

  it('refuses bad flags with a usage error naming the flag', async () => {
    await expect(benchStreamCommand(['--batch', '0'])).rejects.toThrow(UsageError);
    await expect(benchStreamCommand(['--frames', '10', '--warm-start', '20'])).rejects.toThrow(/--warm-start must be below --frames/);
    await expect(benchStreamCommand(['--bogus'])).rejects.toThrow(/bench stream/);
    await expect(benchStreamCommand(['extra'])).rejects.toThrow(/unexpected argument/);
  });
});
