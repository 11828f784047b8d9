/**
 * How many lines a repeating warning may write: at most `lines` per `windowMs`, the rest counted,
 * so a device or client repeating the same mistake many times a second cannot flood the log (of an
 * edge device's small disk) while nobody loses the count. Used by the worker's stream tasks (bad
 * frames) and `cfstream run` (broker refusals).
 */

/** A fixed-window line budget. */
export class LogThrottle {
  private windowStart = -Infinity;
  private used = 0;
  private held = 0;

  /**
   * @param lines lines allowed per window (≥ 1)
   * @param windowMs the window's length
   * @param now the clock (ms; tests pass their own)
   */
  constructor(private readonly lines: number, private readonly windowMs: number, private readonly now: () => number = () => performance.now()) {
    if (!Number.isSafeInteger(lines) || lines < 1) throw new RangeError(`LogThrottle: lines must be an integer ≥ 1; got ${lines}`);
    if (!(windowMs > 0)) throw new RangeError(`LogThrottle: windowMs must be > 0; got ${windowMs}`);
  }

  /**
   * Asks to write one line: the number of lines held back since the last one written (to say
   * "+N more") when it may be written, undefined when it is held back (and counted).
   */
  admit(): number | undefined {
    const t = this.now();
    if (t - this.windowStart >= this.windowMs) {
      this.windowStart = t;
      this.used = 0;
    }
    if (this.used >= this.lines) {
      this.held++;
      return undefined;
    }
    this.used++;
    const held = this.held;
    this.held = 0;
    return held;
  }

  /** The lines held back since the last line written (or flush), and forgets them: for a periodic summary. */
  flush(): number {
    const held = this.held;
    this.held = 0;
    return held;
  }
}
