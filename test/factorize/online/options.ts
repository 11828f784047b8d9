/** Shared by the online models' option tests: values each constraint must refuse, and the defaults the doc comments state. */
import { readFileSync } from 'node:fs';
import type { Constraint } from '../../../src/factorize/validate.js';

/** Values that violate a constraint. */
export function badValues(c: Constraint): unknown[] {
  switch (c.type) {
    case 'int': return [1.5, 'x', NaN, ...(c.min !== undefined ? [c.min - 1] : []), ...(c.max !== undefined ? [c.max + 1] : [])];
    case 'number': return [NaN, Infinity, 'x', ...(c.min !== undefined ? [c.min - 1, ...(c.minExclusive ? [c.min] : [])] : []), ...(c.max !== undefined ? [c.max + 0.5] : [])];
    case 'enum': return ['not-an-option', 1, null];
    case 'boolean': return [1, 'true', null];
    case 'seed': return [1.5, 'x', Infinity];
  }
}

/** The default each field's doc comment in `interface` of `file` (under src/factorize/online) states: the text before the first ';'. */
export function documentedDefaults(file: string, iface: string): Record<string, unknown> {
  const src = readFileSync(new URL(`../../../src/factorize/online/${file}`, import.meta.url), 'utf8');
  const body = src.slice(src.indexOf(`export interface ${iface} {`));
  const block = body.slice(0, body.indexOf('\n}'));
  const out: Record<string, unknown> = {};
  for (const m of block.matchAll(/\/\*\* ([^;]+);[^\n]*\*\/\s*\n\s*(\w+)\??:/g)) out[m[2]!] = m[1]!.trim() === 'required' ? 'required' : Number(m[1]);
  return out;
}
