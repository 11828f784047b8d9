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
  if (board !== 'cyton') throw new UsageError(`simulate: unknown board ${JSON.stringify(board ?? '')}; expected cyton or sensor`);
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
  let sim: Awaited<ReturnType<typeof VirtualCyton.start>>;
  try {
    sim = await VirtualCyton.start(options);
  } catch (e) {
    throw new DataError(`cannot open the serial path: ${(e as Error).message}`, v.serial);
  }
  const what = `${options.daisy ? '16' : '8'} channels, ${options.rate} packets/s, seed ${options.seed}`;
  process.stderr.write(`cfstream simulate: virtual Cyton on ${v.serial} (${what}); Ctrl-C to stop\n`);

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (Number.isFinite(duration)) setTimeout(stop, duration * 1000);
  });
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
