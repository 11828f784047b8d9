/** The CLI in a child process, as a user runs it: its stdout, stderr and exit code. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

/** A running `cfstream …`. */
export interface CliProcess {
  child: ChildProcess;
  /** Everything written so far. */
  err: () => string;
  out: () => string;
  /** The exit code (null when killed by a signal). */
  exit: Promise<number | null>;
}

/** Starts `cfstream <args>` from the repository root. */
export function cli(...args: string[]): CliProcess {
  return cliWith({}, ...args);
}

/** `cli` with its own environment. */
export function cliWith(o: { env?: NodeJS.ProcessEnv }, ...args: string[]): CliProcess {
  const child = spawn(process.execPath, [join(root, 'src/cli/cfstream.js'), ...args], { cwd: root, ...(o.env ? { env: o.env } : {}) });
  let err = '', out = '';
  child.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
  child.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, err: () => err, out: () => out, exit };
}
