/**
 * The operators' options as data (STYLE.md §5–6): every constraint refuses a value outside it
 * when the operator is built, the documented defaults (the first words of each field's doc line)
 * equal the frozen defaults objects, and the defaults objects are frozen.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import type { Constraint } from '../../src/factorize/validate.js';
import {
  BATCH_FRAMES_CONSTRAINTS, batchFrames, COMPRESS_CONSTRAINTS, compress, DEFAULT_BATCH_FRAMES_OPTIONS, DEFAULT_COMPRESS_OPTIONS,
  DEFAULT_METRICS_OPTIONS, DEFAULT_ONLINE_NMF_OPERATOR_OPTIONS, DEFAULT_RECONSTRUCT_OPTIONS, METRICS_CONSTRAINTS, metrics,
  ONLINE_NMF_OPERATOR_CONSTRAINTS, onlineNmf, RECONSTRUCT_CONSTRAINTS, reconstruct,
  DEFAULT_ONLINE_CP_OPERATOR_OPTIONS, ONLINE_CP_OPERATOR_CONSTRAINTS, onlineCp,
} from '../../pipelines/index.js';
import { INFO4 } from './helpers.js';

const SPEC = INFO4.projection!;

/** Values that violate a constraint. */
function outside(c: Constraint): unknown[] {
  switch (c.type) {
    case 'int': return [1.5, 'x', NaN, ...(c.min !== undefined ? [c.min - 1] : []), ...(c.max !== undefined ? [c.max + 1] : [])];
    case 'number': return ['x', NaN, Infinity, ...(c.min !== undefined ? [c.minExclusive ? c.min : c.min - 1] : []), ...(c.max !== undefined ? [c.max + 1] : [])];
    case 'boolean': return [0, 'true'];
    case 'enum': return ['nope'];
    case 'seed': return [0.5];
  }
}

const CASES = [
  { name: 'batchFrames', file: 'batch.ts', iface: 'BatchFramesOptions', table: BATCH_FRAMES_CONSTRAINTS, defaults: DEFAULT_BATCH_FRAMES_OPTIONS, build: (o: object) => batchFrames(o) },
  { name: 'compress', file: 'compress.ts', iface: 'CompressOptions', table: COMPRESS_CONSTRAINTS, defaults: DEFAULT_COMPRESS_OPTIONS, build: (o: object) => compress(SPEC, o) },
  { name: 'onlineNmf', file: 'onlineNmf.ts', iface: 'OnlineNmfOperatorOptions', table: ONLINE_NMF_OPERATOR_CONSTRAINTS, defaults: DEFAULT_ONLINE_NMF_OPERATOR_OPTIONS, build: (o: object) => onlineNmf({ rank: 2 }, o) },
  { name: 'reconstruct', file: 'reconstruct.ts', iface: 'ReconstructOptions', table: RECONSTRUCT_CONSTRAINTS, defaults: DEFAULT_RECONSTRUCT_OPTIONS, build: (o: object) => reconstruct(SPEC, o) },
  { name: 'metrics', file: 'metrics.ts', iface: 'MetricsOptions', table: METRICS_CONSTRAINTS, defaults: DEFAULT_METRICS_OPTIONS, build: (o: object) => metrics(o) },
  {
    name: 'onlineCp', file: 'onlineCp.ts', iface: 'OnlineCpOperatorOptions', table: ONLINE_CP_OPERATOR_CONSTRAINTS, defaults: DEFAULT_ONLINE_CP_OPERATOR_OPTIONS,
    build: (o: object) => onlineCp({ projection: { ensemble: 'sparse-binary', n: 8, d: 4, p: 2, seed: 1 }, model: { rank: 2, shape: [2, 3] } }, o),
  },
];

/** field → the first word of its doc line ("32 frames; …" → "32") in `interface <iface>`. */
function documentedDefaults(file: string, iface: string): Record<string, string> {
  const src = readFileSync(new URL(`../../pipelines/${file}`, import.meta.url), 'utf8');
  const body = src.slice(src.indexOf(`export interface ${iface} {`));
  const block = body.slice(0, body.indexOf('\n}'));
  const out: Record<string, string> = {};
  for (const m of block.matchAll(/\/\*\* ([^\s;]+)[^\n]*\*\/\n\s+(\w+)\??:/g)) out[m[2]!] = m[1]!;
  return out;
}

describe.each(CASES)('$name options', ({ name, file, iface, table, defaults, build }) => {
  it('refuses every value outside each constraint, naming the operator and the option', () => {
    for (const [key, c] of Object.entries(table) as [string, Constraint][]) {
      for (const bad of outside(c)) {
        let err: unknown;
        try { build({ [key]: bad }); } catch (e) { err = e; }
        expect(err, `${name}.${key} = ${String(bad)}`).toBeInstanceOf(InvalidOptionError);
        expect((err as InvalidOptionError).owner).toBe(name);
        expect((err as InvalidOptionError).option).toBe(key);
      }
    }
  });

  it('accepts its defaults, spelled out', () => {
    expect(() => build({ ...defaults })).not.toThrow();
  });

  it('documents the defaults it uses, and freezes them', () => {
    const documented = documentedDefaults(file, iface);
    expect(Object.keys(documented).sort()).toEqual(Object.keys(defaults).sort());
    for (const [key, text] of Object.entries(documented)) {
      expect(String((defaults as Record<string, unknown>)[key]), `${name}.${key}`).toBe(text);
    }
    expect(Object.isFrozen(defaults)).toBe(true);
  });
});
