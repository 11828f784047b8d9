/**
 * Reconnecting with exponential backoff, in one place (STYLE.md §2, MQTT.js `_setupReconnect` /
 * `_clearReconnect` / `_reconnect`): a connection calls `arm()` whenever it is lost or an attempt
 * fails, `succeeded()` when it is up again, and `clear()` when it is closed for good.
 *
 * ```
 * lost ─arm()─▶ wait delayMs ─▶ attempt() ─fails─▶ arm() ─▶ wait 2·delayMs ─▶ attempt() ─ok─▶ succeeded()
 * delays: delayMs · factor^(n−1) for attempt n, capped at maxDelayMs; after `attempts` failures in a row, arm() gives up
 * ```
 */
import { InvalidOptionError } from '../../src/errors.js';

/** Options of a `Reconnector`. */
export interface ReconnectOptions {
  /** 250 ms. Delay before the first attempt; 0 disables reconnecting (arm() always gives up). */
  delayMs?: number;
  /** 5000 ms. Longest delay. */
  maxDelayMs?: number;
  /** 2. Delay multiplier per failed attempt (≥ 1). */
  factor?: number;
  /** Infinity. Attempts in a row (since the last success) before giving up. */
  attempts?: number;
}

/** The documented defaults of `ReconnectOptions`. */
export const DEFAULT_RECONNECT_OPTIONS: Readonly<Required<ReconnectOptions>> = Object.freeze({
  delayMs: 250, maxDelayMs: 5000, factor: 2, attempts: Infinity,
});

/** Timer functions (injectable for tests). */
export interface ReconnectTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const REAL_TIMERS: ReconnectTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** What `arm()` scheduled. */
export interface ReconnectPlan {
  /** 1 for the first attempt after a success (or the start). */
  readonly attempt: number;
  readonly delayMs: number;
}

/** Checks reconnect options (owner names the caller in errors) and fills the defaults. */
export function resolveReconnectOptions(owner: string, options: ReconnectOptions): Required<ReconnectOptions> {
  const o = { ...DEFAULT_RECONNECT_OPTIONS, ...stripUndefined(options) };
  const check = (key: keyof ReconnectOptions, ok: boolean, allowed: string) => {
    if (!ok) throw new InvalidOptionError(owner, key, allowed, o[key]);
  };
  check('delayMs', Number.isFinite(o.delayMs) && o.delayMs >= 0, 'a number of ms ≥ 0 (0 = no reconnect)');
  check('maxDelayMs', Number.isFinite(o.maxDelayMs) && o.maxDelayMs >= o.delayMs, `a number of ms ≥ delayMs (${o.delayMs})`);
  check('factor', Number.isFinite(o.factor) && o.factor >= 1, 'a number ≥ 1');
  check('attempts', (Number.isInteger(o.attempts) && o.attempts >= 1) || o.attempts === Infinity, 'an integer ≥ 1 or Infinity');
  return o;
}

/**
 * Schedules reconnect attempts with exponential backoff; at most one is pending at a time.
 *
 * @example
 * const r = new Reconnector({ delayMs: 100 }, () => void connect());
 * port.on('close', () => { const plan = r.arm(); if (!plan) fail(); });
 */
/** The reconnect options of a serial source, under the names its options object uses. */
export interface SourceReconnectOptions {
  /** 250 ms. First reconnect delay; 0 = never reconnect (frames$ errors when the link is lost). */
  reconnectDelayMs?: number;
  /** 5000 ms. Longest reconnect delay. */
  reconnectMaxDelayMs?: number;
  /** 2. Reconnect delay multiplier per failed attempt. */
  reconnectFactor?: number;
  /** Infinity. Failed attempts in a row after which frames$ errors. */
  reconnectAttempts?: number;
}

/** The documented defaults of `SourceReconnectOptions`. */
export const DEFAULT_SOURCE_RECONNECT_OPTIONS: Readonly<Required<SourceReconnectOptions>> = Object.freeze({
  reconnectDelayMs: DEFAULT_RECONNECT_OPTIONS.delayMs,
  reconnectMaxDelayMs: DEFAULT_RECONNECT_OPTIONS.maxDelayMs,
  reconnectFactor: DEFAULT_RECONNECT_OPTIONS.factor,
  reconnectAttempts: DEFAULT_RECONNECT_OPTIONS.attempts,
});

/** Checks a source's reconnect options; InvalidOptionError names the source's own option (`reconnectDelayMs`, …). */
export function checkSourceReconnectOptions(owner: string, o: SourceReconnectOptions): void {
  try {
    resolveReconnectOptions(owner, { delayMs: o.reconnectDelayMs, maxDelayMs: o.reconnectMaxDelayMs, factor: o.reconnectFactor, attempts: o.reconnectAttempts });
  } catch (e) {
    if (!(e instanceof InvalidOptionError)) throw e;
    throw new InvalidOptionError(owner, `reconnect${e.option[0]!.toUpperCase()}${e.option.slice(1)}`, e.allowed, e.received);
  }
}

export class Reconnector {
  readonly options: Readonly<Required<ReconnectOptions>>;
  private handle: unknown = undefined;
  private failures = 0;

  /**
   * @param options see `ReconnectOptions`; checked here (InvalidOptionError)
   * @param attempt called when a delay has passed; it should call `succeeded()` or `arm()` again
   * @param timers injectable for tests (default the global timers)
   */
  constructor(options: ReconnectOptions, private readonly attempt: () => void, private readonly timers: ReconnectTimers = REAL_TIMERS) {
    this.options = Object.freeze(resolveReconnectOptions('Reconnector', options));
  }

  /** True while an attempt is scheduled. */
  get pending(): boolean {
    return this.handle !== undefined;
  }

  /**
   * Schedules the next attempt unless one is pending (then returns undefined as well as when it
   * gives up: check `pending`). Returns the plan, or undefined when reconnecting is off or the
   * attempts are used up.
   */
  arm(): ReconnectPlan | undefined {
    if (this.handle !== undefined) return undefined;
    const { delayMs, maxDelayMs, factor, attempts } = this.options;
    if (delayMs === 0 || this.failures >= attempts) return undefined;
    const delay = Math.min(maxDelayMs, delayMs * factor ** this.failures);
    this.failures++;
    this.handle = this.timers.setTimeout(() => {
      this.handle = undefined;
      this.attempt();
    }, delay);
    return { attempt: this.failures, delayMs: delay };
  }

  /** A connection is up: the next loss starts again from `delayMs`. */
  succeeded(): void {
    this.failures = 0;
  }

  /** Cancels a pending attempt (closing for good). */
  clear(): void {
    if (this.handle !== undefined) this.timers.clearTimeout(this.handle);
    this.handle = undefined;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
