import { describe, expect, it } from 'vitest';
import { cdSolve, cdSweep, gemmNT4, pgdStep } from '../../src/factorize/kernels.js';
import { Rng } from '../../src/linalg/random.js';

const rand = (n: number, seed: number, signed = true) => {
  const rng = new Rng(seed);
  return Float64Array.from({ length: n }, () => (signed ? rng.normal() : Math.abs(rng.normal())));
};
/** Symmetric positive definite r×r Gram matrix OᵀO of a random k×r O. */
const gram = (r: number, seed: number, k = 3 * r, signed = false) => {
  const O = rand(k * r, seed, signed);
  const G = new Float64Array(r * r);
  for (let a = 0; a < r; a++) for (let b = 0; b < r; b++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += O[p * r + a]! * O[p * r + b]!;
    G[a * r + b] = s;
  }
  return G;
};
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/** Naive coordinate sweep, one entry at a time, column by column (the documented rule). */
function naiveSweep(
  F: Float64Array, B: Float64Array, G: Float64Array, n: number, r: number,
  l1: number, l2: number, nonneg: boolean, floor: number, maxNorm: number,
): void {
  for (let t = 0; t < r; t++) {
    if (!(G[t * r + t]! + l2 > 0)) {
      if (nonneg && floor > 0) for (let i = 0; i < n; i++) F[i * r + t] = floor;
      continue;
    }
    for (let i = 0; i < n; i++) {
      let num = B[i * r + t]!;
      for (let l = 0; l < r; l++) if (l !== t) num -= G[t * r + l]! * F[i * r + l]!;
      let v = Math.sign(num) * Math.max(0, Math.abs(num) - l1);
      if (nonneg) v = Math.max(0, num - l1);
      F[i * r + t] = v / (G[t * r + t]! + l2);
    }
    let nrm = 0, mx = 0;
    for (let i = 0; i < n; i++) { nrm += F[i * r + t]! ** 2; mx = Math.max(mx, F[i * r + t]!); }
    if (nonneg && floor > 0 && mx === 0) for (let i = 0; i < n; i++) F[i * r + t] = floor;
    else if (maxNorm > 0 && Math.sqrt(nrm) > maxNorm) for (let i = 0; i < n; i++) F[i * r + t]! *= maxNorm / Math.sqrt(nrm);
  }
}

describe('gemmNT4', () => {
  it.each([[13, 37, 10], [8, 5, 4], [1, 1, 1], [6, 9, 3], [17, 64, 7]])('matches the naive A·Bᵀ for %i×%i by %i rows', (m, k, n) => {
    const A = rand(m * k, 1), B = rand(n * k, 2);
    const C = new Float64Array(m * n).fill(NaN);
    gemmNT4(A, B, m, k, n, C);
    const ref = new Float64Array(m * n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += A[i * k + p]! * B[j * k + p]!;
      ref[i * n + j] = s;
    }
    expect(maxAbsDiff(C, ref), 'max |C − A·Bᵀ| must be < 1e-12').toBeLessThan(1e-12);
  });
});

describe('cdSweep', () => {
  const n = 23, r = 5;
  const cases: [string, number, number, boolean, number, number][] = [
    ['HALS (nonneg)', 0, 0, true, 0, 0],
    ['HALS with l1 and l2', 0.7, 0.3, true, 0, 0],
    ['lasso (signed, soft threshold)', 0.9, 0, false, 0, 0],
    ['ridge (signed)', 0, 1.5, false, 0, 0],
    ['unit-ball projection', 0, 0, false, 0, 1],
  ];
  it.each(cases)('%s matches the naive coordinate rule', (_name, l1, l2, nonneg, floor, maxNorm) => {
    const G = gram(r, 3, 3 * r, !nonneg);
    const B = rand(n * r, 4, true);
    const F = rand(n * r, 5, !nonneg);
    const ref = F.slice();
    const before = F.slice();
    const change = cdSweep(F, B, G, n, r, l1, l2, nonneg, floor, maxNorm);
    naiveSweep(ref, B, G, n, r, l1, l2, nonneg, floor, maxNorm);
    expect(maxAbsDiff(F, ref), 'kernel vs naive sweep, max abs diff < 1e-12').toBeLessThan(1e-12);
    let sq = 0;
    for (let i = 0; i < F.length; i++) sq += (F[i]! - before[i]!) ** 2;
    expect(change).toBeCloseTo(sq, 10);
  });

  it('dead-component guard: an all-zero column, or one with zero curvature, is set to the floor', () => {
    const r2 = 2, n2 = 3;
    // Column 0: strongly negative numerator ⇒ clamps to 0 ⇒ floor. Column 1: G[1,1] = 0 (its
    // partner in the other factor is zero) ⇒ floor; without a floor it is left untouched.
    const G = Float64Array.from([1, 0, 0, 0]);
    const B = Float64Array.from([-1, 5, -2, 5, -3, 5]);
    const F = Float64Array.from([1, 7, 1, 7, 1, 7]);
    cdSweep(F, B, G, n2, r2, 0, 0, true, 1e-16, 0);
    expect(Array.from(F)).toEqual([1e-16, 1e-16, 1e-16, 1e-16, 1e-16, 1e-16]);
    const F2 = Float64Array.from([1, 7, 1, 7, 1, 7]);
    cdSweep(F2, B, G, n2, r2, 0, 0, true, 0, 0);
    expect(Array.from(F2)).toEqual([0, 7, 0, 7, 0, 7]);
  });

  it('is exact coordinate minimisation: a sweep never increases ½tr(FGFᵀ) − ⟨F,B⟩ + l1‖F‖₁ + ½l2‖F‖²', () => {
    const G = gram(r, 6), B = rand(n * r, 7), F = rand(n * r, 8, false);
    const obj = (l1: number, l2: number) => {
      let s = 0;
      for (let i = 0; i < n; i++) for (let a = 0; a < r; a++) {
        const fa = F[i * r + a]!;
        s += -B[i * r + a]! * fa + l1 * Math.abs(fa) + 0.5 * l2 * fa * fa;
        for (let b = 0; b < r; b++) s += 0.5 * fa * G[a * r + b]! * F[i * r + b]!;
      }
      return s;
    };
    let prev = obj(0.2, 0.1);
    for (let k = 0; k < 20; k++) {
      cdSweep(F, B, G, n, r, 0.2, 0.1, true, 0, 0);
      const cur = obj(0.2, 0.1);
      expect(cur).toBeLessThanOrEqual(prev + 1e-12);
      prev = cur;
    }
  });
});

describe('cdSolve', () => {
  it('solves NNLS to the KKT conditions (g ≥ 0, g·f = 0, f ≥ 0 with g = F G − B)', () => {
    const n = 15, r = 4;
    const G = gram(r, 9), B = rand(n * r, 10);
    const F = new Float64Array(n * r);
    const sweeps = cdSolve(F, B, G, n, r, 0, 0, true, 5000, 1e-13);
    expect(sweeps).toBeLessThan(5000);
    for (let i = 0; i < n; i++) for (let a = 0; a < r; a++) {
      let g = -B[i * r + a]!;
      for (let b = 0; b < r; b++) g += F[i * r + b]! * G[b * r + a]!;
      const f = F[i * r + a]!;
      expect(f).toBeGreaterThanOrEqual(0);
      if (f > 0) expect(Math.abs(g), `stationarity at (${i},${a})`).toBeLessThan(1e-8);
      else expect(g, `dual feasibility at (${i},${a})`).toBeGreaterThan(-1e-8);
    }
  });

  it('without constraints solves the linear system F G = B', () => {
    const n = 6, r = 3;
    const G = gram(r, 11, 12, true), B = rand(n * r, 12);
    const F = new Float64Array(n * r);
    cdSolve(F, B, G, n, r, 0, 0, false, 10000, 1e-14);
    const FG = new Float64Array(n * r);
    for (let i = 0; i < n; i++) for (let a = 0; a < r; a++) for (let b = 0; b < r; b++) FG[i * r + a]! += F[i * r + b]! * G[b * r + a]!;
    expect(maxAbsDiff(FG, B)).toBeLessThan(1e-8);
  });
});

describe('pgdStep (Lin 2007 / the paper repo, hand-computed 1×1 cases of ½qf² − bf)', () => {
  const ws = () => [new Float64Array(1), new Float64Array(1), new Float64Array(1)] as const;
  it('first trial passes ⇒ grows α (1 → 10), the α = 10 trial fails ⇒ keeps the α = 1 iterate, returns 10', () => {
    // q = 1, b = 1, f = 0: g = −1. α = 1: fn = 1, D = 1, 0.99·(−1) + 0.5·1 = −0.49 < 0 (pass).
    // α = 10: fn = 10, D = 10, −9.9 + 50 > 0 (fail) ⇒ keep fn = 1.
    const F = Float64Array.from([0]);
    const alpha = pgdStep(F, Float64Array.from([1]), Float64Array.from([1]), 1, 1, 1, 0.1, 10, 0, 0, ...ws());
    expect(F[0]).toBe(1);
    expect(alpha).toBe(10);
  });

  it('uses the Armijo constant 0.99 (σ = 0.01): a step with α·q = 1.9 < 1.98 passes', () => {
    // q = 1.9, b = 1, f = 0: α = 1: −0.99 + 0.5·1.9 = −0.04 < 0 (pass; with 0.9 it would fail).
    const F = Float64Array.from([0]);
    const alpha = pgdStep(F, Float64Array.from([1]), Float64Array.from([1.9]), 1, 1, 1, 0.1, 10, 0, 0, ...ws());
    expect(F[0]).toBe(1);
    expect(alpha).toBe(10);
  });

  it('first trial fails ⇒ shrinks α (1 → 0.1) and accepts the first passing iterate', () => {
    // q = 4, b = 1, f = 0: α = 1: fn = 1, −0.99 + 2 > 0 (fail); α = 0.1: fn = 0.1, −0.099 + 0.02 < 0 (pass).
    const F = Float64Array.from([0]);
    const alpha = pgdStep(F, Float64Array.from([1]), Float64Array.from([4]), 1, 1, 1, 0.1, 10, 0, 0, ...ws());
    expect(F[0]).toBeCloseTo(0.1, 15);
    expect(alpha).toBeCloseTo(0.1, 15);
  });

  it('projects at 0 and stops growing when the iterate stops changing', () => {
    // q = 1, b = −1, f = 2: g = 3. α = 1: fn = max(0, −1) = 0, D = −2: 0.99·(−6) + 0.5·4 < 0 (pass);
    // α = 10: fn = 0 again (unchanged) ⇒ stop, keep fn = 0; α returned is the last tried, 10.
    const F = Float64Array.from([2]);
    const alpha = pgdStep(F, Float64Array.from([-1]), Float64Array.from([1]), 1, 1, 1, 0.1, 10, 0, 0, ...ws());
    expect(F[0]).toBe(0);
    expect(alpha).toBe(10);
  });

  it('leaves F unchanged when all trials pass while growing, and returns the grown α', () => {
    // q = 1e-12: the test passes for every α < 1.98e12, so all 10 trials pass.
    const F = Float64Array.from([0]);
    const alpha = pgdStep(F, Float64Array.from([1]), Float64Array.from([1e-12]), 1, 1, 1, 0.1, 10, 0, 0, ...ws());
    expect(F[0]).toBe(0);
    expect(alpha).toBeCloseTo(1e10, 0);
  });

  it('leaves F unchanged when all trials fail, α shrunk 10 times', () => {
    // q = 1e12: needs α < 1.98e-12, never reached from 1 in 10 shrinks (down to 1e-9 tried).
    const F = Float64Array.from([0]);
    const alpha = pgdStep(F, Float64Array.from([1]), Float64Array.from([1e12]), 1, 1, 1, 0.1, 10, 0, 0, ...ws());
    expect(F[0]).toBe(0);
    expect(alpha).toBeCloseTo(1e-10, 20);
  });

  it('adds l1 to the gradient (the repo\'s l1_reg)', () => {
    // q = 1, b = 1, l1 = 0.5, f = 0: g = −0.5. α = 1: fn = 0.5, D = 0.5, −0.2475 + 0.125 < 0 pass;
    // α = 10: fn = 5, D = 5, −2.475 + 12.5 > 0 fail ⇒ keep 0.5.
    const F = Float64Array.from([0]);
    pgdStep(F, Float64Array.from([1]), Float64Array.from([1]), 1, 1, 1, 0.1, 10, 0.5, 0, ...ws());
    expect(F[0]).toBe(0.5);
  });

  it('on a multi-row problem decreases the subproblem objective', () => {
    const n = 12, r = 3;
    const G = gram(r, 13), B = rand(n * r, 14), F = rand(n * r, 15, false);
    const obj = () => {
      let s = 0;
      for (let i = 0; i < n; i++) for (let a = 0; a < r; a++) {
        s -= B[i * r + a]! * F[i * r + a]!;
        for (let b = 0; b < r; b++) s += 0.5 * F[i * r + a]! * G[a * r + b]! * F[i * r + b]!;
      }
      return s;
    };
    const [g, c, k] = [new Float64Array(n * r), new Float64Array(n * r), new Float64Array(n * r)];
    let alpha = 1;
    let prev = obj();
    for (let it = 0; it < 30; it++) {
      alpha = pgdStep(F, B, G, n, r, alpha, 0.1, 10, 0, 0, g, c, k);
      const cur = obj();
      expect(cur).toBeLessThanOrEqual(prev + 1e-12);
      prev = cur;
    }
    expect(Math.min(...F)).toBeGreaterThanOrEqual(0);
  });
});
