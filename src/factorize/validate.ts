/**
 * Option and data validation shared by the factorization modules.
 *
 * Options are described by a constraint table (one entry per field, sklearn's
 * `_parameter_constraints` as data); `resolveOptions` merges the caller's partial options over the
 * frozen defaults into a NEW frozen object and checks every field against the table, so a bad value
 * fails when the estimator is built, with an `InvalidOptionError` generated from the constraint.
 * Data checks (`checkMatrix`, `checkRank`) run once at the boundary of each public function.
 */
import { DataError, InvalidOptionError, ShapeMismatchError } from '../errors.js';
import type { Matrix } from '../linalg/matrix.js';

/** One field's allowed values. */
export type Constraint =
  | { readonly type: 'int'; readonly min?: number; readonly max?: number }
  | {
      readonly type: 'number';
      readonly min?: number;
      readonly max?: number;
      /** Exclude `min` itself (an open interval at the bottom). */
      readonly minExclusive?: boolean;
    }
  | { readonly type: 'enum'; readonly values: readonly string[] }
  | { readonly type: 'boolean' }
  | { readonly type: 'seed' };

/** A constraint per option field. */
export type ConstraintTable<T> = { readonly [K in keyof T]-?: Constraint };

/** The allowed set as a phrase for error messages ("an integer ≥ 1", "one of 'pgd', 'hals'"). */
export function describeConstraint(c: Constraint): string {
  switch (c.type) {
    case 'int':
      if (c.min !== undefined && c.max !== undefined) return `an integer in [${c.min}, ${c.max}]`;
      if (c.min !== undefined) return `an integer ≥ ${c.min}`;
      if (c.max !== undefined) return `an integer ≤ ${c.max}`;
      return 'an integer';
    case 'number': {
      const lo = c.min === undefined ? '(-∞' : `${c.minExclusive ? '(' : '['}${c.min}`;
      const hi = c.max === undefined ? '∞)' : `${c.max}]`;
      return `a finite number in ${lo}, ${hi}`;
    }
    case 'enum':
      return `one of ${c.values.map((v) => `'${v}'`).join(', ')}`;
    case 'boolean':
      return 'a boolean';
    case 'seed':
      return 'an integer seed';
  }
}

/** True when `value` satisfies `c`. */
export function satisfies(c: Constraint, value: unknown): boolean {
  switch (c.type) {
    case 'int':
      return (
        typeof value === 'number' && Number.isInteger(value) &&
        (c.min === undefined || value >= c.min) && (c.max === undefined || value <= c.max)
      );
    case 'number':
      return (
        typeof value === 'number' && Number.isFinite(value) &&
        (c.min === undefined || (c.minExclusive ? value > c.min : value >= c.min)) &&
        (c.max === undefined || value <= c.max)
      );
    case 'enum':
      return typeof value === 'string' && c.values.includes(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'seed':
      return typeof value === 'number' && Number.isSafeInteger(value);
  }
}

/**
 * Merges `given` over `defaults` into a new frozen object and validates every field against
 * `table`. Unknown fields and `undefined` values for known fields are rejected / defaulted
 * respectively. Throws InvalidOptionError naming `owner`, the field, the allowed set and the value.
 */
export function resolveOptions<T extends object>(
  owner: string, table: ConstraintTable<T>, defaults: Readonly<T>, given: Partial<T> | undefined,
): Readonly<T> {
  const merged = { ...defaults } as T;
  if (given !== undefined && (typeof given !== 'object' || given === null)) {
    throw new InvalidOptionError(owner, 'options', 'an object', given);
  }
  for (const [key, value] of Object.entries(given ?? {})) {
    if (!(key in table)) {
      throw new InvalidOptionError(owner, key, `a known option (${Object.keys(table).join(', ')})`, value);
    }
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  for (const key of Object.keys(table) as (keyof T & string)[]) {
    const c = table[key];
    const v = merged[key];
    if (!satisfies(c, v)) throw new InvalidOptionError(owner, key, describeConstraint(c), v);
  }
  return Object.freeze(merged);
}

/**
 * Checks a data matrix once at a public boundary: consistent storage, at least one row and one
 * column, every entry finite and (if `nonNegative`) ≥ 0. The DataError names `where` and the first
 * offending entry's row and column.
 */
export function checkMatrix(X: Matrix, where: string, nonNegative: boolean): void {
  if (!X || !(X.data instanceof Float64Array)) throw new DataError('expected a Matrix with Float64Array data', where);
  const { rows, cols, data } = X;
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1) {
    throw new DataError(`matrix must have at least one row and one column; got ${rows}x${cols}`, where);
  }
  if (data.length !== rows * cols) {
    throw new ShapeMismatchError(where, `${rows}x${cols} (${rows * cols} entries)`, `${data.length} entries`);
  }
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) {
      throw new DataError(`entry at row ${Math.floor(i / cols)}, column ${i % cols} is ${v}; all entries must be finite`, where);
    }
    if (nonNegative && v < 0) {
      throw new DataError(`entry at row ${Math.floor(i / cols)}, column ${i % cols} is ${v}; all entries must be ≥ 0`, where);
    }
  }
}

/** Throws InvalidOptionError unless rank ≤ min(rows, cols) of X. */
export function checkRank(owner: string, rank: number, X: Matrix): void {
  const limit = Math.min(X.rows, X.cols);
  if (rank > limit) {
    throw new InvalidOptionError(owner, 'rank', `an integer ≤ min(d, m) = ${limit} for X of shape ${X.rows}x${X.cols}`, rank);
  }
}
