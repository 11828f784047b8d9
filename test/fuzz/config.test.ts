/**
 * Bad-input corpus for the pipeline config (pipelines/config.ts, `parsePipelineConfig`): two
 * valid configs (the matrix path with run and outputs, the tensor path with stft/window/onlineCp)
 * with keys deleted or renamed, values replaced by other types or by NaN, ±Infinity and extreme
 * numbers, stages duplicated or swapped; the YAML text broken (stray indicators, tabs, anchors
 * and aliases, tags, directives, duplicated lines, deep nesting, alias bombs); and arbitrary values
 * passed as an already parsed object.
 *
 * Properties: only ConfigError comes out, every issue has a problem and a line within the text;
 * a deleted required key, an unknown key and a value of the wrong type are refused with an issue
 * at (or above, or below) the changed path; and a config that parses also builds
 * (`buildPipeline`, the module's promise).
 */
import fc from 'fast-check';
import { parse as parseYamlText, stringify as toYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { buildPipeline } from '../../pipelines/builder.js';
import { formatConfigPath, parsePipelineConfig, type PipelineConfig } from '../../pipelines/config.js';
import { expectOnly, runProperty } from './helpers.js';

const MATRIX = `version: 1
source: sim:synthetic?n=12&d=4
stream:
  id: sim
  kind: compressed
  n: 12
  rate: 250
  units: uV
  projection: { ensemble: sparse-binary, n: 12, d: 4, p: 2, seed: 1 }
stages:
  - type: detectGaps
    modulo: 256
  - type: validate
    seqModulo: 256
  - type: batch
    maxBatch: 8
    maxWaitMs: 100
  - type: onlineNmf
    rank: 2
    seed: 3
    clipNegative: true
  - type: reconstruct
    everyMs: 1000
    final: true
  - type: metrics
    intervalMs: 1000
run:
  headless: true
  duration: 0
outputs:
  mqtt:
    broker: embedded
    prefix: cfstream
  broker:
    host: 127.0.0.1
    port: 0
  dashboard:
    enabled: false
`;

const TENSOR = `version: 1
stream:
  id: eeg
  kind: raw
  n: 2
  rate: 64
  labels: [a, b]
stages:
  - type: validate
  - type: stft
    window: 0.5
    hop: 0.25
    fmin: 2
    fmax: 12
  - type: window
    length: 8
    hop: 4
  - type: onlineCp
    projection: { ensemble: sparse-binary, n: 8, d: 4, p: 2, seed: 1 }
    rank: 2
`;

const BASES = [MATRIX, TENSOR] as const;

type Path = (string | number)[];
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path in a parsed document (containers and leaves), root excluded. */
function paths(v: Json, at: Path = []): Path[] {
  const out: Path[] = [];
  if (Array.isArray(v)) v.forEach((x, i) => out.push([...at, i], ...paths(x, [...at, i])));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push([...at, k], ...paths(x, [...at, k]));
  return out;
}

function get(v: Json, p: Path): Json | undefined {
  let cur: Json | undefined = v;
  for (const s of p) cur = cur !== null && typeof cur === 'object' ? (cur as Record<string | number, Json>)[s] : undefined;
  return cur;
}

function parentOf(doc: Json, p: Path): Record<string | number, Json> {
  return get(doc, p.slice(0, -1)) as Record<string | number, Json>;
}

/** A value of another kind than `v`. */
function otherKind(v: Json, pick: number): Json {
  const kinds: Json[] = [null, true, 7, 'text', [1, 'x'], { a: 1 }];
  const kindOf = (x: Json) => (x === null ? 0 : typeof x === 'boolean' ? 1 : typeof x === 'number' ? 2 : typeof x === 'string' ? 3 : Array.isArray(x) ? 4 : 5);
  const choices = kinds.filter((k) => kindOf(k) !== kindOf(v));
  return choices[pick % choices.length]!;
}

type Mutation =
  | { kind: 'delete'; at: number }
  | { kind: 'rename'; at: number; how: number }
  | { kind: 'retype'; at: number; pick: number }
  | { kind: 'number'; at: number; value: number }
  | { kind: 'stages'; op: 'duplicate' | 'swap' | 'reverse'; i: number; j: number };

const EXTREME = [NaN, Infinity, -Infinity, 1e300, 2 ** 53, 2 ** 53 + 2, -1, 0, 0.5, -0, 1e-300, 4097, 65536];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('rename' as const), at: fc.nat(), how: fc.nat({ max: 3 }) }),
  fc.record({ kind: fc.constant('retype' as const), at: fc.nat(), pick: fc.nat() }),
  fc.record({ kind: fc.constant('number' as const), at: fc.nat(), value: fc.constantFrom(...EXTREME) }),
  fc.record({ kind: fc.constant('stages' as const), op: fc.constantFrom('duplicate' as const, 'swap' as const, 'reverse' as const), i: fc.nat(), j: fc.nat() }),
);

/** Keys whose absence must be refused (in the config as given, with no source header). */
function required(p: Path, doc: Json): boolean {
  const s = formatConfigPath(p);
  if (['version', 'stages', 'stream', 'stream.id', 'stream.kind', 'stream.n', 'stream.rate', 'outputs.mqtt.broker'].includes(s)) return true;
  if (get(doc, ['stream', 'kind']) === 'compressed' && /^stream\.projection(\.(ensemble|n|d|seed))?$/.test(s)) return true;
  if (/^stages\[\d+\]\.type$/.test(s)) return true;
  return /^stages\[\d+\]\.projection(\.(ensemble|n|d|seed))?$/.test(s) && get(doc, [...p.slice(0, 2), 'type']) === 'onlineCp';
}

/** Applies a mutation to a parsed config; returns the new document, the changed path and what the parser must do. */
function mutate(doc: Json, m: Mutation): { doc: Json; path: Path[] | undefined; mustRefuse: boolean } {
  const d = structuredClone(doc);
  const all = paths(d);
  const p = all[('at' in m ? m.at : 0) % all.length]!;
  switch (m.kind) {
    case 'delete': {
      const parent = parentOf(d, p);
      const last = p[p.length - 1]!;
      if (Array.isArray(parent)) parent.splice(last as number, 1);
      else delete parent[last];
      return { doc: d, path: Array.isArray(parent) ? undefined : [p], mustRefuse: !Array.isArray(parent) && required(p, doc) };
    }
    case 'rename': {
      const parent = parentOf(d, p);
      const last = p[p.length - 1]!;
      if (Array.isArray(parent)) return { doc: d, path: undefined, mustRefuse: false };
      const to = [`${last}_x`, String(last).toUpperCase() + 'Q', `${last} `, '__proto__'][m.how]!;
      const entries = Object.entries(parent);
      for (const k of Object.keys(parent)) delete parent[k];
      for (const [k, v] of entries) Object.defineProperty(parent, k === last ? to : k, { value: v, enumerable: true, writable: true, configurable: true });
      // Reported at the unknown new key, or at the old one when it was required.
      return { doc: d, path: [[...p.slice(0, -1), to], p], mustRefuse: true };
    }
    case 'retype': {
      const parent = parentOf(d, p);
      const last = p[p.length - 1]!;
      parent[last] = otherKind(parent[last]!, m.pick);
      return { doc: d, path: [p], mustRefuse: true };
    }
    case 'number': {
      const parent = parentOf(d, p);
      const last = p[p.length - 1]!;
      if (typeof parent[last] !== 'number') return { doc: d, path: undefined, mustRefuse: false };
      parent[last] = m.value;
      return { doc: d, path: [p], mustRefuse: !Number.isFinite(m.value) };
    }
    case 'stages': {
      const stages = (d as { stages?: Json } | null)?.stages;
      if (!Array.isArray(stages) || stages.length === 0) return { doc: d, path: undefined, mustRefuse: false };
      const i = m.i % stages.length, j = m.j % stages.length;
      if (m.op === 'duplicate') stages.splice(i, 0, structuredClone(stages[i]!));
      else if (m.op === 'swap') [stages[i], stages[j]] = [stages[j]!, stages[i]!];
      else stages.reverse();
      return { doc: d, path: undefined, mustRefuse: false };
    }
  }
}

/**
 * Known issues (fixtures.test.ts, reported): parsing allocates from two unbounded integers,
 * so a huge onlineNmf rank (new Float64Array(rank + 256) in OnlineNMF) or onlineCp projection n
 * (new Int32Array(n·p) in makeProjection) throws a RangeError instead of a ConfigError, and a
 * large one (10^7) costs seconds and hundreds of MB. Such documents are left out here.
 */
function knownCrash(doc: Json): boolean {
  const stages = (doc as { stages?: unknown } | null)?.stages;
  if (!Array.isArray(stages)) return false;
  return stages.some((s: { type?: unknown; rank?: unknown; projection?: { n?: unknown } } | null) =>
    (s?.type === 'onlineNmf' && typeof s.rank === 'number' && s.rank > 1e5)
    || (s?.type === 'onlineCp' && typeof s.projection?.n === 'number' && s.projection.n > 1e5));
}

/** Checks a ConfigError: issues with problems, lines inside the text. */
function checkConfigError(e: ConfigError, text: string | undefined): void {
  expect(e.issues.length).toBeGreaterThan(0);
  const lines = text === undefined ? Infinity : text.split('\n').length + 1;
  for (const i of e.issues) {
    expect(i.problem.length).toBeGreaterThan(0);
    if (i.line !== undefined) {
      expect(i.line).toBeGreaterThanOrEqual(1);
      expect(i.line).toBeLessThanOrEqual(lines);
      expect(i.column ?? 1).toBeGreaterThanOrEqual(1);
    }
  }
}

/** Numbers a config may hold before building it costs real memory (projections are n·p integers). */
function small(config: PipelineConfig): boolean {
  let ok = true;
  JSON.stringify(config, (_k, v: unknown) => {
    if (typeof v === 'number' && Math.abs(v) > 1e5) ok = false;
    return v;
  });
  return ok;
}

/** A config that parses must build: the module's promise. */
function checkBuilds(config: PipelineConfig): void {
  if (!small(config)) return;
  expectOnly('buildPipeline', [], () => buildPipeline(config));
}

describe('parsePipelineConfig fuzz', () => {
  it('mutated configs (keys deleted/renamed, wrong types, extreme numbers, stages reordered): only ConfigError, at the changed path', () => {
    const arb = fc.record({ base: fc.constantFrom(0, 1), mutations: fc.array(mutation, { minLength: 1, maxLength: 2 }), yaml: fc.boolean() });
    let refused = 0, accepted = 0;
    runProperty('config mutations', 51, 300, arb, ({ base, mutations, yaml }) => {
      let doc = parseYamlText(BASES[base]) as Json;
      const changes: { path: Path[] | undefined; mustRefuse: boolean }[] = [];
      for (const m of mutations) {
        const r = mutate(doc, m);
        doc = r.doc;
        changes.push(r);
      }
      if (knownCrash(doc)) return;
      const text = yaml ? toYaml(doc) : undefined;
      const r = expectOnly('parsePipelineConfig', [ConfigError], () => parsePipelineConfig(text ?? doc, 'fuzz.yaml'));
      if (r.ok) {
        accepted++;
        checkBuilds(r.value);
      } else {
        refused++;
        checkConfigError(r.error as ConfigError, text);
      }
      // The oracle, for one mutation only (a second one can hide the first, e.g. delete what was renamed).
      if (changes.length !== 1 || !changes[0]!.mustRefuse) return;
      expect(r.ok, `${JSON.stringify(mutations[0])} must be refused`).toBe(false);
      const at = changes[0]!.path;
      if (at === undefined || r.ok) return;
      const wants = at.map(formatConfigPath);
      const near = (i: string, want: string) => i === want || i.startsWith(`${want}.`) || i.startsWith(`${want}[`) || (i !== '' && (want.startsWith(`${i}.`) || want.startsWith(`${i}[`)));
      // A missing stream is reported at the root, its problem naming it ("stream: required …").
      const related = (r.error as ConfigError).issues.some((i) => wants.some((w) => near(i.path, w) || (i.path === '' && i.problem.startsWith(`${w}: `))));
      expect(related, `no issue at or around ${wants.join(' or ')}: ${(r.error as Error).message}`).toBe(true);
    });
    expect(refused).toBeGreaterThan(150);
    expect(accepted).toBeGreaterThan(10);
  });

  it('broken YAML text: only ConfigError, with lines inside the text; what parses builds', () => {
    const snippet = fc.constantFrom(
      ':', ' - ', '{', '}', '[', ']', '"', "'", '\t', '&a ', '*a', '*b ', '!!binary ', '!!set ', '!!omap ', '!!timestamp ', '!custom ', '%YAML 1.1\n', '---\n', '...\n',
      '#', '? ', '<<: *a\n', '\u0000', '\ufeff', '\r', 'é', '\\', 'version: 2\n', 'stages: []\n', 'stream: null\n', '__proto__: {}\n', 'constructor: 1\n', 'x: .nan\n', ': :',
    );
    const edit = fc.oneof(
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(snippet, fc.string({ unit: 'binary', maxLength: 4 })) }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 6 }) }),
      fc.record({ kind: fc.constant('line' as const), at: fc.nat(), op: fc.constantFrom('duplicate', 'indent', 'dedent', 'tab', 'drop') }),
      fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }),
    );
    runProperty('config text', 52, 300, fc.record({ base: fc.constantFrom(0, 1), edits: fc.array(edit, { minLength: 1, maxLength: 3 }) }), ({ base, edits }) => {
      let text: string = BASES[base];
      for (const e of edits) {
        if (e.kind === 'insert') {
          const at = e.at % (text.length + 1);
          text = text.slice(0, at) + e.text + text.slice(at);
        } else if (e.kind === 'delete') {
          const at = e.at % Math.max(1, text.length);
          text = text.slice(0, at) + text.slice(at + e.len);
        } else if (e.kind === 'truncate') {
          text = text.slice(0, e.keep % (text.length + 1));
        } else {
          const lines = text.split('\n');
          const i = e.at % lines.length;
          const l = lines[i]!;
          if (e.op === 'duplicate') lines.splice(i, 0, l);
          else if (e.op === 'indent') lines[i] = `  ${l}`;
          else if (e.op === 'dedent') lines[i] = l.replace(/^ {1,2}/, '');
          else if (e.op === 'tab') lines[i] = `\t${l}`;
          else lines.splice(i, 1);
          text = lines.join('\n');
        }
      }
      const r = expectOnly('parsePipelineConfig', [ConfigError], () => parsePipelineConfig(text, 'fuzz.yaml'));
      if (r.ok) checkBuilds(r.value);
      else checkConfigError(r.error as ConfigError, text);
    });
  });

  it('hostile documents: deep nesting, alias bombs, huge lists and keys, any text: only ConfigError, quickly', () => {
    const hostile = fc.oneof(
      fc.constantFrom(10, 300, 3000).map((d) => `version: 1\nstages: ${'['.repeat(d)}${']'.repeat(d)}\n`),
      fc.constantFrom(10, 300, 3000).map((d) => `version: 1\nstream: ${'{a: '.repeat(d)}1${'}'.repeat(d)}\nstages: []\n`),
      fc.constantFrom(5, 9).map((k) => {
        // a billion laughs: each level 10 aliases of the one before
        let t = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
        for (let i = 1; i < k; i++) t += `a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]\n`;
        return `${t}version: 1\nstages: *a${k - 1}\n`;
      }),
      fc.constantFrom(100, 2000).map((n) => `version: 1\nstages:\n${'  - { type: validate }\n'.repeat(n)}`),
      fc.constantFrom(10_000, 1_000_000).map((n) => `version: 1\n${'k'.repeat(n)}: 1\nstages: []\n`),
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.jsonValue({ maxDepth: 3 }).map((v) => toYaml(v)),
    );
    runProperty('config hostile', 53, 60, hostile, (text) => {
      const started = performance.now();
      const r = expectOnly('parsePipelineConfig', [ConfigError], () => parsePipelineConfig(text, 'fuzz.yaml'));
      if (r.ok) checkBuilds(r.value);
      else checkConfigError(r.error as ConfigError, text);
      expect(performance.now() - started, `${text.length} characters took too long`).toBeLessThan(3000);
    });
  });

  it('any value passed as an already parsed object: only ConfigError', () => {
    const arb = fc.oneof(
      fc.anything({ maxDepth: 3, withNullPrototype: true, withMap: true, withSet: true, withBigInt: true, withDate: true, withTypedArray: true, withSparseArray: true, withBoxedValues: true }),
      fc.record({ version: fc.constantFrom<unknown>(1, '1', 2, null), stages: fc.anything({ maxDepth: 2 }), stream: fc.anything({ maxDepth: 2 }) }, { requiredKeys: [] }),
    );
    runProperty('config objects', 54, 200, arb, (value) => {
      const r = expectOnly('parsePipelineConfig', [ConfigError], () => parsePipelineConfig(value, 'fuzz object'));
      if (r.ok) checkBuilds(r.value);
      else checkConfigError(r.error as ConfigError, undefined);
    });
  });
});
