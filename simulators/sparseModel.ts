/**
 * The paper's synthetic model as a live source with ground truth (PAPER.md §4.1): raw frames
 *
 *   x_t = W·h_t + e_t,   W = the paper's k-sparse non-negative W for `seed` (generateSyntheticModel),
 *   h_t ~ |N(0, 1)|^r,   e_t ~ N(0, σ²·I_n),  σ² = noise²·E‖W·h‖²/n
 *
 * so ‖E‖/‖WH‖ ≈ `noise` over many frames, as the batch model. Frame seq = 0, 1, …, t = seq / rate.
 * Draws come from Rng(seed + 3) per subscription (each subscription replays the same stream).
 * `values` are views into a ring of `poolSize` buffers: each stays valid until `poolSize − 1`
 * further frames were emitted (the pipeline's operators copy a frame when it arrives).
 */
import type { Observable } from 'rxjs';
import { InvalidOptionError } from '../src/errors.js';
import { generateSyntheticModel } from '../src/experiments/syntheticModel.js';
import type { Frame, StreamInfo } from '../src/frames/index.js';
import type { Matrix } from '../src/linalg/matrix.js';
import { Rng } from '../src/linalg/random.js';
import { checkPacing, paced, type PacingOptions } from './pacing.js';

/** Options of `sparseModelSource` (all optional). */
export interface SparseModelSourceOptions extends Partial<PacingOptions> {
  /** 'sim'; the stream id. */
  id?: string;
  /** 2000; length n of x. */
  n?: number;
  /** 10; components. */
  r?: number;
  /** 40; non-zeros per column of W. */
  k?: number;
  /** 0.1; relative noise level (see the module header), ≥ 0. */
  noise?: number;
  /** 0; seed of W (and, + 3, of the activations and noise). */
  seed?: number;
  /** 8; buffers in the ring the frames' values live in (≥ 2). */
  poolSize?: number;
}

/** A simulated source: its header, its frames, and the truth behind them. */
export interface SimulatedSource {
  info: StreamInfo;
  frames$: Observable<Frame>;
  /** The true factors W (n×r, columns k-sparse, ≥ 0). */
  truth: { W: Matrix };
}

/** The sparse-model source (module header). */
export function sparseModelSource(options: SparseModelSourceOptions = {}): SimulatedSource {
  const owner = 'sparseModelSource';
  const { id = 'sim', n = 2000, r = 10, k = 40, noise = 0.1, seed = 0, poolSize = 8 } = options;
  const pacing: PacingOptions = {
    pacing: options.pacing ?? 'realtime', rate: options.rate ?? 250, frames: options.frames ?? Infinity,
    tickMs: options.tickMs ?? 25, chunk: options.chunk ?? 1024, scheduler: options.scheduler,
  };
  checkPacing(owner, pacing);
  if (!(Number.isInteger(n) && n >= 2)) throw new InvalidOptionError(owner, 'n', 'an integer ≥ 2', n);
  if (!(Number.isInteger(r) && r >= 1)) throw new InvalidOptionError(owner, 'r', 'an integer ≥ 1', r);
  if (!(Number.isInteger(k) && k >= 1 && k <= n)) throw new InvalidOptionError(owner, 'k', `an integer in [1, n = ${n}]`, k);
  if (!(noise >= 0 && noise < Infinity)) throw new InvalidOptionError(owner, 'noise', 'a finite number ≥ 0', noise);
  if (!(Number.isInteger(poolSize) && poolSize >= 2)) throw new InvalidOptionError(owner, 'poolSize', 'an integer ≥ 2', poolSize);
  if (typeof id !== 'string' || id === '') throw new InvalidOptionError(owner, 'id', 'a non-empty string', id);

  const { W } = generateSyntheticModel({ n, m: 1, r, k, noise: 0, nonneg: true, seed });
  // E‖Wh‖² for h_a i.i.d. |N(0,1)|: tr(WᵀW) + (2/π)·Σ_{a≠b} (WᵀW)_ab.
  let diag = 0, off = 0;
  for (let a = 0; a < r; a++) {
    for (let b = 0; b < r; b++) {
      let g = 0;
      for (let i = 0; i < n; i++) g += W.data[i * r + a]! * W.data[i * r + b]!;
      if (a === b) diag += g; else off += g;
    }
  }
  const sigma = noise * Math.sqrt((diag + (2 / Math.PI) * off) / n);

  const frames$ = paced<Frame>(pacing, () => {
    const rng = new Rng(seed + 3);
    const pool = Array.from({ length: poolSize }, () => new Float64Array(n));
    const h = new Float64Array(r);
    return (seq, subscriber) => {
      const x = pool[seq % poolSize]!;
      for (let c = 0; c < r; c++) h[c] = Math.abs(rng.normal());
      for (let i = 0; i < n; i++) {
        let v = sigma > 0 ? sigma * rng.normal() : 0;
        for (let c = 0; c < r; c++) v += W.data[i * r + c]! * h[c]!;
        x[i] = v;
      }
      subscriber.next({ seq, t: seq / pacing.rate, values: x });
    };
  });
  return {
    info: { id, kind: 'raw', n, rate: pacing.rate },
    frames$,
    truth: { W },
  };
}
