/**
 * Emission pacing shared by the simulated sources: frames carry time stamps t = seq / rate from
 * the model (never the wall clock); `realtime` emits each frame when the scheduler's clock
 * reaches its time (in bursts per tick, catching up after a stall), `max` as fast as the
 * consumer takes them, `chunk` frames per macrotask so timers and I/O still run in between.
 */
import { asyncScheduler, Observable, type SchedulerLike, type Subscriber } from 'rxjs';
import { InvalidOptionError } from '../src/errors.js';

/** How a simulated source paces its frames. */
export interface PacingOptions {
  /** 'realtime'; 'realtime' = at the nominal rate on the scheduler's clock, 'max' = as fast as possible. */
  pacing: 'realtime' | 'max';
  /** Frames per second (> 0). */
  rate: number;
  /** Infinity; frames in all (then the source completes). */
  frames: number;
  /** 25 ms; realtime: the tick between bursts. */
  tickMs: number;
  /** 1024; max: frames per macrotask. */
  chunk: number;
  /** asyncScheduler; its clock and timers drive realtime pacing (a TestScheduler in tests). */
  scheduler?: SchedulerLike;
}

/** Checks the pacing options (InvalidOptionError naming the owner and the field). */
export function checkPacing(owner: string, o: PacingOptions): void {
  if (o.pacing !== 'realtime' && o.pacing !== 'max') throw new InvalidOptionError(owner, 'pacing', "'realtime' or 'max'", o.pacing);
  if (!(o.rate > 0 && o.rate < Infinity)) throw new InvalidOptionError(owner, 'rate', 'a finite number > 0 (frames per second)', o.rate);
  if (!(o.frames === Infinity || (Number.isInteger(o.frames) && o.frames >= 0))) throw new InvalidOptionError(owner, 'frames', 'an integer ≥ 0 or Infinity', o.frames);
  if (!(o.tickMs > 0)) throw new InvalidOptionError(owner, 'tickMs', 'a number > 0', o.tickMs);
  if (!(Number.isInteger(o.chunk) && o.chunk >= 1)) throw new InvalidOptionError(owner, 'chunk', 'an integer ≥ 1', o.chunk);
}

/**
 * An Observable that calls `emit(seq, subscriber)` for seq = 0, 1, … under the pacing; `emit`
 * pushes the frame. `makeEmitter` runs once per subscription, so a source's state (its random
 * stream, its buffers) is per subscription too, like the counter and the timer.
 */
export function paced<T>(o: PacingOptions, makeEmitter: () => (seq: number, subscriber: Subscriber<T>) => void): Observable<T> {
  const scheduler = o.scheduler ?? asyncScheduler;
  return new Observable<T>((subscriber) => {
    const emit = makeEmitter();
    let seq = 0;
    const start = scheduler.now();
    const burst = (upTo: number): void => {
      for (; seq < upTo && !subscriber.closed; seq++) emit(seq, subscriber);
      if (seq >= o.frames && !subscriber.closed) subscriber.complete();
    };
    if (o.pacing === 'max') {
      // A macrotask per chunk (setImmediate) rather than a timer: timers clamp to ≥ 1 ms.
      let handle: NodeJS.Immediate | undefined;
      const step = (): void => {
        burst(Math.min(o.frames, seq + o.chunk));
        if (!subscriber.closed) handle = setImmediate(step);
      };
      handle = setImmediate(step);
      return () => clearImmediate(handle);
    }
    const action = scheduler.schedule(function tick() {
      const due = Math.min(o.frames, Math.floor(((scheduler.now() - start) / 1000) * o.rate) + 1);
      burst(due);
      if (!subscriber.closed) this.schedule(undefined, o.tickMs);
    });
    return () => action.unsubscribe();
  });
}
