/**
 * `cytonSource`: an OpenBCI Cyton (or Cyton + Daisy) behind its USB dongle, as `Observable<Frame>`
 * plus a typed side channel of events (../shared/docs/STREAMING.md §2.1 and §7).
 *
 * ```
 * subscribe ─▶ open port ─▶ 'v' … "$$$" (handshake) ─▶ 'b' ─▶ bytes ─CytonParser─▶ frames
 *                 ▲                                                 │ port closed / error / silent
 *                 └──── Reconnector: 250 ms, 500 ms, … 5 s ◀────────┘ (stallTimeoutMs)
 * unsubscribe ─▶ 's', close
 * ```
 *
 * Time: frame `seq` counts samples from the first one of the subscription, and `t = t0 + seq / rate`
 * (rate 250 Hz, 125 Hz with the Daisy), anchored at the host receipt time t0 of the first sample:
 * the board's crystal, not the USB/FTDI burst timing, spaces the samples. The host receipt time of
 * each sample is kept as `hostT`, and `stats().latencyMs` summarises hostT − t (its spread is the
 * receipt jitter, its trend the clock drift).
 *
 * Gaps: the board's 8-bit counter (mod 128 for Daisy pairs) goes through a `GapDetector`, so lost
 * packets are counted exactly (up to 127 in a row; 63 pairs) and `seq` jumps by the same amount.
 * After a reconnect (or a board restart) the counter starts over and nothing on the wire says how
 * many samples were missed: the source estimates it from the host clock, jumps `seq` by that and
 * says so in a `resume` event, keeping `t = t0 + seq / rate` on one grid.
 *
 * The port itself (open, stall watchdog, reconnect with backoff) is a `SerialLink` (link.ts); this
 * file adds the handshake, the parser and the clock.
 *
 * Errors: bad options throw at once (InvalidOptionError naming the option or URI part). A lost link
 * is not an error: it is retried, with `disconnect` and `reconnect` events; frames$ errors with a
 * `CytonError` only when the attempts run out (`reconnectAttempts`, default never) or reconnecting
 * is off.
 */
import { Observable, share, Subject } from 'rxjs';
import type { SerialPort } from 'serialport';
import { GapDetector, type Frame, type StreamInfo } from '../../src/frames/index.js';
import { CYTON_PACKET_RATE } from './cytonPacket.js';
import { parseCytonUri, resolveCytonOptions, type CytonSourceOptions, type ResolvedCytonOptions } from './cytonOptions.js';
import { CYTON_REJECT_REASONS, CytonParser, type CytonReject, type CytonRejectReason, type CytonSample } from './cytonParser.js';
import { SerialLink, type SerialLinkEvent, type SerialLinkHandshake } from './link.js';

export { parseCytonUri, resolveCytonOptions, DEFAULT_CYTON_SOURCE_OPTIONS, type CytonSourceOptions, type ResolvedCytonOptions } from './cytonOptions.js';

/** A frame from a Cyton: µV per channel, plus where it came from. */
export interface CytonFrame extends Frame {
  /** Channel values in µV (8, or 16 with the Daisy). */
  values: Float64Array;
  /** Host receipt time (s, the `now` clock) of the chunk that completed this sample. */
  hostT: number;
  /** The board counter: 0–255, or 0–127 for Daisy pairs. */
  counter: number;
}

/** The port opened and the board answered `v`; `attempt` is 0 for the first connection, else the reconnect attempt that succeeded. */
export interface CytonConnectEvent { readonly type: 'connect'; readonly path: string; readonly attempt: number; readonly banner: string; readonly ms: number }
/** The link was lost: the port closed (unplugged), errored, or went silent for `stallTimeoutMs`. */
export interface CytonDisconnectEvent { readonly type: 'disconnect'; readonly path: string; readonly reason: 'closed' | 'error' | 'stall'; readonly message: string }
/** A reconnect attempt was scheduled after `delayMs`; `error` says why the link or the last attempt failed. */
export interface CytonReconnectEvent { readonly type: 'reconnect'; readonly path: string; readonly attempt: number; readonly delayMs: number; readonly error: string }
/** `lost` samples are missing before `seq` (counted from the board counter, exact). */
export interface CytonGapEvent { readonly type: 'gap'; readonly seq: number; readonly t: number; readonly lost: number; readonly gaps: number; readonly lostTotal: number }
/** Samples resumed after a reconnect or a board restart; `estimatedLost` comes from the host clock. */
export interface CytonResumeEvent { readonly type: 'resume'; readonly seq: number; readonly t: number; readonly estimatedLost: number; readonly cause: 'reconnect' | 'restart' }
/** Something looks wrong but streaming goes on (e.g. the banner disagrees with the `daisy` option). */
export interface CytonWarningEvent { readonly type: 'warning'; readonly path: string; readonly message: string }
/** Bytes or packets the parser dropped (see `CytonRejectReason`). */
export interface CytonRejectEvent { readonly type: 'reject'; readonly reason: CytonRejectReason; readonly count: number; readonly counter: number | undefined; readonly message: string }

/** Everything a Cyton source reports besides frames. */
export type CytonEvent = CytonConnectEvent | CytonDisconnectEvent | CytonReconnectEvent | CytonGapEvent | CytonResumeEvent | CytonRejectEvent | CytonWarningEvent;

/** Running totals of a source (over all its subscriptions). */
export interface CytonStats {
  frames: number;
  bytes: number;
  connects: number;
  disconnects: number;
  reconnectAttempts: number;
  /** Gap events and samples lost in them (exact, from the counter). */
  gaps: number;
  lost: number;
  /** Samples estimated lost across reconnects and restarts (from the host clock). */
  estimatedLost: number;
  /** Parser rejections: bytes for 'bytes-skipped', packets otherwise. */
  rejects: Record<CytonRejectReason, number>;
  /** hostT − t over the frames, ms (NaN before the first frame). */
  latencyMs: { last: number; min: number; max: number; mean: number };
}

/** A Cyton source: its header, its frames (connecting on subscribe, shared), its events. */
export interface CytonSource {
  readonly info: StreamInfo;
  readonly options: Readonly<ResolvedCytonOptions>;
  /** Opens the port on the first subscription, closes it (after 's') when the last one ends. */
  readonly frames$: Observable<CytonFrame>;
  /** Hot: subscribe before frames$ to see the first `connect`. */
  readonly events$: Observable<CytonEvent>;
  /** A copy of the running totals. */
  stats(): CytonStats;
}

/** The link could not be (re)established: which port, at which stage, and why. */
export class CytonError extends Error {
  override name = 'CytonError';
  constructor(
    readonly path: string,
    readonly stage: 'open' | 'handshake' | 'stream',
    readonly problem: string,
  ) {
    super(`cyton ${path}: ${stage}: ${problem}`);
  }
}

/**
 * Opens an OpenBCI Cyton on a serial port as a stream of µV frames.
 *
 * Like BrainFlow's Cyton board, but push-based, with exact gap counts, per-sample timestamps from
 * the board counter, and reconnection after an unplug.
 *
 * @example
 * const cyton = cytonSource('cyton:/dev/ttyUSB0?daisy=1');
 * cyton.events$.subscribe((e) => e.type === 'gap' && console.warn(`lost ${e.lost} samples`));
 * cyton.frames$.pipe(validateFrames(cyton.info)).subscribe(...);
 * @param source a `cyton:` URI or the options
 * @param overrides options applied over the URI's (timeouts, reconnect, clock)
 * @returns the source; nothing is opened until frames$ is subscribed
 * @throws InvalidOptionError naming the bad option or URI part
 */
export function cytonSource(source: string | CytonSourceOptions, overrides: Partial<CytonSourceOptions> = {}): CytonSource {
  const base = typeof source === 'string' ? parseCytonUri(source) : source;
  const options = Object.freeze(resolveCytonOptions({ ...base, ...overrides } as CytonSourceOptions));
  const channels = options.daisy ? 16 : 8;
  const info: StreamInfo = {
    id: options.id, kind: 'raw', n: channels, rate: options.daisy ? CYTON_PACKET_RATE / 2 : CYTON_PACKET_RATE, units: 'uV',
    labels: Array.from({ length: channels }, (_, i) => `ch${i + 1}`),
  };
  const events = new Subject<CytonEvent>();
  const stats = newStats();
  const frames$ = new Observable<CytonFrame>((subscriber) => {
    const session = new CytonSession(options, info.rate, {
      frame: (f) => subscriber.next(f),
      event: (e) => events.next(e),
      fail: (err) => subscriber.error(err),
    }, stats);
    session.start();
    return () => session.stop();
  }).pipe(share());
  return {
    info, options, frames$, events$: events.asObservable(),
    stats: () => {
      const { latencySum, ...rest } = stats;
      return { ...rest, rejects: { ...stats.rejects }, latencyMs: { ...stats.latencyMs, mean: stats.frames ? latencySum / stats.frames : NaN } };
    },
  };
}

type MutableStats = CytonStats & { latencySum: number };

function newStats(): MutableStats {
  const rejects = Object.fromEntries(CYTON_REJECT_REASONS.map((r) => [r, 0])) as Record<CytonRejectReason, number>;
  return {
    frames: 0, bytes: 0, connects: 0, disconnects: 0, reconnectAttempts: 0, gaps: 0, lost: 0, estimatedLost: 0, rejects,
    latencyMs: { last: NaN, min: NaN, max: NaN, mean: NaN }, latencySum: 0,
  };
}

interface SessionSinks {
  frame(f: CytonFrame): void;
  event(e: CytonEvent): void;
  fail(err: CytonError): void;
}

/** One subscription's connection: the serial link (open, stall, reconnect), the 'v' … "$$$" handshake, parser and clock. */
class CytonSession {
  private readonly link: SerialLink;
  private readonly parser: CytonParser;
  private readonly gaps: GapDetector;
  // Clock: t = t0 + seq / rate; seq = sample.index − base.
  private t0 = 0;
  private base = 0;
  private lastSeq = -1;
  private resumePending = false;

  constructor(
    private readonly o: ResolvedCytonOptions,
    private readonly rate: number,
    private readonly sinks: SessionSinks,
    private readonly stats: MutableStats,
  ) {
    this.parser = new CytonParser({ daisy: o.daisy, gain: o.gain, onSample: (s) => this.onSample(s), onReject: (r) => this.onReject(r) });
    this.gaps = new GapDetector({ modulo: o.daisy ? 128 : 256 });
    const { path, baudRate, stallTimeoutMs, reconnectDelayMs, reconnectMaxDelayMs, reconnectFactor, reconnectAttempts } = o;
    const linkOptions = { path, baudRate, stallTimeoutMs, reconnectDelayMs, reconnectMaxDelayMs, reconnectFactor, reconnectAttempts, farewell: 's' };
    this.link = new SerialLink(linkOptions, {
      handshake: (port) => cytonHandshake(port, o.handshakeTimeoutMs),
      up: (port) => {
        this.parser.reset();
        this.gaps.reset();
        this.resumePending = this.lastSeq >= 0;
        port.write('b');
      },
      data: (chunk) => {
        this.stats.bytes += chunk.length;
        this.parser.push(chunk, this.o.now());
      },
      down: (wasStreaming) => {
        if (wasStreaming) this.parser.flush();
      },
      event: (e) => this.onLinkEvent(e),
      fail: (err) => this.sinks.fail(new CytonError(err.path, err.stage, err.problem)),
    });
  }

  start(): void {
    this.link.start();
  }

  /** Unsubscribed: stop streaming ('s') and close; nothing is reported any more. */
  stop(): void {
    this.link.stop();
  }

  private onLinkEvent(e: SerialLinkEvent): void {
    if (e.type === 'connect') {
      this.stats.connects++;
      this.sinks.event({ type: 'connect', path: e.path, attempt: e.attempt, banner: e.detail, ms: e.ms });
      // The firmware lists the Daisy's ADS1299 in its banner; a mismatch would mis-merge every packet.
      const hasDaisy = /On Daisy/i.test(e.detail);
      if (hasDaisy !== this.o.daisy) {
        const message = `the board's banner ${hasDaisy ? 'lists' : 'does not list'} a Daisy, but the source was opened with daisy=${this.o.daisy ? 1 : 0}: channel values will be wrong`;
        this.sinks.event({ type: 'warning', path: this.o.path, message });
      }
    } else if (e.type === 'disconnect') {
      this.stats.disconnects++;
      this.sinks.event({ type: 'disconnect', path: e.path, reason: e.reason, message: e.message });
    } else {
      this.stats.reconnectAttempts++;
      this.sinks.event({ type: 'reconnect', path: e.path, attempt: e.attempt, delayMs: e.delayMs, error: e.error });
    }
  }

  /** Turns a parsed sample into a frame on the session's time grid. */
  private onSample(s: CytonSample): void {
    const rate = this.rate;
    let seq: number;
    if (this.lastSeq < 0) {
      seq = 0;
      this.t0 = s.stamp;
      this.base = s.index;
    } else if (this.resumePending || s.restart) {
      // The counter started over: estimate the samples missed from the host clock.
      const missed = Math.max(1, Math.round((s.stamp - (this.t0 + this.lastSeq / rate)) * rate));
      seq = this.lastSeq + missed;
      this.base = s.index - seq;
      this.gaps.reset();
      this.stats.estimatedLost += missed - 1;
      this.sinks.event({ type: 'resume', seq, t: this.t0 + seq / rate, estimatedLost: missed - 1, cause: this.resumePending ? 'reconnect' : 'restart' });
      this.resumePending = false;
    } else {
      seq = s.index - this.base;
    }
    const t = this.t0 + seq / rate;
    const { lost } = this.gaps.observe(s.counter);
    if (lost > 0) {
      this.stats.gaps++;
      this.stats.lost += lost;
      this.sinks.event({ type: 'gap', seq, t, lost, gaps: this.stats.gaps, lostTotal: this.stats.lost });
    }
    this.lastSeq = seq;
    const latency = (s.stamp - t) * 1000;
    const st = this.stats;
    st.frames++;
    st.latencySum += latency;
    st.latencyMs.last = latency;
    if (!(latency >= st.latencyMs.min)) st.latencyMs.min = latency;
    if (!(latency <= st.latencyMs.max)) st.latencyMs.max = latency;
    this.sinks.frame({ seq, t, values: Float64Array.from(s.microvolts), hostT: s.stamp, counter: s.counter });
  }

  private onReject(r: CytonReject): void {
    this.stats.rejects[r.reason] += r.count;
    this.sinks.event({ type: 'reject', reason: r.reason, count: r.count, counter: r.counter, message: r.message });
  }
}

/** Sends `v` and resolves with the banner text before `$$$` (the board may still be streaming binary before it). */
function cytonHandshake(port: SerialPort, timeoutMs: number): SerialLinkHandshake {
  let chunks: Buffer[] = [];
  let settle: { resolve(banner: string): void; reject(err: Error): void } | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const finish = (f: (s: NonNullable<typeof settle>) => void) => {
    clearTimeout(timer);
    const s = settle;
    settle = undefined;
    if (s) f(s);
  };
  const fail = (problem: string) => finish((s) => s.reject(new Error(problem)));
  const done = new Promise<string>((resolve, reject) => {
    settle = { resolve, reject };
  });
  timer = setTimeout(() => fail(`no "$$$" within ${timeoutMs} ms after 'v' (is the board on, and is this its dongle?)`), timeoutMs);
  port.write('v', (err) => err && fail(`writing 'v' failed: ${err.message}`));
  return {
    done,
    data(chunk) {
      if (!settle) return;
      chunks.push(chunk);
      let text = Buffer.concat(chunks).toString('latin1');
      if (text.length > 65536) text = text.slice(-65536);
      chunks = [Buffer.from(text, 'latin1')];
      const end = text.indexOf('$$$');
      if (end >= 0) finish((s) => s.resolve(/[\t\n\r\x20-\x7e]*$/.exec(text.slice(0, end))![0].trim()));
    },
    abort: fail,
  };
}
