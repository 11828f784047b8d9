/**
 * `cfstream hash-secret`: reads one secret from standard input and prints its scrypt hash
 * (devices/mqtt/brokerAuth.ts) for `outputs.broker.users[].passwordHash` or CFSTREAM_BROKER_USERS.
 * The secret is never taken from the command line, where `ps` and the shell history show it; on a
 * terminal it is read without echo.
 *
 * ```
 * printf %s "$SECRET" | cfstream hash-secret        → scrypt$16384$8$1$<salt>$<key>
 * cfstream hash-secret                              (prompts on stderr, input hidden)
 * ```
 */
import type { Readable, Writable } from 'node:stream';
import { DEFAULT_SECRET_HASH_OPTIONS, hashSecret } from '../../../devices/mqtt/brokerAuth.js';
import { num, parseFlags, UsageError } from '../args.js';

const FLAGS = { json: { type: 'boolean' }, cost: { type: 'string' } } as const;

/** Usage line (for the CLI help). */
export const HASH_SECRET_USAGE = 'cfstream hash-secret [--cost 16384] [--json]   (the secret on stdin, never as an argument)';

/** Where the command reads and writes (the process' streams by default; tests pass their own). */
export interface HashSecretIo {
  stdin: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  stdout: Writable;
  stderr: Writable;
}

/** Entry point of `cfstream hash-secret`; resolves to the exit code. */
export async function hashSecretCommand(argv: string[], io: HashSecretIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const { values, positionals } = parseFlags('hash-secret', argv, FLAGS);
  // The argument is not echoed: it may be the very secret.
  if (positionals.length > 0) throw new UsageError(`hash-secret: takes the secret on standard input, not as an argument (arguments show in ps and the shell history). Usage: ${HASH_SECRET_USAGE}`);
  const N = num('cost', values.cost, { int: true, min: 1024, max: 2 ** 20, def: DEFAULT_SECRET_HASH_OPTIONS.N });
  if ((N & (N - 1)) !== 0) throw new UsageError(`--cost must be a power of 2 (scrypt's N); got ${N}`);
  const secret = io.stdin.isTTY ? await readHidden(io) : await readAll(io.stdin);
  if (secret === '') throw new UsageError('hash-secret: no secret on standard input (e.g. printf %s "$SECRET" | cfstream hash-secret)');
  if (/[\r\n]/.test(secret)) throw new UsageError('hash-secret: the secret on standard input has more than one line (one secret, one optional final newline)');
  const hash = await hashSecret(secret, { N });
  io.stdout.write(values.json ? `${JSON.stringify({ hash })}\n` : `${hash}\n`);
  return 0;
}

/** All of a piped stdin as UTF-8, less one final newline. */
async function readAll(stdin: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** One line from a terminal with echo off (raw mode); Ctrl-C or Ctrl-D on an empty line cancels. */
function readHidden(io: HashSecretIo): Promise<string> {
  const { stdin, stderr } = io;
  stderr.write('secret (not echoed), then Enter: ');
  return new Promise((resolve, reject) => {
    let text = '';
    const done = (error?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      stderr.write('\n');
      if (error) reject(error);
      else resolve(text);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of String(chunk)) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003' || (ch === '\u0004' && text === '')) return done(new UsageError('hash-secret: cancelled'));
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.setRawMode?.(true);
    stdin.on('data', onData);
    stdin.resume();
  });
}
