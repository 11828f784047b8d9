/**
 * The pipeline config (ARCHITECTURE.md, `config/`): a YAML document or a plain object, checked by
 * a zod schema and then across stages, so that a config that parses also builds (`builder.ts`).
 *
 * ```yaml
 * version: 1
 * stream: { id: sim, kind: compressed, n: 2000, rate: 250,
 *           projection: { ensemble: sparse-binary, n: 2000, d: 400, p: 5, seed: 1 } }
 * stages:                                      # in order; each `type` is one operator
 *   - { type: detectGaps }                     # frames → frames
 *   - { type: validate }                       # frames → frames
 *   - { type: batch, maxBatch: 32 }            # frames → blocks
 *   - { type: onlineNmf, rank: 10 }            # blocks → model updates
 *   - { type: reconstruct, everyMs: 1000 }     # branch: model updates → factors
 *   - { type: metrics }                        # branch: model updates → metrics
 * ```
 *
 * The other stage types: `compress` (raw frames → compressed frames), `stft` (raw frames of C
 * channels → raw spectral frames of bins × C values, a new frame header: `stftStreamInfo`),
 * `window` (frames → windows of `length` frames) and `onlineCp` (windows → CP window updates).
 * `onlineCp` recovers its own temporal factors, so its updates end the main flow: no stage takes
 * them (they are `BuiltPipeline.output`), and the branches, which tap model updates, do not
 * apply to it.
 *
 * Three checks, each failing with a ConfigError that gives the file, line:column (YAML input),
 * the path (`stages[2].rank`) and the problem:
 * 1. YAML syntax (the `yaml` package with a LineCounter; duplicate keys are errors);
 * 2. the schema: strict objects (an unknown key is an error), types, and each operator's own
 *    rules, taken from its constraint table or its own validator (validateStreamInfo,
 *    validateProjectionSpec, checkSeqModulo, OnlineNMF, onlineCp, resolveRecoveryOptions),
 *    never restated here. Defaults are NOT filled in: an absent field gets the operator's own
 *    default;
 * 3. across stages (the "flow", `STAGE_RULES[type].flow`): what each stage takes and gives
 *    (frames → blocks → model updates; frames → windows → CP updates), the frame header at each
 *    point (raw or compressed, its length, its rate after an stft, its [bins, channels] layout),
 *    rank ≤ d, the window length = the time projection's n, one seq modulus for every stage that
 *    reads the same counter, one branch of each kind.
 *
 * Adding a stage type: one entry in `STAGE_RULES` below (its schema and flow rule) and one in
 * `STAGE_FACTORIES` (builder.ts); the types make the second one mandatory. A new kind of value
 * between stages is one more `FlowKind` with its text in `KIND_TEXT` and `KIND_HINT`. The YAML
 * positions and the wording of issues are in internal/configText.ts.
 */
import { z } from 'zod';
import { BROKER_ROLES, hashSecretSync, isSecretHash, MAX_PAYLOAD_BYTES_LIMIT, SECRET_HASH_FORM, type BrokerUser } from '../devices/mqtt/brokerAuth.js';
import { ConfigError, DataError, InvalidOptionError, type ConfigIssue } from '../src/errors.js';
import { ONLINE_CP_CONSTRAINTS, type OnlineCpOptions } from '../src/factorize/online/cp.js';
import { OnlineNMF, ONLINE_NMF_CONSTRAINTS, type OnlineNmfOptions } from '../src/factorize/online/nmf.js';
import type { KernelBackend } from '../src/factorize/online/kernels.js';
import { describeConstraint, satisfies, type Constraint, type ConstraintTable } from '../src/factorize/validate.js';
import { checkSeqModulo } from '../src/frames/gaps.js';
import { frameLength, validateStreamInfo, type StreamInfo } from '../src/frames/index.js';
import { RECOVERY_OPTION_CONSTRAINTS, resolveRecoveryOptions, type RecoveryOptions } from '../src/recovery/options.js';
import { validateProjectionSpec, type ProjectionSpec } from '../src/sensing/projection.js';
import { BATCH_FRAMES_CONSTRAINTS } from './batch.js';
import { COMPRESS_CONSTRAINTS } from './compress.js';
import {
  byPosition, formatConfigPath, issueAt, parseYaml, show, splitPath, type ConfigPath, type Locator,
} from './internal/configText.js';
import { METRICS_CONSTRAINTS } from './metrics.js';
import { onlineCp, ONLINE_CP_OPERATOR_CONSTRAINTS, type OnlineCpOperatorOptions } from './onlineCp.js';
import { ONLINE_NMF_OPERATOR_CONSTRAINTS } from './onlineNmf.js';
import { RECONSTRUCT_CONSTRAINTS } from './reconstruct.js';
import { STFT_OPERATOR_CONSTRAINTS, stftStreamInfo } from './stft.js';
import { WINDOW_CONSTRAINTS } from './window.js';

export { formatConfigPath, type ConfigPath };

// ---------------------------------------------------------------------------------------------
// Field schemas, generated from the operators' own rules.

/** One constraint-table field as a zod type; the table's own phrase is the message. */
function fromConstraint(c: Constraint): z.ZodType<number | string | boolean> {
  const error = `must be ${describeConstraint(c)}`;
  if (c.type === 'boolean') return z.boolean({ error });
  if (c.type === 'enum') return z.string({ error }).refine((v) => satisfies(c, v), { error });
  return z.number({ error }).refine((v) => satisfies(c, v), { error });
}

type OptionalFields<T> = { [K in keyof T]-?: z.ZodOptional<z.ZodType<T[K]>> };

/** Every field of a constraint table, optional (absent = the operator's default). */
function optionalFields<T>(table: ConstraintTable<T>): OptionalFields<T> {
  const shape: Record<string, z.ZodOptional<z.ZodType<unknown>>> = {};
  for (const [key, c] of Object.entries(table) as [string, Constraint][]) shape[key] = fromConstraint(c).optional();
  return shape as OptionalFields<T>;
}

/**
 * Runs one of the project's validators inside a refinement: its InvalidOptionError (or a
 * DataError about "field 'x'", as validateStreamInfo throws) becomes an issue at that field.
 * `at` maps the validator's option name to a path under the refined value.
 */
function refineWith(ctx: z.RefinementCtx, check: () => unknown, at: (option: string) => ConfigPath = splitPath): void {
  try {
    check();
  } catch (e) {
    if (e instanceof InvalidOptionError) {
      ctx.addIssue({ code: 'custom', path: [...at(e.option)], message: `must be ${e.allowed}; got ${show(e.received)}` });
      return;
    }
    if (e instanceof DataError) {
      const text = e.where && e.message.startsWith(`${e.where}: `) ? e.message.slice(e.where.length + 2) : e.message;
      const m = /^field '([^']+)' (.*)$/s.exec(text);
      ctx.addIssue({ code: 'custom', path: m ? [...splitPath(m[1]!)] : [], message: m ? m[2]! : text });
      return;
    }
    throw e;
  }
}

const number = z.number({ error: 'must be a number' });
const string = z.string({ error: 'must be a string' });

/** Only types here: the ranges and the cross-field rules are validateProjectionSpec's. */
const projectionShape = { ensemble: string, n: number, d: number, p: number.optional(), seed: number };

/** A ProjectionSpec on its own (a compress stage's), checked by validateProjectionSpec. */
const projectionSchema = z.strictObject(projectionShape, { error: 'must be a mapping (a ProjectionSpec)' })
  .superRefine((spec, ctx) => refineWith(ctx, () => validateProjectionSpec(spec as ProjectionSpec))) as unknown as z.ZodType<ProjectionSpec>;

/** The input stream's header: types here, every rule validateStreamInfo's. */
const streamSchema = z.strictObject({
  id: string,
  kind: string,
  n: number,
  rate: number,
  labels: z.array(string, { error: 'must be a list of strings' }).optional(),
  units: string.optional(),
  projection: z.strictObject(projectionShape, { error: 'must be a mapping (a ProjectionSpec)' }).optional(),
}, { error: 'must be a mapping (a StreamInfo)' })
  .superRefine((info, ctx) => refineWith(ctx, () => validateStreamInfo(info, 'stream'))) as unknown as z.ZodType<StreamInfo>;

/** The fast solver's options that reconstruct passes on (`method` is always 'fast', warmStart is reconstruct's own). */
export type ReconstructRecoveryConfig = Omit<RecoveryOptions, 'method' | 'warmStart' | 'highsOptions'>;

/** Types from RECOVERY_OPTION_CONSTRAINTS (so new solver options appear here), ranges from resolveRecoveryOptions. */
const recoverySchema = ((): z.ZodType<ReconstructRecoveryConfig> => {
  const shape: Record<string, z.ZodOptional<z.ZodType<unknown>>> = {};
  for (const [key, c] of Object.entries(RECOVERY_OPTION_CONSTRAINTS)) {
    if (key === 'method' || key === 'warmStart') continue;
    if (c.kind === 'boolean') shape[key] = z.boolean({ error: 'must be a boolean' }).optional();
    else if (c.kind === 'enum') shape[key] = z.string({ error: 'must be a string' }).optional();
    else if (c.kind === 'interval') shape[key] = number.optional();
  }
  return z.strictObject(shape, { error: 'must be a mapping (fast-solver options)' })
    .superRefine((o, ctx) => refineWith(ctx, () => resolveRecoveryOptions({ ...(o as RecoveryOptions), method: 'fast' }))) as unknown as z.ZodType<ReconstructRecoveryConfig>;
})();

/** onlineCp's [m1, m2], optional: OnlineCP's rule for it is checked here, since an absent shape is taken from the flow (checked in the flow rule). */
const shapeSchema = z.tuple([z.number(), z.number()], { error: 'must be a pair [m1, m2] of integers ≥ 1' })
  .refine((v) => v.every((m) => Number.isInteger(m) && m >= 1), { error: 'must be a pair [m1, m2] of integers ≥ 1' });

/** The seq counter modulus (validate.seqModulo, detectGaps.modulo, window and stft seqModulo), checked by checkSeqModulo. */
function seqModulus(owner: string, option: string): z.ZodOptional<z.ZodType<number>> {
  return number.superRefine((v, ctx) => refineWith(ctx, () => checkSeqModulo(owner, option, v), () => [])).optional();
}

// ---------------------------------------------------------------------------------------------
// The stage table.

/**
 * What flows between stages: frames (`Frame`), blocks of frames (`FrameBlock`), model updates
 * (`ModelUpdate`), windows of frames (`FrameWindow`), CP window updates (`CpWindowUpdate`, which
 * no stage takes: they end the flow).
 */
export type FlowKind = 'frames' | 'blocks' | 'updates' | 'windows' | 'cpUpdates';

const KIND_TEXT: Record<FlowKind, string> = {
  frames: 'frames',
  blocks: 'blocks of frames',
  updates: 'model updates',
  windows: 'windows of frames',
  cpUpdates: 'CP window updates',
};

/** How to get a flow kind that is missing, for problems. */
const KIND_HINT: Record<FlowKind, string> = {
  frames: 'place it before the stage that batches them',
  blocks: 'put a batch stage before it',
  updates: 'put an onlineNmf stage before it',
  windows: 'put a window stage before it',
  cpUpdates: 'put an onlineCp stage before it',
};

/** The outputs beside the main flow: a branch stage taps the flow and leaves it unchanged. */
export type BranchName = 'factors' | 'metrics';

/** The flow at one point of the pipeline (between two stages). */
export interface PipelineFlow {
  readonly kind: FlowKind;
  /** The header of the frames at this point: the stream's, or compressed by a compress stage. */
  readonly info: StreamInfo;
  /** Who emits it ("the stream", "stage 2 (batch)"), for problems. */
  readonly from: string;
  /** Who set the frame length here ("stream.projection.d", "stages[1].projection.d"). */
  readonly lengthFrom: string;
  /** The seq counter's modulus as the first stage that reads it declared it. */
  readonly seq: { readonly modulo: number | undefined; readonly by: string } | undefined;
  /** With kind 'windows': the frames per window, and who set it ("stages[3].length"). */
  readonly window?: { readonly length: number; readonly by: string } | undefined;
  /** The frames' [m1, m2] layout (row-major) when a stage gave them one: stft's [bins, channels]. */
  readonly modes?: { readonly shape: readonly [number, number]; readonly by: string } | undefined;
}

/** Reports a problem at a path under the stage (e.g. ['rank']). */
export type FlowReport = (field: ConfigPath, problem: string) => void;

/** One stage type: its schema and its flow rule. */
export interface StageRule<T extends string, S extends { type: T }> {
  readonly schema: z.ZodType<S>;
  /** Set for a branch stage: the output it feeds. */
  readonly branch?: BranchName;
  /**
   * Checks the stage against the flow reaching it and returns the flow after it (also after a
   * problem, as if the stage worked, so later stages are still checked). `label` names the stage.
   */
  readonly flow: (stage: S, at: PipelineFlow, report: FlowReport, label: string, index: number) => PipelineFlow;
}

/** The output type of a stage schema: its `type` and its fields. */
type StageShapeOutput<T extends string, Shape extends z.ZodRawShape> = { type: T } & z.output<z.ZodObject<Shape>>;

/** One STAGE_RULES entry: the stage's strict schema (`type` plus `shape`, optionally refined) and its flow rule. */
function rule<T extends string, Shape extends z.ZodRawShape>(
  type: T, shape: Shape, flow: StageRule<T, StageShapeOutput<T, Shape>>['flow'],
  branch?: BranchName, refine?: (stage: StageShapeOutput<T, Shape>, ctx: z.RefinementCtx) => void,
): StageRule<T, StageShapeOutput<T, Shape>> {
  const object = z.strictObject({ type: z.literal(type), ...shape }, { error: `must be a mapping (a ${type} stage)` });
  // zod runs the refinement after fields that failed a refinement of their own: skip it then, as
  // the operator's checks would repeat that field's problem (or word it about another field).
  const guarded = refine && ((v: unknown, ctx: z.RefinementCtx): void => {
    if (ctx.issues.length === 0) refine(v as StageShapeOutput<T, Shape>, ctx);
  });
  const schema = (guarded ? object.superRefine(guarded) : object) as unknown as z.ZodType<StageShapeOutput<T, Shape>>;
  return branch ? { schema, flow, branch } : { schema, flow };
}

/** False (and a problem at `type`) when the stage does not take what flows here. */
function takes(at: PipelineFlow, kind: FlowKind, type: string, report: FlowReport): boolean {
  if (at.kind === kind) return true;
  const hint = at.kind === 'cpUpdates' ? 'no stage takes them (onlineCp recovers its own factors), so onlineCp ends the pipeline'
    : kind === 'frames' && at.kind === 'windows' ? 'place it before the window stage' : KIND_HINT[kind];
  report(['type'], `${type} takes ${KIND_TEXT[kind]}, but ${at.from} emits ${KIND_TEXT[at.kind]} here: ${hint}`);
  return false;
}

/** The problem text of an operator's InvalidOptionError (as `refineWith` words it). */
function refused(e: InvalidOptionError): string {
  return `must be ${e.allowed}; got ${show(e.received)}`;
}

/** Every stage that reads the seq counter must agree on its modulus (else one rejects what the other wraps). */
function seqOf(at: PipelineFlow, modulo: number | undefined, field: string, report: FlowReport, index: number): PipelineFlow['seq'] {
  if (!at.seq) return { modulo, by: `stages[${index}].${field}` };
  if (at.seq.modulo !== modulo) {
    report([field], `must equal the seq modulus of ${at.seq.by} (${at.seq.modulo ?? 'unset'}), as both read the same counter; got ${modulo ?? 'unset'}`);
  }
  return at.seq;
}

const MODEL_KEYS = Object.keys(ONLINE_NMF_CONSTRAINTS) as (keyof OnlineNmfOptions)[];
const CP_MODEL_KEYS = Object.keys(ONLINE_CP_CONSTRAINTS) as (keyof Omit<OnlineCpOptions, 'shape'>)[];
const CP_OPERATOR_KEYS = Object.keys(ONLINE_CP_OPERATOR_CONSTRAINTS) as (keyof OnlineCpOperatorOptions)[];

/** An onlineCp stage's fields split into the model's options and the operator's (what builder.ts passes on). */
export function onlineCpStageOptions(stage: StageOf<'onlineCp'>): {
  model: Partial<Omit<OnlineCpOptions, 'shape'>> & { rank: number };
  operator: Partial<OnlineCpOperatorOptions> & { recovery?: ReconstructRecoveryConfig };
} {
  const model: Partial<Omit<OnlineCpOptions, 'shape'>> & { rank: number } = { rank: stage.rank };
  const operator: Partial<OnlineCpOperatorOptions> & { recovery?: ReconstructRecoveryConfig } = {};
  for (const key of CP_MODEL_KEYS) if (stage[key] !== undefined) (model as Record<string, unknown>)[key] = stage[key];
  for (const key of CP_OPERATOR_KEYS) if (stage[key] !== undefined) (operator as Record<string, unknown>)[key] = stage[key];
  if (stage.recovery !== undefined) operator.recovery = stage.recovery;
  return { model, operator };
}

/** The [m1, m2] an onlineCp stage runs with: its own `shape`, else the layout of the frames reaching it. */
export function onlineCpShape(stage: StageOf<'onlineCp'>, at: PipelineFlow): readonly [number, number] | undefined {
  return stage.shape ?? at.modes?.shape;
}

/** The stage types, by `type`. */
export const STAGE_RULES = {
  validate: rule('validate', { seqModulo: seqModulus('validate', 'seqModulo') }, (s, at, report, label, index) => {
    takes(at, 'frames', 'validate', report);
    return { ...at, from: label, seq: seqOf(at, s.seqModulo, 'seqModulo', report, index) };
  }),

  detectGaps: rule('detectGaps', { modulo: seqModulus('detectGaps', 'modulo') }, (s, at, report, label, index) => {
    takes(at, 'frames', 'detectGaps', report);
    return { ...at, from: label, seq: seqOf(at, s.modulo, 'modulo', report, index) };
  }),

  compress: rule('compress', { projection: projectionSchema, ...optionalFields(COMPRESS_CONSTRAINTS) }, (s, at, report, label, index) => {
    if (takes(at, 'frames', 'compress', report) && at.info.kind !== 'raw') {
      report(['type'], `compress takes raw frames, but ${at.from} emits compressed frames (length d = ${frameLength(at.info)}, ${at.lengthFrom}); remove it or declare the stream raw`);
    }
    if (s.projection.n !== at.info.n) {
      report(['projection', 'n'], `must equal n = ${at.info.n}, the length of the raw frames of ${at.from}; got ${s.projection.n}`);
    }
    const { projection: _old, ...rest } = at.info;
    const projection = { ...s.projection, p: s.projection.p ?? validateProjectionSpec(s.projection).p };
    return { ...at, kind: 'frames', info: { ...rest, kind: 'compressed', projection }, from: label, lengthFrom: `stages[${index}].projection.d`, modes: undefined };
  }),

  batch: rule('batch', optionalFields(BATCH_FRAMES_CONSTRAINTS), (_s, at, report, label) => {
    takes(at, 'frames', 'batch', report);
    return { ...at, kind: 'blocks', from: label };
  }),

  onlineNmf: rule('onlineNmf', {
    ...optionalFields(ONLINE_NMF_CONSTRAINTS),
    rank: fromConstraint(ONLINE_NMF_CONSTRAINTS.rank) as z.ZodType<number>,
    ...optionalFields(ONLINE_NMF_OPERATOR_CONSTRAINTS),
    /** 'auto' | 'wasm' | 'js' (OnlineNMF's runtime; checked by OnlineNMF itself). */
    backend: (string as unknown as z.ZodType<KernelBackend>).optional(),
  }, (s, at, report, label) => {
    if (takes(at, 'blocks', 'onlineNmf', report)) {
      if (at.info.kind !== 'compressed') {
        report(['type'], `onlineNmf needs compressed frames, but the stream is raw and no compress stage precedes it: add one, or declare the stream compressed with its projection`);
      } else {
        const d = frameLength(at.info);
        if (s.rank > d) report(['rank'], `must be ≤ d = ${d}, the length of the frames reaching it (${at.lengthFrom}); got ${s.rank}`);
      }
    }
    return { ...at, kind: 'updates', from: label };
  }, undefined, (s, ctx) => {
    // OnlineNMF's own checks: the model options' cross-field rules (warmStartFrames ≥ rank) and the backend.
    const model: Partial<OnlineNmfOptions> = {};
    for (const key of MODEL_KEYS) if (s[key] !== undefined) model[key] = s[key];
    refineWith(ctx, () => new OnlineNMF(model as OnlineNmfOptions, s.backend === undefined ? {} : { backend: s.backend }));
  }),

  reconstruct: rule('reconstruct', { ...optionalFields(RECONSTRUCT_CONSTRAINTS), recovery: recoverySchema.optional() }, (_s, at, report) => {
    takes(at, 'updates', 'reconstruct', report);
    return at;
  }, 'factors'),

  metrics: rule('metrics', optionalFields(METRICS_CONSTRAINTS), (_s, at, report) => {
    takes(at, 'updates', 'metrics', report);
    return at;
  }, 'metrics'),

  window: rule('window', {
    ...optionalFields(WINDOW_CONSTRAINTS),
    length: fromConstraint(WINDOW_CONSTRAINTS.length) as z.ZodType<number>,
    seqModulo: seqModulus('window', 'seqModulo'),
  }, (s, at, report, label, index) => {
    takes(at, 'frames', 'window', report);
    const seq = seqOf(at, s.seqModulo, 'seqModulo', report, index);
    return { ...at, kind: 'windows', from: label, seq, window: { length: s.length, by: `stages[${index}].length` } };
  }),

  stft: rule('stft', { ...optionalFields(STFT_OPERATOR_CONSTRAINTS), seqModulo: seqModulus('stft', 'seqModulo') }, (s, at, report, label, index) => {
    const { type: _t, seqModulo, ...options } = s;
    seqOf(at, seqModulo, 'seqModulo', report, index);
    // stft numbers its spectra itself: stages after it read a new counter.
    const out: PipelineFlow = { ...at, from: label, seq: { modulo: undefined, by: `stft's spectra (stages[${index}]), numbered 0, 1, 2, … without wrapping` } };
    if (!takes(at, 'frames', 'stft', report)) return out;
    if (at.modes) {
      report(['type'], `stft takes raw samples, but the frames of ${at.modes.by} are spectra already: one stft per pipeline`);
      return out;
    }
    if (at.info.kind !== 'raw') {
      report(['type'], `stft takes raw frames (one sample of each channel), but ${at.from} emits compressed frames (length d = ${frameLength(at.info)}, ${at.lengthFrom}): place it before the compress stage`);
      return out;
    }
    if (options.rate === undefined && at.info.rate === 0) {
      report(['rate'], `is missing: the frames of ${at.from} have rate 0 (irregular), so stft needs their sampling rate here (Hz)`);
      return out;
    }
    let info: StreamInfo;
    try {
      info = stftStreamInfo(at.info, options);
    } catch (e) {
      if (!(e instanceof InvalidOptionError)) throw e;
      // 'fmin/fmax' (their order, or fmax above rate/2) is about fmax unless only fmin was given.
      if (e.option === 'fmin/fmax') {
        const [fmin, fmax] = e.received as [number, number];
        report([s.fmax === undefined && s.fmin !== undefined ? 'fmin' : 'fmax'], `must be such that ${e.allowed}; got fmin = ${fmin}, fmax = ${fmax}`);
      } else {
        report([e.option], refused(e));
      }
      return out;
    }
    const C = frameLength(at.info), bins = info.n / C;
    return {
      ...out, info, lengthFrom: `stages[${index}], ${bins} bins × ${C} channels`,
      modes: { shape: [bins, C], by: `stages[${index}] (stft: ${bins} bins × ${C} channels)` },
    };
  }),

  onlineCp: rule('onlineCp', {
    projection: projectionSchema,
    ...optionalFields(ONLINE_CP_CONSTRAINTS),
    rank: fromConstraint(ONLINE_CP_CONSTRAINTS.rank) as z.ZodType<number>,
    shape: (shapeSchema as unknown as z.ZodType<[number, number]>).optional(),
    ...optionalFields(ONLINE_CP_OPERATOR_CONSTRAINTS),
    recovery: recoverySchema.optional(),
  }, (s, at, report, label) => {
    const out: PipelineFlow = { ...at, kind: 'cpUpdates', from: label, window: undefined, modes: undefined };
    if (!takes(at, 'windows', 'onlineCp', report)) return out;
    if (at.info.kind !== 'raw') {
      report(['type'], `onlineCp takes windows of raw frames (it compresses the time mode itself), but ${at.from} emits windows of compressed frames (${at.lengthFrom}): window the frames before the compress stage`);
      return out;
    }
    const L = at.window!.length;
    if (s.projection.n !== L) {
      report(['projection', 'n'], `must equal the window length ${L} (${at.window!.by}), as P compresses the time mode of each window; got ${s.projection.n}`);
    }
    const n = frameLength(at.info);
    const pair = (v: readonly number[]): string => `[${v.join(', ')}]`;
    if (at.modes) {
      const m = at.modes.shape;
      if (s.shape && (s.shape[0] !== m[0] || s.shape[1] !== m[1])) {
        report(['shape'], `must equal ${pair(m)}, the [bins, channels] layout of the frames of ${at.modes.by}, or be left out; got ${pair(s.shape)}`);
      }
    } else if (!s.shape) {
      report(['shape'], `is missing: the frames reaching it (length ${n}, ${at.lengthFrom}) have no [m1, m2] layout (only stft's output has one); give shape: [m1, m2] with m1·m2 = ${n}`);
    } else if (s.shape[0] * s.shape[1] !== n) {
      report(['shape'], `must have m1·m2 = ${n}, the length of the frames reaching it (${at.lengthFrom}); got ${pair(s.shape)} (${s.shape[0] * s.shape[1]})`);
    }
    return out;
  }, undefined, (s, ctx) => {
    // onlineCp's own checks (P sparse-binary, rank ≤ d, the recovery options): build it; the shape is the flow rule's.
    const { model, operator } = onlineCpStageOptions(s as StageOf<'onlineCp'>);
    refineWith(ctx, () => onlineCp({ projection: s.projection, model: { ...model, shape: s.shape ?? [1, 1] } }, operator));
  }),
} as const;

/** The names of the stage types. */
export type StageType = keyof typeof STAGE_RULES;

/** One stage of a config, discriminated by `type`. */
export type StageConfig = { [K in StageType]: z.output<(typeof STAGE_RULES)[K]['schema']> }[StageType];

/** The stage of one type. */
export type StageOf<K extends StageType> = Extract<StageConfig, { type: K }>;

/** How `cfstream run` runs a config (flags override each field). */
export interface RunSettings {
  /** 0 s; stop after this long (0 = until SIGINT/SIGTERM or the source ends). */
  readonly duration?: number;
  /** false; no dashboard, one status line per interval on stderr. */
  readonly headless?: boolean;
  /** 1000 ms; the status line's interval. */
  readonly logIntervalMs?: number;
  /** false; status lines as JSON objects. */
  readonly jsonLog?: boolean;
  /** undefined; a file for the online NMF model's state: restored at start if it exists, written every `checkpointEvery` s and at a clean stop. */
  readonly checkpoint?: string;
  /** 30 s; how often the checkpoint is written. */
  readonly checkpointEvery?: number;
}

/** Where `cfstream run` sends the results (flags override: --broker, --headless). */
export interface OutputSettings {
  /** Publish info/status/factors/metrics over MQTT. */
  readonly mqtt?: {
    /** 'embedded' (start the built-in broker) or a broker URL (mqtt://, mqtts://, ws://, wss://). */
    readonly broker: string;
    /** 'cfstream'. Topic prefix. */
    readonly prefix?: string;
    readonly username?: string;
    readonly password?: string;
    /** 1000. Offline queue for metrics while the broker is away (drops counted). */
    readonly queueLimit?: number;
  };
  /** The embedded broker (when mqtt.broker is 'embedded'): listeners, users, limits, TLS (devices/mqtt/broker.ts). */
  readonly broker?: EmbeddedBrokerSettings;
  /** The live dashboard (needs the embedded broker's WebSocket, or `wsUrl` of an external one). */
  readonly dashboard?: { readonly enabled?: boolean; readonly host?: string; readonly port?: number; readonly wsUrl?: string };
  /** Record the source's frames while running: .edf/.bdf (raw; `range` = physical min/max), .cfs (compressed) or .csv. */
  readonly record?: { readonly path: string; readonly range?: readonly [number, number] };
}

/** `outputs.broker`: each field is `BrokerOptions`' (devices/mqtt/broker.ts), with its default. */
export interface EmbeddedBrokerSettings {
  readonly host?: string;
  readonly port?: number;
  readonly wsPort?: number;
  /** Shorthand for one admin user (the password is kept as given: prefer `users` with passwordHash). */
  readonly username?: string;
  readonly password?: string;
  /** Users with roles; a plain `password` is replaced by its `passwordHash` when the config is parsed. */
  readonly users?: readonly Readonly<BrokerUser>[];
  /** true. Also take users from CFSTREAM_BROKER_USERS / CFSTREAM_BROKER_PASSWORD (devices/mqtt/brokerAuth.ts). */
  readonly usersFromEnv?: boolean;
  /** undefined: clients without a login are refused when there are users; 'viewer': they may subscribe (the dashboard). */
  readonly anonymousRole?: 'viewer';
  /** outputs.mqtt.prefix, else 'cfstream'. The topic prefix the ACL applies to. */
  readonly prefix?: string;
  /** 1048576. Largest PUBLISH payload in bytes. */
  readonly maxPayloadBytes?: number;
  /** 1048576. Unsent bytes a slow subscriber may hold before its QoS 0 messages are dropped (counted). */
  readonly maxClientBacklogBytes?: number;
  /** TLS listeners; PEM values are file paths or PEM text. */
  readonly tls?: { readonly key: string; readonly cert: string; readonly ca?: string; readonly requestCert?: boolean; readonly host?: string; readonly port?: number; readonly wsPort?: number | false };
}

/** A checked pipeline config (deeply frozen). */
export interface PipelineConfig {
  readonly version: 1;
  /** The source URI `cfstream run` opens (sim:, file:, cyton:, mqtt://), if the config names one. */
  readonly source?: string;
  /** The input stream's header (a StreamInfo): from the config, or the source's (parsePipelineConfig's `stream` option). */
  readonly stream: StreamInfo;
  /** The stages in order; branch stages (reconstruct, metrics) tap the flow where they stand. */
  readonly stages: readonly StageConfig[];
  /** `cfstream run` settings. */
  readonly run?: RunSettings;
  /** `cfstream run` outputs. */
  readonly outputs?: OutputSettings;
}

/** Options of `parsePipelineConfig`. */
export interface ParseConfigOptions {
  /** The header of the opened source: used when the config has no `stream`, checked against it when it has. */
  stream?: StreamInfo;
  /** Replaces the config's `source` (a `--source` flag). */
  source?: string;
}

const STAGE_TYPES = Object.keys(STAGE_RULES) as StageType[];

const stageSchema = z.discriminatedUnion(
  'type',
  STAGE_TYPES.map((t) => STAGE_RULES[t].schema) as unknown as [z.ZodObject<{ type: z.ZodLiteral<string> }>],
  { error: 'must be a mapping (a stage with a type)' },
);

const runSchema = z.strictObject({
  duration: number.min(0, { error: 'must be ≥ 0 (seconds; 0 = until stopped)' }).optional(),
  headless: z.boolean({ error: 'must be true or false' }).optional(),
  logIntervalMs: number.min(50, { error: 'must be ≥ 50 (ms)' }).optional(),
  jsonLog: z.boolean({ error: 'must be true or false' }).optional(),
  checkpoint: string.min(1, { error: 'must be a file path' }).optional(),
  checkpointEvery: number.min(0.1, { error: 'must be ≥ 0.1 (seconds)' }).optional(),
}, { error: 'must be a mapping (run settings)' });

const port = number.int({ error: 'must be an integer port' }).min(0, { error: 'must be a port in [0, 65535] (0 = a free one)' }).max(65535, { error: 'must be a port in [0, 65535] (0 = a free one)' });
// A secret's value is never quoted in a problem: the messages carry their own '; got …'.
const secret = z.string({ error: 'must be a string; got something else (not shown: a secret)' }).min(1, { error: 'must be a non-empty string; got an empty one' });
const brokerUserSchema = z.strictObject({
  name: string.regex(/^[^\s:]+$/, { error: "must be a user name without whitespace or ':'" }),
  role: z.enum(BROKER_ROLES, { error: `must be one of ${BROKER_ROLES.join(', ')}` }),
  passwordHash: secret.refine(isSecretHash, { error: `must be ${SECRET_HASH_FORM}; got something else (not shown: a secret)` }).optional(),
  password: secret.optional(),
  streams: z.array(string.regex(/^[^/+#\0]+$/, { error: "must be a stream name (one topic level: no '/', '+' or '#')" }), { error: 'must be a list of stream names' })
    .min(1, { error: 'must name at least one stream (or be left out)' }).optional(),
}, { error: 'must be a mapping (a broker user: name, role, passwordHash, streams)' })
  .refine((u) => u.password !== undefined || u.passwordHash !== undefined, { path: ['passwordHash'], error: 'must be given (a hash from cfstream hash-secret), or else password' })
  .refine((u) => u.password === undefined || u.passwordHash === undefined, { path: ['password'], error: 'must be left out when passwordHash is given; got both (not shown: secrets)' })
  .refine((u) => u.role !== 'device' || u.streams !== undefined || !/[/+#]/.test(u.name), { path: ['name'], error: "must be a stream name (no '/', '+' or '#') for a device without streams (its default stream), or give streams" })
  // Hashed now, so the checked (frozen) config never holds the plain password.
  .overwrite((u) => {
    if (typeof u.password !== 'string' || u.passwordHash !== undefined) return u;
    const { password, ...rest } = u;
    return { ...rest, passwordHash: hashSecretSync(password) };
  });
const embeddedBrokerSchema = z.strictObject({
  host: string.optional(), port: port.optional(), wsPort: port.optional(), username: string.optional(), password: secret.optional(),
  users: z.array(brokerUserSchema, { error: 'must be a list of users ({ name, role, passwordHash, streams? })' })
    .refine((us) => new Set(us.map((u) => u.name)).size === us.length, { error: 'must have unique user names' }).optional(),
  usersFromEnv: z.boolean({ error: 'must be true or false' }).optional(),
  anonymousRole: z.literal('viewer', { error: "must be 'viewer' (or left out: anonymous clients refused when there are users)" }).optional(),
  prefix: string.regex(/^[^#+]+$/, { error: 'must be a topic prefix without wildcards' }).optional(),
  maxPayloadBytes: number.int({ error: 'must be an integer (bytes)' }).min(1, { error: 'must be ≥ 1 (bytes)' }).max(MAX_PAYLOAD_BYTES_LIMIT, { error: `must be ≤ ${MAX_PAYLOAD_BYTES_LIMIT} (what an MQTT packet can carry)` }).optional(),
  maxClientBacklogBytes: number.int({ error: 'must be an integer (bytes)' }).min(1024, { error: 'must be ≥ 1024 (bytes)' }).optional(),
  tls: z.strictObject({
    key: string.min(1, { error: 'must be a PEM file path (or PEM text)' }),
    cert: string.min(1, { error: 'must be a PEM file path (or PEM text)' }),
    ca: string.min(1, { error: 'must be a PEM file path (or PEM text)' }).optional(),
    requestCert: z.boolean({ error: 'must be true or false' }).optional(),
    host: string.optional(), port: port.optional(),
    wsPort: z.union([port, z.literal(false)], { error: 'must be a port in [0, 65535] or false' }).optional(),
  }, { error: 'must be a mapping (TLS: key, cert, ca, requestCert, host, port, wsPort)' })
    .refine((t) => !t.requestCert || t.ca !== undefined, { path: ['ca'], error: 'must be given with requestCert: true (the CA that signs client certificates)' }).optional(),
}, { error: 'must be a mapping (the embedded broker)' })
  .refine((b) => b.username === undefined || b.password !== undefined, { path: ['password'], error: 'must be given with username (or both left out)' })
  .refine((b) => b.password === undefined || b.username !== undefined, { path: ['username'], error: 'must be given with password (or both left out)' });

const outputsSchema = z.strictObject({
  mqtt: z.strictObject({
    broker: string.regex(/^(embedded|(mqtts?|wss?):\/\/.+)$/, { error: "must be 'embedded' or a broker URL (mqtt://host:port, mqtts://, ws://, wss://)" }),
    prefix: string.regex(/^[^#+]+$/, { error: 'must be a topic prefix without wildcards' }).optional(),
    username: string.optional(),
    password: string.optional(),
    queueLimit: number.int({ error: 'must be an integer' }).min(0, { error: 'must be ≥ 0' }).optional(),
  }, { error: 'must be a mapping (MQTT output)' }).optional(),
  broker: embeddedBrokerSchema.optional(),
  record: z.strictObject({
    path: string.regex(/\.(edf|bdf|cfs|csv)$/i, { error: 'must be a file ending in .edf, .bdf, .cfs or .csv' }),
    range: z.tuple([number, number], { error: 'must be [min, max] (the physical range, for EDF/BDF)' }).refine(([a, b]) => a < b, { error: 'must be [min, max] with min < max' }).optional(),
  }, { error: 'must be a mapping (a recording)' }).optional(),
  dashboard: z.strictObject({
    enabled: z.boolean({ error: 'must be true or false' }).optional(), host: string.optional(), port: port.optional(),
    wsUrl: string.regex(/^wss?:\/\/.+/, { error: 'must be a ws:// or wss:// URL' }).optional(),
  }, { error: 'must be a mapping (the dashboard)' }).optional(),
}, { error: 'must be a mapping (outputs)' });

const configSchema = z.strictObject({
  version: z.literal(1, { error: 'must be 1 (the only config version)' }),
  source: string.regex(/^[a-z][a-z0-9+.-]*:/i, { error: 'must be a source URI (sim:…, file:…, cyton:…, mqtt://…)' }).optional(),
  stream: streamSchema.optional(),
  stages: z.array(stageSchema, { error: 'must be a list of stages' }),
  run: runSchema.optional(),
  outputs: outputsSchema.optional(),
}, { error: 'must be a mapping with version, stream (or source) and stages' });

// ---------------------------------------------------------------------------------------------
// Across stages.

/** The flow entering each stage, and after the last one. */
export interface PipelineFlows {
  readonly flows: readonly PipelineFlow[];
  readonly output: PipelineFlow;
}

/** Runs every stage's flow rule in order; problems go to `report` with paths from the root. */
function traceFlows(config: PipelineConfig, report: (path: ConfigPath, problem: string) => void): PipelineFlows {
  const info = config.stream;
  let at: PipelineFlow = {
    kind: 'frames', info, from: 'the stream', seq: undefined,
    lengthFrom: info.kind === 'compressed' ? 'stream.projection.d' : 'stream.n',
  };
  const flows: PipelineFlow[] = [];
  const branches = new Map<BranchName, number>();
  config.stages.forEach((stage, index) => {
    flows.push(at);
    const label = `stage ${index} (${stage.type})`;
    const stageReport: FlowReport = (field, problem) => report(['stages', index, ...field], problem);
    const r = STAGE_RULES[stage.type] as StageRule<string, StageConfig>;
    if (r.branch) {
      const first = branches.get(r.branch);
      if (first !== undefined) stageReport(['type'], `a second ${r.branch} branch (stage ${first} feeds it already): one ${stage.type} stage per pipeline`);
      else branches.set(r.branch, index);
    }
    at = r.flow(stage, at, stageReport, label, index);
  });
  return { flows, output: at };
}

/** The flow entering each stage of a checked config (what builder.ts builds from). */
export function pipelineFlows(config: PipelineConfig): PipelineFlows {
  return traceFlows(config, (path, problem) => {
    throw configError(config, path, problem);
  });
}

// ---------------------------------------------------------------------------------------------
// Locations and errors.

/** Where each checked config came from (for ConfigErrors raised later, by the builder). */
const ORIGINS = new WeakMap<object, { source: string; locate: Locator | undefined }>();

/** A ConfigError about `path` of a config returned by `parsePipelineConfig` (with its file and line when known). */
export function configError(config: PipelineConfig, path: ConfigPath, problem: string): ConfigError {
  const origin = ORIGINS.get(config);
  return new ConfigError(origin?.source ?? 'config', [issueAt(path, problem, origin?.locate)]);
}

/** True for a config returned by `parsePipelineConfig` (checked, frozen). */
export function isCheckedConfig(config: unknown): config is PipelineConfig {
  return typeof config === 'object' && config !== null && ORIGINS.has(config);
}

/** The keys the schema allows in the object at `path` of `data` (for unknown-key problems). */
function knownKeys(path: ConfigPath, data: unknown): string[] {
  let schema: unknown = configSchema;
  let value: unknown = data;
  const unwrap = (): void => {
    for (;;) {
      if (schema instanceof z.ZodOptional) schema = schema.unwrap();
      else if (schema instanceof z.ZodDiscriminatedUnion) {
        const type = (value as { type?: unknown } | null)?.type;
        schema = STAGE_TYPES.includes(type as StageType) ? STAGE_RULES[type as StageType].schema : undefined;
      } else return;
    }
  };
  for (const seg of path) {
    unwrap();
    if (schema instanceof z.ZodObject) schema = (schema.shape as Record<string, unknown>)[String(seg)];
    else if (schema instanceof z.ZodArray) schema = schema.element;
    else return [];
    value = (value as Record<string | number, unknown> | null)?.[seg];
  }
  unwrap();
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

function valueAt(data: unknown, path: ConfigPath): unknown {
  let v = data;
  for (const seg of path) v = typeof v === 'object' && v !== null ? (v as Record<string | number, unknown>)[seg] : undefined;
  return v;
}

/** zod's issues as ConfigIssues: one per unknown key, problems in the project's phrasing. */
function issuesOf(error: z.ZodError, data: unknown, locate: Locator | undefined): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of error.issues) {
    const path = issue.path as ConfigPath;
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(path, data);
      for (const key of issue.keys) {
        const near = known.find((k) => k.toLowerCase() === key.toLowerCase());
        const hint = near ? `did you mean '${near}'?` : known.length ? `known keys: ${known.join(', ')}` : '';
        out.push(issueAt([...path, key], `unknown key '${key}'${hint ? `; ${hint}` : ''}`, locate, 'key'));
      }
      continue;
    }
    const input = valueAt(data, path);
    let problem: string;
    if (issue.code === 'invalid_union' && 'discriminator' in issue) {
      const type = valueAt(data, path.slice(0, -1)) as { type?: unknown } | undefined;
      problem = type?.type === undefined
        ? `missing: every stage needs a type, one of ${STAGE_TYPES.join(', ')}`
        : `unknown stage type ${show(type.type)}; known: ${STAGE_TYPES.join(', ')}`;
    } else if (issue.message.startsWith('must ')) {
      problem = input === undefined ? `is missing; it ${issue.message}` : issue.message.includes('; got ') ? issue.message : `${issue.message}; got ${show(input)}`;
    } else {
      problem = input === undefined ? `is missing (${issue.message})` : `${issue.message}; got ${show(input)}`;
    }
    out.push(issueAt(path, problem, locate));
  }
  return out;
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

/**
 * Parses and checks a pipeline config: YAML text (a string) or an already parsed object.
 * Returns it typed and deeply frozen; absent options stay absent (the operators' defaults apply).
 *
 * @example
 * const config = parsePipelineConfig(readFileSync('config/default.yaml', 'utf8'), 'config/default.yaml');
 * @see buildPipeline (builder.ts), STAGE_RULES
 * @param input YAML text, or a plain object of the same shape
 * @param source the file name (or any label) that errors begin with
 * @returns the checked config
 * @throws ConfigError with `source`, line:column (YAML), the path and the problem of every issue found
 */
export function parsePipelineConfig(input: unknown, source = 'config', options: ParseConfigOptions = {}): PipelineConfig {
  let data = input;
  let locate: Locator | undefined;
  if (typeof input === 'string') ({ data, locate } = parseYaml(input, source));
  const parsed = configSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) throw new ConfigError(source, byPosition(issuesOf(parsed.error, data, locate)));
  const given = parsed.data as unknown as Omit<PipelineConfig, 'stream'> & { stream?: StreamInfo };
  const stream = given.stream ?? options.stream;
  if (!stream) throw new ConfigError(source, [issueAt([], "stream: required (the input stream's header), unless cfstream run opens a source that provides it", locate)]);
  if (given.stream && options.stream) {
    const a = given.stream, b = options.stream;
    const same = a.kind === b.kind && a.n === b.n && JSON.stringify(a.projection ?? null) === JSON.stringify(b.projection ?? null);
    if (!same) {
      throw new ConfigError(source, [issueAt(['stream'], `does not match the source's header (kind ${b.kind}, n ${b.n}${b.projection ? `, projection d ${b.projection.d} seed ${b.projection.seed}` : ''}); remove it to take the source's`, locate)]);
    }
  }
  const config = deepFreeze({ ...given, stream, ...(options.source !== undefined ? { source: options.source } : {}) } as PipelineConfig);
  const issues: ConfigIssue[] = [];
  traceFlows(config, (path, problem) => issues.push(issueAt(path, problem, locate)));
  if (issues.length > 0) throw new ConfigError(source, byPosition(issues));
  ORIGINS.set(config, { source, locate });
  return config;
}
