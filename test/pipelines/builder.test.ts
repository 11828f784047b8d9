/**
 * buildPipeline: a pipeline built from a config computes exactly what the same operators composed
 * by hand compute, frame for frame (model updates, the model itself, factors, metrics, events);
 * bad frames are counted and do not stop it; the raw path (compress, validate after it); the
 * branches and `operator` alone; the clock hooks (virtual time); operator refusals at build time
 * become ConfigErrors naming the stage; the spectral path (stft → compress → NMF) and the tensor
 * path (window → onlineCp) equal the same operators composed by hand.
 */
import { describe, expect, it } from 'vitest';
import { connectable, from, lastValueFrom, pipe, Subject, toArray, zip, type Observable, type OperatorFunction } from 'rxjs';
import { ConfigError } from '../../src/errors.js';
import type { Frame, StreamInfo } from '../../src/frames/index.js';
import { Rng } from '../../src/linalg/random.js';
import { makeProjection, type ProjectionSpec } from '../../src/sensing/index.js';
import { buildPipeline, type PipelineValue } from '../../pipelines/builder.js';
import { parsePipelineConfig } from '../../pipelines/config.js';
import {
  batchFrames, compress, detectGaps, metrics, onlineCp, onlineNmf, reconstruct, stft, validateFrames, window,
  type CpWindowUpdate, type FactorsMessage, type FrameWindow, type MetricsSnapshot, type ModelUpdate, type PipelineEvent,
} from '../../pipelines/index.js';
import { testScheduler } from './helpers.js';

const N = 120, D = 30, R = 3;
const SPEC: ProjectionSpec = { ensemble: 'sparse-binary', n: N, d: D, p: 4, seed: 11 };
const P = makeProjection(SPEC);
const INFO: StreamInfo = { id: 'sim', kind: 'compressed', n: N, rate: 250, projection: SPEC };

/** `count` raw frames x = W h + small noise, W sparse non-negative (5 per column), seeded. */
function rawFrames(count: number, seed: number): Float64Array[] {
  const rng = new Rng(seed);
  const W = new Float64Array(N * R);
  for (let c = 0; c < R; c++) for (let k = 0; k < 5; k++) W[rng.int(N) * R + c] = 1 + rng.normal() ** 2;
  const out: Float64Array[] = [];
  for (let j = 0; j < count; j++) {
    const h = Array.from({ length: R }, () => Math.abs(rng.normal()));
    const x = new Float64Array(N);
    for (let i = 0; i < N; i++) {
      let v = 0.01 * rng.normal();
      for (let c = 0; c < R; c++) v += W[i * R + c]! * h[c]!;
      x[i] = v;
    }
    out.push(x);
  }
  return out;
}

/** A compressed stream (count ≥ 310) with faults: NaN at seq 100, a short frame at 200, 10 frames lost at 250–259, a duplicate of 309. */
function faultyStream(count: number): { stream: Frame[]; good: number } {
  const frames: Frame[] = rawFrames(count, 5).map((x, seq) => ({ seq, t: seq / 250, values: P.apply(x) }));
  frames[100] = { ...frames[100]!, values: frames[100]!.values.map((v, i) => (i === 7 ? NaN : v)) };
  frames[200] = { ...frames[200]!, values: frames[200]!.values.subarray(0, D - 1) };
  const stream = frames.filter((f) => f.seq < 250 || f.seq >= 260);
  expect(stream[299]!.seq).toBe(309);
  stream.splice(300, 0, { ...stream[299]! });
  return { stream, good: count - 2 - 10 };
}

const YAML = `
version: 1
stream:
  id: sim
  kind: compressed
  n: ${N}
  rate: 250
  projection: { ensemble: sparse-binary, n: ${N}, d: ${D}, p: 4, seed: 11 }
stages:
  - type: detectGaps
  - type: validate
  - type: batch
    maxBatch: 32
    maxWaitMs: 0
  - type: onlineNmf
    rank: ${R}
    seed: 3
  - type: reconstruct
    everyFrames: 300
    everyMs: 0
  - type: metrics
    intervalMs: 600000
`;

/** What an update says, copied when it is emitted (the model is live). */
function summary(u: ModelUpdate): Record<string, unknown> {
  const { seq, lastSeq, t, count, rejected, clipped, clippedTotal, framesSeen, arrivals, doneAt } = u;
  return { seq, lastSeq, t, count, rejected, clipped, clippedTotal, framesSeen, arrivals: Array.from(arrivals), doneAt, W: Array.from(u.model.components().W.data) };
}

/** A factors message without its wall-clock fields. */
function factorsSummary(f: FactorsMessage): Record<string, unknown> {
  const { seconds: _s, longestSliceMs: _l, ...rest } = f;
  return rest;
}

interface Outcome {
  updates: Record<string, unknown>[];
  factors: Record<string, unknown>[];
  snaps: MetricsSnapshot[];
  events: PipelineEvent[];
  finalState: unknown;
}

/** Collects the three outputs of a run whose `connect` starts a synchronous source. */
async function collect(updates$: Observable<ModelUpdate>, factors$: Observable<FactorsMessage>, metrics$: Observable<MetricsSnapshot>, connect: () => void, events: PipelineEvent[]): Promise<Outcome> {
  const updates: Record<string, unknown>[] = [];
  let last: ModelUpdate | undefined;
  const done = lastValueFrom(zip(
    factors$.pipe(toArray()),
    metrics$.pipe(toArray()),
    new Promise<void>((resolve) => updates$.subscribe({ next: (u) => { updates.push(summary(u)); last = u; }, complete: resolve })),
  ));
  connect();
  const [factors, snaps] = await done;
  return { updates, factors: factors.map(factorsSummary), snaps, events, finalState: last?.model.state() };
}

/** The same pipeline as YAML, composed by hand as pipeline.test.ts / bench/stream.ts do. */
async function byHand(stream: Frame[]): Promise<Outcome> {
  const log: PipelineEvent[] = [];
  const events = new Subject<PipelineEvent>();
  const onEvent = (e: PipelineEvent) => { log.push(e); events.next(e); };
  const now = () => 0;
  const updates = connectable(from(stream).pipe(
    detectGaps({ onEvent }), validateFrames(INFO, { onEvent }), batchFrames({ maxBatch: 32, maxWaitMs: 0, onEvent, now }),
    onlineNmf({ rank: R, seed: 3 }, { onEvent, now }),
  ));
  return collect(
    updates, updates.pipe(reconstruct(SPEC, { everyFrames: 300, everyMs: 0, onEvent })), updates.pipe(metrics({ events, intervalMs: 600_000, now })),
    () => updates.connect(), log,
  );
}

async function byBuilder(stream: Frame[]): Promise<Outcome> {
  const log: PipelineEvent[] = [];
  const built = buildPipeline(parsePipelineConfig(YAML, 'test.yaml'), { onEvent: (e) => log.push(e), now: () => 0 });
  const run = built.run(from(stream));
  return collect(run.output as Observable<ModelUpdate>, run.factors, run.metrics, () => run.connect(), log);
}

describe('buildPipeline', () => {
  it('computes what the hand-assembled operators compute, frame for frame', async () => {
    const { stream, good } = faultyStream(1000);
    const [hand, built] = [await byHand(stream), await byBuilder(stream)];
    // Not vacuous: the model learnt from every good frame, and there is something to compare.
    expect(built.updates.length).toBeGreaterThan(30);
    expect(built.updates.at(-1)).toMatchObject({ framesSeen: good });
    expect(built.factors.length).toBeGreaterThanOrEqual(2);
    expect(built.events.filter((e) => e.type === 'reject' || e.type === 'gap').map((e) => [e.type, e.seq])).toEqual([
      ['reject', 100], ['reject', 200], ['gap', 260], ['reject', 309],
    ]);
    expect(built.updates).toEqual(hand.updates);
    expect(built.finalState).toEqual(hand.finalState);
    expect(built.factors).toEqual(hand.factors);
    expect(built.snaps).toEqual(hand.snaps);
    expect(built.events).toEqual(hand.events);
  });

  it('counts bad frames on the side channel and keeps running', async () => {
    const { stream, good } = faultyStream(600);
    // Frames no device should send: a seq that is not a counter value, values that are not a typed array.
    stream.splice(60, 0, { seq: 60, t: 0.24, values: Array.from({ length: D }, () => 1) } as unknown as Frame);
    stream.splice(50, 0, { seq: 'x', t: 0, values: new Float64Array(D) } as unknown as Frame);
    const log: PipelineEvent[] = [];
    const built = buildPipeline(parsePipelineConfig(YAML), { onEvent: (e) => log.push(e) });
    const run = built.run(from(stream));
    const done = lastValueFrom(zip(run.metrics.pipe(toArray()), run.output.pipe(toArray()), run.factors.pipe(toArray())));
    run.connect();
    const [snaps, updates] = await done;
    const last = snaps.at(-1)!;
    expect(last).toMatchObject({ framesTotal: good, rejects: 5, gaps: 1, lost: 10 });
    expect(last.rejectsByReason).toEqual({ type: 2, 'non-finite': 1, length: 1, 'seq-duplicate': 1 });
    expect(log.filter((e) => e.type === 'reject').map((e) => e.type === 'reject' && [e.operator, e.seq])).toEqual([
      ['detectGaps', undefined], ['validateFrames', 60], ['validateFrames', 100], ['validateFrames', 200], ['validateFrames', 309],
    ]);
    expect((updates.at(-1) as ModelUpdate).framesSeen).toBe(good); // frames after every fault reached the model
  });

  it('runs the raw path: validate raw, compress, validate the compressed frames, as by hand', async () => {
    const xs = rawFrames(300, 8);
    const frames: Frame[] = xs.map((values, seq) => ({ seq, t: seq, values }));
    frames[40] = { ...frames[40]!, values: frames[40]!.values.subarray(1) }; // rejected by the raw validate
    const rawInfo: StreamInfo = { id: 'raw', kind: 'raw', n: N, rate: 250 };
    const config = parsePipelineConfig({
      version: 1, stream: rawInfo, stages: [
        { type: 'validate' }, { type: 'compress', projection: SPEC, poolSize: 4 }, { type: 'validate' },
        { type: 'batch', maxBatch: 16, maxWaitMs: 0 }, { type: 'onlineNmf', rank: R },
      ],
    });
    const built = buildPipeline(config);
    expect(built.output).toBe('updates');
    expect(built.branches).toEqual([]);
    const viaBuilder = await lastValueFrom(from(frames).pipe(built.operator, toArray()));
    const viaHand = await lastValueFrom(from(frames).pipe(
      validateFrames(rawInfo), compress(SPEC, { poolSize: 4 }), validateFrames(INFO), batchFrames({ maxBatch: 16, maxWaitMs: 0 }), onlineNmf({ rank: R }), toArray(),
    ));
    const state = (us: PipelineValue[]) => (us.at(-1) as ModelUpdate).model.state();
    expect((viaBuilder.at(-1) as ModelUpdate).framesSeen).toBe(299);
    expect(state(viaBuilder)).toEqual(state(viaHand));
    // Without branches the run still works: factors and metrics are empty.
    const run = built.run(from(frames));
    const done = lastValueFrom(zip(run.output.pipe(toArray()), run.factors.pipe(toArray()), run.metrics.pipe(toArray())));
    run.connect();
    const [out, factors, snaps] = await done;
    expect([out.length, factors.length, snaps.length]).toEqual([viaBuilder.length, 0, 0]);
  });

  it('describes its branches and their tap point; operator alone is the transform stages', async () => {
    const built = buildPipeline(parsePipelineConfig(YAML));
    expect(built.info).toEqual(INFO);
    expect(built.output).toBe('updates');
    expect(built.branches.map(({ index, type, name, after }) => ({ index, type, name, after }))).toEqual([
      { index: 4, type: 'reconstruct', name: 'factors', after: 4 },
      { index: 5, type: 'metrics', name: 'metrics', after: 4 },
    ]);
    const { stream, good } = faultyStream(400);
    const updates = await lastValueFrom(from(stream).pipe(built.operator, toArray()));
    expect(updates.map((u) => (u as ModelUpdate).framesSeen).at(-1)).toBe(good);
  });

  it('drives the timers with hooks.scheduler (virtual time)', () => {
    const config = parsePipelineConfig({
      version: 1, stream: INFO, stages: [{ type: 'batch', maxBatch: 3, maxWaitMs: 5 }, { type: 'onlineNmf', rank: 1 }, { type: 'metrics', intervalMs: 10 }],
    });
    const ts = testScheduler();
    ts.run(({ cold }) => {
      const f = (seq: number): Frame => ({ seq, t: seq, values: Float64Array.from({ length: D }, (_, i) => 1 + ((i + seq) % 3)) });
      const run = buildPipeline(config, { scheduler: ts }).run(cold('a-b-c-d 20ms |', { a: f(0), b: f(1), c: f(2), d: f(3) }));
      const updates: number[][] = [];
      const snaps: number[][] = [];
      run.output.subscribe((u) => updates.push([ts.now(), (u as ModelUpdate).count]));
      run.metrics.subscribe((m) => snaps.push([ts.now(), m.framesTotal]));
      run.connect();
      ts.flush();
      // a b c d at 0, 2, 4, 6 ms: a full block at 4 ms, [d] when it has waited 5 ms (11 ms);
      // snapshots every 10 ms and one at completion (27 ms).
      expect(updates).toEqual([[4, 3], [11, 1]]);
      expect(snaps).toEqual([[10, 3], [20, 4], [27, 4]]);
    });
  });

  it('turns an operator refusing its options at build time into a ConfigError naming the stage', () => {
    const config = parsePipelineConfig(YAML, 'test.yaml');
    // The config is fine; the hooks hand batch a scheduler that is not one, and batchFrames refuses it.
    const e = (() => {
      try {
        buildPipeline(config, { scheduler: {} as never });
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(ConfigError);
    const ce = e as ConfigError;
    expect([ce.source, ce.path, ce.line]).toEqual(['test.yaml', 'stages[2]', YAML.split('\n').indexOf('  - type: batch') + 1]);
    expect(ce.problem).toMatch(/^batch refused it: batchFrames: option 'scheduler' must be/);
  });

  it('checks a config that did not come from parsePipelineConfig', () => {
    const bad = { version: 1, stream: INFO, stages: [{ type: 'onlineNmf', rank: 3 }] };
    expect(() => buildPipeline(bad as never)).toThrow(ConfigError);
    expect(() => buildPipeline(bad as never)).toThrow(/stages\[0\]\.type: onlineNmf takes blocks of frames/);
  });
});

/** C channels at `rate` Hz, `count` samples: channel c is a tone at 4 + 4c Hz and one at 14 Hz, their amplitudes drifting slowly, plus seeded noise. */
function sineFrames(C: number, rate: number, count: number, seed: number): Frame[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, (_, i) => {
    const t = i / rate;
    const values = Float64Array.from({ length: C }, (_, c) => {
      const a = 1 + Math.sin(0.3 * t + c), b = 1 + Math.cos(0.2 * t + 2 * c);
      return a * Math.sin(2 * Math.PI * (4 + 4 * c) * t) + b * Math.sin(2 * Math.PI * 14 * t + c) + 0.05 * rng.normal();
    });
    return { seq: i, t, values };
  });
}

const SINE_RATE = 64, SINE_C = 4;
/** 0.5 s windows at 64 Hz: bins 2, 4, …, 20 Hz, 10 bins × 4 channels = 40 values per spectrum, 8 spectra per second. */
const STFT_OPTIONS = { window: 0.5, hop: 0.125, fmin: 2, fmax: 20 };
const SPECTRAL_SPEC: ProjectionSpec = { ensemble: 'sparse-binary', n: 40, d: 16, p: 3, seed: 7 };

const SPECTRAL_YAML = `
version: 1
stream: { id: eeg, kind: raw, n: ${SINE_C}, rate: ${SINE_RATE}, labels: [Fz, Cz, Pz, Oz] }
stages:
  - type: detectGaps
  - type: validate
  - type: stft
    window: 0.5
    hop: 0.125
    fmin: 2
    fmax: 20
  - type: validate
  - type: compress
    projection: { ensemble: sparse-binary, n: 40, d: 16, p: 3, seed: 7 }
  - type: batch
    maxBatch: 8
    maxWaitMs: 0
  - type: onlineNmf
    rank: 3
    seed: 1
  - type: reconstruct
    everyFrames: 40
    everyMs: 0
  - type: metrics
    intervalMs: 600000
`;

describe('buildPipeline: stft, window and onlineCp', () => {
  it('a built stft pipeline (stft → validate → compress → NMF) computes what the hand-composed one computes', async () => {
    const stream = sineFrames(SINE_C, SINE_RATE, 1400, 3);
    // A NaN sample: validate drops it, and stft restarts at the seq jump it leaves.
    stream[500] = { ...stream[500]!, values: stream[500]!.values.map((v, c) => (c === 2 ? NaN : v)) };
    const rawInfo: StreamInfo = { id: 'eeg', kind: 'raw', n: SINE_C, rate: SINE_RATE, labels: ['Fz', 'Cz', 'Pz', 'Oz'] };
    const spectral: StreamInfo = { id: 'eeg', kind: 'raw', n: 40, rate: 8 }; // written out, not derived: the builder's derivation is under test
    const compressedSpectral: StreamInfo = { ...spectral, kind: 'compressed', projection: SPECTRAL_SPEC };

    const log: PipelineEvent[] = [];
    const events = new Subject<PipelineEvent>();
    const onEvent = (e: PipelineEvent) => { log.push(e); events.next(e); };
    const now = () => 0;
    const updates = connectable(from(stream).pipe(
      detectGaps({ onEvent }), validateFrames(rawInfo, { onEvent }), stft({ rate: SINE_RATE, ...STFT_OPTIONS, onEvent }),
      validateFrames(spectral, { onEvent }), compress(SPECTRAL_SPEC, { onEvent }), batchFrames({ maxBatch: 8, maxWaitMs: 0, onEvent, now }),
      onlineNmf({ rank: 3, seed: 1 }, { onEvent, now }),
    ));
    const hand = await collect(
      updates, updates.pipe(reconstruct(SPECTRAL_SPEC, { everyFrames: 40, everyMs: 0, onEvent })), updates.pipe(metrics({ events, intervalMs: 600_000, now })),
      () => updates.connect(), log,
    );

    const builtLog: PipelineEvent[] = [];
    const built = buildPipeline(parsePipelineConfig(SPECTRAL_YAML, 'spectral.yaml'), { onEvent: (e) => builtLog.push(e), now });
    expect(built.info).toEqual(rawInfo);
    const run = built.run(from(stream));
    const viaBuilder = await collect(run.output as Observable<ModelUpdate>, run.factors, run.metrics, () => run.connect(), builtLog);

    // Not vacuous: spectra of both segments reached the model, factors were recovered, the fault was seen.
    const spectra = (n: number) => Math.floor((n - 32) / 8) + 1;
    expect(viaBuilder.updates.at(-1)).toMatchObject({ framesSeen: spectra(500) + spectra(899) });
    expect(viaBuilder.factors.length).toBeGreaterThanOrEqual(2);
    const faults = viaBuilder.events.filter((e) => e.type === 'reject' || e.type === 'reset');
    expect(faults.map((e) => [e.type, e.operator, e.seq])).toEqual([
      ['reject', 'validateFrames', 500], ['reset', 'stft', 501],
    ]);
    expect(viaBuilder.updates).toEqual(hand.updates);
    expect(viaBuilder.finalState).toEqual(hand.finalState);
    expect(viaBuilder.factors).toEqual(hand.factors);
    expect(viaBuilder.snaps).toEqual(hand.snaps);
    expect(viaBuilder.events).toEqual(hand.events);

    // The spectral frames themselves, up to the second validate: equal, with the header the config derived.
    const upToSpectra = buildPipeline(parsePipelineConfig({ ...built.config, stages: built.config.stages.slice(0, 4) }));
    expect(upToSpectra.output).toBe('frames');
    const framesBuilt = await lastValueFrom(from(stream).pipe(upToSpectra.operator, toArray()));
    const framesHand = await lastValueFrom(from(stream).pipe(validateFrames(rawInfo), stft({ rate: SINE_RATE, ...STFT_OPTIONS }), toArray()));
    expect(framesBuilt.length).toBe(spectra(500) + spectra(899));
    expect(framesBuilt).toEqual(framesHand);
  });

  it.each([
    {
      name: 'stft → window → onlineCp (shape from stft: [10 bins, 3 channels])',
      stages: [{ type: 'stft', ...STFT_OPTIONS }, { type: 'window', length: 16, hop: 4 }],
      model: { rank: 2, seed: 4 }, operator: { recoverEvery: 2, factors: true, maxPendingRecoveries: 16 },
      hand: pipe(stft({ rate: SINE_RATE, ...STFT_OPTIONS }), window({ length: 16, hop: 4 })),
      channels: 3, shape: [10, 3] as const, nonneg: false, windows: 17, // 82 spectra of 680 samples: ⌊(82 − 16)/4⌋ + 1 windows
    },
    {
      name: 'window → onlineCp of non-negative raw frames (explicit shape [2, 3])',
      stages: [{ type: 'window', length: 16, hop: 8 }],
      model: { rank: 2, shape: [2, 3], warmStartWindows: 2 }, operator: { recoverEvery: 8, maxPendingRecoveries: 16 },
      hand: window({ length: 16, hop: 8 }),
      channels: 6, shape: [2, 3] as const, nonneg: true, windows: 83, // ⌊(680 − 16)/8⌋ + 1 windows, the first one buffered for the warm start
    },
  ])('a built window → onlineCp pipeline computes what the hand-composed one computes: $name', async ({ stages, model, operator, hand, channels, shape, nonneg, windows }) => {
    const projection: ProjectionSpec = { ensemble: 'sparse-binary', n: 16, d: 6, p: 2, seed: 5 };
    // Raw samples for stft; for a CP of the raw frames themselves, non-negative ones (|x|).
    const stream = sineFrames(channels, SINE_RATE, 680, 9).map((f) => (nonneg ? { ...f, values: f.values.map(Math.abs) } : f));
    const config = parsePipelineConfig({
      version: 1, stream: { id: 'eeg', kind: 'raw', n: channels, rate: SINE_RATE }, stages: [...stages, { type: 'onlineCp', projection, ...model, ...operator }],
    });
    const built = buildPipeline(config);
    expect([built.output, built.branches.length]).toEqual(['cpUpdates', 0]);
    const strip = (us: unknown[]) => (us as CpWindowUpdate[]).map(({ seconds: _s, ...u }) => u);
    const run = built.run(from(stream));
    const done = lastValueFrom(zip(run.output.pipe(toArray()), run.factors.pipe(toArray()), run.metrics.pipe(toArray())));
    run.connect();
    const [viaRun, factors, snaps] = await done;
    const viaOperator = await lastValueFrom(from(stream).pipe(built.operator, toArray()));
    const viaHand = await lastValueFrom(from(stream).pipe(
      hand as OperatorFunction<Frame, FrameWindow>,
      onlineCp({ projection, model: { ...model, shape } }, operator),
      toArray(),
    ));
    // Not vacuous: many windows, recovered temporal factors of the window length, a fit worth the name.
    expect(viaHand.length).toBe(windows);
    expect(viaHand.filter((u) => u.A !== null).length).toBe(Math.ceil(windows / operator.recoverEvery));
    expect(viaHand.find((u) => u.A !== null)!.A![0]!.length).toBe(16);
    expect(Math.min(...viaHand.map((u) => u.fitError))).toBeLessThan(0.4);
    expect(strip(viaRun)).toEqual(strip(viaHand));
    expect(strip(viaOperator)).toEqual(strip(viaHand));
    expect([factors.length, snaps.length]).toEqual([0, 0]);
  });
});
