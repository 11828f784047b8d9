import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DataError, InvalidOptionError, ShapeMismatchError } from '../../src/errors.js';
import { matrix } from '../../src/linalg/matrix.js';
import {
  DEFAULT_RECOVERY_OPTIONS, RECOVERY_OPTION_CONSTRAINTS, recoverColumns, recoverVector, resolveRecoveryOptions,
  type Constraint, type RecoveryOptions,
} from '../../src/recovery/index.js';
import { planted } from './helpers.js';

/** Values each constraint must reject. */
function badValues(c: Constraint): unknown[] {
  switch (c.kind) {
    case 'enum': return ['nope', 3, null];
    case 'boolean': return [1, 'true', null];
    case 'matrix': return [{}, [1, 2], { rows: 1, cols: 2, data: [1, 2] }, 'M'];
    case 'record': return [[], 'presolve', { presolve: {} }, null];
    case 'interval': {
      const out: unknown[] = [NaN, Infinity, '0.5', c.loOpen ? c.lo : c.lo - 1, c.hiOpen ? c.hi : c.hi + 1];
      if (c.integer) out.push(c.lo + 0.5);
      return out;
    }
  }
}

/** One value each constraint must accept. */
function goodValue(c: Constraint): unknown {
  switch (c.kind) {
    case 'enum': return c.values[c.values.length - 1];
    case 'boolean': return true;
    case 'matrix': return matrix(2, 2);
    case 'record': return { presolve: 'off' };
    case 'interval': return c.integer ? Math.ceil(c.lo) + 1 : (c.lo + c.hi) / 2;
  }
}

describe('RecoveryOptions validation (driven by RECOVERY_OPTION_CONSTRAINTS)', () => {
  for (const [name, c] of Object.entries(RECOVERY_OPTION_CONSTRAINTS) as [keyof RecoveryOptions, Constraint][]) {
    it(`'${name}' rejects bad values with a message naming it, and accepts a good one`, () => {
      for (const bad of badValues(c)) {
        let err: unknown;
        try { resolveRecoveryOptions({ [name]: bad } as RecoveryOptions); } catch (e) { err = e; }
        expect(err, `${name} = ${String(bad)}`).toBeInstanceOf(InvalidOptionError);
        expect((err as InvalidOptionError).option).toBe(name);
        expect((err as Error).message).toContain(`'${name}'`);
      }
      // noise > 0 is only legal with the fast method, which is the default; tieBreak 'min-l2' needs nonneg.
      const context: RecoveryOptions = name === 'tieBreak' ? { nonneg: true } : {};
      expect(() => resolveRecoveryOptions({ ...context, [name]: goodValue(c) } as RecoveryOptions)).not.toThrow();
    });
  }

  it('rejects unknown options (typos) by name', () => {
    expect(() => resolveRecoveryOptions({ warmstart: matrix(1, 1) } as unknown as RecoveryOptions)).toThrow(/'warmstart'/);
  });

  it("rejects tieBreak 'min-l2' without nonneg or with noise (cross-field rule)", () => {
    for (const bad of [{ tieBreak: 'min-l2' }, { tieBreak: 'min-l2', nonneg: true, noise: 0.1 }] as RecoveryOptions[]) {
      expect(() => resolveRecoveryOptions(bad)).toThrow(/'tieBreak'/);
    }
    expect(resolveRecoveryOptions({ tieBreak: 'min-l2', nonneg: true }).tieBreak).toBe('min-l2');
  });

  it("rejects noise > 0 with method 'lp' (cross-field rule) but allows noise = 0", () => {
    expect(() => resolveRecoveryOptions({ method: 'lp', noise: 0.1 })).toThrow(/'noise'.*method is 'lp'/);
    expect(() => resolveRecoveryOptions({ method: 'lp', noise: 0 })).not.toThrow();
  });

  it('bad options fail before any work is done (recoverColumns rejects)', async () => {
    const { P, Wc } = planted({ n: 50, d: 20, k: 2, r: 1, seed: 1 });
    await expect(recoverColumns(P, Wc, { pathRatio: 1 })).rejects.toThrow(InvalidOptionError);
  });
});

describe('defaults', () => {
  it('the documented default of every field (first token of its doc comment) equals DEFAULT_RECOVERY_OPTIONS', () => {
    const src = readFileSync(new URL('../../src/recovery/options.ts', import.meta.url), 'utf8');
    const body = src.slice(src.indexOf('export interface RecoveryOptions'), src.indexOf('export type ResolvedRecoveryOptions'));
    const documented = new Map<string, string>();
    for (const m of body.matchAll(/\/\*\* (.+?)\. .*\*\/\n\s+(\w+)\?:/g)) documented.set(m[2]!, m[1]!);
    expect([...documented.keys()].sort()).toEqual(Object.keys(RECOVERY_OPTION_CONSTRAINTS).sort());
    for (const [name, doc] of documented) {
      if (name === 'warmStart') { expect(doc).toBe('none'); continue; }
      const v = DEFAULT_RECOVERY_OPTIONS[name as keyof typeof DEFAULT_RECOVERY_OPTIONS];
      const shown = typeof v === 'string' ? `'${v}'` : typeof v === 'object' ? JSON.stringify(v) : undefined;
      if (shown !== undefined) expect(doc, name).toBe(shown);
      else if (typeof v === 'number') expect(Number(doc), name).toBe(v);
      else expect(doc, name).toBe(String(v));
    }
  });

  it('are frozen; resolving merges into a new object and leaves the caller’s alone', () => {
    expect(Object.isFrozen(DEFAULT_RECOVERY_OPTIONS)).toBe(true);
    const mine: RecoveryOptions = { nonneg: true };
    const resolved = resolveRecoveryOptions(mine);
    expect(mine).toEqual({ nonneg: true });
    expect(resolved).not.toBe(mine);
    expect(resolved).toMatchObject({ ...DEFAULT_RECOVERY_OPTIONS, nonneg: true });
  });
});

describe('input checks', () => {
  const { P, Wc } = planted({ n: 50, d: 20, k: 2, r: 2, seed: 2 });

  it('shape mismatches name the argument', async () => {
    await expect(recoverColumns(P, matrix(19, 2))).rejects.toThrow(ShapeMismatchError);
    await expect(recoverColumns(P, Wc, { warmStart: matrix(50, 3) })).rejects.toThrow(/warmStart/);
    await expect(recoverVector(P, new Float64Array(21))).rejects.toThrow(/recoverVector: y/);
    await expect(recoverVector(P, new Float64Array(20), { warmStart: matrix(50, 2) })).rejects.toThrow(ShapeMismatchError);
  });

  it('non-finite data is a DataError that locates the column', async () => {
    const bad = matrix(20, 2, Wc.data.slice());
    bad.data[2 * 5 + 1] = NaN;
    await expect(recoverColumns(P, bad)).rejects.toThrow(DataError);
    await expect(recoverColumns(P, bad)).rejects.toThrow(/column 1/);
  });
});
