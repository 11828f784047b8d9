/**
 * A silence watchdog for a stream: `alive()` on every message; after `afterMs` without one,
 * `stale(silentMs)` is called once for that silence, and the next `alive()` calls
 * `fresh(silentMs)`. One scheduled check per silence (re-armed for what is left of it when
 * messages came meanwhile), not a timer per message. Used by `mqttSource` and the scale-out
 * worker's stream tasks.
 */
import { asyncScheduler, type SchedulerLike, type Subscription } from 'rxjs';

/** What a `StaleWatch` reports. */
export interface StaleWatchHandlers {
  /** The stream has been silent for `silentMs` (≥ afterMs). */
  stale(silentMs: number): void;
  /** A message after a stale silence of `silentMs`. */
  fresh(silentMs: number): void;
}

/** A silence watchdog (module header). */
export class StaleWatch {
  private lastAt: number;
  private check: Subscription | undefined;
  private silent = false;
  private stopped = false;

  /**
   * Starts watching now (a stream silent from the start goes stale too).
   * @param afterMs the silence that makes a stream stale (0: never)
   * @param scheduler asyncScheduler; runs the check and gives the clock (tests: virtual time)
   */
  constructor(private readonly afterMs: number, private readonly on: StaleWatchHandlers, private readonly scheduler: SchedulerLike = asyncScheduler) {
    this.lastAt = scheduler.now();
    this.arm(afterMs);
  }

  /** True from a `stale` call until the next `alive()`. */
  get stale(): boolean {
    return this.silent;
  }

  /** A message came. */
  alive(): void {
    const now = this.scheduler.now();
    if (this.silent) {
      this.silent = false;
      this.on.fresh(now - this.lastAt);
    }
    this.lastAt = now;
    if (!this.check) this.arm(this.afterMs);
  }

  /** Stops watching. */
  stop(): void {
    this.stopped = true;
    this.check?.unsubscribe();
    this.check = undefined;
  }

  private arm(delay: number): void {
    if (this.afterMs > 0 && !this.stopped) this.check = this.scheduler.schedule(() => this.onCheck(), delay);
  }

  private onCheck(): void {
    this.check = undefined;
    const silentMs = this.scheduler.now() - this.lastAt;
    if (silentMs < this.afterMs) return this.arm(this.afterMs - silentMs);
    this.silent = true;
    this.on.stale(silentMs);
  }
}
