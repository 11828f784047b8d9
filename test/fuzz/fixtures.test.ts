/**
 * The hand-picked nasty inputs of test/fixtures/fuzz/ (see its README), most found by the
 * properties in this folder. Each is replayed through its decoder: what must hold today is a
 * plain test; a promise the code does not keep yet is an `it.fails` named "known issue" (it
 * passes while the issue is there and fails, asking to be turned into a plain test, once fixed).
 * None is left today.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EdfReader, parseEdfHeader } from '../../devices/file/edf.js';
import { CYTON_PACKET_BYTES } from '../../devices/serial/cytonPacket.js';
import { CytonParser } from '../../devices/serial/cytonParser.js';
import { buildPipeline } from '../../pipelines/builder.js';
import { parsePipelineConfig } from '../../pipelines/config.js';
import { ConfigError, DataError } from '../../src/errors.js';
import { OnlineNMF } from '../../src/factorize/online/nmf.js';
import { batchToFrames, decodeBatch, decodeJsonFrames, FrameDecodeError, FrameValidator, type StreamInfo } from '../../src/frames/index.js';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'fuzz');
const bytes = (name: string) => new Uint8Array(readFileSync(join(DIR, name)));
const text = (name: string) => readFileSync(join(DIR, name), 'utf8');

interface CytonFixture { start: number; packets: number; hitPacket: number; clean: string; damaged: string }

describe('fuzz fixtures: CytonParser with data full of framing bytes', () => {
  for (const name of ['cyton-hostile-set.json', 'cyton-hostile-insert.json', 'cyton-hostile-delete.json']) {
    const fx = JSON.parse(text(name)) as CytonFixture;
    const damaged = Buffer.from(fx.damaged, 'hex');
    const run = () => {
      const indices: number[] = [];
      const parser = new CytonParser({ onSample: (s) => indices.push(s.index) });
      parser.push(damaged);
      parser.flush();
      return { indices, stats: parser.stats() };
    };

    it(`${name}: never throws, and every byte and packet is accounted for`, () => {
      const { stats } = run();
      expect(CYTON_PACKET_BYTES * stats.packets + stats.rejects['bytes-skipped']).toBe(damaged.length);
      expect(stats.samples + stats.rejects['counter-outlier'] + stats.rejects['daisy-unpaired']).toBe(stats.packets);
    });

    it(`${name}: one damaged byte costs only the packet it hit (cytonParser.ts module comment)`, () => {
      const want = Array.from({ length: fx.packets }, (_, k) => fx.start + k).filter((i) => i !== fx.start + fx.hitPacket);
      expect(run().indices.filter((i) => i !== fx.start + fx.hitPacket)).toEqual(want);
    });
  }
});

describe('fuzz fixtures: frame codecs', () => {
  const RAW1: StreamInfo = { id: 's1', kind: 'raw', n: 1, rate: 250 };

  it('cfsb-huge-count.bin: a header declaring 2^24 frames and no samples is refused before allocating', () => {
    const b = bytes('cfsb-huge-count.bin');
    expect(() => decodeBatch(b)).toThrow(FrameDecodeError);
    expect(() => decodeBatch(b)).toThrow(/truncated samples/);
  });

  it('cfsb-seq-overflow.bin: decodeBatch refuses a batch whose frames run past seq 2^53 − 1 or overflow t', () => {
    expect(() => decodeBatch(bytes('cfsb-seq-overflow.bin'))).toThrow(FrameDecodeError);
    expect(() => decodeBatch(bytes('cfsb-seq-overflow.bin'))).toThrow(/seq 9007199254740991 \+ 2 \(the last of 3 frames\) runs past 2\^53 − 1/);
  });

  it('json-seq-overflow.json: decodeJsonFrames refuses a batch whose frames run past seq 2^53 − 1 or overflow t', () => {
    expect(() => decodeJsonFrames(text('json-seq-overflow.json'), 1)).toThrow(DataError);
    expect(() => decodeJsonFrames(text('json-seq-overflow.json'), 1)).toThrow(/seq 9007199254740991 \+ 2 \(the last of 3 frames\) runs past 2\^53 − 1/);
  });

  it('the same batch split without decoding: FrameValidator still rejects the frames past 2^53 − 1 and t = Infinity as type', () => {
    const frames = batchToFrames({ streamId: 's1', seq: Number.MAX_SAFE_INTEGER, t0: 1e308, dt: 1e308, count: 3, dims: 1, values: Float32Array.from([1, 2, 3]) });
    const v = new FrameValidator(RAW1);
    expect(frames.map((f) => { const r = v.check(f); return r.ok ? 'ok' : r.reason; })).toEqual(['ok', 'type', 'type']);
  });

  it('json-deep-nesting.json: 5000 nested arrays as values is a DataError', () => {
    expect(() => decodeJsonFrames(text('json-deep-nesting.json'), 3)).toThrow(DataError);
  });
});

describe('fuzz fixtures: EDF headers', () => {
  it('edf-physical-range-overflow.edf: a physical range of ±1e308 is refused or scales to finite values', async () => {
    const path = join(DIR, 'edf-physical-range-overflow.edf');
    let r: EdfReader;
    try {
      r = await EdfReader.open(path);
    } catch (e) {
      // Refused, naming the signal and the fields.
      expect(e).toBeInstanceOf(DataError);
      expect((e as Error).message).toMatch(/signal 1: header fields 'physical maximum' 1e\+308 − 'physical minimum' -1e\+308 overflow/);
      return;
    }
    try {
      const rec = await r.readRecord(0);
      expect(rec.samples[0]!.every(Number.isFinite)).toBe(true);
    } finally {
      await r.close();
    }
  });

  it('edf-spr-1e308.edf: samples per record 1e308 is refused', () => {
    const b = bytes('edf-spr-1e308.edf');
    expect(() => parseEdfHeader(b, b.length, 'edf-spr-1e308.edf')).toThrow(DataError);
    expect(() => parseEdfHeader(b, b.length, 'edf-spr-1e308.edf')).toThrow(/signal 1: header field 'samples per record' must be an integer of at most 2\^53 − 1/);
  });
});

describe('fuzz fixtures: pipeline configs', () => {
  it('config-alias-bomb.yaml and config-deep-nesting.yaml are ConfigErrors, quickly', () => {
    for (const name of ['config-alias-bomb.yaml', 'config-deep-nesting.yaml']) {
      const started = performance.now();
      expect(() => parsePipelineConfig(text(name), name)).toThrow(ConfigError);
      expect(performance.now() - started).toBeLessThan(2000);
    }
  });

  it('config-nmf-huge-rank.yaml: a huge onlineNmf rank is a ConfigError', () => {
    expect(() => parsePipelineConfig(text('config-nmf-huge-rank.yaml'), 'config-nmf-huge-rank.yaml')).toThrow(ConfigError);
  });

  it('config-cp-huge-projection.yaml: a huge onlineCp projection n is a ConfigError', () => {
    expect(() => parsePipelineConfig(text('config-cp-huge-projection.yaml'), 'config-cp-huge-projection.yaml')).toThrow(ConfigError);
  });

  it('config-build-huge-n.yaml: a config with a huge n is refused when parsed, naming the field (not a RangeError at build)', () => {
    expect(() => parsePipelineConfig(text('config-build-huge-n.yaml'), 'config-build-huge-n.yaml')).toThrow(/projection\.n: .*an integer in \[2, 10000000\]/);
  });
});

describe('fuzz fixtures: the online model', () => {
  it('nmf-tiny-values.json: valid frames (zeros and one 6.3e-162) keep the dictionary finite, with both kernels', () => {
    const fx = JSON.parse(text('nmf-tiny-values.json')) as { rank: number; seed: number; frames: number[][] };
    for (const backend of ['wasm', 'js'] as const) {
      const m = new OnlineNMF({ rank: fx.rank, seed: fx.seed }, { backend });
      for (const f of fx.frames) m.partialFitFrames(Float64Array.from(f), 1);
      expect(m.components().W.data.every(Number.isFinite), backend).toBe(true);
    }
  });
});
