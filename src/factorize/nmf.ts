/**
 * Non-negative matrix factorization: X ≈ W H with X d×m ≥ 0 (rows = features, columns = samples),
 * W d×r ≥ 0 (the sparse / "left" factor, recovered by sparse recovery in compressed factorization),
 * H r×m ≥ 0.
 *
 * Objective  ½‖X − W H‖²_F + l1W·ΣW + l1H·ΣH + ½·l2W·‖W‖²_F + ½·l2H·‖H‖²_F  (penalties default 0,
 * as in the paper).
 *
 * Solvers:
 * - `hals` (default): accelerated hierarchical ALS / exact coordinate descent (`hals.ts`), stopped
 *   on a relative-error tolerance. Fast; the choice for streaming and large data.
 * - `pgd`: the paper's projected gradient (Lin 2007), one step per factor per iteration, fixed
 *   iteration count (`pgd.ts`). Use it to reproduce the paper.
 * Both keep Hᵀ (m×r) internally so one factor-update kernel serves W and H, and both work only
 * from the products X Hᵀ, Xᵀ W and the r×r Gram matrices. Xᵀ is formed once per fit (memory 2×X).
 *
 * Measured (400×2000 compressed paper data, rank 10, 2 shared cores): HALS reaches tol 1e-4 in
 * ~55 iterations, ≈ 0.5–0.65 s, within 0.2% of its fully converged error (tol 1e-5 doubles the time
 * for that 0.2%); NNDSVD starts cost ≈ 0.1–0.2 s (the randomized SVD) and did not save iterations,
 * so the default start is 'random' for both solvers. PGD: ≈ 10 ms per iteration. On exactly
 * low-rank, ill-conditioned data HALS converges linearly and may run to maxIter.
 *
 * @example
 * const { W, H, errors } = nmf(X, { rank: 10 });                 // HALS from a random start
 * const paper = nmf(X, { rank: 10, solver: 'pgd', maxIter: 250 }); // the paper's solver
 *
 * References: D. D. Lee, H. S. Seung (1999), Nature 401; C.-J. Lin (2007), Neural Computation
 * 19(10); A. Cichocki, A.-H. Phan (2009), IEICE Trans. E92-A(3); N. Gillis, F. Glineur (2012),
 * Neural Computation 24(4); C. Boutsidis, E. Gallopoulos (2008), Pattern Recognition 41(4).
 */
import { DataError, ShapeMismatchError } from '../errors.js';
import { gramCols } from '../linalg/kernels.js';
import { transpose, type Matrix } from '../linalg/matrix.js';
import { halsLoop } from './hals.js';
import { gemmNT4, solveNormalRows } from './kernels.js';
import { initializeNmf, NMF_INITS, type NmfInit } from './init.js';
import { pgdLoop } from './pgd.js';
import type { ProgressCallback } from './types.js';
import { checkMatrix, checkRank, resolveOptions, type ConstraintTable } from './validate.js';

/** NMF solver names. */
export type NmfSolver = 'hals' | 'pgd';

/** Options of `nmf` and the `NMF` estimator. */
export interface NmfOptions {
  /** 10; number of components r, 1 ≤ r ≤ min(d, m) (the paper uses 10 everywhere). */
  rank: number;
  /** 'hals'; 'hals' = accelerated HALS (fast, tolerance-stopped), 'pgd' = the paper's projected gradient. */
  solver: NmfSolver;
  /** 'random'; start: 'random' (the paper's; measured fastest for HALS too, see the module header), 'nndsvd', 'nndsvda', 'nndsvdar'. */
  init: NmfInit;
  /** 1000; HALS: iteration cap; PGD: the fixed number of iterations (repo default 1000; the paper's gene runs 250). */
  maxIter: number;
  /** 1e-4; HALS stops when an iteration lowers the relative error by less than tol × the previous error. Ignored by PGD. */
  tol: number;
  /** 0; ℓ1 penalty weight on W (absolute, in the units of ½‖X − WH‖²). */
  l1W: number;
  /** 0; ℓ1 penalty weight on H. */
  l1H: number;
  /** 0; ℓ2 (ridge) penalty weight on W, as ½·l2W·‖W‖². */
  l2W: number;
  /** 0; ℓ2 (ridge) penalty weight on H, as ½·l2H·‖H‖². */
  l2H: number;
  /** 0; HALS inner sweeps per factor update: 0 = automatic (Gillis & Glineur, ⌊1 + ½ρ⌋ with early stop), 1 = plain HALS. Ignored by PGD. */
  innerSweeps: number;
  /** 0; integer seed of the initialisation (random draws and the randomized SVD). */
  seed: number;
}

/** The defaults, frozen. */
export const DEFAULT_NMF_OPTIONS: Readonly<NmfOptions> = Object.freeze({
  rank: 10,
  solver: 'hals',
  init: 'random',
  maxIter: 1000,
  tol: 1e-4,
  l1W: 0,
  l1H: 0,
  l2W: 0,
  l2H: 0,
  innerSweeps: 0,
  seed: 0,
});

/** Allowed values of each NMF option (drives validation and the generic option test). */
export const NMF_CONSTRAINTS: ConstraintTable<NmfOptions> = Object.freeze({
  rank: { type: 'int', min: 1 },
  solver: { type: 'enum', values: ['hals', 'pgd'] },
  init: { type: 'enum', values: NMF_INITS },
  maxIter: { type: 'int', min: 1 },
  tol: { type: 'number', min: 0 },
  l1W: { type: 'number', min: 0 },
  l1H: { type: 'number', min: 0 },
  l2W: { type: 'number', min: 0 },
  l2H: { type: 'number', min: 0 },
  innerSweeps: { type: 'int', min: 0 },
  seed: { type: 'seed' },
});

/** Result of `nmf`. */
export interface NmfResult {
  /** d×r, ≥ 0. */
  W: Matrix;
  /** r×m, ≥ 0. */
  H: Matrix;
  /** Outer iterations run. */
  iterations: number;
  /**
   * Relative error ‖X − WH‖_F/‖X‖_F: index 0 at the start, index i after iteration i. Computed from
   * the Gram identity (no d×m temporary), so values below ~1e-7 are at rounding level.
   */
  errors: number[];
  /** Final relative error (the last entry of `errors`). */
  error: number;
  /** True if HALS met its tolerance (always false for PGD, which runs a fixed count). */
  converged: boolean;
  /** The initialisation used ('start' for a warm start). */
  init: NmfInit | 'start';
  /** Wall-clock seconds of the fit, initialisation included. */
  seconds: number;
}

/** Validates and resolves options for `nmf` (a new frozen object; `given` is not touched). */
export function resolveNmfOptions(given?: Partial<NmfOptions>, owner = 'nmf'): Readonly<NmfOptions> {
  return resolveOptions(owner, NMF_CONSTRAINTS, DEFAULT_NMF_OPTIONS, given);
}

/** Optional warm start for `nmf`: both factors, W d×r and H r×m, non-negative (copied, not modified). */
export interface NmfStart {
  W: Matrix;
  H: Matrix;
}

/**
 * Fits X ≈ W H with W, H ≥ 0 (see the module header).
 * @param X d×m, finite, ≥ 0, not all zero.
 * @param options partial `NmfOptions` over `DEFAULT_NMF_OPTIONS`.
 * @param onProgress called after every iteration with (iteration, relative error); `true` stops.
 * @param start warm start replacing the initialisation.
 * @returns the factors, the error curve and timing.
 */
export function nmf(X: Matrix, options?: Partial<NmfOptions>, onProgress?: ProgressCallback, start?: NmfStart): NmfResult {
  const t0 = performance.now();
  const o = resolveNmfOptions(options);
  checkMatrix(X, 'nmf (input X)', true);
  checkRank('nmf', o.rank, X);
  const { rows: d, cols: m } = X;
  const r = o.rank;
  let total = 0;
  for (let i = 0; i < X.data.length; i++) total += X.data[i]!;
  if (!(total > 0)) throw new DataError('X is all zeros; NMF needs at least one positive entry', 'nmf (input X)');

  const init = o.init;
  let W0: Matrix, H0: Matrix;
  if (start) {
    if (start.W.rows !== d || start.W.cols !== r) throw new ShapeMismatchError('nmf start.W', `${d}x${r}`, `${start.W.rows}x${start.W.cols}`);
    if (start.H.rows !== r || start.H.cols !== m) throw new ShapeMismatchError('nmf start.H', `${r}x${m}`, `${start.H.rows}x${start.H.cols}`);
    checkMatrix(start.W, 'nmf (start W)', true);
    checkMatrix(start.H, 'nmf (start H)', true);
    ({ W: W0, H: H0 } = start);
  } else {
    ({ W: W0, H: H0 } = initializeNmf(X, r, init, o.seed));
  }
  const W = W0.data.slice();
  const Ht = transpose(H0).data; // m×r working layout
  const Xt = transpose(X).data;

  const run = o.solver === 'hals' ? halsLoop(X, Xt, W, Ht, r, o, onProgress) : pgdLoop(X, Xt, W, Ht, r, o, onProgress);
  const H = transpose({ rows: m, cols: r, data: Ht });
  const errors = run.errors;
  return {
    W: { rows: d, cols: r, data: W },
    H,
    iterations: run.iterations,
    errors,
    error: errors[errors.length - 1]!,
    converged: 'converged' in run ? run.converged : false,
    init: start ? 'start' : init,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Settings of `nmfTransform`. */
export interface NmfTransformOptions {
  /** 0; ℓ1 weight on H (use the fit's l1H). */
  l1H?: number;
  /** 0; ℓ2 weight on H (use the fit's l2H). */
  l2H?: number;
  /** 1000; cap on coordinate-descent sweeps. */
  maxSweeps?: number;
  /** 1e-10; stop when a sweep changes H by less than tol·‖H‖. */
  tol?: number;
}

/**
 * Activations H (r×m') of new samples X (d×m', ≥ 0) with W (d×r) fixed: the non-negative least
 * squares min_{H≥0} ½‖X − W H‖² + l1H·ΣH + ½·l2H‖H‖², by coordinate descent from the clipped
 * least-squares solution. Never modifies W or X.
 */
export function nmfTransform(W: Matrix, X: Matrix, options: NmfTransformOptions = {}): Matrix {
  const { rows: d, cols: r } = W;
  if (X.rows !== d) throw new ShapeMismatchError('nmfTransform X', `${d}xm (rows = rows of W)`, `${X.rows}x${X.cols}`);
  checkMatrix(X, 'nmfTransform (input X)', true);
  const { l1H = 0, l2H = 0, maxSweeps = 1000, tol = 1e-10 } = options;
  const m = X.cols;
  const G = new Float64Array(r * r);
  gramCols(W.data, d, r, G);
  const Wt = transpose(W).data;
  const Xt = transpose(X).data;
  const B = new Float64Array(m * r); // row j = Wᵀ x_j
  gemmNT4(Xt, Wt, m, d, r, B);
  const Ht = new Float64Array(m * r);
  solveNormalRows(G, B, m, r, l1H, l2H, true, maxSweeps, tol, Ht);
  return transpose({ rows: m, cols: r, data: Ht });
}
