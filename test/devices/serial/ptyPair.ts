/** Test helpers: a socat pty pair with fixed link names that can be killed and restarted, and polling. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';

/** The socat binary, or undefined when it is not installed. */
export const SOCAT: string | undefined = (() => {
  const r = spawnSync('sh', ['-c', 'command -v socat'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
})();

const WHY = 'socat not found on PATH (apt-get install socat): these tests need a real pty pair';

/**
 * `describe` for tests that need socat: without socat they are skipped, saying why, unless CI is
 * set — then they run and fail on the missing binary.
 */
export function describeWithSocat(name: string, body: () => void): void {
  if (!SOCAT && !process.env.CI) describe.skip(`${name} — SKIPPED: ${WHY}; with CI set this is a failure`, body);
  else describe(name, body);
}

/** Resolves when `pred()` holds, polling every 5 ms; rejects naming `what` after `ms`. */
export async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (!pred()) {
    if (performance.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A socat pty pair: `board` and `host` are the two link paths. */
export class PtyPair {
  readonly dir = mkdtempSync(join(tmpdir(), 'cfstream-pty-'));
  readonly board = join(this.dir, 'board');
  readonly host = join(this.dir, 'host');
  private proc: ChildProcess | undefined;

  /** Starts socat and waits until both links exist. */
  async start(): Promise<void> {
    if (!SOCAT) {
      rmSync(this.dir, { recursive: true, force: true });
      throw new Error(`${WHY}; under CI this is a failure`);
    }
    const proc = spawn(SOCAT, ['-d', '-d', `pty,raw,echo=0,link=${this.board}`, `pty,raw,echo=0,link=${this.host}`], { stdio: 'ignore' });
    this.proc = proc;
    await until(() => existsSync(this.board) && existsSync(this.host), 3000, 'socat to create its pty links');
  }

  /** Kills socat (by pid) and waits for it to exit: both ptys disappear, as on an unplug. */
  async kill(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  }

  /** Kills socat and removes the link directory. */
  async close(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
