/**
 * `reconstruct`: every N frames or T milliseconds, recovers the factors in the original domain,
 * W = R_P(W̃), from the online model, off the frame path.
 */
import {
  asyncScheduler, from, interval, Observable, type ObservableInput, type OperatorFunction, type SchedulerLike, type Subscription,
} from 'rxjs';
import { InvalidOptionError, NotFittedError } from '../src/errors.js';
import type { ConstraintTable } from '../src/factorize/validate.js';
import { getColumn, type Matrix } from '../src/linalg/matrix.js';
import { fastOptionsOf, resolveRecoveryOptions, type FastWorkspace, type RecoveryOptions } from '../src/recovery/index.js';
import { makeProjection, rowBlock, type Projection, type ProjectionSpec } from '../src/sensing/index.js';
import type { EventSink } from './events.js';
import { resolvePipelineOptions } from './internal/options.js';
import { recoverSliced, workspaceFor, type SliceStats } from './internal/recoverSliced.js';
import type { FactorsMessage, HoldoutQuality, ModelUpdate } from './types.js';

/** Options of `reconstruct`. */
export interface ReconstructOptions {
  /** 0 frames; a reconstruction is due each time the model has seen this many frames since the last due point (integer ≥ 0; 0 = off). */
  everyFrames: number;
  /** 1000 ms; reconstruct on this period if the model has seen new frames since the last one started (≥ 0; 0 = off). */
  everyMs: number;
  /** true; start each column's solve from the previous W (the fast solver first tries to certify it as is). */
  warmStart: boolean;
  /** true; when the source completes, run a last reconstruction of the final model (if it changed) before completing. */
  final: boolean;
}

/** A recovery job for a custom `recover`. */
export interface RecoveryJob {
  /** The projection (n, d, apply). */
  readonly P: Projection;
  /** W̃ (d×r), a copy taken when the reconstruction became due. */
  readonly Wc: Matrix;
  /** The previous W (n×r), when warm-starting. */
  readonly warmStart: Matrix | undefined;
}

/** Hooks of `reconstruct`. */
export interface ReconstructHooks {
  /** asyncScheduler; runs the `everyMs` timer and the column-by-column recovery (one column per task, so I/O gets in between). */
  scheduler?: SchedulerLike;
  /** undefined; called with `skip` and `failure` events. */
  onEvent?: EventSink;
  /** the fast solver, one column per scheduled task; replaces how a job is solved (emit W n×r once; a Promise works too, e.g. `recoverColumns(...).then(r => r.W)`). */
  recover?: (job: RecoveryJob) => ObservableInput<Matrix>;
  /** {} (the fast solver's defaults); options of the fast solver (`method` must be 'fast'; `warmStart` is managed here). */
  recovery?: Omit<RecoveryOptions, 'warmStart'>;
}

/** The documented defaults of `ReconstructOptions`. */
export const DEFAULT_RECONSTRUCT_OPTIONS: Readonly<ReconstructOptions> = Object.freeze({ everyFrames: 0, everyMs: 1000, warmStart: true, final: true });

/** Allowed values of `ReconstructOptions`. */
export const RECONSTRUCT_CONSTRAINTS: ConstraintTable<ReconstructOptions> = Object.freeze({
  everyFrames: { type: 'int', min: 0 },
  everyMs: { type: 'number', min: 0 },
  warmStart: { type: 'boolean' },
  final: { type: 'boolean' },
});

function columnsOf(M: Matrix): number[][] {
  const out: number[][] = [];
  for (let c = 0; c < M.cols; c++) out.push(Array.from(getColumn(M, c)));
  return out;
}

/** The hold-out frames and the model's codes of their training rows, or undefined if there are none yet. */
interface HoldoutSample { values: Float64Array; count: number; dims: number; H: Matrix }

function holdoutSample(u: ModelUpdate, rows: number, trainRows: number): HoldoutSample | undefined {
  const s = u.holdout!.copy();
  if (s.count === 0 || s.dims - rows !== trainRows) return undefined;
  const X: Matrix = { rows: trainRows, cols: s.count, data: new Float64Array(trainRows * s.count) };
  for (let f = 0; f < s.count; f++) for (let i = 0; i < trainRows; i++) X.data[i * s.count + f] = s.values[f * s.dims + i]!;
  return { values: s.values, count: s.count, dims: s.dims, H: u.model.transform(X) };
}

/**
 * HoldoutQuality of W (recovered from the training rows) on the sample's held-out rows.
 *
 * A validation error in the compressed domain: ‖P_ho v‖ / ‖P_ho x‖ for v = x − W·h. It equals
 * ‖v‖ / ‖x‖ in expectation only for isotropic rows (dense ensembles). Sparse-binary rows weight
 * the all-ones direction more (E[PᵀP] = h·q(1−q)·I + h·q²·11ᵀ, q = p/d), along which the
 * non-negative x lies while a failed recovery's v has mixed signs, so there it reads low (0.77 for
 * a true 1.17 in the tests) but still far above the compressed fit (0.01). Taking the 11ᵀ term out
 * with the known sums 1ᵀx = 1ᵀy/p was tried: it overshot (1.91) because each column's p ones are
 * split between training and held-out rows, so P_ho is not independent of W's errors.
 */
function heldOutQuality(Pho: Projection, W: Matrix, Wc: Matrix, s: HoldoutSample): HoldoutQuality {
  const PW = Pho.applyColumns(W); // rows×r
  const r = W.cols, m = s.count, rows = Pho.d, train = Wc.rows;
  let num = 0, den = 0, cnum = 0, cden = 0;
  for (let f = 0; f < m; f++) {
    const y = s.values.subarray(f * s.dims, (f + 1) * s.dims);
    for (let i = 0; i < rows; i++) {
      let pred = 0;
      for (let t = 0; t < r; t++) pred += PW.data[i * r + t]! * s.H.data[t * m + f]!;
      const v = y[train + i]!;
      num += (v - pred) ** 2;
      den += v * v;
    }
    for (let i = 0; i < train; i++) {
      let pred = 0;
      for (let t = 0; t < r; t++) pred += Wc.data[i * r + t]! * s.H.data[t * m + f]!;
      cnum += (y[i]! - pred) ** 2;
      cden += y[i]! * y[i]!;
    }
  }
  const ratio = (a: number, b: number) => (b > 0 ? Math.sqrt(a / b) : a > 0 ? Infinity : 0);
  return { heldOutError: ratio(num, den), compressedError: ratio(cnum, cden), frames: m, rows };
}

/** ‖P·W − W̃‖_F / ‖W̃‖_F. */
function residual(P: Projection, W: Matrix, Wc: Matrix): number {
  const PW = P.applyColumns(W);
  let num = 0, den = 0;
  for (let i = 0; i < Wc.data.length; i++) {
    const e = PW.data[i]! - Wc.data[i]!;
    num += e * e;
    den += Wc.data[i]! * Wc.data[i]!;
  }
  return den === 0 ? (num === 0 ? 0 : Infinity) : Math.sqrt(num / den);
}

/**
 * Samples the model of the incoming `ModelUpdate`s (`update.model.components().W`, a copy) when
 * a reconstruction is due — `everyFrames` frames after the last due point, or an `everyMs` tick
 * with frames new since the last start — and recovers W = R_P(W̃) with the fast solver, warm-started from the
 * previous W. Emits a `FactorsMessage` `{ seq, t, n, d, rank, W, Wc, error, framesSeen, seconds,
 * warmStarted, index, skipped }` when it is done. A model still buffering its warm-start frames
 * is not sampled (not an error).
 *
 * Like `throttle` with `{ leading: true, trailing: false }` around an asynchronous job, but the
 * job never runs on the frame path: it only copies W̃ there (O(d·r)), then solves one column per
 * scheduled task, so ingestion stalls at most one column's solve at a time instead of the whole
 * recovery (r = 10 columns at n = 2000, d = 400: ≈ 20–50 ms in all).
 *
 * Backpressure: at most one recovery runs. A reconstruction that falls due while one is running
 * is skipped (drop-newest), counted and reported as a `skip` event — once per due point, not
 * once per update; the next due one takes the then-current model. Nothing queues. A recovery that fails is reported as a `failure` event
 * (the stream goes on; the next one warm-starts from the last good W).
 *
 * ```
 * everyFrames 64, updates of 32 frames:  -u-u-u-u-u-u-u-u|
 * recovery (takes ~3 updates):           ---[=====]-[===]---[==](final)
 * output:                                ---------F------F-----F|
 * events:                                -------skip
 * ```
 *
 * Completion: with `final`, the running recovery finishes, then a last one runs if the model saw
 * frames since the last start, then the output completes. Unsubscribing cancels the running one.
 *
 * @example
 * const updates = frames$.pipe(batchFrames(), onlineNmf({ rank: 10 }), share());
 * updates.pipe(reconstruct(spec, { everyMs: 1000 })).subscribe((f) => mqtt.publish(topic, JSON.stringify(f), { retain: true }));
 * @see onlineNmf, recoverColumns (the same solver), metrics
 * @param projection the ProjectionSpec of the stream (P regenerated now, shared read-only) or a Projection
 * @param options see `ReconstructOptions`, `ReconstructHooks`; checked now (InvalidOptionError)
 * @returns an operator emitting `FactorsMessage`s
 */
export function reconstruct(
  projection: ProjectionSpec | Projection,
  options: Partial<ReconstructOptions> & ReconstructHooks = {},
): OperatorFunction<ModelUpdate, FactorsMessage> {
  const o = resolvePipelineOptions<ReconstructOptions, ReconstructHooks>(
    'reconstruct', RECONSTRUCT_CONSTRAINTS, DEFAULT_RECONSTRUCT_OPTIONS,
    { scheduler: 'scheduler', onEvent: 'function', recover: 'function', recovery: 'object' }, options,
  );
  const method = o.recovery?.method;
  if (method !== undefined && method !== 'fast') throw new InvalidOptionError('reconstruct', 'recovery.method', "'fast' (or undefined)", method);
  if (o.recovery && 'warmStart' in o.recovery) throw new InvalidOptionError('reconstruct', 'recovery.warmStart', 'absent (use the warmStart option)', 'a matrix');
  const recoveryOptions = resolveRecoveryOptions({ ...o.recovery, method: 'fast' });
  const fast = fastOptionsOf(recoveryOptions);
  const P: Projection = 'apply' in projection ? projection : makeProjection(projection);
  const { everyFrames, everyMs, warmStart, final, onEvent } = o;
  const scheduler = o.scheduler ?? asyncScheduler;

  return (source) => new Observable<FactorsMessage>((subscriber) => {
    // One workspace per P the recoveries run against (P, or its training rows with a hold-out).
    const workspaces = new Map<Projection, FastWorkspace>();
    const workspace = (Q: Projection): FastWorkspace => {
      let w = workspaces.get(Q);
      if (!w) workspaces.set(Q, (w = workspaceFor(Q)));
      return w;
    };
    if (!o.recover) workspace(P);
    const slices: SliceStats = { longestSliceMs: NaN };
    const solve = o.recover ?? ((job: RecoveryJob) => recoverSliced(job.P, job.Wc, job.warmStart, fast, scheduler, workspace(job.P), slices));
    let latest: ModelUpdate | undefined; // the newest update (its model is live)
    let framesAtStart = 0; // model.framesSeen when the last reconstruction started
    let framesAtDue = 0; // model.framesSeen at the last due point (started or skipped)
    let running: Subscription | null = null;
    let previousW: Matrix | undefined;
    let index = 0, skipped = 0, failures = 0;
    let completed = false;
    let timer: Subscription | null = null;
    // Row blocks of P for a hold-out of `rows` rows, built on first use.
    const blocks = new Map<number, { train: Projection; held: Projection }>();
    const blocksFor = (rows: number) => {
      let b = blocks.get(rows);
      if (!b) blocks.set(rows, (b = { train: rowBlock(P, 0, P.d - rows), held: rowBlock(P, P.d - rows, P.d) }));
      return b;
    };
    const trainingRows = (rows: number): Projection => (rows > 0 ? blocksFor(rows).train : P);
    const heldOutRows = (rows: number): Projection => blocksFor(rows).held;

    const guard = (fn: () => void): void => {
      try {
        fn();
      } catch (e) {
        subscriber.error(e);
      }
    };

    const finishIfDone = (): void => {
      if (!completed || running) return;
      if (final && latest && latest.framesSeen > framesAtStart && start(latest)) return;
      subscriber.complete();
    };

    /** Starts a reconstruction of `u.model` now; false if the model has no dictionary yet. */
    const start = (u: ModelUpdate): boolean => {
      let Wc: Matrix;
      try {
        Wc = u.model.components().W;
      } catch (e) {
        if (e instanceof NotFittedError) return false; // still buffering warm-start frames
        throw e;
      }
      const rows = u.holdout?.rows ?? 0;
      const Pm = trainingRows(rows);
      // Taken with W̃, synchronously: the codes must be the same model's.
      const held = rows > 0 ? holdoutSample(u, rows, Wc.rows) : undefined;
      framesAtStart = u.framesSeen;
      const seq = u.lastSeq, t = u.t, framesSeen = u.framesSeen;
      const warm = warmStart && previousW && previousW.cols === Wc.cols ? previousW : undefined;
      const t0 = performance.now();
      slices.longestSliceMs = o.recover ? NaN : 0;
      let W: Matrix | undefined;
      let job: Subscription;
      const done = (): void => {
        if (running === job) running = null;
        finishIfDone();
      };
      job = from(solve({ P: Pm, Wc, warmStart: warm })).subscribe({
        next(value) {
          W = value;
        },
        error: (e) => guard(() => {
          failures++;
          running = null;
          onEvent?.({ type: 'failure', operator: 'reconstruct', seq, message: e instanceof Error ? e.message : String(e), failures });
          done();
        }),
        complete: () => guard(() => {
          running = null;
          if (!W || W.rows !== Pm.n || W.cols !== Wc.cols) {
            failures++;
            onEvent?.({ type: 'failure', operator: 'reconstruct', seq, message: `reconstruct: the recovery produced no ${P.n}×${Wc.cols} W`, failures });
          } else {
            previousW = W;
            index++;
            subscriber.next({
              seq, t, n: Pm.n, d: Pm.d, rank: Wc.cols, W: columnsOf(W), Wc: columnsOf(Wc), error: residual(Pm, W, Wc), framesSeen,
              seconds: (performance.now() - t0) / 1000, longestSliceMs: slices.longestSliceMs, warmStarted: warm !== undefined, index, skipped,
              quality: held ? heldOutQuality(heldOutRows(rows), W, Wc, held) : null,
            });
          }
          done();
        }),
      });
      if (!job.closed) running = job; // a synchronous job has finished already
      return true;
    };

    /** A reconstruction is due: start it, or skip it if one is running. */
    const due = (u: ModelUpdate | undefined): void => {
      if (!u) return;
      framesAtDue = u.framesSeen;
      if (running) {
        skipped++;
        onEvent?.({ type: 'skip', operator: 'reconstruct', seq: u.lastSeq, skipped });
        return;
      }
      start(u);
    };

    if (everyMs > 0) {
      timer = interval(everyMs, scheduler).subscribe(() => guard(() => {
        if (latest && latest.framesSeen > framesAtStart) due(latest);
      }));
    }
    const subscription = source.subscribe({
      next(u) {
        latest = u;
        if (everyFrames > 0 && u.framesSeen - framesAtDue >= everyFrames) guard(() => due(u));
      },
      error(e) {
        subscriber.error(e);
      },
      complete() {
        completed = true;
        timer?.unsubscribe();
        guard(finishIfDone);
      },
    });
    return () => {
      subscription.unsubscribe();
      timer?.unsubscribe();
      running?.unsubscribe();
      running = null;
      latest = undefined;
      previousW = undefined;
    };
  });
}
