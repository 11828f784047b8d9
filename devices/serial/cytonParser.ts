/**
 * A streaming parser of the OpenBCI Cyton byte stream: bytes in (any chunking), samples out, every
 * byte it cannot use counted with a reason. Pure: no I/O, no clock (the caller passes a `stamp`
 * with each chunk, e.g. its receipt time), and no allocation per packet — samples are written into
 * one reused object that is valid only during the `onSample` call.
 *
 * Three stages, one pass:
 *
 * ```
 * bytes ─framing─▶ packets ─counter─▶ sequenced packets ─daisy merge─▶ samples
 *        resync on 0xA0…0xCx   drop a packet whose      odd (ch 1–8) + next even (ch 9–16)
 *                              counter fits neither      = one 16-channel sample
 *                              neighbour
 * ```
 *
 * **Framing.** In sync, the packet at the expected position is taken when it starts with 0xA0 and
 * ends with 0xC0–0xC6; anything else (`bad-header`, `bad-footer`) drops sync. Out of sync, a
 * candidate 0xA0 … 0xCx is taken when its counter and its distance from the last framed packet
 * agree (33 bytes per count, ±1 byte, up to 3 counts), or when the packets after it confirm it
 * (0xA0 … 0xCx again 33 bytes on with the counter a step forward, or 66 bytes on with counter + 2).
 * Data full of framing bytes can fake that support, so a candidate resting on it is passed over
 * when a candidate starting inside it (a packet that taking it would lose) has stronger support:
 * its counter and distance fit the last framed packet, or, against a successor only a few counts
 * ahead, its own successor has counter + 1. A candidate whose successor is damaged is kept aside
 * until a later packet vouches for it the same way. Bytes passed over are counted as
 * `bytes-skipped`. So a lost, extra or corrupt byte costs the packet it hit and no other: a stray
 * 0xA0 or 0xCx in the channel data cannot fake a packet unless several framing bytes and a
 * counter step line up by chance (tested for every single-byte deletion and corruption position,
 * also with data full of framing bytes). Known limit: before anything has been framed, hostile
 * data can fake a packet inside packet 0 when packet 1 has an extra byte. Resyncing delays output
 * by at most two packets; the first packet of a stream waits for the second (or for `flush()`).
 *
 * **Counter.** The 8-bit counter should step by 1. A packet that steps otherwise (a gap, a
 * repeat, a step back) is held until the next one: if the next continues it, it was real (a gap,
 * or with a step back a board restart); if the next continues the packet before it, the held one
 * had a corrupt counter and is dropped (`counter-outlier`). A forward step the framing stage has
 * already matched against the byte distance needs no wait. At the end of input a held packet is
 * dropped (nothing can vouch for it). Samples carry `index`, the counter unwrapped (≡ counter
 * mod 256, so gaps survive wrap-around).
 *
 * **Daisy** (16 channels, ../shared/docs/STREAMING.md §2.1): odd counters carry channels 1–8,
 * even ones channels 9–16; a sample is an odd packet merged with the even packet right after it
 * (counter + 1). Its `counter` is even/2 (0–127, as the old OpenBCI Node library numbered them) and
 * its `index` is the unwrapped even index / 2. A packet without its partner (the board's first
 * packet, or one whose partner was lost) is dropped as `daisy-unpaired`.
 */
import { seqDelta } from '../../src/frames/index.js';
import {
  CYTON_ACCEL_SCALE, CYTON_AUX_BYTES, CYTON_CHANNELS, CYTON_DEFAULT_GAIN, CYTON_FOOTER_ACCEL,
  CYTON_HEADER, CYTON_PACKET_BYTES, cytonMicrovoltsPerCount, isCytonFooter, resolveCytonGains,
} from './cytonPacket.js';

/** Why bytes or packets were dropped. */
export type CytonRejectReason =
  /** Bytes outside any packet (noise, text, the remains of a broken packet) passed over while hunting for 0xA0; counted in bytes. */
  | 'bytes-skipped'
  /** In sync, the byte where the next packet should start was not 0xA0: sync lost. */
  | 'bad-header'
  /** In sync, a packet's 33rd byte was not 0xC0–0xC6 (a byte lost, added or corrupted): sync lost. */
  | 'bad-footer'
  /** A framed packet whose counter continued neither the packet before nor the one after it. */
  | 'counter-outlier'
  /** Daisy: a packet whose odd/even partner is missing. */
  | 'daisy-unpaired';

/** Every reject reason. */
export const CYTON_REJECT_REASONS: readonly CytonRejectReason[] = Object.freeze([
  'bytes-skipped', 'bad-header', 'bad-footer', 'counter-outlier', 'daisy-unpaired',
] as const);

/** One rejection (rare, so a fresh object each time). */
export interface CytonReject {
  readonly reason: CytonRejectReason;
  /** Bytes for 'bytes-skipped', packets (1) otherwise. */
  readonly count: number;
  /** The packet's counter byte, when there was a packet. */
  readonly counter: number | undefined;
  /** What happened, in words. */
  readonly message: string;
}

/** One parsed sample; the parser reuses this object and its arrays, copy what you keep. */
export interface CytonSample {
  /** The counter unwrapped: consecutive samples differ by 1, a gap of L samples by L + 1; ≡ counter mod 256 (mod 128 with the Daisy). */
  index: number;
  /** The board's counter: 0–255, or even/2 = 0–127 with the Daisy. */
  counter: number;
  /** True on the first sample after the counter restarted (board reset): `index` then continues but the samples in between are unknown. */
  restart: boolean;
  /** Footer byte (0xC0–0xC6); with the Daisy, that of the odd packet. */
  footer: number;
  /** Raw channel counts (8, or 16 with the Daisy). */
  counts: Int32Array;
  /** Channel values in µV: counts × 4.5 V / gain / (2^23 − 1) × 1e6. */
  microvolts: Float64Array;
  /** Accelerometer X, Y, Z in g when the footer is 0xC0 (Daisy: the odd packet's, else the even's); NaN otherwise. */
  accel: Float64Array;
  /** Raw aux bytes (6, or 12 with the Daisy: odd packet's then even's). */
  aux: Uint8Array;
  /** Board time in ms since power-up for footers 0xC3–0xC6, else NaN. */
  boardTime: number;
  /** The stamp given to the `push` call that framed the (last) packet. */
  stamp: number;
}

/** Running totals of a parser. */
export interface CytonParserStats {
  /** Bytes pushed. */
  bytes: number;
  /** Packets framed (header and footer right). */
  packets: number;
  /** Samples emitted. */
  samples: number;
  /** Rejections per reason: bytes for 'bytes-skipped', packets for the others. */
  rejects: Record<CytonRejectReason, number>;
  /** Bytes waiting for more input (a partial packet, or a candidate awaiting confirmation). */
  buffered: number;
}

/** Options of a `CytonParser`. */
export interface CytonParserOptions {
  /** Required. Called with each sample (a reused object, valid during the call). */
  onSample: (sample: CytonSample) => void;
  /** undefined. Called with each rejection. */
  onReject?: (reject: CytonReject) => void;
  /** false. True for a Cyton with the Daisy (16 channels, odd/even packets merged). */
  daisy?: boolean;
  /** 24. Channel gain (1, 2, 4, 6, 8, 12, 24), or one per channel (8, or 16 with the Daisy). */
  gain?: number | readonly number[];
}

/** The documented defaults of `CytonParserOptions` (onSample has none). */
export const DEFAULT_CYTON_PARSER_OPTIONS: Readonly<Omit<CytonParserOptions, 'onSample'>> = Object.freeze({
  onReject: undefined, daisy: false, gain: CYTON_DEFAULT_GAIN,
});

/** One decoded packet (preallocated slots, copied, never reallocated). */
class PacketSlot {
  counter = 0;
  footer = 0;
  stamp = 0;
  index = 0;
  readonly counts = new Int32Array(CYTON_CHANNELS);
  readonly aux = new Uint8Array(CYTON_AUX_BYTES);

  decode(buf: Uint8Array, p: number, stamp: number): void {
    this.counter = buf[p + 1]!;
    for (let c = 0, o = p + 2; c < CYTON_CHANNELS; c++, o += 3) {
      const v = (buf[o]! << 16) | (buf[o + 1]! << 8) | buf[o + 2]!;
      this.counts[c] = (v << 8) >> 8; // sign-extend 24 → 32 bits
    }
    for (let i = 0; i < CYTON_AUX_BYTES; i++) this.aux[i] = buf[p + 26 + i]!;
    this.footer = buf[p + 32]!;
    this.stamp = stamp;
  }

  copyFrom(o: PacketSlot): void {
    this.counter = o.counter;
    this.footer = o.footer;
    this.stamp = o.stamp;
    this.index = o.index;
    this.counts.set(o.counts);
    this.aux.set(o.aux);
  }
}

const FIRST_BUFFER = 4096;
/** Verdicts of `CytonParser.confirm` on an out-of-sync candidate. */
const REJECT = 0, OK = 1, EXACT = 2, WAIT = 3;
type Verdict = typeof REJECT | typeof OK | typeof EXACT | typeof WAIT;
/** How far (bytes) a tentative packet may lie before the confirmed one that vouches for it: three packets. */
const TENTATIVE_REACH = 3 * CYTON_PACKET_BYTES + 1;

/**
 * Parses a Cyton (or Cyton + Daisy) byte stream into samples. Create one per connection;
 * `reset()` after a reconnect.
 *
 * Like serialport's `ByteLengthParser({ length: 33 })`, but it resynchronises after a lost or
 * corrupt byte instead of staying misaligned forever, checks the counter and merges Daisy packets.
 *
 * @example
 * const parser = new CytonParser({ onSample: (s) => frames.push(Float64Array.from(s.microvolts)), onReject: console.warn });
 * port.on('data', (chunk) => parser.push(chunk, Date.now() / 1000));
 * @see encodeCytonPacket for the layout
 */
export class CytonParser {
  /** 8, or 16 with the Daisy. */
  readonly channels: number;
  /** Per-channel gains, as resolved. */
  readonly gains: readonly number[];
  readonly daisy: boolean;

  private readonly onSample: (s: CytonSample) => void;
  private readonly onReject: ((r: CytonReject) => void) | undefined;
  private readonly scale: Float64Array;
  private buf = new Uint8Array(FIRST_BUFFER);
  private start = 0;
  private end = 0;
  private synced = false;
  private skipped = 0; // the current run of skipped bytes, reported when it ends
  private stamp = 0;
  // An unconfirmed candidate (its successor was damaged), kept in case a later packet vouches for it.
  private readonly tentative = new PacketSlot();
  private tentativeAt = -1; // absolute stream offset, −1: none
  private lastFramedAt = -1; // absolute offset of the last framed packet, −1: none
  private lastFramedCounter = 0;
  // Counter stage.
  private incoming = new PacketSlot();
  private held = new PacketSlot();
  private hasHeld = false;
  private trusted = false; // the incoming packet's counter already fits the packets after it (framing checked)
  private lastCounter = -1; // −1: nothing accepted since construction / reset()
  private lastIndex = 0;
  // Daisy stage.
  private readonly lower = new PacketSlot();
  private hasLower = false;
  private restartPending = false;
  private readonly sample: CytonSample;
  private readonly totals: Omit<CytonParserStats, 'buffered'>;

  /** @param options see `CytonParserOptions`; checked here (InvalidOptionError). */
  constructor(options: CytonParserOptions) {
    if (typeof options?.onSample !== 'function') throw new TypeError('CytonParser: option onSample must be a function');
    this.daisy = options.daisy ?? false;
    this.channels = this.daisy ? 2 * CYTON_CHANNELS : CYTON_CHANNELS;
    this.gains = resolveCytonGains('CytonParser', options.gain ?? CYTON_DEFAULT_GAIN, this.channels);
    this.scale = Float64Array.from(this.gains, cytonMicrovoltsPerCount);
    this.onSample = options.onSample;
    this.onReject = options.onReject;
    this.sample = {
      index: 0, counter: 0, restart: false, footer: 0,
      counts: new Int32Array(this.channels), microvolts: new Float64Array(this.channels),
      accel: new Float64Array(3), aux: new Uint8Array(this.daisy ? 2 * CYTON_AUX_BYTES : CYTON_AUX_BYTES),
      boardTime: NaN, stamp: 0,
    };
    this.totals = { bytes: 0, packets: 0, samples: 0, rejects: { 'bytes-skipped': 0, 'bad-header': 0, 'bad-footer': 0, 'counter-outlier': 0, 'daisy-unpaired': 0 } };
  }

  /**
   * Feeds a chunk; calls `onSample` / `onReject` synchronously for what it completes. Never throws
   * on bad bytes (only a throwing callback propagates).
   * @param chunk any number of bytes (copied; the caller may reuse it)
   * @param stamp passed on as `sample.stamp` (e.g. the host receipt time in seconds); default 0
   */
  push(chunk: Uint8Array, stamp = 0): void {
    const n = chunk.length;
    this.totals.bytes += n;
    this.stamp = stamp;
    if (this.end + n > this.buf.length) this.makeRoom(n);
    this.buf.set(chunk, this.end);
    this.end += n;
    this.frame(false);
  }

  /**
   * End of input: frames what is left without waiting for confirmation, emits a held packet,
   * reports a lone Daisy packet and leftover bytes. The counter state is kept (call `reset()` for
   * a new stream).
   */
  flush(): void {
    this.frame(true);
    this.skipped += this.end - this.start;
    this.start = this.end = 0;
    this.synced = false;
    this.tentativeAt = -1;
    this.reportSkipped();
    if (this.hasHeld) {
      // A held packet broke the count and nothing after it can say whether it was right: only a
      // lone first packet is taken.
      this.hasHeld = false;
      if (this.lastCounter < 0) this.accept(this.held, this.held.counter, false);
      else this.rejectPacket('counter-outlier', this.held.counter, `counter ${this.held.counter} after ${this.lastCounter}, unconfirmed at the end of the stream`);
    }
    if (this.hasLower) {
      this.hasLower = false;
      this.rejectPacket('daisy-unpaired', this.lower.counter, `odd packet ${this.lower.counter} at the end of the stream has no even partner`);
    }
  }

  /** Forgets everything buffered and the counter history (for a new connection); totals are kept. */
  reset(): void {
    this.start = this.end = 0;
    this.synced = false;
    this.skipped = 0;
    this.tentativeAt = -1;
    this.lastFramedAt = -1;
    this.hasHeld = false;
    this.hasLower = false;
    this.lastCounter = -1;
    this.restartPending = false;
  }

  /** A copy of the running totals. */
  stats(): CytonParserStats {
    return { ...this.totals, rejects: { ...this.totals.rejects }, buffered: this.end - this.start };
  }

  /** Compacts the buffer, growing it (rarely: only for chunks larger than it) when needed. */
  private makeRoom(n: number): void {
    const live = this.end - this.start;
    if (live + n > this.buf.length) {
      let size = this.buf.length;
      while (size < live + n) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.buf.subarray(this.start, this.end));
      this.buf = next;
    } else {
      this.buf.copyWithin(0, this.start, this.end);
    }
    this.start = 0;
    this.end = live;
  }

  /** The framing loop (see the module comment); `final`: end of input, nothing more will come. */
  private frame(final: boolean): void {
    const buf = this.buf;
    const end = this.end;
    let p = this.start;
    for (;;) {
      if (this.synced) {
        if (end - p < CYTON_PACKET_BYTES) break;
        if (buf[p] !== CYTON_HEADER) {
          this.synced = false;
          this.rejectPacket('bad-header', undefined, `expected a packet header 0xA0, got 0x${hex(buf[p]!)}: resynchronising`);
          continue;
        }
        if (!isCytonFooter(buf[p + 32]!)) {
          this.synced = false;
          this.rejectPacket('bad-footer', buf[p + 1]!, `packet ends with 0x${hex(buf[p + 32]!)}, not a footer 0xC0–0xC6: resynchronising`);
          p++;
          this.skipped++;
          continue;
        }
        this.packet(buf, p);
        p += CYTON_PACKET_BYTES;
        continue;
      }
      while (p < end && buf[p] !== CYTON_HEADER) {
        p++;
        this.skipped++;
      }
      if (end - p < CYTON_PACKET_BYTES) break;
      const verdict = isCytonFooter(buf[p + 32]!) ? this.confirm(buf, p, end, final) : REJECT;
      if (verdict === WAIT) break;
      if (verdict === REJECT) {
        p++;
        this.skipped++;
        continue;
      }
      if (this.tentativeAt >= 0) this.settleTentative(this.totals.bytes - (end - p), buf[p + 1]!);
      this.synced = true;
      this.trusted = verdict === EXACT;
      this.packet(buf, p);
      this.trusted = false;
      p += CYTON_PACKET_BYTES;
    }
    this.start = p;
    if (p === end) this.start = this.end = 0;
  }

  /**
   * Out of sync: is the candidate at `p` (0xA0 … 0xCx) a packet? EXACT when its counter and
   * its distance from the last framed packet agree (33 bytes per count, ±1 for a lost or extra
   * byte, up to 3 counts). Otherwise the packets after it decide: EXACT when the next one lines
   * up with counter + 1, or the one after that with counter + 2 (the next was damaged); OK when
   * the next lines up a few counts ahead (packets were lost right after it); WAIT for more bytes;
   * REJECT otherwise, keeping the candidate as the tentative packet (see settleTentative). At
   * the end of input a candidate that ends exactly there stands on its own.
   */
  private confirm(buf: Uint8Array, p: number, end: number, final: boolean): Verdict {
    const have = end - p;
    const c0 = buf[p + 1]!;
    const at = this.totals.bytes - have;
    if (this.lastFramedAt >= 0 && fits(at - this.lastFramedAt, (c0 - this.lastFramedCounter) & 0xff)) return EXACT;
    if (have < 2 * CYTON_PACKET_BYTES) return !final ? WAIT : have === CYTON_PACKET_BYTES ? OK : REJECT;
    const lined1 = buf[p + 33] === CYTON_HEADER && isCytonFooter(buf[p + 65]!);
    const step1 = (buf[p + 34]! - c0) & 0xff;
    // Evidence from the packets after a candidate can be faked by data full of framing bytes, so a
    // packet starting inside it (where taking it would lose that packet) with stronger evidence
    // wins and the candidate is passed over: one that fits the last framed packet beats a
    // successor with counter + 1 or + 2, and either beats a successor a few counts ahead.
    if (lined1 && step1 === 1) return this.strongerWithin(buf, p, end, false) ? REJECT : EXACT;
    if (have < 3 * CYTON_PACKET_BYTES && !final) return WAIT;
    if (have >= 3 * CYTON_PACKET_BYTES && buf[p + 66] === CYTON_HEADER && isCytonFooter(buf[p + 98]!) && ((buf[p + 67]! - c0) & 0xff) === 2) {
      return this.strongerWithin(buf, p, end, false) ? REJECT : EXACT;
    }
    if (lined1 && step1 >= 1 && step1 <= 128) return this.strongerWithin(buf, p, end, true) ? REJECT : OK;
    if (this.tentativeAt < 0 || at - this.tentativeAt > TENTATIVE_REACH) {
      this.tentative.decode(buf, p, this.stamp);
      this.tentativeAt = at;
    }
    return REJECT;
  }

  /**
   * True when a candidate starting inside the one at `p` (p + 1 … p + 32, where taking `p` would
   * lose it) has stronger evidence: its counter and distance fit the last framed packet, or, when
   * `p` only has a successor a few counts ahead (`weak`), the next packet follows it with counter
   * + 1. Needs no bytes beyond those `confirm` already had; runs only out of sync, on a candidate
   * 0xA0 … 0xCx, and allocates nothing.
   */
  private strongerWithin(buf: Uint8Array, p: number, end: number, weak: boolean): boolean {
    if (!weak && this.lastFramedAt < 0) return false;
    const last = Math.min(p + CYTON_PACKET_BYTES, end - CYTON_PACKET_BYTES + 1);
    const base = this.totals.bytes - end; // absolute offset of buf[0]
    for (let q = p + 1; q < last; q++) {
      if (buf[q] !== CYTON_HEADER || !isCytonFooter(buf[q + 32]!)) continue;
      const c = buf[q + 1]!;
      if (this.lastFramedAt >= 0 && fits(base + q - this.lastFramedAt, (c - this.lastFramedCounter) & 0xff)) return true;
      if (weak && q + 2 * CYTON_PACKET_BYTES <= end && buf[q + 33] === CYTON_HEADER && isCytonFooter(buf[q + 65]!) && ((buf[q + 34]! - c) & 0xff) === 1) return true;
    }
    return false;
  }

  /**
   * A confirmed packet (counter `counter`) starts at absolute offset `at`: take the tentative one
   * too if it ends before and its counter and distance fit (33 bytes per counter step, ±1 byte).
   */
  private settleTentative(at: number, counter: number): void {
    const dist = at - this.tentativeAt;
    const step = (counter - this.tentative.counter) & 0xff;
    const from = this.tentativeAt;
    this.tentativeAt = -1;
    if (!fits(dist, step)) return;
    this.skipped -= CYTON_PACKET_BYTES; // its bytes were counted as skipped while it was unconfirmed
    this.reportSkipped();
    this.totals.packets++;
    this.lastFramedAt = from;
    this.lastFramedCounter = this.tentative.counter;
    this.incoming.copyFrom(this.tentative);
    this.trusted = true; // its counter fits the confirmed packet's, as a held packet's would fit its successor
    this.sequence();
    this.trusted = false;
  }

  /** A framed packet at `p`: decode it and run the counter stage. */
  private packet(buf: Uint8Array, p: number): void {
    this.reportSkipped();
    this.totals.packets++;
    this.lastFramedAt = this.totals.bytes - (this.end - p);
    this.lastFramedCounter = buf[p + 1]!;
    this.incoming.decode(buf, p, this.stamp);
    this.sequence();
  }

  /** The counter stage on `this.incoming` (see the module comment). */
  private sequence(): void {
    const x = this.incoming.counter;
    if (!this.hasHeld) {
      if (this.lastCounter >= 0 && ((x - this.lastCounter) & 0xff) === 1) {
        this.accept(this.incoming, this.lastIndex + 1, false);
        return;
      }
      this.swapHeld();
      // A trusted counter needs no successor to vouch for it, unless it steps back (a repeat or a
      // restart: only the successor tells them apart).
      if (this.trusted && (this.lastCounter < 0 || seqDelta(this.lastCounter, x, 256) > 0)) {
        this.hasHeld = false;
        this.acceptHeld();
      }
      return;
    }
    const h = this.held.counter;
    const fromLast = this.lastCounter < 0 ? 0 : seqDelta(this.lastCounter, x, 256);
    // Checked first so that a repeated packet (10 11 11 12) is dropped, not read as a restart.
    if (fromLast !== 1 && ((x - h) & 0xff) === 1) {
      this.hasHeld = false;
      this.acceptHeld();
      this.accept(this.incoming, this.lastIndex + 1, false);
      return;
    }
    if (fromLast >= 1) {
      this.hasHeld = false;
      this.rejectPacket('counter-outlier', h, `counter ${h} fits neither ${this.lastCounter} before it nor ${x} after it`);
      this.accept(this.incoming, this.lastIndex + fromLast, false);
      return;
    }
    // The next packet fits neither: settle the held one on its own, then look at the next afresh.
    this.hasHeld = false;
    const d = this.lastCounter < 0 ? 0 : seqDelta(this.lastCounter, h, 256);
    if (d > 0) this.accept(this.held, this.lastIndex + d, false);
    else this.rejectPacket('counter-outlier', h, `counter ${h} after ${this.lastCounter < 0 ? 'the start' : this.lastCounter}, and ${x} does not continue it`);
    this.sequence();
  }

  /** Accepts the held packet, now confirmed by its successor: first, gap or restart. */
  private acceptHeld(): void {
    const h = this.held.counter;
    if (this.lastCounter < 0) {
      this.accept(this.held, h, false);
      return;
    }
    const d = seqDelta(this.lastCounter, h, 256);
    if (d > 0) {
      this.accept(this.held, this.lastIndex + d, false);
      return;
    }
    // A step back (or a repeat) that the next packet continues: the board restarted its counter.
    // Keep index ≡ counter (mod 256) and strictly increasing.
    this.accept(this.held, this.lastIndex + 1 + ((h - this.lastIndex - 1) & 0xff), true);
  }

  private swapHeld(): void {
    const t = this.held;
    this.held = this.incoming;
    this.incoming = t;
    this.hasHeld = true;
  }

  /** A packet passed the counter stage with unwrapped `index`. */
  private accept(slot: PacketSlot, index: number, restart: boolean): void {
    this.lastCounter = slot.counter;
    this.lastIndex = index;
    if (!this.daisy) {
      this.emit(slot, undefined, index, slot.counter, restart);
      return;
    }
    if (restart) {
      this.restartPending = true;
      if (this.hasLower) {
        this.hasLower = false;
        this.rejectPacket('daisy-unpaired', this.lower.counter, `odd packet ${this.lower.counter} lost its partner to a counter restart`);
      }
    }
    if (slot.counter & 1) {
      if (this.hasLower) this.rejectPacket('daisy-unpaired', this.lower.counter, `odd packet ${this.lower.counter} is followed by odd packet ${slot.counter}, not by its even partner`);
      this.lower.copyFrom(slot);
      this.lower.index = index;
      this.hasLower = true;
      return;
    }
    if (this.hasLower && this.lower.index + 1 === index) {
      this.hasLower = false;
      const r = this.restartPending;
      this.restartPending = false;
      this.emit(this.lower, slot, index / 2, slot.counter >> 1, r);
      return;
    }
    if (this.hasLower) {
      this.hasLower = false;
      this.rejectPacket('daisy-unpaired', this.lower.counter, `odd packet ${this.lower.counter} is not followed by its even partner ${(this.lower.counter + 1) & 0xff}`);
    }
    this.rejectPacket('daisy-unpaired', slot.counter, `even packet ${slot.counter} has no odd partner ${(slot.counter - 1) & 0xff} before it`);
  }

  /** Fills the reused sample from one packet (8 channels) or an odd/even pair (Daisy) and emits it. */
  private emit(a: PacketSlot, b: PacketSlot | undefined, index: number, counter: number, restart: boolean): void {
    const s = this.sample;
    const scale = this.scale;
    s.index = index;
    s.counter = counter;
    s.restart = restart;
    s.footer = a.footer;
    s.stamp = (b ?? a).stamp;
    for (let c = 0; c < CYTON_CHANNELS; c++) {
      const v = a.counts[c]!;
      s.counts[c] = v;
      s.microvolts[c] = v * scale[c]!;
    }
    s.aux.set(a.aux);
    if (b) {
      for (let c = 0; c < CYTON_CHANNELS; c++) {
        const v = b.counts[c]!;
        s.counts[c + CYTON_CHANNELS] = v;
        s.microvolts[c + CYTON_CHANNELS] = v * scale[c + CYTON_CHANNELS]!;
      }
      s.aux.set(b.aux, CYTON_AUX_BYTES);
    }
    const accelFrom = a.footer === CYTON_FOOTER_ACCEL ? a : b && b.footer === CYTON_FOOTER_ACCEL ? b : undefined;
    if (accelFrom) {
      const x = accelFrom.aux;
      for (let i = 0; i < 3; i++) s.accel[i] = (((x[2 * i]! << 24) >> 16) | x[2 * i + 1]!) * CYTON_ACCEL_SCALE;
    } else {
      s.accel.fill(NaN);
    }
    if (a.footer >= 0xc3) {
      const x = a.aux;
      s.boardTime = x[2]! * 16777216 + ((x[3]! << 16) | (x[4]! << 8) | x[5]!);
    } else {
      s.boardTime = NaN;
    }
    this.totals.samples++;
    this.onSample(s);
  }

  private reportSkipped(): void {
    if (this.skipped === 0) return;
    const n = this.skipped;
    this.skipped = 0;
    this.totals.rejects['bytes-skipped'] += n;
    this.onReject?.({ reason: 'bytes-skipped', count: n, counter: undefined, message: `skipped ${n} byte${n === 1 ? '' : 's'} outside any packet` });
  }

  private rejectPacket(reason: CytonRejectReason, counter: number | undefined, message: string): void {
    this.totals.rejects[reason]++;
    this.onReject?.({ reason, count: 1, counter, message: counter === undefined ? message : `packet ${counter}: ${message}` });
  }
}

/** True when `dist` bytes fit a counter step of `step` (1 … 3): 33 bytes per count, ±1 for one lost or extra byte. */
function fits(dist: number, step: number): boolean {
  return step >= 1 && step <= 3 && dist >= step * CYTON_PACKET_BYTES - 1 && dist <= step * CYTON_PACKET_BYTES + 1;
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0').toUpperCase();
}
