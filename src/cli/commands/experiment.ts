/** `cfstream experiment synthetic|genes|tensor|eeg|seizure`: the paper's experiments. */
import type { Method } from '../../compressed/pipeline.js';
import type { Solver } from '../../compressed/factorization.js';
import type { RecoveryMethod } from '../../recovery/index.js';
import { FIG2_DS, FIG2_KS, runSyntheticPoint, type SyntheticRow } from '../../experiments/synthetic.js';
import { runGenes, runGenesClustering } from '../../experiments/genes.js';
import { choice, choices, num, numList, parseFlags, UsageError } from '../args.js';
import { cellWhere, parseMatrixCsv } from '../csv.js';
import { DataError } from '../../errors.js';
import { fmt, printJson, table } from '../output.js';
import { progress } from '../progress.js';
import { readText } from '../files.js';
import { runTensorExperiment } from '../../experiments/tensor.js';

/** Entry point: dispatches on the experiment name. */
export async function experimentCommand(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === 'synthetic') return synthetic(rest);
  if (name === 'genes') return genes(rest);
  if (name === 'tensor') return tensor(rest);
  if (name === 'eeg') return (await import('./eeg.js')).eegCommand(rest);
  if (name === 'seizure') return (await import('./seizure.js')).seizureCommand(rest);
  throw new UsageError(`experiment: unknown experiment ${JSON.stringify(name ?? '')}; expected synthetic, genes, tensor, eeg or seizure`);
}

const SYN_FLAGS = {
  solver: { type: 'string' }, method: { type: 'string' }, recovery: { type: 'string' }, nmf: { type: 'string' },
  n: { type: 'string' }, m: { type: 'string' }, r: { type: 'string' }, k: { type: 'string' }, d: { type: 'string' },
  p: { type: 'string' }, noise: { type: 'string' }, iters: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' },
} as const;

const SYN_HEADER = ['solver', 'method', 'recovery', 'd', 'k', 'errCompressed', 'errW', 'errOracle', 'factorize s', 'recover s', 'total s'];
const synCells = (r: SyntheticRow) => [
  r.solver + (r.alpha !== undefined ? ` α=${r.alpha}` : ''), r.method, r.recovery, String(r.d), String(r.k),
  fmt(r.errCompressed), fmt(r.errW), fmt(r.errOracle), fmt(r.seconds.factorize, 2), fmt(r.seconds.recover, 2), fmt(r.seconds.total, 2),
];

async function synthetic(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseFlags('experiment synthetic', argv, SYN_FLAGS);
  if (positionals.length) throw new UsageError(`experiment synthetic: unexpected argument ${JSON.stringify(positionals[0])}`);
  const solvers = choices<Solver>('solver', v.solver, ['nmf', 'spca'], ['nmf']);
  const method = choice<Method>('method', v.method, ['fr', 'rf', 'full'], 'fr');
  const recoveries = choices<RecoveryMethod>('recovery', v.recovery, ['fast', 'lp'], ['fast']);
  const nmfAlgorithm = choice('nmf', v.nmf, ['hals', 'pgd'] as const, 'hals');
  const n = num('n', v.n, { int: true, min: 2, def: 2000 });
  const m = num('m', v.m, { int: true, min: 1, def: 2000 });
  const r = num('r', v.r, { int: true, min: 1, def: 10 });
  const p = num('p', v.p, { int: true, min: 1, def: 5 });
  const noise = num('noise', v.noise, { min: 0, def: 0.1 });
  const seed = num('seed', v.seed, { int: true, def: 0 });
  const iters = v.iters === undefined ? undefined : num('iters', v.iters, { int: true, min: 1 });
  const ks = v.k === undefined ? FIG2_KS : [num('k', v.k, { int: true, min: 1, max: n })];
  const ds = v.d === undefined ? FIG2_DS : [num('d', v.d, { int: true, min: 1, max: n - 1 })];
  if (r > Math.min(n, m)) throw new UsageError(`--r ${r} exceeds min(n, m) = ${Math.min(n, m)}`);
  for (const d of ds) {
    if (d >= n) throw new UsageError(`--d ${d} must be smaller than --n ${n}`);
    if (p > d) throw new UsageError(`--p ${p} must be ≤ d = ${d}`);
  }
  const single = ks.length === 1 && ds.length === 1 && solvers.length === 1 && recoveries.length === 1;
  const total = ks.length * ds.length * solvers.length * recoveries.length;
  const bar = progress('synthetic');
  const rows: SyntheticRow[] = [];
  if (!v.json) {
    process.stdout.write(`synthetic ${method.toUpperCase()}: n=${n} m=${m} r=${r} p=${p} noise=${noise} seed=${seed} (data seed ${seed}, P seed ${seed + 1}, init seed ${seed + 2})\n`);
    if (!single) process.stdout.write(table(SYN_HEADER, [], 8) + '\n');
  }
  for (const solver of solvers) for (const d of ds) for (const k of ks) for (const recovery of recoveries) {
    bar.update(rows.length / total, `${solver} d=${d} k=${k} ${recovery}`);
    const row = await runSyntheticPoint({ solver, method, recovery, n, m, r, k, d, p, noise, seed, nmfAlgorithm, iters });
    rows.push(row);
    if (!v.json && !single) {
      bar.done();
      process.stdout.write(table(SYN_HEADER, [synCells(row)], 8).split('\n')[2] + '\n');
    }
  }
  bar.done();
  if (v.json) printJson(single ? rows[0] : rows);
  else if (single) process.stdout.write(table(SYN_HEADER, rows.map(synCells)) + '\n');
  return 0;
}

const GENES_FLAGS = {
  input: { type: 'string' }, rank: { type: 'string' }, compressions: { type: 'string' }, p: { type: 'string' },
  recovery: { type: 'string' }, nmf: { type: 'string' }, iters: { type: 'string' }, trials: { type: 'string' },
  'no-rf': { type: 'boolean' }, 'no-cluster': { type: 'boolean' }, 'cluster-seeds': { type: 'string' },
  seed: { type: 'string' }, json: { type: 'boolean' },
} as const;

async function genes(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseFlags('experiment genes', argv, GENES_FLAGS);
  if (positionals.length) throw new UsageError(`experiment genes: unexpected argument ${JSON.stringify(positionals[0])} (use --input FILE)`);
  if (!v.input) throw new UsageError('experiment genes: --input matrix.csv is required');
  const parsed = parseMatrixCsv(readText(v.input), v.input);
  const M = parsed.matrix;
  const neg = M.data.findIndex((x) => x < 0);
  if (neg >= 0) throw new DataError(`negative entry ${M.data[neg]} — the genes experiment runs NMF and needs non-negative data`, cellWhere(parsed, neg, v.input));
  const rank = num('rank', v.rank, { int: true, min: 1, def: 10 });
  if (rank > Math.min(M.rows, M.cols)) throw new UsageError(`--rank ${rank} exceeds min(n, m) = ${Math.min(M.rows, M.cols)} of ${v.input}`);
  const compressions = numList('compressions', v.compressions, [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], { min: 1.0001 });
  const p = num('p', v.p, { int: true, min: 1, def: 5 });
  for (const c of compressions) {
    const d = Math.round(M.rows / c);
    if (d < Math.max(p, rank)) throw new UsageError(`--compressions ${c} gives d = ${d} < max(p, rank) = ${Math.max(p, rank)}`);
  }
  const recovery = choice<RecoveryMethod>('recovery', v.recovery, ['fast', 'lp'], 'fast');
  const nmfAlgorithm = choice('nmf', v.nmf, ['hals', 'pgd'] as const, 'hals');
  const trials = num('trials', v.trials, { int: true, min: 1, def: 1 });
  const seed = num('seed', v.seed, { int: true, def: 0 });
  const iters = v.iters === undefined ? undefined : num('iters', v.iters, { int: true, min: 1 });
  const bar = progress('genes');
  const res = await runGenes(M, { rank, compressions, p, recovery, nmfAlgorithm, iters, trials, seed, rf: !v['no-rf'], onProgress: (f, t) => bar.update(f, t) });
  bar.done();
  // Classes from sample names such as ALL_19769_B-cell → ALL (the text before the first '_').
  const classes = parsed.colLabels?.map((s) => s.split(/[_.\s]/)[0] ?? s);
  let clustering: Awaited<ReturnType<typeof runGenesClustering>> | undefined;
  if (!v['no-cluster'] && classes && new Set(classes).size === 2) {
    const seeds = num('cluster-seeds', v['cluster-seeds'], { int: true, min: 1, def: 5 });
    clustering = await runGenesClustering(M, classes, compressions, { p, recovery, nmfAlgorithm, seed, seeds });
  }
  if (v.json) {
    printJson({ input: v.input, ...res, clustering: clustering ?? null });
    return 0;
  }
  process.stdout.write(`genes: ${v.input} n=${res.n} m=${res.m} rank=${rank} p=${p} recovery=${recovery} nmf=${nmfAlgorithm} trials=${trials} seed=${seed}\n`);
  process.stdout.write(`uncompressed NMF error ${fmt(res.full.error)} (${fmt(res.full.seconds, 2)} s)\n`);
  process.stdout.write(table(
    ['n/d', 'd', 'FR error', 'RF error', 'reduction', 'FR compress s', 'FR NMF s', 'FR recovery s', 'RF recovery s', 'RF NMF s', 'FR total s', 'RF total s'],
    res.rows.map((row) => [
      String(row.compression), String(row.d),
      fmt(row.fr.error.mean) + (trials > 1 ? `±${fmt(row.fr.error.sd)}` : ''),
      row.rf ? fmt(row.rf.error.mean) + (trials > 1 ? `±${fmt(row.rf.error.sd)}` : '') : '—',
      row.reduction === undefined ? '—' : `${(row.reduction * 100).toFixed(1)}%`,
      fmt(row.fr.seconds.compress), fmt(row.fr.seconds.factorize), fmt(row.fr.seconds.recover),
      row.rf ? fmt(row.rf.seconds.recover) : '—', row.rf ? fmt(row.rf.seconds.factorize) : '—',
      fmt(row.fr.seconds.total), row.rf ? fmt(row.rf.seconds.total) : '—',
    ]),
  ) + '\n');
  if (clustering) {
    process.stdout.write(`\nrank-2 clustering (argmax of each column of H) vs ${[...new Set(classes)].join('/')}, ${clustering.full.length} seeds, correct of ${clustering.total}:\n`);
    process.stdout.write(table(['data', 'correct per seed'], [
      ['uncompressed', clustering.full.join(' ')],
      ...clustering.fr.map((c) => [`FR n/d=${c.compression}`, c.correct.join(' ')]),
    ]) + '\n');
  }
  return 0;
}

const TENSOR_FLAGS = {
  n: { type: 'string' }, m1: { type: 'string' }, m2: { type: 'string' }, r: { type: 'string' }, k: { type: 'string' },
  d: { type: 'string' }, p: { type: 'string' }, noise: { type: 'string' }, seed: { type: 'string' }, iters: { type: 'string' },
  method: { type: 'string' }, recovery: { type: 'string' }, cp: { type: 'string' }, json: { type: 'boolean' },
} as const;

async function tensor(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseFlags('experiment tensor', argv, TENSOR_FLAGS);
  if (positionals.length) throw new UsageError(`experiment tensor: unexpected argument ${JSON.stringify(positionals[0])}`);
  const n = num('n', v.n, { int: true, min: 2, def: 1000 });
  const r = num('r', v.r, { int: true, min: 1, def: 5 });
  const d = num('d', v.d, { int: true, min: 1, max: n - 1, def: 200 });
  const o = {
    n, r, d,
    m1: num('m1', v.m1, { int: true, min: 1, def: 60 }),
    m2: num('m2', v.m2, { int: true, min: 1, def: 40 }),
    k: num('k', v.k, { int: true, min: 1, max: n, def: 20 }),
    p: num('p', v.p, { int: true, min: 1, max: d, def: 5 }),
    noise: num('noise', v.noise, { min: 0, def: 0 }),
    seed: num('seed', v.seed, { int: true, def: 0 }),
    maxIter: num('iters', v.iters, { int: true, min: 1, def: 500 }),
    method: choice('method', v.method, ['fr', 'rf', 'full'] as const, 'fr'),
    recovery: choice<RecoveryMethod>('recovery', v.recovery, ['fast', 'lp'], 'fast'),
    cpMethod: choice('cp', v.cp, ['nn-hals', 'als', 'orth-als'] as const, 'nn-hals'),
  };
  if (r > d) throw new UsageError(`--r ${r} exceeds --d ${d}`);
  const row = await runTensorExperiment(o);
  if (v.json) { printJson(row); return 0; }
  process.stdout.write(`tensor ${o.method.toUpperCase()}: T = [[A, B, C]] ${n}×${o.m1}×${o.m2}, r=${r}, A ${o.k}-sparse, mode 1 compressed to d=${d} (p=${o.p}), noise=${o.noise}, CP ${o.cpMethod}, seed ${o.seed}\n`);
  process.stdout.write(table(['errA', 'errB', 'errC', 'errRecon', 'errOracle', 'compress s', 'CP s', 'recover s', 'total s'], [[
    fmt(row.errA, 4), fmt(row.errB, 4), fmt(row.errC, 4), fmt(row.errRecon, 4), fmt(row.errOracle, 4),
    fmt(row.seconds.compress), fmt(row.seconds.factorize), fmt(row.seconds.recover), fmt(row.seconds.total),
  ]]) + '\n');
  return 0;
}
