/**
 * `cfstream convert <in> <out.csv>`: a recording's physical values as CSV, one row per sample
 * (`t`, then one column per channel; the header row holds the labels). The input is any file
 * `fileSource` reads (EDF/EDF+/BDF/BDF+, CSV, .cfs), replayed as fast as possible; the output may
 * also be `.edf`, `.bdf` or `.cfs` (as `record` writes them). All or nothing: the output is
 * written under a temporary name and renamed when complete.
 */
import { fileSource } from '../../../devices/file/replay.js';
import { recordingFormatOf, type RecordingFormat } from '../../../devices/file/recorder.js';
import { InvalidOptionError } from '../../errors.js';
import { num, parseFlags, UsageError } from '../args.js';
import { printJson } from '../output.js';
import { commitTemp, openRecorder, pump, rangesFor, tempNameFor, type CliSource } from './record.js';

const FLAGS = { range: { type: 'string' }, 'record-duration': { type: 'string' }, json: { type: 'boolean' }, seed: { type: 'string' } } as const;

/** Usage line (for the CLI help). */
export const CONVERT_USAGE = 'cfstream convert <in.edf|.bdf|.csv|.cfs> <out.csv|.edf|.bdf|.cfs> [--range min:max] [--record-duration 1] [--json]';

/** Entry point of `cfstream convert`; resolves to the exit code. */
export async function convertCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseFlags('convert', argv, FLAGS);
  if (positionals.length !== 2) throw new UsageError(`convert: expected an input and an output file; got ${positionals.length} arguments. Usage: ${CONVERT_USAGE}`);
  const [input, out] = positionals as [string, string];
  let format: RecordingFormat;
  try {
    format = recordingFormatOf(out);
  } catch {
    throw new UsageError(`convert: output ${out} must end in .csv, .edf, .bdf or .cfs`);
  }
  let file;
  try {
    file = fileSource(input.startsWith('file:') ? input : `file:${input}`, { speed: 'max' });
  } catch (e) {
    if (e instanceof InvalidOptionError) throw new UsageError(`convert: input ${input}: ${e.message}`);
    throw e;
  }
  const source: CliSource = { uri: input, info: file.info, frames$: file.frames$, file, close: async () => undefined };
  if (file.info.kind === 'compressed' && (format === 'edf' || format === 'bdf')) {
    throw new UsageError(`convert: ${input} holds a compressed stream; EDF/BDF hold raw signals — convert it to .csv or .cfs`);
  }
  const recordDuration = num('record-duration', v['record-duration'], { min: 1e-6, def: 1 });
  const ranges = await rangesFor(source, format, v.range);
  const tmp = tempNameFor(out);
  let ok = false;
  let result;
  try {
    const recorder = openRecorder({ path: tmp, info: file.info, recordDuration, ...ranges });
    result = await pump(source, file.frames$, recorder);
    ok = result.stoppedBy === 'end';
  } finally {
    commitTemp(tmp, out, ok);
  }
  if (!ok) throw new UsageError(`convert: interrupted; ${out} was not written`);
  const summary = { input, out, format, frames: result.frames, markers: result.markers, ...result.summary, path: out };
  if (v.json) printJson(summary);
  else process.stdout.write(`converted ${input} → ${out}: ${result.frames} rows${format === 'csv' ? '' : `, ${result.markers} annotations`}\n`);
  return 0;
}
