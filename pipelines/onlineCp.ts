/**
 * `onlineCp`: online compressed non-negative CP of windowed frames. Each `FrameWindow` (L frames
 * of m1·m2 values) is compressed along time by P (d×L), fed to an `OnlineCP` model, and its
 * temporal factor recovered at the original time resolution, A = R_P(Ã_w) (r sparse recoveries,
 * sliced one column per scheduler task like `reconstruct`).
 *
 * Frame layout: a frame's dims = m1·m2 values are row-major [m1][m2] (entry (j, k) at j·m2 + k;
 * e.g. an `stft` frame, frequency-major with the channel fastest, is m1 = bins × m2 = channels).
 * A window (count × dims, row-major, oldest frame first) is then the tensor X_w (L×m1×m2) with
 * entry (t, j, k) at (t·m1 + j)·m2 + k, and T~_w = X_w ×₁ P is P times that array read as an
 * L×(m1·m2) matrix.
 *
 * Algorithm and cost per window (r = rank, p = ones per column of P): compression T~_w = P·X_w,
 * p·L·m1·m2 additions into a buffer reused across windows; the model update (`OnlineCP`: Ã_w by
 * NNLS against B, C, then one HALS step on B and on C from their discounted statistics), about
 * 3·d·m1·m2·r for three MTTKRPs plus O((d + m1 + m2)·r²); then, for windows due, r fast sparse
 * recoveries of length-L signals from d measurements (one scheduler task each). Memory is constant:
 * the model's statistics, one compressed window, and at most `maxPendingRecoveries` queued updates.
 */
import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import { DataError, InvalidOptionError } from '../src/errors.js';
import { OnlineCP, resolveOnlineCpOptions, type OnlineCpOptions } from '../src/factorize/online/cp.js';
import type { ConstraintTable } from '../src/factorize/validate.js';
import { gemm } from '../src/linalg/kernels.js';
import type { Matrix } from '../src/linalg/matrix.js';
import { spMulMat } from '../src/linalg/sparseBinary.js';
import { fastOptionsOf, resolveRecoveryOptions, type RecoveryOptions } from '../src/recovery/index.js';
import { makeProjection, type Projection, type ProjectionSpec, type Tensor3 } from '../src/sensing/index.js';
import type { EventSink, PipelineRejectReason } from './events.js';
import { resolvePipelineOptions } from './internal/options.js';
import { recoverSliced, workspaceFor } from './internal/recoverSliced.js';
import type { FrameWindow } from './types.js';

/** What happened to a window's recovery A = R_P(Ã_w). */
export type CpRecoveryStatus = 'done' | 'not-due' | 'skipped' | 'failed';

/**
 * One window's result, from `onlineCp`. Plain arrays (columns), so `JSON.stringify` publishes it
 * as it is.
 */
export interface CpWindowUpdate {
  /** The window's `index` (from `window`). */
  readonly index: number;
  /** Seq of the window's first and last frame. */
  readonly seq: number;
  readonly lastSeq: number;
  /** Time stamps of the window's first and last frame, seconds. */
  readonly t0: number;
  readonly t1: number;
  /** Ã_w (d×r): `rank` columns of length d, the compressed temporal factor (carries the scale). */
  readonly Ac: number[][];
  /** A_w = R_P(Ã_w) (L×r): `rank` columns of length L, the temporal factor at the original time resolution; null unless `recovery` is 'done'. */
  readonly A: number[][] | null;
  /** B (m1×r) and C (m2×r) after this window, `rank` unit-norm columns each; only with the `factors` option. */
  readonly B?: number[][];
  readonly C?: number[][];
  /** The model's component scales after this window (`OnlineCP.components().weights`). */
  readonly weights: number[];
  /** ‖P·A − Ã_w‖_F / ‖Ã_w‖_F: how exactly the recovery explains Ã_w; null without A. */
  readonly error: number | null;
  /** ‖T~_w − [[Ã_w, B, C]]‖_F / ‖T~_w‖_F: the compressed relative fit of the window. */
  readonly fitError: number;
  /** 'done', 'not-due' (thinned by `recoverEvery`), 'skipped' (too many recoveries pending) or 'failed' (the solver threw). */
  readonly recovery: CpRecoveryStatus;
  /** Recoveries skipped so far in this subscription. */
  readonly skipped: number;
  /** The model's windowsSeen after this window. */
  readonly windowsSeen: number;
  /** Wall-clock seconds of the compression and model update plus those of the recovery (first column started → last done). */
  readonly seconds: number;
}

/** Options of `onlineCp`. */
export interface OnlineCpOperatorOptions {
  /** 1; recover A for the 1st, (k+1)-th, (2k+1)-th, … window the model codes (integer k ≥ 0; 0 = never). */
  recoverEvery: number;
  /** false; include B and C (copies, as columns) in every update. */
  factors: boolean;
  /** 4; recoveries waiting or running at most; a window due beyond that gets none (`recovery: 'skipped'`, counted). Integer ≥ 1. */
  maxPendingRecoveries: number;
}

/** Hooks of `onlineCp`. */
export interface OnlineCpOperatorHooks {
  /** asyncScheduler; runs the recovery one column per task (a TestScheduler gives virtual time in marble tests). */
  scheduler?: SchedulerLike;
  /** undefined; called with a `reject` event per window dropped (reason `length`, `non-finite` or `model`). */
  onEvent?: EventSink;
  /** { nonneg: true } (the fast solver's other defaults); options of the fast solver for R_P (`method` must be 'fast', no `warmStart`). */
  recovery?: Omit<RecoveryOptions, 'warmStart'>;
}

/** The documented defaults of `OnlineCpOperatorOptions`. */
export const DEFAULT_ONLINE_CP_OPERATOR_OPTIONS: Readonly<OnlineCpOperatorOptions> = Object.freeze({
  recoverEvery: 1,
  factors: false,
  maxPendingRecoveries: 4,
});

/** Allowed values of `OnlineCpOperatorOptions`. */
export const ONLINE_CP_OPERATOR_CONSTRAINTS: ConstraintTable<OnlineCpOperatorOptions> = Object.freeze({
  recoverEvery: { type: 'int', min: 0 },
  factors: { type: 'boolean' },
  maxPendingRecoveries: { type: 'int', min: 1 },
});

/** Model options (rank and shape [m1, m2] required), for a model created per subscription. */
export type OnlineCpModelSpec = Partial<OnlineCpOptions> & { rank: number; shape: readonly [number, number] };

/** What `onlineCp` runs: the time-mode projection and the model. */
export interface OnlineCpSpec {
  /** The ProjectionSpec of the time mode (n = L, the window length; `sparse-binary`: P ≥ 0) or a Projection. */
  projection: ProjectionSpec | Projection;
  /** An OnlineCP to train (caller-owned, shared by every subscription), or its options (a model per subscription). */
  model: OnlineCP | OnlineCpModelSpec;
}

function columnsOf(data: Float64Array, rows: number, cols: number): number[][] {
  const out: number[][] = [];
  for (let c = 0; c < cols; c++) {
    const col = new Array<number>(rows);
    for (let i = 0; i < rows; i++) col[i] = data[i * cols + c]!;
    out.push(col);
  }
  return out;
}

/** ‖P·A − Ã‖_F / ‖Ã‖_F. */
function residual(P: Projection, A: Matrix, Ac: Matrix): number {
  const PA = P.applyColumns(A);
  let num = 0, den = 0;
  for (let i = 0; i < Ac.data.length; i++) {
    const e = PA.data[i]! - Ac.data[i]!;
    num += e * e;
    den += Ac.data[i]! * Ac.data[i]!;
  }
  return den === 0 ? (num === 0 ? 0 : Infinity) : Math.sqrt(num / den);
}

/** A window's update, waiting for its recovery (if due) before it is emitted in order. */
interface Pending {
  update: { -readonly [K in keyof CpWindowUpdate]: CpWindowUpdate[K] };
  /** Ã_w (d×r) to recover, until the recovery is done. */
  recover: Matrix | null;
}

/**
 * Compresses each window's time mode with P, updates an online non-negative CP model with it
 * (`OnlineCP.partialFit`) and emits `{ index, seq, lastSeq, t0, t1, Ac, A, B?, C?, weights, error,
 * fitError, recovery, skipped, windowsSeen, seconds }` per window the model coded, with A_w =
 * R_P(Ã_w) recovered for every `recoverEvery`-th of them.
 *
 * Like `map(w => model.partialFit(P ×₁ w))` followed by an ordered asynchronous recovery, but the
 * event loop is held only for one window's model update or one column's solve at a time, and bad
 * windows never reach the stream as errors: a window with the wrong frame count (≠ L = P.n) or
 * frame length (≠ m1·m2), or a NaN / ±Infinity value, is dropped and reported as a `reject` event
 * (reason `length`, `non-finite`, or `model` if the model refuses it) and the model is untouched.
 * Configuration errors (e.g. rank above d) error the stream.
 *
 * ```
 * windows:   --a------b--c(NaN)--d--|
 * output:    --A------B----------D--|     (recoveries sliced on the scheduler; same frame in virtual time)
 * events:    ------------reject(c, non-finite)
 * ```
 *
 * Ordering and backpressure: updates are emitted in window order; an update whose recovery is
 * running or queued holds back the later ones. At most `maxPendingRecoveries` recoveries wait or
 * run; a window due for recovery beyond that is emitted without A (`recovery: 'skipped'`,
 * counted in `skipped`) — memory stays bounded whatever the solver's speed. The model itself is
 * updated on arrival, so it never lags the stream. On completion the pending recoveries finish,
 * then the output completes; a source error is passed on at once (pending updates are dropped);
 * unsubscribing cancels the recoveries. While an `OnlineCP` buffers its
 * warm-start windows nothing is emitted for them.
 *
 * Model ownership: given options, each subscription creates its own model; given an `OnlineCP`,
 * every subscription feeds that one instance (the caller owns it, e.g. for `state()` checkpoints)
 * and must not subscribe twice.
 *
 * @example
 * spectra$.pipe(window({ length: 32, hop: 16 }), onlineCp({
 *   projection: { ensemble: 'sparse-binary', n: 32, d: 12, seed: 1 },
 *   model: { rank: 4, shape: [bins, channels] },
 * }, { recoverEvery: 4, onEvent }))
 * @see window (its input), stft (frames of [bins][channels]), OnlineCP (the model), reconstruct (the matrix pipeline's recovery)
 * @param spec the time-mode projection (checked and generated now) and the model or its options (checked now)
 * @param options see `OnlineCpOperatorOptions` and `OnlineCpOperatorHooks`; checked now (InvalidOptionError)
 * @returns an operator emitting one `CpWindowUpdate` per window the model coded
 */
export function onlineCp(
  spec: OnlineCpSpec, options: Partial<OnlineCpOperatorOptions> & OnlineCpOperatorHooks = {},
): OperatorFunction<FrameWindow, CpWindowUpdate> {
  const o = resolvePipelineOptions<OnlineCpOperatorOptions, OnlineCpOperatorHooks>(
    'onlineCp', ONLINE_CP_OPERATOR_CONSTRAINTS, DEFAULT_ONLINE_CP_OPERATOR_OPTIONS,
    { scheduler: 'scheduler', onEvent: 'function', recovery: 'object' }, options,
  );
  if (!spec || typeof spec !== 'object') throw new InvalidOptionError('onlineCp', 'spec', 'an object {projection, model}', spec);
  const projection = spec.projection;
  if (!projection || typeof projection !== 'object') throw new InvalidOptionError('onlineCp', 'projection', 'a ProjectionSpec or a Projection', projection);
  const P: Projection = 'apply' in projection ? projection : makeProjection(projection);
  if (P.spec.ensemble !== 'sparse-binary') {
    throw new InvalidOptionError('onlineCp', 'projection.ensemble', "'sparse-binary' (a non-negative CP needs P ≥ 0 so that Ã = P·A ≥ 0)", P.spec.ensemble);
  }
  const method = o.recovery?.method;
  if (method !== undefined && method !== 'fast') throw new InvalidOptionError('onlineCp', 'recovery.method', "'fast' (or undefined)", method);
  if (o.recovery && 'warmStart' in o.recovery) throw new InvalidOptionError('onlineCp', 'recovery.warmStart', 'absent (each window is recovered from scratch)', 'a matrix');
  const fast = fastOptionsOf(resolveRecoveryOptions({ nonneg: true, ...o.recovery, method: 'fast' }));

  let create: () => OnlineCP;
  let opts: Readonly<OnlineCpOptions>;
  const model = spec.model;
  if (model instanceof OnlineCP) {
    opts = model.options;
    if (model.windowLength !== 0 && model.windowLength !== P.d) {
      throw new InvalidOptionError('onlineCp', 'model', `an OnlineCP for windows of d = ${P.d} compressed slices`, `one fixed to d = ${model.windowLength}`);
    }
    create = () => model;
  } else {
    opts = resolveOnlineCpOptions(model, 'OnlineCP'); // checks now
    create = () => new OnlineCP(model);
  }
  if (opts.rank > P.d) throw new InvalidOptionError('OnlineCP', 'rank', `an integer ≤ the compressed window length d = ${P.d}`, opts.rank);
  const { recoverEvery, factors, maxPendingRecoveries, onEvent } = o;
  const scheduler = o.scheduler ?? asyncScheduler;
  const [m1, m2] = opts.shape;
  const L = P.n, d = P.d, r = opts.rank, dims = m1 * m2;

  return (source) => new Observable<CpWindowUpdate>((subscriber) => {
    const m = create();
    const ws = workspaceFor(P);
    const T: Tensor3 = { dims: [d, m1, m2], data: new Float64Array(d * dims) };
    const Acm: Matrix = { rows: d, cols: r, data: new Float64Array(d * r) };
    const queue: Pending[] = [];
    let running: Subscription | null = null;
    let pendingRecoveries = 0;
    let coded = 0, skipped = 0;
    let completed = false, pumping = false;

    const reject = (w: FrameWindow, reason: PipelineRejectReason, message: string): void => {
      onEvent?.({ type: 'reject', operator: 'onlineCp', seq: w.seq, t: w.t0, reason, message: `onlineCp: window ${w.index} (seq ${w.seq}–${w.lastSeq}): ${message}` });
    };

    /** Starts the head's recovery; it finishes now (a synchronous scheduler) or later, then pumps. */
    const startRecovery = (p: Pending): void => {
      const Ac = p.recover!;
      const t0 = performance.now();
      let A: Matrix | undefined;
      const finish = (status: CpRecoveryStatus): void => {
        running = null;
        pendingRecoveries--;
        p.recover = null;
        p.update.recovery = status;
        p.update.seconds += (performance.now() - t0) / 1000;
        if (status === 'done') {
          p.update.A = columnsOf(A!.data, L, r);
          p.update.error = residual(P, A!, Ac);
        }
        pump();
      };
      const job = recoverSliced(P, Ac, undefined, fast, scheduler, ws).subscribe({
        next: (value) => { A = value; },
        error: () => guard(() => finish('failed')),
        complete: () => guard(() => finish(A && A.rows === L && A.cols === r ? 'done' : 'failed')),
      });
      if (p.recover !== null) running = job; // not finished synchronously
    };

    /** Emits the updates at the head of the queue that are ready, starting the next recovery; completes when all are out. */
    const pump = (): void => {
      if (pumping) return;
      pumping = true;
      try {
        while (!running && queue.length > 0 && !subscriber.closed) {
          const head = queue[0]!;
          if (head.recover) {
            startRecovery(head);
            continue;
          }
          queue.shift();
          subscriber.next(head.update);
        }
        if (completed && !running && queue.length === 0) subscriber.complete();
      } finally {
        pumping = false;
      }
    };

    const guard = (fn: () => void): void => {
      try {
        fn();
      } catch (e) {
        subscriber.error(e);
      }
    };

    /** The window's problem, or null if the model may see it. */
    const problem = (w: FrameWindow): { reason: PipelineRejectReason; message: string } | null => {
      if (w.count !== L) return { reason: 'length', message: `${w.count} frames; the projection's window length n is ${L}` };
      if (w.dims !== dims) return { reason: 'length', message: `frames have ${w.dims} values; the model's shape [${m1}, ${m2}] needs ${dims}` };
      const v = w.values;
      if (!(v instanceof Float64Array) || v.length < L * dims) return { reason: 'length', message: `values hold ${v?.length} entries, not count·dims = ${L * dims}` };
      for (let i = 0; i < L * dims; i++) {
        if (!Number.isFinite(v[i]!)) {
          return { reason: 'non-finite', message: `frame ${Math.floor(i / dims)} of the window, entry ${i % dims} is ${v[i]}; values must be finite` };
        }
      }
      return null;
    };

    const subscription = source.subscribe({
      next(w) {
        guard(() => {
          const bad = problem(w);
          if (bad) {
            reject(w, bad.reason, bad.message);
            return;
          }
          const t0 = performance.now();
          if (P.sparse) spMulMat(P.sparse, w.values, dims, T.data);
          else gemm(P.dense!.data, w.values, d, L, dims, T.data);
          let Ac: Matrix | null;
          try {
            Ac = m.partialFit(T, Acm);
          } catch (e) {
            if (!(e instanceof DataError)) throw e;
            reject(w, 'model', e.message);
            return;
          }
          if (Ac === null) return; // the model is buffering its warm-start windows
          const due = recoverEvery > 0 && coded % recoverEvery === 0;
          coded++;
          let recovery: CpRecoveryStatus = 'not-due';
          if (due) {
            if (pendingRecoveries < maxPendingRecoveries) {
              pendingRecoveries++;
              recovery = 'done'; // provisional: set when it finishes
            } else {
              skipped++;
              recovery = 'skipped';
            }
          }
          const comp = m.components();
          const update: Pending['update'] = {
            index: w.index, seq: w.seq, lastSeq: w.lastSeq, t0: w.t0, t1: w.t1,
            Ac: columnsOf(Ac.data, d, r), A: null,
            weights: Array.from(comp.weights), error: null, fitError: m.lastFitError,
            recovery, skipped, windowsSeen: m.windowsSeen, seconds: (performance.now() - t0) / 1000,
          };
          if (factors) {
            update.B = columnsOf(comp.B.data, m1, r);
            update.C = columnsOf(comp.C.data, m2, r);
          }
          const toRecover = due && recovery === 'done' ? { rows: d, cols: r, data: Ac.data.slice() } : null;
          queue.push({ update, recover: toRecover });
          pump();
        });
      },
      error: (e) => subscriber.error(e),
      complete: () => {
        completed = true;
        guard(pump);
      },
    });
    return () => {
      subscription.unsubscribe();
      running?.unsubscribe();
      running = null;
      queue.length = 0;
    };
  });
}
