/**
 * onlineCp: one update per window with what OnlineCP + R_P compute (marbles, virtual time for the
 * sliced recovery), recoverEvery thinning, the bounded recovery queue (skips counted, order kept),
 * bad windows reported and dropped with the model untouched, warm-start windows not emitted, a
 * model per subscription, configuration errors, and the operator checklist.
 *
 * Planted windows: X_w = [[A_w, B, C]] (L×m1×m2) with k-sparse non-negative A_w columns and fixed
 * dense non-negative B, C, delivered as FrameWindows of L frames of m1·m2 values, row-major [m1][m2].
 */
import { describe, expect, it } from 'vitest';
import { asyncScheduler, lastValueFrom, map, Subject, toArray } from 'rxjs';
import { InvalidOptionError } from '../../src/errors.js';
import { cpReconstruct } from '../../src/factorize/cp/mttkrp.js';
import { OnlineCP, type OnlineCpOptions } from '../../src/factorize/online/cp.js';
import type { Matrix } from '../../src/linalg/matrix.js';
import { Rng } from '../../src/linalg/random.js';
import { recoverColumns } from '../../src/recovery/index.js';
import { makeProjection, type ProjectionSpec } from '../../src/sensing/index.js';
import { matchedError } from '../../src/compressed/metrics.js';
import { DEFAULT_ONLINE_CP_OPERATOR_OPTIONS, onlineCp, type CpWindowUpdate } from '../../pipelines/onlineCp.js';
import type { FrameWindow } from '../../pipelines/types.js';
import { eventLog, testScheduler } from './helpers.js';

const L = 32, D = 12, M1 = 3, M2 = 4, R = 2, K = 2;
const SPEC: ProjectionSpec = { ensemble: 'sparse-binary', n: L, d: D, seed: 3 };
const P = makeProjection(SPEC);
const MODEL = Object.freeze({ rank: R, shape: [M1, M2] as const, seed: 1 });

/** n×r, entries 0.1 + uniform(0, 1), unit-norm columns (so A_w carries the scale, as in the model). */
function dense(n: number, rng: Rng): Matrix {
  const data = new Float64Array(n * R).map(() => 0.1 + rng.uniform());
  for (let t = 0; t < R; t++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += data[i * R + t]! ** 2;
    for (let i = 0; i < n; i++) data[i * R + t]! /= Math.sqrt(s);
  }
  return { rows: n, cols: R, data };
}

/** `count` planted windows (index from 1, seq from 100·index), and their true temporal factors. */
function plantedWindows(count: number, seed: number): { windows: FrameWindow[]; A: Matrix[] } {
  const rng = new Rng(seed);
  const B = dense(M1, rng), C = dense(M2, rng);
  const windows: FrameWindow[] = [], As: Matrix[] = [];
  for (let w = 1; w <= count; w++) {
    const A: Matrix = { rows: L, cols: R, data: new Float64Array(L * R) };
    for (let t = 0; t < R; t++) {
      const rows = new Set<number>();
      while (rows.size < K) rows.add(rng.int(L));
      for (const i of rows) A.data[i * R + t] = 0.5 + Math.abs(rng.normal());
    }
    const X = cpReconstruct([A, B, C]);
    const seq = 100 * w;
    windows.push({ seq, lastSeq: seq + L - 1, t0: seq / 10, t1: (seq + L - 1) / 10, count: L, dims: M1 * M2, values: X.data, index: w });
    As.push(A);
  }
  return { windows, A: As };
}

const columns = (M: Matrix): number[][] => Array.from({ length: M.cols }, (_, c) => Array.from({ length: M.rows }, (_, i) => M.data[i * M.cols + c]!));

/** What onlineCp should emit for `windows` (recovering every k-th), computed with the model and recoverColumns directly. */
async function expected(windows: FrameWindow[], options: Partial<OnlineCpOptions> = {}, every = 1): Promise<Omit<CpWindowUpdate, 'seconds'>[]> {
  const model = new OnlineCP({ ...MODEL, ...options });
  const out: Omit<CpWindowUpdate, 'seconds'>[] = [];
  let coded = 0;
  for (const w of windows) {
    const Ac = model.partialFit(P.applyMode1({ dims: [L, M1, M2], data: w.values }));
    if (!Ac) continue;
    const due = every > 0 && coded++ % every === 0;
    let A: number[][] | null = null, error: number | null = null;
    if (due) {
      const W = (await recoverColumns(P, Ac, { nonneg: true })).W;
      A = columns(W);
      const PA = P.applyColumns(W);
      let num = 0, den = 0;
      for (let i = 0; i < Ac.data.length; i++) { num += (PA.data[i]! - Ac.data[i]!) ** 2; den += Ac.data[i]! ** 2; }
      error = Math.sqrt(num / den);
    }
    out.push({
      index: w.index, seq: w.seq, lastSeq: w.lastSeq, t0: w.t0, t1: w.t1, Ac: columns(Ac), A,
      weights: Array.from(model.components().weights), error, fitError: model.lastFitError,
      recovery: due ? 'done' : 'not-due', skipped: 0, windowsSeen: model.windowsSeen,
    });
  }
  return out;
}

const withoutSeconds = ({ seconds: _s, ...rest }: CpWindowUpdate): Omit<CpWindowUpdate, 'seconds'> => rest;

describe('onlineCp', () => {
  it('emits one update per window with what OnlineCP and recoverColumns compute (marbles; the sliced recovery runs in virtual time)', async () => {
    const { windows, A } = plantedWindows(3, 1);
    const exp = await expected(windows);
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const out = cold('-a-b-c-|', { a: windows[0]!, b: windows[1]!, c: windows[2]! }).pipe(onlineCp({ projection: SPEC, model: MODEL }, { scheduler: ts }), map(withoutSeconds));
      expectObservable(out).toBe('-a-b-c-|', { a: exp[0], b: exp[1], c: exp[2] });
    });
    // The planted windows are exact (no noise), so the third window's temporal factor is recovered
    // (measured: matched error 9e-5, fit 1e-5, ‖P·A − Ã‖/‖Ã‖ 3e-6).
    const third = exp[2]!;
    const Arec: Matrix = { rows: L, cols: R, data: new Float64Array(L * R) };
    third.A!.forEach((col, c) => col.forEach((v, i) => { Arec.data[i * R + c] = v; }));
    const err = matchedError(A[2]!, Arec).error;
    expect(err, `matched error of the recovered A of window 3: ${err}`).toBeLessThan(0.1);
    expect(third.error!).toBeLessThan(1e-4);
    expect(third.fitError).toBeLessThan(1e-3);
  });

  it('recoverEvery thins the recoveries; factors: true adds B and C; seconds is measured', async () => {
    const { windows } = plantedWindows(5, 2);
    const exp = await expected(windows, {}, 2);
    const src = new Subject<FrameWindow>();
    const got = lastValueFrom(src.pipe(onlineCp({ projection: P, model: MODEL }, { recoverEvery: 2, factors: true }), toArray()));
    for (const w of windows) src.next(w);
    src.complete();
    const out = await got;
    expect(out.map((u) => u.recovery)).toEqual(['done', 'not-due', 'done', 'not-due', 'done']);
    expect(out.map((u) => ({ ...withoutSeconds(u), B: undefined, C: undefined }))).toEqual(exp.map((e) => ({ ...e, B: undefined, C: undefined })));
    const model = new OnlineCP(MODEL);
    for (const w of windows) model.partialFit(P.applyMode1({ dims: [L, M1, M2], data: w.values }));
    const { B, C } = model.components();
    expect(out[4]!.B).toEqual(columns(B));
    expect(out[4]!.C).toEqual(columns(C));
    expect(out.every((u) => u.seconds > 0 && u.seconds < 5)).toBe(true);
    const none = await lastValueFrom(src.pipe(onlineCp({ projection: P, model: MODEL }, { recoverEvery: 0 }), toArray()), { defaultValue: [] });
    expect(none).toEqual([]); // src is complete: a late subscriber gets nothing
  });

  it('bounds the pending recoveries: a window due beyond maxPendingRecoveries is skipped and counted; order is kept', async () => {
    const { windows } = plantedWindows(5, 3);
    const exp = await expected(windows);
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      // All five arrive in frame 0, before the first recovery's column tasks run.
      const src = cold('(abcde)|', Object.fromEntries(windows.map((w, i) => [String.fromCharCode(97 + i), w])));
      const out = src.pipe(onlineCp({ projection: SPEC, model: MODEL }, { maxPendingRecoveries: 2, scheduler: ts }), map((u) => `${u.index}:${u.recovery}:${u.skipped}:${u.A === null ? '-' : 'A'}`));
      expectObservable(out).toBe('(abcde)|', { a: '1:done:0:A', b: '2:done:0:A', c: '3:skipped:1:-', d: '4:skipped:2:-', e: '5:skipped:3:-' });
    });
    // The skipped windows still trained the model (same Ã and fit as the reference).
    const src = new Subject<FrameWindow>();
    const got = lastValueFrom(src.pipe(onlineCp({ projection: SPEC, model: MODEL }, { maxPendingRecoveries: 1 }), toArray()));
    for (const w of windows) src.next(w);
    src.complete();
    const out = await got;
    expect(out.map((u) => u.index)).toEqual([1, 2, 3, 4, 5]);
    expect(out.map((u) => u.recovery)).toEqual(['done', 'skipped', 'skipped', 'skipped', 'skipped']);
    expect(out.map((u) => u.Ac)).toEqual(exp.map((e) => e.Ac));
    expect(out.map((u) => u.fitError)).toEqual(exp.map((e) => e.fitError));
  });

  it('drops and reports bad windows (frame count, frame length, NaN, Infinity); the model equals one that never saw them', () => {
    const { windows } = plantedWindows(4, 4);
    const { events, onEvent } = eventLog();
    const model = new OnlineCP(MODEL);
    const src = new Subject<FrameWindow>();
    const updates: CpWindowUpdate[] = [];
    src.pipe(onlineCp({ projection: SPEC, model }, { recoverEvery: 0, onEvent })).subscribe((u) => updates.push(u));
    const nan = { ...windows[1]!, index: 11, values: windows[1]!.values.slice() };
    nan.values[5 * M1 * M2 + 7] = NaN;
    const inf = { ...windows[1]!, index: 12, values: windows[1]!.values.slice() };
    inf.values[0] = -Infinity;
    const short = { ...windows[1]!, index: 13, count: L - 1, values: windows[1]!.values.subarray(0, (L - 1) * M1 * M2) };
    const narrow = { ...windows[1]!, index: 14, dims: M1 * M2 - 1 };
    src.next(windows[0]!);
    const snapshot = JSON.stringify(model.state());
    for (const bad of [nan, inf, short, narrow]) src.next(bad);
    expect(JSON.stringify(model.state())).toBe(snapshot);
    src.next(windows[2]!);
    src.next(windows[3]!);
    expect(updates.map((u) => [u.index, u.windowsSeen])).toEqual([[1, 1], [3, 2], [4, 3]]);
    expect(events.map((e) => (e.type === 'reject' ? [e.operator, e.seq, e.reason] : e.type))).toEqual([
      ['onlineCp', 200, 'non-finite'], ['onlineCp', 200, 'non-finite'], ['onlineCp', 200, 'length'], ['onlineCp', 200, 'length'],
    ]);
    const messages = events.map((e) => (e as { message: string }).message);
    expect(messages[0]).toBe('onlineCp: window 11 (seq 200–231): frame 5 of the window, entry 7 is NaN; values must be finite');
    expect(messages[2]).toMatch(/31 frames; the projection's window length n is 32/);
    expect(messages[3]).toMatch(/frames have 11 values; the model's shape \[3, 4\] needs 12/);
    const ref = new OnlineCP(MODEL);
    for (const w of [windows[0]!, windows[2]!, windows[3]!]) ref.partialFit(P.applyMode1({ dims: [L, M1, M2], data: w.values }));
    expect(model.state()).toEqual(ref.state());
  });

  it('emits nothing for windows an OnlineCP buffers for its warm start', () => {
    const { windows } = plantedWindows(3, 5);
    const updates: CpWindowUpdate[] = [];
    const src = new Subject<FrameWindow>();
    src.pipe(onlineCp({ projection: SPEC, model: { ...MODEL, warmStartWindows: 2 } }, { recoverEvery: 0 })).subscribe((u) => updates.push(u));
    for (const w of windows) src.next(w);
    expect(updates.map((u) => [u.index, u.windowsSeen])).toEqual([[2, 2], [3, 3]]);
  });

  it('creates a model per subscription from options, and feeds a given instance', () => {
    const { windows } = plantedWindows(2, 6);
    const op = onlineCp({ projection: SPEC, model: MODEL }, { recoverEvery: 0 });
    const src = new Subject<FrameWindow>();
    const a: CpWindowUpdate[] = [], b: CpWindowUpdate[] = [];
    src.pipe(op).subscribe((u) => a.push(u));
    src.next(windows[0]!);
    src.pipe(op).subscribe((u) => b.push(u)); // joins late: its model starts fresh
    src.next(windows[1]!);
    expect(a.map((u) => u.windowsSeen)).toEqual([1, 2]);
    expect(b.map((u) => u.windowsSeen)).toEqual([1]);
    const fresh = new OnlineCP(MODEL);
    fresh.partialFit(P.applyMode1({ dims: [L, M1, M2], data: windows[1]!.values }));
    expect(b[0]!.fitError).toBe(fresh.lastFitError);
    const model = new OnlineCP(MODEL);
    const src2 = new Subject<FrameWindow>();
    src2.pipe(onlineCp({ projection: SPEC, model }, { recoverEvery: 0 })).subscribe();
    src2.next(windows[0]!);
    expect(model.windowsSeen).toBe(1);
  });

  it('checks the spec, the model options and its own when built', () => {
    const ok = { projection: SPEC, model: MODEL };
    expect(() => onlineCp({ projection: { ...SPEC, ensemble: 'gaussian' }, model: MODEL })).toThrow(/'sparse-binary'/);
    expect(() => onlineCp({ projection: { ...SPEC, d: 0 }, model: MODEL })).toThrow(InvalidOptionError);
    expect(() => onlineCp({ projection: SPEC, model: { ...MODEL, rank: D + 1 } })).toThrow(/rank/);
    expect(() => onlineCp({ projection: SPEC, model: { ...MODEL, forgetting: 2 } })).toThrow(/forgetting/);
    expect(() => onlineCp({ projection: SPEC, model: { rank: 2 } as never })).toThrow(/shape/);
    expect(() => onlineCp(ok, { recoverEvery: -1 })).toThrow(/onlineCp: option 'recoverEvery' must be an integer ≥ 0/);
    expect(() => onlineCp(ok, { maxPendingRecoveries: 0 })).toThrow(/maxPendingRecoveries/);
    expect(() => onlineCp(ok, { factors: 'yes' } as never)).toThrow(/factors/);
    expect(() => onlineCp(ok, { scheduler: {} } as never)).toThrow(/onlineCp: option 'scheduler' must be an rxjs SchedulerLike/);
    expect(() => onlineCp(ok, { schedular: asyncScheduler } as never)).toThrow(/known option \(recoverEvery, factors, maxPendingRecoveries, scheduler, onEvent, recovery\)/);
    expect(() => onlineCp(ok, { recovery: { method: 'lp' } })).toThrow(/recovery.method/);
    expect(() => onlineCp(ok, { recovery: { noise: 2 } })).toThrow(/noise/);
    expect(() => onlineCp(ok, { onEvent: 3 } as never)).toThrow(/onEvent/);
    expect(() => onlineCp(ok, { ...DEFAULT_ONLINE_CP_OPERATOR_OPTIONS, scheduler: asyncScheduler, onEvent: undefined, recovery: {} })).not.toThrow();
    const used = new OnlineCP(MODEL);
    used.partialFit({ dims: [D + 1, M1, M2], data: new Float64Array((D + 1) * M1 * M2).fill(1) });
    expect(() => onlineCp({ projection: SPEC, model: used })).toThrow(/d = 12/);
  });

  it('never, empty, error, early unsubscribe, completion waits for the last recovery, callback throws', () => {
    const { windows } = plantedWindows(2, 7);
    const oops = new Error('sink');
    const ts = testScheduler();
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const op = () => onlineCp({ projection: SPEC, model: MODEL }, { scheduler: ts });
      expectObservable(cold<FrameWindow>('-').pipe(op())).toBe('-');
      expectObservable(cold<FrameWindow>('|').pipe(op())).toBe('|');
      expectObservable(cold<FrameWindow>('#').pipe(op())).toBe('#');
      expectObservable(cold('(a|)', { a: windows[0]! }).pipe(op(), map((u) => u.index))).toBe('(a|)', { a: 1 });
      const src = hot('-a-b-', { a: windows[0]!, b: windows[1]! });
      expectObservable(src.pipe(op(), map((u) => u.index)), '^--!').toBe('-a-', { a: 1 });
      expectSubscriptions(src.subscriptions).toBe('^--!');
      const bad = { ...windows[0]!, values: windows[0]!.values.map(() => NaN) };
      expectObservable(cold('a|', { a: bad }).pipe(onlineCp({ projection: SPEC, model: MODEL }, { scheduler: ts, onEvent: () => { throw oops; } }))).toBe('#', undefined, oops);
    });
  });
});
