/**
 * Seeded pseudo-random numbers, specified so that firmware in C reproduces them bit for bit.
 *
 * Algorithm (all arithmetic on unsigned 32-bit integers, wrapping mod 2^32):
 *
 * 1. Seeding with SplitMix32. The seed is reduced to a uint32 `z = seed >>> 0` (a JS number seed
 *    is first truncated to an integer; negative seeds wrap mod 2^32). The four state words
 *    s[0..3] are the first four outputs of
 *        z += 0x9E3779B9;
 *        t = z;  t = (t ^ (t >>> 16)) * 0x21F0AAAD;  t = (t ^ (t >>> 15)) * 0x735A2D97;
 *        out = t ^ (t >>> 15);
 *    (`*` is the low 32 bits of the product, `Math.imul` in JS). If all four are zero (impossible
 *    in practice) s[0] = 1.
 * 2. Generator xoshiro128** 1.1 (Blackman & Vigna 2018):
 *        result = rotl(s[1] * 5, 7) * 9;
 *        t = s[1] << 9;
 *        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
 *        s[2] ^= t; s[3] = rotl(s[3], 11);
 *    `nextUint32()` returns `result`.
 * 3. `uniform()` in [0, 1) with 53 bits: a = next() >>> 5, b = next() >>> 6,
 *    u = (a * 67108864 + b) / 9007199254740992   (i.e. (a·2^26 + b) / 2^53).
 * 4. `int(k)`, uniform in [0, k) for 1 <= k <= 2^32, by rejection (no modulo bias):
 *    limit = 2^32 - (2^32 mod k); draw x = next() until x < limit; return x mod k.
 * 5. `normal()`: Box–Muller, both outputs used. On an even call draw u1 = uniform(),
 *    u2 = uniform(), redraw u1 while u1 == 0; rad = sqrt(-2 ln u1), th = 2π u2;
 *    return rad·cos(th) and keep rad·sin(th) for the next call.
 *    (cos/sin/log are libm's; they agree to the last ulp or so across platforms, the integer
 *    streams above agree exactly.)
 *
 * @example
 * const rng = new Rng(42); rng.nextUint32(); // deterministic for seed 42 on every platform
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare = 0;
  private hasSpare = false;

  /** Creates a generator from a seed (integer; reduced mod 2^32). */
  constructor(seed: number) {
    let z = Math.trunc(seed) >>> 0;
    const words = [0, 0, 0, 0];
    for (let i = 0; i < 4; i++) {
      z = (z + 0x9e3779b9) >>> 0;
      let t = z;
      t = Math.imul(t ^ (t >>> 16), 0x21f0aaad);
      t = Math.imul(t ^ (t >>> 15), 0x735a2d97);
      words[i] = (t ^ (t >>> 15)) >>> 0;
    }
    if ((words[0]! | words[1]! | words[2]! | words[3]!) === 0) words[0] = 1;
    this.s0 = words[0]!;
    this.s1 = words[1]!;
    this.s2 = words[2]!;
    this.s3 = words[3]!;
  }

  /** Next raw 32-bit output of xoshiro128**. */
  nextUint32(): number {
    const s1 = this.s1;
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Uniform integer in [0, k), unbiased (rejection sampling); 1 <= k <= 2^32. */
  int(k: number): number {
    const limit = 4294967296 - (4294967296 % k);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % k;
  }

  /** Standard normal deviate (Box–Muller, pairs cached). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    let u1 = this.uniform();
    const u2 = this.uniform();
    while (u1 === 0) u1 = this.uniform();
    const rad = Math.sqrt(-2 * Math.log(u1));
    const th = 2 * Math.PI * u2;
    this.spare = rad * Math.sin(th);
    this.hasSpare = true;
    return rad * Math.cos(th);
  }

  /** Fills `out` with standard normal deviates and returns it. */
  fillNormal(out: Float64Array): Float64Array {
    for (let i = 0; i < out.length; i++) out[i] = this.normal();
    return out;
  }

  /** Fills `out` with uniform [0, 1) deviates and returns it. */
  fillUniform(out: Float64Array): Float64Array {
    for (let i = 0; i < out.length; i++) out[i] = this.uniform();
    return out;
  }
}
