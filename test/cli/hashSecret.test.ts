/**
 * `cfstream hash-secret`: the secret comes from stdin (never argv), the printed hash verifies it,
 * and nothing but the hash is printed.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { isSecretHash, verifySecret } from '../../devices/mqtt/brokerAuth.js';
import { UsageError } from '../../src/cli/args.js';
import { hashSecretCommand } from '../../src/cli/commands/hashSecret.js';

const root = join(import.meta.dirname, '..', '..');

function cli(input: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'src/cli/cfstream.js'), 'hash-secret', ...args], { cwd: root, input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Runs the command in-process on `input`; returns the exit code (or the error) and what it wrote. */
async function inProcess(input: string, ...args: string[]): Promise<{ result: number | Error; out: string; err: string }> {
  const stdout = new PassThrough(), stderr = new PassThrough();
  let out = '', err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const result = await hashSecretCommand(args, { stdin: Readable.from([Buffer.from(input)]), stdout, stderr }).catch((e: Error) => e);
  return { result, out, err };
}

describe('cfstream hash-secret', () => {
  it('prints one scrypt hash of the secret piped in (one final newline dropped); nothing else, and not the secret', async () => {
    const r = cli('Tr0ub4dor&3\n');
    expect(r.code, r.err).toBe(0);
    const hash = r.out.trim();
    expect(r.out).toBe(`${hash}\n`);
    expect(isSecretHash(hash)).toBe(true);
    expect(hash.startsWith('scrypt$16384$8$1$')).toBe(true);
    expect(await verifySecret('Tr0ub4dor&3', hash)).toBe(true);
    expect(await verifySecret('Tr0ub4dor&3\n', hash)).toBe(false);
    expect(r.out + r.err).not.toContain('Tr0ub4dor');
  });

  it('takes --cost and --json', async () => {
    const { result, out } = await inProcess('s3cret', '--cost', '1024', '--json');
    expect(result).toBe(0);
    const { hash } = JSON.parse(out) as { hash: string };
    expect(hash.startsWith('scrypt$1024$')).toBe(true);
    expect(await verifySecret('s3cret', hash)).toBe(true);
  });

  it('refuses a secret given as an argument, without echoing it (exit 2)', () => {
    const r = cli('', 'Argv-Secret-77');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/takes the secret on standard input, not as an argument/);
    expect(r.err + r.out).not.toContain('Argv-Secret-77');
  });

  it.each([
    ['', [], /no secret on standard input/],
    ['\n', [], /no secret on standard input/],
    ['two\nlines\n', [], /more than one line/],
    ['x', ['--cost', '3000'], /--cost must be a power of 2/],
    ['x', ['--cost', '16'], /--cost must be ≥ 1024/],
  ])('refuses stdin %j with %j', async (input, args, message) => {
    const { result, out } = await inProcess(input, ...args);
    expect(result).toBeInstanceOf(UsageError);
    expect((result as Error).message).toMatch(message);
    expect(out).toBe('');
  });

  it('is listed in cfstream help', () => {
    const r = spawnSync(process.execPath, [join(root, 'src/cli/cfstream.js'), 'help'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout).toMatch(/cfstream hash-secret/);
  });
});
