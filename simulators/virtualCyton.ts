/**
 * A virtual OpenBCI Cyton that speaks the real wire protocol on a serial path — one end of a socat
 * pty pair, the other end given to `cytonSource` — so the production serial path (serialport, the
 * parser, reconnects) runs end to end without hardware (../shared/docs/STREAMING.md §2.1, §7).
 *
 * ```
 * socat -d -d pty,raw,echo=0,link=/tmp/cyton-board pty,raw,echo=0,link=/tmp/cyton-host
 * VirtualCyton on /tmp/cyton-board  ◀── 'v' 'b' 's' ──  cytonSource('cyton:/tmp/cyton-host')
 *                                   ── banner…$$$, 33-byte packets ──▶
 * ```
 *
 * Protocol: `v` (soft reset) stops streaming, restarts the sample count and answers
 * "OpenBCI V3 8-16 channel … $$$"; `b` starts streaming, `s` stops it; `V` answers the firmware
 * version. Packets go out in bursts every `tickMs` (like the FTDI latency timer) at `rate` packets
 * per second, drift-corrected. With the Daisy the board still sends 250 packets a second: odd
 * counters carry channels 1–8, even ones 9–16, and the first packet after `b` (counter 0, even)
 * is the invalid one real boards send too.
 *
 * Signal (deterministic, `VirtualCytonSignal`): channel c at sample j is
 * round(A_c · sin(2π f_c j / 250 + φ_c)) counts with A_c = 2^(9 + 2·(c mod 8)) − 1 (511 counts on
 * channel 1 up to the full 24-bit scale on channel 8, both signs), f_c and φ_c drawn from the seed;
 * sample j of the 8-channel board is packet j, of the Daisy the pair (2j + 1, 2j + 2). Accel:
 * X = round(2000 sin(2π · 0.5 Hz · j / 250)), Y = −1000, Z = 8000 counts (1 g), footer 0xC0.
 *
 * Faults (all counted in `stats()`), numbered by packet since start (n = 1, 2, …): every
 * `dropEvery`-th packet is not sent (a radio loss: the counter skips), every `corruptEvery`-th has
 * one byte XOR-ed with a non-zero value, every `deleteEvery`-th loses one byte; the byte offsets
 * cycle through `faultOffsets`. `disconnect()` closes the port (a powered-off board); when the
 * port disappears (socat killed) the board keeps sampling and reopens the path every `reopenMs`.
 */
import type { SerialPort } from 'serialport';
import { VirtualPort } from './virtualPort.js';
import { CYTON_PACKET_BYTES, CYTON_PACKET_RATE, encodeCytonPacket } from '../devices/serial/cytonPacket.js';
import { InvalidOptionError } from '../src/errors.js';
import { Rng } from '../src/linalg/random.js';

/** Options of a `VirtualCyton`. */
export interface VirtualCytonOptions {
  /** Required. The serial path to serve (one end of a pty pair). */
  path: string;
  /** false. True: a Cyton with the Daisy (16 channels, odd/even packets). */
  daisy?: boolean;
  /** 250. Packets per second while streaming (the real board sends 250); more for fast tests. */
  rate?: number;
  /** 0. Seed of the signal's frequencies and phases and of the fault offsets. */
  seed?: number;
  /** 10 ms. Interval between bursts of packets. */
  tickMs?: number;
  /** 0 (off). Every N-th packet is not sent (its counter is skipped). */
  dropEvery?: number;
  /** 0 (off). Every N-th packet has one byte corrupted. */
  corruptEvery?: number;
  /** 0 (off). Every N-th packet loses one byte. */
  deleteEvery?: number;
  /** A seeded permutation of 0…32. Byte offsets hit by corruptions and deletions, in turn. */
  faultOffsets?: readonly number[];
  /** 100 ms. How often to retry opening the path after it disappeared. */
  reopenMs?: number;
  /** 115200. Baud rate (a pty ignores it). */
  baudRate?: number;
}

/** One injected fault: which packet (run since the last `v`, sample count k in it, counter) and where. */
export interface VirtualCytonFault {
  readonly run: number;
  readonly k: number;
  readonly counter: number;
  /** Byte offset in the packet (0–32); −1 for a dropped packet. */
  readonly offset: number;
}

/** What a virtual board did. */
export interface VirtualCytonStats {
  /** Packets written (faulty ones included, dropped ones not). */
  sent: number;
  /** Packets generated while the port was closed or the reader was not reading (lost, not faults). */
  unsent: number;
  dropped: VirtualCytonFault[];
  corrupted: VirtualCytonFault[];
  deleted: VirtualCytonFault[];
  /** Commands received, in order (printable ones). */
  commands: string;
  /** Times the port was opened. */
  opens: number;
  /** The current run: 1, plus one for each `v` after packets were sent (faults say which run they hit). */
  run: number;
  streaming: boolean;
}

/** The documented defaults of `VirtualCytonOptions`. */
export const DEFAULT_VIRTUAL_CYTON_OPTIONS: Readonly<Required<Omit<VirtualCytonOptions, 'path' | 'faultOffsets'>>> = Object.freeze({
  daisy: false, rate: CYTON_PACKET_RATE, seed: 0, tickMs: 10, dropEvery: 0, corruptEvery: 0, deleteEvery: 0, reopenMs: 100, baudRate: 115200,
});

/** The board's reply to `v` (ends with the `$$$` every text reply ends with). */
export function virtualCytonBanner(daisy: boolean): string {
  return 'OpenBCI V3 8-16 channel\nOn Board ADS1299 Device ID: 0x3E\n' + (daisy ? 'On Daisy ADS1299 Device ID: 0x3E\n' : '') + 'LIS3DH Device ID: 0x33\nFirmware: v3.1.2\n$$$';
}

/** The deterministic signal of a virtual board: counts per channel and sample, so tests can check exact µV. */
export class VirtualCytonSignal {
  private readonly amp: Float64Array;
  private readonly omega: Float64Array;
  private readonly phase: Float64Array;

  /** @param seed the board's seed; @param channels 8 or 16 */
  constructor(seed: number, readonly channels: number) {
    const rng = new Rng(seed);
    this.amp = new Float64Array(channels);
    this.omega = new Float64Array(channels);
    this.phase = new Float64Array(channels);
    for (let c = 0; c < channels; c++) {
      this.amp[c] = 2 ** (9 + 2 * (c % 8)) - 1;
      this.omega[c] = (2 * Math.PI * (1 + 4 * (c % 8) + 3 * rng.uniform())) / CYTON_PACKET_RATE;
      this.phase[c] = 2 * Math.PI * rng.uniform();
    }
  }

  /** Channel `c` (0-based) at sample `j`, in counts (an integer in [−2^23 + 1, 2^23 − 1]). */
  counts(c: number, j: number): number {
    return Math.round(this.amp[c]! * Math.sin(this.omega[c]! * j + this.phase[c]!));
  }

  /** Accelerometer axis 0–2 at sample `j`, in counts. */
  accel(axis: number, j: number): number {
    return axis === 0 ? Math.round(2000 * Math.sin((2 * Math.PI * 0.5 * j) / CYTON_PACKET_RATE)) : axis === 1 ? -1000 : 8000;
  }
}

/**
 * A virtual Cyton serving a serial path. Create with `VirtualCyton.start(options)`; `close()` when done.
 *
 * @example
 * const board = await VirtualCyton.start({ path: '/tmp/cyton-board', rate: 2000, dropEvery: 50 });
 * // … cytonSource('cyton:/tmp/cyton-host') …
 * board.stats().dropped; // which packets were never sent
 * await board.close();
 */
export class VirtualCyton {
  readonly options: Readonly<Required<VirtualCytonOptions>>;
  readonly signal: VirtualCytonSignal;
  private readonly link: VirtualPort;
  private ticker: ReturnType<typeof setInterval> | undefined;
  private startedAt = 0;
  private sentInRun = 0; // packets due since 'b' (drift correction)
  private k = 0; // packets since the last 'v' (the counter is k mod 256)
  private n = 0; // packets since start (numbers the faults)
  private faults = 0;
  private readonly counts = new Float64Array(8);
  private readonly accel = new Float64Array(3);
  private readonly s: VirtualCytonStats = { sent: 0, unsent: 0, dropped: [], corrupted: [], deleted: [], commands: '', opens: 0, run: 1, streaming: false };

  private constructor(options: VirtualCytonOptions) {
    this.options = Object.freeze(resolveOptions(options));
    this.signal = new VirtualCytonSignal(this.options.seed, this.options.daisy ? 16 : 8);
    this.link = new VirtualPort(this.options, (port) => {
      this.s.opens++;
      port.on('data', (chunk: Buffer) => this.command(chunk));
    });
  }

  /** Opens `options.path` and starts answering commands; rejects if the path cannot be opened. */
  static async start(options: VirtualCytonOptions): Promise<VirtualCyton> {
    const board = new VirtualCyton(options);
    await board.link.start();
    board.ticker = setInterval(() => board.tick(), board.options.tickMs);
    return board;
  }

  /** A copy of what the board did. */
  stats(): VirtualCytonStats {
    const s = this.s;
    return { ...s, dropped: [...s.dropped], corrupted: [...s.corrupted], deleted: [...s.deleted] };
  }

  /**
   * Closes the port as a powered-off board would go silent (it keeps sampling), and reopens it
   * after `ms` (undefined: stays closed until `reconnect()`).
   */
  async disconnect(ms?: number): Promise<void> {
    await this.link.disconnect(ms);
  }

  /** Reopens the port after `disconnect()` (retrying every reopenMs until the path is there). */
  async reconnect(): Promise<void> {
    await this.link.reconnect();
  }

  /** Stops everything and closes the port. */
  async close(): Promise<void> {
    clearInterval(this.ticker);
    await this.link.close();
  }

  /** The open port, or undefined while disconnected. */
  private get port(): SerialPort | undefined {
    return this.link.port;
  }

  private command(chunk: Buffer): void {
    for (const byte of chunk) {
      const ch = String.fromCharCode(byte);
      if (byte >= 0x20 && byte < 0x7f) this.s.commands += ch;
      if (ch === 'v') {
        this.s.streaming = false;
        if (this.k > 0) this.s.run++; // a new run once packets of the old one went out
        this.k = 0;
        this.write(Buffer.from(virtualCytonBanner(this.options.daisy), 'latin1'));
      } else if (ch === 'b') {
        if (!this.s.streaming) {
          this.s.streaming = true;
          this.startedAt = performance.now();
          this.sentInRun = 0;
        }
      } else if (ch === 's') {
        this.s.streaming = false;
      } else if (ch === 'V') {
        this.write(Buffer.from('v3.1.2$$$', 'latin1'));
      }
    }
  }

  /** Sends the packets due since the last tick, with the faults. */
  private tick(): void {
    if (!this.s.streaming) return;
    const o = this.options;
    const due = Math.min(Math.floor(((performance.now() - this.startedAt) * o.rate) / 1000) - this.sentInRun, Math.ceil(o.rate));
    if (due <= 0) return;
    this.sentInRun += due;
    const out = Buffer.alloc(due * CYTON_PACKET_BYTES);
    let len = 0;
    for (let i = 0; i < due; i++) {
      const k = this.k++;
      const n = ++this.n;
      const counter = k & 0xff;
      const fault = { run: this.s.run, k, counter };
      if (o.dropEvery > 0 && n % o.dropEvery === 0) {
        this.s.dropped.push({ ...fault, offset: -1 });
        continue;
      }
      this.fill(k);
      encodeCytonPacket(out, len, counter, this.counts, this.accel);
      if (o.corruptEvery > 0 && n % o.corruptEvery === 0) {
        const offset = this.nextOffset();
        out[len + offset] = out[len + offset]! ^ (1 + ((n * 37) % 255)); // a non-zero mask
        this.s.corrupted.push({ ...fault, offset });
      }
      if (o.deleteEvery > 0 && n % o.deleteEvery === 0) {
        const offset = this.nextOffset();
        out.copyWithin(len + offset, len + offset + 1, len + CYTON_PACKET_BYTES);
        this.s.deleted.push({ ...fault, offset });
        len--;
      }
      len += CYTON_PACKET_BYTES;
    }
    this.write(out.subarray(0, len), due);
  }

  /** Counts (and accel) of packet k: 8-channel sample k, or half of a Daisy pair. */
  private fill(k: number): void {
    const sig = this.signal;
    let j = k;
    let first = 0;
    if (this.options.daisy) {
      j = k % 2 === 1 ? (k - 1) / 2 : k / 2 - 1; // odd k: channels 1–8 of pair j; even: 9–16
      first = k % 2 === 1 ? 0 : 8;
    }
    for (let c = 0; c < 8; c++) this.counts[c] = sig.counts(first + c, j);
    for (let a = 0; a < 3; a++) this.accel[a] = sig.accel(a, j);
  }

  private nextOffset(): number {
    const offsets = this.options.faultOffsets;
    return offsets[this.faults++ % offsets.length]!;
  }

  /** Writes unless nobody can take it (port closed, or the reader stopped reading: the pty is full). */
  private write(bytes: Buffer, packets = 0): void {
    const port = this.port;
    if (!port?.isOpen || port.writableLength > 65536) {
      this.s.unsent += packets;
      return;
    }
    this.s.sent += packets;
    port.write(bytes);
  }
}

function resolveOptions(options: VirtualCytonOptions): Required<VirtualCytonOptions> {
  const owner = 'VirtualCyton';
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError(owner, 'options', 'an object', options);
  const o = { ...DEFAULT_VIRTUAL_CYTON_OPTIONS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as Required<Omit<VirtualCytonOptions, 'faultOffsets'>> & { faultOffsets?: readonly number[] };
  if (typeof o.path !== 'string' || o.path === '') throw new InvalidOptionError(owner, 'path', 'a serial path', o.path);
  if (typeof o.daisy !== 'boolean') throw new InvalidOptionError(owner, 'daisy', 'true or false', o.daisy);
  if (!(o.rate > 0 && o.rate <= 100_000)) throw new InvalidOptionError(owner, 'rate', 'packets per second in (0, 100000]', o.rate);
  if (!Number.isInteger(o.seed)) throw new InvalidOptionError(owner, 'seed', 'an integer', o.seed);
  if (!(o.tickMs >= 1 && o.tickMs <= 1000)) throw new InvalidOptionError(owner, 'tickMs', 'ms in [1, 1000]', o.tickMs);
  if (!(o.reopenMs >= 1)) throw new InvalidOptionError(owner, 'reopenMs', 'ms ≥ 1', o.reopenMs);
  for (const key of ['dropEvery', 'corruptEvery', 'deleteEvery'] as const) {
    if (!Number.isInteger(o[key]) || o[key] < 0) throw new InvalidOptionError(owner, key, 'an integer ≥ 0 (0 = off)', o[key]);
  }
  let offsets = o.faultOffsets;
  if (offsets === undefined) {
    const rng = new Rng(o.seed + 1);
    const perm = Array.from({ length: CYTON_PACKET_BYTES }, (_, i) => i);
    for (let i = perm.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [perm[i], perm[j]] = [perm[j]!, perm[i]!];
    }
    offsets = perm;
  } else if (!Array.isArray(offsets) || offsets.length === 0 || offsets.some((x) => !Number.isInteger(x) || x < 0 || x >= CYTON_PACKET_BYTES)) {
    throw new InvalidOptionError(owner, 'faultOffsets', 'a non-empty array of byte offsets 0…32', offsets);
  }
  return { ...o, faultOffsets: Object.freeze([...offsets]) };
}
