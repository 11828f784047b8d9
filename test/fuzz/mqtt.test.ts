/**
 * Bad-input corpus for the MQTT sensor source (devices/mqtt/sensor.ts): frame payloads (mutated
 * CFSB batches, mutated JSON, other streams' batches, garbage) and info payloads, through the pure
 * `decodeSensorPayload` and through a running `mqttSource` on a fake connection (the `connection`
 * option is the seam: an MqttConnection subclass that delivers messages and never touches the
 * network).
 *
 * Properties: decodeSensorPayload never throws and gives a documented reason; every frame it
 * yields gets a verdict from FrameValidator (ok or a reason, never a throw); in a running source
 * every message is accounted for (frames, one reject with a reason, dropped, or pending), the
 * counters match the events, and frames$ never errors.
 */
import fc from 'fast-check';
import { Subject, filter, type Observable, type Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { MqttConnection } from '../../devices/mqtt/client.js';
import type { MqttConnectionEvent, MqttMessage } from '../../devices/mqtt/clientTypes.js';
import {
  decodeSensorPayload, MQTT_SOURCE_REJECT_REASONS, mqttSource, type MqttSourceEvent, type MqttSourceRejectReason,
} from '../../devices/mqtt/sensor.js';
import { decodeStreamInfo, FrameValidator, frameLength, REJECT_REASONS, type Frame, type StreamInfo } from '../../src/frames/index.js';
import { DataError } from '../../src/errors.js';
import {
  batchArb, batchMutation, COMP4, encodeBatch, jsonMutation, jsonPayloadArb, mutateBatch, mutateJson, RAW3, wrongJson,
} from './arbitraries.js';
import { atOffset, expectOnly, runAsyncProperty, runProperty, total } from './helpers.js';

const enc = new TextEncoder();

/** A frames payload for `info`: mostly its own batches and JSON, mutated or not, plus strangers and garbage. */
function framesPayload(info: StreamInfo): fc.Arbitrary<Uint8Array> {
  const dims = frameLength(info);
  return fc.oneof(
    { weight: 3, arbitrary: fc.tuple(batchArb(info.id, dims), fc.array(batchMutation, { maxLength: 2 })).map(([b, ms]) => ms.reduce(mutateBatch, encodeBatch(b))) },
    { weight: 1, arbitrary: batchArb().map(encodeBatch) }, // another stream's id or width
    { weight: 3, arbitrary: fc.tuple(jsonPayloadArb(dims), fc.option(jsonMutation)).map(([o, m]) => (m === null ? enc.encode(JSON.stringify(o)) : mutateJson(o, m, dims).bytes)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', '{', 'CFSB', 'null', '[]', '{"seq":1}').map((s) => enc.encode(s)) },
  );
}

/** An info payload: the stream's own header again, a malformed one, or an empty (clearing) message. */
function infoPayload(info: StreamInfo): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.constant(enc.encode(JSON.stringify(info))),
    fc.constant(new Uint8Array(0)),
    wrongJson.map((j) => enc.encode(j)),
    fc.record({ id: fc.constant(info.id), kind: fc.constantFrom('raw', 'compressed', 'other'), n: fc.oneof(fc.integer({ min: -2, max: 5 }), fc.constant(1.5)), rate: fc.constant(100) }).map((o) => enc.encode(JSON.stringify(o)))
      .filter((b) => { try { const i = decodeStreamInfo(b); return JSON.stringify(i) === JSON.stringify(info); } catch { return true; } }), // only malformed or identical
  );
}

describe('decodeSensorPayload fuzz', () => {
  it('never throws, rejects with a documented reason, and every frame it yields gets a verdict', () => {
    const arb = fc.constantFrom(RAW3, COMP4).chain((info) => fc.record({ info: fc.constant(info), payload: framesPayload(info), offset: fc.integer({ min: 0, max: 7 }) }));
    const seen = new Map<string, number>();
    const tally = (k: string) => seen.set(k, (seen.get(k) ?? 0) + 1);
    runProperty('sensor payloads', 31, 400, arb, ({ info, payload, offset }) => {
      const r = expectOnly('decodeSensorPayload', [], () => decodeSensorPayload(atOffset(payload, offset), info, 'fuzz/frames'));
      if (!r.ok) return;
      const res = r.value;
      if (!res.ok) {
        expect(MQTT_SOURCE_REJECT_REASONS).toContain(res.reason);
        expect(res.message.length).toBeGreaterThan(0);
        tally(res.reason);
        return;
      }
      tally('ok');
      const validator = new FrameValidator(info);
      for (const f of res.frames) {
        expect(f.values).toHaveLength(frameLength(info));
        const v = expectOnly('FrameValidator.check', [], () => validator.check(f));
        if (v.ok && !v.value.ok) {
          expect(REJECT_REASONS).toContain(v.value.reason);
          tally(`validator ${v.value.reason}`);
        }
      }
    });
    // The corpus reaches every outcome a frames payload can have.
    for (const k of ['ok', 'decode', 'length', 'stream-id', 'validator non-finite']) expect(seen.get(k), `outcome ${k} never occurred: ${JSON.stringify([...seen])}`).toBeGreaterThan(0);
  });
});

/** A connection that never connects anywhere: messages are delivered by the test. */
class FakeConnection extends MqttConnection {
  private readonly inbox = new Subject<MqttMessage>();
  override readonly messages$ = this.inbox.asObservable();
  override readonly events$ = new Subject<MqttConnectionEvent>().asObservable();
  subscribed: string[] = [];

  constructor() {
    super({ url: 'mqtt://127.0.0.1:1' });
  }

  override connect(): Promise<void> {
    return Promise.resolve();
  }

  // Sources take their topics through messagesOn (routed by topic), not the messages$ firehose.
  override messagesOn(topic: string): Observable<MqttMessage> {
    return this.inbox.pipe(filter((m) => m.topic === topic));
  }

  override async subscribe(filters: string | readonly string[]): Promise<number[]> {
    const list = typeof filters === 'string' ? [filters] : [...filters];
    this.subscribed.push(...list);
    return list.map(() => 0);
  }

  override async unsubscribe(): Promise<void> {}

  override close(): Promise<void> {
    return Promise.resolve();
  }

  deliver(topic: string, payload: Uint8Array, offset: number): void {
    this.inbox.next({ topic, payload: atOffset(payload, offset), retain: false, qos: 0, properties: undefined });
  }
}

type Message = { topic: 'frames' | 'info'; payload: Uint8Array; offset: number };

/** What the source must do with a message sequence, computed with the pure decoders. */
function expected(info: StreamInfo, seeded: boolean, pendingMessages: number, messages: readonly Message[]) {
  const rejects = Object.fromEntries(MQTT_SOURCE_REJECT_REASONS.map((r) => [r, 0])) as Record<MqttSourceRejectReason, number>;
  const frames: Frame[] = [];
  let known = seeded;
  let dropped = 0;
  let infos = 0;
  const pending: Uint8Array[] = [];
  const decode = (p: Uint8Array) => {
    const r = decodeSensorPayload(p, info, 'x');
    if (r.ok) frames.push(...r.frames);
    else rejects[r.reason]++;
  };
  for (const m of messages) {
    if (m.topic === 'info') {
      if (m.payload.length === 0) continue;
      let ok = true;
      try {
        decodeStreamInfo(m.payload);
      } catch (e) {
        if (!(e instanceof DataError)) throw e;
        ok = false;
      }
      if (!ok) {
        rejects.info++;
        continue;
      }
      infos++;
      known = true;
      while (pending.length) decode(pending.shift()!);
      continue;
    }
    if (known) decode(m.payload);
    else if (pendingMessages === 0) rejects['no-info']++;
    else {
      if (pending.length >= pendingMessages) {
        pending.shift();
        dropped++;
      }
      pending.push(m.payload);
    }
  }
  return { frames, rejects, dropped, infos, pending: pending.length };
}

describe('mqttSource fuzz (fake connection)', () => {
  it('accounts for every message: frames, one reject with a reason, dropped or pending; frames$ never errors', async () => {
    const arb = fc.constantFrom(RAW3, COMP4).chain((info) => fc.record({
      info: fc.constant(info),
      seeded: fc.boolean(),
      pendingMessages: fc.constantFrom(0, 1, 3, 256),
      messages: fc.array(fc.oneof(
        { weight: 5, arbitrary: fc.record({ topic: fc.constant('frames' as const), payload: framesPayload(info), offset: fc.integer({ min: 0, max: 7 }) }) },
        { weight: 1, arbitrary: fc.record({ topic: fc.constant('info' as const), payload: infoPayload(info), offset: fc.integer({ min: 0, max: 7 }) }) },
      ), { maxLength: 25 }),
    }));
    const sums = { frames: 0, dropped: 0, pending: 0, infos: 0, rejects: Object.fromEntries(MQTT_SOURCE_REJECT_REASONS.map((r) => [r, 0])) as Record<MqttSourceRejectReason, number> };
    await runAsyncProperty('mqtt source', 32, 120, arb, async ({ info, seeded, pendingMessages, messages }) => {
      const conn = new FakeConnection();
      const src = mqttSource({ connection: conn, topic: `cfstream/${info.id}`, pendingMessages, ...(seeded ? { info } : {}) });
      const events: MqttSourceEvent[] = [];
      const got: Frame[] = [];
      let error: unknown;
      let completed = false;
      const subs: Subscription[] = [
        src.events$.subscribe((e) => events.push(e)),
        src.frames$.subscribe({ next: (f) => got.push(f), error: (e: unknown) => { error = e; }, complete: () => { completed = true; } }),
      ];
      await Promise.resolve();
      for (const m of messages) conn.deliver(m.topic === 'frames' ? src.topics.frames : src.topics.info, m.payload, m.offset);
      await new Promise((r) => setImmediate(r));
      const want = expected(info, seeded, pendingMessages, messages);
      const st = src.stats();
      expect(error).toBeUndefined();
      expect(completed).toBe(false);
      expect(st.messages).toBe(messages.filter((m) => m.topic === 'frames').length);
      expect(st.rejects).toEqual(want.rejects);
      expect(st.dropped).toBe(want.dropped);
      expect(st.pending).toBe(want.pending);
      expect(st.infos).toBe(want.infos);
      expect(st.frames).toBe(want.frames.length);
      expect(got.map((f) => [f.seq, f.t, [...f.values]])).toEqual(want.frames.map((f) => [f.seq, f.t, [...f.values]]));
      // The events say the same as the counters.
      const rejectEvents = events.filter((e) => e.type === 'reject');
      expect(rejectEvents).toHaveLength(total(st.rejects));
      rejectEvents.forEach((e, i) => expect(e.rejects).toBe(i + 1));
      expect(events.filter((e) => e.type === 'drop')).toHaveLength(st.dropped);
      for (const s of subs) s.unsubscribe();
      sums.frames += st.frames;
      sums.dropped += st.dropped;
      sums.pending += st.pending;
      sums.infos += st.infos;
      for (const r of MQTT_SOURCE_REJECT_REASONS) sums.rejects[r] += st.rejects[r];
    });
    // The corpus reaches every path: frames, each reject reason, drops, and messages left pending.
    expect(sums.frames && sums.dropped && sums.pending && sums.infos, JSON.stringify(sums)).toBeGreaterThan(0);
    for (const r of MQTT_SOURCE_REJECT_REASONS) expect(sums.rejects[r], `reason ${r}: ${JSON.stringify(sums)}`).toBeGreaterThan(0);
  });
});
