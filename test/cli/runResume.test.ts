/**
 * Issue 7: after `kill -9`, a restart resumes from the checkpoint: the factors' seq and index
 * continue past what the broker holds retained, and the model is as good as before.
 * The broker runs in the test process, so it outlives the killed cfstream.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startBroker } from '../../devices/mqtt/broker.js';
import { rawSubscriber, waitFor } from '../devices/mqtt/helpers.js';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'cfstream-resume-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CONFIG = [
  'version: 1',
  'source: sim:synthetic?n=300&d=80&r=3&k=8&noise=0.05&rate=1000&seed=1',
  'stages:',
  '  - type: validate',
  '  - type: batch',
  '    maxBatch: 32',
  '  - type: onlineNmf',
  '    rank: 3',
  '    warmStartFrames: 300',
  '  - type: reconstruct',
  '    everyFrames: 500',
  '    everyMs: 0',
].join('\n');

interface Factors { seq: number; index: number; trueError: number }

describe('cfstream run: resume after kill -9', () => {
  it('continues seq and index past the retained factors, with the error of before (+0.02 at most)', async () => {
    const broker = await startBroker({ port: 0, wsPort: false });
    const file = join(dir, 'run.yaml');
    writeFileSync(file, CONFIG);
    const ckpt = join(dir, 'ckpt.json');
    const start = () => spawn(process.execPath, [join(root, 'src/cli/cfstream.js'), 'run', file, '--broker', broker.url, '--headless', '--checkpoint', ckpt, '--checkpoint-every', '0.5'], { cwd: root });
    const sub = await rawSubscriber(broker.url, 'cfstream/sim/factors');
    const factors = () => sub.texts('cfstream/sim/factors').map((t) => JSON.parse(t) as Factors);
    try {
      const a = start();
      await waitFor(() => factors().length >= 4 && existsSync(ckpt), 'factors and a checkpoint', 20_000);
      a.kill('SIGKILL');
      await new Promise((r) => a.on('exit', r));
      const before = factors().at(-1)!;
      const seen = factors().length;
      const b = start();
      let err = '';
      b.stderr.on('data', (d: Buffer) => { err += d.toString(); });
      try {
        await waitFor(() => factors().length >= seen + 2, 'factors after the restart', 20_000);
        expect(err).toMatch(/model restored from/);
        const after = factors().slice(seen);
        for (const f of after) {
          expect(f.seq, 'seq continues past the retained factors').toBeGreaterThan(before.seq);
          expect(f.index).toBeGreaterThan(before.index);
        }
        expect(after[0]!.trueError).toBeLessThanOrEqual(before.trueError + 0.02);
      } finally {
        b.kill('SIGKILL');
        await new Promise((r) => b.on('exit', r));
      }
    } finally {
      await sub.end();
      await broker.close();
    }
  }, 60_000);
});
