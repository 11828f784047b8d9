/**
 * `buildPipeline`: the RxJS pipeline a config describes (config.ts), built from the real operators.
 *
 * ```
 * config.stages:  detectGaps  validate  batch  onlineNmf  reconstruct  metrics
 *                 └──────────── operator ──────────────┘  └─ branches (tap the flow) ─┘
 *            or:  validate  stft  window  onlineCp        (no branches: onlineCp's updates are the output)
 *                 └──────────── operator ─────────┘
 *
 * run(source):  source ─operator─▶ connectable ─▶ output
 *                                       ├─reconstruct─▶ factors
 *                                       └─metrics─────▶ metrics
 *               every stage ─onEvent─▶ hooks.onEvent and `events` (which metrics counts)
 * ```
 *
 * Each stage type has one factory in `STAGE_FACTORIES` (a new operator is one entry there and one
 * in config.ts's STAGE_RULES). All operators are built when `buildPipeline` is called, so bad
 * options fail then, as a ConfigError naming the stage; each keeps its state per subscription.
 *
 * Branches and `share()` (see pipelines/index.ts): `run` puts a `connectable` at every point a
 * branch taps, so every branch sees the same values whether the source is synchronous (an array,
 * a file read at once) or not. Subscribe to what you need, then call `connect()`.
 */
import {
  connectable, EMPTY, Subject, Subscription,
  type Connectable, type Observable, type OperatorFunction, type SchedulerLike,
} from 'rxjs';
import { DataError, InvalidOptionError } from '../src/errors.js';
import { frameLength, type Frame, type StreamInfo } from '../src/frames/index.js';
import { batchFrames } from './batch.js';
import { compress } from './compress.js';
import {
  configError, isCheckedConfig, onlineCpShape, onlineCpStageOptions, parsePipelineConfig, pipelineFlows, STAGE_RULES,
  type BranchName, type FlowKind, type PipelineConfig, type PipelineFlow, type StageOf, type StageType,
} from './config.js';
import { detectGaps } from './detectGaps.js';
import type { EventSink, PipelineEvent } from './events.js';
import { metrics, type MetricsSnapshot } from './metrics.js';
import { onlineCp, type CpWindowUpdate } from './onlineCp.js';
import { onlineNmf, ONLINE_NMF_OPERATOR_CONSTRAINTS, type OnlineNmfModelSpec, type OnlineNmfOperatorOptions } from './onlineNmf.js';
import { reconstruct } from './reconstruct.js';
import { OnlineNMF, type OnlineNmfState } from '../src/factorize/online/nmf.js';
import { stft } from './stft.js';
import type { FactorsMessage, FrameBlock, FrameWindow, ModelUpdate } from './types.js';
import { validateFrames } from './validate.js';
import { window } from './window.js';

/** What the main flow carries after a stage (see `FlowKind`). */
export type PipelineValue = Frame | FrameBlock | ModelUpdate | FrameWindow | CpWindowUpdate;

/** The value each branch emits. */
export interface BranchOutputs {
  factors: FactorsMessage;
  metrics: MetricsSnapshot;
}

/** What the caller plugs into a built pipeline; all optional. */
export interface PipelineHooks {
  /** undefined; called synchronously with every side-channel event of every stage (events.ts). */
  onEvent?: EventSink;
  /** asyncScheduler; runs the timers of batch (maxWaitMs), reconstruct and metrics, and onlineCp's sliced recoveries (a TestScheduler in tests). */
  scheduler?: SchedulerLike;
  /** performance.now with the default scheduler, else scheduler.now(); the clock (ms) of batch, onlineNmf and metrics. */
  now?: () => number;
  /** undefined; the model the onlineNmf stage updates, instead of a new one from its options (e.g. restored from a checkpoint; shared by every run). */
  onlineNmfModel?: OnlineNMF;
}

/** The model half of an onlineNmf stage's fields (the operator's own options split off), as the builder creates it. */
export function onlineNmfModelSpec(stage: StageOf<'onlineNmf'>): { spec: OnlineNmfModelSpec; operator: Partial<OnlineNmfOperatorOptions> } {
  const { type: _t, backend, ...fields } = stage;
  const model: Record<string, unknown> = {};
  const operator: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) (key in ONLINE_NMF_OPERATOR_CONSTRAINTS ? operator : model)[key] = value;
  }
  const spec = model as OnlineNmfModelSpec;
  return { spec: backend === undefined ? spec : { ...spec, runtime: { backend } }, operator: operator as Partial<OnlineNmfOperatorOptions> };
}

/**
 * The model of the config's onlineNmf `stage`: a new one, or, given a saved `state` (a checkpoint's),
 * that model restored. Throws (Error) saying what does not fit: the frame length reaching the stage
 * (after any compress, less the held-out rows), the rank, or the state itself.
 */
export function onlineNmfModelFor(config: PipelineConfig, stage: StageOf<'onlineNmf'>, state?: unknown): OnlineNMF {
  const model = new OnlineNMF(onlineNmfModelSpec(stage).spec);
  if (state === undefined) return model;
  if (typeof state === 'object' && state !== null) {
    const saved = state as { d?: unknown; options?: { rank?: unknown } };
    const d = frameLength(pipelineFlows(config).flows[config.stages.indexOf(stage)]!.info) - (stage.holdoutRows ?? 0);
    if (typeof saved.d === 'number' && saved.d !== d) throw new Error(`its model takes frames of length ${saved.d}, this config's model ${d}`);
    const rank = saved.options?.rank;
    if (rank !== undefined && rank !== stage.rank) throw new Error(`its model has rank ${String(rank)}, the config's onlineNmf rank ${stage.rank}`);
  }
  return model.restore(state as OnlineNmfState);
}

/** One branch stage, built. */
export interface BuiltBranch {
  /** Its index in `config.stages`. */
  readonly index: number;
  readonly type: StageType;
  readonly name: BranchName;
  /** Transform stages before it: it taps the flow after `operator`'s first `after` stages. */
  readonly after: number;
  /** The branch operator, from the flow at its position (model updates) to its output. */
  readonly operator: OperatorFunction<PipelineValue, BranchOutputs[BranchName]>;
}

/** One run of a built pipeline: hot outputs that start when `connect()` is called. */
export type PipelineRun = {
  /** The main flow after the last transform stage (`BuiltPipeline.output` says what it carries). */
  readonly output: Observable<PipelineValue>;
  /** Subscribes the internal points to the source and starts it; unsubscribe to stop the run. */
  connect(): Subscription;
} & { readonly [K in BranchName]: Observable<BranchOutputs[K]> };

/** A pipeline built from a config. */
export interface BuiltPipeline {
  /** The checked config it was built from. */
  readonly config: PipelineConfig;
  /** The input stream's header (frames given to `operator` / `run` must match it). */
  readonly info: StreamInfo;
  /** The transform stages composed, in order: Frame → the last transform stage's output. */
  readonly operator: OperatorFunction<Frame, PipelineValue>;
  /** What `operator` emits: 'frames', 'blocks', 'updates', 'windows' or 'cpUpdates'. */
  readonly output: FlowKind;
  /** The branch stages, in order. */
  readonly branches: readonly BuiltBranch[];
  /** Every stage's events (also passed to `hooks.onEvent`); what the metrics stage counts. */
  readonly events: Observable<PipelineEvent>;
  /** Wires `source` through the stages and the branches (see the module header); one run at a time, as the event channel is shared. */
  run(source: Observable<Frame>): PipelineRun;
}

/** What a factory gets besides its stage. */
interface StageContext {
  readonly index: number;
  /** The flow entering the stage (its frame header: `flow.info`). */
  readonly flow: PipelineFlow;
  readonly onEvent: EventSink;
  readonly events: Observable<PipelineEvent>;
  readonly hooks: PipelineHooks;
}

/** Builds one stage's operator (input typed `never`: every operator fits; the flow rules fixed what really reaches it). */
type StageFactory<K extends StageType> = (stage: StageOf<K>, ctx: StageContext) => OperatorFunction<never, PipelineValue | BranchOutputs[BranchName]>;

/** The clock hooks, only those given (an explicit undefined would also do; this keeps the options minimal). */
function timing(hooks: PipelineHooks, withNow = true): { scheduler?: SchedulerLike; now?: () => number } {
  const out: { scheduler?: SchedulerLike; now?: () => number } = {};
  if (hooks.scheduler) out.scheduler = hooks.scheduler;
  if (withNow && hooks.now) out.now = hooks.now;
  return out;
}

/** The operator of each stage type, from the stage's options (absent ones take the operator's defaults). */
const STAGE_FACTORIES: { readonly [K in StageType]: StageFactory<K> } = {
  validate: ({ type: _t, ...o }, { flow, onEvent }) => validateFrames(flow.info, { ...o, onEvent }),
  detectGaps: ({ type: _t, ...o }, { onEvent }) => detectGaps({ ...o, onEvent }),
  compress: ({ type: _t, projection, ...o }, { onEvent }) => compress(projection, { ...o, onEvent }),
  batch: ({ type: _t, ...o }, { onEvent, hooks }) => batchFrames({ ...o, ...timing(hooks), onEvent }),
  onlineNmf: (stage, { onEvent, hooks }) => {
    // The operator's own options by its table (so options added there are passed on), the rest is the model's.
    const { spec, operator } = onlineNmfModelSpec(stage);
    return onlineNmf(hooks.onlineNmfModel ?? spec, { ...operator, ...timing(hooks), onEvent });
  },
  reconstruct: ({ type: _t, ...o }, { flow, onEvent, hooks }) => reconstruct(flow.info.projection!, { ...o, ...timing(hooks, false), onEvent }),
  metrics: ({ type: _t, ...o }, { events, hooks }) => metrics({ ...o, ...timing(hooks), events }),
  window: ({ type: _t, ...o }, { onEvent }) => window({ ...o, onEvent }),
  // The sampling rate is the frame header's unless the stage gives one (the flow rule checked they agree).
  stft: ({ type: _t, rate, ...o }, { flow, onEvent }) => stft({ ...o, rate: rate ?? flow.info.rate, onEvent }),
  onlineCp: (stage, { flow, onEvent, hooks }) => {
    const { model, operator } = onlineCpStageOptions(stage);
    const shape = onlineCpShape(stage, flow)!; // the flow rule made sure there is one
    return onlineCp({ projection: stage.projection, model: { ...model, shape } }, { ...operator, ...timing(hooks, false), onEvent });
  },
};

interface Step {
  readonly index: number;
  readonly type: StageType;
  readonly branch: BranchName | undefined;
  /** Typed loosely: the flow rules, not the types, decide what reaches it. */
  readonly op: OperatorFunction<PipelineValue, unknown>;
}

/** An operator's refusal at build time, as a ConfigError about the stage (and the field, when it is one of the stage's). */
function stageError(config: PipelineConfig, index: number, e: unknown): unknown {
  const stage = config.stages[index]!;
  const where = ['stages', index] as const;
  if (e instanceof InvalidOptionError) {
    const field = e.option.split('.')[0]!;
    const path = field in stage ? [...where, ...e.option.split('.')] : [...where];
    return configError(config, path, `${stage.type} refused it: ${e.message}`);
  }
  if (e instanceof DataError) return configError(config, where, `${stage.type} refused it: ${e.message}`);
  return e;
}

/**
 * Builds every stage of a config into its operator, composes the transform stages, and wires
 * the side channel (`hooks.onEvent`, `events`, the metrics stage). Nothing runs until `run(...)`
 * is connected, or `operator` is used in a pipe.
 *
 * Like writing `source.pipe(detectGaps(...), validateFrames(...), ...)` and the `share()` branches
 * by hand (pipelines/bench/stream.ts), from data.
 *
 * @example
 * const built = buildPipeline(parsePipelineConfig(yamlText, 'config/default.yaml'), { onEvent: log });
 * const run = built.run(frames$);
 * run.factors.subscribe(publishFactors);
 * run.metrics.subscribe(publishMetrics);
 * run.connect();
 * @see parsePipelineConfig (config.ts), STAGE_FACTORIES
 * @param config a config from `parsePipelineConfig` (anything else is parsed and checked first)
 * @param hooks the event sink and the clock; see `PipelineHooks`
 * @returns the built pipeline; throws ConfigError (the config, or an operator refusing its options)
 */
export function buildPipeline(config: PipelineConfig, hooks: PipelineHooks = {}): BuiltPipeline {
  const checked = isCheckedConfig(config) ? config : parsePipelineConfig(config, 'config');
  const { flows, output } = pipelineFlows(checked);
  const events = new Subject<PipelineEvent>();
  const onEvent: EventSink = (e) => {
    hooks.onEvent?.(e);
    events.next(e);
  };
  const steps: Step[] = checked.stages.map((stage, index) => {
    const factory = STAGE_FACTORIES[stage.type] as StageFactory<StageType>;
    let op: OperatorFunction<never, unknown>;
    try {
      op = factory(stage as StageOf<StageType>, { index, flow: flows[index]!, onEvent, events, hooks });
    } catch (e) {
      throw stageError(checked, index, e);
    }
    const branch = (STAGE_RULES[stage.type] as { branch?: BranchName }).branch;
    // The flow rules checked what reaches each operator; the cast only erases that knowledge.
    return { index, type: stage.type, branch, op: op as unknown as OperatorFunction<PipelineValue, unknown> };
  });

  const transforms = steps.filter((s) => !s.branch);
  const operator: OperatorFunction<Frame, PipelineValue> = (source) =>
    transforms.reduce<Observable<PipelineValue>>((flow, s) => flow.pipe(s.op as OperatorFunction<PipelineValue, PipelineValue>), source);
  let after = 0;
  const branches: BuiltBranch[] = [];
  for (const s of steps) {
    if (!s.branch) after++;
    else branches.push({ index: s.index, type: s.type, name: s.branch, after, operator: s.op as OperatorFunction<PipelineValue, BranchOutputs[BranchName]> });
  }

  const run = (source: Observable<Frame>): PipelineRun => {
    const points: Connectable<PipelineValue>[] = [];
    const outputs: Partial<Record<BranchName, Observable<BranchOutputs[BranchName]>>> = {};
    let flow: Observable<PipelineValue> = source;
    let point: Connectable<PipelineValue> | undefined; // the multicast point at `flow`, if any
    const tap = (): Connectable<PipelineValue> => {
      if (!point) {
        point = connectable(flow, { connector: () => new Subject<PipelineValue>(), resetOnDisconnect: false });
        points.push(point);
        flow = point;
      }
      return point;
    };
    for (const s of steps) {
      if (s.branch) {
        outputs[s.branch] = tap().pipe(s.op) as Observable<BranchOutputs[BranchName]>;
      } else {
        flow = flow.pipe(s.op as OperatorFunction<PipelineValue, PipelineValue>);
        point = undefined;
      }
    }
    const out = tap();
    return {
      output: out,
      factors: (outputs.factors as Observable<FactorsMessage> | undefined) ?? EMPTY,
      metrics: (outputs.metrics as Observable<MetricsSnapshot> | undefined) ?? EMPTY,
      connect() {
        // Downstream points first: each subscribes to the one before it, and the first one,
        // connected last, starts the source once everything listens.
        const all = new Subscription();
        for (let i = points.length - 1; i >= 0; i--) all.add(points[i]!.connect());
        return all;
      },
    };
  };

  return { config: checked, info: checked.stream, operator, output: output.kind, branches, events, run };
}
