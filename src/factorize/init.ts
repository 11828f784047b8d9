/**
 * NMF initialisations (X d×m ≥ 0, W d×r, H r×m).
 *
 * - `random` (the paper's repository): every entry = sqrt(mean(X)/r)·|N(0,1)|, drawn from
 *   `Rng(seed)` in this order: all of W row-major (W[0,0], W[0,1], …, W[d−1,r−1]), then all of H
 *   row-major. Same order and scale as the repo's `nmf()` (numpy `randn(n, r)` then `randn(r, m)`).
 * - `nndsvd` (Boutsidis & Gallopoulos 2008), as scikit-learn's `_initialize_nmf`: from the rank-r
 *   truncated SVD X ≈ U S Vᵀ, component 0 is sqrt(s₀)·(|u₀|, |v₀|); component j > 0 keeps the
 *   dominant of the positive parts (u⁺, v⁺) and negative parts (u⁻, v⁻) by ‖u±‖·‖v±‖ and scales the
 *   unit vectors by sqrt(s_j·‖u±‖‖v±‖). Entries below 1e-6 are set to 0. The SVD is
 *   `truncatedSvd(X, r, seed, 2)` (randomized, seeded).
 * - `nndsvda`: nndsvd, then zeros ← mean(X) (better for solvers that cannot leave exact zeros).
 * - `nndsvdar`: nndsvd, then zeros ← mean(X)·|N(0,1)|/100, drawn from `Rng(seed)` over W's zeros
 *   row-major, then H's.
 *
 * References: C. Boutsidis, E. Gallopoulos (2008), SVD based initialization: A head start for
 * nonnegative matrix factorization, Pattern Recognition 41(4). scikit-learn `_nmf.py`.
 */
import type { Matrix } from '../linalg/matrix.js';
import { Rng } from '../linalg/random.js';
import { truncatedSvd } from '../linalg/small.js';

/** Names of the NMF initialisations. */
export type NmfInit = 'random' | 'nndsvd' | 'nndsvda' | 'nndsvdar';

/** All initialisation names (for constraint tables). */
export const NMF_INITS: readonly NmfInit[] = ['random', 'nndsvd', 'nndsvda', 'nndsvdar'];

/** Entries of an NNDSVD start below this are zeroed (scikit-learn's `eps`). */
const NNDSVD_EPS = 1e-6;

/** Mean of all entries. */
function mean(X: Matrix): number {
  const { data } = X;
  let s = 0;
  for (let i = 0; i < data.length; i++) s += data[i]!;
  return s / data.length;
}

/** Random start sqrt(mean(X)/r)·|N(0,1)|, W then H row-major from `Rng(seed)`. */
export function randomInit(X: Matrix, r: number, seed: number): { W: Matrix; H: Matrix } {
  const { rows: d, cols: m } = X;
  const rng = new Rng(seed);
  const scale = Math.sqrt(mean(X) / r);
  const W = new Float64Array(d * r);
  const H = new Float64Array(r * m);
  for (let i = 0; i < W.length; i++) W[i] = scale * Math.abs(rng.normal());
  for (let i = 0; i < H.length; i++) H[i] = scale * Math.abs(rng.normal());
  return { W: { rows: d, cols: r, data: W }, H: { rows: r, cols: m, data: H } };
}

/** NNDSVD start (variants 'nndsvd', 'nndsvda', 'nndsvdar'); see the module header. */
export function nndsvdInit(
  X: Matrix, r: number, seed: number, variant: 'nndsvd' | 'nndsvda' | 'nndsvdar' = 'nndsvd',
): { W: Matrix; H: Matrix } {
  const { rows: d, cols: m } = X;
  const { U, s, V } = truncatedSvd(X, r, seed, 2);
  const k = s.length; // = r unless X is tiny
  const W = new Float64Array(d * r);
  const H = new Float64Array(r * m);
  for (let j = 0; j < k; j++) {
    // x = U[:, j] (length d, stride k), y = V[:, j] (length m, stride k) = row j of Vᵀ.
    let xp = 0, xn = 0, yp = 0, yn = 0;
    for (let i = 0; i < d; i++) { const v = U.data[i * k + j]!; if (v > 0) xp += v * v; else xn += v * v; }
    for (let i = 0; i < m; i++) { const v = V.data[i * k + j]!; if (v > 0) yp += v * v; else yn += v * v; }
    xp = Math.sqrt(xp); xn = Math.sqrt(xn); yp = Math.sqrt(yp); yn = Math.sqrt(yn);
    const sj = s[j]!;
    if (j === 0) {
      // The leading singular pair of a non-negative matrix can be taken non-negative.
      const c = Math.sqrt(sj);
      for (let i = 0; i < d; i++) W[i * r] = c * Math.abs(U.data[i * k]!);
      for (let i = 0; i < m; i++) H[i] = c * Math.abs(V.data[i * k]!);
      continue;
    }
    const mp = xp * yp, mn = xn * yn;
    const positive = mp > mn;
    const sigma = positive ? mp : mn;
    if (!(sigma > 0)) continue; // no usable part: leave the component at zero
    const lbd = Math.sqrt(sj * sigma);
    const cx = lbd / (positive ? xp : xn);
    const cy = lbd / (positive ? yp : yn);
    for (let i = 0; i < d; i++) {
      const v = U.data[i * k + j]!;
      W[i * r + j] = positive ? (v > 0 ? cx * v : 0) : (v < 0 ? -cx * v : 0);
    }
    for (let i = 0; i < m; i++) {
      const v = V.data[i * k + j]!;
      H[j * m + i] = positive ? (v > 0 ? cy * v : 0) : (v < 0 ? -cy * v : 0);
    }
  }
  for (let i = 0; i < W.length; i++) if (W[i]! < NNDSVD_EPS) W[i] = 0;
  for (let i = 0; i < H.length; i++) if (H[i]! < NNDSVD_EPS) H[i] = 0;
  if (variant === 'nndsvda') {
    const avg = mean(X);
    for (let i = 0; i < W.length; i++) if (W[i] === 0) W[i] = avg;
    for (let i = 0; i < H.length; i++) if (H[i] === 0) H[i] = avg;
  } else if (variant === 'nndsvdar') {
    const avg = mean(X);
    const rng = new Rng(seed);
    for (let i = 0; i < W.length; i++) if (W[i] === 0) W[i] = Math.abs((avg * rng.normal()) / 100);
    for (let i = 0; i < H.length; i++) if (H[i] === 0) H[i] = Math.abs((avg * rng.normal()) / 100);
  }
  return { W: { rows: d, cols: r, data: W }, H: { rows: r, cols: m, data: H } };
}

/** Dispatches to the named initialisation. */
export function initializeNmf(X: Matrix, r: number, method: NmfInit, seed: number): { W: Matrix; H: Matrix } {
  return method === 'random' ? randomInit(X, r, seed) : nndsvdInit(X, r, seed, method);
}
