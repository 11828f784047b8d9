/**
 * `cfstream record <source-uri> --out <file> [--duration s]`: records a source to a file whose
 * extension picks the format — `.edf` (EDF+, 16-bit), `.bdf` (BDF+, 24-bit), `.cfs` (cfstream's
 * own, required for compressed streams), `.csv`. Sources: `file:<path>[?speed=1|10|max]` (a replay,
 * whose annotations are recorded too) and the schemes `src/cli/sources.ts` opens (`sim:`).
 *
 * The file is written record by record, as the frames arrive: Ctrl-C / SIGTERM / `--duration`
 * end it cleanly, and even a killed recorder leaves a readable file (the EDF header says −1
 * records until close; readers count them from the size and skip a torn tail).
 *
 * EDF/BDF need each signal's physical range: `--range min:max`, else the source file's own (EDF
 * sources keep their digital range too when written to the same format, so the copy is lossless),
 * else, for a file source, a first pass over the file finds each channel's extremes.
 *
 * Like `eeg.ts`, one of the few places in src/ that reaches into devices/.
 */
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { lastValueFrom, tap, takeWhile, type Observable, type Subscription } from 'rxjs';
import { fileSource, type FileSource } from '../../../devices/file/replay.js';
import { createRecorder, recordingFormatOf, type Recorder, type RecorderOptions, type RecordingFormat } from '../../../devices/file/recorder.js';
import { InvalidOptionError } from '../../errors.js';
import type { Frame, StreamInfo } from '../../frames/index.js';
import type { ProjectionSpec } from '../../sensing/index.js';
import { choice, num, parseFlags, UsageError } from '../args.js';
import { printJson } from '../output.js';

const FLAGS = {
  out: { type: 'string' }, duration: { type: 'string' }, range: { type: 'string' }, 'record-duration': { type: 'string' },
  compress: { type: 'string' }, pacing: { type: 'string' }, json: { type: 'boolean' }, seed: { type: 'string' },
} as const;

/** Usage line (for the CLI help). */
export const RECORD_USAGE =
  'cfstream record <source-uri> --out <file.edf|.bdf|.cfs|.csv> [--duration s] [--range min:max] [--record-duration 1]\n' +
  '                      [--compress ensemble:d[:p[:seed]]] [--pacing realtime|max] [--json]';

/** An opened source: header, frames, markers (file sources), and how to release it. */
export interface CliSource {
  readonly uri: string;
  readonly info: StreamInfo;
  readonly frames$: Observable<Frame>;
  readonly file?: FileSource;
  close(): Promise<void>;
}

/** Opens a `file:` URI (or a plain path) with fileSource, other schemes through src/cli/sources.ts. */
export async function openCliSource(uri: string, pacing: 'realtime' | 'max' = 'realtime'): Promise<CliSource> {
  const isUri = /^[a-z][a-z0-9+.-]*:/i.test(uri) && !/^[a-z]:[\\/]/i.test(uri);
  if (!isUri || uri.startsWith('file:')) {
    const file = fileSource(isUri ? uri : `file:${uri}`);
    return { uri, info: file.info, frames$: file.frames$, file, close: async () => undefined };
  }
  const { openSource } = await import('../sources.js');
  const s = await openSource(uri, { pacing });
  return { uri, info: s.info, frames$: s.frames$, close: () => s.close() };
}

/** Parses `--compress ensemble:d[:p[:seed]]` for a raw stream of n channels. */
export function parseCompress(raw: string, n: number): ProjectionSpec {
  const [ensemble, d, p, seed] = raw.split(':');
  if (ensemble !== 'sparse-binary' && ensemble !== 'gaussian' && ensemble !== 'rademacher') {
    throw new UsageError(`--compress must be ensemble:d[:p[:seed]] with ensemble sparse-binary, gaussian or rademacher; got ${JSON.stringify(raw)}`);
  }
  const spec: ProjectionSpec = { ensemble, n, d: num('compress d', d, { int: true, min: 1, max: n }), seed: num('compress seed', seed, { int: true, def: 0 }) };
  if (p !== undefined && p !== '') spec.p = num('compress p', p, { int: true, min: 1, max: spec.d });
  return spec;
}

/**
 * The physical (and digital) ranges for EDF/BDF output: `--range`, else the EDF source's own,
 * else a first pass over a file source. Returns {} for outputs that need none.
 */
export async function rangesFor(source: CliSource, format: RecordingFormat, range: string | undefined): Promise<Partial<RecorderOptions>> {
  if (format !== 'edf' && format !== 'bdf') return {};
  if (range !== undefined) {
    const m = /^\s*([^:]+):([^:]+)\s*$/.exec(range);
    if (!m) throw new UsageError(`--range must be min:max; got ${JSON.stringify(range)}`);
    const lo = num('range min', m[1]), hi = num('range max', m[2]);
    if (!(hi > lo)) throw new UsageError(`--range max must exceed min; got ${range}`);
    return { physicalMin: lo, physicalMax: hi };
  }
  const edf = source.file?.edf;
  if (edf) {
    const out: Partial<RecorderOptions> = {
      physicalMin: edf.signals.map((s) => s.physicalMin), physicalMax: edf.signals.map((s) => s.physicalMax),
      transducer: edf.signals.map((s) => s.transducer), prefiltering: edf.signals.map((s) => s.prefiltering),
    };
    if ((edf.header.bytesPerSample === 3) === (format === 'bdf')) {
      out.digitalMin = edf.signals.map((s) => s.digitalMin);
      out.digitalMax = edf.signals.map((s) => s.digitalMax);
    }
    return out;
  }
  if (!source.file) throw new UsageError(`--range min:max is required to record ${source.uri} to ${format.toUpperCase()} (the physical range of its signals)`);
  // A first pass over the file for each channel's extremes.
  const n = source.info.n;
  const lo = new Float64Array(n).fill(Infinity), hi = new Float64Array(n).fill(-Infinity);
  const scan = fileSource({ ...source.file.options, speed: 'max' });
  await lastValueFrom(scan.frames$.pipe(tap((f) => {
    for (let c = 0; c < n; c++) {
      const v = f.values[c]!;
      if (v < lo[c]!) lo[c] = v;
      if (v > hi[c]!) hi[c] = v;
    }
  })), { defaultValue: undefined });
  const min: number[] = [], max: number[] = [];
  for (let c = 0; c < n; c++) {
    const a = Number.isFinite(lo[c]!) ? lo[c]! : -1, b = Number.isFinite(hi[c]!) ? hi[c]! : 1;
    min.push(b > a ? a : a - 1);
    max.push(b > a ? b : a + 1);
  }
  return { physicalMin: min, physicalMax: max };
}

/** What `pump` did. */
export interface PumpResult {
  frames: number;
  markers: number;
  stoppedBy: 'end' | 'duration' | 'signal';
  summary: Record<string, unknown>;
}

/**
 * Subscribes to the source and writes every frame (and marker) into `recorder` until the source
 * ends, `duration` seconds of stream time have been recorded, or SIGINT/SIGTERM; then closes the
 * recorder (also on error, so the file stays readable).
 */
export async function pump(source: CliSource, frames$: Observable<Frame>, recorder: Recorder, duration = Infinity): Promise<PumpResult> {
  let frames = 0, markers = 0;
  let stoppedBy: PumpResult['stoppedBy'] = 'end';
  let tFirst = NaN;
  let summary: Record<string, unknown> = {};
  const subs: Subscription[] = [];
  let stop: () => void = () => undefined;
  const onSignal = () => {
    stoppedBy = 'signal';
    stop();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await new Promise<void>((resolve, reject) => {
      stop = resolve;
      // A writer error inside a subscriber would be reported as unhandled: route it to reject.
      const guard = (f: () => void) => {
        try {
          f();
        } catch (e) {
          reject(e);
        }
      };
      if (source.file) {
        subs.push(source.file.events$.subscribe((e) => {
          if (e.type !== 'marker') return;
          markers++;
          guard(() => recorder.annotate(e));
        }));
      }
      subs.push(frames$.pipe(
        takeWhile((f) => {
          if (Number.isNaN(tFirst)) tFirst = f.t;
          if (f.t - tFirst < duration - 1e-9) return true;
          stoppedBy = 'duration';
          return false;
        }),
      ).subscribe({
        next: (f) => guard(() => {
          recorder.write(f);
          frames++;
        }),
        error: reject,
        complete: resolve,
      }));
    });
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    for (const s of subs) s.unsubscribe();
    summary = recorder.close();
    await source.close();
  }
  return { frames, markers, stoppedBy, summary };
}

/** Adds compression (`--compress`) to a raw source: the compressed header and frames. */
export async function withCompression(source: CliSource, raw: string | undefined): Promise<{ info: StreamInfo; frames$: Observable<Frame> }> {
  if (raw === undefined) return { info: source.info, frames$: source.frames$ };
  if (source.info.kind !== 'raw') throw new UsageError(`--compress: ${source.uri} is already compressed`);
  const projection = parseCompress(raw, source.info.n);
  const { compress } = await import('../../../pipelines/compress.js');
  const op = compress(projection);
  const info: StreamInfo = { id: source.info.id, kind: 'compressed', n: source.info.n, rate: source.info.rate, projection };
  if (source.info.labels) info.labels = source.info.labels;
  if (source.info.units) info.units = source.info.units;
  return { info, frames$: source.frames$.pipe(op) };
}

/** Creates the recorder, turning option errors into usage errors that name the flag. */
export function openRecorder(options: RecorderOptions): Recorder {
  try {
    mkdirSync(dirname(options.path), { recursive: true });
    return createRecorder(options);
  } catch (e) {
    if (e instanceof InvalidOptionError) throw new UsageError(`--out ${options.path}: ${e.message}`);
    throw e;
  }
}

/** Entry point of `cfstream record` (argv after the command); resolves to the exit code. */
export async function recordCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseFlags('record', argv, FLAGS);
  if (positionals.length !== 1) throw new UsageError(`record: expected one source URI; got ${positionals.length}. Usage: ${RECORD_USAGE}`);
  if (!v.out) throw new UsageError('record: --out <file> is required (.edf, .bdf, .cfs or .csv)');
  let format: RecordingFormat;
  try {
    format = recordingFormatOf(v.out);
  } catch {
    throw new UsageError(`--out ${v.out}: the extension must be .edf (EDF+), .bdf (BDF+), .cfs (compressed or raw) or .csv`);
  }
  const duration = num('duration', v.duration, { min: 0, def: Infinity });
  const recordDuration = num('record-duration', v['record-duration'], { min: 1e-6, def: 1 });
  const pacing = choice('pacing', v.pacing, ['realtime', 'max'] as const, 'realtime');
  const source = await openCliSource(positionals[0]!, pacing);
  const { info, frames$ } = await withCompression(source, v.compress);
  if (info.kind === 'compressed' && (format === 'edf' || format === 'bdf')) {
    throw new UsageError(`--out ${v.out}: ${source.uri} gives a compressed stream; EDF/BDF hold raw signals — record it to .cfs`);
  }
  const ranges = await rangesFor(source, format, v.range);
  const recorder = openRecorder({ path: v.out, info, recordDuration, ...ranges });
  if (!v.json) process.stderr.write(`cfstream record: ${source.uri} → ${v.out} (${format.toUpperCase()}, ${info.n} channels at ${info.rate} Hz); Ctrl-C to stop\n`);
  const t0 = performance.now();
  const r = await pump(source, frames$, recorder, duration);
  const out = { source: source.uri, out: v.out, format, stoppedBy: r.stoppedBy, frames: r.frames, markers: r.markers, wallSeconds: (performance.now() - t0) / 1000, ...r.summary };
  if (v.json) printJson(out);
  else process.stdout.write(`recorded ${r.frames} frames and ${r.markers} markers to ${v.out} (${JSON.stringify(r.summary)}); stopped by ${r.stoppedBy}\n`);
  return 0;
}

/** A temporary name next to `path` for all-or-nothing writes. */
export function tempNameFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.tmp${path.slice(path.lastIndexOf('.'))}`);
}

/** Moves a finished temporary file into place, or removes it. */
export function commitTemp(tmp: string, path: string, ok: boolean): void {
  if (ok) renameSync(tmp, path);
  else rmSync(tmp, { force: true });
}
