/**
 * `SerialLink`: one serial port kept open for a device source — open, an optional device
 * handshake, chunks delivered while streaming, loss detection (port closed, port error, or no byte
 * for `stallTimeoutMs`) and reconnecting with backoff through the one `Reconnector`. Shared by the
 * Cyton and the line-protocol sources, which add only their protocol (../shared/docs/STYLE.md §2:
 * one reconnect path, typed events).
 *
 * ```
 * start ─▶ open ─▶ [handshake] ─▶ up() ─▶ 'connect' ─▶ data(chunk) … ─┐ closed / error / stall
 *            ▲  failed: 'reconnect'                                   ▼
 *            └──── Reconnector: delay, delay·factor, … maxDelay ◀── down() ─ 'disconnect' ─ 'reconnect'
 * stop ─▶ [farewell bytes, drain] ─▶ close          attempts used up / reconnecting off ─▶ fail()
 * ```
 *
 * Every callback runs synchronously from a port event or timer; nothing is reported after `stop()`.
 */
import { SerialPort } from 'serialport';
import { Reconnector } from './reconnect.js';

/** Why a link went down: the port closed (unplugged), errored, or went silent. */
export type SerialLinkLossReason = 'closed' | 'error' | 'stall';

/** Where a link failed: opening the port, the device handshake, or while streaming. */
export type SerialLinkStage = 'open' | 'handshake' | 'stream';

/** The port opened (and the handshake passed); `attempt` is 0 for the first connection, else the reconnect attempt that succeeded. */
export interface SerialLinkConnectEvent { readonly type: 'connect'; readonly path: string; readonly attempt: number; readonly ms: number; readonly detail: string }
/** The link was lost; `wasStreaming` is false when it was lost while opening or in the handshake. */
export interface SerialLinkDisconnectEvent { readonly type: 'disconnect'; readonly path: string; readonly reason: SerialLinkLossReason; readonly message: string; readonly wasStreaming: boolean }
/** A reconnect attempt was scheduled after `delayMs`; `error` says why the link or the last attempt failed. */
export interface SerialLinkReconnectEvent { readonly type: 'reconnect'; readonly path: string; readonly attempt: number; readonly delayMs: number; readonly error: string }

/** Everything a link reports. */
export type SerialLinkEvent = SerialLinkConnectEvent | SerialLinkDisconnectEvent | SerialLinkReconnectEvent;

/** The link gave up: which port, at which stage, and why (with how many attempts were made). */
export class SerialLinkError extends Error {
  override name = 'SerialLinkError';
  constructor(
    readonly path: string,
    readonly stage: SerialLinkStage,
    readonly problem: string,
  ) {
    super(`${path}: ${stage}: ${problem}`);
  }
}

/** Options of a `SerialLink` (already validated by the source that owns it). */
export interface SerialLinkOptions {
  /** Serial device path. */
  path: string;
  /** Baud rate (a pty ignores it). */
  baudRate: number;
  /** No byte for this long while streaming means the link is dead; 0 = never. */
  stallTimeoutMs: number;
  /** First reconnect delay; 0 = never reconnect. */
  reconnectDelayMs: number;
  /** Longest reconnect delay. */
  reconnectMaxDelayMs: number;
  /** Delay multiplier per failed attempt. */
  reconnectFactor: number;
  /** Failed attempts in a row after which the link fails. */
  reconnectAttempts: number;
  /** undefined. Bytes written before closing on `stop()` (e.g. Cyton's 's'), drained before the close. */
  farewell?: string;
}

/** A device handshake in progress on a freshly opened port. */
export interface SerialLinkHandshake {
  /** Resolves with a line for the connect event's `detail` when the device is ready; rejects with an Error whose message is the problem. */
  readonly done: Promise<string>;
  /** A chunk that arrived during the handshake. */
  data(chunk: Buffer): void;
  /** The link gave up on it (lost or stopped): settle `done` as failed and clear its timers. */
  abort(problem: string): void;
}

/** What the owning source does at each step of the link. */
export interface SerialLinkHandlers {
  /** undefined: stream as soon as the port is open. Else starts the device handshake on the open port. */
  handshake?(port: SerialPort): SerialLinkHandshake;
  /** Streaming starts (before the connect event): reset the parser, send a start command. */
  up(port: SerialPort): void;
  /** A chunk while streaming. */
  data(chunk: Buffer): void;
  /** The port was lost (before the disconnect event); `wasStreaming` says whether `up` had run for it. */
  down(wasStreaming: boolean): void;
  /** connect, disconnect and reconnect events. */
  event(e: SerialLinkEvent): void;
  /** The link gave up (called once, after it stopped). */
  fail(err: SerialLinkError): void;
}

type Phase = 'idle' | 'opening' | 'handshake' | 'streaming';

/**
 * Keeps one serial port open for a device source, reconnecting with exponential backoff.
 *
 * Like MQTT.js's reconnect loop, but for a serial port: every loss (close, error, stall) and every
 * failed attempt (open, handshake) goes through one `retry`, which either arms the `Reconnector`
 * or gives up once.
 *
 * @example
 * const link = new SerialLink({ path, baudRate: 115200, stallTimeoutMs: 2000, reconnectDelayMs: 250, reconnectMaxDelayMs: 5000, reconnectFactor: 2, reconnectAttempts: Infinity }, {
 *   up: () => parser.reset(), data: (chunk) => parser.push(chunk), down: () => parser.reset(),
 *   event: (e) => events.next(e), fail: (err) => subscriber.error(err),
 * });
 * link.start(); // … link.stop();
 */
export class SerialLink {
  private port: SerialPort | undefined;
  private phase: Phase = 'idle';
  private stopped = false;
  private attempt = 0; // the reconnect attempt in progress (0: the first connection)
  private readonly reconnector: Reconnector;
  private watchdog: ReturnType<typeof setInterval> | undefined;
  private lastDataAt = 0;
  private handshaking: SerialLinkHandshake | undefined;

  /** @param o see `SerialLinkOptions`; @param h see `SerialLinkHandlers` */
  constructor(
    private readonly o: Readonly<SerialLinkOptions>,
    private readonly h: SerialLinkHandlers,
  ) {
    this.reconnector = new Reconnector(
      { delayMs: o.reconnectDelayMs, maxDelayMs: o.reconnectMaxDelayMs, factor: o.reconnectFactor, attempts: o.reconnectAttempts },
      () => void this.connect(),
    );
  }

  /** True while streaming (open, handshake passed). */
  get streaming(): boolean {
    return this.phase === 'streaming';
  }

  /** Opens the port (once; later connections come from the reconnect path). */
  start(): void {
    void this.connect();
  }

  /** Closes for good (after the farewell bytes, if any); nothing is reported any more. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.reconnector.clear();
    this.stopWatchdog();
    this.handshaking?.abort('stopped');
    this.handshaking = undefined;
    const port = this.port;
    this.port = undefined;
    const farewell = this.o.farewell;
    if (port?.isOpen && farewell !== undefined) port.write(farewell, () => port.drain(() => closeQuietly(port)));
    else if (port) closeQuietly(port);
  }

  /** Opens the port and handshakes; on failure hands over to the one reconnect path. */
  private async connect(): Promise<void> {
    if (this.stopped) return;
    const started = performance.now();
    const port = new SerialPort({ path: this.o.path, baudRate: this.o.baudRate, autoOpen: false });
    this.port = port;
    this.phase = 'opening';
    port.on('data', (chunk: Buffer) => this.onData(port, chunk));
    port.on('close', (err?: Error | null) => this.linkLost(port, err ? 'error' : 'closed', err?.message ?? 'the port was closed'));
    port.on('error', (err: Error) => this.linkLost(port, 'error', err.message));
    let stage: SerialLinkStage = 'open';
    try {
      await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
      if (port !== this.port) return closeQuietly(port);
      let detail = '';
      if (this.h.handshake) {
        stage = 'handshake';
        this.phase = 'handshake';
        const hs = this.h.handshake(port);
        this.handshaking = hs;
        try {
          detail = await hs.done;
        } finally {
          if (this.handshaking === hs) this.handshaking = undefined;
        }
        if (port !== this.port) return;
      }
      this.phase = 'streaming';
      this.lastDataAt = performance.now();
      this.startWatchdog();
      this.h.up(port);
      this.reconnector.succeeded();
      this.h.event({ type: 'connect', path: this.o.path, attempt: this.attempt, ms: Math.round(performance.now() - started), detail });
    } catch (e) {
      if (port !== this.port || this.stopped) return closeQuietly(port); // the close path already took over
      this.port = undefined;
      this.phase = 'idle';
      closeQuietly(port);
      this.retry(stage, e instanceof Error ? e.message : String(e));
    }
  }

  private onData(port: SerialPort, chunk: Buffer): void {
    if (port !== this.port) return;
    this.lastDataAt = performance.now();
    if (this.phase === 'streaming') this.h.data(chunk);
    else if (this.phase === 'handshake') this.handshaking?.data(chunk);
  }

  /** The port closed, errored or went silent: report, clean up, hand over to the reconnect path. */
  private linkLost(port: SerialPort, reason: SerialLinkLossReason, message: string): void {
    if (port !== this.port || this.stopped) return;
    const wasStreaming = this.phase === 'streaming';
    this.port = undefined;
    this.phase = 'idle';
    this.stopWatchdog();
    this.handshaking?.abort(`${reason}: ${message}`);
    this.handshaking = undefined;
    this.h.down(wasStreaming);
    this.h.event({ type: 'disconnect', path: this.o.path, reason, message, wasStreaming });
    closeQuietly(port);
    this.retry('stream', `${reason}: ${message}`);
  }

  /** The one place that decides what happens after a failure: another attempt, or give up. */
  private retry(stage: SerialLinkStage, problem: string): void {
    if (this.stopped) return;
    const plan = this.reconnector.arm();
    if (plan) {
      this.attempt = plan.attempt;
      this.h.event({ type: 'reconnect', path: this.o.path, attempt: plan.attempt, delayMs: plan.delayMs, error: `${stage}: ${problem}` });
      return;
    }
    if (this.reconnector.pending) return;
    const tries = this.o.reconnectDelayMs === 0 ? 'reconnecting is off' : `gave up after ${this.o.reconnectAttempts} reconnect attempts`;
    this.stop();
    this.h.fail(new SerialLinkError(this.o.path, stage, `${problem} (${tries})`));
  }

  private startWatchdog(): void {
    this.stopWatchdog();
    const limit = this.o.stallTimeoutMs;
    if (limit === 0) return;
    this.watchdog = setInterval(() => {
      const port = this.port;
      if (port && this.phase === 'streaming' && performance.now() - this.lastDataAt > limit) {
        this.linkLost(port, 'stall', `no data for ${limit} ms`);
      }
    }, Math.max(10, Math.min(250, limit / 4)));
  }

  private stopWatchdog(): void {
    if (this.watchdog !== undefined) clearInterval(this.watchdog);
    this.watchdog = undefined;
  }
}

function closeQuietly(port: SerialPort): void {
  if (port.isOpen) port.close(() => {});
}
