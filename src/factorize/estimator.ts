/**
 * The estimator contract shared by every factorization, its NMF and sparse PCA implementations,
 * and `factorize`, the one-call entry used by the compressed pipeline.
 *
 * Function first, class second: `NMF` and `SparsePCA` validate and freeze their options in the
 * constructor, delegate `fit` to `nmf` / `sparsePca`, and keep the learned factors privately.
 * `transform` only reads; `components` returns copies; `state` is a plain, versioned JSON snapshot
 * (arrays, not typed arrays) and `restore` checks kind, version, options and shapes.
 *
 * @example
 * const model = new NMF({ rank: 10 }).fit(X);
 * const Hnew = model.transform(Xnew);               // NNLS with W fixed
 * const copy = new NMF().restore(JSON.parse(JSON.stringify(model.state())));
 */
import { DataError, InvalidOptionError, NotFittedError, ShapeMismatchError } from '../errors.js';
import { clone, type Matrix } from '../linalg/matrix.js';
import {
  nmf, nmfTransform, resolveNmfOptions, type NmfOptions, type NmfResult, type NmfSolver,
} from './nmf.js';
import {
  resolveSparsePcaOptions, sparsePca, sparsePcaTransform, type SparsePcaOptions, type SparsePcaResult,
} from './sparsePca.js';
import type { ProgressCallback } from './types.js';

/** The one estimator contract for every factorization X (d×m) ≈ W (d×r) · H (r×m). */
export interface Factorizer<S = unknown> {
  /** Fits on X (d×m, columns = samples); returns itself. */
  fit(X: Matrix): this;
  /** Updates with a batch of new samples (online models); fixes d on the first call. */
  partialFit?(batch: Matrix): this;
  /** H (r×m') for new samples with W fixed; never mutates the model. */
  transform(X: Matrix): Matrix;
  /** Copies of the learned factors; NotFittedError if unfitted. */
  components(): { W: Matrix; H: Matrix };
  /** A plain, versioned, JSON-serialisable snapshot. */
  state(): S;
  /** Replaces the model with a snapshot (checks version and shapes); returns itself. */
  restore(state: S): this;
}

/** A matrix in a JSON snapshot. */
export interface MatrixJson {
  rows: number;
  cols: number;
  /** Row-major entries. */
  data: number[];
}

/** Plain copy of a matrix for a snapshot. */
export function matrixToJson(a: Matrix): MatrixJson {
  return { rows: a.rows, cols: a.cols, data: Array.from(a.data) };
}

/** Matrix from a snapshot, checking its storage, shape (when given) and that entries are finite. */
export function matrixFromJson(j: unknown, where: string, rows?: number, cols?: number): Matrix {
  const o = j as Partial<MatrixJson> | null;
  if (!o || typeof o !== 'object' || !Number.isInteger(o.rows) || !Number.isInteger(o.cols) || !Array.isArray(o.data)) {
    throw new DataError('expected {rows, cols, data: number[]}', where);
  }
  const r = o.rows!, c = o.cols!;
  if (o.data.length !== r * c) throw new ShapeMismatchError(where, `${r}x${c} (${r * c} entries)`, `${o.data.length} entries`);
  if ((rows !== undefined && r !== rows) || (cols !== undefined && c !== cols)) {
    throw new ShapeMismatchError(where, `${rows ?? '*'}x${cols ?? '*'}`, `${r}x${c}`);
  }
  const data = new Float64Array(r * c);
  for (let i = 0; i < data.length; i++) {
    const v = o.data[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new DataError(`entry ${i} is ${String(v)}; all entries must be finite numbers`, where);
    data[i] = v;
  }
  return { rows: r, cols: c, data };
}

/** Checks a snapshot's kind and version (DataError naming `owner`.restore). */
export function checkHeader(state: unknown, owner: string, kind: string, version: number): void {
  const s = state as { kind?: unknown; version?: unknown } | null;
  if (!s || typeof s !== 'object') throw new DataError('state must be an object', `${owner}.restore`);
  if (s.kind !== kind) throw new DataError(`state kind must be '${kind}'; got ${JSON.stringify(s.kind)}`, `${owner}.restore`);
  if (s.version !== version) throw new DataError(`unsupported state version ${JSON.stringify(s.version)}; this build reads version ${version}`, `${owner}.restore`);
}

// ---------------------------------------------------------------------------------------------
// NMF

/** Snapshot of a fitted `NMF`. */
export interface NmfState {
  kind: 'NMF';
  version: 1;
  options: NmfOptions;
  W: MatrixJson;
  H: MatrixJson;
  iterations: number;
  errors: number[];
}

/** NMF estimator (HALS by default, the paper's PGD with `solver: 'pgd'`); see `nmf`. */
export class NMF implements Factorizer<NmfState> {
  private opts: Readonly<NmfOptions>;
  private W?: Matrix;
  private H?: Matrix;
  private iters = 0;
  private errs: number[] = [];

  /** Validates (InvalidOptionError) and freezes the options. */
  constructor(options?: Partial<NmfOptions>) {
    this.opts = resolveNmfOptions(options, 'NMF');
  }

  /** The resolved, frozen options. */
  get options(): Readonly<NmfOptions> { return this.opts; }
  /** Iterations of the last fit. */
  get iterations(): number { return this.iters; }
  /** Relative error curve of the last fit (copy). */
  get errors(): number[] { return this.errs.slice(); }

  /** Fits X ≈ W H; `onProgress` as in `nmf`. */
  fit(X: Matrix, onProgress?: ProgressCallback): this {
    const res: NmfResult = nmf(X, this.opts, onProgress);
    this.W = res.W;
    this.H = res.H;
    this.iters = res.iterations;
    this.errs = res.errors;
    return this;
  }

  /** Activations of new samples with W fixed (NNLS, same penalties on H as the fit). */
  transform(X: Matrix): Matrix {
    if (!this.W) throw new NotFittedError('NMF');
    return nmfTransform(this.W, X, { l1H: this.opts.l1H, l2H: this.opts.l2H });
  }

  /** Copies of W (d×r) and H (r×m). */
  components(): { W: Matrix; H: Matrix } {
    if (!this.W || !this.H) throw new NotFittedError('NMF');
    return { W: clone(this.W), H: clone(this.H) };
  }

  /** Versioned JSON snapshot. */
  state(): NmfState {
    if (!this.W || !this.H) throw new NotFittedError('NMF');
    return {
      kind: 'NMF', version: 1, options: { ...this.opts },
      W: matrixToJson(this.W), H: matrixToJson(this.H), iterations: this.iters, errors: this.errs.slice(),
    };
  }

  /** Restores a snapshot (its options replace this model's, after validation). */
  restore(state: NmfState): this {
    checkHeader(state, 'NMF', 'NMF', 1);
    const opts = resolveNmfOptions(state.options, 'NMF');
    const W = matrixFromJson(state.W, 'NMF.restore (W)', undefined, opts.rank);
    const H = matrixFromJson(state.H, 'NMF.restore (H)', opts.rank);
    for (const [name, M] of [['W', W], ['H', H]] as const) {
      const bad = M.data.findIndex((v) => v < 0);
      if (bad >= 0) throw new DataError(`entry ${bad} is negative; NMF factors must be ≥ 0`, `NMF.restore (${name})`);
    }
    this.opts = opts;
    this.W = W;
    this.H = H;
    this.iters = Number.isInteger(state.iterations) ? state.iterations : 0;
    this.errs = Array.isArray(state.errors) ? state.errors.filter((e) => typeof e === 'number') : [];
    return this;
  }
}

// ---------------------------------------------------------------------------------------------
// Sparse PCA

/** Snapshot of a fitted `SparsePCA`. */
export interface SparsePcaState {
  kind: 'SparsePCA';
  version: 1;
  options: SparsePcaOptions;
  W: MatrixJson;
  H: MatrixJson;
  lambda: number;
  iterations: number;
  errors: number[];
}

/** Sparse PCA estimator (ℓ1 on W, unit-ball rows of H); see `sparsePca`. */
export class SparsePCA implements Factorizer<SparsePcaState> {
  private opts: Readonly<SparsePcaOptions>;
  private W?: Matrix;
  private H?: Matrix;
  private lam = 0;
  private iters = 0;
  private errs: number[] = [];

  /** Validates (InvalidOptionError) and freezes the options. */
  constructor(options?: Partial<SparsePcaOptions>) {
    this.opts = resolveSparsePcaOptions(options, 'SparsePCA');
  }

  /** The resolved, frozen options. */
  get options(): Readonly<SparsePcaOptions> { return this.opts; }
  /** Absolute ℓ1 weight λ of the last fit. */
  get lambda(): number { return this.lam; }
  /** Iterations of the last fit. */
  get iterations(): number { return this.iters; }
  /** Relative error curve of the last fit (copy). */
  get errors(): number[] { return this.errs.slice(); }

  /** Fits X ≈ W H; `onProgress` as in `sparsePca`. */
  fit(X: Matrix, onProgress?: ProgressCallback): this {
    const res: SparsePcaResult = sparsePca(X, this.opts, onProgress);
    this.W = res.W;
    this.H = res.H;
    this.lam = res.lambda;
    this.iters = res.iterations;
    this.errs = res.errors;
    return this;
  }

  /** Codes of new samples with W fixed: ridge least squares (the fit's `ridge`). */
  transform(X: Matrix): Matrix {
    if (!this.W) throw new NotFittedError('SparsePCA');
    if (X.rows !== this.W.rows) throw new ShapeMismatchError('SparsePCA.transform X', `${this.W.rows}xm (rows = rows of W)`, `${X.rows}x${X.cols}`);
    const where = 'SparsePCA.transform (input X)';
    for (let i = 0; i < X.data.length; i++) {
      if (!Number.isFinite(X.data[i]!)) throw new DataError(`entry at row ${Math.floor(i / X.cols)}, column ${i % X.cols} is ${X.data[i]}; all entries must be finite`, where);
    }
    return sparsePcaTransform(this.W, X, this.opts.ridge);
  }

  /** Copies of W (d×r) and H (r×m). */
  components(): { W: Matrix; H: Matrix } {
    if (!this.W || !this.H) throw new NotFittedError('SparsePCA');
    return { W: clone(this.W), H: clone(this.H) };
  }

  /** Versioned JSON snapshot. */
  state(): SparsePcaState {
    if (!this.W || !this.H) throw new NotFittedError('SparsePCA');
    return {
      kind: 'SparsePCA', version: 1, options: { ...this.opts }, W: matrixToJson(this.W), H: matrixToJson(this.H),
      lambda: this.lam, iterations: this.iters, errors: this.errs.slice(),
    };
  }

  /** Restores a snapshot (its options replace this model's, after validation). */
  restore(state: SparsePcaState): this {
    checkHeader(state, 'SparsePCA', 'SparsePCA', 1);
    const opts = resolveSparsePcaOptions(state.options, 'SparsePCA');
    const W = matrixFromJson(state.W, 'SparsePCA.restore (W)', undefined, opts.rank);
    const H = matrixFromJson(state.H, 'SparsePCA.restore (H)', opts.rank);
    this.opts = opts;
    this.W = W;
    this.H = H;
    this.lam = typeof state.lambda === 'number' && Number.isFinite(state.lambda) ? state.lambda : 0;
    this.iters = Number.isInteger(state.iterations) ? state.iterations : 0;
    this.errs = Array.isArray(state.errors) ? state.errors.filter((e) => typeof e === 'number') : [];
    return this;
  }
}

// ---------------------------------------------------------------------------------------------
// factorize

/** Options of `factorize`: the method, the rank, and that method's options. */
export type FactorizeOptions =
  | ({ solver: 'nmf'; rank: number; /** 'hals'; NMF algorithm (NmfOptions.solver). */ nmfSolver?: NmfSolver } & Partial<Omit<NmfOptions, 'solver' | 'rank'>>)
  | ({ solver: 'spca'; rank: number } & Partial<Omit<SparsePcaOptions, 'rank'>>);

/** Result of `factorize`. */
export interface FactorizeResult {
  solver: 'nmf' | 'spca';
  /** d×r (the factor to recover). */
  W: Matrix;
  /** r×m. */
  H: Matrix;
  /** Final relative error ‖X − WH‖/‖X‖. */
  error: number;
  /** Error curve (see `NmfResult.errors` / `SparsePcaResult.errors`). */
  errors: number[];
  iterations: number;
  seconds: number;
  /** The full result of the underlying function. */
  detail: NmfResult | SparsePcaResult;
}

/**
 * One call for the compressed pipeline: NMF (`solver: 'nmf'`, algorithm by `nmfSolver`) or sparse
 * PCA (`solver: 'spca'`) of X at the given rank. Options are validated like the functions' own.
 */
export function factorize(X: Matrix, options: FactorizeOptions, onProgress?: ProgressCallback): FactorizeResult {
  if (!options || typeof options !== 'object') throw new InvalidOptionError('factorize', 'options', 'an object', options);
  if (options.solver === 'nmf') {
    const { solver: _s, nmfSolver, ...rest } = options;
    const res = nmf(X, { ...rest, ...(nmfSolver !== undefined ? { solver: nmfSolver } : {}) }, onProgress);
    return { solver: 'nmf', W: res.W, H: res.H, error: res.error, errors: res.errors, iterations: res.iterations, seconds: res.seconds, detail: res };
  }
  if (options.solver === 'spca') {
    const { solver: _s, ...rest } = options;
    const res = sparsePca(X, rest, onProgress);
    return { solver: 'spca', W: res.W, H: res.H, error: res.error, errors: res.errors, iterations: res.iterations, seconds: res.seconds, detail: res };
  }
  throw new InvalidOptionError('factorize', 'solver', "one of 'nmf', 'spca'", (options as { solver?: unknown }).solver);
}
