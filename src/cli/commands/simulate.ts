/**
 * `cfstream simulate cyton --serial <path>`: a virtual OpenBCI Cyton on one end of a pty pair
 * (simulators/virtualCyton.ts), until Ctrl-C / SIGTERM or `--duration` seconds; then a summary of
 * what it sent and which faults it injected (one JSON document with `--json`). Like `eeg.ts`, one
 * of the few places in src/ that reaches outside it (into simulators/).
 *
 * ```
 * socat -d -d pty,raw,echo=0,link=/tmp/cyton-board pty,raw,echo=0,link=/tmp/cyton-host &
 * cfstream simulate cyton --serial /tmp/cyton-board --drop-every 100 &
 * # then read cyton:/tmp/cyton-host (cytonSource) in another process
 * ```
 *
 * `cfstream simulate sensor --mqtt <url>`: a virtual MQTT sensor, see simulateSensor.ts.
 *
 * `cfstream simulate lines --serial <path> [--columns 4] [--rate 100] [--seed S] [--bad-every N]`:
 * a virtual Arduino-style sensor printing CSV lines (simulators/virtualLines.ts), read with
 * `lines:<other end>?columns=4&rate=100`.
 */
import { DataError } from '../../errors.js';
import { num, parseFlags, UsageError } from '../args.js';
import { printJson } from '../output.js';

const FLAGS = {
  serial: { type: 'string' }, daisy: { type: 'boolean' }, rate: { type: 'string' }, seed: { type: 'string' },
  'drop-every': { type: 'string' }, 'corrupt-every': { type: 'string' }, 'delete-every': { type: 'string' },
  duration: { type: 'string' }, json: { type: 'boolean' },
} as const;

/** Entry point of `simulate <board>`; resolves to the exit code when the board stops. */
export async function simulateCommand(argv: string[]): Promise<number> {
  const [board, ...rest] = argv;
  if (board === 'sensor') return (await import('./simulateSensor.js')).simulateSensorCommand(rest);
  if (board === 'lines') return simulateLines(rest);
  if (board !== 'cyton') throw new UsageError(`simulate: unknown board ${JSON.stringify(board ?? '')}; expected cyton, sensor or lines`);
  const { values: v, positionals } = parseFlags('simulate cyton', rest, FLAGS);
  if (positionals.length) throw new UsageError(`simulate cyton: unexpected argument ${JSON.stringify(positionals[0])}`);
  if (!v.serial) throw new UsageError('simulate cyton: --serial <path> is required (one end of a pty pair, e.g. from socat)');
  const options = {
    path: v.serial,
    daisy: v.daisy ?? false,
    rate: num('rate', v.rate, { min: 1, max: 100_000, def: 250 }),
    seed: num('seed', v.seed, { int: true, def: 0 }),
    dropEvery: num('drop-every', v['drop-every'], { int: true, min: 0, def: 0 }),
    corruptEvery: num('corrupt-every', v['corrupt-every'], { int: true, min: 0, def: 0 }),
    deleteEvery: num('delete-every', v['delete-every'], { int: true, min: 0, def: 0 }),
  };
  const duration = num('duration', v.duration, { min: 0, def: Infinity });

  const { VirtualCyton } = await import('../../../simulators/virtualCyton.js');
  const sim = await openingPath(VirtualCyton.start(options), v.serial);
  const what = `${options.daisy ? '16' : '8'} channels, ${options.rate} packets/s, seed ${options.seed}`;
  process.stderr.write(`cfstream simulate: virtual Cyton on ${v.serial} (${what}); Ctrl-C to stop\n`);

  await untilStopped(duration);
  await sim.close();
  const s = sim.stats();
  const summary = {
    board: 'cyton', serial: v.serial, ...options, sent: s.sent, unsent: s.unsent,
    dropped: s.dropped.length, corrupted: s.corrupted.length, deleted: s.deleted.length, opens: s.opens, commands: s.commands,
  };
  if (v.json) printJson(summary);
  else {
    process.stdout.write(`virtual Cyton on ${v.serial}: sent ${s.sent} packets (${s.unsent} with nobody reading); ` +
      `dropped ${summary.dropped}, corrupted ${summary.corrupted}, deleted a byte of ${summary.deleted}; commands ${JSON.stringify(s.commands)}\n`);
  }
  return 0;
}

const LINES_FLAGS = {
  serial: { type: 'string' }, columns: { type: 'string' }, rate: { type: 'string' }, seed: { type: 'string' },
  'bad-every': { type: 'string' }, duration: { type: 'string' }, json: { type: 'boolean' },
} as const;

/** `simulate lines`: a virtual line-protocol sensor until Ctrl-C / SIGTERM or `--duration`; then a summary. */
async function simulateLines(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseFlags('simulate lines', argv, LINES_FLAGS);
  if (positionals.length) throw new UsageError(`simulate lines: unexpected argument ${JSON.stringify(positionals[0])}`);
  if (!v.serial) throw new UsageError('simulate lines: --serial <path> is required (one end of a pty pair, e.g. from socat)');
  const options = {
    path: v.serial,
    columns: num('columns', v.columns, { int: true, min: 1, max: 1024, def: 4 }),
    rate: num('rate', v.rate, { min: 0.001, max: 100_000, def: 100 }),
    seed: num('seed', v.seed, { int: true, def: 0 }),
    badEvery: num('bad-every', v['bad-every'], { int: true, min: 0, def: 0 }),
  };
  const duration = num('duration', v.duration, { min: 0, def: Infinity });

  const { VirtualLines } = await import('../../../simulators/virtualLines.js');
  const sim = await openingPath(VirtualLines.start(options), v.serial);
  const what = `${options.columns} columns, ${options.rate} lines/s, seed ${options.seed}${options.badEvery ? `, a bad line after every ${options.badEvery}` : ''}`;
  process.stderr.write(`cfstream simulate: virtual line sensor on ${v.serial} (${what}); Ctrl-C to stop\n`);

  await untilStopped(duration);
  await sim.close();
  const s = sim.stats();
  const badByKind: Record<string, number> = {};
  for (const b of s.bad) badByKind[b.kind] = (badByKind[b.kind] ?? 0) + 1;
  const summary = { board: 'lines', serial: v.serial, ...options, sent: s.sent, unsent: s.unsent, bad: s.bad.length, badByKind, headers: s.headers, opens: s.opens };
  if (v.json) printJson(summary);
  else process.stdout.write(`virtual line sensor on ${v.serial}: sent ${s.sent} lines (${s.unsent} with nobody reading) and ${s.bad.length} bad lines ${JSON.stringify(badByKind)}\n`);
  return 0;
}

/** The virtual device, once its serial path opened; a path that does not open is a DataError naming it. */
async function openingPath<T>(start: Promise<T>, path: string): Promise<T> {
  try {
    return await start;
  } catch (e) {
    throw new DataError(`cannot open the serial path: ${(e as Error).message}`, path);
  }
}

/** Resolves on SIGINT, SIGTERM or after `duration` seconds (Infinity: only the signals). */
export function untilStopped(duration: number, also?: Promise<unknown>): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    void also?.then(stop);
    if (Number.isFinite(duration)) setTimeout(stop, duration * 1000).unref();
  });
}
