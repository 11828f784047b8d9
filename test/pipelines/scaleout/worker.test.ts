import { afterEach, describe, expect, it } from 'vitest';
import { startBroker, type EmbeddedBroker } from '../../../devices/mqtt/broker.js';
import { ownerOf } from '../../../pipelines/scaleout/assign.js';
import { encodeCheckpoint, type StreamCheckpoint } from '../../../pipelines/scaleout/checkpoint.js';
import { Worker, type WorkerEvent, type WorkerOptions } from '../../../pipelines/scaleout/worker.js';
import type { StreamInfo } from '../../../src/frames/index.js';
import { rawPublisher, rawSubscriber, sleep, waitFor } from '../../devices/mqtt/helpers.js';
import { parsePipelineConfig } from '../../../pipelines/config.js';
import { InvalidOptionError } from '../../../src/errors.js';

const base: WorkerOptions = { broker: { url: 'mqtt://127.0.0.1:1' }, configFor: (info) => parsePipelineConfig({ version: 1, stages: [{ type: 'onlineNmf', rank: 2 }] }, 'x', { stream: info }) };

describe('Worker options', () => {
  it('takes the documented defaults and a given id', () => {
    const w = new Worker({ ...base, id: 'w1' });
    expect(w.id).toBe('w1');
    expect(w.owned()).toEqual([]);
    expect(new Worker(base).id).toMatch(/-\d+$/);
  });

  it.each([
    ['an id with a topic separator', { id: 'a/b' }, /id/],
    ['a wildcard group', { group: '+' }, /group/],
    ['results over the devices\' prefix', { resultsPrefix: 'cfstream' }, /resultsPrefix.*overwrite/],
    ['a checkpoint period under 100 ms', { checkpointEveryMs: 10 }, /checkpointEveryMs/],
    ['a negative takeover timeout', { takeoverTimeoutMs: -1 }, /takeoverTimeoutMs/],
    ['a member grace under 100 ms (the heartbeat is a quarter of it)', { memberGraceMs: 50 }, /memberGraceMs' must be a number of ms ≥ 100/],
    ['a negative stop timeout', { stopTimeoutMs: -1 }, /stopTimeoutMs/],
    ['a missing configFor', { configFor: undefined as unknown as WorkerOptions['configFor'] }, /configFor/],
  ])('refuses %s', (_what, over, message) => {
    expect(() => new Worker({ ...base, ...over })).toThrow(InvalidOptionError);
    expect(() => new Worker({ ...base, ...over })).toThrow(message);
  });
});

describe('Worker membership and fencing (embedded broker)', () => {
  let broker: EmbeddedBroker | undefined;
  const workers: Worker[] = [];
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.stop();
    await broker?.close();
    broker = undefined;
  });

  const streams = ['s0', 's1', 's2', 's3', 's4', 's5', 's6', 's7'];
  const info = (id: string): StreamInfo => ({ id, kind: 'compressed', n: 16, rate: 250, projection: { ensemble: 'sparse-binary', n: 16, d: 6, p: 2, seed: 1 } });

  async function setUp(records: Record<string, string>) {
    broker = await startBroker({ port: 0, wsPort: false });
    const pub = await rawPublisher(broker.url);
    for (const s of streams) await pub.publishAsync(`cfstream/${s}/info`, JSON.stringify(info(s)), { qos: 1, retain: true });
    for (const [topic, payload] of Object.entries(records)) await pub.publishAsync(topic, payload, { qos: 1, retain: true });
    const events: WorkerEvent[] = [];
    const configFor: WorkerOptions['configFor'] = (i) => parsePipelineConfig({ version: 1, stages: [{ type: 'batch', maxBatch: 16, maxWaitMs: 20 }, { type: 'onlineNmf', rank: 2 }] }, 'test', { stream: i });
    const a = new Worker({ ...base, configFor, id: 'a', broker: { url: broker.url, protocolVersion: 4 }, settleMs: 100, memberGraceMs: 600, log: (e) => events.push(e) });
    workers.push(a);
    await a.start();
    return { a, pub, events };
  }

  it("a vanished member's streams wait for its grace, then move", async () => {
    const ghosts = streams.filter((s) => ownerOf(s, ['a', 'ghost']) === 'ghost');
    expect(ghosts.length).toBeGreaterThan(0);
    const record = JSON.stringify({ id: 'ghost' });
    const { a, pub, events } = await setUp({ 'cfstream-workers/default/members/ghost': record });
    // The ghost is alive while it is heard: its heartbeat, every 150 ms (a quarter of the grace).
    const beat = setInterval(() => void pub.publishAsync('cfstream-workers/default/members/ghost', record, { qos: 1, retain: true }), 150);
    try {
      const mine = streams.filter((s) => !ghosts.includes(s));
      await waitFor(() => a.owned().length === mine.length, "a's share", 5000);
      await sleep(1200); // two graces: a heard member keeps its streams
      expect(a.owned()).toEqual(mine);
    } finally {
      clearInterval(beat);
    }
    await pub.publishAsync('cfstream-workers/default/members/ghost', JSON.stringify({ id: 'ghost', gone: true }), { qos: 1, retain: true });
    const gone = performance.now();
    await sleep(300);
    expect(a.owned().length).toBeLessThan(streams.length); // still within the grace: a broker restart looks like this too
    await waitFor(() => a.owned().length === streams.length, "the ghost's streams", 5000);
    expect(performance.now() - gone).toBeGreaterThanOrEqual(300);
    expect(events.filter((e) => e.event === 'members').map((e) => (e as { members: readonly string[] }).members)).toEqual([['a', 'ghost'], ['a']]);
    await pub.endAsync();
  }, 20_000);

  it('a member record nobody refreshes (a worker stopped while the broker was away) stops counting after the grace: its streams do not wait for it forever', async () => {
    const ghosts = streams.filter((s) => ownerOf(s, ['a', 'ghost']) === 'ghost');
    const { a, pub } = await setUp({ 'cfstream-workers/default/members/ghost': JSON.stringify({ id: 'ghost' }) });
    const joined = performance.now();
    await waitFor(() => a.owned().length === streams.length, 'every stream, the ghost\'s too', 5000);
    expect(performance.now() - joined).toBeGreaterThanOrEqual(600 - 100 - 50); // its grace from the join (less settleMs and one tick)
    for (const s of ghosts) expect(a.owned()).toContain(s);
    await pub.endAsync();
  }, 20_000);

  it('a malformed member record is ignored with a warning, not made a member that owns streams', async () => {
    const { a, pub, events } = await setUp({ 'cfstream-workers/default/members/phantom': 'not json', 'cfstream-workers/default/members/impostor': JSON.stringify({ id: 'someone-else' }) });
    await waitFor(() => a.owned().length === streams.length, 'every stream', 5000);
    const warnings = events.flatMap((e) => (e.event === 'warning' ? [e.message] : []));
    expect(warnings.some((m) => /members\/phantom ignored/.test(m))).toBe(true);
    expect(warnings.some((m) => /members\/impostor ignored/.test(m))).toBe(true);
    await pub.endAsync();
  }, 20_000);

  it('a worker that sees another claim a stream it runs stops it without a checkpoint (fencing)', async () => {
    const { a, pub, events } = await setUp({});
    await waitFor(() => a.owned().length === streams.length, 'every stream', 5000);
    const sub = await rawSubscriber(broker!.url, 'cfstream-workers/default/checkpoints/s3');
    const claim = encodeCheckpoint({ stream: 's3', owner: 'intruder', released: false, lastSeq: -1, index: 0, model: null });
    await pub.publishAsync('cfstream-workers/default/checkpoints/s3', claim, { qos: 1, retain: true });
    await waitFor(() => events.some((e) => e.event === 'released' && e.reason === 'fenced' && e.stream === 's3'), "s3 'fenced'", 5000);
    // The fenced task wrote nothing after the claim; the intruder is no member, so a takes s3 back with a fresh claim.
    const afterClaim = sub.messages.slice(sub.messages.findIndex((m) => m.payload.toString() === claim) + 1).map((m) => JSON.parse(m.payload.toString()) as StreamCheckpoint);
    expect(afterClaim.every((c) => c.owner === 'a' && c.released === false)).toBe(true);
    await waitFor(() => events.filter((e) => e.event === 'acquired' && e.stream === 's3').length === 2, 's3 taken back', 5000);
    await sub.end();
    await pub.endAsync();
  }, 20_000);
});
