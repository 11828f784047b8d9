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

/** One problem in a config file: where it is (path, and line:column when parsed from text) and what is wrong. */
export interface ConfigIssue {
  /** The value's path in the config, e.g. `stages[2].rank` ('' for the whole document). */
  readonly path: string;
  /** 1-based line and column in the source text, when known. */
  readonly line?: number;
  readonly column?: number;
  /** What is wrong, e.g. "must be an integer ≥ 1; got 0". */
  readonly problem: string;
}

/**
 * A config (YAML or object) that cannot be used: one line per issue,
 * `file:line:column: path: problem`. The first issue's fields are copied onto the error.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly path: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly problem: string;
  constructor(
    readonly source: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(issues.map((i) => formatIssue(source, i)).join('\n') || `${source}: invalid config`);
    const first = issues[0];
    this.path = first?.path ?? '';
    this.line = first?.line;
    this.column = first?.column;
    this.problem = first?.problem ?? 'invalid config';
  }
}

function formatIssue(source: string, i: ConfigIssue): string {
  const at = i.line === undefined ? source : `${source}:${i.line}:${i.column ?? 1}`;
  return i.path ? `${at}: ${i.path}: ${i.problem}` : `${at}: ${i.problem}`;
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
