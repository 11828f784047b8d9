import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { EdfReader } from '../../../devices/file/edf.js';
import { fileSource, type FileEvent } from '../../../devices/file/replay.js';
import { tempDir } from './craft.js';

const root = join(import.meta.dirname, '..', '..', '..');
const child = join(import.meta.dirname, 'killedWriterChild.ts');
const tmp = tempDir('cfstream-kill-');
afterAll(tmp.cleanup);

/** Starts the child writer, waits until it reports `records` seconds written, then SIGKILLs it. */
function recordThenKill(path: string, records: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, path], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /records (\d+)\n$/.exec(out);
      if (m && Number(m[1]) >= records) p.kill('SIGKILL');
    });
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    p.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve(out) : reject(new Error(`child exited ${code}: ${err}`))));
  });
}

async function replay(path: string) {
  const src = fileSource({ path, speed: 'max' });
  const events: FileEvent[] = [];
  src.events$.subscribe((e) => events.push(e));
  return { frames: await lastValueFrom(src.frames$.pipe(toArray())), events };
}

const expected = (k: number, c: number) => ((k + 37 * c) % 200) - 100;

describe('a writer killed with SIGKILL leaves a readable file', () => {
  it.each(['edf', 'bdf'])('%s: header count −1, every flushed record readable, values and annotation intact', async (ext) => {
    const path = join(tmp.dir, `killed.${ext}`);
    await recordThenKill(path, 5);
    const r = await EdfReader.open(path);
    const { declaredRecords, records, format } = r.header;
    const half = r.dataSignals[0]!.gain / 2;
    await r.close();
    expect(declaredRecords).toBe(-1);
    expect(records).toBeGreaterThanOrEqual(5);
    expect(format).toBe(`${ext.toUpperCase()}+C`);
    const { frames, events } = await replay(path);
    expect(frames.length).toBe(records * 100);
    frames.forEach((f, k) => {
      expect(f.seq).toBe(k);
      for (let c = 0; c < 4; c++) if (Math.abs(f.values[c]! - expected(k, c)) > half * (1 + 1e-9)) expect.fail(`seq ${k} channel ${c}: ${f.values[c]} vs ${expected(k, c)}`);
    });
    expect(events[0]).toEqual({ type: 'marker', t: 0, duration: 1, text: 'started' });
  });

  it('cfs: every flushed batch readable, float32 values exact', async () => {
    const path = join(tmp.dir, 'killed.cfs');
    await recordThenKill(path, 5);
    const { frames, events } = await replay(path);
    expect(frames.length).toBeGreaterThanOrEqual(500);
    expect(frames.length % 100).toBe(0);
    frames.forEach((f, k) => {
      expect(f.seq).toBe(k);
      for (let c = 0; c < 4; c++) expect(f.values[c]).toBe(expected(k, c));
    });
    expect(events[0]).toEqual({ type: 'marker', t: 0, duration: 1, text: 'started' });
  });
});
