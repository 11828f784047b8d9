/**
 * The run checkpoint file: saved with a previous generation, restored from whichever file is
 * usable, and a file that is not usable (corrupt, truncated, another model) set aside, never lost.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePipelineConfig } from '../../pipelines/config.js';
import { OnlineNMF } from '../../src/factorize/online/nmf.js';
import { previousOf, restoreRunModel, saveRunCheckpoint } from '../../src/cli/runCheckpoint.js';
import type { StreamInfo } from '../../src/frames/index.js';

const info: StreamInfo = { id: 's', kind: 'compressed', n: 40, rate: 100, projection: { ensemble: 'sparse-binary', n: 40, d: 12, p: 3, seed: 1 } };
const config = (rank = 3) => parsePipelineConfig({ version: 1, stages: [{ type: 'batch', maxBatch: 8 }, { type: 'onlineNmf', rank, warmStartFrames: 16, seed: 1 }] }, 'test', { stream: info });

/** A model that has seen `frames` frames of length d. */
function trained(frames: number, d = 12, rank = 3): OnlineNMF {
  const m = new OnlineNMF({ rank, warmStartFrames: 16, seed: 1 });
  m.partialFitFrames(Float64Array.from({ length: frames * d }, (_, i) => 1 + ((i * 7) % 5)), frames);
  return m;
}

let dir = '';
afterEach(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });
const fresh = () => (dir = mkdtempSync(join(tmpdir(), 'cfstream-ckpt-')));
const at = { lastSeq: 99, lastT: 1, index: 3 };
const fixed = () => new Date('2026-01-02T03:04:05.678Z');

describe('run checkpoint', () => {
  it('keeps the previous generation at each save and restores the newest', () => {
    const path = join(fresh(), 'c.json');
    const errors: string[] = [];
    expect(saveRunCheckpoint(trained(32), at, path, (m) => errors.push(m))).toBe(true);
    expect(existsSync(previousOf(path))).toBe(false);
    expect(saveRunCheckpoint(trained(48), { ...at, lastSeq: 199 }, path, (m) => errors.push(m))).toBe(true);
    expect(JSON.parse(readFileSync(previousOf(path), 'utf8'))).toMatchObject({ lastSeq: 99 });
    const r = restoreRunModel(config(), path);
    expect(r).toMatchObject({ from: path, resume: { lastSeq: 199, index: 3 }, warnings: [] });
    expect(r.model.framesSeen).toBe(48);
    expect(readdirSync(dir).sort()).toEqual(['c.json', 'c.json.prev']); // no temporary left
    expect(errors).toEqual([]);
  });

  it('sets a truncated file aside and falls back to the previous generation', () => {
    const path = join(fresh(), 'c.json');
    saveRunCheckpoint(trained(32), at, path, () => undefined);
    saveRunCheckpoint(trained(48), at, path, () => undefined);
    const whole = readFileSync(path, 'utf8');
    writeFileSync(path, whole.slice(0, whole.length / 2));
    const r = restoreRunModel(config(), path, fixed);
    expect(r.from).toBe(previousOf(path));
    expect(r.model.framesSeen).toBe(32);
    expect(r.warnings).toEqual([expect.stringMatching(/c\.json not used: not a JSON document .*truncated or corrupted; moved to .*c\.json\.rejected-2026-01-02T03-04-05-678Z$/)]);
    expect(readFileSync(join(dir, 'c.json.rejected-2026-01-02T03-04-05-678Z'), 'utf8')).toBe(whole.slice(0, whole.length / 2)); // kept for a person
  });

  it('a model for another frame length or rank is set aside with what does not fit; none usable: a new model', () => {
    const path = join(fresh(), 'c.json');
    saveRunCheckpoint(trained(32, 20), at, path, () => undefined); // d = 20, the config's is 12
    let r = restoreRunModel(config(), path, fixed);
    expect(r.from).toBeUndefined();
    expect(r.model.framesSeen).toBe(0);
    expect(r.warnings).toEqual([expect.stringMatching(/its model takes frames of length 20, this config's model 12/)]);
    saveRunCheckpoint(trained(32), at, path, () => undefined); // rank 3
    r = restoreRunModel(config(4), path, fixed);
    expect(r.from).toBeUndefined();
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/c\.json not used: .*rank/i);
  });

  it('a bare model state (OnlineNMF.state()) restores without a resume point', () => {
    const path = join(fresh(), 'm.json');
    writeFileSync(path, JSON.stringify(trained(32).state()));
    const r = restoreRunModel(config(), path);
    expect(r.from).toBe(path);
    expect(r.resume).toBeUndefined();
    expect(r.model.framesSeen).toBe(32);
  });

  it('a save that cannot be written says why and leaves the last checkpoint in place', () => {
    const path = join(fresh(), 'c.json');
    saveRunCheckpoint(trained(32), at, path, () => undefined);
    const errors: string[] = [];
    expect(saveRunCheckpoint(trained(48), at, join(dir, 'missing', 'c.json'), (m) => errors.push(m))).toBe(false);
    expect(errors).toEqual([expect.stringMatching(/checkpoint .*missing\/c\.json not written: ENOENT/)]);
    expect(restoreRunModel(config(), path).model.framesSeen).toBe(32);
    expect(saveRunCheckpoint(new OnlineNMF({ rank: 3 }), at, path, () => undefined)).toBe(false); // nothing learnt: nothing to save
  });
});
