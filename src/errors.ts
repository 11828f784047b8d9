/**
 * The shared error hierarchy. Every error names what was wrong and where it was found, so a
 * message read in a log is enough to fix the input (sklearn's InvalidParameterError style).
 */

/** An option had a value outside its allowed set. */
export class InvalidOptionError extends Error {
  override name = 'InvalidOptionError';
  constructor(
    readonly owner: string,
    readonly option: string,
    readonly allowed: string,
    readonly received: unknown,
  ) {
    super(`${owner}: option '${option}' must be ${allowed}; got ${formatValue(received)}`);
  }
}

/** An array or matrix had the wrong shape. */
export class ShapeMismatchError extends Error {
  override name = 'ShapeMismatchError';
  constructor(
    readonly argument: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`${argument}: expected shape ${expected}, got ${actual}`);
  }
}

/** Input data were unusable (NaN, negative where forbidden, ragged, empty); `where` locates it. */
export class DataError extends Error {
  override name = 'DataError';
  constructor(
    message: string,
    readonly where?: string,
  ) {
    super(where ? `${where}: ${message}` : message);
  }
}

/** A model was used before it was fitted. */
export class NotFittedError extends Error {
  override name = 'NotFittedError';
  constructor(readonly owner: string) {
    super(`${owner} is not fitted yet: call fit() or partialFit() first`);
  }
}

/** A solver could not produce a result (infeasible LP, solver failure). */
export class SolverError extends Error {
  override name = 'SolverError';
  constructor(
    readonly solver: string,
    message: string,
  ) {
    super(`${solver}: ${message}`);
  }
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}
