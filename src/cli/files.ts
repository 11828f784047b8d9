/** File I/O for commands: reads and all-or-nothing writes whose failures are one clear line. */
import { accessSync, constants, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { UsageError } from './args.js';

/** Reads a file, turning fs errors into one clear line. */
export function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message}`);
  }
}

/**
 * Writes files into `dir` all-or-nothing: temporaries first, renamed only when all are written.
 * `flag` names the option the user gave the target with, for the error line.
 */
export function writeAllOrNothing(dir: string, files: Record<string, string>, flag = '--out'): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new UsageError(`cannot create ${flag} directory ${dir}: ${(e as Error).message}`);
  }
  const tmp: string[] = [];
  try {
    for (const [name, text] of Object.entries(files)) {
      const t = join(dir, `.${name}.${process.pid}.tmp`);
      writeFileSync(t, text);
      tmp.push(t);
    }
    for (const name of Object.keys(files)) renameSync(join(dir, `.${name}.${process.pid}.tmp`), join(dir, name));
  } catch (e) {
    for (const t of tmp) rmSync(t, { force: true });
    throw new UsageError(`cannot write ${flag} ${dir}: ${(e as Error).message}`);
  }
}

/** The --plot target must be an .svg file in a writable (or creatable) place. */
export function checkPlotPath(path: string): void {
  if (extname(path).toLowerCase() !== '.svg') {
    throw new UsageError(`--plot ${path}: only SVG output is supported; use a name ending in .svg (convert with e.g. rsvg-convert for PNG)`);
  }
  const dir = dirname(path);
  try {
    if (!statSync(dir).isDirectory()) throw new UsageError(`--plot ${path}: ${dir} is not a directory`);
    accessSync(dir, constants.W_OK);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`--plot ${path}: ${code === 'ENOENT' ? `directory ${dir} does not exist` : `cannot write to ${dir} (${code ?? (e as Error).message})`}`);
  }
}
