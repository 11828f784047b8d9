/**
 * The pipeline config: valid configs parse (YAML and objects alike, defaults left to the
 * operators); every kind of error names the file, the YAML line:column, the path and the problem;
 * the schema follows the operators' constraint tables and validators; the cross-stage (flow)
 * rules; the shipped config/*.yaml files parse and build; the stages stft (a new frame header),
 * window and onlineCp (the tensor path).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hashSecretSync, verifySecret } from '../../devices/mqtt/brokerAuth.js';
import { ConfigError } from '../../src/errors.js';
import { ONLINE_CP_CONSTRAINTS } from '../../src/factorize/online/cp.js';
import { ONLINE_NMF_CONSTRAINTS } from '../../src/factorize/online/nmf.js';
import { describeConstraint, type Constraint, type ConstraintTable } from '../../src/factorize/validate.js';
import { BATCH_FRAMES_CONSTRAINTS } from '../../pipelines/batch.js';
import { buildPipeline } from '../../pipelines/builder.js';
import { COMPRESS_CONSTRAINTS } from '../../pipelines/compress.js';
import { formatConfigPath, parsePipelineConfig, pipelineFlows, STAGE_RULES } from '../../pipelines/config.js';
import { METRICS_CONSTRAINTS } from '../../pipelines/metrics.js';
import { ONLINE_CP_OPERATOR_CONSTRAINTS } from '../../pipelines/onlineCp.js';
import { ONLINE_NMF_OPERATOR_CONSTRAINTS } from '../../pipelines/onlineNmf.js';
import { RECONSTRUCT_CONSTRAINTS } from '../../pipelines/reconstruct.js';
import { STFT_OPERATOR_CONSTRAINTS, stftStreamInfo } from '../../pipelines/stft.js';
import { WINDOW_CONSTRAINTS } from '../../pipelines/window.js';

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
    // A scale-out worker's config (source …/+) gets each stream's header at run time: use one here.
    const workerStream = { id: 'dev1', kind: 'compressed' as const, n: 32, rate: 250, projection: { ensemble: 'sparse-binary' as const, n: 32, d: 12, p: 3, seed: 1 } };
    for (const f of files) {
      const text = readFileSync(`config/${f}`, 'utf8');
      const config = parsePipelineConfig(text, `config/${f}`, /^source: mqtt:\/\/\S+\/\+$/m.test(text) ? { stream: workerStream } : {});
      const built = buildPipeline(config);
      expect(built.config).toBe(config);
    }
    const def = parsePipelineConfig(readFileSync('config/default.yaml', 'utf8'), 'config/default.yaml');
    expect(def.stream.kind).toBe('compressed');
    expect(def.stages.map((s) => s.type)).toEqual(['detectGaps', 'validate', 'batch', 'onlineNmf', 'reconstruct', 'metrics']);
    const built = buildPipeline(def);
    expect(built.output).toBe('updates');
    expect(built.branches.map((b) => b.name)).toEqual(['factors', 'metrics']);
    // The EEG spectrogram: raw 8 channels → stft (45 bins × 8 = 360 values) → compress to d = 90 → NMF of rank 6.
    const spec = parsePipelineConfig(readFileSync('config/eeg-spectrogram.yaml', 'utf8'), 'config/eeg-spectrogram.yaml');
    expect(spec.stages.map((s) => s.type)).toEqual(['validate', 'stft', 'compress', 'batch', 'onlineNmf', 'reconstruct', 'metrics']);
    const flows = pipelineFlows(spec).flows;
    expect(flows[2]!.info).toMatchObject({ kind: 'raw', n: 360, rate: 250 / 63 });
    expect(flows[4]!.info.projection).toMatchObject({ n: 360, d: 90 });
    expect(spec.stages[4]).toMatchObject({ rank: 6 });
    expect(buildPipeline(spec).output).toBe('updates');
    const tensor = buildPipeline(parsePipelineConfig(readFileSync('config/tensor-eeg.yaml', 'utf8'), 'config/tensor-eeg.yaml'));
    expect(tensor.config.stages.map((s) => s.type)).toEqual(['validate', 'stft', 'window', 'onlineCp']);
    expect([tensor.output, tensor.branches.length]).toEqual(['cpUpdates', 0]);
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
    const root = errorOf(edit([1, 'version: 1\nsinks: []']));
    expect([root.path, root.line, root.column]).toEqual(['sinks', 2, 1]);
    expect(root.problem).toBe("unknown key 'sinks'; known keys: version, source, stream, stages, run, outputs");
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
      { type: 'stft' }, { type: 'window', length: 4 }, { type: 'onlineCp', projection: { ...PROJ, n: 4, d: 2, p: 1 }, rank: 1, shape: [1, 1] },
    ];
    const tables: [number, ConstraintTable<object>][] = [
      [0, COMPRESS_CONSTRAINTS], [1, BATCH_FRAMES_CONSTRAINTS], [2, ONLINE_NMF_CONSTRAINTS],
      [2, ONLINE_NMF_OPERATOR_CONSTRAINTS], [3, RECONSTRUCT_CONSTRAINTS], [4, METRICS_CONSTRAINTS],
      [5, STFT_OPERATOR_CONSTRAINTS], [6, WINDOW_CONSTRAINTS], [7, ONLINE_CP_CONSTRAINTS], [7, ONLINE_CP_OPERATOR_CONSTRAINTS],
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
    expect(checked).toBeGreaterThanOrEqual(34);
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

/** A raw 3-channel stream at 64 Hz, then stft, compress and NMF, and the tensor path; lines numbered as in BASE. */
const EEG = [
  'version: 1', //                                                                               1
  'stream: { id: eeg, kind: raw, n: 3, rate: 64, labels: [Fz, Cz, Pz] }', //                     2
  'stages:', //                                                                                  3
  '  - type: detectGaps', //                                                                     4
  '    modulo: 256', //                                                                          5
  '  - type: stft', //                                                                           6
  '    window: 0.5', //                                                                          7
  '    hop: 0.125', //                                                                           8
  '    fmin: 2', //                                                                              9
  '    fmax: 20', //                                                                            10
  '    seqModulo: 256', //                                                                      11
  '  - type: validate', //                                                                      12
  '  - type: compress', //                                                                      13
  '    projection: { ensemble: sparse-binary, n: 30, d: 20, p: 3, seed: 4 }', //               14
  '  - type: batch', //                                                                         15
  '  - type: onlineNmf', //                                                                     16
  '    rank: 4', //                                                                             17
];

/** stft 0.5 s / 0.125 s, 2–20 Hz at 64 Hz: 32 samples, nfft 32, bins 2, 4, …, 20 Hz (2 Hz apart): 10 bins × 3 channels. */
const BINS = 10;

const TENSOR = [
  'version: 1', //                                                                               1
  'stream: { id: eeg, kind: raw, n: 3, rate: 64 }', //                                           2
  'stages:', //                                                                                  3
  '  - type: stft', //                                                                           4
  '    window: 0.5', //                                                                          5
  '    hop: 0.125', //                                                                           6
  '    fmin: 2', //                                                                              7
  '    fmax: 20', //                                                                             8
  '  - type: window', //                                                                         9
  '    length: 16', //                                                                          10
  '    hop: 4', //                                                                              11
  '  - type: onlineCp', //                                                                      12
  '    projection: { ensemble: sparse-binary, n: 16, d: 6, p: 2, seed: 5 }', //                13
  '    rank: 2', //                                                                           14
];

/** `lines` with line `n` (1-based) replaced by `text` ('' deletes it). */
function editOf(lines: string[], ...edits: [number, string][]): string {
  const out = [...lines];
  for (const [n, text] of edits) out[n - 1] = text;
  return out.filter((l) => l !== '').join('\n');
}

const RAW3 = { id: 'eeg', kind: 'raw', n: 3, rate: 64 };
const STFT = { type: 'stft', window: 0.5, hop: 0.125, fmin: 2, fmax: 20 };
const CP_PROJ = { ensemble: 'sparse-binary', n: 16, d: 6, p: 2, seed: 5 };

describe('parsePipelineConfig: stft, window and onlineCp', () => {
  const problemOf = (stages: unknown[], stream: unknown = RAW3) => {
    const e = errorOf(obj(stages, stream));
    return [e.path, e.problem];
  };

  it('parse from YAML as written (absent options left to the operators)', () => {
    const eeg = parsePipelineConfig(EEG.join('\n'), 'eeg.yaml');
    expect(eeg.stages[1]).toEqual({ type: 'stft', window: 0.5, hop: 0.125, fmin: 2, fmax: 20, seqModulo: 256 });
    const tensor = parsePipelineConfig(TENSOR.join('\n'), 'tensor.yaml');
    expect(tensor.stages[1]).toEqual({ type: 'window', length: 16, hop: 4 });
    expect(tensor.stages[2]).toEqual({ type: 'onlineCp', projection: CP_PROJ, rank: 2 });
    const full = parsePipelineConfig(obj([
      { ...STFT, scale: 'magnitude', rate: 64, seqModulo: 7 }, { type: 'window', length: 16, hop: 2 },
      { type: 'onlineCp', projection: CP_PROJ, rank: 2, shape: [BINS, 3], forgetting: 0.5,
        warmStartWindows: 0, seed: 3, recoverEvery: 2, factors: true, maxPendingRecoveries: 1, recovery: { noise: 0.05 } },
    ], RAW3));
    expect(full.stages[2]).toMatchObject({ shape: [BINS, 3], recovery: { noise: 0.05 }, factors: true });
  });

  it('stft gives the frames a new header: the flows after it carry stftStreamInfo and the [bins, channels] layout', () => {
    const config = parsePipelineConfig(EEG.join('\n'));
    const { flows, output } = pipelineFlows(config);
    const want = stftStreamInfo({ id: 'eeg', kind: 'raw', n: 3, rate: 64, labels: ['Fz', 'Cz', 'Pz'] }, { window: 0.5, hop: 0.125, fmin: 2, fmax: 20 });
    expect(want).toMatchObject({ n: BINS * 3, rate: 8 });
    expect(want.labels!.slice(0, 4)).toEqual(['Fz@2Hz', 'Cz@2Hz', 'Pz@2Hz', 'Fz@4Hz']);
    expect(flows[2]!.info).toEqual(want); // validate checks the spectral frames against it
    expect(flows[2]!.modes?.shape).toEqual([BINS, 3]);
    expect(flows[4]!.info).toMatchObject({ kind: 'compressed', n: BINS * 3, rate: 8, projection: { d: 20 } });
    expect(flows[4]!.modes).toBeUndefined(); // compressed frames have no [bins, channels] layout
    expect(output.kind).toBe('updates');
  });

  it('"compress n = the frame length" and "rank ≤ d" hold against the header stft makes', () => {
    const n = errorOf(editOf(EEG, [14, '    projection: { ensemble: sparse-binary, n: 3, d: 2, p: 1, seed: 4 }']));
    expect([n.path, n.line, n.problem]).toEqual(['stages[3].projection.n', 14, `must equal n = ${BINS * 3}, the length of the raw frames of stage 2 (validate); got 3`]);
    const rank = errorOf(editOf(EEG, [17, '    rank: 21']));
    expect([rank.path, rank.line, rank.column, rank.problem]).toEqual(['stages[5].rank', 17, 11, 'must be ≤ d = 20, the length of the frames reaching it (stages[3].projection.d); got 21']);
    // Without the compress stage, NMF would get the raw spectra: refused as before.
    expect(problemOf([STFT, { type: 'batch' }, { type: 'onlineNmf', rank: 2 }])[1]).toMatch(/^onlineNmf needs compressed frames/);
  });

  it('stft takes raw frames only, once, and before any window', () => {
    const proj = { ensemble: 'sparse-binary', n: 3, d: 2, p: 1, seed: 1 };
    expect(problemOf([{ type: 'compress', projection: proj }, STFT])).toEqual([
      'stages[1].type', 'stft takes raw frames (one sample of each channel), but stage 0 (compress) emits compressed frames (length d = 2, stages[0].projection.d): place it before the compress stage',
    ]);
    expect(problemOf([STFT], { ...RAW, kind: 'compressed', projection: PROJ })[1]).toMatch(/^stft takes raw frames .* but the stream emits compressed frames/);
    expect(problemOf([STFT, STFT])).toEqual([
      'stages[1].type', `stft takes raw samples, but the frames of stages[0] (stft: ${BINS} bins × 3 channels) are spectra already: one stft per pipeline`,
    ]);
    expect(problemOf([{ type: 'window', length: 4 }, STFT])).toEqual([
      'stages[1].type', 'stft takes frames, but stage 0 (window) emits windows of frames here: place it before the window stage',
    ]);
  });

  it('stft: the sampling rate is the header\'s (or given, for an irregular stream), its own rules at the field and line', () => {
    expect(problemOf([{ ...STFT, rate: 32 }])).toEqual(['stages[0].rate', 'must be the rate of its input frames, 64 Hz (or absent); got 32']);
    expect(problemOf([STFT], { ...RAW3, rate: 0 })).toEqual([
      'stages[0].rate', 'is missing: the frames of the stream have rate 0 (irregular), so stft needs their sampling rate here (Hz)',
    ]);
    expect(pipelineFlows(parsePipelineConfig(obj([{ ...STFT, rate: 64 }], { ...RAW3, rate: 0 }))).output.info.rate).toBe(8);
    const w = errorOf(editOf(EEG, [7, '    window: 0.01']));
    expect([w.path, w.line, w.column, w.problem]).toEqual(['stages[1].window', 7, 13, 'must be at least 2 samples (0.03125 s at 64 Hz); got 0.01']);
    const f = errorOf(editOf(EEG, [10, '    fmax: 40']));
    expect([f.path, f.line, f.problem]).toEqual(['stages[1].fmax', 10, 'must be such that 0 ≤ fmin ≤ fmax ≤ rate/2 = 32 Hz; got fmin = 2, fmax = 40']);
    expect(problemOf([{ type: 'stft', fmin: 40 }])).toEqual(['stages[0].fmin', 'must be such that 0 ≤ fmin ≤ fmax ≤ rate/2 = 32 Hz; got fmin = 40, fmax = 32']);
    const scale = errorOf(editOf(EEG, [10, '    fmax: 20\n    scale: db']));
    expect([scale.path, scale.line, scale.problem]).toEqual(['stages[1].scale', 11, `must be ${describeConstraint(STFT_OPERATOR_CONSTRAINTS.scale)}; got "db"`]);
  });

  it('stft reads the input\'s seq counter and starts a new one: one modulus before it, none after it', () => {
    const before = errorOf(editOf(EEG, [11, '']));
    expect([before.path, before.line, before.problem]).toEqual(['stages[1].seqModulo', 6, 'must equal the seq modulus of stages[0].modulo (256), as both read the same counter; got unset']);
    const after = errorOf(editOf(EEG, [12, '  - type: validate\n    seqModulo: 256']));
    expect([after.path, after.line]).toEqual(['stages[2].seqModulo', 13]);
    expect(after.problem).toMatch(/^must equal the seq modulus of stft's spectra \(stages\[1\]\), numbered 0, 1, 2, … without wrapping \(unset\)/);
  });

  it('window takes frames and gives windows: frame stages go before it, onlineCp after it', () => {
    expect(problemOf([{ type: 'window', length: 4 }, { type: 'validate' }])).toEqual([
      'stages[1].type', 'validate takes frames, but stage 0 (window) emits windows of frames here: place it before the window stage',
    ]);
    expect(problemOf([{ type: 'batch' }, { type: 'window', length: 4 }])[1]).toMatch(/^window takes frames, but stage 0 \(batch\) emits blocks of frames/);
    expect(problemOf([{ type: 'onlineCp', projection: CP_PROJ, rank: 2, shape: [1, 3] }])).toEqual([
      'stages[0].type', 'onlineCp takes windows of frames, but the stream emits frames here: put a window stage before it',
    ]);
    const missing = errorOf(editOf(TENSOR, [10, '']));
    expect([missing.path, missing.line, missing.problem]).toEqual(['stages[1].length', 9, `is missing; it must be ${describeConstraint(WINDOW_CONSTRAINTS.length)}`]);
    expect(problemOf([{ type: 'detectGaps', modulo: 16 }, { type: 'window', length: 4 }])[0]).toBe('stages[1].seqModulo');
    expect(pipelineFlows(parsePipelineConfig(obj([{ type: 'window', length: 4 }], RAW3))).output).toMatchObject({ kind: 'windows', window: { length: 4 } });
  });

  it('onlineCp: its projection compresses the window (n = length), and its shape is stft\'s [bins, channels]', () => {
    const { flows, output } = pipelineFlows(parsePipelineConfig(TENSOR.join('\n')));
    expect(flows[2]!.modes?.shape).toEqual([BINS, 3]);
    expect(output.kind).toBe('cpUpdates');
    const n = errorOf(editOf(TENSOR, [13, '    projection: { ensemble: sparse-binary, n: 15, d: 6, p: 2, seed: 5 }']));
    expect([n.path, n.line, n.column, n.problem]).toEqual([
      'stages[2].projection.n', 13, col(TENSOR[12]!, '16'), 'must equal the window length 16 (stages[1].length), as P compresses the time mode of each window; got 15',
    ]);
    const shape = errorOf(editOf(TENSOR, [14, '    rank: 2\n    shape: [3, 10]']));
    expect([shape.path, shape.line, shape.column, shape.problem]).toEqual([
      'stages[2].shape', 15, 12, `must equal [${BINS}, 3], the [bins, channels] layout of the frames of stages[0] (stft: ${BINS} bins × 3 channels), or be left out; got [3, 10]`,
    ]);
    expect(() => parsePipelineConfig(editOf(TENSOR, [14, `    rank: 2\n    shape: [${BINS}, 3]`]))).not.toThrow();
  });

  it('onlineCp without stft needs an explicit shape that fits the frames; it refuses compressed frames', () => {
    const w = { type: 'window', length: 16 };
    expect(problemOf([w, { type: 'onlineCp', projection: CP_PROJ, rank: 2 }])).toEqual([
      'stages[1].shape', 'is missing: the frames reaching it (length 3, stream.n) have no [m1, m2] layout (only stft\'s output has one); give shape: [m1, m2] with m1·m2 = 3',
    ]);
    expect(problemOf([w, { type: 'onlineCp', projection: CP_PROJ, rank: 2, shape: [2, 2] }])).toEqual([
      'stages[1].shape', 'must have m1·m2 = 3, the length of the frames reaching it (stream.n); got [2, 2] (4)',
    ]);
    expect(() => parsePipelineConfig(obj([w, { type: 'onlineCp', projection: CP_PROJ, rank: 2, shape: [3, 1] }], RAW3))).not.toThrow();
    expect(problemOf([w, { type: 'onlineCp', projection: CP_PROJ, rank: 2, shape: [1, 80] }], COMPRESSED)[1]).toMatch(
      /^onlineCp takes windows of raw frames \(it compresses the time mode itself\), but stage 0 \(window\) emits windows of compressed frames/,
    );
    expect(problemOf([w, { type: 'onlineCp', projection: CP_PROJ, rank: 2, shape: [0, 3] }])).toEqual(['stages[1].shape', 'must be a pair [m1, m2] of integers ≥ 1; got a list']);
  });

  it('onlineCp\'s own rules (P ≥ 0, rank ≤ d, recovery options), once each, at the field and line', () => {
    const ens = errorOf(editOf(TENSOR, [13, '    projection: { ensemble: gaussian, n: 16, d: 6, seed: 5 }']));
    expect([ens.path, ens.line, ens.issues.length]).toEqual(['stages[2].projection.ensemble', 13, 1]);
    expect(ens.problem).toMatch(/^must be 'sparse-binary' \(a non-negative CP needs P ≥ 0/);
    const rank = errorOf(editOf(TENSOR, [14, '    rank: 7']));
    expect([rank.path, rank.line, rank.column, rank.problem]).toEqual(['stages[2].rank', 14, 11, 'must be an integer ≤ the compressed window length d = 6; got 7']);
    const rec = errorOf(editOf(TENSOR, [14, '    rank: 2\n    recovery: { noise: 2 }']));
    expect([rec.path, rec.line, rec.issues.length]).toEqual(['stages[2].recovery.noise', 15, 1]);
    // A field out of its own range is reported once, not again by the operator's check.
    const two = errorOf(editOf(TENSOR, [14, '    rank: 2\n    recoverEvery: -1\n    forgetting: 2']));
    expect(two.issues.map((i) => [i.path, i.line])).toEqual([['stages[2].recoverEvery', 15], ['stages[2].forgetting', 16]]);
  });

  it('onlineCp ends the pipeline: no stage takes its updates', () => {
    expect(problemOf([STFT, { type: 'window', length: 16 }, { type: 'onlineCp', projection: CP_PROJ, rank: 2 }, { type: 'metrics' }])).toEqual([
      'stages[3].type', 'metrics takes model updates, but stage 2 (onlineCp) emits CP window updates here: no stage takes them (onlineCp recovers its own factors), so onlineCp ends the pipeline',
    ]);
  });
});

describe('parsePipelineConfig: the source and run settings (cfstream run)', () => {
  const noStream = edit([2, 'source: sim:synthetic?n=300&d=80'], [3, ''], [4, ''], [5, ''], [6, ''], [7, '']);
  const header = { id: 'sim', kind: 'compressed' as const, n: 300, rate: 250, projection: { ensemble: 'sparse-binary' as const, n: 300, d: 80, p: 5, seed: 11 } };

  it("takes the opened source's header when the config has no stream, and checks the stages against it", () => {
    const config = parsePipelineConfig(noStream, 'run.yaml', { stream: header });
    expect(config.source).toBe('sim:synthetic?n=300&d=80');
    expect(config.stream).toEqual(header);
    const e = (() => { try { parsePipelineConfig(noStream, 'run.yaml', { stream: { ...header, projection: { ...header.projection, d: 2 } } }); } catch (x) { return x as ConfigError; } return undefined; })();
    expect(e?.message).toMatch(/stages\[3\]\.rank/);
  });

  it('needs a stream from somewhere, and a given one must match the source', () => {
    expect(errorOf(noStream).message).toMatch(/stream: required/);
    const e = (() => { try { parsePipelineConfig(BASE.join('\n'), 'run.yaml', { stream: { ...header, n: 301, projection: { ...header.projection, n: 301 } } }); } catch (x) { return x as ConfigError; } return undefined; })();
    expect(e?.message).toMatch(/run\.yaml:3:3: stream: does not match the source's header \(kind compressed, n 301/);
  });

  it('outputs: MQTT broker, the embedded broker and the dashboard are checked with their paths', () => {
    const ok = parsePipelineConfig(edit([17, "  - type: metrics\noutputs: { mqtt: { broker: embedded, prefix: lab/eeg }, broker: { port: 0, wsPort: 0 }, dashboard: { port: 8080 } }"]));
    expect(ok.outputs).toEqual({ mqtt: { broker: 'embedded', prefix: 'lab/eeg' }, broker: { port: 0, wsPort: 0 }, dashboard: { port: 8080 } });
    const bad = errorOf(edit([17, "  - type: metrics\noutputs: { mqtt: { broker: 'tcp://x', prefix: 'a/#' }, broker: { port: 70000 }, dashboard: { wsUrl: 'http://x' } }"]));
    expect(bad.message).toMatch(/outputs\.mqtt\.broker: must be 'embedded' or a broker URL/);
    expect(bad.message).toMatch(/outputs\.mqtt\.prefix: must be a topic prefix without wildcards/);
    expect(bad.message).toMatch(/outputs\.broker\.port: must be a port in \[0, 65535\]/);
    expect(bad.message).toMatch(/outputs\.dashboard\.wsUrl: must be a ws:\/\/ or wss:\/\/ URL/);
  });

  it('a --source flag replaces the config source; run settings are checked', () => {
    expect(parsePipelineConfig(noStream, 'run.yaml', { stream: header, source: 'file:x.cfs' }).source).toBe('file:x.cfs');
    const bad = errorOf(edit([17, '  - type: metrics\nrun: { duration: -1, headless: 1 }']));
    expect(bad.message).toMatch(/run\.duration: must be ≥ 0/);
    expect(bad.message).toMatch(/run\.headless: must be true or false/);
    expect(errorOf(edit([1, 'version: 1\nsource: not a uri'])).message).toMatch(/source: must be a source URI/);
    const ok = parsePipelineConfig(edit([17, '  - type: metrics\nrun: { duration: 10, headless: true, logIntervalMs: 500, jsonLog: true }']));
    expect(ok.run).toEqual({ duration: 10, headless: true, logIntervalMs: 500, jsonLog: true });
  });
});

describe('parsePipelineConfig: outputs.broker security (users, limits, TLS)', () => {
  const withBroker = (...lines: string[]) => edit([17, ['  - type: metrics', 'outputs:', '  mqtt: { broker: embedded }', '  broker:', ...lines.map((l) => `    ${l}`)].join('\n')]);
  const HASH = hashSecretSync('viewer-secret', { N: 1024 });

  it('takes users, usersFromEnv, anonymousRole, prefix, maxPayloadBytes and tls; a plain password is replaced by its hash', async () => {
    const config = parsePipelineConfig(withBroker(
      'users:',
      `  - { name: dash, role: viewer, passwordHash: "${HASH}" }`,
      '  - { name: eeg1, role: device, password: Plain-Device-5f }',
      '  - { name: pipe, role: pipeline, passwordHash: "' + HASH + '", streams: [sim] }',
      'usersFromEnv: false',
      'anonymousRole: viewer',
      'prefix: lab/eeg',
      'maxPayloadBytes: 65536',
      'tls: { key: /etc/cfstream/broker.key, cert: /etc/cfstream/broker.crt, ca: /etc/cfstream/ca.crt, requestCert: true, host: 0.0.0.0, port: 8883, wsPort: false }',
    ));
    const b = config.outputs!.broker!;
    expect(b).toMatchObject({ usersFromEnv: false, anonymousRole: 'viewer', prefix: 'lab/eeg', maxPayloadBytes: 65536, tls: { port: 8883, wsPort: false, requestCert: true } });
    expect(b.users!.map((u) => [u.name, u.role, u.streams])).toEqual([['dash', 'viewer', undefined], ['eeg1', 'device', undefined], ['pipe', 'pipeline', ['sim']]]);
    expect(b.users![0]!.passwordHash).toBe(HASH);
    expect(JSON.stringify(config)).not.toContain('Plain-Device-5f');
    expect('password' in b.users![1]!).toBe(false);
    expect(await verifySecret('Plain-Device-5f', b.users![1]!.passwordHash!)).toBe(true);
    expect(Object.isFrozen(b.users![1])).toBe(true);
  });

  it('locates each problem; a secret is never quoted back', () => {
    const e = errorOf(withBroker(
      'users:',
      '  - { name: eeg1, role: device, password: Both-Given-1a, passwordHash: Not-A-Hash-2b }',
      '  - { name: eeg2, role: king, passwordHash: Not-A-Hash-3c }',
      '  - { name: "a b", role: viewer, password: 12345 }',
      '  - { name: dash, role: viewer }',
      '  - { name: d, role: device, password: p, streams: ["x/y"], bogus: 1 }',
      'maxPayloadBytes: 0',
      'anonymousRole: admin',
      'tls: { key: k.pem }',
    ));
    const m = e.message;
    expect(m).toMatch(/test\.yaml:22:\d+: outputs\.broker\.users\[0\]\.password: must be left out when passwordHash is given/);
    expect(m).toMatch(/outputs\.broker\.users\[0\]\.passwordHash: must be scrypt\$N\$r\$p\$<salt base64>\$<key base64> \(from cfstream hash-secret\); got something else \(not shown: a secret\)/);
    expect(m).toMatch(/outputs\.broker\.users\[1\]\.role: must be one of device, pipeline, viewer, admin; got "king"/);
    expect(m).toMatch(/outputs\.broker\.users\[2\]\.name: must be a user name without whitespace or ':'/);
    expect(m).toMatch(/outputs\.broker\.users\[2\]\.password: must be a string; got something else \(not shown: a secret\)/);
    expect(m).toMatch(/outputs\.broker\.users\[3\]\.passwordHash: is missing; it must be given \(a hash from cfstream hash-secret\), or else password/);
    expect(m).toMatch(/outputs\.broker\.users\[4\]\.streams\[0\]: must be a stream name/);
    expect(m).toMatch(/outputs\.broker\.users\[4\]\.bogus: unknown key 'bogus'; known keys: name, role, passwordHash, password, streams/);
    expect(m).toMatch(/outputs\.broker\.maxPayloadBytes: must be ≥ 1 \(bytes\); got 0/);
    expect(m).toMatch(/outputs\.broker\.anonymousRole: must be 'viewer'/);
    expect(m).toMatch(/outputs\.broker\.tls\.cert: is missing/);
    for (const secret of ['Both-Given-1a', 'Not-A-Hash-2b', 'Not-A-Hash-3c', '12345']) expect(m).not.toContain(secret);
  });

  it('checks across fields: duplicate names, a device named like no stream, requestCert without ca, username without password', () => {
    const dup = errorOf(withBroker('users:', `  - { name: a, role: viewer, passwordHash: "${HASH}" }`, `  - { name: a, role: device, passwordHash: "${HASH}" }`));
    expect(dup.message).toMatch(/outputs\.broker\.users: must have unique user names/);
    expect(errorOf(withBroker('users:', `  - { name: lab/eeg1, role: device, passwordHash: "${HASH}" }`)).message)
      .toMatch(/outputs\.broker\.users\[0\]\.name: must be a stream name \(no '\/', '\+' or '#'\) for a device without streams/);
    expect(parsePipelineConfig(withBroker('users:', `  - { name: lab/eeg1, role: device, passwordHash: "${HASH}", streams: [eeg1] }`)).outputs!.broker!.users).toHaveLength(1);
    expect(errorOf(withBroker('tls: { key: k.pem, cert: c.pem, requestCert: true }')).message).toMatch(/outputs\.broker\.tls\.ca: is missing; it must be given with requestCert: true/);
    const half = errorOf(withBroker('username: lab'));
    expect(half.message).toMatch(/outputs\.broker\.password: is missing; it must be given with username/);
    const other = errorOf(withBroker('password: Only-Password-9z'));
    expect(other.message).toMatch(/outputs\.broker\.username: is missing; it must be given with password/);
    expect(other.message).not.toContain('Only-Password-9z');
  });
});
