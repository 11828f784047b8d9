/**
 * Flag parsing for the CLI on top of node:util `parseArgs` (strict: unknown flags are errors).
 * Numbers are checked here so every message names the flag and the value it got.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A user error on the command line: message printed, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses argv for one command; wraps node's errors into UsageError with the command named. */
export function parseFlags<T extends Options>(command: string, argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${command}: ${(e as Error).message.replace(/\. To specify a positional.*$/s, '')}`);
  }
}

/** Parses a numeric flag value; `int` demands an integer; bounds are inclusive. */
export function num(flag: string, raw: string | undefined, spec: { int?: boolean; min?: number; max?: number; def?: number } = {}): number {
  if (raw === undefined) {
    if (spec.def === undefined) throw new UsageError(`--${flag} is required`);
    return spec.def;
  }
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v)) throw new UsageError(`--${flag} must be a number; got ${JSON.stringify(raw)}`);
  if (spec.int && !Number.isInteger(v)) throw new UsageError(`--${flag} must be an integer; got ${raw}`);
  if (spec.min !== undefined && v < spec.min) throw new UsageError(`--${flag} must be ≥ ${spec.min}; got ${raw}`);
  if (spec.max !== undefined && v > spec.max) throw new UsageError(`--${flag} must be ≤ ${spec.max}; got ${raw}`);
  return v;
}

/** Parses a comma-separated list of numbers (e.g. --compressions 2,3,4). */
export function numList(flag: string, raw: string | undefined, def: number[], spec: { int?: boolean; min?: number } = {}): number[] {
  if (raw === undefined) return def;
  const parts = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (parts.length === 0) throw new UsageError(`--${flag} needs at least one value`);
  return parts.map((s) => num(flag, s, spec));
}

/** Checks a string flag against its allowed values; `list` accepts comma-separated choices. */
export function choice<T extends string>(flag: string, raw: string | undefined, allowed: readonly T[], def: T): T {
  if (raw === undefined) return def;
  if (!(allowed as readonly string[]).includes(raw)) throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}; got ${JSON.stringify(raw)}`);
  return raw as T;
}

/** Like `choice` for a comma-separated list of values. */
export function choices<T extends string>(flag: string, raw: string | undefined, allowed: readonly T[], def: T[]): T[] {
  if (raw === undefined) return def;
  return raw.split(',').map((s) => choice(flag, s.trim(), allowed, def[0]!));
}
