/**
 * Sparse PCA with an ℓ1 penalty on the left factor (the compressed factor W~ of the paper).
 *
 * Model X ≈ W H, X d×m (signed; no centring — centre first if wanted), W d×r sparse, H r×m.
 * Objective (scikit-learn's dictionary-learning SparsePCA, which the paper's repo ran, in our
 * orientation):
 *
 *   min_{W, H}  ½‖X − W H‖²_F + λ·‖W‖₁    subject to  ‖H[k,:]‖₂ ≤ 1  for every row k.
 *
 * The row constraint removes the scale ambiguity that would otherwise let W shrink to 0.
 * Scale-free penalty: λ = alpha · max_i ‖X[i,:]‖₂ (the largest row norm). Since |(X Hᵀ)_{ik}| ≤
 * ‖X[i,:]‖ for any feasible H, alpha ≥ 1 always gives W = 0 and alpha = 0 is plain PCA (the
 * alternating least squares converge to the top-r principal subspace); a grid such as
 * [0, 0.01, 0.03, 0.1, 0.3] is meaningful on any data.
 *
 * Update rule (alternating minimisation, each block solved exactly or to tolerance):
 *   (start: one W-step on the initial H; then per iteration an H-step followed by a W-step)
 *   W-step: B = X Hᵀ, G = H Hᵀ; for every row of W a lasso in r coordinates, by coordinate descent
 *           (`cdSolve` with soft-thresholding) W[i,t] ← S(B[i,t] − Σ_{l≠t} G[t,l] W[i,l], λ) / G[t,t];
 *   H-step: B = Xᵀ W, G = Wᵀ W; block coordinate descent over the rows of H, each the exact
 *           minimiser on the unit ball: h_t ← P_{‖·‖≤1}(h_t + (B[:,t] − Hᵀ G[:,t]) / G[t,t])
 *           (scikit-learn's `_update_dict`);
 *   stop when the objective changes by less than tol × its value (scikit-learn's test) or maxIter.
 * Initialisation: truncated SVD X ≈ U S Vᵀ, W = U S, H = Vᵀ ('svd'), or random unit rows of H ('random').
 * Returned H: by default (`refitH`) the ridge least-squares fit of X on the final W,
 *   H = (WᵀW + ρI)⁻¹ WᵀX,  ρ = ridge · trace(WᵀW)/r,
 * which is exactly `sparsePcaTransform(W, X)` — as the paper's repo takes H~ = SparsePCA.transform
 * (there with ridge_alpha = 1e-3 on unit-norm components). `refitH: false` returns the constrained H.
 *
 * Measured (400×2000 compressed paper data, signed, rank 10): alpha 0.01 ≈ 270 iterations, ≈ 3 s
 * (the alternating minimisation rotates slowly away from the PCA basis); a 5-point path ≈ 3.2 s.
 *
 * Choosing λ: the training error only grows with alpha, so pick alpha with an external error (after
 * sparse recovery, against truth, or held out) over `sparsePcaPath`, as the paper picked the ℓ1
 * parameter giving the lowest error.
 *
 * References: H. Zou, T. Hastie, R. Tibshirani (2006), Sparse principal component analysis, JCGS
 * 15(2); J. Mairal, F. Bach, J. Ponce, G. Sapiro (2009), Online dictionary learning for sparse
 * coding, ICML; scikit-learn `SparsePCA` / `dict_learning`.
 */
import { InvalidOptionError } from '../errors.js';
import { dot, gramCols, sumSquares } from '../linalg/kernels.js';
import { transpose, type Matrix } from '../linalg/matrix.js';
import { Rng } from '../linalg/random.js';
import { cholesky, choleskySolve, truncatedSvd } from '../linalg/small.js';
import { cdSolve, cdSweep, gemmNT4 } from './kernels.js';
import type { ProgressCallback } from './types.js';
import { checkMatrix, checkRank, resolveOptions, type ConstraintTable } from './validate.js';
import { alternatingWorkspace, relativeError } from './workspace.js';

/** Options of `sparsePca`, `sparsePcaPath` and the `SparsePCA` estimator. */
export interface SparsePcaOptions {
  /** 10; number of components r, 1 ≤ r ≤ min(d, m). */
  rank: number;
  /** 0.01; relative ℓ1 weight: λ = alpha · max_i ‖X[i,:]‖₂ (0 = PCA, ≥ 1 = all-zero W). */
  alpha: number;
  /** 500; cap on outer (W-step + H-step) iterations. */
  maxIter: number;
  /** 1e-4; stop when the objective changes by less than tol × its value in one iteration (the paper repo's tol). */
  tol: number;
  /** 1e-6; relative ridge ρ/(trace(WᵀW)/r) of the least-squares H refit and of `transform`. */
  ridge: number;
  /** 'svd'; start: 'svd' (W = U S, H = Vᵀ of the truncated SVD) or 'random' (random unit rows of H). */
  init: 'svd' | 'random';
  /** true; return H refitted by ridge least squares on the final W (= transform(X)); false: the constrained H. */
  refitH: boolean;
  /** 0; integer seed (randomized SVD, random start). */
  seed: number;
}

/** The defaults, frozen. */
export const DEFAULT_SPARSE_PCA_OPTIONS: Readonly<SparsePcaOptions> = Object.freeze({
  rank: 10,
  alpha: 0.01,
  maxIter: 500,
  tol: 1e-4,
  ridge: 1e-6,
  init: 'svd',
  refitH: true,
  seed: 0,
});

/** Allowed values of each sparse PCA option. */
export const SPARSE_PCA_CONSTRAINTS: ConstraintTable<SparsePcaOptions> = Object.freeze({
  rank: { type: 'int', min: 1 },
  alpha: { type: 'number', min: 0 },
  maxIter: { type: 'int', min: 1 },
  tol: { type: 'number', min: 0 },
  ridge: { type: 'number', min: 0 },
  init: { type: 'enum', values: ['svd', 'random'] },
  refitH: { type: 'boolean' },
  seed: { type: 'seed' },
});

/** Result of `sparsePca`. */
export interface SparsePcaResult {
  /** d×r, sparse (exact zeros). */
  W: Matrix;
  /** r×m (ridge refit, or the constrained H with `refitH: false`). */
  H: Matrix;
  /** The relative penalty used. */
  alpha: number;
  /** The absolute penalty λ = alpha · lambdaRef. */
  lambda: number;
  /** max_i ‖X[i,:]‖₂, the scale of alpha. */
  lambdaRef: number;
  /** Outer iterations run. */
  iterations: number;
  /** Relative error ‖X − WH‖/‖X‖ of the constrained model: index 0 after the first W-step, i after iteration i. */
  errors: number[];
  /** Objective ½‖X − WH‖² + λ‖W‖₁, same indexing as `errors` (the start is the initial H with its lasso W). */
  objective: number[];
  /** Relative error of the returned (W, H). */
  error: number;
  /** Fraction of exact zeros in W. */
  sparsity: number;
  /** True if the tolerance test stopped the fit. */
  converged: boolean;
  /** Wall-clock seconds. */
  seconds: number;
}

/** Lasso coordinate-descent cap and tolerance (relative change of W per sweep) inside a W-step. */
const LASSO_MAX_SWEEPS = 200;
const LASSO_TOL = 1e-7;
/** Block-coordinate sweeps over the rows of H inside an H-step (stopped early like HALS). */
const H_MAX_SWEEPS = 10;

/** Validates and resolves options (a new frozen object). */
export function resolveSparsePcaOptions(given?: Partial<SparsePcaOptions>, owner = 'sparsePca'): Readonly<SparsePcaOptions> {
  return resolveOptions(owner, SPARSE_PCA_CONSTRAINTS, DEFAULT_SPARSE_PCA_OPTIONS, given);
}

/** max_i ‖X[i,:]‖₂. */
function maxRowNorm(X: Matrix): number {
  let best = 0;
  for (let i = 0; i < X.rows; i++) {
    let s = 0;
    for (let j = 0; j < X.cols; j++) { const v = X.data[i * X.cols + j]!; s += v * v; }
    if (s > best) best = s;
  }
  return Math.sqrt(best);
}

/** Start: W (d×r) and Hᵀ (m×r) with unit-norm rows of H. */
function initialize(X: Matrix, r: number, init: 'svd' | 'random', seed: number): { W: Float64Array; Ht: Float64Array } {
  const { rows: d, cols: m } = X;
  const W = new Float64Array(d * r);
  const Ht = new Float64Array(m * r);
  if (init === 'svd') {
    const { U, s, V } = truncatedSvd(X, r, seed);
    const k = s.length;
    for (let i = 0; i < d; i++) for (let t = 0; t < k; t++) W[i * r + t] = U.data[i * k + t]! * s[t]!;
    for (let j = 0; j < m; j++) for (let t = 0; t < k; t++) Ht[j * r + t] = V.data[j * k + t]!;
  } else {
    const rng = new Rng(seed);
    rng.fillNormal(Ht);
    for (let t = 0; t < r; t++) {
      let s = 0;
      for (let j = 0; j < m; j++) s += Ht[j * r + t]! ** 2;
      const c = 1 / Math.sqrt(s);
      for (let j = 0; j < m; j++) Ht[j * r + t]! *= c;
    }
  }
  return { W, Ht };
}

/**
 * The alternating minimisation from the start in W (d×r) and Ht (m×r), both updated in place
 * (Ht keeps the constrained H). Shared by `sparsePca` and `sparsePcaPath`.
 */
function alternate(
  X: Matrix, Xt: Float64Array, W: Float64Array, Ht: Float64Array, r: number, lambda: number,
  o: Readonly<SparsePcaOptions>, onProgress?: ProgressCallback,
): { iterations: number; errors: number[]; objective: number[]; converged: boolean } {
  const { rows: d, cols: m, data: x } = X;
  const xx = sumSquares(x);
  const { H, Wt, BW, GW, BH, GH, HtM, HM, WM, WtM } = alternatingWorkspace(d, m, r, W, Ht);
  const l1norm = (): number => { let s = 0; for (let i = 0; i < W.length; i++) s += Math.abs(W[i]!); return s; };
  const rel = (sq: number): number => relativeError(sq, xx);

  const wStep = (): number => {
    transpose(HtM, HM);
    gramCols(Ht, m, r, GW);
    gemmNT4(x, H, d, m, r, BW);
    cdSolve(W, BW, GW, d, r, lambda, 0, false, LASSO_MAX_SWEEPS, LASSO_TOL);
    gramCols(W, d, r, GH);
    return xx - 2 * dot(W, BW, d * r) + dot(GH, GW, r * r); // ‖X − WH‖²
  };
  let sq = wStep(); // the start: initial H with its optimal W
  let obj = 0.5 * Math.max(0, sq) + lambda * l1norm();
  const errors = [rel(sq)];
  const objective = [obj];
  let iterations = 0;
  let converged = false;
  for (let it = 1; it <= o.maxIter; it++) {
    // H-step: projected block coordinate descent on the rows of H (G_H = WᵀW is current).
    transpose(WM, WtM);
    gemmNT4(Xt, Wt, m, d, r, BH);
    let first = 0;
    for (let k = 0; k < H_MAX_SWEEPS; k++) {
      const change = cdSweep(Ht, BH, GH, m, r, 0, 0, false, 0, 1);
      if (k === 0) first = change;
      else if (change <= 0.01 * first) break;
    }
    // W-step: lasso rows.
    sq = wStep();
    const prev = obj;
    obj = 0.5 * Math.max(0, sq) + lambda * l1norm();
    const err = rel(sq);
    errors.push(err);
    objective.push(obj);
    iterations = it;
    if (onProgress?.(it, err) === true) break;
    if (!(Math.abs(prev - obj) > o.tol * obj)) {
      converged = true;
      break;
    }
  }
  return { iterations, errors, objective, converged };
}

/**
 * H = (WᵀW + ρI)⁻¹ WᵀX for every column of X (d'×m', d' = rows of W), ρ = ridge·trace(WᵀW)/r.
 * The least-squares code of new samples with W fixed; never modifies its inputs.
 */
export function sparsePcaTransform(W: Matrix, X: Matrix, ridge = DEFAULT_SPARSE_PCA_OPTIONS.ridge): Matrix {
  const { rows: d, cols: r } = W;
  const m = X.cols;
  const G = new Float64Array(r * r);
  gramCols(W.data, d, r, G);
  let tr = 0;
  for (let t = 0; t < r; t++) tr += G[t * r + t]!;
  const rho = (ridge * tr) / r;
  for (let t = 0; t < r; t++) G[t * r + t]! += rho;
  cholesky(G, r, 1e-10);
  const Wt = transpose(W).data;
  const Xt = transpose(X).data;
  const Bt = new Float64Array(m * r); // row j = Wᵀ x_j
  gemmNT4(Xt, Wt, m, d, r, Bt);
  for (let j = 0; j < m; j++) choleskySolve(G, r, Bt.subarray(j * r, (j + 1) * r));
  return transpose({ rows: m, cols: r, data: Bt });
}

/** Fraction of exact zeros. */
function zeroFraction(a: Float64Array): number {
  let z = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === 0) z++;
  return z / a.length;
}

/** Packs the result of one fit (refitting H if asked). */
function finish(
  X: Matrix, W: Float64Array, Ht: Float64Array, r: number, o: Readonly<SparsePcaOptions>, lambda: number,
  lambdaRef: number, run: ReturnType<typeof alternate>, t0: number,
): SparsePcaResult {
  const { rows: d, cols: m } = X;
  const Wm: Matrix = { rows: d, cols: r, data: W.slice() };
  const H = o.refitH ? sparsePcaTransform(Wm, X, o.ridge) : transpose({ rows: m, cols: r, data: Ht });
  const xx = sumSquares(X.data);
  let sq = 0;
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < m; j++) {
      let s = X.data[i * m + j]!;
      for (let t = 0; t < r; t++) s -= W[i * r + t]! * H.data[t * m + j]!;
      sq += s * s;
    }
  }
  return {
    W: Wm, H, alpha: o.alpha, lambda, lambdaRef,
    iterations: run.iterations, errors: run.errors, objective: run.objective,
    error: xx > 0 ? Math.sqrt(sq / xx) : 0,
    sparsity: zeroFraction(W), converged: run.converged,
    seconds: (performance.now() - t0) / 1000,
  };
}

function checkInput(X: Matrix, rank: number, owner: string): void {
  checkMatrix(X, `${owner} (input X)`, false);
  checkRank(owner, rank, X);
}

/**
 * Fits sparse PCA X ≈ W H with an ℓ1 penalty on W (see the module header).
 * @param X d×m, finite (signed).
 * @param options partial `SparsePcaOptions` over `DEFAULT_SPARSE_PCA_OPTIONS`.
 * @param onProgress called after every iteration with (iteration, relative error); `true` stops.
 */
export function sparsePca(X: Matrix, options?: Partial<SparsePcaOptions>, onProgress?: ProgressCallback): SparsePcaResult {
  const t0 = performance.now();
  const o = resolveSparsePcaOptions(options);
  checkInput(X, o.rank, 'sparsePca');
  const r = o.rank;
  const lambdaRef = maxRowNorm(X);
  const lambda = o.alpha * lambdaRef;
  const { W, Ht } = initialize(X, r, o.init, o.seed);
  const Xt = transpose(X).data;
  const run = alternate(X, Xt, W, Ht, r, lambda, o, onProgress);
  return finish(X, W, Ht, r, o, lambda, lambdaRef, run, t0);
}

/**
 * Fits sparse PCA for every alpha of a grid, in ascending alpha order, each warm-started from the
 * previous one's (W, constrained H) — one SVD start for the whole path. Results come back in the
 * caller's order. Pick alpha by an external error (see the module header).
 * @param alphas relative ℓ1 weights (each ≥ 0).
 * @param options shared options (`alpha` is ignored).
 */
export function sparsePcaPath(
  X: Matrix, alphas: readonly number[], options?: Partial<SparsePcaOptions>, onProgress?: (alpha: number, iteration: number, error: number) => boolean | void,
): { alphas: number[]; results: SparsePcaResult[] } {
  const o = resolveSparsePcaOptions(options, 'sparsePcaPath');
  if (!Array.isArray(alphas) || alphas.length === 0) throw new InvalidOptionError('sparsePcaPath', 'alphas', 'a non-empty array of numbers ≥ 0', alphas);
  alphas.forEach((a, i) => {
    if (typeof a !== 'number' || !Number.isFinite(a) || a < 0) throw new InvalidOptionError('sparsePcaPath', `alphas[${i}]`, 'a finite number ≥ 0', a);
  });
  checkInput(X, o.rank, 'sparsePcaPath');
  const r = o.rank;
  const lambdaRef = maxRowNorm(X);
  const { W, Ht } = initialize(X, r, o.init, o.seed);
  const Xt = transpose(X).data;
  const order = alphas.map((a, i) => i).sort((i, j) => alphas[i]! - alphas[j]! || i - j);
  const results = new Array<SparsePcaResult>(alphas.length);
  for (const idx of order) {
    const t0 = performance.now();
    const alpha = alphas[idx]!;
    const oa = Object.freeze({ ...o, alpha });
    const lambda = alpha * lambdaRef;
    const run = alternate(X, Xt, W, Ht, r, lambda, oa, onProgress ? (it, e) => onProgress(alpha, it, e) : undefined);
    results[idx] = finish(X, W, Ht, r, oa, lambda, lambdaRef, run, t0);
  }
  return { alphas: [...alphas], results };
}
