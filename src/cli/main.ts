/**
 * The `cfstream` command. Each subcommand parses its flags, validates them up front and prints
 * either a table for people or, with `--json`, one JSON document on stdout (logs and progress go
 * to stderr). User errors exit with code 2 and one line naming the problem and where it was found.
 * Commands are imported when used, so `help` or a light command on an edge device does not load
 * the solvers (HiGHS' WebAssembly, the FFT) it never calls.
 */
import { ConfigError, DataError, InvalidOptionError, ShapeMismatchError, SolverError } from '../errors.js';
import { UsageError } from './args.js';

const HELP = `cfstream — compressed factorization of compressively-sensed data

Usage:
  cfstream factorize <matrix.csv> --rank R (--d D | --compression C) [--p 5]
                     [--method fr|rf|full] [--solver nmf|spca] [--recovery fast|lp]
                     [--nmf hals|pgd] [--iters N] [--alpha A] [--clip] [--seed S]
                     [--out DIR] [--json]
  cfstream experiment synthetic [--solver nmf|spca] [--method fr|rf|full] [--recovery fast|lp[,..]]
                     [--n 2000 --m 2000 --r 10 --k K --d D --p 5 --noise 0.1 --iters N --seed S] [--json]
  cfstream experiment genes --input matrix.csv [--rank 10] [--compressions 2,3,...,12]
                     [--recovery fast|lp] [--nmf hals|pgd] [--trials 1] [--no-rf] [--json]
  cfstream experiment tensor [--n 1000 --m1 60 --m2 40 --r 5 --k 20 --d 200 --noise 0]
                     [--method fr|rf|full] [--cp nn-hals|als|orth-als] [--recovery fast|lp] [--json]
  cfstream experiment eeg --input file.edf [--window 1 --hop 0.5 --fmin 0 --fmax 40 --scale magnitude|power]
                     [--rank 10] [--compressions 2,3,4,5,6] [--rf 2,5 | --no-rf]
                     [--mode time|frequency|channel] [--basis identity|dct] [--recovery auto|min-l2|lp|fast]
                     [--cp nn-hals|orth-als|als] [--iters 500] [--lift auto|factor|mttkrp] [--refit 10] [--json] [--plot out.svg]
  cfstream experiment seizure [--hours 2] [--bursts 8] [--compression 5] [--channels 32 --freq-bins 40]
                     [--rank 7] [--p 5] [--recovery fast|lp] [--cp orth-als|nn-hals|als] [--iters 15]
                     [--no-rf] [--seed S] [--json] [--plot out.svg]
  cfstream bench factorize [--reps 5] [--rf-reps 3] [--no-lp] [--json]
  cfstream bench recovery [--n 2000 --d 400 --p 5 --k 40 --r 10] [--json]
  cfstream bench load [--devices 100] [--rate 250] [--seconds 20] [--qos 0|1] [--broker embedded|aedes|mosquitto|URL] [--json]
  cfstream bench stream [--n 2000 --d 400 --r 10 --k 40 --frames 20000 --batch 32 --warm-start 0]
                     [--pool 4096 --reconstruct-ms 1000 --raw] [--json]
  cfstream run [config.yaml] [--source URI] [--duration s] [--headless] [--json-log] [--pacing realtime|max] [--json]
  cfstream run [config.yaml] --worker [--worker-id ID] [--group NAME] [--source mqtt://host:port/<prefix>/+] [--duration s] [--json-log] [--json]
  cfstream record <source-uri> --out <file.edf|.bdf|.cfs|.csv> [--duration s] [--range min:max]
                     [--record-duration 1] [--compress ensemble:d[:p[:seed]]] [--pacing realtime|max] [--json]
  cfstream replay <file> [--speed N|max] [--json]
  cfstream inspect <file>
  cfstream convert <in> <out.csv> [--json]
  cfstream bench replay [--channels 64 --hours 1 --rate 160 --format bdf|edf] [--keep] [--json]
  cfstream simulate cyton --serial <path> [--daisy] [--rate 250] [--seed S] [--drop-every N]
                     [--corrupt-every N] [--delete-every N] [--duration s] [--json]
  cfstream simulate lines --serial <path> [--columns 4] [--rate 100] [--seed S] [--bad-every N] [--duration s] [--json]
  cfstream simulate sensor --mqtt <url> [--stream id] [--rate 250] [--n 64] [--compressed d] [--json-frames]
                     [--malformed-every N] [--nan-every N] [--gap-every N] [--duration s] [--json]
  cfstream hash-secret [--cost 16384] [--json]   reads a broker password on stdin, prints its hash
  cfstream help

Every command takes --json (one JSON document on stdout) and --seed.
`;

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'factorize':
        return await (await import('./commands/factorize.js')).factorizeCommand(rest);
      case 'experiment':
        return await (await import('./commands/experiment.js')).experimentCommand(rest);
      case 'bench':
        return await (await import('./commands/bench.js')).benchCommand(rest);
      case 'run':
        return await (await import('./commands/run.js')).runCommand(rest);
      case 'record':
        return await (await import('./commands/record.js')).recordCommand(rest);
      case 'replay':
        return await (await import('./commands/replay.js')).replayCommand(rest);
      case 'inspect':
        return await (await import('./commands/inspect.js')).inspectCommand(rest);
      case 'convert':
        return await (await import('./commands/convert.js')).convertCommand(rest);
      case 'simulate':
        return await (await import('./commands/simulate.js')).simulateCommand(rest);
      case 'hash-secret':
        return await (await import('./commands/hashSecret.js')).hashSecretCommand(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(HELP);
        return 0;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(cmd)}; run 'cfstream help'`);
    }
  } catch (e) {
    if (e instanceof UsageError || e instanceof DataError || e instanceof InvalidOptionError || e instanceof ShapeMismatchError || e instanceof ConfigError) {
      process.stderr.write(`cfstream: error: ${e.message}\n`);
      return 2;
    }
    if (e instanceof SolverError) {
      process.stderr.write(`cfstream: solver failed: ${e.message}\n`);
      return 3;
    }
    throw e;
  }
}

const isEntry = process.argv[1] && /(?:main\.ts|cfstream(?:\.js)?)$/.test(process.argv[1]);
if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // Done: whatever a library still holds open (a socket a dead peer never closes) must not keep
      // an unattended job alive. The timer does not hold the process; it fires only if something else does.
      setTimeout(() => {
        process.stderr.write(`cfstream: exiting with resources still open (${process.getActiveResourcesInfo().filter((r) => r !== 'Timeout').join(', ') || 'none'})\n`);
        process.exit(code);
      }, 5000).unref();
    },
    (e: unknown) => {
      process.stderr.write(`cfstream: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exitCode = 1;
      // Whatever the failed command left running (a timer, a socket) must not hang an unattended job.
      setTimeout(() => process.exit(1), 5000).unref();
    },
  );
}
