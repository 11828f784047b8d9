/**
 * buildPipeline: a pipeline built from a config computes exactly what the same operators composed
 * by hand compute, frame for frame (model updates, the model itself, factors, metrics, events);
 * bad frames are counted and do not stop it; the raw path (compress, validate after it); the
 * branches and `operator` alone; the clock hooks (virtual time); operator refusals at build time
 * become ConfigErrors naming the stage.
 */
import { describe, expect, it } from 'vitest';
import { connectable, from, lastValueFrom, Subject, toArray, zip, type Observable } from 'rxjs';
import { ConfigError } from '../../src/errors.js';
import type { Frame, StreamInfo } from '../../src/frames/index.js';
import { Rng } from '../../src/linalg/random.js';
import { makeProjection, type ProjectionSpec } from '../../src/sensing/index.js';
import { buildPipeline, type PipelineValue } from '../../pipelines/builder.js';
import { parsePipelineConfig } from '../../pipelines/config.js';
import {
  batchFrames, compress, detectGaps, metrics, onlineNmf, reconstruct, validateFrames,
  type FactorsMessage, type MetricsSnapshot, type ModelUpdate, type PipelineEvent,
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
