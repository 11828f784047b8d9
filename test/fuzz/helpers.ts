/**
 * Shared machinery of the bad-input corpus (test/fuzz/*.test.ts): seeded fast-check runs and the
 * "only the documented error types" check.
 *
 * Every property runs with a fixed seed and a fixed number of runs, so a run is reproducible and
 * the counts in the report are exact. A failure message starts with the property's name, its seed
 * and run count, then fast-check's own report (seed, shrink path, counterexample). To explore
 * beyond the fixed corpus, `FUZZ_SEED=<n>` replaces every base seed and `FUZZ_RUNS=<k>` multiplies
 * every run count (neither is set in CI).
 */
import fc from 'fast-check';

/** The base seed (FUZZ_SEED overrides it); each property adds its own fixed offset. */
export const FUZZ_SEED = Number.parseInt(process.env.FUZZ_SEED ?? '', 10) || 20_260_007;
/** Run-count multiplier (FUZZ_RUNS), 1 by default. */
const RUN_FACTOR = Math.max(1, Number.parseInt(process.env.FUZZ_RUNS ?? '', 10) || 1);

/** The fast-check parameters of property `offset` (a fixed number per property, unique per file). */
export function fuzzParams(offset: number, numRuns: number): { seed: number; numRuns: number; includeErrorInReport: boolean } {
  return { seed: (FUZZ_SEED + offset * 7919) | 0, numRuns: numRuns * RUN_FACTOR, includeErrorInReport: true };
}

function withSeed(name: string, p: { seed: number; numRuns: number }, e: unknown): Error {
  const msg = e instanceof Error ? e.message : String(e);
  const cause = e instanceof Error ? (e.cause as { stack?: unknown } | undefined) : undefined;
  const out = new Error(`[fuzz ${name}] seed ${p.seed}, numRuns ${p.numRuns} (FUZZ_SEED=${FUZZ_SEED})\n${msg}`, { cause });
  out.stack = `${out.message}\n--- stack of the failing check ---\n${String(cause?.stack ?? (e as { stack?: unknown } | null)?.stack ?? '')}`;
  return out;
}

/** Runs a synchronous property with its fixed seed; on failure the error names the seed. */
export function runProperty<T>(name: string, offset: number, numRuns: number, arb: fc.Arbitrary<T>, check: (value: T) => void): void {
  const p = fuzzParams(offset, numRuns);
  try {
    fc.assert(fc.property(arb, check), p);
  } catch (e) {
    throw withSeed(name, p, e);
  }
}

/** Runs an asynchronous property with its fixed seed; on failure the error names the seed. */
export async function runAsyncProperty<T>(name: string, offset: number, numRuns: number, arb: fc.Arbitrary<T>, check: (value: T) => Promise<void>): Promise<void> {
  const p = fuzzParams(offset, numRuns);
  try {
    await fc.assert(fc.asyncProperty(arb, check), p);
  } catch (e) {
    throw withSeed(name, p, e);
  }
}

/** An error class a decoder documents. */
export type ErrorClass = abstract new (...args: never[]) => Error;

/** What a call did: returned a value, or threw one of the allowed errors. */
export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: Error };

/** An error that is not one of the documented ones: a crash, reported with the original stack. */
export class UndocumentedError extends Error {
  override name = 'UndocumentedError';
  constructor(readonly what: string, readonly original: unknown) {
    const e = original as { name?: unknown; message?: unknown; stack?: unknown } | null;
    super(`${what} threw an undocumented ${String(e?.name ?? typeof original)}: ${String(e?.message ?? original)}\n${String(e?.stack ?? '')}`);
  }
}

function checkThrown(what: string, e: unknown, allowed: readonly ErrorClass[]): Error {
  if (e instanceof Error && allowed.some((c) => e instanceof c)) {
    if (typeof e.message !== 'string' || e.message.length === 0) throw new UndocumentedError(`${what} (an empty message)`, e);
    return e;
  }
  throw new UndocumentedError(what, e);
}

/** Calls `fn`; a throw of anything but `allowed` fails the property as an UndocumentedError. */
export function expectOnly<T>(what: string, allowed: readonly ErrorClass[], fn: () => T): Outcome<T> {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    return { ok: false, error: checkThrown(what, e, allowed) };
  }
}

/** `expectOnly` for a promise. */
export async function expectOnlyAsync<T>(what: string, allowed: readonly ErrorClass[], fn: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    return { ok: false, error: checkThrown(what, e, allowed) };
  }
}

/** Places `bytes` at byte offset `offset` of a larger Buffer (junk on both sides) and returns the exact view, as mqtt.js hands payloads. */
export function atOffset(bytes: Uint8Array, offset: number): Buffer {
  const big = Buffer.alloc(offset + bytes.length + 3, 0xee);
  big.set(bytes, offset);
  return big.subarray(offset, offset + bytes.length);
}

/** Splits `bytes` at the given cut points (any numbers; taken mod length, sorted, deduplicated) into chunks that concatenate back to it. */
export function chunked(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const n = bytes.length;
  if (n === 0) return [bytes];
  const at = [...new Set(cuts.map((c) => ((c % n) + n) % n))].filter((c) => c > 0).sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const c of at) {
    out.push(bytes.slice(from, c));
    from = c;
  }
  out.push(bytes.slice(from));
  return out;
}

/** Concatenates byte arrays. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Sums the values of a record of counters. */
export function total(counts: Readonly<Record<string, number>>): number {
  return Object.values(counts).reduce((s, v) => s + v, 0);
}
