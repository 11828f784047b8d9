import type { MqttClient } from 'mqtt';
import { firstValueFrom, VirtualTimeScheduler, type Subscription } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type EmbeddedBroker } from '../../../devices/mqtt/broker.js';
import { MqttConnection } from '../../../devices/mqtt/client.js';
import { decodeSensorPayload, DEFAULT_MQTT_SOURCE_OPTIONS, mqttSource, type MqttSource, type MqttSourceEvent } from '../../../devices/mqtt/sensor.js';
import { parseMqttSourceUri } from '../../../devices/mqtt/topics.js';
import { InvalidOptionError } from '../../../src/errors.js';
import { encodeBatch, encodeJsonFrame, type Frame, type StreamInfo } from '../../../src/frames/index.js';
import { SensorSignal, VirtualSensor } from '../../../simulators/virtualSensor.js';
import { rawPublisher, waitFor } from './helpers.js';

const RAW: StreamInfo = { id: 's1', kind: 'raw', n: 3, rate: 100 };
const COMPRESSED: StreamInfo = { id: 'c1', kind: 'compressed', n: 10, rate: 50, projection: { ensemble: 'sparse-binary', n: 10, d: 4, p: 2, seed: 7 } };

function batchBytes(streamId: string, seq: number, count: number, dims: number, t0 = 1000): Uint8Array {
  const values = Float32Array.from({ length: count * dims }, (_, i) => seq * 100 + i + 0.25);
  return encodeBatch({ streamId, seq, t0, dt: 0.01, count, dims, values });
}

/** Copies `bytes` into a fresh buffer at byte offset `offset` (mqtt.js hands payloads at any offset). */
function atOffset(bytes: Uint8Array, offset: number): Buffer {
  const host = Buffer.alloc(bytes.length + offset + 3);
  host.set(bytes, offset);
  return host.subarray(offset, offset + bytes.length);
}

describe('decodeSensorPayload', () => {
  it('decodes a CFSB batch at every byte offset, copying the samples', () => {
    const bytes = batchBytes('s1', 40, 2, 3);
    for (let off = 0; off < 8; off++) {
      const payload = atOffset(bytes, off);
      expect(payload.byteOffset % 8).toBe(off);
      const r = decodeSensorPayload(payload, RAW, 't/s1/frames');
      expect(r.ok).toBe(true);
      const frames = (r as { frames: Frame[] }).frames;
      expect(frames.map((f) => [f.seq, f.t, [...f.values]])).toEqual([
        [40, 1000, [4000.25, 4001.25, 4002.25]],
        [41, 1000.01, [4003.25, 4004.25, 4005.25]],
      ]);
      expect(frames[0]!.values.buffer).not.toBe(payload.buffer);
    }
  });

  it('decodes JSON frames and JSON batches', () => {
    const one = decodeSensorPayload(Buffer.from(' {"seq":5,"t":1.5,"values":[1,null,3]}'), RAW, 'x');
    expect(one.ok && one.frames.map((f) => [f.seq, f.t, [...f.values]])).toEqual([[5, 1.5, [1, NaN, 3]]]);
    const batch = decodeSensorPayload(Buffer.from('{"seq":7,"t0":2,"dt":0.5,"values":[[1,2,3],[4,5,6]]}'), RAW, 'x');
    expect(batch.ok && batch.frames.map((f) => [f.seq, f.t])).toEqual([[7, 2], [8, 2.5]]);
  });

  it.each([
    ['a CFSB batch of the wrong width', batchBytes('s1', 0, 1, 4), 'length', /has 4 values per frame, expected 3 \(n of s1\)/],
    ['a JSON frame of the wrong length', Buffer.from('{"seq":1,"t":0,"values":[1,2]}'), 'length', /values has 2 values, expected 3/],
    ['a batch of another stream', batchBytes('other', 3, 1, 3), 'stream-id', /"other".*carries "s1"/],
    ['bad magic', Buffer.from('CFSX and more bytes than forty............'), 'decode', /neither a CFSB batch/],
    ['a truncated batch', batchBytes('s1', 0, 2, 3).subarray(0, 50), 'decode', /truncated samples/],
    ['text', Buffer.from('hello'), 'decode', /neither a CFSB batch .* 68 65 6c 6c/],
    ['nothing', Buffer.alloc(0), 'decode', /0 bytes starting \(empty\)/],
    ['invalid JSON', Buffer.from('{"seq": 1, "t"'), 'decode', /not valid JSON/],
    ['JSON without seq', Buffer.from('{"t":0,"values":[1,2,3]}'), 'decode', /missing seq/],
  ])('rejects %s as %s, naming the topic and the problem', (_what, payload, reason, problem) => {
    const r = decodeSensorPayload(payload, RAW, 'lab/s1/frames');
    expect(r.ok).toBe(false);
    const bad = r as { reason: string; message: string };
    expect(bad.reason).toBe(reason);
    expect(bad.message).toMatch(/mqtt lab\/s1\/frames/);
    expect(bad.message).toMatch(problem);
  });

  it('checks a compressed stream against projection.d', () => {
    expect(decodeSensorPayload(batchBytes('c1', 0, 1, 4), COMPRESSED, 'x').ok).toBe(true);
    const r = decodeSensorPayload(batchBytes('c1', 0, 1, 10), COMPRESSED, 'x');
    expect(r.ok || r.message).toMatch(/expected 4 \(projection.d of c1\)/);
  });
});

describe('parseMqttSourceUri', () => {
  it('reads host, topic base, credentials and query', () => {
    expect(parseMqttSourceUri('mqtt://127.0.0.1:1883/cfstream/eeg1')).toEqual({ url: 'mqtt://127.0.0.1:1883', base: 'cfstream/eeg1' });
    expect(parseMqttSourceUri('mqtts://a:b%21@h:8883/lab/x/eeg1/frames?qos=1&protocol=4&pending=0')).toEqual({
      url: 'mqtts://h:8883', base: 'lab/x/eeg1', username: 'a', password: 'b!', qos: 1, protocolVersion: 4, pendingMessages: 0,
    });
    expect(parseMqttSourceUri('ws://h:9001/mqtt?topic=cfstream/eeg1')).toEqual({ url: 'ws://h:9001/mqtt', base: 'cfstream/eeg1' });
    expect(parseMqttSourceUri('mqtt://h:1883/cfstream/eeg1?qos=1&session=lab%2Freader&stale=2000&queue=64')).toEqual({
      url: 'mqtt://h:1883', base: 'cfstream/eeg1', qos: 1, session: 'lab/reader', staleAfterMs: 2000, maxQueuedFrames: 64,
    });
    expect(parseMqttSourceUri('mqtt://h:1883/cfstream/eeg1?stale=0').staleAfterMs).toBe(0);
  });

  it.each([
    ['http://h/a/b', 'scheme'],
    ['mqtt://h:1883', 'path'],
    ['mqtt://h:1883/onlyone', 'path'],
    ['mqtt://h:1883/a/+', 'stream'],
    ['mqtt://h:1883/a/b?qos=2', 'qos'],
    ['mqtt://h:1883/a/b?protocol=3', 'protocol'],
    ['mqtt://h:1883/a/b?pending=-1', 'pending'],
    ['mqtt://h:1883/a/b?color=red', 'color'],
    ['mqtt://h:1883/a/b?qos=1&qos=0', 'qos'],
    ['mqtt://h:1883/a/b?stale=-5', 'stale'],
    ['mqtt://h:1883/a/b?stale=soon', 'stale'],
    ['mqtt://h:1883/a/b?queue=0', 'queue'],
    ['mqtt://h:1883/a/b?session=', 'session'],
    ['ws://h:9001/mqtt', 'topic'],
    ['nonsense', 'uri'],
  ])('refuses %s naming %s', (uri, option) => {
    let err: unknown;
    try {
      parseMqttSourceUri(uri);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect((err as InvalidOptionError).option).toBe(option);
  });

  it('mqttSource refuses bad options at once', () => {
    expect(() => mqttSource({ broker: { url: 'mqtt://h:1' }, topic: 'single' })).toThrow(InvalidOptionError);
    expect(() => mqttSource({ broker: { url: 'mqtt://h:1' }, topic: 'a/b', pendingMessages: -1 })).toThrow(/pendingMessages/);
    expect(() => mqttSource({ topic: 'a/b' })).toThrow(/broker/);
    expect(() => mqttSource({ broker: { url: 'mqtt://h:1' }, topic: 'a/b', info: { id: '', kind: 'raw', n: 1, rate: 0 } })).toThrow(/'id'/);
    for (const [bad, option] of [[{ staleAfterMs: -1 }, 'staleAfterMs'], [{ staleAfterMs: NaN }, 'staleAfterMs'], [{ maxQueuedFrames: 0 }, 'maxQueuedFrames'],
      [{ maxQueuedFrames: 1.5 }, 'maxQueuedFrames'], [{ scheduler: {} }, 'scheduler']] as const) {
      let err: unknown;
      try {
        mqttSource({ broker: { url: 'mqtt://h:1' }, topic: 'a/b', ...bad } as never);
      } catch (e) {
        err = e;
      }
      expect((err as InvalidOptionError).option).toBe(option);
    }
  });

  it('documents its defaults', () => {
    expect(DEFAULT_MQTT_SOURCE_OPTIONS).toEqual({ qos: 0, pendingMessages: 256, staleAfterMs: 5000, maxQueuedFrames: 4096 });
    expect(Object.isFrozen(DEFAULT_MQTT_SOURCE_OPTIONS)).toBe(true);
  });
});

describe('SensorSignal', () => {
  it('is determined by its seed', () => {
    const draw = (seed: number) => {
      const s = new SensorSignal(8, 2, 3, 0.1, seed);
      const x = new Float64Array(8);
      return [...s.W, ...s.next(x), ...s.next(x)];
    };
    expect(draw(3)).toEqual(draw(3));
    expect(draw(3)).not.toEqual(draw(4));
    const W = new SensorSignal(8, 2, 3, 0, 1).columns();
    expect(W.map((c) => c.filter((v) => v > 0).length)).toEqual([3, 3]);
  });
});

describe('mqttSource against aedes', () => {
  let broker: EmbeddedBroker;
  let pub: MqttClient;
  const subs: Subscription[] = [];
  const conns: MqttConnection[] = [];
  beforeAll(async () => {
    broker = await startBroker({ port: 0, wsPort: false });
    pub = await rawPublisher(broker.url);
  });
  afterEach(async () => {
    for (const s of subs.splice(0)) s.unsubscribe();
    await Promise.all(conns.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await pub.endAsync(true);
    await broker.close();
  });

  /** Subscribes to frames$ and events$, and waits until the source's subscriptions are in place. */
  async function run(src: MqttSource) {
    const frames: Frame[] = [];
    const events: MqttSourceEvent[] = [];
    let error: unknown;
    subs.push(src.events$.subscribe((e) => events.push(e)));
    subs.push(src.frames$.subscribe({ next: (f) => frames.push(f), error: (e: unknown) => (error = e) }));
    await waitFor(() => events.some((e) => e.type === 'subscribed'), 'the subscriptions');
    return { frames, events, error: () => error, rejects: () => events.filter((e) => e.type === 'reject') };
  }

  it('decodes CFSB batches that mqtt.js hands over at odd byte offsets, with a compressed stream\'s projection from the retained info', async () => {
    // 3-level topic 'lab/c1/frames' puts the payload at an odd offset of mqtt.js's packet buffer.
    await pub.publishAsync('lab/c1/info', JSON.stringify(COMPRESSED), { qos: 1, retain: true });
    const conn = new MqttConnection({ url: broker.url });
    conns.push(conn);
    const offsets: number[] = [];
    subs.push(conn.messages$.subscribe((m) => m.topic.endsWith('/frames') && offsets.push(m.payload.byteOffset)));
    const src = mqttSource({ connection: conn, topic: 'lab/c1' });
    const infoP = firstValueFrom(src.info$);
    const r = await run(src);
    expect(await infoP).toEqual(COMPRESSED);
    expect(src.info?.projection).toEqual({ ensemble: 'sparse-binary', n: 10, d: 4, p: 2, seed: 7 });
    for (let k = 0; k < 4; k++) await pub.publishAsync('lab/c1/frames', Buffer.from(batchBytes('c1', 3 * k, 3, 4)), { qos: 1 });
    await waitFor(() => r.frames.length === 12, '12 frames');
    expect(offsets.some((o) => o % 2 === 1)).toBe(true);
    expect(r.frames.map((f) => f.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect([...r.frames[4]!.values]).toEqual([304.25, 305.25, 306.25, 307.25]); // batch seq 3, row 1: 3·100 + 4…7 + 0.25
    expect(r.frames[4]!.t).toBeCloseTo(1000.01, 9);
    expect(r.rejects()).toEqual([]);
    await pub.publishAsync('lab/c1/info', '', { qos: 1, retain: true });
  });

  it('decodes JSON frames and counts malformed payloads without crashing', async () => {
    const src = mqttSource(`${broker.url}/lab/j1`, { info: { ...RAW, id: 'j1' } });
    const r = await run(src);
    const f = (seq: number) => encodeJsonFrame({ seq, t: seq / 100, values: Float64Array.of(seq, 2, 3) });
    await pub.publishAsync('lab/j1/frames', f(1), { qos: 1 });
    await pub.publishAsync('lab/j1/frames', 'garbage', { qos: 1 });
    await pub.publishAsync('lab/j1/frames', '{"seq":2,"t":0.02,"values":[1,2]}', { qos: 1 });
    await pub.publishAsync('lab/j1/frames', Buffer.from(batchBytes('j1', 3, 1, 3).subarray(0, 45)), { qos: 1 });
    await pub.publishAsync('lab/j1/info', '{"id":"j1","kind":"raw","n":0,"rate":1}', { qos: 1 });
    await pub.publishAsync('lab/j1/frames', f(4), { qos: 1 });
    await waitFor(() => r.frames.length === 2, 'the good frames');
    expect(r.frames.map((x) => [x.seq, [...x.values]])).toEqual([[1, [1, 2, 3]], [4, [4, 2, 3]]]);
    const rejects = r.rejects() as Extract<MqttSourceEvent, { type: 'reject' }>[];
    expect(rejects.map((e) => [e.topic, e.reason, e.rejects])).toEqual([
      ['lab/j1/frames', 'decode', 1], ['lab/j1/frames', 'length', 2], ['lab/j1/frames', 'decode', 3], ['lab/j1/info', 'info', 4],
    ]);
    expect(rejects[0]!.message).toMatch(/mqtt lab\/j1\/frames: neither a CFSB batch/);
    expect(rejects[2]!.message).toMatch(/truncated/);
    expect(rejects[3]!.message).toMatch(/field 'n' must be an integer ≥ 1/);
    expect(src.info).toEqual({ ...RAW, id: 'j1' }); // the bad info did not replace the good one
    expect(src.stats()).toMatchObject({ messages: 5, frames: 2, rejects: { decode: 2, length: 1, info: 1, 'stream-id': 0, 'no-info': 0 } });
    expect(r.error()).toBeUndefined();
  });

  it('holds frames that come before the info (bounded, drops counted), then replays them in order', async () => {
    const src = mqttSource({ broker: { url: broker.url }, topic: 'lab/p1', pendingMessages: 2 });
    const r = await run(src);
    for (let k = 0; k < 5; k++) await pub.publishAsync('lab/p1/frames', Buffer.from(batchBytes('p1', 2 * k, 2, 3)), { qos: 1 });
    await waitFor(() => src.stats().messages === 5, 'five messages');
    expect(r.frames).toEqual([]);
    expect(src.stats()).toMatchObject({ pending: 2, dropped: 3 });
    expect(r.events.filter((e) => e.type === 'drop').map((e) => (e as { dropped: number }).dropped)).toEqual([1, 2, 3]);
    await pub.publishAsync('lab/p1/info', JSON.stringify({ ...RAW, id: 'p1' }), { qos: 1, retain: true });
    await waitFor(() => r.frames.length === 4, 'the held frames');
    expect(r.frames.map((x) => x.seq)).toEqual([6, 7, 8, 9]);
    expect(src.stats().pending).toBe(0);
    const info = r.events.find((e) => e.type === 'info');
    expect(info).toMatchObject({ topic: 'lab/p1/info', changed: false });
    await pub.publishAsync('lab/p1/info', '', { qos: 1, retain: true });
  });

  it('rejects frames before the info with pendingMessages 0', async () => {
    const src = mqttSource(`${broker.url}/lab/p0?pending=0&qos=1`);
    const r = await run(src);
    await pub.publishAsync('lab/p0/frames', Buffer.from(batchBytes('p0', 0, 1, 3)), { qos: 1 });
    await waitFor(() => r.rejects().length === 1, 'the reject');
    expect(r.rejects()[0]).toMatchObject({ reason: 'no-info', topic: 'lab/p0/frames' });
    expect((r.rejects()[0] as { message: string }).message).toMatch(/before any StreamInfo on lab\/p0\/info/);
  });

  it('reads a virtual sensor end to end and counts its injected faults', async () => {
    const src = mqttSource(`${broker.url}/vs/sensor1`);
    const r = await run(src);
    const sensor = await VirtualSensor.start({
      broker: { url: broker.url }, prefix: 'vs', n: 24, compressed: 8, seed: 5, rate: 4000, batch: 10, frames: 400,
      malformedEvery: 7, nanEvery: 3, wrongLengthEvery: 5, gapEvery: 11,
    });
    try {
      await sensor.done;
      const s = sensor.stats();
      await waitFor(() => src.stats().messages === s.messages, 'every message');
      expect(src.info).toEqual(sensor.info);
      expect(src.info!.projection).toEqual({ ensemble: 'sparse-binary', n: 24, d: 8, p: 5, seed: 5 });
      const rejects = src.stats().rejects;
      expect(rejects.decode).toBe(s.malformed.length);
      expect(rejects.length).toBe(s.wrongLength.length);
      expect(s.gaps.length).toBe(3);
      // Every frame of every good message arrives, NaN frames included (judging values is validateFrames' job).
      const goodMessages = s.messages - s.malformed.length - s.wrongLength.length;
      expect(r.frames.length).toBe(10 * goodMessages);
      const nanDelivered = s.nan.filter((n) => !s.wrongLength.some((w) => w.message === n.message)).length;
      expect(r.frames.filter((f) => Number.isNaN(f.values[0])).length).toBe(nanDelivered);
      expect(r.frames.every((f) => f.values.length === 8)).toBe(true);
      const seqs = new Set(r.frames.map((f) => f.seq));
      for (const g of s.gaps) expect(seqs.has(g.seq)).toBe(false);
    } finally {
      await sensor.close();
    }
  });

  it('reads a virtual sensor\'s JSON frames', async () => {
    const src = mqttSource(`${broker.url}/vj/j2`);
    const r = await run(src);
    const sensor = await VirtualSensor.start({ broker: { url: broker.url }, prefix: 'vj', stream: 'j2', n: 6, format: 'json', rate: 2000, frames: 60, malformedEvery: 10 });
    try {
      await sensor.done;
      await waitFor(() => src.stats().messages === sensor.stats().messages, 'every message');
      expect(r.frames.length).toBe(54);
      expect(src.stats().rejects.decode).toBe(6);
      expect(r.frames.every((f) => f.values instanceof Float64Array && f.values.length === 6)).toBe(true);
    } finally {
      await sensor.close();
    }
  });
  it("says 'stale' after staleAfterMs without a frame message (on its scheduler's clock), and 'fresh' when they come back", async () => {
    const scheduler = new VirtualTimeScheduler();
    const src = mqttSource(`${broker.url}/st/q1`, { info: { ...RAW, id: 'q1' }, staleAfterMs: 5000, scheduler });
    const r = await run(src);
    const frame = (seq: number) => encodeJsonFrame({ seq, t: seq / 100, values: Float64Array.of(1, 2, 3) });
    await pub.publishAsync('st/q1/frames', frame(7), { qos: 1 });
    await waitFor(() => r.frames.length === 1, 'the frame');
    scheduler.flush(); // 5 s of silence, in virtual time
    const stale = r.events.filter((e) => e.type === 'stale');
    expect(stale).toEqual([{
      type: 'stale', topic: 'st/q1/frames', silentMs: 5000, lastSeq: 7,
      message: 'mqtt st/q1/frames: no frames for 5.0 s (last seq 7); the stream is stale',
    }]);
    expect(src.stats()).toMatchObject({ stale: true, staleCount: 1 });
    scheduler.flush(); // still silent: said once per silence
    expect(r.events.filter((e) => e.type === 'stale')).toHaveLength(1);
    await pub.publishAsync('st/q1/frames', frame(8), { qos: 1 });
    await waitFor(() => r.events.some((e) => e.type === 'fresh'), "the 'fresh' event");
    expect(r.events.find((e) => e.type === 'fresh')).toEqual({
      type: 'fresh', topic: 'st/q1/frames', silentMs: 5000, message: 'mqtt st/q1/frames: frames again after 5.0 s of silence',
    });
    expect(src.stats()).toMatchObject({ stale: false, staleCount: 1 });
    expect(r.frames.map((f) => f.seq)).toEqual([7, 8]);
  });

  it("says 'stale' for a sensor that never sent anything, and never with staleAfterMs 0", async () => {
    const scheduler = new VirtualTimeScheduler();
    const quiet = await run(mqttSource(`${broker.url}/st/q2`, { staleAfterMs: 300, scheduler }));
    const off = await run(mqttSource(`${broker.url}/st/q3?stale=0`, { scheduler }));
    scheduler.flush();
    expect(quiet.events.find((e) => e.type === 'stale')).toMatchObject({ silentMs: 300, lastSeq: undefined, message: expect.stringMatching(/no frames for 0\.3 s \(none since subscribing\)/) });
    expect(off.events.some((e) => e.type === 'stale')).toBe(false);
  });

  it('bounds the queue to a slow consumer: the oldest frames are dropped and counted, the rest arrive in order', async () => {
    const src = mqttSource(`${broker.url}/slow/s1`, { maxQueuedFrames: 50 });
    const seqs: number[] = [];
    const events: MqttSourceEvent[] = [];
    subs.push(src.events$.subscribe((e) => events.push(e)));
    // 1 ms of work per frame: this consumer takes 1000 frames/s, the sensor sends 4000.
    subs.push(src.frames$.subscribe((f) => {
      const until = performance.now() + 1;
      while (performance.now() < until);
      seqs.push(f.seq);
    }));
    await waitFor(() => events.some((e) => e.type === 'subscribed'), 'the subscriptions');
    const sensor = await VirtualSensor.start({ broker: { url: broker.url }, prefix: 'slow', stream: 's1', n: 8, rate: 4000, batch: 20, frames: 2000 });
    try {
      await sensor.done;
      await waitFor(() => seqs.length + src.stats().framesDropped === 2000 && src.stats().queued === 0, 'every frame taken or dropped', 15_000);
      const st = src.stats();
      expect(st.framesDropped).toBeGreaterThan(0);
      expect(st.queuedPeak).toBe(50); // full, never more
      const drops = events.filter((e) => e.type === 'drop');
      expect(drops.every((e) => e.reason === 'queue-full')).toBe(true);
      expect(drops.reduce((n, e) => n + (e as { count: number }).count, 0)).toBe(st.framesDropped);
      expect(drops.at(-1)).toMatchObject({ dropped: st.framesDropped });
      expect(seqs.every((q, i) => i === 0 || q > seqs[i - 1]!)).toBe(true); // what survives keeps its order
      expect(seqs.at(-1)).toBe(1999); // the newest frames are kept, not the oldest
    } finally {
      await sensor.close();
    }
  });

  it('keeps the frames that arrive between learning the header from info$ and subscribing to frames$', async () => {
    await pub.publishAsync('gap/h1/info', JSON.stringify({ ...RAW, id: 'h1' }), { qos: 1, retain: true });
    const src = mqttSource(`${broker.url}/gap/h1`);
    const events: MqttSourceEvent[] = [];
    subs.push(src.events$.subscribe((e) => events.push(e)));
    const keep = src.info$.subscribe();
    subs.push(keep);
    expect(await firstValueFrom(src.info$)).toMatchObject({ id: 'h1' });
    await waitFor(() => events.some((e) => e.type === 'subscribed'), 'the subscriptions');
    for (let k = 0; k < 3; k++) await pub.publishAsync('gap/h1/frames', Buffer.from(batchBytes('h1', 2 * k, 2, 3)), { qos: 1 });
    await waitFor(() => src.stats().queued === 6, 'six frames held');
    const frames: Frame[] = [];
    subs.push(src.frames$.subscribe((f) => frames.push(f)));
    keep.unsubscribe();
    await waitFor(() => frames.length === 6, 'the held frames');
    expect(frames.map((f) => f.seq)).toEqual([0, 1, 2, 3, 4, 5]);
    await pub.publishAsync('gap/h1/info', '', { qos: 1, retain: true });
  });

  it('serves 100 sources on one connection, each with its own frames only', async () => {
    const conn = new MqttConnection({ url: broker.url, protocolVersion: 4 });
    conns.push(conn);
    const got: Frame[][] = [];
    const sources = Array.from({ length: 100 }, (_, i) => mqttSource({ connection: conn, topic: `hub/s${i}`, info: { ...RAW, id: `s${i}` } }));
    const subscribed = sources.map(() => false);
    sources.forEach((src, i) => {
      got.push([]);
      subs.push(src.events$.subscribe((e) => e.type === 'subscribed' && (subscribed[i] = true)));
      subs.push(src.frames$.subscribe((f) => got[i]!.push(f)));
    });
    await waitFor(() => subscribed.every(Boolean), 'a hundred subscriptions', 10_000);
    for (let i = 0; i < 100; i++) await pub.publishAsync(`hub/s${i}/frames`, encodeJsonFrame({ seq: i, t: 0, values: Float64Array.of(i, 0, 0) }), { qos: 1 });
    await waitFor(() => got.every((g) => g.length === 1), 'one frame per source');
    expect(got.map((g) => g[0]!.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(sources.every((src) => src.stats().messages === 1)).toBe(true);
  });
});
