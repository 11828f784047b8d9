/**
 * Kernels of 3-way CP (CANDECOMP/PARAFAC): the matricised-tensor-times-Khatri–Rao product (MTTKRP)
 * per mode, the r×r Gram algebra and the cheap fit error
 *
 *   ‖T − [[w; A, B, C]]‖² = ‖T‖² − 2⟨T, [[w; A, B, C]]⟩ + ‖[[w; A, B, C]]‖²
 *
 * where ⟨T, [[A, B, C]]⟩ = Σ_{k,t} MTTKRP₂(T; A, B)[k,t]·C[k,t] (reusing the last mode's MTTKRP of
 * an ALS sweep) and ‖[[w; A, B, C]]‖² = wᵀ (AᵀA ∘ BᵀB ∘ CᵀC) w (Hadamard product of the Grams).
 *
 * Layout: T (dims [I, J, K]) has entry (i, j, k) at data[(i·J + j)·K + k]; factors are row-major
 * A (I×r), B (J×r), C (K×r); the model is T̂[i,j,k] = Σ_t w_t·A[i,t]·B[j,t]·C[k,t].
 * MTTKRP of mode 0 is T₍₀₎·(B ⊙ C) (I×r), mode 1 T₍₁₎·(A ⊙ C) (J×r), mode 2 T₍₂₎·(A ⊙ B) (K×r);
 * each is one pass over T without materialising the Khatri–Rao product (cost ≈ I·J·K·r).
 */
import { ShapeMismatchError } from '../../errors.js';
import { gramCols } from '../../linalg/kernels.js';
import { matrix, type Matrix } from '../../linalg/matrix.js';
import type { Tensor3 } from '../../sensing/operator.js';

/** A CP mode: 0 (A, rows i), 1 (B, rows j), 2 (C, rows k). */
export type CpMode = 0 | 1 | 2;

/** The three factor matrices [A (I×r), B (J×r), C (K×r)]. */
export type CpFactors = readonly [Matrix, Matrix, Matrix];

/**
 * Raw MTTKRP kernel: `out` (dims[mode]×r) = T₍mode₎ · (Khatri–Rao of the other two factors).
 * The factor of `mode` itself is not read. `tmp` is an r-entry workspace. No checks, no allocation.
 */
export function mttkrpInto(
  T: Tensor3, A: Float64Array, B: Float64Array, C: Float64Array, r: number, mode: CpMode,
  out: Float64Array, tmp: Float64Array,
): void {
  const [I, J, K] = T.dims;
  const x = T.data;
  out.fill(0, 0, T.dims[mode] * r);
  if (mode === 2) {
    for (let i = 0; i < I; i++) {
      const ai = i * r;
      for (let j = 0; j < J; j++) {
        const bj = j * r;
        for (let s = 0; s < r; s++) tmp[s] = A[ai + s]! * B[bj + s]!;
        const base = (i * J + j) * K;
        for (let k = 0; k < K; k++) {
          const t = x[base + k]!;
          if (t === 0) continue;
          const ok = k * r;
          for (let s = 0; s < r; s++) out[ok + s]! += t * tmp[s]!;
        }
      }
    }
    return;
  }
  // Modes 0 and 1: tmp = Σ_k T[i,j,k]·C[k,:], then out[row] += (other row) ∘ tmp.
  for (let i = 0; i < I; i++) {
    const ai = i * r;
    for (let j = 0; j < J; j++) {
      tmp.fill(0, 0, r);
      const base = (i * J + j) * K;
      for (let k = 0; k < K; k++) {
        const t = x[base + k]!;
        if (t === 0) continue;
        const ck = k * r;
        for (let s = 0; s < r; s++) tmp[s]! += t * C[ck + s]!;
      }
      if (mode === 0) {
        const bj = j * r;
        for (let s = 0; s < r; s++) out[ai + s]! += B[bj + s]! * tmp[s]!;
      } else {
        const oj = j * r;
        for (let s = 0; s < r; s++) out[oj + s]! += A[ai + s]! * tmp[s]!;
      }
    }
  }
}

/** Checks that T is a consistent Tensor3 and the factors have dims[n] rows and a common r columns; returns r. */
export function checkCpShapes(T: Tensor3, factors: CpFactors, where: string): number {
  const [I, J, K] = T.dims;
  if (T.data.length !== I * J * K) {
    throw new ShapeMismatchError(`${where} (tensor)`, `${I}x${J}x${K} (${I * J * K} entries)`, `${T.data.length} entries`);
  }
  const r = factors[0].cols;
  for (let n = 0; n < 3; n++) {
    const F = factors[n as CpMode];
    if (F.rows !== T.dims[n] || F.cols !== r || F.data.length !== F.rows * F.cols) {
      throw new ShapeMismatchError(`${where} (factor ${'ABC'[n]})`, `${T.dims[n]}x${r}`, `${F.rows}x${F.cols}`);
    }
  }
  return r;
}

/** MTTKRP of `mode` (dims[mode]×r) for the factors [A, B, C]; the factor of `mode` is only shape-checked. */
export function mttkrp(T: Tensor3, factors: CpFactors, mode: CpMode): Matrix {
  const r = checkCpShapes(T, factors, 'mttkrp');
  const out = matrix(T.dims[mode], r);
  mttkrpInto(T, factors[0].data, factors[1].data, factors[2].data, r, mode, out.data, new Float64Array(r));
  return out;
}

/** ‖T‖²_F. */
export function tensorNormSq(T: Tensor3): number {
  let s = 0;
  const x = T.data;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return s;
}

/** out (r×r) = G1 ∘ G2 (Hadamard product of two r×r Grams). */
export function hadamardInto(G1: Float64Array, G2: Float64Array, r: number, out: Float64Array): void {
  for (let i = 0; i < r * r; i++) out[i] = G1[i]! * G2[i]!;
}

/** wᵀ (GA ∘ GB ∘ GC) w from the three r×r Grams (w = all ones when omitted): the model's ‖·‖². */
export function cpNormSqFromGrams(
  GA: Float64Array, GB: Float64Array, GC: Float64Array, r: number, weights?: Float64Array,
): number {
  let s = 0;
  for (let a = 0; a < r; a++) {
    const wa = weights ? weights[a]! : 1;
    for (let b = 0; b < r; b++) {
      const i = a * r + b;
      s += wa * (weights ? weights[b]! : 1) * GA[i]! * GB[i]! * GC[i]!;
    }
  }
  return s;
}

/** Σ_{k,t} w_t·M[k,t]·F[k,t]: the inner product ⟨T, [[w; A, B, C]]⟩ from a mode's MTTKRP M and that mode's factor F (n×r). */
export function innerFromMttkrp(M: Float64Array, F: Float64Array, n: number, r: number, weights?: Float64Array): number {
  let s = 0;
  for (let k = 0; k < n; k++) {
    const o = k * r;
    for (let t = 0; t < r; t++) s += (weights ? weights[t]! : 1) * M[o + t]! * F[o + t]!;
  }
  return s;
}

/** ‖[[w; A, B, C]]‖²_F from the Hadamard product of the r×r Grams (w = all ones when omitted). */
export function cpNormSq(factors: CpFactors, weights?: Float64Array): number {
  const r = factors[0].cols;
  const G = factors.map((F) => {
    const g = new Float64Array(r * r);
    gramCols(F.data, F.rows, r, g);
    return g;
  });
  return cpNormSqFromGrams(G[0]!, G[1]!, G[2]!, r, weights);
}

/** ⟨T, [[w; A, B, C]]⟩ via the mode-2 MTTKRP (one pass over T). */
export function cpInnerWithTensor(T: Tensor3, factors: CpFactors, weights?: Float64Array): number {
  const M = mttkrp(T, factors, 2);
  return innerFromMttkrp(M.data, factors[2].data, T.dims[2], factors[0].cols, weights);
}

/** ‖T − [[w; A, B, C]]‖²_F by the cheap identity (clamped at 0; rounding limits it to ≈ 1e-16·‖T‖²). */
export function cpErrorSq(T: Tensor3, factors: CpFactors, weights?: Float64Array): number {
  return Math.max(0, tensorNormSq(T) - 2 * cpInnerWithTensor(T, factors, weights) + cpNormSq(factors, weights));
}

/** The full tensor [[w; A, B, C]] (I×J×K); for small tensors and tests. */
export function cpReconstruct(factors: CpFactors, weights?: Float64Array): Tensor3 {
  const [A, B, C] = factors;
  const r = A.cols;
  const I = A.rows, J = B.rows, K = C.rows;
  const data = new Float64Array(I * J * K);
  const ab = new Float64Array(r);
  for (let i = 0; i < I; i++) {
    for (let j = 0; j < J; j++) {
      for (let t = 0; t < r; t++) ab[t] = (weights ? weights[t]! : 1) * A.data[i * r + t]! * B.data[j * r + t]!;
      const base = (i * J + j) * K;
      for (let k = 0; k < K; k++) {
        let s = 0;
        for (let t = 0; t < r; t++) s += ab[t]! * C.data[k * r + t]!;
        data[base + k] = s;
      }
    }
  }
  return { dims: [I, J, K], data };
}
