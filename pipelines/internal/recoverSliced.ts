/**
 * R_P column by column, one column per scheduled task, so a recovery never holds the event loop
 * for longer than one column's solve (≈ 2–5 ms at n = 2000, d = 400) and frames keep flowing in
 * between. The same solver, options and warm start as `recoverColumns(P, Wc, { method: 'fast',
 * warmStart })`, hence the same result (test/pipelines/reconstruct.test.ts checks it).
 */
import { Observable, type SchedulerLike } from 'rxjs';
import { DataError } from '../../src/errors.js';
import { getColumn, setColumn, type Matrix } from '../../src/linalg/matrix.js';
import { columnMatrixOf, FastWorkspace, solveFast, type FastSolverOptions } from '../../src/recovery/index.js';
import type { Projection } from '../../src/sensing/index.js';

/** A reusable solver workspace for one P (per subscription of `reconstruct`). */
export function workspaceFor(P: Projection): FastWorkspace {
  const A = columnMatrixOf(P);
  return new FastWorkspace(A.cols, A.rows);
}

/** What a sliced recovery measured. */
export interface SliceStats {
  /** The longest task (one column's solve), ms: the longest the recovery held the event loop. */
  longestSliceMs: number;
}

/**
 * Recovers the columns of Wc (d×r) into a new n×r matrix, column c in the c-th task on
 * `scheduler`; emits it once and completes, or errors (DataError for a non-finite column, the
 * solver's errors). Unsubscribing cancels the remaining columns. `stats`, if given, is updated
 * as the columns are solved.
 */
export function recoverSliced(
  P: Projection, Wc: Matrix, warmStart: Matrix | undefined, options: FastSolverOptions, scheduler: SchedulerLike, ws: FastWorkspace, stats?: SliceStats,
): Observable<Matrix> {
  return new Observable<Matrix>((subscriber) => {
    const A = columnMatrixOf(P);
    const r = Wc.cols;
    const W: Matrix = { rows: P.n, cols: r, data: new Float64Array(P.n * r) };
    const y = new Float64Array(P.d);
    const x0 = warmStart ? new Float64Array(P.n) : undefined;
    let c = 0;
    return scheduler.schedule(function step() {
      if (subscriber.closed) return;
      const t0 = performance.now();
      try {
        getColumn(Wc, c, y);
        for (let i = 0; i < y.length; i++) {
          if (!Number.isFinite(y[i]!)) throw new DataError(`non-finite value ${y[i]} at index ${i}`, `reconstruct: W̃ column ${c}`);
        }
        if (x0) getColumn(warmStart!, c, x0);
        setColumn(W, c, solveFast(A, y, options, x0, ws).x);
      } catch (e) {
        subscriber.error(e);
        return;
      }
      if (stats) stats.longestSliceMs = Math.max(stats.longestSliceMs, performance.now() - t0);
      c++;
      if (c < r) {
        this.schedule(undefined, 0);
      } else {
        subscriber.next(W);
        subscriber.complete();
      }
    }, 0);
  });
}
