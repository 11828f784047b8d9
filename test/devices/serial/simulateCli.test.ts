/** `cfstream simulate cyton` as a subprocess, read through a socat pty by an in-process cytonSource. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { cytonSource, type CytonEvent, type CytonFrame } from '../../../devices/serial/cyton.js';
import { cytonMicrovoltsPerCount } from '../../../devices/serial/cytonPacket.js';
import { VirtualCytonSignal } from '../../../simulators/virtualCyton.js';
import { describeWithSocat, PtyPair, until } from './ptyPair.js';

const root = join(import.meta.dirname, '..', '..', '..');

/** Starts the CLI; `done` resolves with its exit code and output. */
function cli(args: string[]) {
  const child = spawn(process.execPath, [join(root, 'src/cli/cfstream.js'), 'simulate', ...args], { cwd: root });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) => child.on('close', (code) => resolve({ code, out, err })));
  return { child, done, stderr: () => err };
}

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

describeWithSocat('cfstream simulate cyton', () => {
  it('serves the wire protocol on a pty until SIGTERM, with the asked-for drops, and prints a JSON summary', async () => {
    const pty = new PtyPair();
    await pty.start();
    const run = cli(['cyton', '--serial', pty.board, '--rate', '1000', '--seed', '2', '--drop-every', '10', '--json']);
    cleanup = async () => {
      run.child.kill('SIGKILL');
      await pty.close();
    };
    await until(() => run.stderr().includes('virtual Cyton on'), 8000, 'the simulator to start');
    expect(run.stderr()).toContain('(8 channels, 1000 packets/s, seed 2)');
    const source = cytonSource(`cyton:${pty.host}`, { handshakeTimeoutMs: 2000 });
    const frames: CytonFrame[] = [];
    const events: CytonEvent[] = [];
    source.events$.subscribe((e) => events.push(e));
    const sub = source.frames$.subscribe((f) => frames.push(f));
    await until(() => frames.length >= 300, 5000, '300 frames');
    sub.unsubscribe();
    await new Promise((r) => setTimeout(r, 100)); // let 's' reach the board
    run.child.kill('SIGTERM');
    const { code, out, err } = await run.done;
    expect(code, err).toBe(0);

    const signal = new VirtualCytonSignal(2, 8);
    const scale = cytonMicrovoltsPerCount(24);
    for (const f of frames) expect([...f.values]).toEqual(Array.from({ length: 8 }, (_, c) => signal.counts(c, f.seq) * scale));
    const last = frames[frames.length - 1]!.seq;
    const dropped = Array.from({ length: last + 1 }, (_, k) => k).filter((k) => (k + 1) % 10 === 0);
    expect(frames.map((f) => f.seq)).toEqual(Array.from({ length: last + 1 }, (_, k) => k).filter((k) => !dropped.includes(k)));
    expect(source.stats().lost).toBe(dropped.length);
    expect(events.filter((e) => e.type === 'gap')).toHaveLength(dropped.length);

    const summary = JSON.parse(out);
    expect(summary).toMatchObject({ board: 'cyton', serial: pty.board, daisy: false, rate: 1000, seed: 2, dropEvery: 10, corruptEvery: 0, commands: 'vbs', opens: 1 });
    expect(summary.dropped).toBeGreaterThanOrEqual(dropped.length);
    expect(summary.sent).toBeGreaterThanOrEqual(frames.length);
  });

  it('refuses bad flags and paths with one line and exit code 2', async () => {
    const cases: [string[], RegExp][] = [
      [['cyton'], /simulate cyton: --serial <path> is required/],
      [['ganglion', '--serial', '/tmp/x'], /simulate: unknown board "ganglion"; expected cyton/],
      [['cyton', '--serial', '/nonexistent/cyton-board'], /\/nonexistent\/cyton-board: cannot open the serial path/],
      [['cyton', '--serial', '/tmp/x', '--rate', '0'], /--rate must be ≥ 1; got 0/],
      [['cyton', '--serial', '/tmp/x', '--drop-every', '2.5'], /--drop-every must be an integer; got 2.5/],
      [['cyton', '--serial', '/tmp/x', '--baud', '9600'], /simulate cyton: Unknown option '--baud'/],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(args).done));
    results.forEach((r, i) => {
      const [args, re] = cases[i]!;
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(re);
      expect(r.err.trim().split('\n'), args.join(' ')).toHaveLength(1);
    });
  });
});
