/** Order statistics on plain number arrays, shared by metrics, experiments and benchmarks. */

/** The median (mean of the two middle values for an even count); NaN for an empty array. The input is not modified. */
export function median(xs: ArrayLike<number>): number {
  if (xs.length === 0) return NaN;
  const s = Array.from(xs).sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}
