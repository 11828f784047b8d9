/**
 * Bad frames through a running pipeline (pipelines/index.ts): mixtures of good frames and bad ones
 * (wrong length, NaN/±Infinity, duplicate, backwards seq, backwards t, malformed seq/t/values, not
 * an object) streamed through detectGaps → validateFrames → batchFrames → onlineNmf, with a
 * reconstruct branch; and, without the validator, straight into batchFrames → onlineNmf, where the
 * model's own refusal path (reason 'model') and batchFrames' checks do the work.
 *
 * Properties: the stream never errors; each bad frame gives exactly one reject event with the
 * expected reason (none for good frames); the counters add up; and the model is untouched by the
 * bad frames: its `state()` equals that of a model fed only the good frames (in the same blocks).
 */
import fc from 'fast-check';
import { connectable, from, lastValueFrom, toArray, zip } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { OnlineNMF } from '../../src/factorize/online/nmf.js';
import type { Frame, StreamInfo } from '../../src/frames/index.js';
import type { ProjectionSpec } from '../../src/sensing/index.js';
import {
  batchFrames, detectGaps, onlineNmf, reconstruct, validateFrames,
  type FactorsMessage, type ModelUpdate, type PipelineEvent, type PipelineRejectReason,
} from '../../pipelines/index.js';
import { runAsyncProperty } from './helpers.js';

const D = 4;
const SPEC: ProjectionSpec = { ensemble: 'sparse-binary', n: 12, d: D, p: 2, seed: 3 };
const INFO: StreamInfo = { id: 'fz', kind: 'compressed', n: 12, rate: 100, projection: SPEC };

/**
 * Frame values in steps of 0.01. Not arbitrary doubles: values around 1e-160 (whose squares
 * underflow) turn the model's dictionary into NaN, a known issue kept in fixtures.test.ts.
 */
const centi = (min: number, max: number) => fc.integer({ min, max }).map((v) => v / 100);

/** What a generated frame is meant to be. */
type Kind = 'good' | 'length' | 'non-finite' | 'seq-duplicate' | 'seq-backwards' | 't-backwards' | 'bad-seq' | 'bad-t' | 'bad-values' | 'not-object';

interface Op {
  kind: Kind;
  step: number; // seq advance (good and forward bad frames)
  dt: number; // t advance
  values: number[]; // D values (≥ −1, so clipping is exercised)
  f32: boolean;
  pick: number; // which value / variant
}

const op: fc.Arbitrary<Op> = fc.record({
  kind: fc.oneof(
    { weight: 8, arbitrary: fc.constant<Kind>('good') },
    { weight: 4, arbitrary: fc.constantFrom<Kind>('length', 'non-finite', 'seq-duplicate', 'seq-backwards', 't-backwards', 'bad-seq', 'bad-t', 'bad-values', 'not-object') },
  ),
  step: fc.oneof({ weight: 5, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 4 }) }),
  dt: fc.constantFrom(0, 0.01, 0.01, 0.5),
  values: fc.array(centi(-100, 1000), { minLength: D, maxLength: D }),
  f32: fc.boolean(),
  pick: fc.nat(),
});

/** The expected verdict of a frame: undefined when good, else its reason and the operator that reports it. */
interface Planned { frame: Frame; reason: PipelineRejectReason | undefined; by: 'detectGaps' | 'validateFrames' | undefined }

/** Turns ops into frames, tracking the last accepted seq and t as the validator does (bad frames never move them). */
function materialize(ops: readonly Op[], seq0: number, t0: number): Planned[] {
  let lastSeq: number | undefined;
  let lastT = t0;
  const out: Planned[] = [];
  const vals = (o: Op, v: number[] = o.values): Float32Array | Float64Array => (o.f32 ? Float32Array.from(v) : Float64Array.from(v));
  for (const o of ops) {
    const nextSeq = lastSeq === undefined ? seq0 : lastSeq + o.step;
    const nextT = lastT + o.dt;
    let kind = o.kind;
    if (lastSeq === undefined && (kind === 'seq-duplicate' || kind === 't-backwards')) kind = 'length';
    if ((lastSeq === undefined || lastSeq === 0) && kind === 'seq-backwards') kind = 'length';
    switch (kind) {
      case 'good':
        out.push({ frame: { seq: nextSeq, t: nextT, values: vals(o) }, reason: undefined, by: undefined });
        lastSeq = nextSeq;
        lastT = nextT;
        break;
      case 'length': {
        const len = [0, 1, D - 1, D + 1, 3 * D][o.pick % 5]!;
        out.push({ frame: { seq: nextSeq, t: nextT, values: vals(o, Array.from({ length: len }, (_, i) => i)) }, reason: 'length', by: 'validateFrames' });
        break;
      }
      case 'non-finite': {
        const v = [...o.values];
        v[o.pick % D] = [NaN, Infinity, -Infinity][o.pick % 3]!;
        out.push({ frame: { seq: nextSeq, t: nextT, values: vals(o, v) }, reason: 'non-finite', by: 'validateFrames' });
        break;
      }
      case 'seq-duplicate':
        out.push({ frame: { seq: lastSeq!, t: nextT, values: vals(o) }, reason: 'seq-duplicate', by: 'validateFrames' });
        break;
      case 'seq-backwards':
        out.push({ frame: { seq: o.pick % lastSeq!, t: nextT, values: vals(o) }, reason: 'seq-backwards', by: 'validateFrames' });
        break;
      case 't-backwards':
        out.push({ frame: { seq: nextSeq, t: lastT - 0.25 - o.dt, values: vals(o) }, reason: 't-backwards', by: 'validateFrames' });
        break;
      case 'bad-seq': {
        const seq = [-1, 1.5, NaN, Infinity, 2 ** 53, '7', undefined][o.pick % 7];
        out.push({ frame: { seq, t: nextT, values: vals(o) } as unknown as Frame, reason: 'type', by: 'detectGaps' });
        break;
      }
      case 'bad-t': {
        const t = [NaN, Infinity, -Infinity, '1', undefined, null][o.pick % 6];
        out.push({ frame: { seq: nextSeq, t, values: vals(o) } as unknown as Frame, reason: 'type', by: 'validateFrames' });
        break;
      }
      case 'bad-values': {
        const values = [[...o.values], null, undefined, Int32Array.from([1, 2, 3, 4]), 'abcd', { length: D }][o.pick % 6];
        out.push({ frame: { seq: nextSeq, t: nextT, values } as unknown as Frame, reason: 'type', by: 'validateFrames' });
        break;
      }
      case 'not-object': {
        const frame = [null, undefined, 42, 'frame'][o.pick % 4];
        out.push({ frame: frame as unknown as Frame, reason: 'type', by: 'detectGaps' });
        break;
      }
    }
  }
  return out;
}

/** The per-reason counts of reject events. */
function byReason(events: readonly PipelineEvent[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of events) if (e.type === 'reject') out[`${e.operator}:${e.reason}`] = (out[`${e.operator}:${e.reason}`] ?? 0) + 1;
  return out;
}

interface ModelSpec { rank: number; seed: number; warmStartFrames: number; forgetting: number }

const modelSpec: fc.Arbitrary<ModelSpec> = fc.record({
  rank: fc.integer({ min: 1, max: 3 }),
  seed: fc.nat({ max: 100 }),
  warmStartFrames: fc.constantFrom(0, 0, 6),
  forgetting: fc.constantFrom(0.995, 0.9, 1),
});

describe('running pipeline fuzz', () => {
  it('detectGaps → validateFrames → batchFrames → onlineNmf (+ reconstruct): never errors, one reject per bad frame, model as if fed only the good frames', async () => {
    const arb = fc.record({
      ops: fc.array(op, { minLength: 1, maxLength: 60 }),
      seq0: fc.nat({ max: 1000 }),
      maxBatch: fc.integer({ min: 1, max: 9 }),
      model: modelSpec,
      withReconstruct: fc.boolean(),
    });
    const seenReasons = new Set<string>();
    await runAsyncProperty('pipeline validated', 61, 150, arb, async ({ ops, seq0, maxBatch, model, withReconstruct }) => {
      const planned = materialize(ops, seq0, 10);
      const events: PipelineEvent[] = [];
      const onEvent = (e: PipelineEvent) => events.push(e);
      const updates = connectable(from(planned.map((p) => p.frame)).pipe(
        detectGaps({ onEvent }),
        validateFrames(INFO, { onEvent }),
        batchFrames({ maxBatch, maxWaitMs: 0, onEvent }),
        onlineNmf(model, { onEvent }),
      ));
      const factors$ = withReconstruct ? updates.pipe(reconstruct(SPEC, { everyFrames: 0, everyMs: 0, final: true, onEvent }), toArray()) : from([[] as FactorsMessage[]]);
      const done = lastValueFrom(zip(updates.pipe(toArray()), factors$));
      updates.connect();
      const [ups, factors] = await done; // rejects (fails the property) if the stream errors

      // One reject event per bad frame, from the operator and with the reason planned; none else.
      const want: Record<string, number> = {};
      for (const p of planned) if (p.reason) want[`${p.by}:${p.reason}`] = (want[`${p.by}:${p.reason}`] ?? 0) + 1;
      expect(byReason(events)).toEqual(want);
      for (const k of Object.keys(want)) seenReasons.add(k);
      for (const e of events) {
        if (e.type === 'reject') expect(e.message.length).toBeGreaterThan(0);
        else expect(['gap'], `unexpected ${e.type} event: ${JSON.stringify(e)}`).toContain(e.type);
      }
      const good = planned.filter((p) => p.reason === undefined).map((p) => p.frame);
      expect(ups.reduce((s, u) => s + u.count, 0)).toBe(good.length);
      expect(ups.every((u) => u.rejected === 0)).toBe(true);

      // The model: what the same operators compute from the good frames alone.
      const ref = await lastValueFrom(from(good).pipe(validateFrames(INFO), batchFrames({ maxBatch, maxWaitMs: 0 }), onlineNmf(model), toArray()));
      expect(ups.map((u) => [u.seq, u.lastSeq, u.count, u.clipped])).toEqual(ref.map((u) => [u.seq, u.lastSeq, u.count, u.clipped]));
      if (ups.length > 0) expect(ups.at(-1)!.model.state()).toEqual(ref.at(-1)!.model.state());
      if (withReconstruct && ups.length > 0 && good.length >= model.warmStartFrames) {
        // The final reconstruction ran on the finished model (a model still buffering its warm start has no factors yet).
        expect(factors.length).toBeGreaterThan(0);
        expect(factors.at(-1)!.framesSeen).toBe(good.length);
      }
    });
    // The corpus reached every reason.
    for (const r of ['validateFrames:length', 'validateFrames:non-finite', 'validateFrames:seq-duplicate', 'validateFrames:seq-backwards', 'validateFrames:t-backwards', 'validateFrames:type', 'detectGaps:type']) {
      expect(seenReasons.has(r), `never produced ${r}`).toBe(true);
    }
  });

  it('batchFrames → onlineNmf without a validator: bad frames rejected by batchFrames (type, length) and by the model (reason model), the model untouched by them', async () => {
    type RawKind = 'good' | 'model-bad' | 'length' | 'type';
    const rawOp = fc.record({
      kind: fc.oneof({ weight: 6, arbitrary: fc.constant<RawKind>('good') }, { weight: 3, arbitrary: fc.constantFrom<RawKind>('model-bad', 'length', 'type') }),
      values: fc.array(centi(-200, 1000), { minLength: D, maxLength: D }),
      pick: fc.nat(),
      f32: fc.boolean(),
    });
    const arb = fc.record({
      first: fc.array(centi(0, 1000), { minLength: D, maxLength: D }),
      ops: fc.array(rawOp, { maxLength: 60 }),
      maxBatch: fc.integer({ min: 1, max: 9 }),
      clipNegative: fc.boolean(),
      model: modelSpec,
    });
    await runAsyncProperty('pipeline unvalidated', 62, 150, arb, async ({ first, ops, maxBatch, clipNegative, model }) => {
      // What the model would refuse: NaN and +Infinity, and (without clipping) any negative entry, −Infinity included.
      const refused = (v: number) => (clipNegative ? !(v < 0) && !(v >= 0 && v < Infinity) : !(v >= 0 && v < Infinity));
      const frames: Frame[] = [{ seq: 0, t: 0, values: Float64Array.from(first) }];
      const expectBatch: Record<string, number> = {};
      const accepted: { values: number[]; seq: number }[] = [{ values: first, seq: 0 }];
      ops.forEach((o, i) => {
        const seq = i + 1;
        if (o.kind === 'length') {
          frames.push({ seq, t: seq, values: new Float64Array([0, 1, D - 1, D + 1, 2 * D][o.pick % 5]!) });
          expectBatch.length = (expectBatch.length ?? 0) + 1;
          return;
        }
        if (o.kind === 'type') {
          frames.push({ seq, t: seq, values: [[...o.values], null, undefined, 'x'][o.pick % 4] } as unknown as Frame);
          expectBatch.type = (expectBatch.type ?? 0) + 1;
          return;
        }
        const v = [...o.values];
        if (o.kind === 'model-bad') v[o.pick % D] = [NaN, Infinity, -Infinity, -3][o.pick % 4]!;
        frames.push({ seq, t: seq, values: o.f32 ? Float32Array.from(v) : Float64Array.from(v) });
        accepted.push({ values: o.f32 ? [...Float32Array.from(v)] : v, seq });
      });

      const events: PipelineEvent[] = [];
      const onEvent = (e: PipelineEvent) => events.push(e);
      const ups: ModelUpdate[] = await lastValueFrom(from(frames).pipe(
        batchFrames({ maxBatch, maxWaitMs: 0, onEvent }),
        onlineNmf(model, { clipNegative, onEvent }),
        toArray(),
      ));

      // The reference: the same blocks, each one's good frames (clipped) as one call.
      const ref = new OnlineNMF(model);
      let modelRejects = 0;
      let fed = 0;
      for (let b = 0; b < accepted.length; b += maxBatch) {
        const block = accepted.slice(b, b + maxBatch);
        const good = block.filter((f) => !f.values.some(refused));
        modelRejects += block.length - good.length;
        if (good.length === 0) continue;
        const buf = new Float64Array(good.length * D);
        good.forEach((f, i) => buf.set(f.values.map((x) => (clipNegative && x < 0 ? 0 : x)), i * D));
        ref.partialFitFrames(buf, good.length);
        fed += good.length;
      }
      const want: Record<string, number> = {};
      if (expectBatch.length) want['batchFrames:length'] = expectBatch.length;
      if (expectBatch.type) want['batchFrames:type'] = expectBatch.type;
      if (modelRejects) want['onlineNmf:model'] = modelRejects;
      expect(byReason(events)).toEqual(want);
      expect(events.every((e) => e.type === 'reject')).toBe(true);
      expect(ups.reduce((s, u) => s + u.count, 0)).toBe(fed);
      expect(ups.reduce((s, u) => s + u.rejected, 0)).toBeLessThanOrEqual(modelRejects);
      if (ups.length > 0) expect(ups.at(-1)!.model.state()).toEqual(ref.state());
      else expect(ref.framesSeen).toBe(0);
    });
  });
});
