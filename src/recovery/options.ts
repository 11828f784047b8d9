/**
 * RecoveryOptions: one documented field per knob, the frozen defaults, and the constraint table
 * that drives validation (sklearn's `_parameter_constraints`, STYLE.md §4 and §6).
 */
import { InvalidOptionError } from '../errors.js';
import type { Matrix } from '../linalg/matrix.js';
import type { FastSolverOptions } from './fast.js';
import type { HighsOptionValues, NonnegFallback, RangeProjectionMode } from './lp.js';

/** How to choose among several basis-pursuit optima (see RecoveryOptions.tieBreak). */
export type TieBreak = 'none' | 'min-l2';

/** Which solver computes R_P. */
export type RecoveryMethod = 'lp' | 'fast';

/** Options of recoverColumns / recoverVector. */
export interface RecoveryOptions {
  /** 'fast'. 'lp' = exact basis pursuit with HiGHS; 'fast' = lasso-path CD with a certified BP exit. */
  method?: RecoveryMethod;
  /** false. Recover x ≥ 0 (min 1ᵀx s.t. Px = y, x ≥ 0); an extension, the paper's R_P is signed. */
  nonneg?: boolean;
  /** 0. Relative noise level η = ||e||/||y|| of y, in [0, 1); 0 = exact data (basis pursuit). 'fast' stops when the refit residual is ≤ η||y||. Not allowed with 'lp'. */
  noise?: number;
  /** none. n×r starting point, column i for column i ('fast' only; 'lp' ignores it: a warm start changes speed, not the answer). */
  warmStart?: Matrix;
  /** 0.5. 'fast': ratio between consecutive λ on the path, in (0, 1). */
  pathRatio?: number;
  /** 1e-7. 'fast': the path ends at λ_max·minLambdaRatio if nothing certified earlier, in (0, 1). */
  minLambdaRatio?: number;
  /** 1e-7. 'fast': CD stops at a λ when every √c_j·|Δx_j| ≤ tolerance·||y||, in (0, 0.1]. */
  tolerance?: number;
  /** 100000. 'fast': budget of coordinate sweeps per column, integer ≥ 1. */
  maxSweeps?: number;
  /** 1e-9. 'fast': a polished x̂ with ||Px̂ − y|| ≤ fitTolerance·||y|| counts as an exact fit, in (0, 0.01]. */
  fitTolerance?: number;
  /** true. 'fast', noise > 0: return the least-squares refit on the lasso support and apply the discrepancy rule to it. */
  debias?: boolean;
  /** true. 'fast', noise = 0, P ≥ 0: skip columns touching a zero measurement when looking for an x ≥ 0 (nonneg, or signed with y ≥ 0). */
  screening?: boolean;
  /** 2e-5. 'fast', signed, noise = 0, support above d/2 (non-sparse BP): relative ℓ1 accuracy target; CD's tolerance scales with it and the path stops once the feasible refit's ℓ1 norm is within it of the lasso's BP-value estimate (measured error vs the LP ≤ 4× this), in (0, 0.01]. */
  l1Tolerance?: number;
  /** false. 'fast', P ≥ 0 with equal column sums, y ≥ 0: when the screened candidates are too many for an exact solve, return the first exact non-negative fit found by NNLS. It is ℓ1-optimal (every x ≥ 0 with Px = y is), but BP then has a whole face of optima, and the point the path reaches recovered factors better in our experiments (esGolub FR at n/d = 10: error 0.83 vs 0.93; synthetic d = 400, k = 60: errW 0.058 vs 0.079). */
  coneNnls?: boolean;
  /** 'none'. 'min-l2' (needs nonneg, noise 0, and P ≥ 0 with equal column sums such as sparse-binary, where every x ≥ 0 with Px = y is BP-optimal): return the optimum of least ℓ2 norm instead of whichever one the solver reaches (minl2.ts; `method` is then unused) — the better estimate for signals that are not sparse, the same answer where BP's optimum is unique. */
  tieBreak?: TieBreak;
  /** 'auto'. 'lp': when to project y onto range(P) ('auto' only if infeasible, 'always' as the repo, 'off'). */
  rangeProjection?: RangeProjectionMode;
  /** 'l1-fit'. 'lp', nonneg: y outside the cone → best ℓ1 fit ('l1-fit') or SolverError ('error'); with tieBreak 'min-l2': the least-norm best ℓ2 fit, or SolverError. */
  nonnegFallback?: NonnegFallback;
  /** {}. 'lp': extra HiGHS options by their snake_case names (output stays off unless output_flag is given). */
  highsOptions?: HighsOptionValues;
}

/** Every option resolved (warmStart stays optional). */
export type ResolvedRecoveryOptions = Required<Omit<RecoveryOptions, 'warmStart'>> & { warmStart?: Matrix };

/** The documented defaults. */
export const DEFAULT_RECOVERY_OPTIONS: Readonly<Required<Omit<RecoveryOptions, 'warmStart'>>> = Object.freeze({
  method: 'fast',
  nonneg: false,
  noise: 0,
  pathRatio: 0.5,
  minLambdaRatio: 1e-7,
  tolerance: 1e-7,
  maxSweeps: 100_000,
  fitTolerance: 1e-9,
  debias: true,
  screening: true,
  l1Tolerance: 2e-5,
  coneNnls: false,
  tieBreak: 'none',
  rangeProjection: 'auto',
  nonnegFallback: 'l1-fit',
  highsOptions: Object.freeze({}),
} as const);

/** A constraint on one option's value. */
export type Constraint =
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'boolean' }
  | { kind: 'interval'; lo: number; hi: number; loOpen: boolean; hiOpen: boolean; integer?: boolean }
  | { kind: 'matrix' }
  | { kind: 'record' };

/** Allowed values per option (drives resolveRecoveryOptions and its table-driven test). */
export const RECOVERY_OPTION_CONSTRAINTS: Readonly<Record<keyof RecoveryOptions, Constraint>> = Object.freeze({
  method: { kind: 'enum', values: ['lp', 'fast'] },
  nonneg: { kind: 'boolean' },
  noise: { kind: 'interval', lo: 0, hi: 1, loOpen: false, hiOpen: true },
  warmStart: { kind: 'matrix' },
  pathRatio: { kind: 'interval', lo: 0, hi: 1, loOpen: true, hiOpen: true },
  minLambdaRatio: { kind: 'interval', lo: 0, hi: 1, loOpen: true, hiOpen: true },
  tolerance: { kind: 'interval', lo: 0, hi: 0.1, loOpen: true, hiOpen: false },
  maxSweeps: { kind: 'interval', lo: 1, hi: 1e9, loOpen: false, hiOpen: false, integer: true },
  fitTolerance: { kind: 'interval', lo: 0, hi: 0.01, loOpen: true, hiOpen: false },
  debias: { kind: 'boolean' },
  screening: { kind: 'boolean' },
  coneNnls: { kind: 'boolean' },
  l1Tolerance: { kind: 'interval', lo: 0, hi: 0.01, loOpen: true, hiOpen: false },
  tieBreak: { kind: 'enum', values: ['none', 'min-l2'] },
  rangeProjection: { kind: 'enum', values: ['auto', 'always', 'off'] },
  nonnegFallback: { kind: 'enum', values: ['l1-fit', 'error'] },
  highsOptions: { kind: 'record' },
});

const OWNER = 'recovery';

/** Human-readable description of a constraint, for error messages. */
export function describeConstraint(c: Constraint): string {
  switch (c.kind) {
    case 'enum': return `one of ${c.values.map((v) => `'${v}'`).join(', ')}`;
    case 'boolean': return 'a boolean';
    case 'matrix': return 'a Matrix {rows, cols, data: Float64Array} or undefined';
    case 'record': return 'an object of HiGHS option names to string, number or boolean values';
    case 'interval': {
      const l = c.loOpen ? '(' : '[', r = c.hiOpen ? ')' : ']';
      return `${c.integer ? 'an integer' : 'a finite number'} in ${l}${c.lo}, ${c.hi}${r}`;
    }
  }
}

function satisfies(c: Constraint, v: unknown): boolean {
  switch (c.kind) {
    case 'enum': return typeof v === 'string' && c.values.includes(v);
    case 'boolean': return typeof v === 'boolean';
    case 'matrix': {
      if (typeof v !== 'object' || v === null) return false;
      const m = v as Partial<Matrix>;
      return Number.isInteger(m.rows) && Number.isInteger(m.cols) && m.data instanceof Float64Array;
    }
    case 'record': {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
      return Object.values(v).every((x) => ['string', 'number', 'boolean'].includes(typeof x));
    }
    case 'interval': {
      if (typeof v !== 'number' || !Number.isFinite(v)) return false;
      if (c.integer && !Number.isInteger(v)) return false;
      return (c.loOpen ? v > c.lo : v >= c.lo) && (c.hiOpen ? v < c.hi : v <= c.hi);
    }
  }
}

/** Merges options over the defaults into a new object and validates every field (InvalidOptionError). */
export function resolveRecoveryOptions(options: RecoveryOptions = {}): ResolvedRecoveryOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(OWNER, 'options', 'an object or undefined', options);
  }
  const known = Object.keys(RECOVERY_OPTION_CONSTRAINTS);
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new InvalidOptionError(OWNER, key, `a known option (${known.join(', ')})`, key);
  }
  const merged: Record<string, unknown> = { ...DEFAULT_RECOVERY_OPTIONS };
  for (const [k, v] of Object.entries(options)) if (v !== undefined) merged[k] = v;
  for (const [name, c] of Object.entries(RECOVERY_OPTION_CONSTRAINTS) as [keyof RecoveryOptions, Constraint][]) {
    const v = merged[name];
    if (name === 'warmStart' && v === undefined) continue;
    if (!satisfies(c, v)) throw new InvalidOptionError(OWNER, name, describeConstraint(c), v);
  }
  const resolved = merged as ResolvedRecoveryOptions;
  // Cross-field rule: the LP is exact basis pursuit; a noise level would silently change the estimator.
  if (resolved.method === 'lp' && resolved.noise > 0) {
    throw new InvalidOptionError(OWNER, 'noise', "0 when method is 'lp' (the LP computes exact basis pursuit; use method 'fast')", resolved.noise);
  }
  if (resolved.tieBreak === 'min-l2' && (!resolved.nonneg || resolved.noise > 0)) {
    throw new InvalidOptionError(OWNER, 'tieBreak', "'none' unless nonneg is true and noise is 0 ('min-l2' picks among the x ≥ 0 that fit y exactly)", resolved.tieBreak);
  }
  return resolved;
}

/** The fast-solver subset of resolved options. */
export function fastOptionsOf(o: ResolvedRecoveryOptions): FastSolverOptions {
  return {
    nonneg: o.nonneg, noise: o.noise, pathRatio: o.pathRatio, minLambdaRatio: o.minLambdaRatio,
    tolerance: o.tolerance, maxSweeps: o.maxSweeps, fitTolerance: o.fitTolerance, debias: o.debias,
    screening: o.screening, l1Tolerance: o.l1Tolerance, coneNnls: o.coneNnls,
  };
}
