/**
 * `linesSource`: a sensor that prints one line of numbers per sample on a serial port (Arduino
 * `Serial.println`, CSV or whitespace separated), as `Observable<Frame>` plus a typed side channel
 * of events, like `cytonSource`.
 *
 * ```
 * subscribe ─▶ SerialLink: open ─▶ bytes ─LineParser─▶ frames      header line ─▶ 'header' event
 *                 ▲                          │ closed / error / silent  bad line ─▶ 'reject' event
 *                 └──── reconnect: 250 ms, 500 ms, … 5 s ◀─┘ (stallTimeoutMs)
 * unsubscribe ─▶ close
 * ```
 *
 * Time: without a time column, frame `seq` counts lines from the first one of the subscription and
 * `t = seq / rate` (seconds since the first line). Nothing on the wire says how many lines were
 * missed while the link was down, so on the first data after a reconnect the source estimates it
 * from the host clock (anchored at the first line), jumps `seq` by that and says so in a `resume`
 * event, keeping t on one grid. With `time=first`, `t` is the device's own time column (converted to
 * seconds), `seq` counts the lines received, and the `resume` event's estimate comes from the time
 * column. Each frame also carries `hostT`, the host receipt time (Unix s) of its chunk.
 *
 * Errors: bad options throw at once (InvalidOptionError naming the option or URI part). A lost link
 * is not an error: it is retried, with `disconnect` and `reconnect` events; frames$ errors with a
 * `LinesError` only when the attempts run out (`reconnectAttempts`, default never) or reconnecting
 * is off. A partial line cut off by a lost link is rejected (`truncated`), never emitted, and so is
 * (by default, `firstLine`) the first line of each connection unless it is a header (`partial`).
 */
import { Observable, share, Subject } from 'rxjs';
import type { Frame, StreamInfo } from '../../src/frames/index.js';
import { LINE_REJECT_REASONS, LineParser, type LineHeader, type LineRecord, type LineReject, type LineRejectReason } from './lineParser.js';
import { parseLinesUri, resolveLinesOptions, type LinesSourceOptions, type ResolvedLinesOptions } from './linesOptions.js';
import { SerialLink, type SerialLinkEvent, type SerialLinkLossReason, type SerialLinkStage } from './link.js';

export { DEFAULT_LINES_SOURCE_OPTIONS, parseLinesUri, resolveLinesOptions, type LinesSourceOptions, type ResolvedLinesOptions } from './linesOptions.js';

/** A frame from a line-protocol sensor. */
export interface LinesFrame extends Frame {
  /** The line's `columns` values. */
  values: Float64Array;
  /** Host receipt time (s, the `now` clock) of the chunk that completed the line. */
  hostT: number;
  /** Line number on the wire (1-based, all lines since the subscription, rejected and blank ones included). */
  line: number;
}

/** The port opened; `attempt` is 0 for the first connection, else the reconnect attempt that succeeded. */
export interface LinesConnectEvent { readonly type: 'connect'; readonly path: string; readonly attempt: number; readonly ms: number }
/** The link was lost: the port closed (unplugged), errored, or went silent for `stallTimeoutMs`. */
export interface LinesDisconnectEvent { readonly type: 'disconnect'; readonly path: string; readonly reason: SerialLinkLossReason; readonly message: string }
/** A reconnect attempt was scheduled after `delayMs`; `error` says why the link or the last attempt failed. */
export interface LinesReconnectEvent { readonly type: 'reconnect'; readonly path: string; readonly attempt: number; readonly delayMs: number; readonly error: string }
/** The device printed a header line (at the start, and again after a reconnect if it restarted). */
export interface LinesHeaderEvent { readonly type: 'header'; readonly labels: readonly string[]; readonly line: number; readonly message: string }
/** A line the parser dropped (see `LineRejectReason`), with the start of the line. */
export interface LinesRejectEvent { readonly type: 'reject'; readonly reason: LineRejectReason; readonly line: number; readonly excerpt: string; readonly message: string }
/**
 * Lines resumed after a reconnect: `seq` is the first frame's. Without a time column seq jumped by
 * `estimatedLost`, estimated from the host clock; with one, `estimatedLost` comes from the time
 * column (0 if the device clock went back, i.e. it restarted) and seq did not jump.
 */
export interface LinesResumeEvent { readonly type: 'resume'; readonly seq: number; readonly t: number; readonly estimatedLost: number; readonly clock: 'host' | 'device'; readonly message: string }
/** Something looks wrong but streaming goes on (e.g. the header disagrees with the `labels` option). */
export interface LinesWarningEvent { readonly type: 'warning'; readonly path: string; readonly message: string }

/** Everything a lines source reports besides frames. */
export type LinesEvent = LinesConnectEvent | LinesDisconnectEvent | LinesReconnectEvent | LinesHeaderEvent | LinesRejectEvent | LinesResumeEvent | LinesWarningEvent;

/** Running totals of a source (over all its subscriptions). */
export interface LinesStats {
  frames: number;
  bytes: number;
  connects: number;
  disconnects: number;
  reconnectAttempts: number;
  /** Header lines seen, and the labels of the last one. */
  headers: number;
  labels: readonly string[] | undefined;
  /** Lines estimated lost across reconnects. */
  estimatedLost: number;
  /** Rejected lines per reason. */
  rejects: Record<LineRejectReason, number>;
}

/** A lines source: its header, its frames (connecting on subscribe, shared), its events. */
export interface LinesSource {
  readonly info: StreamInfo;
  readonly options: Readonly<ResolvedLinesOptions>;
  /** Opens the port on the first subscription, closes it when the last one ends. */
  readonly frames$: Observable<LinesFrame>;
  /** Hot: subscribe before frames$ to see the first `connect`. */
  readonly events$: Observable<LinesEvent>;
  /** A copy of the running totals. */
  stats(): LinesStats;
}

/** The link could not be (re)established: which port, at which stage, and why. */
export class LinesError extends Error {
  override name = 'LinesError';
  constructor(
    readonly path: string,
    readonly stage: SerialLinkStage,
    readonly problem: string,
  ) {
    super(`lines ${path}: ${stage}: ${problem}`);
  }
}

/**
 * Opens a sensor that prints lines of numbers on a serial port as a stream of frames.
 *
 * Like reading the port with serialport's `ReadlineParser` and `split(',').map(Number)`, but every
 * bad line is counted with its reason instead of becoming NaNs, and the link reconnects.
 *
 * @example
 * const sensor = linesSource('lines:/dev/ttyACM0?columns=3&rate=100&labels=ax,ay,az');
 * sensor.events$.subscribe((e) => e.type === 'reject' && console.warn(e.message, e.excerpt));
 * sensor.frames$.pipe(validateFrames(sensor.info)).subscribe(...);
 * @param source a `lines:` URI or the options
 * @param overrides options applied over the URI's (timeouts, reconnect, clock)
 * @returns the source; nothing is opened until frames$ is subscribed
 * @throws InvalidOptionError naming the bad option or URI part
 */
export function linesSource(source: string | LinesSourceOptions, overrides: Partial<LinesSourceOptions> = {}): LinesSource {
  const base = typeof source === 'string' ? parseLinesUri(source) : source;
  const options = Object.freeze(resolveLinesOptions({ ...base, ...overrides } as LinesSourceOptions));
  const info: StreamInfo = { id: options.id, kind: 'raw', n: options.columns, rate: options.rate };
  if (options.labels) info.labels = [...options.labels];
  const events = new Subject<LinesEvent>();
  const stats = newStats();
  const frames$ = new Observable<LinesFrame>((subscriber) => {
    const session = new LinesSession(options, {
      frame: (f) => subscriber.next(f),
      event: (e) => events.next(e),
      fail: (err) => subscriber.error(err),
    }, stats);
    session.start();
    return () => session.stop();
  }).pipe(share());
  return {
    info, options, frames$, events$: events.asObservable(),
    stats: () => ({ ...stats, rejects: { ...stats.rejects } }),
  };
}

function newStats(): LinesStats {
  const rejects = Object.fromEntries(LINE_REJECT_REASONS.map((r) => [r, 0])) as Record<LineRejectReason, number>;
  return { frames: 0, bytes: 0, connects: 0, disconnects: 0, reconnectAttempts: 0, headers: 0, labels: undefined, estimatedLost: 0, rejects };
}

interface SessionSinks {
  frame(f: LinesFrame): void;
  event(e: LinesEvent): void;
  fail(err: LinesError): void;
}

/** One subscription's connection: the serial link, the parser and the resume estimate. */
class LinesSession {
  private readonly link: SerialLink;
  private readonly parser: LineParser;
  private stamp = 0; // host receipt time of the chunk being parsed
  private anchor = NaN; // host time − t of the first line (time=none): the clock the estimate uses
  private lastT = NaN; // t of the last frame
  private resumePending = false;

  constructor(
    private readonly o: ResolvedLinesOptions,
    private readonly sinks: SessionSinks,
    private readonly stats: LinesStats,
  ) {
    this.parser = new LineParser({
      columns: o.columns, rate: o.rate, separator: o.separator, time: o.time, timeUnit: o.timeUnit, maxLineBytes: o.maxLineBytes,
      onRecord: (r) => this.onRecord(r), onReject: (r) => this.onReject(r), onHeader: (h) => this.onHeader(h),
    });
    const { path, baudRate, stallTimeoutMs, reconnectDelayMs, reconnectMaxDelayMs, reconnectFactor, reconnectAttempts } = o;
    this.link = new SerialLink({ path, baudRate, stallTimeoutMs, reconnectDelayMs, reconnectMaxDelayMs, reconnectFactor, reconnectAttempts }, {
      up: () => {
        // A device that restarted may print its header again; one that was sending may be mid-line.
        this.parser.reset(this.o.firstLine === 'suspect');
        this.resumePending = !Number.isNaN(this.lastT); // frames came before: this is a reconnect
      },
      data: (chunk) => {
        this.stats.bytes += chunk.length;
        this.stamp = this.o.now();
        if (this.resumePending && this.o.time === 'none') this.estimateResume();
        this.parser.push(chunk);
      },
      // A partial line was cut off by the loss: discarded ('truncated'), since its last field may be cut short.
      down: () => this.parser.reset(),
      event: (e) => this.onLinkEvent(e),
      fail: (err) => this.sinks.fail(new LinesError(err.path, err.stage, err.problem)),
    });
  }

  start(): void {
    this.link.start();
  }

  stop(): void {
    this.link.stop();
  }

  /** Without a time column: jump seq by the lines the host clock says were sent while the link was down. */
  private estimateResume(): void {
    this.resumePending = false;
    const rate = this.o.rate;
    const next = this.parser.nextSeq;
    const missed = Math.max(0, Math.round((this.stamp - this.anchor) * rate) - next);
    this.parser.skip(missed);
    this.stats.estimatedLost += missed;
    const seq = next + missed;
    this.sinks.event({
      type: 'resume', seq, t: seq / rate, estimatedLost: missed, clock: 'host',
      message: `lines resumed after a reconnect at seq ${seq}; about ${missed} lines were missed (host clock)`,
    });
  }

  private onRecord(r: LineRecord): void {
    if (Number.isNaN(this.anchor)) this.anchor = this.stamp - r.t;
    if (this.resumePending) {
      // With a time column the device's clock tells how long the link was down.
      this.resumePending = false;
      const rate = this.o.rate;
      const lost = rate > 0 && r.t > this.lastT ? Math.max(0, Math.round((r.t - this.lastT) * rate) - 1) : 0;
      this.stats.estimatedLost += lost;
      this.sinks.event({
        type: 'resume', seq: r.seq, t: r.t, estimatedLost: lost, clock: 'device',
        message: r.t > this.lastT ? `lines resumed after a reconnect at t = ${r.t} s; about ${lost} lines were missed (time column)` : `lines resumed after a reconnect at t = ${r.t} s, before the last line's ${this.lastT} s: the device restarted its clock`,
      });
    }
    this.lastT = r.t;
    this.stats.frames++;
    this.sinks.frame({ seq: r.seq, t: r.t, values: r.values.slice(), hostT: this.stamp, line: r.line });
  }

  private onReject(r: LineReject): void {
    this.stats.rejects[r.reason]++;
    this.sinks.event({ type: 'reject', reason: r.reason, line: r.line, excerpt: r.excerpt, message: r.message });
  }

  private onHeader(h: LineHeader): void {
    this.stats.headers++;
    this.stats.labels = h.labels;
    this.sinks.event({ type: 'header', labels: h.labels, line: h.line, message: `line ${h.line}: labels ${h.labels.join(', ')}` });
    const want = this.o.labels;
    if (want && want.some((l, i) => l !== h.labels[i])) {
      this.sinks.event({ type: 'warning', path: this.o.path, message: `the device's header (${h.labels.join(', ')}) differs from the labels option (${want.join(', ')}): info.labels keeps the option's` });
    }
  }

  private onLinkEvent(e: SerialLinkEvent): void {
    if (e.type === 'connect') {
      this.stats.connects++;
      this.sinks.event({ type: 'connect', path: e.path, attempt: e.attempt, ms: e.ms });
    } else if (e.type === 'disconnect') {
      this.stats.disconnects++;
      this.sinks.event({ type: 'disconnect', path: e.path, reason: e.reason, message: e.message });
    } else {
      this.stats.reconnectAttempts++;
      this.sinks.event({ type: 'reconnect', path: e.path, attempt: e.attempt, delayMs: e.delayMs, error: e.error });
    }
  }
}
