/**
 * The pipeline config: valid configs parse (YAML and objects alike, defaults left to the
 * operators); every kind of error names the file, the YAML line:column, the path and the problem;
 * the schema follows the operators' constraint tables and validators; the cross-stage (flow)
 * rules; the shipped config/*.yaml files parse and build.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { ONLINE_NMF_CONSTRAINTS } from '../../src/factorize/online/nmf.js';
import { describeConstraint, type Constraint, type ConstraintTable } from '../../src/factorize/validate.js';
import { BATCH_FRAMES_CONSTRAINTS } from '../../pipelines/batch.js';
import { buildPipeline } from '../../pipelines/builder.js';
import { COMPRESS_CONSTRAINTS } from '../../pipelines/compress.js';
import { formatConfigPath, parsePipelineConfig, STAGE_RULES } from '../../pipelines/config.js';
import { METRICS_CONSTRAINTS } from '../../pipelines/metrics.js';
import { ONLINE_NMF_OPERATOR_CONSTRAINTS } from '../../pipelines/onlineNmf.js';
import { RECONSTRUCT_CONSTRAINTS } from '../../pipelines/reconstruct.js';

/** The base YAML; tests replace whole lines by number (1-based), so the expected lines are plain. */
const BASE = [
  'version: 1', //                                                                           1
  'stream:', //                                                                              2
  '  id: sim', //                                                                            3
  '  kind: compressed', //                                                                   4
  '  n: 300', //                                                                             5
  '  rate: 250', //                                                                          6
  '  projection: { ensemble: sparse-binary, n: 300, d: 80, p: 5, seed: 11 }', //             7
  'stages:', //                                                                              8
  '  - type: detectGaps', //                                                                 9
  '  - type: validate', //                                                                  10
  '  - type: batch', //                                                                     11
  '    maxBatch: 32', //                                                                    12
  '  - type: onlineNmf', //                                                                 13
  '    rank: 3', //                                                                         14
  '  - type: reconstruct', //                                                               15
  '    everyMs: 0', //                                                                      16
  '  - type: metrics', //                                                                   17
];

/** BASE with line `n` (1-based) replaced by `text` (several lines allowed, or '' to delete it). */
function edit(...edits: [number, string][]): string {
  const lines = [...BASE];
  for (const [n, text] of edits) lines[n - 1] = text;
  return lines.filter((l) => l !== '').join('\n');
}

/** 1-based column of `token` in `line` (how the expected columns are computed, rather than counted by hand). */
function col(line: string, token: string): number {
  const i = line.indexOf(token);
  if (i < 0) throw new Error(`${token} not in ${line}`);
  return i + 1;
}

/** The ConfigError that parsing `input` throws (fails the test if none). */
function errorOf(input: unknown, source = 'test.yaml'): ConfigError {
  try {
    parsePipelineConfig(input, source);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

const PROJ = { ensemble: 'sparse-binary', n: 300, d: 80, p: 5, seed: 11 };
const COMPRESSED = { id: 'sim', kind: 'compressed', n: 300, rate: 250, projection: PROJ };
const RAW = { id: 'raw', kind: 'raw', n: 300, rate: 250 };

/** An object config over a compressed stream. */
function obj(stages: unknown[], stream: unknown = COMPRESSED): Record<string, unknown> {
  return { version: 1, stream, stages };
}

describe('parsePipelineConfig: valid configs', () => {
  it('parses YAML into the typed config, with absent options left absent (the operators default them)', () => {
    const config = parsePipelineConfig(BASE.join('\n'), 'test.yaml');
    expect(config.version).toBe(1);
    expect(config.stream).toEqual(COMPRESSED);
    expect(config.stages.map((s) => s.type)).toEqual(['detectGaps', 'validate', 'batch', 'onlineNmf', 'reconstruct', 'metrics']);
    expect(config.stages[2]).toEqual({ type: 'batch', maxBatch: 32 });
    expect(config.stages[3]).toEqual({ type: 'onlineNmf', rank: 3 });
    expect(config.stages[5]).toEqual({ type: 'metrics' });
    expect(Object.isFrozen(config) && Object.isFrozen(config.stages[2]) && Object.isFrozen(config.stream.projection)).toBe(true);
  });

  it('parses the same config given as an object, leaving the caller\'s object alone', () => {
    const input = obj([{ type: 'batch', maxBatch: 32 }]);
    expect(parsePipelineConfig(input).stages[0]).not.toBe((input.stages as unknown[])[0]);
    expect(Object.isFrozen(input) || Object.isFrozen(input.stages) || Object.isFrozen(input.stream)).toBe(false);
    const fromObject = parsePipelineConfig(obj([
      { type: 'detectGaps' }, { type: 'validate' }, { type: 'batch', maxBatch: 32 }, { type: 'onlineNmf', rank: 3 },
      { type: 'reconstruct', everyMs: 0 }, { type: 'metrics' },
    ]));
    expect(fromObject).toEqual(parsePipelineConfig(BASE.join('\n')));
  });

  it('accepts the raw path: compress, then a validate that checks the compressed frames', () => {
    const config = parsePipelineConfig(obj([
      { type: 'validate' }, { type: 'compress', projection: { ...PROJ, seed: 2 }, poolSize: 4 }, { type: 'validate' },
      { type: 'batch' }, { type: 'onlineNmf', rank: 80, clipNegative: false, forgetting: 1, backend: 'js' },
      { type: 'reconstruct', recovery: { noise: 0.05 } }, { type: 'metrics', intervalMs: 0.5 },
    ], RAW));
    expect(config.stages).toHaveLength(7);
  });

  it('parses and builds every shipped config/*.yaml; default.yaml is the simulated compressed NMF pipeline', () => {
    const files = readdirSync('config').filter((f) => f.endsWith('.yaml'));
    expect(files).toContain('default.yaml');
    for (const f of files) {
      const config = parsePipelineConfig(readFileSync(`config/${f}`, 'utf8'), `config/${f}`);
      const built = buildPipeline(config);
      expect(built.config).toBe(config);
    }
    const def = parsePipelineConfig(readFileSync('config/default.yaml', 'utf8'), 'config/default.yaml');
    expect(def.stream.kind).toBe('compressed');
    expect(def.stages.map((s) => s.type)).toEqual(['detectGaps', 'validate', 'batch', 'onlineNmf', 'reconstruct', 'metrics']);
    const built = buildPipeline(def);
    expect(built.output).toBe('updates');
    expect(built.branches.map((b) => b.name)).toEqual(['factors', 'metrics']);
  });
});

describe('parsePipelineConfig: errors give the file, line:column, path and problem', () => {
  it('formats the message as file:line:column: path: problem and copies the first issue onto the error', () => {
    const e = errorOf(edit([14, '    rank: three']));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.name).toBe('ConfigError');
    expect([e.source, e.path, e.line, e.column]).toEqual(['test.yaml', 'stages[3].rank', 14, 11]);
    expect(e.problem).toBe(`must be ${describeConstraint(ONLINE_NMF_CONSTRAINTS.rank)}; got "three"`);
    expect(e.message).toBe(`test.yaml:14:11: stages[3].rank: ${e.problem}`);
    expect(e.issues).toHaveLength(1);
  });

  it('YAML syntax errors and duplicate keys', () => {
    const syntax = errorOf(edit([3, '  id: [sim']));
    expect(syntax.line).toBeGreaterThanOrEqual(3);
    expect(syntax.problem).toMatch(/^YAML: /);
    expect(syntax.path).toBe('');
    const dup = errorOf(edit([14, '    rank: 3\n    rank: 4']));
    expect([dup.line, dup.column]).toEqual([15, 5]);
    expect(dup.problem).toMatch(/unique/);
  });

  it('a value out of its operator\'s range, with the constraint table\'s phrase', () => {
    const e = errorOf(edit([12, '    maxBatch: 0']));
    expect([e.path, e.line, e.column]).toEqual(['stages[2].maxBatch', 12, 15]);
    expect(e.problem).toBe(`must be ${describeConstraint(BATCH_FRAMES_CONSTRAINTS.maxBatch)}; got 0`);
  });

  it('an unknown key, at the key, with a suggestion or the known keys', () => {
    const e = errorOf(edit([12, '    maxbatch: 32']));
    expect([e.path, e.line, e.column]).toEqual(['stages[2].maxbatch', 12, 5]);
    expect(e.problem).toBe("unknown key 'maxbatch'; did you mean 'maxBatch'?");
    const root = errorOf(edit([1, 'version: 1\noutputs: []']));
    expect([root.path, root.line, root.column]).toEqual(['outputs', 2, 1]);
    expect(root.problem).toBe("unknown key 'outputs'; known keys: version, stream, stages");
    const flowLine = '  projection: { ensemble: sparse-binary, n: 300, d: 80, p: 5, seed: 11, scale: 2 }';
    const inFlow = errorOf(edit([7, flowLine]));
    expect([inFlow.path, inFlow.line, inFlow.column]).toEqual(['stream.projection.scale', 7, col(flowLine, 'scale')]);
  });

  it('an unknown or missing stage type lists the known ones', () => {
    const e = errorOf(edit([11, '  - type: shuffle']));
    expect([e.path, e.line, e.column]).toEqual(['stages[2].type', 11, 11]);
    expect(e.problem).toBe(`unknown stage type "shuffle"; known: ${Object.keys(STAGE_RULES).join(', ')}`);
    const missing = errorOf(edit([11, '  - maxWaitMs: 3'], [12, '']));
    expect(missing.path).toBe('stages[2].type');
    expect(missing.problem).toMatch(/^missing: every stage needs a type/);
  });

  it('a missing required field points at its stage', () => {
    const e = errorOf(edit([14, '    seed: 1']));
    expect([e.path, e.line, e.column]).toEqual(['stages[3].rank', 13, 5]);
    expect(e.problem).toBe(`is missing; it must be ${describeConstraint(ONLINE_NMF_CONSTRAINTS.rank)}`);
  });

  it('the version, the document and the stages list', () => {
    expect(errorOf(edit([1, 'version: 2']))).toMatchObject({ path: 'version', line: 1, column: 10, problem: 'must be 1 (the only config version); got 2' });
    expect(errorOf('- 1\n- 2')).toMatchObject({ path: '', line: 1, column: 1 });
    expect(errorOf(edit([8, 'stages: 3'], [9, ''], [10, ''], [11, ''], [12, ''], [13, ''], [14, ''], [15, ''], [16, ''], [17, '']))).toMatchObject({
      path: 'stages', line: 8, column: 9, problem: 'must be a list of stages; got 3',
    });
  });

  it('the stream header, by validateStreamInfo\'s rules', () => {
    const line = '  projection: { ensemble: sparse-binary, n: 301, d: 80, p: 5, seed: 11 }';
    const n = errorOf(edit([7, line]));
    expect([n.path, n.line, n.column]).toEqual(['stream.projection.n', 7, col(line, '301')]);
    expect(n.problem).toMatch(/^must equal n = 300/);
    const rate = errorOf(edit([6, '  rate: -1']));
    expect([rate.path, rate.line]).toEqual(['stream.rate', 6]);
    expect(rate.problem).toMatch(/^must be a finite number ≥ 0/);
    const kind = errorOf(edit([4, '  kind: raw']));
    expect(kind.path).toBe('stream.projection');
    expect(kind.problem).toMatch(/must be absent when kind is 'raw'/);
    expect(errorOf(edit([3, '  id: 7']))).toMatchObject({ path: 'stream.id', line: 3, problem: 'must be a string; got 7' });
  });

  it('a compress stage\'s projection, by validateProjectionSpec\'s rules', () => {
    const e = errorOf(obj([{ type: 'compress', projection: { ...PROJ, p: 81 } }], RAW), 'x');
    expect(e.path).toBe('stages[0].projection.p');
    expect(e.problem).toBe('must be an integer with 1 ≤ p ≤ d = 80; got 81');
    expect(e.line).toBeUndefined();
    expect(e.message).toBe(`x: stages[0].projection.p: ${e.problem}`);
  });

  it('rules only the model or the solver knows: warmStartFrames ≥ rank, the backend, recovery options', () => {
    const warm = errorOf(edit([14, '    rank: 3\n    warmStartFrames: 2']));
    expect([warm.path, warm.line]).toEqual(['stages[3].warmStartFrames', 15]);
    expect(warm.problem).toBe('must be 0 or an integer ≥ rank = 3; got 2');
    expect(errorOf(edit([14, '    rank: 3\n    backend: gpu']))).toMatchObject({ path: 'stages[3].backend', line: 15 });
    const line = '    recovery: { tolerance: 5 }';
    const rec = errorOf(edit([16, line]));
    expect([rec.path, rec.line, rec.column]).toEqual(['stages[4].recovery.tolerance', 16, col(line, '5')]);
    expect(rec.problem).toMatch(/^must be a finite number in \(0, 0\.1\]; got 5$/);
    expect(errorOf(edit([16, '    recovery: { method: lp }'])).path).toBe('stages[4].recovery.method');
  });

  it('reports every issue, in the order of the file', () => {
    const e = errorOf(edit([16, '    everyMs: -1'], [12, '    maxBatch: 1.5'], [3, '  id: ""']));
    expect(e.issues.map((i) => [i.path, i.line])).toEqual([['stream.id', 3], ['stages[2].maxBatch', 12], ['stages[4].everyMs', 16]]);
    expect(e.message.split('\n')).toHaveLength(3);
  });

  it('every field of every constraint table is checked with its path (generated, not restated)', () => {
    // A value just outside each constraint, for the stage where the field lives.
    const outside = (c: Constraint): unknown => {
      switch (c.type) {
        case 'int': return c.min !== undefined ? c.min - 1 : 0.5;
        case 'number': return c.min !== undefined ? (c.minExclusive ? c.min : c.min - 1) : 'x';
        case 'boolean': return 'true';
        case 'seed': return 1.5;
        case 'enum': return 'no-such-value';
      }
    };
    const stages = (): Record<string, unknown>[] => [
      { type: 'compress', projection: PROJ }, { type: 'batch' }, { type: 'onlineNmf', rank: 3 }, { type: 'reconstruct' }, { type: 'metrics' },
    ];
    const tables: [number, ConstraintTable<object>][] = [
      [0, COMPRESS_CONSTRAINTS], [1, BATCH_FRAMES_CONSTRAINTS], [2, ONLINE_NMF_CONSTRAINTS],
      [2, ONLINE_NMF_OPERATOR_CONSTRAINTS], [3, RECONSTRUCT_CONSTRAINTS], [4, METRICS_CONSTRAINTS],
    ];
    let checked = 0;
    for (const [index, table] of tables) {
      for (const [field, c] of Object.entries(table) as [string, Constraint][]) {
        const s = stages();
        s[index] = { ...s[index], [field]: outside(c) };
        const e = errorOf(obj(s, RAW));
        expect(e.path, field).toBe(formatConfigPath(['stages', index, field]));
        expect(e.problem, field).toMatch(new RegExp(`^must be ${describeConstraint(c).replace(/[[\]()∞.]/g, '\\$&')}`));
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(16);
  });
});

describe('parsePipelineConfig: cross-stage rules', () => {
  const problemOf = (stages: unknown[], stream: unknown = COMPRESSED) => {
    const e = errorOf(obj(stages, stream));
    return [e.path, e.problem];
  };

  it('onlineNmf needs compressed frames: a compressed stream or a compress stage before it', () => {
    const [path, problem] = problemOf([{ type: 'batch' }, { type: 'onlineNmf', rank: 3 }], RAW);
    expect(path).toBe('stages[1].type');
    expect(problem).toMatch(/^onlineNmf needs compressed frames, but the stream is raw and no compress stage precedes it/);
  });

  it('onlineNmf needs a batch stage before it; reconstruct and metrics need an onlineNmf', () => {
    expect(problemOf([{ type: 'validate' }, { type: 'onlineNmf', rank: 3 }])).toEqual([
      'stages[1].type', 'onlineNmf takes blocks of frames, but stage 0 (validate) emits frames here: put a batch stage before it',
    ]);
    expect(problemOf([{ type: 'batch' }, { type: 'reconstruct' }])).toEqual([
      'stages[1].type', 'reconstruct takes model updates, but stage 0 (batch) emits blocks of frames here: put an onlineNmf stage before it',
    ]);
    expect(problemOf([{ type: 'metrics' }])[1]).toMatch(/^metrics takes model updates, but the stream emits frames here/);
  });

  it('frame stages must come before batch', () => {
    expect(problemOf([{ type: 'batch' }, { type: 'validate' }])).toEqual([
      'stages[1].type', 'validate takes frames, but stage 0 (batch) emits blocks of frames here: place it before the stage that batches them',
    ]);
  });

  it('rank ≤ d, the length of the frames reaching onlineNmf (the stream\'s, or compress\'s)', () => {
    expect(problemOf([{ type: 'batch' }, { type: 'onlineNmf', rank: 81 }])).toEqual([
      'stages[1].rank', 'must be ≤ d = 80, the length of the frames reaching it (stream.projection.d); got 81',
    ]);
    expect(problemOf([{ type: 'compress', projection: { ...PROJ, d: 20, p: 2 } }, { type: 'batch' }, { type: 'onlineNmf', rank: 21 }], RAW)).toEqual([
      'stages[2].rank', 'must be ≤ d = 20, the length of the frames reaching it (stages[0].projection.d); got 21',
    ]);
  });

  it('compress: its n equals the stream\'s n, and it takes raw frames only', () => {
    expect(problemOf([{ type: 'compress', projection: { ...PROJ, n: 200 } }], RAW)).toEqual([
      'stages[0].projection.n', 'must equal n = 300, the length of the raw frames of the stream; got 200',
    ]);
    const [path, problem] = problemOf([{ type: 'compress', projection: PROJ }]);
    expect(path).toBe('stages[0].type');
    expect(problem).toMatch(/^compress takes raw frames, but the stream emits compressed frames \(length d = 80/);
    expect(problemOf([{ type: 'compress', projection: PROJ }, { type: 'compress', projection: { ...PROJ, n: 80, d: 40 } }], RAW)[0]).toBe('stages[1].type');
  });

  it('one branch of each kind', () => {
    expect(problemOf([{ type: 'batch' }, { type: 'onlineNmf', rank: 3 }, { type: 'metrics' }, { type: 'metrics' }])).toEqual([
      'stages[3].type', 'a second metrics branch (stage 2 feeds it already): one metrics stage per pipeline',
    ]);
  });

  it('detectGaps and validate read the same seq counter: one modulus', () => {
    expect(problemOf([{ type: 'detectGaps', modulo: 256 }, { type: 'validate' }])).toEqual([
      'stages[1].seqModulo', 'must equal the seq modulus of stages[0].modulo (256), as both read the same counter; got unset',
    ]);
    expect(() => parsePipelineConfig(obj([{ type: 'detectGaps', modulo: 256 }, { type: 'validate', seqModulo: 256 }]))).not.toThrow();
  });

  it('gives the YAML line of a cross-stage problem', () => {
    const e = errorOf(edit([14, '    rank: 81']));
    expect([e.path, e.line, e.column]).toEqual(['stages[3].rank', 14, 11]);
    const order = errorOf(edit([9, '  - type: batch'], [11, '  - type: detectGaps'], [12, '']));
    expect([order.path, order.line, order.column]).toEqual(['stages[1].type', 10, 11]);
  });
});
