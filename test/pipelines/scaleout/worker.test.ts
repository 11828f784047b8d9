import { describe, expect, it } from 'vitest';
import { Worker, type WorkerOptions } from '../../../pipelines/scaleout/worker.js';
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
    ['a missing configFor', { configFor: undefined as unknown as WorkerOptions['configFor'] }, /configFor/],
  ])('refuses %s', (_what, over, message) => {
    expect(() => new Worker({ ...base, ...over })).toThrow(InvalidOptionError);
    expect(() => new Worker({ ...base, ...over })).toThrow(message);
  });
});
