/**
 * Kernels of the online NMF (nmf.ts): pure loops on caller-owned buffers, outputs last, no
 * allocation and no checks inside (the estimator checks once at its boundary).
 *
 * Layout: every large buffer lives in one `KernelArena` (a Float64Array; the memory of a
 * WebAssembly instance when SIMD WebAssembly is available) at even element offsets, rows padded
 * to an even stride dp ≥ d with zeros, so two-lane SIMD covers every row exactly:
 *   Wt = W̃ᵀ (r×dp) the dictionary, one contiguous row per column of W̃ (the block of its update)
 *   Bt = Bᵀ (r×dp) the statistic B = Σ y hᵀ, transposed the same way
 *   Y  (q×dp)      queued frames, row = frame;  C, H (b×r): W̃ᵀy and the codes, row = frame
 *
 * Arena kernels (same contract in both backends; results agree to rounding, not bit for bit):
 *   codes             C = Y·W̃  (C[j,t] = y_j·w̃_t; also G = W̃ᵀW̃ with Y = Wt): O(d·r) a frame
 *   codeFrames        NNLS codes from C, G and chol(G): clipped least squares + CD   O(r²)
 *   accumulateB       Bt ← decay·Bt + Hwᵀ·Y                                 O(d·r) a frame
 *   dictionarySweeps  HALS sweeps over W̃'s columns with the unit-ball projection, O(d·r²)
 *   check             first entry that is not finite or is negative (the input check)
 * Every entry of `codes` is accumulated in the same order whatever the tile, so a frame's codes
 * do not depend on the batch it arrived in. Plain kernels on small views: copyFramesF32/F64
 * (copy + check, for odd d), accumulateA (A ← decay·A + Hwᵀ·H).
 * These are the HALS column update of kernels.ts (`cdSweep` with nonneg and maxNorm = 1) and its
 * NNLS solve, re-laid out for one arena with row offsets, transposed B and W̃, and SIMD.
 *
 * The WebAssembly module is assembled below from a few dozen opcodes (no toolchain, no
 * dependency): f64x2 SIMD, 2×4 (codes) and 4×2 (statistics) register tiles. Measured on the
 * 2-core build machine at d = 400, r = 10, 32 frames: codes 16 µs vs 76 µs in JS, statistics
 * 16 vs 68 µs, one dictionary sweep 14 vs 74 µs (the whole model: ≈ 300k vs 60k frames/s).
 */

// ---------------------------------------------------------------------------------------------
// Plain kernels (views).

/** Smallest A[t,t] a dictionary column is updated with: below it 1/A[t,t] overflows (subnormal codes), found by the fuzz corpus. */
const MIN_PIVOT = 1e-280;

/**
 * Copies `len` entries of `src` from `from` into `dst` from `to`, checking each is finite and
 * ≥ 0. @returns −1 if all were good, else the offset (relative to `from`) of the first bad entry.
 */
export function copyFramesF64(src: Float64Array, from: number, len: number, dst: Float64Array, to: number): number {
  for (let i = 0; i < len; i++) {
    const v = src[from + i]!;
    if (!(v >= 0 && v < Infinity)) return i;
    dst[to + i] = v;
  }
  return -1;
}

/** `copyFramesF64` for Float32 input (a separate function keeps both call sites monomorphic). */
export function copyFramesF32(src: Float32Array, from: number, len: number, dst: Float64Array, to: number): number {
  for (let i = 0; i < len; i++) {
    const v = src[from + i]!;
    if (!(v >= 0 && v < Infinity)) return i;
    dst[to + i] = v;
  }
  return -1;
}

/** A (r×r) ← decay·A + Hwᵀ·H (b×r each); upper triangle computed, then mirrored. */
export function accumulateA(H: Float64Array, Hw: Float64Array, b: number, r: number, decay: number, A: Float64Array): void {
  for (let s = 0; s < r; s++) {
    for (let t = s; t < r; t++) {
      let acc = 0;
      for (let j = 0; j < b; j++) acc += Hw[j * r + s]! * H[j * r + t]!;
      const v = decay * A[s * r + t]! + acc;
      A[s * r + t] = v;
      A[t * r + s] = v;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Arena kernels.

/** Which implementation runs the arena kernels ('auto' = WebAssembly if the engine has SIMD). */
export type KernelBackend = 'auto' | 'wasm' | 'js';

/**
 * One Float64Array holding the model's buffers, and the three heavy kernels on it. All offsets
 * are in elements, even; strides `dp` even; padding entries zero.
 */
export interface KernelArena {
  readonly backend: 'wasm' | 'js';
  readonly f64: Float64Array;
  /** C[j·r + t] = Σ_p Y[y + j·dp + p]·Wt[wt + t·dp + p] for j < b, t < r. */
  codes(y: number, b: number, dp: number, wt: number, r: number, c: number): void;
  /** Bt[bt + t·dp + p] ← decay·Bt[…] + Σ_j Hw[hw + j·r + t]·Y[y + j·dp + p]. */
  accumulateB(y: number, hw: number, b: number, dp: number, r: number, bt: number, decay: number): void;
  /**
   * `sweeps` sweeps over t = 0..r−1 of  w_t ← max(0, (b_t − Σ_{l≠t} A[t,l] w_l) / A[t,t]),
   * then w_t ← w_t / max(1, ‖w_t‖)  (columns with A[t,t] ≤ 0 skipped); `u` is a dp scratch.
   * This is the exact minimiser over column t of ½ tr(W̃AW̃ᵀ) − tr(W̃ᵀB) on {w ≥ 0, ‖w‖ ≤ 1}
   * (Mairal et al. 2010, Algorithm 2, with non-negativity): the block's curvature is A[t,t]·I.
   */
  dictionarySweeps(wt: number, bt: number, a: number, r: number, dp: number, sweeps: number, u: number): void;
  /**
   * Non-negative codes of b frames with the dictionary fixed, from C = Y·W̃ (b×r, row j = W̃ᵀy_j),
   * G = W̃ᵀW̃ (r×r) and the lower Cholesky factor L of G + εI (`hasL` false: start from 0):
   *
   *   start   h = max(0, (G + εI)⁻¹ (c − l1))        (the clipped least-squares solution, O(r²))
   *   sweeps  exact coordinate minimisation of ½hᵀGh − cᵀh + l1·Σh over h ≥ 0, t = 0..r−1:
   *           h_t ← max(0, c_t − l1 − Σ_{l≠t} G[t,l] h_l) / G[t,t]      (O(r²) a sweep),
   *           per frame until a sweep changes h by at most `tol`·‖h‖, at most `sweeps` sweeps.
   *
   * When the least-squares solution is already ≥ 0 it is the answer and one sweep confirms it.
   * Writes H (b×r). Both backends run the same operations in the same order.
   */
  codeFrames(c: number, g: number, l: number, hasL: boolean, b: number, r: number, l1: number, sweeps: number, tol: number, h: number): void;
  /** Index (relative to `y`) of the first of n entries that is not finite or is negative, or −1. n even. */
  check(y: number, n: number): number;
}

/** Creates an arena of `elements` zeros with the requested backend ('auto': wasm when available). */
export function createArena(elements: number, backend: KernelBackend = 'auto'): KernelArena {
  if (backend !== 'js') {
    const mod = wasmModule();
    if (mod) return wasmArena(mod, elements);
    if (backend === 'wasm') throw new Error('OnlineNMF: SIMD WebAssembly is not available in this engine');
  }
  return jsArena(elements);
}

/** True when the engine runs the SIMD WebAssembly kernels. */
export function wasmKernelsAvailable(): boolean {
  return wasmModule() !== null;
}

// --- JavaScript backend ------------------------------------------------------------------------

function jsArena(elements: number): KernelArena {
  const f = new Float64Array(elements);
  return {
    backend: 'js', f64: f,
    codes: (y, b, dp, wt, r, c) => codesJs(f, y, b, dp, wt, r, c),
    accumulateB: (y, hw, b, dp, r, bt, decay) => accumulateBJs(f, y, hw, b, dp, r, bt, decay),
    dictionarySweeps: (wt, bt, a, r, dp, sweeps, u) => dictionarySweepsJs(f, wt, bt, a, r, dp, sweeps, u),
    codeFrames: (c, g, l, hasL, b, r, l1, sweeps, tol, h) => codeFramesJs(f, c, g, l, hasL, b, r, l1, sweeps, tol, h),
    check: (y, n) => {
      for (let i = 0; i < n; i++) { const v = f[y + i]!; if (!(v >= 0 && v < Infinity)) return i; }
      return -1;
    },
  };
}

/** `KernelArena.codeFrames` in JS. @returns the total number of sweeps over all frames. */
export function codeFramesJs(
  f: Float64Array, c: number, g: number, L: number, hasL: boolean, b: number, r: number,
  l1: number, sweeps: number, tol: number, h: number,
): number {
  let total = 0;
  const tol2 = tol * tol;
  for (let j = 0; j < b; j++) {
    const o = h + j * r, co = c + j * r;
    if (hasL) {
      // Forward then backward substitution with L (row-major lower factor).
      for (let i = 0; i < r; i++) {
        let s = f[co + i]! - l1;
        const li = L + i * r;
        for (let k = 0; k < i; k++) s -= f[li + k]! * f[o + k]!;
        f[o + i] = s / f[li + i]!;
      }
      for (let i = r - 1; i >= 0; i--) {
        let s = f[o + i]!;
        for (let k = i + 1; k < r; k++) s -= f[L + k * r + i]! * f[o + k]!;
        f[o + i] = s / f[L + i * r + i]!;
      }
      for (let t = 0; t < r; t++) { const v = f[o + t]!; f[o + t] = v > 0 ? v : 0; }
    } else {
      for (let t = 0; t < r; t++) f[o + t] = 0;
    }
    for (let s = 0; s < sweeps; s++) {
      let change = 0, norm = 0;
      for (let t = 0; t < r; t++) {
        const gt = g + t * r;
        const gtt = f[gt + t]!;
        if (!(gtt > 0)) continue;
        const old = f[o + t]!;
        let num = f[co + t]! - l1 + gtt * old;
        for (let l = 0; l < r; l++) num -= f[gt + l]! * f[o + l]!;
        const v = num > 0 ? num / gtt : 0;
        f[o + t] = v;
        change += (v - old) * (v - old);
        norm += v * v;
      }
      total++;
      if (change <= tol2 * norm) break;
    }
  }
  return total;
}

/** `KernelArena.codes` in JS: 4 frames × 4 columns register tiles (as `gemmNT4`), then tails. */
export function codesJs(f: Float64Array, y: number, b: number, dp: number, wt: number, r: number, c: number): void {
  let j = 0;
  for (; j + 4 <= b; j += 4) {
    const a0 = y + j * dp, a1 = a0 + dp, a2 = a1 + dp, a3 = a2 + dp;
    const c0 = c + j * r, c1 = c0 + r, c2 = c1 + r, c3 = c2 + r;
    let t = 0;
    for (; t + 4 <= r; t += 4) {
      const w0 = wt + t * dp, w1 = w0 + dp, w2 = w1 + dp, w3 = w2 + dp;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let p = 0; p < dp; p++) {
        const x0 = f[w0 + p]!, x1 = f[w1 + p]!, x2 = f[w2 + p]!, x3 = f[w3 + p]!;
        let v = f[a0 + p]!; s00 += v * x0; s01 += v * x1; s02 += v * x2; s03 += v * x3;
        v = f[a1 + p]!; s10 += v * x0; s11 += v * x1; s12 += v * x2; s13 += v * x3;
        v = f[a2 + p]!; s20 += v * x0; s21 += v * x1; s22 += v * x2; s23 += v * x3;
        v = f[a3 + p]!; s30 += v * x0; s31 += v * x1; s32 += v * x2; s33 += v * x3;
      }
      f[c0 + t] = s00; f[c0 + t + 1] = s01; f[c0 + t + 2] = s02; f[c0 + t + 3] = s03;
      f[c1 + t] = s10; f[c1 + t + 1] = s11; f[c1 + t + 2] = s12; f[c1 + t + 3] = s13;
      f[c2 + t] = s20; f[c2 + t + 1] = s21; f[c2 + t + 2] = s22; f[c2 + t + 3] = s23;
      f[c3 + t] = s30; f[c3 + t + 1] = s31; f[c3 + t + 2] = s32; f[c3 + t + 3] = s33;
    }
    for (; t < r; t++) {
      const w0 = wt + t * dp;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let p = 0; p < dp; p++) {
        const x = f[w0 + p]!;
        s0 += f[a0 + p]! * x; s1 += f[a1 + p]! * x; s2 += f[a2 + p]! * x; s3 += f[a3 + p]! * x;
      }
      f[c0 + t] = s0; f[c1 + t] = s1; f[c2 + t] = s2; f[c3 + t] = s3;
    }
  }
  for (; j < b; j++) {
    const a0 = y + j * dp, c0 = c + j * r;
    let t = 0;
    for (; t + 4 <= r; t += 4) {
      const w0 = wt + t * dp, w1 = w0 + dp, w2 = w1 + dp, w3 = w2 + dp;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let p = 0; p < dp; p++) {
        const v = f[a0 + p]!;
        s0 += v * f[w0 + p]!; s1 += v * f[w1 + p]!; s2 += v * f[w2 + p]!; s3 += v * f[w3 + p]!;
      }
      f[c0 + t] = s0; f[c0 + t + 1] = s1; f[c0 + t + 2] = s2; f[c0 + t + 3] = s3;
    }
    for (; t < r; t++) {
      const w0 = wt + t * dp;
      let s0 = 0;
      for (let p = 0; p < dp; p++) s0 += f[a0 + p]! * f[w0 + p]!;
      f[c0 + t] = s0;
    }
  }
}

/** `KernelArena.accumulateB` in JS: four frames × two rows of Bt per pass. */
export function accumulateBJs(
  f: Float64Array, y: number, hw: number, b: number, dp: number, r: number, bt: number, decay: number,
): void {
  if (decay !== 1) for (let i = bt, end = bt + r * dp; i < end; i++) f[i]! *= decay;
  let j = 0;
  for (; j + 4 <= b; j += 4) {
    const f0 = y + j * dp, f1 = f0 + dp, f2 = f1 + dp, f3 = f2 + dp;
    const h0 = hw + j * r, h1 = h0 + r, h2 = h1 + r, h3 = h2 + r;
    let t = 0;
    for (; t + 2 <= r; t += 2) {
      const a0 = f[h0 + t]!, a1 = f[h1 + t]!, a2 = f[h2 + t]!, a3 = f[h3 + t]!;
      const c0 = f[h0 + t + 1]!, c1 = f[h1 + t + 1]!, c2 = f[h2 + t + 1]!, c3 = f[h3 + t + 1]!;
      const b0 = bt + t * dp, b1 = b0 + dp;
      for (let p = 0; p < dp; p++) {
        const y0 = f[f0 + p]!, y1 = f[f1 + p]!, y2 = f[f2 + p]!, y3 = f[f3 + p]!;
        f[b0 + p]! += a0 * y0 + a1 * y1 + a2 * y2 + a3 * y3;
        f[b1 + p]! += c0 * y0 + c1 * y1 + c2 * y2 + c3 * y3;
      }
    }
    for (; t < r; t++) {
      const a0 = f[h0 + t]!, a1 = f[h1 + t]!, a2 = f[h2 + t]!, a3 = f[h3 + t]!;
      const b0 = bt + t * dp;
      for (let p = 0; p < dp; p++) f[b0 + p]! += a0 * f[f0 + p]! + a1 * f[f1 + p]! + a2 * f[f2 + p]! + a3 * f[f3 + p]!;
    }
  }
  for (; j < b; j++) {
    const f0 = y + j * dp, h0 = hw + j * r;
    for (let t = 0; t < r; t++) {
      const a0 = f[h0 + t]!;
      const b0 = bt + t * dp;
      for (let p = 0; p < dp; p++) f[b0 + p]! += a0 * f[f0 + p]!;
    }
  }
}

/** `KernelArena.dictionarySweeps` in JS (two rows of Wt per pass over u). */
export function dictionarySweepsJs(
  f: Float64Array, wt: number, bt: number, a: number, r: number, dp: number, sweeps: number, u: number,
): void {
  for (let s = 0; s < sweeps; s++) {
    for (let t = 0; t < r; t++) {
      const at = a + t * r;
      const att = f[at + t]!;
      if (!(att > MIN_PIVOT)) continue; // 0 or subnormal: 1/att would overflow and poison W for good
      const bRow = bt + t * dp, wRow = wt + t * dp;
      for (let p = 0; p < dp; p++) f[u + p] = f[bRow + p]!;
      let l = 0;
      for (; l + 2 <= r; l += 2) {
        const c0 = l === t ? 0 : f[at + l]!, c1 = l + 1 === t ? 0 : f[at + l + 1]!;
        const w0 = wt + l * dp, w1 = w0 + dp;
        for (let p = 0; p < dp; p++) f[u + p]! -= c0 * f[w0 + p]! + c1 * f[w1 + p]!;
      }
      if (l < r && l !== t) {
        const c0 = f[at + l]!, w0 = wt + l * dp;
        for (let p = 0; p < dp; p++) f[u + p]! -= c0 * f[w0 + p]!;
      }
      const inv = 1 / att;
      let sq = 0;
      for (let p = 0; p < dp; p++) {
        const v = Math.max(f[u + p]! * inv, 0);
        f[wRow + p] = v;
        sq += v * v;
      }
      if (sq > 1) {
        const sc = 1 / Math.sqrt(sq);
        for (let p = 0; p < dp; p++) f[wRow + p]! *= sc;
      }
    }
  }
}

// --- WebAssembly backend -----------------------------------------------------------------------

type WasmExports = {
  codes(y: number, b: number, dp: number, wt: number, r: number, c: number): void;
  accB(y: number, hw: number, b: number, dp: number, r: number, bt: number, decay: number): void;
  dict(wt: number, bt: number, a: number, r: number, dp: number, sweeps: number, u: number): void;
  code(c: number, g: number, l: number, hasL: number, b: number, r: number, l1: number, sweeps: number, tol2: number, h: number): void;
  check(y: number, n: number): number;
};

function wasmArena(mod: WebAssembly.Module, elements: number): KernelArena {
  const pages = Math.max(1, Math.ceil((elements * 8) / 65536));
  const memory = new WebAssembly.Memory({ initial: pages });
  const ex = new WebAssembly.Instance(mod, { e: { m: memory } }).exports as unknown as WasmExports;
  const f64 = new Float64Array(memory.buffer, 0, elements);
  return {
    backend: 'wasm', f64,
    codes: (y, b, dp, wt, r, c) => ex.codes(y * 8, b, dp, wt * 8, r, c * 8),
    accumulateB: (y, hw, b, dp, r, bt, decay) => ex.accB(y * 8, hw * 8, b, dp, r, bt * 8, decay),
    dictionarySweeps: (wt, bt, a, r, dp, sweeps, u) => ex.dict(wt * 8, bt * 8, a * 8, r, dp, sweeps, u * 8),
    codeFrames: (c, g, l, hasL, b, r, l1, sweeps, tol, h) => ex.code(c * 8, g * 8, l * 8, hasL ? 1 : 0, b, r, l1, sweeps, tol * tol, h * 8),
    check: (y, n) => ex.check(y * 8, n),
  };
}

let cachedModule: WebAssembly.Module | null | undefined;

/** The compiled kernel module, or null if WebAssembly (with SIMD) is unavailable. Compiled once. */
function wasmModule(): WebAssembly.Module | null {
  if (cachedModule !== undefined) return cachedModule;
  try {
    const bytes = assembleKernels();
    cachedModule = typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  } catch {
    cachedModule = null;
  }
  return cachedModule;
}

// A minimal assembler: value types, opcodes (WebAssembly core + SIMD), LEB128, sections.
const I32 = 0x7f, F64 = 0x7c, V128 = 0x7b;
const OP = {
  block: 0x02, loop: 0x03, if: 0x04, end: 0x0b, br: 0x0c, brIf: 0x0d, select: 0x1b,
  localGet: 0x20, localSet: 0x21, localTee: 0x22, f64Load: 0x2b, f64Store: 0x39,
  i32Const: 0x41, f64Const: 0x44, i32Eqz: 0x45, i32Eq: 0x46, i32LtS: 0x48, i32LeS: 0x4c, i32GeS: 0x4e,
  f64Ne: 0x62, f64Lt: 0x63, f64Gt: 0x64, f64Le: 0x65, f64Ge: 0x66, f64Sqrt: 0x9f, f64Add: 0xa0, f64Sub: 0xa1, f64Mul: 0xa2,
  f64Div: 0xa3, f64Min: 0xa4, f64Max: 0xa5, i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, i32And: 0x71, i32Shl: 0x74, i32ShrS: 0x75,
  return: 0x0f,
} as const;
const SIMD = {
  load: 0x00, store: 0x0b, const: 0x0c, splat: 0x14, extract: 0x21, add: 0xf0, sub: 0xf1, mul: 0xf2, min: 0xf4, max: 0xf5,
} as const;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) { out.push(byte); return out; }
    out.push(byte | 0x80);
  }
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const utf8 = (s: string): number[] => vec([...s].map((ch) => [ch.charCodeAt(0)]));
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

/** One function body under construction: typed locals and structured-control helpers. */
class Fn {
  readonly code: number[] = [];
  private readonly localTypes: number[] = [];
  constructor(readonly params: number[], readonly results: number[] = []) {}
  local(type: number): number {
    this.localTypes.push(type);
    return this.params.length + this.localTypes.length - 1;
  }
  emit(...xs: (number | number[])[]): this {
    for (const x of xs) {
      if (typeof x === 'number') this.code.push(x);
      else for (const b of x) this.code.push(b);
    }
    return this;
  }
  get(i: number): number[] { return [OP.localGet, ...uleb(i)]; }
  set(i: number): number[] { return [OP.localSet, ...uleb(i)]; }
  i32(n: number): number[] { return [OP.i32Const, ...sleb(n)]; }
  f64(x: number): number[] {
    const b = new Uint8Array(new Float64Array([x]).buffer);
    return [OP.f64Const, ...b];
  }
  simd(op: number): number[] { return [0xfd, ...uleb(op)]; }
  /** v128.load at the address on the stack (align 16, offset 0). */
  vload(): number[] { return [...this.simd(SIMD.load), 4, 0]; }
  vstore(): number[] { return [...this.simd(SIMD.store), 4, 0]; }
  vzero(): number[] { return [...this.simd(SIMD.const), ...new Array<number>(16).fill(0)]; }
  /** lane0 + lane1 of a v128 local. */
  hsum(v: number): number[] {
    return [...this.get(v), ...this.simd(SIMD.extract), 0, ...this.get(v), ...this.simd(SIMD.extract), 1, OP.f64Add];
  }
  /** i = i + step. */
  inc(i: number, step: number): number[] { return [...this.get(i), ...this.i32(step), OP.i32Add, ...this.set(i)]; }
  /** while (cond) { body } — `cond` leaves an i32 on the stack. */
  loopWhile(cond: () => void, body: () => void): void {
    this.emit(OP.block, 0x40, OP.loop, 0x40);
    cond();
    this.emit(0x45 /* i32.eqz */, OP.brIf, 1);
    body();
    this.emit(OP.br, 0, OP.end, OP.end);
  }
  bytes(): number[] {
    const locals = vec(this.localTypes.map((t) => [1, t]));
    const body = [...locals, ...this.code, OP.end];
    return [...uleb(body.length), ...body];
  }
}

/** codes(y, b, dp, wt, r, c): byte addresses y, wt, c; counts b, dp (even), r. */
function codesFunction(): Fn {
  const fn = new Fn([I32, I32, I32, I32, I32, I32]);
  const [y, b, dp, wt, r, c] = [0, 1, 2, 3, 4, 5];
  const rowb = fn.local(I32), j = fn.local(I32), t = fn.local(I32), p = fn.local(I32);
  const yr = [fn.local(I32), fn.local(I32)];
  const wr = [fn.local(I32), fn.local(I32), fn.local(I32), fn.local(I32)];
  const acc = Array.from({ length: 8 }, () => fn.local(V128));
  const yv = [fn.local(V128), fn.local(V128)], wv = fn.local(V128);
  fn.emit(fn.get(dp), fn.i32(3), OP.i32Shl, fn.set(rowb), fn.i32(0), fn.set(j));
  const tile = (JR: number, TR: number) => {
    for (let q = 0; q < TR; q++) {
      fn.emit(fn.get(wt), fn.get(t), fn.i32(q), OP.i32Add, fn.get(rowb), OP.i32Mul, OP.i32Add, fn.set(wr[q]!));
    }
    for (let k = 0; k < JR * TR; k++) fn.emit(fn.vzero(), fn.set(acc[k]!));
    fn.emit(fn.i32(0), fn.set(p));
    fn.loopWhile(() => fn.emit(fn.get(p), fn.get(rowb), OP.i32LtS), () => {
      for (let k = 0; k < JR; k++) fn.emit(fn.get(yr[k]!), fn.get(p), OP.i32Add, fn.vload(), fn.set(yv[k]!));
      for (let q = 0; q < TR; q++) {
        fn.emit(fn.get(wr[q]!), fn.get(p), OP.i32Add, fn.vload(), fn.set(wv));
        for (let k = 0; k < JR; k++) {
          const a = acc[k * TR + q]!;
          fn.emit(fn.get(a), fn.get(yv[k]!), fn.get(wv), fn.simd(SIMD.mul), fn.simd(SIMD.add), fn.set(a));
        }
      }
      fn.emit(fn.inc(p, 16));
    });
    for (let k = 0; k < JR; k++) {
      for (let q = 0; q < TR; q++) {
        // address c + ((j + k)·r + t + q)·8
        fn.emit(fn.get(c), fn.get(j), fn.i32(k), OP.i32Add, fn.get(r), OP.i32Mul, fn.get(t), OP.i32Add, fn.i32(q), OP.i32Add,
          fn.i32(3), OP.i32Shl, OP.i32Add);
        fn.emit(fn.hsum(acc[k * TR + q]!), OP.f64Store, 3, 0);
      }
    }
  };
  const rows = (JR: number) => {
    for (let k = 0; k < JR; k++) {
      fn.emit(fn.get(y), fn.get(j), fn.i32(k), OP.i32Add, fn.get(rowb), OP.i32Mul, OP.i32Add, fn.set(yr[k]!));
    }
    fn.emit(fn.i32(0), fn.set(t));
    fn.loopWhile(() => fn.emit(fn.get(t), fn.i32(4), OP.i32Add, fn.get(r), OP.i32LeS), () => { tile(JR, 4); fn.emit(fn.inc(t, 4)); });
    fn.loopWhile(() => fn.emit(fn.get(t), fn.i32(2), OP.i32Add, fn.get(r), OP.i32LeS), () => { tile(JR, 2); fn.emit(fn.inc(t, 2)); });
    fn.loopWhile(() => fn.emit(fn.get(t), fn.get(r), OP.i32LtS), () => { tile(JR, 1); fn.emit(fn.inc(t, 1)); });
  };
  fn.loopWhile(() => fn.emit(fn.get(j), fn.i32(2), OP.i32Add, fn.get(b), OP.i32LeS), () => { rows(2); fn.emit(fn.inc(j, 2)); });
  fn.loopWhile(() => fn.emit(fn.get(j), fn.get(b), OP.i32LtS), () => { rows(1); fn.emit(fn.inc(j, 1)); });
  return fn;
}

/** accB(y, hw, b, dp, r, bt, decay): Bt ← decay·Bt + Hwᵀ·Y; byte addresses y, hw, bt. */
function accumulateBFunction(): Fn {
  const fn = new Fn([I32, I32, I32, I32, I32, I32, F64]);
  const [y, hw, b, dp, r, bt, decay] = [0, 1, 2, 3, 4, 5, 6];
  const rowb = fn.local(I32), j = fn.local(I32), t = fn.local(I32), p = fn.local(I32), end = fn.local(I32);
  const yr = [fn.local(I32), fn.local(I32), fn.local(I32), fn.local(I32)];
  const br = [fn.local(I32), fn.local(I32)];
  const coef = Array.from({ length: 8 }, () => fn.local(V128));
  const yv = [fn.local(V128), fn.local(V128), fn.local(V128), fn.local(V128)];
  const acc = fn.local(V128), dv = fn.local(V128);
  fn.emit(fn.get(dp), fn.i32(3), OP.i32Shl, fn.set(rowb));
  // decay: Bt ← decay·Bt over r rows
  fn.emit(fn.get(decay), fn.f64(1), OP.f64Ne, OP.if, 0x40);
  fn.emit(fn.get(decay), fn.simd(SIMD.splat), fn.set(dv), fn.get(bt), fn.set(p));
  fn.emit(fn.get(bt), fn.get(r), fn.get(rowb), OP.i32Mul, OP.i32Add, fn.set(end));
  fn.loopWhile(() => fn.emit(fn.get(p), fn.get(end), OP.i32LtS), () => {
    fn.emit(fn.get(p), fn.get(p), fn.vload(), fn.get(dv), fn.simd(SIMD.mul), fn.vstore(), fn.inc(p, 16));
  });
  fn.emit(OP.end);
  fn.emit(fn.i32(0), fn.set(j));
  const tile = (JR: number, TR: number) => {
    for (let k = 0; k < JR; k++) {
      for (let q = 0; q < TR; q++) {
        // coef = splat(Hw[(j + k)·r + t + q])
        fn.emit(fn.get(hw), fn.get(j), fn.i32(k), OP.i32Add, fn.get(r), OP.i32Mul, fn.get(t), OP.i32Add, fn.i32(q), OP.i32Add,
          fn.i32(3), OP.i32Shl, OP.i32Add, OP.f64Load, 3, 0, fn.simd(SIMD.splat), fn.set(coef[k * TR + q]!));
      }
    }
    for (let q = 0; q < TR; q++) {
      fn.emit(fn.get(bt), fn.get(t), fn.i32(q), OP.i32Add, fn.get(rowb), OP.i32Mul, OP.i32Add, fn.set(br[q]!));
    }
    fn.emit(fn.i32(0), fn.set(p));
    fn.loopWhile(() => fn.emit(fn.get(p), fn.get(rowb), OP.i32LtS), () => {
      for (let k = 0; k < JR; k++) fn.emit(fn.get(yr[k]!), fn.get(p), OP.i32Add, fn.vload(), fn.set(yv[k]!));
      for (let q = 0; q < TR; q++) {
        fn.emit(fn.get(br[q]!), fn.get(p), OP.i32Add, fn.vload(), fn.set(acc));
        for (let k = 0; k < JR; k++) {
          fn.emit(fn.get(acc), fn.get(coef[k * TR + q]!), fn.get(yv[k]!), fn.simd(SIMD.mul), fn.simd(SIMD.add), fn.set(acc));
        }
        fn.emit(fn.get(br[q]!), fn.get(p), OP.i32Add, fn.get(acc), fn.vstore());
      }
      fn.emit(fn.inc(p, 16));
    });
  };
  const frames = (JR: number) => {
    for (let k = 0; k < JR; k++) {
      fn.emit(fn.get(y), fn.get(j), fn.i32(k), OP.i32Add, fn.get(rowb), OP.i32Mul, OP.i32Add, fn.set(yr[k]!));
    }
    fn.emit(fn.i32(0), fn.set(t));
    fn.loopWhile(() => fn.emit(fn.get(t), fn.i32(2), OP.i32Add, fn.get(r), OP.i32LeS), () => { tile(JR, 2); fn.emit(fn.inc(t, 2)); });
    fn.loopWhile(() => fn.emit(fn.get(t), fn.get(r), OP.i32LtS), () => { tile(JR, 1); fn.emit(fn.inc(t, 1)); });
  };
  fn.loopWhile(() => fn.emit(fn.get(j), fn.i32(4), OP.i32Add, fn.get(b), OP.i32LeS), () => { frames(4); fn.emit(fn.inc(j, 4)); });
  fn.loopWhile(() => fn.emit(fn.get(j), fn.get(b), OP.i32LtS), () => { frames(1); fn.emit(fn.inc(j, 1)); });
  return fn;
}

/** dict(wt, bt, a, r, dp, sweeps, u): `KernelArena.dictionarySweeps`; byte addresses wt, bt, a, u. */
function dictionaryFunction(): Fn {
  const fn = new Fn([I32, I32, I32, I32, I32, I32, I32]);
  const [wt, bt, a, r, dp, sweeps, u] = [0, 1, 2, 3, 4, 5, 6];
  const rowb = fn.local(I32), s = fn.local(I32), t = fn.local(I32), l = fn.local(I32), p = fn.local(I32);
  const w0 = fn.local(I32), w1 = fn.local(I32), wrow = fn.local(I32), brow = fn.local(I32), arow = fn.local(I32);
  const att = fn.local(F64), sq = fn.local(F64);
  const c0 = fn.local(V128), c1 = fn.local(V128), v = fn.local(V128), sqv = fn.local(V128), inv = fn.local(V128), zero = fn.local(V128);
  // coefficient A[t, l] (0 when l = t), splatted into `dst`
  const coefOf = (lExpr: () => void, dst: number) => {
    fn.emit(fn.f64(0), fn.get(arow));
    lExpr();
    fn.emit(fn.i32(3), OP.i32Shl, OP.i32Add, OP.f64Load, 3, 0);
    lExpr();
    fn.emit(fn.get(t), OP.i32Eq, OP.select, fn.simd(SIMD.splat), fn.set(dst));
  };
  fn.emit(fn.get(dp), fn.i32(3), OP.i32Shl, fn.set(rowb), fn.vzero(), fn.set(zero), fn.i32(0), fn.set(s));
  fn.loopWhile(() => fn.emit(fn.get(s), fn.get(sweeps), OP.i32LtS), () => {
    fn.emit(fn.i32(0), fn.set(t));
    fn.loopWhile(() => fn.emit(fn.get(t), fn.get(r), OP.i32LtS), () => {
      fn.emit(fn.get(a), fn.get(t), fn.get(r), OP.i32Mul, fn.i32(3), OP.i32Shl, OP.i32Add, fn.set(arow));
      fn.emit(fn.get(arow), fn.get(t), fn.i32(3), OP.i32Shl, OP.i32Add, OP.f64Load, 3, 0, fn.set(att));
      fn.emit(fn.get(att), fn.f64(MIN_PIVOT), OP.f64Gt, OP.if, 0x40); // as the JS kernel: skip 0 and subnormal pivots
      {
        fn.emit(fn.get(bt), fn.get(t), fn.get(rowb), OP.i32Mul, OP.i32Add, fn.set(brow));
        fn.emit(fn.get(wt), fn.get(t), fn.get(rowb), OP.i32Mul, OP.i32Add, fn.set(wrow));
        // u = b_t
        fn.emit(fn.i32(0), fn.set(p));
        fn.loopWhile(() => fn.emit(fn.get(p), fn.get(rowb), OP.i32LtS), () => {
          fn.emit(fn.get(u), fn.get(p), OP.i32Add, fn.get(brow), fn.get(p), OP.i32Add, fn.vload(), fn.vstore(), fn.inc(p, 16));
        });
        // u −= A[t,l]·w_l + A[t,l+1]·w_{l+1}, two rows per pass (coefficient 0 at l = t)
        fn.emit(fn.i32(0), fn.set(l));
        fn.loopWhile(() => fn.emit(fn.get(l), fn.i32(2), OP.i32Add, fn.get(r), OP.i32LeS), () => {
          coefOf(() => fn.emit(fn.get(l)), c0);
          coefOf(() => fn.emit(fn.get(l), fn.i32(1), OP.i32Add), c1);
          fn.emit(fn.get(wt), fn.get(l), fn.get(rowb), OP.i32Mul, OP.i32Add, fn.set(w0));
          fn.emit(fn.get(w0), fn.get(rowb), OP.i32Add, fn.set(w1));
          fn.emit(fn.i32(0), fn.set(p));
          fn.loopWhile(() => fn.emit(fn.get(p), fn.get(rowb), OP.i32LtS), () => {
            fn.emit(fn.get(u), fn.get(p), OP.i32Add);
            fn.emit(fn.get(u), fn.get(p), OP.i32Add, fn.vload());
            fn.emit(fn.get(c0), fn.get(w0), fn.get(p), OP.i32Add, fn.vload(), fn.simd(SIMD.mul));
            fn.emit(fn.get(c1), fn.get(w1), fn.get(p), OP.i32Add, fn.vload(), fn.simd(SIMD.mul), fn.simd(SIMD.add));
            fn.emit(fn.simd(SIMD.sub), fn.vstore(), fn.inc(p, 16));
          });
          fn.emit(fn.inc(l, 2));
        });
        fn.loopWhile(() => fn.emit(fn.get(l), fn.get(r), OP.i32LtS), () => {
          coefOf(() => fn.emit(fn.get(l)), c0);
          fn.emit(fn.get(wt), fn.get(l), fn.get(rowb), OP.i32Mul, OP.i32Add, fn.set(w0));
          fn.emit(fn.i32(0), fn.set(p));
          fn.loopWhile(() => fn.emit(fn.get(p), fn.get(rowb), OP.i32LtS), () => {
            fn.emit(fn.get(u), fn.get(p), OP.i32Add);
            fn.emit(fn.get(u), fn.get(p), OP.i32Add, fn.vload());
            fn.emit(fn.get(c0), fn.get(w0), fn.get(p), OP.i32Add, fn.vload(), fn.simd(SIMD.mul));
            fn.emit(fn.simd(SIMD.sub), fn.vstore(), fn.inc(p, 16));
          });
          fn.emit(fn.inc(l, 1));
        });
        // w_t = max(u / A[t,t], 0), ‖w_t‖²
        fn.emit(fn.f64(1), fn.get(att), OP.f64Div, fn.simd(SIMD.splat), fn.set(inv), fn.vzero(), fn.set(sqv));
        fn.emit(fn.i32(0), fn.set(p));
        fn.loopWhile(() => fn.emit(fn.get(p), fn.get(rowb), OP.i32LtS), () => {
          fn.emit(fn.get(u), fn.get(p), OP.i32Add, fn.vload(), fn.get(inv), fn.simd(SIMD.mul), fn.get(zero), fn.simd(SIMD.max), fn.set(v));
          fn.emit(fn.get(wrow), fn.get(p), OP.i32Add, fn.get(v), fn.vstore());
          fn.emit(fn.get(sqv), fn.get(v), fn.get(v), fn.simd(SIMD.mul), fn.simd(SIMD.add), fn.set(sqv), fn.inc(p, 16));
        });
        // project on the unit ball
        fn.emit(fn.hsum(sqv), fn.set(sq));
        fn.emit(fn.get(sq), fn.f64(1), OP.f64Gt, OP.if, 0x40);
        fn.emit(fn.f64(1), fn.get(sq), OP.f64Sqrt, OP.f64Div, fn.simd(SIMD.splat), fn.set(inv), fn.i32(0), fn.set(p));
        fn.loopWhile(() => fn.emit(fn.get(p), fn.get(rowb), OP.i32LtS), () => {
          fn.emit(fn.get(wrow), fn.get(p), OP.i32Add, fn.get(wrow), fn.get(p), OP.i32Add, fn.vload(), fn.get(inv), fn.simd(SIMD.mul), fn.vstore(), fn.inc(p, 16));
        });
        fn.emit(OP.end);
      }
      fn.emit(OP.end, fn.inc(t, 1));
    });
    fn.emit(fn.inc(s, 1));
  });
  return fn;
}

/**
 * code(c, g, l, hasL, b, r, l1, sweeps, tol2, h): `KernelArena.codeFrames` (scalar; the same
 * operations in the same order as `codeFramesJs`); byte addresses c, g, l, h; tol2 = tol².
 */
function codeFunction(): Fn {
  const fn = new Fn([I32, I32, I32, I32, I32, I32, F64, I32, F64, I32]);
  const [c, g, L, hasL, b, r, l1, sweeps, tol2, h] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const j = fn.local(I32), o = fn.local(I32), co = fn.local(I32), i = fn.local(I32), k = fn.local(I32), t = fn.local(I32);
  const sw = fn.local(I32), gt = fn.local(I32), li = fn.local(I32), rowb = fn.local(I32);
  const s = fn.local(F64), v = fn.local(F64), old = fn.local(F64), gtt = fn.local(F64), num = fn.local(F64);
  const change = fn.local(F64), norm = fn.local(F64);
  const at = (base: number, idx: number) => [...fn.get(base), ...fn.get(idx), ...fn.i32(3), OP.i32Shl, OP.i32Add];
  const load = (base: number, idx: number) => [...at(base, idx), OP.f64Load, 3, 0];
  fn.emit(fn.get(r), fn.i32(3), OP.i32Shl, fn.set(rowb), fn.i32(0), fn.set(j));
  fn.loopWhile(() => fn.emit(fn.get(j), fn.get(b), OP.i32LtS), () => {
    fn.emit(fn.get(h), fn.get(j), fn.get(rowb), OP.i32Mul, OP.i32Add, fn.set(o));
    fn.emit(fn.get(c), fn.get(j), fn.get(rowb), OP.i32Mul, OP.i32Add, fn.set(co));
    fn.emit(fn.get(hasL), OP.if, 0x40);
    {
      // forward: H[i] = (C[i] − l1 − Σ_{k<i} L[i,k] H[k]) / L[i,i]
      fn.emit(fn.i32(0), fn.set(i));
      fn.loopWhile(() => fn.emit(fn.get(i), fn.get(r), OP.i32LtS), () => {
        fn.emit(fn.get(L), fn.get(i), fn.get(rowb), OP.i32Mul, OP.i32Add, fn.set(li));
        fn.emit(load(co, i), fn.get(l1), OP.f64Sub, fn.set(s), fn.i32(0), fn.set(k));
        fn.loopWhile(() => fn.emit(fn.get(k), fn.get(i), OP.i32LtS), () => {
          fn.emit(fn.get(s), load(li, k), load(o, k), OP.f64Mul, OP.f64Sub, fn.set(s), fn.inc(k, 1));
        });
        fn.emit(at(o, i), fn.get(s), load(li, i), OP.f64Div, OP.f64Store, 3, 0, fn.inc(i, 1));
      });
      // backward: H[i] = (H[i] − Σ_{k>i} L[k,i] H[k]) / L[i,i]
      fn.emit(fn.get(r), fn.i32(1), OP.i32Sub, fn.set(i));
      fn.loopWhile(() => fn.emit(fn.get(i), fn.i32(0), OP.i32GeS), () => {
        fn.emit(load(o, i), fn.set(s), fn.get(i), fn.i32(1), OP.i32Add, fn.set(k));
        fn.loopWhile(() => fn.emit(fn.get(k), fn.get(r), OP.i32LtS), () => {
          // L[k·r + i]
          fn.emit(fn.get(s), fn.get(L), fn.get(k), fn.get(rowb), OP.i32Mul, OP.i32Add, fn.set(li));
          fn.emit(load(li, i), load(o, k), OP.f64Mul, OP.f64Sub, fn.set(s), fn.inc(k, 1));
        });
        fn.emit(fn.get(L), fn.get(i), fn.get(rowb), OP.i32Mul, OP.i32Add, fn.set(li));
        fn.emit(at(o, i), fn.get(s), load(li, i), OP.f64Div, OP.f64Store, 3, 0);
        fn.emit(fn.get(i), fn.i32(1), OP.i32Sub, fn.set(i));
      });
      // clip at 0 (v > 0 ? v : 0)
      fn.emit(fn.i32(0), fn.set(t));
      fn.loopWhile(() => fn.emit(fn.get(t), fn.get(r), OP.i32LtS), () => {
        fn.emit(load(o, t), fn.set(v), at(o, t), fn.get(v), fn.f64(0), fn.get(v), fn.f64(0), OP.f64Gt, OP.select, OP.f64Store, 3, 0, fn.inc(t, 1));
      });
    }
    fn.emit(0x05 /* else */);
    {
      fn.emit(fn.i32(0), fn.set(t));
      fn.loopWhile(() => fn.emit(fn.get(t), fn.get(r), OP.i32LtS), () => {
        fn.emit(at(o, t), fn.f64(0), OP.f64Store, 3, 0, fn.inc(t, 1));
      });
    }
    fn.emit(OP.end);
    // coordinate sweeps
    fn.emit(fn.i32(0), fn.set(sw));
    fn.loopWhile(() => fn.emit(fn.get(sw), fn.get(sweeps), OP.i32LtS), () => {
      fn.emit(fn.f64(0), fn.set(change), fn.f64(0), fn.set(norm), fn.i32(0), fn.set(t));
      fn.loopWhile(() => fn.emit(fn.get(t), fn.get(r), OP.i32LtS), () => {
        fn.emit(fn.get(g), fn.get(t), fn.get(rowb), OP.i32Mul, OP.i32Add, fn.set(gt));
        fn.emit(load(gt, t), fn.set(gtt));
        fn.emit(fn.get(gtt), fn.f64(0), OP.f64Gt, OP.if, 0x40);
        fn.emit(load(o, t), fn.set(old));
        fn.emit(load(co, t), fn.get(l1), OP.f64Sub, fn.get(gtt), fn.get(old), OP.f64Mul, OP.f64Add, fn.set(num), fn.i32(0), fn.set(k));
        fn.loopWhile(() => fn.emit(fn.get(k), fn.get(r), OP.i32LtS), () => {
          fn.emit(fn.get(num), load(gt, k), load(o, k), OP.f64Mul, OP.f64Sub, fn.set(num), fn.inc(k, 1));
        });
        fn.emit(fn.get(num), fn.get(gtt), OP.f64Div, fn.f64(0), fn.get(num), fn.f64(0), OP.f64Gt, OP.select, fn.set(v));
        fn.emit(at(o, t), fn.get(v), OP.f64Store, 3, 0);
        fn.emit(fn.get(change), fn.get(v), fn.get(old), OP.f64Sub, fn.get(v), fn.get(old), OP.f64Sub, OP.f64Mul, OP.f64Add, fn.set(change));
        fn.emit(fn.get(norm), fn.get(v), fn.get(v), OP.f64Mul, OP.f64Add, fn.set(norm));
        fn.emit(OP.end, fn.inc(t, 1));
      });
      fn.emit(fn.inc(sw, 1));
      // break when change ≤ tol²·norm (br 2: out of the if and the loop, to the block's end)
      fn.emit(fn.get(change), fn.get(tol2), fn.get(norm), OP.f64Mul, OP.f64Le, OP.if, 0x40, OP.br, 2, OP.end);
    });
    fn.emit(fn.inc(j, 1));
  });
  return fn;
}

/**
 * check(y, n) → index of the first entry of n (even) that is not finite or is negative, or −1.
 * Branch-free pass first: running lane-wise min and max (NaN propagates through f64x2.min/max);
 * all good ⇔ min ≥ 0 and max < ∞. Only if not, a scalar scan for the index.
 */
function checkFunction(): Fn {
  const fn = new Fn([I32, I32], [I32]);
  const [y, n] = [0, 1];
  const p = fn.local(I32), end = fn.local(I32), v = fn.local(V128);
  const lo = [fn.local(V128), fn.local(V128), fn.local(V128), fn.local(V128)];
  const hi = [fn.local(V128), fn.local(V128), fn.local(V128), fn.local(V128)];
  const a = fn.local(F64), b = fn.local(F64);
  for (let k = 0; k < 4; k++) fn.emit(fn.get(y), fn.vload(), fn.set(lo[k]!), fn.get(y), fn.vload(), fn.set(hi[k]!));
  fn.emit(fn.get(y), fn.set(p), fn.get(y), fn.get(n), fn.i32(3), OP.i32Shl, OP.i32Add, fn.set(end));
  // four independent (min, max) chains, 8 entries per pass; then the tail, 2 at a time
  fn.loopWhile(() => fn.emit(fn.get(p), fn.i32(64), OP.i32Add, fn.get(end), OP.i32LeS), () => {
    for (let k = 0; k < 4; k++) {
      fn.emit(fn.get(p), fn.i32(16 * k), OP.i32Add, fn.vload(), fn.set(v));
      fn.emit(fn.get(lo[k]!), fn.get(v), fn.simd(SIMD.min), fn.set(lo[k]!), fn.get(hi[k]!), fn.get(v), fn.simd(SIMD.max), fn.set(hi[k]!));
    }
    fn.emit(fn.inc(p, 64));
  });
  fn.loopWhile(() => fn.emit(fn.get(p), fn.get(end), OP.i32LtS), () => {
    fn.emit(fn.get(p), fn.vload(), fn.set(v));
    fn.emit(fn.get(lo[0]!), fn.get(v), fn.simd(SIMD.min), fn.set(lo[0]!), fn.get(hi[0]!), fn.get(v), fn.simd(SIMD.max), fn.set(hi[0]!), fn.inc(p, 16));
  });
  for (let k = 1; k < 4; k++) {
    fn.emit(fn.get(lo[0]!), fn.get(lo[k]!), fn.simd(SIMD.min), fn.set(lo[0]!), fn.get(hi[0]!), fn.get(hi[k]!), fn.simd(SIMD.max), fn.set(hi[0]!));
  }
  const [lo0, hi0] = [lo[0]!, hi[0]!];
  // min ≥ 0 and max < ∞ over both lanes → −1 (false for NaN)
  fn.emit(fn.get(lo0), fn.simd(SIMD.extract), 0, fn.get(lo0), fn.simd(SIMD.extract), 1, OP.f64Min, fn.set(a));
  fn.emit(fn.get(hi0), fn.simd(SIMD.extract), 0, fn.get(hi0), fn.simd(SIMD.extract), 1, OP.f64Max, fn.set(b));
  fn.emit(fn.get(a), fn.f64(0), OP.f64Ge, fn.get(b), fn.f64(Infinity), OP.f64Lt, OP.i32And, OP.if, 0x40, fn.i32(-1), OP.return, OP.end);
  // locate the first bad entry
  fn.emit(fn.get(y), fn.set(p));
  fn.loopWhile(() => fn.emit(fn.get(p), fn.get(end), OP.i32LtS), () => {
    fn.emit(fn.get(p), OP.f64Load, 3, 0, fn.set(a));
    fn.emit(fn.get(a), fn.f64(0), OP.f64Ge, fn.get(a), fn.f64(Infinity), OP.f64Lt, OP.i32And, OP.i32Eqz);
    fn.emit(OP.if, 0x40, fn.get(p), fn.get(y), OP.i32Sub, fn.i32(3), OP.i32ShrS, OP.return, OP.end, fn.inc(p, 8));
  });
  fn.emit(fn.i32(-1));
  return fn;
}

/** The kernel module: imports memory e.m, exports codes, accB, dict, code, check. */
function assembleKernels(): Uint8Array<ArrayBuffer> {
  const fns = [codesFunction(), accumulateBFunction(), dictionaryFunction(), codeFunction(), checkFunction()];
  const names = ['codes', 'accB', 'dict', 'code', 'check'];
  const types = fns.map((f) => [0x60, ...vec(f.params.map((p) => [p])), ...vec(f.results.map((p) => [p]))]);
  const module = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, vec([[...utf8('e'), ...utf8('m'), 0x02, 0x00, 0x01]])),
    ...section(3, vec(fns.map((_, i) => uleb(i)))),
    ...section(7, vec(names.map((n, i) => [...utf8(n), 0x00, ...uleb(i)]))),
    ...section(10, vec(fns.map((f) => f.bytes()))),
  ];
  return new Uint8Array(module);
}
