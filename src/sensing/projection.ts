/**
 * Measurement ensembles and the `ProjectionSpec` that names one. `P` is never shipped: both ends
 * regenerate it from the spec, so the generator below is part of the wire contract.
 *
 * Generator (uses `Rng(seed)` from `src/linalg/random.ts`, whose algorithm is specified there).
 * Columns are generated in order j = 0, 1, …, n−1, so firmware can stream through x and
 * accumulate y += x_j·P[:, j] without storing P.
 *
 * - `sparse-binary` (default p = 5; the paper's choice): for each column j, draw rows with
 *   `r = rng.int(d)`; a draw already taken for this column is discarded and drawn again; stop once
 *   p distinct rows are taken. P[r][j] = 1 for those rows, 0 elsewhere. Unscaled (entries exactly 1).
 * - `gaussian`: for each column j, for i = 0..d−1: P[i][j] = rng.normal() / sqrt(d).
 * - `rademacher`: for each column j, for i = 0..d−1: P[i][j] = (rng.nextUint32() >>> 31 ? +1 : −1) / sqrt(d).
 */
import { InvalidOptionError } from '../errors.js';
import type { Matrix } from '../linalg/matrix.js';
import { Rng } from '../linalg/random.js';
import type { SparseBinaryMatrix } from '../linalg/sparseBinary.js';

/** Names of the measurement ensembles. */
export type Ensemble = 'sparse-binary' | 'gaussian' | 'rademacher';

/** Everything needed to regenerate P (d×n) bit for bit. */
export interface ProjectionSpec {
  ensemble: Ensemble;
  /** Uncompressed dimension (columns of P). */
  n: number;
  /** Compressed dimension (rows of P), 1 ≤ d < n. */
  d: number;
  /** Ones per column for `sparse-binary`; default 5, 1 ≤ p ≤ d. Ignored by dense ensembles. */
  p?: number;
  /** Seed of the generator (integer, reduced mod 2^32). */
  seed: number;
}

/** Default ones per column of a sparse-binary P (the paper's value). */
export const DEFAULT_P = 5;

const ENSEMBLES: readonly Ensemble[] = ['sparse-binary', 'gaussian', 'rademacher'];

/** Largest n a ProjectionSpec may have. */
export const MAX_N = 10_000_000;
/** Largest number of stored entries of P (n·p sparse, n·d dense): 2^27, 1 GiB of float64. */
export const MAX_ENTRIES = 2 ** 27;

/** Checks a spec and returns it with `p` resolved; throws InvalidOptionError naming the field. */
export function validateProjectionSpec(spec: ProjectionSpec): Required<ProjectionSpec> {
  const owner = 'ProjectionSpec';
  if (!ENSEMBLES.includes(spec.ensemble)) throw new InvalidOptionError(owner, 'ensemble', `one of ${ENSEMBLES.join(', ')}`, spec.ensemble);
  // Bounded so that P fits in memory and int32 indices (n·p entries, or d·n dense): a huge n in a
  // config must be an error naming it, not a RangeError from an allocation.
  if (!Number.isInteger(spec.n) || spec.n < 2 || spec.n > MAX_N) throw new InvalidOptionError(owner, 'n', `an integer in [2, ${MAX_N}]`, spec.n);
  if (!Number.isInteger(spec.d) || spec.d < 1 || spec.d >= spec.n) {
    throw new InvalidOptionError(owner, 'd', `an integer with 1 ≤ d < n = ${spec.n}`, spec.d);
  }
  const p = spec.p ?? DEFAULT_P;
  if (spec.ensemble === 'sparse-binary' && (!Number.isInteger(p) || p < 1 || p > spec.d)) {
    throw new InvalidOptionError(owner, 'p', `an integer with 1 ≤ p ≤ d = ${spec.d}`, p);
  }
  if (!Number.isInteger(spec.seed)) throw new InvalidOptionError(owner, 'seed', 'an integer', spec.seed);
  if (spec.ensemble === 'sparse-binary' ? spec.n * p > MAX_ENTRIES : spec.n * spec.d > MAX_ENTRIES) {
    throw new InvalidOptionError(owner, 'n', `a size whose P holds at most ${MAX_ENTRIES} entries (${spec.ensemble === 'sparse-binary' ? 'n·p' : 'n·d'})`, spec.n);
  }
  return { ensemble: spec.ensemble, n: spec.n, d: spec.d, p, seed: spec.seed };
}

/** Row indices of the ones of a sparse-binary P, column by column, in draw order (not sorted). */
export function sparseBinaryDraws(n: number, d: number, p: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  const out = new Int32Array(n * p);
  for (let j = 0; j < n; j++) {
    const base = j * p;
    let taken = 0;
    while (taken < p) {
      const r = rng.int(d);
      let dup = false;
      for (let t = 0; t < taken; t++) if (out[base + t] === r) { dup = true; break; }
      if (!dup) out[base + taken++] = r;
    }
  }
  return out;
}

/** Generates the sparse-binary P of a spec (rows sorted within each column). */
export function generateSparseBinary(spec: Required<ProjectionSpec>): SparseBinaryMatrix {
  const { n, d, p, seed } = spec;
  const rowIdx = sparseBinaryDraws(n, d, p, seed);
  const colPtr = new Int32Array(n + 1);
  for (let j = 0; j < n; j++) {
    colPtr[j + 1] = (j + 1) * p;
    rowIdx.subarray(j * p, (j + 1) * p).sort();
  }
  return { rows: d, cols: n, colPtr, rowIdx };
}

/** Generates a dense P (gaussian or rademacher), row-major d×n. */
export function generateDense(spec: Required<ProjectionSpec>): Matrix {
  const { n, d, seed, ensemble } = spec;
  const rng = new Rng(seed);
  const data = new Float64Array(d * n);
  const s = 1 / Math.sqrt(d);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < d; i++) {
      data[i * n + j] = ensemble === 'gaussian' ? rng.normal() * s : (rng.nextUint32() >>> 31 ? s : -s);
    }
  }
  return { rows: d, cols: n, data };
}
