/**
 * One worker stream on the embedded broker: frames fed once (redelivered ones skipped), a device
 * restart recognised, a checkpoint that does not fit replaced by a new model, silence reported as
 * 'stale', and the released checkpoint holding every frame fed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startBroker, type EmbeddedBroker } from '../../../devices/mqtt/broker.js';
import { parsePipelineConfig } from '../../../pipelines/config.js';
import { encodeCheckpoint, type StreamCheckpoint } from '../../../pipelines/scaleout/checkpoint.js';
import { StreamTask } from '../../../pipelines/scaleout/streamTask.js';
import { OnlineNMF } from '../../../src/factorize/online/nmf.js';
import type { StreamInfo } from '../../../src/frames/index.js';
import { rawPublisher, rawSubscriber, waitFor } from '../../devices/mqtt/helpers.js';

const info: StreamInfo = { id: 'dev1', kind: 'compressed', n: 16, rate: 250, projection: { ensemble: 'sparse-binary', n: 16, d: 6, p: 2, seed: 1 } };
const config = parsePipelineConfig({ version: 1, stages: [{ type: 'batch', maxBatch: 16, maxWaitMs: 20 }, { type: 'onlineNmf', rank: 2, warmStartFrames: 20, seed: 1 }, { type: 'reconstruct', everyMs: 200 }] }, 'test', { stream: info });

/** A JSON batch of frames seq..seq+count-1 with positive values. */
function batch(seq: number, count: number): string {
  return JSON.stringify({ seq, t0: seq / 250, dt: 1 / 250, values: Array.from({ length: count }, (_, j) => Array.from({ length: 6 }, (_, i) => 1 + ((seq + j + i) % 5))) });
}

describe('StreamTask', () => {
  let broker: EmbeddedBroker | undefined;
  afterEach(async () => { await broker?.close(); broker = undefined; });

  async function start(checkpoint?: StreamCheckpoint, extra: { staleAfterMs?: number } = {}) {
    broker = await startBroker({ port: 0, wsPort: false });
    const written: Omit<StreamCheckpoint, 'format' | 'version' | 'savedAt'>[] = [];
    const warnings: string[] = [];
    const task = await StreamTask.start({
      worker: 'w1', stream: 'dev1', info, config, broker: { url: broker.url, protocolVersion: 4 }, framesTopic: 'cfstream/dev1/frames', resultsPrefix: 'cfstream/results',
      sessionId: 'cfstream-test-s-dev1', checkpoint, publishCheckpoint: async (c) => { written.push(c); }, checkpointEveryMs: 60_000,
      warn: (m) => warnings.push(m), restartBelowFrames: 50, ...extra,
    });
    return { task, written, warnings, url: broker.url };
  }

  it('feeds each frame once: redelivered ones are skipped, a seq far back is a device restart; the release checkpoints all of them', async () => {
    const { task, written, warnings, url } = await start();
    expect(written[0]).toMatchObject({ owner: 'w1', released: false, lastSeq: -1, model: null }); // the claim comes first
    const pub = await rawPublisher(url);
    await pub.publishAsync('cfstream/dev1/frames', batch(0, 200), { qos: 1 });
    await pub.publishAsync('cfstream/dev1/frames', batch(190, 10), { qos: 1 }); // redelivered
    await pub.publishAsync('cfstream/dev1/frames', batch(0, 25), { qos: 1 }); // the device rebooted
    await pub.publishAsync('cfstream/dev1/frames', batch(25, 25), { qos: 1 });
    await pub.publishAsync('cfstream/dev1/frames', 'garbage', { qos: 1 });
    await waitFor(() => task.lastSeq === 49, 'the frames', 3000);
    const report = await task.release();
    await pub.endAsync();
    expect(report).toMatchObject({ frames: 250, duplicates: 10, restarts: 1, gaps: 0, rejects: 1, lastSeq: 49 });
    expect(warnings.join('\n')).toMatch(/seq went back from 199 to 0: the device restarted/);
    expect(warnings.join('\n')).toMatch(/rejected \(decode\)/);
    const last = written.at(-1)!;
    expect(last).toMatchObject({ released: true, lastSeq: 49, owner: 'w1' });
    expect(last.model!.framesSeen).toBe(250);
  }, 20_000);

  it('a checkpoint whose model does not fit the stream is replaced by a new model (warned), its seq kept', async () => {
    const other = new OnlineNMF({ rank: 2, warmStartFrames: 4, seed: 1 });
    other.partialFitFrames(Float64Array.from({ length: 8 * 9 }, (_, i) => 1 + (i % 3)), 8); // d = 9, not 6
    const ck = JSON.parse(encodeCheckpoint({ stream: 'dev1', owner: 'w0', released: true, lastSeq: 99, index: 4, model: other.state() })) as StreamCheckpoint;
    const { task, written, warnings } = await start(ck);
    expect(warnings.join('\n')).toMatch(/does not fit this config and header/);
    expect(written[0]).toMatchObject({ owner: 'w1', released: false, lastSeq: 99, index: 4, model: null });
    expect((await task.release()).frames).toBe(0);
  }, 20_000);

  it('a checkpoint whose model has another rank than the config is replaced by a new model (warned)', async () => {
    const other = new OnlineNMF({ rank: 3, warmStartFrames: 4, seed: 1 });
    other.partialFitFrames(Float64Array.from({ length: 8 * 6 }, (_, i) => 1 + (i % 3)), 8); // d = 6 fits, rank 3 does not (the config's is 2)
    const ck = JSON.parse(encodeCheckpoint({ stream: 'dev1', owner: 'w0', released: true, lastSeq: 99, index: 4, model: other.state() })) as StreamCheckpoint;
    const { task, written, warnings } = await start(ck);
    expect(warnings.join('\n')).toMatch(/its model has rank 3, the config's onlineNmf rank 2/);
    expect(written[0]).toMatchObject({ lastSeq: 99, model: null });
    await task.release();
  }, 20_000);

  it("says 'stale' on the results' status topic after a silence, and 'online' with the next frame", async () => {
    const { task, url } = await start(undefined, { staleAfterMs: 300 });
    const sub = await rawSubscriber(url, 'cfstream/results/dev1/status');
    const pub = await rawPublisher(url);
    await waitFor(() => sub.texts('cfstream/results/dev1/status').at(-1) === 'stale', "'stale'", 3000);
    await pub.publishAsync('cfstream/dev1/frames', batch(0, 10), { qos: 1 });
    await waitFor(() => sub.texts('cfstream/results/dev1/status').at(-1) === 'online', "'online' again", 3000);
    await task.release();
    await waitFor(() => sub.texts('cfstream/results/dev1/status').at(-1) === 'offline', "'offline' at the release", 3000);
    await pub.endAsync();
    await sub.end();
  }, 20_000);
});
