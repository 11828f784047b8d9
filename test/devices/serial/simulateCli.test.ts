/** `cfstream simulate cyton` as a subprocess, read through a socat pty by an in-process cytonSource. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { cytonSource, type CytonEvent, type CytonFrame } from '../../../devices/serial/cyton.js';
import { cytonMicrovoltsPerCount } from '../../../devices/serial/cytonPacket.js';
import { VirtualCytonSignal } from '../../../simulators/virtualCyton.js';
import { linesSource, type LinesEvent, type LinesFrame } from '../../../devices/serial/lines.js';
import { VirtualLinesSignal } from '../../../simulators/virtualLines.js';
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

describeWithSocat('cfstream simulate lines', () => {
  it('prints CSV lines on a pty until SIGTERM, with a bad line after every N-th, and a JSON summary', async () => {
    const pty = new PtyPair();
    await pty.start();
    // The reader opens first so that it sees the sensor's header and first line (serialport
    // flushes what came before it opened); no stall watchdog while the CLI starts up.
    const source = linesSource(`lines:${pty.host}?columns=3&rate=500`, { stallTimeoutMs: 0 });
    const frames: LinesFrame[] = [];
    const events: LinesEvent[] = [];
    const eventAt: number[] = [];
    source.events$.subscribe((e) => {
      events.push(e);
      eventAt.push(frames.length);
    });
    const sub = source.frames$.subscribe((f) => frames.push(f));
    await until(() => events.some((e) => e.type === 'connect'), 3000, 'the reader to open the port');
    const run = cli(['lines', '--serial', pty.board, '--columns', '3', '--rate', '500', '--seed', '2', '--bad-every', '5', '--json']);
    cleanup = async () => {
      sub.unsubscribe();
      run.child.kill('SIGKILL');
      await pty.close();
    };
    await until(() => run.stderr().includes('virtual line sensor on'), 8000, 'the simulator to start');
    expect(run.stderr()).toContain('(3 columns, 500 lines/s, seed 2, a bad line after every 5)');
    await until(() => frames.length >= 300, 5000, '300 frames');
    sub.unsubscribe();
    run.child.kill('SIGTERM');
    const { code, out, err } = await run.done;
    expect(code, err).toBe(0);

    const n = frames.length;
    const last = frames[n - 1]!.seq;
    const signal = new VirtualLinesSignal(2, 3);
    expect(frames.map((f) => f.seq)).toEqual(Array.from({ length: n }, (_, k) => k));
    for (const f of frames) expect([...f.values]).toEqual([0, 1, 2].map((c) => signal.value(c, f.seq)));
    expect(events.filter((e) => e.type === 'header')).toMatchObject([{ labels: ['ch1', 'ch2', 'ch3'], line: 1 }]);
    // One reject per bad line sent before the last frame: after lines 4, 9, 14, …, kinds in turn.
    const kinds = ['not-numeric', 'column-count', 'not-text', 'overlong'];
    const rejects = events.filter((e, i): e is Extract<LinesEvent, { type: 'reject' }> => e.type === 'reject' && eventAt[i]! < n);
    const afters = Array.from({ length: last }, (_, j) => j).filter((j) => (j + 1) % 5 === 0);
    expect(rejects.map((e) => e.reason)).toEqual(afters.map((j) => kinds[((j + 1) / 5 - 1) % 4]));

    const summary = JSON.parse(out);
    expect(summary).toMatchObject({ board: 'lines', serial: pty.board, columns: 3, rate: 500, seed: 2, badEvery: 5, opens: 1, headers: 1 });
    expect(summary.sent).toBeGreaterThanOrEqual(n);
    expect(summary.bad).toBeGreaterThanOrEqual(rejects.length);
    expect(Object.keys(summary.badByKind).sort()).toEqual([...kinds].sort());
  });

  it('refuses bad flags with one line and exit code 2', async () => {
    const cases: [string[], RegExp][] = [
      [['lines'], /simulate lines: --serial <path> is required/],
      [['lines', '--serial', '/tmp/x', '--columns', '0'], /--columns must be ≥ 1; got 0/],
      [['lines', '--serial', '/tmp/x', '--bad-every', '1.5'], /--bad-every must be an integer; got 1.5/],
      [['lines', '--serial', '/tmp/x', '--daisy'], /simulate lines: Unknown option '--daisy'/],
      [['cyton', '--serial', '/tmp/x', '--columns', '3'], /simulate cyton: Unknown option '--columns'/],
      [['lines', '--serial', '/nonexistent/lines-board'], /\/nonexistent\/lines-board: cannot open the serial path/],
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
