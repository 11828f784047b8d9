/**
 * `cfstream inspect <file>`: a recording's header and annotations as one JSON document
 * (EDF/EDF+/BDF/BDF+: every header field, the data signals, the annotations, EDF+D
 * discontinuities, a torn tail; CSV and .cfs: the stream header and what a scan finds).
 */
import { inspectFile } from '../../../devices/file/inspect.js';
import { InvalidOptionError } from '../../errors.js';
import { parseFlags, UsageError } from '../args.js';
import { printJson } from '../output.js';

const FLAGS = { json: { type: 'boolean' }, seed: { type: 'string' } } as const;

/** Usage line (for the CLI help). */
export const INSPECT_USAGE = 'cfstream inspect <file.edf|.bdf|.csv|.cfs>';

/** Entry point of `cfstream inspect`; resolves to the exit code. */
export async function inspectCommand(argv: string[]): Promise<number> {
  const { positionals } = parseFlags('inspect', argv, FLAGS);
  if (positionals.length !== 1) throw new UsageError(`inspect: expected one file; got ${positionals.length}. Usage: ${INSPECT_USAGE}`);
  const arg = positionals[0]!;
  const path = arg.startsWith('file:') ? arg.slice(arg.startsWith('file://') ? 7 : 5).replace(/\?.*$/, '') : arg;
  try {
    printJson(inspectFile(path));
  } catch (e) {
    if (e instanceof InvalidOptionError) throw new UsageError(`inspect ${path}: the extension must be .edf, .bdf, .csv or .cfs`);
    throw e;
  }
  return 0;
}
