/**
 * `cfstream bench load` (pipelines/bench/load.ts and its command): small real runs — devices in a
 * child process, the embedded aedes broker, one pipeline per device — whose accounting must be
 * exact: every frame published is received or counted as dropped, and QoS 1 loses nothing.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { benchLoad, DEFAULT_BENCH_LOAD_OPTIONS, type BenchLoadResult } from '../../pipelines/bench/load.js';
import { UsageError } from '../../src/cli/args.js';
import { InvalidOptionError } from '../../src/errors.js';
import { benchLoadCommand } from '../../src/cli/commands/benchLoad.js';

const SMALL = ['--devices', '5', '--rate', '100', '--seconds', '3', '--window', '1', '--warmup', '1', '--reconstruct-ms', '1000'];

function capture(): { text: () => string } {
  let out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => { out += String(chunk); return true; });
  return { text: () => out };
}

function expectExactAccounting(r: BenchLoadResult, frames: number): void {
  const t = r.totals;
  expect(t.published).toBe(frames);
  expect(t.published).toBe(t.received + t.dropped);
  expect(t.accountingExact).toBe(true);
  for (const d of r.devices) expect(d.published, d.id).toBe(d.received + d.dropped);
  expect(t.publishFailed).toBe(0);
  expect(t.badMessages).toBe(0);
}

describe('bench load', () => {
  afterEach(() => { vi.restoreAllMocks(); });

  it('5 devices × 100 Hz × 3 s at QoS 1 through the embedded broker: exact accounting, 0 dropped, one JSON document', async () => {
    const out = capture();
    expect(await benchLoadCommand([...SMALL, '--qos', '1', '--json'])).toBe(0);
    const r = JSON.parse(out.text()) as BenchLoadResult;
    expect(r.options).toMatchObject({ devices: 5, rate: 100, seconds: 3, qos: 1, broker: 'embedded', model: 'nmf', batch: 25, n: 256, d: 64, rank: 4 });
    expect(r.broker).toMatchObject({ kind: 'embedded', separateProcess: false });
    expectExactAccounting(r, 5 * 300);
    expect(r.totals.dropped).toBe(0); // QoS 1 loses nothing
    expect(r.totals.processed).toBe(r.totals.received - r.totals.rejected);
    expect(r.devices.map((d) => d.id)).toEqual(['dev000', 'dev001', 'dev002', 'dev003', 'dev004']);
    for (const p of [r.latencyMs, r.transitMs, r.deviceLagMs]) {
      expect(Number.isFinite(p.p50) && Number.isFinite(p.p99)).toBe(true);
      expect(p.p50).toBeLessThanOrEqual(p.p99);
    }
    expect(r.latencyMs.p50).toBeGreaterThan(0);
    const steady = r.windows.filter((w) => w.phase === 'steady');
    expect(steady.length).toBeGreaterThanOrEqual(1);
    expect(r.median.receivedPerSecond).toBeGreaterThan(0);
    expect(r.median.consumerCpu).toBeGreaterThan(0);
    expect(r.median.brokerCpu).toBeNull(); // embedded: the broker's CPU is inside the consumer's
    expect(typeof r.median.devicesCpu).toBe('number');
    expect(r.rssMaxMB.consumer).toBeGreaterThan(0);
    expect(r.reconstructions.failures).toBe(0);
    expect(r.reconstructions.count).toBeGreaterThan(0);
  });

  it('QoS 0 on shared device connections, pipeline up to validateFrames: the same identity, as a table', async () => {
    const out = capture();
    expect(await benchLoadCommand(['--devices', '4', '--rate', '100', '--seconds', '2', '--window', '1', '--warmup', '0', '--device-connections', '2', '--model', 'none'])).toBe(0);
    const text = out.text();
    expect(text).toMatch(/4 devices × 100 Hz = 400 frames\/s for 2 s; .*QoS 0/);
    expect(text).toMatch(/devices: 2 shared connections; consumer: 1 connection\(s\), model none/);
    expect(text).toMatch(/\| received\/s \| processed\/s \| per device \| dropped \| p50 ms \| p99 ms \| consumer CPU \|/);
    const m = /frames: published (\d+) = received (\d+) \+ dropped (\d+) .*: exact; processed (\d+), rejected 0; publish failures 0/.exec(text);
    expect(m, text).not.toBeNull();
    const [published, received, dropped, processed] = m!.slice(1).map(Number) as [number, number, number, number];
    expect(published).toBe(800);
    expect(published).toBe(received + dropped);
    expect(processed).toBe(received);
  });

  it('documents its defaults as the issue states them', () => {
    expect(DEFAULT_BENCH_LOAD_OPTIONS).toMatchObject({ devices: 100, rate: 250, seconds: 20, n: 256, d: 64, rank: 4, batch: 25, qos: 0, broker: 'embedded' });
  });

  it('refuses bad flags with a usage error naming the flag', async () => {
    await expect(benchLoadCommand(['--qos', '2'])).rejects.toThrow(UsageError);
    await expect(benchLoadCommand(['--broker', 'rabbit'])).rejects.toThrow(/--broker/);
    await expect(benchLoadCommand(['--model', 'cp'])).rejects.toThrow(/--model/);
    await expect(benchLoadCommand(['--rate', '1', '--seconds', '1'])).rejects.toThrow(/at least one batch/);
    await expect(benchLoadCommand(['--bogus'])).rejects.toThrow(/bench load/);
    await expect(benchLoad({ devices: 0 })).rejects.toThrow(InvalidOptionError);
    await expect(benchLoad({ broker: 'amqp://x' })).rejects.toThrow(/option 'broker' must be/);
  });
});
