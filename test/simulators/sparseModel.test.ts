import { describe, expect, it } from 'vitest';
import { lastValueFrom, take, toArray, map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { InvalidOptionError } from '../../src/errors.js';
import { sparseModelSource } from '../../simulators/sparseModel.js';
import { compressiveFrontEnd } from '../../simulators/frontEnd.js';
import { makeProjection } from '../../src/sensing/index.js';

const copy = map((f: { seq: number; t: number; values: ArrayLike<number> }) => ({ seq: f.seq, t: f.t, values: Float64Array.from(f.values) }));

describe('sparseModelSource', () => {
  it('emits x = W·h + e with the stated noise level, reproducibly, and completes', async () => {
    const src = sparseModelSource({ n: 200, r: 3, k: 10, noise: 0.1, seed: 4, pacing: 'max', frames: 1500, rate: 100 });
    expect(src.info).toEqual({ id: 'sim', kind: 'raw', n: 200, rate: 100 });
    const a = await lastValueFrom(src.frames$.pipe(copy, toArray()));
    const b = await lastValueFrom(src.frames$.pipe(copy, toArray()));
    expect(a).toHaveLength(1500);
    expect(a.map((f) => f.seq)).toEqual(Array.from({ length: 1500 }, (_, i) => i));
    expect(a[7]!.t).toBeCloseTo(0.07, 12);
    expect(a[1499]!.values).toEqual(b[1499]!.values);
    // Least-squares fit on span(W): the residual is the noise outside it, ≈ noise·√((n − r)/n)·‖x‖.
    const { W } = src.truth;
    const r = 3, n = 200;
    let res = 0, sig = 0;
    for (const f of a) {
      const G = Array.from({ length: r }, (_, i) => Array.from({ length: r }, (_, j) => { let s = 0; for (let q = 0; q < n; q++) s += W.data[q * r + i]! * W.data[q * r + j]!; return s; }));
      const rhs = Array.from({ length: r }, (_, i) => { let s = 0; for (let q = 0; q < n; q++) s += W.data[q * r + i]! * f.values[q]!; return s; });
      // 3×3 solve by Cramer's rule keeps the test independent of the library.
      const det = (M: number[][]) => M[0]![0]! * (M[1]![1]! * M[2]![2]! - M[1]![2]! * M[2]![1]!) - M[0]![1]! * (M[1]![0]! * M[2]![2]! - M[1]![2]! * M[2]![0]!) + M[0]![2]! * (M[1]![0]! * M[2]![1]! - M[1]![1]! * M[2]![0]!);
      const D = det(G);
      const h = [0, 1, 2].map((c) => det(G.map((row, i) => row.map((v, j) => (j === c ? rhs[i]! : v)))) / D);
      for (let q = 0; q < n; q++) {
        let fit = 0;
        for (let c = 0; c < r; c++) fit += W.data[q * r + c]! * h[c]!;
        res += (f.values[q]! - fit) ** 2;
        sig += fit ** 2;
      }
    }
    expect(Math.sqrt(res / sig)).toBeGreaterThan(0.085);
    expect(Math.sqrt(res / sig)).toBeLessThan(0.11);
    // W is k-sparse and non-negative.
    for (let c = 0; c < r; c++) {
      let nz = 0;
      for (let q = 0; q < n; q++) { const v = W.data[q * r + c]!; expect(v).toBeGreaterThanOrEqual(0); if (v > 0) nz++; }
      expect(nz).toBe(10);
    }
  });

  it('paces in real time on the scheduler clock, stamping t = seq / rate', () => {
    new TestScheduler((a, b) => expect(a).toEqual(b)).run(({ expectObservable }) => {
      const src = sparseModelSource({ n: 20, r: 2, k: 3, rate: 100, tickMs: 100, seed: 1 });
      // Ticks at 0, 100, 200 ms: frame 0 at 0; frames 1..10 at 100 ms; 11..20 at 200 ms.
      const counts = src.frames$.pipe(map((f) => f.seq), take(21), toArray(), map((s) => s.length));
      expectObservable(counts).toBe('200ms (a|)', { a: 21 });
    });
  });

  it('checks its options', () => {
    expect(() => sparseModelSource({ k: 0 })).toThrow(InvalidOptionError);
    expect(() => sparseModelSource({ rate: 0 })).toThrow(/rate/);
    expect(() => sparseModelSource({ pacing: 'fast' as 'max' })).toThrow(/pacing/);
    expect(() => sparseModelSource({ noise: -1 })).toThrow(/noise/);
  });
});

describe('compressiveFrontEnd', () => {
  const raw = sparseModelSource({ n: 100, r: 2, k: 5, noise: 0, seed: 2, pacing: 'max', frames: 50 });
  const projection = { ensemble: 'sparse-binary' as const, n: 100, d: 30, p: 5, seed: 9 };
  const P = makeProjection(projection);

  it('ideal: y = P·x exactly, and the header carries the ProjectionSpec', async () => {
    const fe = compressiveFrontEnd(raw.info, { projection });
    expect(fe.info).toMatchObject({ kind: 'compressed', n: 100, projection: { ...projection } });
    const xs = await lastValueFrom(raw.frames$.pipe(copy, toArray()));
    const ys = await lastValueFrom(raw.frames$.pipe(fe.measure, copy, toArray()));
    expect(ys).toHaveLength(50);
    expect(Array.from(ys[13]!.values)).toEqual(Array.from(P.apply(xs[13]!.values)));
    expect(fe.stats).toMatchObject({ frames: 50, saturated: 0, refused: 0 });
  });

  it('quantises to the ADC grid within half a step and counts the samples clipped at the rails', async () => {
    const xs = await lastValueFrom(raw.frames$.pipe(copy, toArray()));
    let peak = 0;
    for (const x of xs) for (const v of P.apply(x.values)) peak = Math.max(peak, Math.abs(v));
    const range = 0.5 * peak, bits = 8, step = (2 * range) / 256;
    const fe = compressiveFrontEnd(raw.info, { projection, bits, range });
    const ys = await lastValueFrom(raw.frames$.pipe(fe.measure, copy, toArray()));
    let clipped = 0;
    ys.forEach((y, f) => {
      const exact = P.apply(xs[f]!.values);
      y.values.forEach((v, i) => {
        expect(Math.abs(v / step - Math.round(v / step))).toBeLessThan(1e-9);
        const code = Math.round(exact[i]! / step);
        if (code > 127 || code < -128) { clipped++; expect(Math.abs(v)).toBeCloseTo(code > 0 ? range - step : range, 9); }
        else expect(Math.abs(v - exact[i]!)).toBeLessThanOrEqual(step / 2 + 1e-12);
      });
    });
    expect(clipped).toBeGreaterThan(0);
    expect(fe.stats.saturated).toBe(clipped);
  });

  it('adds analogue noise of the given σ; refuses frames of the wrong length without stopping', async () => {
    const fe = compressiveFrontEnd(raw.info, { projection, noise: 0.5, noiseSeed: 3 });
    const xs = await lastValueFrom(raw.frames$.pipe(copy, toArray()));
    const ys = await lastValueFrom(raw.frames$.pipe(fe.measure, copy, toArray()));
    let s = 0, c = 0;
    ys.forEach((y, f) => { const e = P.apply(xs[f]!.values); y.values.forEach((v, i) => { s += (v - e[i]!) ** 2; c++; }); });
    expect(Math.sqrt(s / c)).toBeGreaterThan(0.45);
    expect(Math.sqrt(s / c)).toBeLessThan(0.55);
    const { from } = await import('rxjs');
    const out = await lastValueFrom(from([{ seq: 0, t: 0, values: new Float64Array(99) }, xs[0]!]).pipe(fe.measure, toArray()));
    expect(out).toHaveLength(1);
    expect(fe.stats.refused).toBe(1);
  });

  it('checks its options against the stream', () => {
    expect(() => compressiveFrontEnd(raw.info, { projection: { ...projection, n: 99 } })).toThrow(/projection.n/);
    expect(() => compressiveFrontEnd(raw.info, { projection, bits: 8 })).toThrow(/range/);
    expect(() => compressiveFrontEnd(raw.info, { projection, bits: 1, range: 1 })).toThrow(/bits/);
    expect(() => compressiveFrontEnd({ ...raw.info, kind: 'compressed' }, { projection })).toThrow(/kind/);
  });
});
