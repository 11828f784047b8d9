/** `cfstream bench factorize|recovery`: throughput benchmarks with side-by-side ratios. */
import { benchFactorize } from '../../experiments/benchFactorize.js';
import { benchRecovery } from '../../recovery/bench.js';
import { choice, num, parseFlags, UsageError } from '../args.js';
import { fmt, printJson, table } from '../output.js';
import { progress } from '../progress.js';

const FLAGS = {
  n: { type: 'string' }, m: { type: 'string' }, r: { type: 'string' }, k: { type: 'string' }, d: { type: 'string' },
  p: { type: 'string' }, noise: { type: 'string' }, seed: { type: 'string' }, reps: { type: 'string' },
  'rf-reps': { type: 'string' }, 'no-lp': { type: 'boolean' }, nmf: { type: 'string' }, json: { type: 'boolean' },
} as const;

/** Entry point: dispatches on the benchmark name. */
export async function benchCommand(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === 'stream') return (await import('./benchStream.js')).benchStreamCommand(rest);
  if (name === 'replay') return (await import('./benchReplay.js')).benchReplayCommand(rest);
  if (name === 'load') return (await import('./benchLoad.js')).benchLoadCommand(rest);
  if (name !== 'factorize' && name !== 'recovery') throw new UsageError(`bench: unknown benchmark ${JSON.stringify(name ?? '')}; expected factorize, recovery, stream, replay or load`);
  const { values: v, positionals } = parseFlags(`bench ${name}`, rest, FLAGS);
  if (positionals.length) throw new UsageError(`bench ${name}: unexpected argument ${JSON.stringify(positionals[0])}`);
  const n = num('n', v.n, { int: true, min: 2, def: 2000 });
  const m = num('m', v.m, { int: true, min: 1, def: 2000 });
  const r = num('r', v.r, { int: true, min: 1, def: 10 });
  const k = num('k', v.k, { int: true, min: 1, max: n, def: 40 });
  const d = num('d', v.d, { int: true, min: 1, max: n - 1, def: 400 });
  const p = num('p', v.p, { int: true, min: 1, max: d, def: 5 });
  const noise = num('noise', v.noise, { min: 0, def: 0.1 });
  const seed = num('seed', v.seed, { int: true, def: 0 });
  const bar = progress(`bench ${name}`);
  if (name === 'recovery') {
    const res = await benchRecovery({ n, d, p, k, r, seed, noise: 0 });
    bar.done();
    if (v.json) printJson(res);
    else {
      process.stdout.write(`bench recovery: ${r} planted ${k}-sparse columns, n=${n} d=${d} p=${p}, seed=${seed}, signed basis pursuit (medians)\n`);
      process.stdout.write(table(['solver', 's/column', 'err vs truth'], [
        ['HiGHS LP', res.lp.median.toExponential(2), res.lp.errVsTruth.toExponential(1)],
        ['fast', res.fast.median.toExponential(2), res.fast.errVsTruth.toExponential(1)],
      ]) + '\n');
      process.stdout.write(`speed-up ${fmt(res.speedup, 1)}×; same support: ${res.sameSupport}; certified ${res.certifiedColumns}/${r}; fast vs LP ${res.relErrVsLp.toExponential(1)}\n`);
    }
    return 0;
  }
  const res = await benchFactorize({
    n, m, r, k, d, p, noise, seed,
    reps: num('reps', v.reps, { int: true, min: 1, def: 5 }),
    rfReps: num('rf-reps', v['rf-reps'], { int: true, min: 0, def: 3 }),
    lp: !v['no-lp'],
    nmfAlgorithm: choice('nmf', v.nmf, ['hals', 'pgd'] as const, 'hals'),
    onProgress: (f, t) => bar.update(f, t),
  });
  bar.done();
  if (v.json) { printJson(res); return 0; }
  process.stdout.write(`bench factorize: n=${n} m=${m} r=${r} k=${k} d=${d} p=${p} noise=${noise} seed=${seed} (medians)\n`);
  process.stdout.write(table(
    ['variant', 'reps', 'compress s', 'factorize s', 'recover s', 'total s', 's/column', 'errW'],
    res.variants.map((x) => [x.label, String(x.reps), fmt(x.seconds.compress), fmt(x.seconds.factorize), fmt(x.seconds.recover), fmt(x.seconds.total), x.secondsPerColumn.toExponential(2), fmt(x.errW, 4)]),
  ) + '\n');
  process.stdout.write(`RF/FR end to end: ${fmt(res.ratios.rfOverFr, 1)}×`);
  if (res.ratios.lpOverFastPerColumn !== undefined) process.stdout.write(`; LP/fast per column: ${fmt(res.ratios.lpOverFastPerColumn, 1)}×; FR(LP)/FR(fast): ${fmt(res.ratios.frLpOverFrFast, 1)}×`);
  process.stdout.write('\n');
  return 0;
}
