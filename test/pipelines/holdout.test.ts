/**
 * The online quality estimate without ground truth: onlineNmf holds out the last measurement
 * rows of every frame, reconstruct recovers W from the training rows and scores it on the
 * held-out ones. Checked against the true original-domain error, which the test knows.
 */
import { describe, expect, it } from 'vitest';
import { from, lastValueFrom, toArray } from 'rxjs';
import { OnlineNMF } from '../../src/factorize/online/nmf.js';
import type { Frame } from '../../src/frames/index.js';
import { matrix, type Matrix } from '../../src/linalg/matrix.js';
import { Rng } from '../../src/linalg/random.js';
import { makeProjection, type ProjectionSpec } from '../../src/sensing/index.js';
import { batchFrames, onlineNmf, reconstruct, type FactorsMessage } from '../../pipelines/index.js';
import { eventLog } from './helpers.js';

const n = 300, r = 4, frames = 3000, rows = 20;

/** x_t = W h_t (+ 2% noise), W k-sparse non-negative; y_t = P x_t. */
function stream(k: number, d: number, seed: number) {
  const rng = new Rng(seed);
  const W = matrix(n, r);
  for (let c = 0; c < r; c++) {
    const picked = new Set<number>();
    while (picked.size < k) picked.add(rng.int(n));
    for (const i of picked) W.data[i * r + c] = 0.5 + rng.uniform();
  }
  const spec: ProjectionSpec = { ensemble: 'sparse-binary', n, d, p: 5, seed: seed + 1 };
  const P = makeProjection(spec);
  const X: Float64Array[] = [];
  const list: Frame[] = [];
  for (let t = 0; t < frames; t++) {
    const x = new Float64Array(n);
    for (let c = 0; c < r; c++) {
      const h = rng.uniform() < 0.6 ? rng.uniform() : 0;
      for (let i = 0; i < n; i++) x[i]! += W.data[i * r + c]! * h;
    }
    for (let i = 0; i < n; i++) if (x[i]! > 0) x[i]! *= 1 + 0.02 * rng.normal();
    X.push(x);
    list.push({ seq: t, t: t / 100, values: P.apply(x) });
  }
  return { spec, X, list };
}

/** Runs the pipeline; returns the last factors message and the true error of its W on the held frames. */
async function run(k: number, d: number, seed: number) {
  const { spec, X, list } = stream(k, d, seed);
  const model = new OnlineNMF({ rank: r, seed: seed + 2, warmStartFrames: 256 });
  const out = await lastValueFrom(from(list).pipe(
    batchFrames({ maxBatch: 32 }),
    onlineNmf(model, { holdoutRows: rows, holdoutFrames: 256 }),
    reconstruct(spec, { everyMs: 0, final: true }),
    toArray(),
  ));
  const f = out[out.length - 1]!;
  // The same frames and codes reconstruct used: the last 256, coded on their training rows.
  const m = 256, train = d - rows;
  const Y: Matrix = { rows: train, cols: m, data: new Float64Array(train * m) };
  for (let j = 0; j < m; j++) for (let i = 0; i < train; i++) Y.data[i * m + j] = Math.max(0, list[frames - m + j]!.values[i]!);
  const H = model.transform(Y);
  let num = 0, den = 0;
  for (let j = 0; j < m; j++) {
    const x = X[frames - m + j]!;
    for (let i = 0; i < n; i++) {
      let pred = 0;
      for (let c = 0; c < r; c++) pred += f.W[c]![i]! * H.data[c * m + j]!;
      num += (x[i]! - pred) ** 2;
      den += x[i]! ** 2;
    }
  }
  return { f, trueError: Math.sqrt(num / den), model };
}

describe('held-out measurement rows: W\'s error without ground truth', () => {
  it('the model never sees the held-out rows; the estimate tracks the true error where recovery works', async () => {
    const { f, trueError, model } = await run(8, 120, 5);
    expect(model.frameLength).toBe(100);
    expect(f.d).toBe(100);
    const q = f.quality!;
    expect(q).not.toBeNull();
    expect([q.frames, q.rows]).toEqual([256, rows]);
    expect(trueError).toBeLessThan(0.15);
    expect(Math.abs(q.heldOutError - trueError), `estimate ${q.heldOutError} vs true ${trueError}`).toBeLessThan(0.3 * trueError + 0.02);
  });

  it('flags a failed recovery that the compressed fit cannot see', async () => {
    // k = 40 non-zeros per column from 40 training rows: basis pursuit cannot recover W.
    const { f, trueError } = await run(40, 60, 6);
    const q = f.quality!;
    expect(q.compressedError).toBeLessThan(0.1);
    expect(trueError).toBeGreaterThan(0.3);
    // Sparse-binary rows read a failed recovery low (reconstruct.ts says why), but never as a success.
    expect(q.heldOutError, `estimate ${q.heldOutError} vs true ${trueError}`).toBeGreaterThan(Math.max(0.3, 0.5 * trueError));
    expect(q.heldOutError).toBeGreaterThan(5 * q.compressedError);
  });

  it('without a hold-out there is no estimate; a hold-out of every row rejects the frames with a reason', async () => {
    const { spec, list } = stream(8, 120, 7);
    const plain = await lastValueFrom(from(list.slice(0, 600)).pipe(
      batchFrames({ maxBatch: 32 }), onlineNmf({ rank: r, warmStartFrames: 256 }), reconstruct(spec, { everyMs: 0 }), toArray(),
    ));
    expect(plain[plain.length - 1]!.quality).toBeNull();
    const { events, onEvent } = eventLog();
    const none: FactorsMessage[] = await lastValueFrom(from(list.slice(0, 64)).pipe(
      batchFrames({ maxBatch: 32 }), onlineNmf({ rank: r }, { holdoutRows: 120, onEvent }), reconstruct(spec, { everyMs: 0 }), toArray(),
    ));
    expect(none).toEqual([]);
    expect(events).toHaveLength(64);
    expect(events[0]).toMatchObject({ type: 'reject', reason: 'model' });
    expect(String((events[0] as { message: string }).message)).toMatch(/holdoutRows 120 leaves none to train on/);
    expect(() => onlineNmf({ rank: r }, { holdoutRows: -1 })).toThrow(/holdoutRows/);
    expect(() => onlineNmf({ rank: r }, { holdoutFrames: 0 })).toThrow(/holdoutFrames/);
  });
});
