/**
 * The checkpoint of `cfstream run` (`--checkpoint FILE`): the online NMF model's state and where the
 * run stood (last seq, last t, factors index), so a restart continues where it was.
 *
 * ```
 * save:    FILE.tmp-<pid> written, fsync ─▶ FILE renamed to FILE.prev ─▶ FILE.tmp renamed to FILE ─▶ directory fsync
 * restore: FILE ─(missing, unreadable, corrupt)─▶ FILE.prev ─(same)─▶ a new model
 *          a file that cannot be used is renamed FILE.rejected-<time> (kept for a person), never overwritten
 * ```
 *
 * Why: an edge device loses power, not only processes. Without the fsync a power cut can leave the
 * rename on disk but not the data (an empty FILE); without the previous generation a FILE corrupted
 * on disk would lose the model; and refusing to start on a bad file would leave an unattended
 * device dead until someone deletes it. A checkpoint whose model does not fit the config (another
 * frame length or rank) is set aside the same way, with a warning naming what does not fit. The
 * model's other options (forgetting, coding sweeps, …) are the checkpoint's.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { onlineNmfModelFor } from '../../pipelines/builder.js';
import type { PipelineConfig, StageOf } from '../../pipelines/config.js';
import type { OnlineNMF, OnlineNmfState } from '../factorize/online/nmf.js';
import { UsageError } from './args.js';

/** Where a run stood when its checkpoint was written. */
export interface ResumePoint { lastSeq: number; lastT: number; index: number }

/** A run checkpoint: the model's state and where the run stood. */
export interface RunCheckpoint extends ResumePoint {
  format: 'cfstream-run-checkpoint';
  version: 1;
  savedAt: string;
  model: OnlineNmfState;
}

/** What `restoreRunModel` found. */
export interface RestoredRunModel {
  /** The model for the config's onlineNmf stage: restored, or new. */
  model: OnlineNMF;
  /** The file it came from (FILE or FILE.prev), or undefined for a new model. */
  from: string | undefined;
  /** Where the run stood (a run checkpoint; a bare model state has none). */
  resume?: ResumePoint;
  /** What was wrong with the files set aside, one line each. */
  warnings: string[];
}

/** The previous generation of a checkpoint file. */
export function previousOf(path: string): string {
  return `${path}.prev`;
}

/**
 * The model of the config's onlineNmf stage, from `path` or its previous generation (module header).
 * @throws UsageError when the config has no onlineNmf stage
 */
export function restoreRunModel(config: PipelineConfig, path: string, now: () => Date = () => new Date()): RestoredRunModel {
  const stage = config.stages.find((st): st is StageOf<'onlineNmf'> => st.type === 'onlineNmf');
  if (!stage) throw new UsageError(`--checkpoint ${path}: the config has no onlineNmf stage whose model could be saved`);
  const warnings: string[] = [];
  for (const file of [path, previousOf(path)]) {
    if (!existsSync(file)) continue;
    try {
      const { model, resume } = readCheckpoint(config, stage, file);
      return { model, from: file, ...(resume ? { resume } : {}), warnings };
    } catch (e) {
      const aside = `${file}.rejected-${now().toISOString().replace(/[:.]/g, '-')}`;
      let moved = '';
      try {
        renameSync(file, aside);
        moved = `; moved to ${aside}`;
      } catch (m) {
        moved = `; could not be moved aside (${(m as Error).message})`;
      }
      warnings.push(`checkpoint ${file} not used: ${(e as Error).message}${moved}`);
    }
  }
  return { model: onlineNmfModelFor(config, stage), from: undefined, warnings };
}

/** The stage's model restored from `file`, and the resume point of a run checkpoint. Throws saying what is wrong. */
function readCheckpoint(config: PipelineConfig, stage: StageOf<'onlineNmf'>, file: string): { model: OnlineNMF; resume?: ResumePoint } {
  let data: Partial<RunCheckpoint> & Record<string, unknown>;
  try {
    data = JSON.parse(readFileSync(file, 'utf8')) as typeof data;
  } catch (e) {
    throw new Error(`not a JSON document (${(e as Error).message}): truncated or corrupted`);
  }
  if (typeof data !== 'object' || data === null) throw new Error('not a checkpoint (a JSON object)');
  const run = data.format === 'cfstream-run-checkpoint';
  if (run && data.version !== 1) throw new Error(`checkpoint version ${String(data.version)} is not 1`);
  const model = onlineNmfModelFor(config, stage, (run ? data.model : data) ?? null); // null: refused by restore, not a new model
  if (!run) return { model };
  const n = (v: unknown, name: string): number => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`checkpoint field ${name} is not a finite number`);
    return v;
  };
  return { model, resume: { lastSeq: n(data.lastSeq, 'lastSeq'), lastT: n(data.lastT, 'lastT'), index: n(data.index, 'index') } };
}

/**
 * Writes the checkpoint durably (module header); returns false, with the reason in `onError`,
 * when it could not (the previous checkpoint stays).
 */
export function saveRunCheckpoint(model: OnlineNMF, at: ResumePoint, path: string, onError: (message: string) => void): boolean {
  if (model.framesSeen === 0) return false;
  const tmp = `${path}.tmp-${process.pid}`;
  const data: RunCheckpoint = { format: 'cfstream-run-checkpoint', version: 1, savedAt: new Date().toISOString(), ...at, model: model.state() };
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify(data));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (existsSync(path)) renameSync(path, previousOf(path));
    renameSync(tmp, path);
    syncDirectory(dirname(path));
    return true;
  } catch (e) {
    onError(`checkpoint ${path} not written: ${(e as Error).message}`);
    return false;
  }
}

/** fsync of a directory, so the renames in it survive a power cut (not possible everywhere: best effort). */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse a directory fsync; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
