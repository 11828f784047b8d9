/**
 * Sparsifying bases for recovery. Compressed sensing needs x sparse in *some* basis Ψ, not
 * necessarily the identity: with x = Ψ s and s sparse, y = P x = (P Ψ) s, so we recover
 * s = R_{PΨ}(y) and return x = Ψ s. Resting-state EEG time courses are smooth rather than
 * spiky, hence nearly sparse in the DCT basis and not at all in the identity (issue 3, §6).
 *
 * 'dct' is the orthonormal DCT-II synthesis matrix: column k is the cosine
 *   ψ_k[i] = c_k · cos(π (i + ½) k / n),   c_0 = √(1/n),  c_k = √(2/n) for k ≥ 1,
 * so Ψᵀ Ψ = I and s = Ψᵀ x is scipy's `dct(x, type=2, norm='ortho')`.
 */
import { gemm } from '../linalg/kernels.js';
import type { Matrix } from '../linalg/matrix.js';
import { InvalidOptionError, ShapeMismatchError } from '../errors.js';
import type { Projection } from './operator.js';

/** Which basis the signal is sparse in. */
export type BasisName = 'identity' | 'dct';

/** The accepted basis names. */
export const BASES: readonly BasisName[] = Object.freeze(['identity', 'dct'] as BasisName[]);

/** The orthonormal DCT-II synthesis matrix Ψ (n×n, column k = k-th cosine). */
export function dctMatrix(n: number): Matrix {
  if (!Number.isInteger(n) || n < 1) throw new InvalidOptionError('dctMatrix', 'n', 'an integer ≥ 1', n);
  const data = new Float64Array(n * n);
  const c0 = Math.sqrt(1 / n), c = Math.sqrt(2 / n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) data[i * n + k] = (k === 0 ? c0 : c) * Math.cos((Math.PI * (i + 0.5) * k) / n);
  }
  return { rows: n, cols: n, data };
}

/** A measurement matrix for recovering coefficients s (PΨ, d×n), with the synthesis x = Ψ s. */
export interface BasisMeasurement {
  basis: BasisName;
  /** What recovery sees: P itself for 'identity', the dense P·Ψ otherwise. */
  matrix: Pick<Projection, 'd' | 'n' | 'sparse' | 'dense'>;
  /** Maps recovered coefficients S (n×r) to signals X = Ψ S (n×r, a new matrix; S itself for 'identity'). */
  synthesize(S: Matrix): Matrix;
}

const dctCache = new WeakMap<Projection, BasisMeasurement>();

/**
 * P composed with a sparsifying basis; P Ψ is formed once per P (d·n² flops; cheap for the n of a
 * time axis) and reused, so FR and RF against the same P share it and recovery's column view of it.
 */
export function inBasis(P: Projection, basis: BasisName): BasisMeasurement {
  if (!BASES.includes(basis)) throw new InvalidOptionError('basis', 'basis', `one of ${BASES.map((b) => `'${b}'`).join(', ')}`, basis);
  if (basis === 'identity') return { basis, matrix: P, synthesize: (S) => S };
  const hit = dctCache.get(P);
  if (hit) return hit;
  const built = dctMeasurement(P);
  dctCache.set(P, built);
  return built;
}

function dctMeasurement(P: Projection): BasisMeasurement {
  const { d, n } = P;
  const Psi = dctMatrix(n);
  const PPsi = P.applyColumns(Psi);
  return {
    basis: 'dct',
    matrix: { d, n, dense: PPsi },
    synthesize(S) {
      if (S.rows !== n) throw new ShapeMismatchError('Ψ·S: S', `${n}×r`, `${S.rows}×${S.cols}`);
      const out = new Float64Array(n * S.cols);
      gemm(Psi.data, S.data, n, n, S.cols, out);
      return { rows: n, cols: S.cols, data: out };
    },
  };
}
