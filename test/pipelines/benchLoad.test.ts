/**
 * `cfstream bench load` (pipelines/bench/load.ts and its command): small real runs — devices in a
 * child process, the embedded aedes broker, one pipeline per device — whose accounting must be
 * exact: every frame published is received or counted as dropped, and QoS 1 loses nothing.
 * `--workers 2` (pipelines/bench/loadWorkers.ts): the same devices through mosquitto into two
 * `cfstream run --worker` processes; every frame fed exactly once, both workers busy.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { benchLoad, DEFAULT_BENCH_LOAD_OPTIONS, type BenchLoadResult } from '../../pipelines/bench/load.js';
import type { BenchLoadWorkersResult } from '../../pipelines/bench/loadWorkers.js';
import { ownerOf } from '../../pipelines/scaleout/assign.js';
import { describeMosquitto } from '../devices/mqtt/helpers.js';
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
    await expect(benchLoadCommand(['--broker', 'rabbit'])).rejects.toThrow(/option 'broker' must be 'embedded', 'aedes', 'mosquitto' or a broker URL \(mqtt:\/\/host:port, …\); got "rabbit"/);
    await expect(benchLoadCommand(['--model', 'cp'])).rejects.toThrow(/--model/);
    await expect(benchLoadCommand(['--rate', '1', '--seconds', '1'])).rejects.toThrow(/option 'seconds' must be long enough for one batch of 25 frames/);
    await expect(benchLoadCommand(['--bogus'])).rejects.toThrow(/bench load/);
    await expect(benchLoad({ devices: 0 })).rejects.toThrow(InvalidOptionError);
    await expect(benchLoad({ broker: 'amqp://x' })).rejects.toThrow(/option 'broker' must be/);
  });
});

describe('bench load --workers: refusals', () => {
  it('refuses a broker the workers cannot share, and a pipeline without onlineNmf', async () => {
    await expect(benchLoadCommand(['--workers', '2', '--broker', 'embedded'])).rejects.toThrow(/option 'broker' must be 'mosquitto' or a broker URL with workers \(2\): workers are separate processes that share the device streams only through a real broker/);
    await expect(benchLoadCommand(['--workers', '1', '--broker', 'aedes'])).rejects.toThrow(InvalidOptionError);
    await expect(benchLoadCommand(['--workers', '1', '--model', 'none'])).rejects.toThrow(/option 'model' must be 'nmf' or 'nmf-only' with workers/);
    await expect(benchLoadCommand(['--workers', '-1'])).rejects.toThrow(/--workers/);
    await expect(benchLoad({ workers: 1, broker: 'embedded' })).rejects.toThrow(/option 'broker' must be 'mosquitto' or a broker URL with workers/);
    await expect(benchLoad({ workers: 1, broker: 'ws://127.0.0.1:9001/mqtt' })).rejects.toThrow(/without a path/);
    await expect(benchLoad({ workers: 1, model: 'none' })).rejects.toThrow(InvalidOptionError);
  });
});

describeMosquitto('bench load --workers on mosquitto', () => {
  afterEach(() => { vi.restoreAllMocks(); });

  it('8 devices × 100 Hz × 6 s into 2 workers: 0 dropped, every frame fed once, both workers own streams, frames/s per core > 0', async () => {
    const out = capture();
    // No --broker: mosquitto is the default with --workers; no --qos: 1 is forced.
    expect(await benchLoadCommand(['--devices', '8', '--rate', '100', '--seconds', '6', '--workers', '2', '--reconstruct-ms', '1000', '--json'])).toBe(0);
    const r = JSON.parse(out.text()) as BenchLoadWorkersResult;
    expect(r.mode).toBe('workers');
    expect(r.options).toMatchObject({ devices: 8, rate: 100, seconds: 6, workers: 2, qos: 1, broker: 'mosquitto' });
    expect(r.qos).toMatchObject({ requested: 0, used: 1 });
    expect(r.broker).toMatchObject({ kind: 'mosquitto', separateProcess: true });
    expect(r.workerConfig.yaml).toMatch(/maxBatch: 25/);
    expect(r.workerConfig.yaml).toMatch(/prefix: cfbench\/results/);

    // Accounting: published = fed for every stream, one contiguous range 0..599, nothing twice.
    const t = r.totals;
    expect(t.published).toBe(8 * 600);
    expect(t.publishFailed).toBe(0);
    expect(t.fed).toBe(t.published);
    expect(t.dropped).toBe(0);
    expect(t.duplicates).toBe(0);
    expect(t.rejects).toBe(0);
    expect(t.accountingExact).toBe(true);
    expect(t.processed).toBe(t.fed);
    expect(t.processedEqualsFed).toBe(true);
    expect(t.lateAcquisitions).toBe(0);
    expect(t.badResults).toBe(0);
    expect(r.streams.map((s) => s.id)).toEqual(['dev000', 'dev001', 'dev002', 'dev003', 'dev004', 'dev005', 'dev006', 'dev007']);
    for (const s of r.streams) {
      expect(s, s.id).toMatchObject({ published: 600, fed: 600, processed: 600, gaps: 0, beforeFirst: 0, tail: 0, dropped: 0, duplicates: 0, firstSeq: 0, lastSeq: 599, exact: true });
      expect(s.owner, s.id).toBe(ownerOf(s.id, ['w0', 'w1']));
    }

    // Both workers own streams (their rendezvous share), disjoint, and fed exactly their streams' frames.
    expect(r.workers.map((w) => w.id)).toEqual(['w0', 'w1']);
    for (const w of r.workers) {
      expect(w.streams.length, w.id).toBeGreaterThan(0);
      expect(w.streams, w.id).toEqual(r.streams.filter((s) => s.owner === w.id).map((s) => s.id));
      expect(w.fed, w.id).toBe(600 * w.streams.length);
      expect(w.exitCode, w.id).toBe(0);
      expect(w.cpuMedian, w.id).toBeGreaterThan(0);
      expect(w.rssMaxMB, w.id).toBeGreaterThan(0);
    }
    expect(new Set(r.workers.flatMap((w) => w.streams)).size).toBe(8);

    // The figures: steady windows only, per worker CPU and RSS in each window.
    const steady = r.windows.filter((w) => w.phase === 'steady');
    expect(steady.length).toBeGreaterThanOrEqual(1);
    for (const w of steady) {
      expect(w.workers.map((x) => x.id)).toEqual(['w0', 'w1']);
      for (const x of w.workers) expect(x.rssMB).toBeGreaterThan(0);
      expect(w.workers.reduce((a, x) => a + x.streams, 0)).toBe(8);
    }
    const s = r.summary;
    expect(s.dropped).toBe(0);
    expect(s.framesPerSecond).toBeGreaterThan(0.75 * 800);
    expect(s.framesPerSecond).toBeLessThan(1.25 * 800);
    expect(s.perWorkerCpuMedian).toHaveLength(2);
    for (const c of s.perWorkerCpuMean) expect(c).toBeGreaterThan(0);
    expect(s.totalWorkerCpu).toBeCloseTo(s.perWorkerCpuMean.reduce((a, c) => a! + c!, 0)!, 6);
    expect(s.totalWorkerCpu).toBeGreaterThan(0);
    expect(s.framesPerSecondPerCore).toBeGreaterThan(0);
    expect(s.framesPerSecondPerCore).toBeCloseTo(s.framesPerSecond / (s.totalWorkerCpu! / 100), 6);
    expect(typeof s.brokerCpu).toBe('number');
    // Publish → factors received (reconstruct every 1 s): measured, positive, ordered.
    expect(r.latencyMs).not.toBeNull();
    expect(r.latencyMs!.count).toBeGreaterThan(0);
    expect(r.latencyMs!.p50).toBeGreaterThan(0);
    expect(r.latencyMs!.p50).toBeLessThanOrEqual(r.latencyMs!.p99);
  }, 120_000);
});
