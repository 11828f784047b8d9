/**
 * Option handling shared by the pipeline operators (STYLE.md §5–6): numbers and booleans are
 * checked against a constraint table (`resolveOptions` from src/factorize/validate.ts, so the
 * messages read the same as the models'), hooks (callbacks, schedulers, observables) by kind.
 * Options are merged into a new frozen object; the caller's object is never touched. Everything
 * is checked when the operator is built, so a bad config fails before any frame flows.
 * "Hooks" here are the optional fields without a default value: callbacks, schedulers,
 * observables, and optional numbers whose range the owner checks itself.
 */
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { InvalidOptionError } from '../../src/errors.js';
import { resolveOptions, type ConstraintTable } from '../../src/factorize/validate.js';

/** What a hook option must be. */
export type HookKind = 'function' | 'scheduler' | 'observable' | 'number' | 'object';

/** A kind per hook option (all hooks are optional). */
export type HookTable<H> = { readonly [K in keyof H]-?: HookKind };

const HOOK_TEXT: Record<HookKind, string> = {
  function: 'a function or undefined',
  scheduler: 'an rxjs SchedulerLike (with schedule and now) or undefined',
  observable: 'an Observable (with subscribe) or undefined',
  number: 'a number or undefined',
  object: 'an object or undefined',
};

function isHook(kind: HookKind, v: unknown): boolean {
  if (v === undefined) return true;
  if (kind === 'function') return typeof v === 'function';
  if (kind === 'number') return typeof v === 'number';
  if (typeof v !== 'object' || v === null) return false;
  if (kind === 'object') return !Array.isArray(v);
  const o = v as Record<string, unknown>;
  return kind === 'scheduler' ? typeof o.schedule === 'function' && typeof o.now === 'function' : typeof o.subscribe === 'function';
}

/**
 * Merges `given` over `defaults` (plain fields, checked by `table`) and checks the hooks.
 * Throws InvalidOptionError naming `owner`, the option, the allowed set and the value.
 */
export function resolvePipelineOptions<P extends object, H extends object>(
  owner: string, table: ConstraintTable<P>, defaults: Readonly<P>, hooks: HookTable<H>, given: Partial<P & H> | undefined,
): Readonly<P & Partial<H>> {
  if (given !== undefined && (typeof given !== 'object' || given === null || Array.isArray(given))) {
    throw new InvalidOptionError(owner, 'options', 'an object', given);
  }
  const plain: Record<string, unknown> = {};
  const hookValues: Record<string, unknown> = {};
  const known = [...Object.keys(table), ...Object.keys(hooks)];
  for (const [key, value] of Object.entries(given ?? {})) {
    if (key in hooks) {
      const kind = (hooks as Record<string, HookKind>)[key]!;
      if (!isHook(kind, value)) throw new InvalidOptionError(owner, key, HOOK_TEXT[kind], value);
      if (value !== undefined) hookValues[key] = value;
    } else if (key in table) {
      plain[key] = value;
    } else {
      throw new InvalidOptionError(owner, key, `a known option (${known.join(', ')})`, value);
    }
  }
  const resolved = resolveOptions(owner, table, defaults, plain as Partial<P>);
  return Object.freeze({ ...resolved, ...hookValues }) as Readonly<P & Partial<H>>;
}

/**
 * The clock of an operator, in milliseconds: `now` if given; else `performance.now()` with the
 * default scheduler (sub-millisecond, monotonic), or the given scheduler's `now()` (so a
 * TestScheduler's virtual time drives latencies in marble tests).
 */
export function clockOf(scheduler: SchedulerLike, now: (() => number) | undefined): () => number {
  if (now) return now;
  if (scheduler === asyncScheduler) return () => performance.now();
  return () => scheduler.now();
}

/** The seq and t of a frame-like value, if they are usable numbers (for events about bad frames). */
export function seqAndT(frame: unknown): { seq: number | undefined; t: number | undefined } {
  if (typeof frame !== 'object' || frame === null) return { seq: undefined, t: undefined };
  const { seq, t } = frame as { seq?: unknown; t?: unknown };
  return {
    seq: typeof seq === 'number' && Number.isFinite(seq) ? seq : undefined,
    t: typeof t === 'number' && Number.isFinite(t) ? t : undefined,
  };
}
