/**
 * Table-driven option checks (one generic test per constraint table), documented defaults vs the
 * defaults objects, and the wrapper test: every option reaches the pure function unchanged.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';

vi.mock('../../src/factorize/nmf.js', async (importOriginal) => {
  const mod = await importOriginal<typeof import('../../src/factorize/nmf.js')>();
  return { ...mod, nmf: vi.fn(mod.nmf) };
});
vi.mock('../../src/factorize/sparsePca.js', async (importOriginal) => {
  const mod = await importOriginal<typeof import('../../src/factorize/sparsePca.js')>();
  return { ...mod, sparsePca: vi.fn(mod.sparsePca) };
});

const { nmf, DEFAULT_NMF_OPTIONS, NMF_CONSTRAINTS } = await import('../../src/factorize/nmf.js');
const { sparsePca, DEFAULT_SPARSE_PCA_OPTIONS, SPARSE_PCA_CONSTRAINTS } = await import('../../src/factorize/sparsePca.js');
const { NMF, SparsePCA, factorize } = await import('../../src/factorize/estimator.js');
const { InvalidOptionError } = await import('../../src/errors.js');
const { planted } = await import('./helpers.js');
import type { Constraint, ConstraintTable } from '../../src/factorize/validate.js';

/** Values that violate a constraint. */
function badValues(c: Constraint): unknown[] {
  switch (c.type) {
    case 'int': return [1.5, 'x', NaN, ...(c.min !== undefined ? [c.min - 1] : []), ...(c.max !== undefined ? [c.max + 1] : [])];
    case 'number': return [NaN, Infinity, 'x', ...(c.min !== undefined ? [c.min - 1] : []), ...(c.max !== undefined ? [c.max + 1] : [])];
    case 'enum': return ['not-an-option', 1, null];
    case 'boolean': return [1, 'true', null];
    case 'seed': return [1.5, 'x', Infinity];
  }
}

/** A valid value different from the default (used to prove forwarding). */
function otherValue(c: Constraint, def: unknown): unknown {
  switch (c.type) {
    case 'int': return (def as number) + 1;
    case 'number': return c.max !== undefined ? c.max : (def as number) + 0.25;
    case 'enum': return c.values.find((v) => v !== def);
    case 'boolean': return !def;
    case 'seed': return (def as number) + 7;
  }
}

/** The default each field's doc comment states (the text before the first ';'). */
function documentedDefaults(file: string, iface: string): Record<string, unknown> {
  const src = readFileSync(new URL(`../../src/factorize/${file}`, import.meta.url), 'utf8');
  const body = src.slice(src.indexOf(`export interface ${iface} {`));
  const block = body.slice(0, body.indexOf('\n}'));
  const out: Record<string, unknown> = {};
  for (const m of block.matchAll(/\/\*\* ([^;]+);[^\n]*\*\/\s*\n\s*(\w+)\??:/g)) {
    const raw = m[1]!.trim();
    out[m[2]!] = raw === 'true' ? true : raw === 'false' ? false : /^'.*'$/.test(raw) ? raw.slice(1, -1) : Number(raw);
  }
  return out;
}

const cases = [
  { owner: 'NMF', table: NMF_CONSTRAINTS as ConstraintTable<object>, defaults: DEFAULT_NMF_OPTIONS, make: (o: object) => new NMF(o), file: 'nmf.ts', iface: 'NmfOptions' },
  { owner: 'SparsePCA', table: SPARSE_PCA_CONSTRAINTS as ConstraintTable<object>, defaults: DEFAULT_SPARSE_PCA_OPTIONS, make: (o: object) => new SparsePCA(o), file: 'sparsePca.ts', iface: 'SparsePcaOptions' },
] as const;

describe.each(cases)('$owner options', ({ owner, table, defaults, make, file, iface }) => {
  it('every field has a constraint and a default; the defaults satisfy their constraints', () => {
    expect(Object.keys(table).sort()).toEqual(Object.keys(defaults).sort());
    expect(() => make({})).not.toThrow();
    expect(Object.isFrozen(defaults)).toBe(true);
  });

  it('the documented defaults equal the defaults object', () => {
    expect(documentedDefaults(file, iface)).toEqual({ ...defaults });
  });

  for (const [field, c] of Object.entries(table) as [string, Constraint][]) {
    it(`'${field}' refuses values outside its constraint with an InvalidOptionError naming it`, () => {
      for (const bad of badValues(c)) {
        let err: unknown;
        try { make({ [field]: bad }); } catch (e) { err = e; }
        expect(err, `${field} = ${String(bad)}`).toBeInstanceOf(InvalidOptionError);
        const e = err as InstanceType<typeof InvalidOptionError>;
        expect(e.owner).toBe(owner);
        expect(e.option).toBe(field);
        expect(Object.is(e.received, bad)).toBe(true);
        expect(e.message).toContain(`${owner}: option '${field}' must be`);
      }
      expect(() => make({ [field]: otherValue(c, (defaults as Record<string, unknown>)[field]) })).not.toThrow();
    });
  }

  it('unknown options are refused', () => {
    expect(() => make({ rnak: 3 })).toThrow(/option 'rnak' must be a known option/);
  });
});

describe('wrappers forward every option', () => {
  const X = planted(20, 30, 3, 6, 5).X;

  it('NMF.fit passes each non-default option to nmf()', () => {
    const given: Record<string, unknown> = {};
    for (const [f, c] of Object.entries(NMF_CONSTRAINTS)) given[f] = otherValue(c, (DEFAULT_NMF_OPTIONS as Record<string, unknown>)[f]);
    given.maxIter = 3; // keep it quick; still not the default
    for (const [f, v] of Object.entries(given)) expect(v, f).not.toEqual((DEFAULT_NMF_OPTIONS as Record<string, unknown>)[f]);
    const onProgress = () => undefined;
    vi.mocked(nmf).mockClear();
    new NMF(given).fit(X, onProgress);
    expect(nmf).toHaveBeenCalledTimes(1);
    expect(vi.mocked(nmf).mock.calls[0]![1]).toEqual(given);
    expect(vi.mocked(nmf).mock.calls[0]![2]).toBe(onProgress);
  });

  it('SparsePCA.fit passes each non-default option to sparsePca()', () => {
    const given: Record<string, unknown> = {};
    for (const [f, c] of Object.entries(SPARSE_PCA_CONSTRAINTS)) given[f] = otherValue(c, (DEFAULT_SPARSE_PCA_OPTIONS as Record<string, unknown>)[f]);
    given.maxIter = 3;
    given.alpha = 0.05;
    for (const [f, v] of Object.entries(given)) expect(v, f).not.toEqual((DEFAULT_SPARSE_PCA_OPTIONS as Record<string, unknown>)[f]);
    vi.mocked(sparsePca).mockClear();
    new SparsePCA(given).fit(X);
    expect(vi.mocked(sparsePca).mock.calls[0]![1]).toEqual(given);
  });

  it('factorize passes its options (nmfSolver → solver) to nmf() and sparsePca()', () => {
    vi.mocked(nmf).mockClear();
    factorize(X, { solver: 'nmf', rank: 2, nmfSolver: 'pgd', maxIter: 4, l1W: 0.1, seed: 9, init: 'nndsvd' });
    expect(vi.mocked(nmf).mock.calls[0]![1]).toEqual({ rank: 2, solver: 'pgd', maxIter: 4, l1W: 0.1, seed: 9, init: 'nndsvd' });
    vi.mocked(sparsePca).mockClear();
    factorize(X, { solver: 'spca', rank: 2, alpha: 0.2, ridge: 1e-3, maxIter: 5 });
    expect(vi.mocked(sparsePca).mock.calls[0]![1]).toEqual({ rank: 2, alpha: 0.2, ridge: 1e-3, maxIter: 5 });
  });
});
