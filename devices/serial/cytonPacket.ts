/**
 * The OpenBCI Cyton 33-byte binary packet (../shared/docs/STREAMING.md §2.1): constants, scale
 * factors and an encoder (for the virtual board and for tests; the decoder is `CytonParser`).
 *
 * ```
 * byte  0     1        2 … 25                     26 … 31        32
 *       0xA0  counter  8 × int24 big-endian       6 aux bytes    footer 0xC0–0xC6
 *             (0–255)  two's complement counts    (0xC0: accel X, Y, Z as int16 big-endian)
 * ```
 *
 * Footers: 0xC0 accel; 0xC1 raw aux; 0xC2 user-defined; 0xC3 / 0xC4 time stamp set / time
 * stamped, with accel; 0xC5 / 0xC6 the same with raw aux. In 0xC3–0xC6 aux bytes 2–5 hold the
 * board time in ms since power-up (uint32 big-endian).
 *
 * Scale: one count is 4.5 V / gain / (2^23 − 1) (0.02235 µV at the default gain 24); one
 * accelerometer count is 0.002 / 2^4 g.
 */
import { InvalidOptionError } from '../../src/errors.js';

/** Bytes per packet. */
export const CYTON_PACKET_BYTES = 33;
/** First byte of every packet. */
export const CYTON_HEADER = 0xa0;
/** Lowest footer byte (accel in aux). */
export const CYTON_FOOTER_MIN = 0xc0;
/** Highest footer byte the firmware sends (time-stamped with raw aux). */
export const CYTON_FOOTER_MAX = 0xc6;
/** Footer of the default board mode: the aux bytes carry the accelerometer. */
export const CYTON_FOOTER_ACCEL = 0xc0;
/** EEG channels per packet (one ADS1299). */
export const CYTON_CHANNELS = 8;
/** Aux bytes per packet. */
export const CYTON_AUX_BYTES = 6;
/** Packets per second the board sends over the dongle. */
export const CYTON_PACKET_RATE = 250;
/** The ADS1299 gains the `x` command can set (code 0–6); 24 is the power-up default. */
export const CYTON_GAINS: readonly number[] = Object.freeze([1, 2, 4, 6, 8, 12, 24]);
/** The default channel gain. */
export const CYTON_DEFAULT_GAIN = 24;
/** g per accelerometer count (±4 g range, 2 mg per 16 counts). */
export const CYTON_ACCEL_SCALE = 0.002 / 16;

const INT24_MAX = 8388607; // 2^23 − 1
const INT24_MIN = -8388608;

/** µV per count at `gain`: 4.5 V / gain / (2^23 − 1) × 1e6. */
export function cytonMicrovoltsPerCount(gain: number): number {
  return (4.5 / gain / INT24_MAX) * 1e6;
}

/** True for the footer bytes 0xC0–0xC6. */
export function isCytonFooter(byte: number): boolean {
  return byte >= CYTON_FOOTER_MIN && byte <= CYTON_FOOTER_MAX;
}

/**
 * Checks a gain option (one gain for all channels, or one per channel) and returns one per channel.
 * @param owner names the caller in the error
 * @param gain a value of `CYTON_GAINS`, or an array of `channels` of them
 * @param channels 8, or 16 with the Daisy
 * @throws InvalidOptionError naming the offending entry
 */
export function resolveCytonGains(owner: string, gain: number | readonly number[], channels: number): number[] {
  const allowed = `one of ${CYTON_GAINS.join(', ')}`;
  if (typeof gain === 'number') {
    if (!CYTON_GAINS.includes(gain)) throw new InvalidOptionError(owner, 'gain', allowed, gain);
    return new Array<number>(channels).fill(gain);
  }
  if (!Array.isArray(gain) || gain.length !== channels) {
    throw new InvalidOptionError(owner, 'gain', `${allowed}, or an array of ${channels} of them (one per channel)`, gain);
  }
  gain.forEach((g, i) => {
    if (!CYTON_GAINS.includes(g)) throw new InvalidOptionError(owner, `gain[${i}]`, allowed, g);
  });
  return [...gain];
}

/**
 * Writes one packet into `out` at `offset` (33 bytes).
 * @param counter sample counter, taken mod 256
 * @param counts 8 channel counts, integers in [−2^23, 2^23 − 1] (clamped)
 * @param aux 6 aux bytes, or 3 accel counts (int16) when `footer` is 0xC0 / 0xC3 / 0xC4 and `aux.length` is 3
 * @param footer 0xC0–0xC6 (default 0xC0)
 */
export function encodeCytonPacket(out: Uint8Array, offset: number, counter: number, counts: ArrayLike<number>, aux: ArrayLike<number>, footer = CYTON_FOOTER_ACCEL): void {
  out[offset] = CYTON_HEADER;
  out[offset + 1] = counter & 0xff;
  for (let c = 0; c < CYTON_CHANNELS; c++) {
    const v = Math.min(INT24_MAX, Math.max(INT24_MIN, Math.round(counts[c] ?? 0)));
    const o = offset + 2 + 3 * c;
    out[o] = (v >> 16) & 0xff;
    out[o + 1] = (v >> 8) & 0xff;
    out[o + 2] = v & 0xff;
  }
  const a = offset + 26;
  if (aux.length === 3) {
    for (let i = 0; i < 3; i++) {
      const v = Math.min(32767, Math.max(-32768, Math.round(aux[i]!)));
      out[a + 2 * i] = (v >> 8) & 0xff;
      out[a + 2 * i + 1] = v & 0xff;
    }
  } else {
    for (let i = 0; i < CYTON_AUX_BYTES; i++) out[a + i] = (aux[i] ?? 0) & 0xff;
  }
  out[offset + 32] = footer;
}
