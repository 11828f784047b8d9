/** `cfstream factorize <matrix.csv>`: compressed factorization of a CSV matrix. */
import { DataError } from '../../errors.js';
import { DEFAULT_P } from '../../sensing/index.js';
import { runCompressed, type Method } from '../../compressed/pipeline.js';
import { reconstructionError } from '../../compressed/metrics.js';
import type { Solver } from '../../compressed/factorization.js';
import type { RecoveryMethod } from '../../recovery/index.js';
import { choice, num, parseFlags, UsageError } from '../args.js';
import { cellWhere, formatMatrixCsv, parseMatrixCsv } from '../csv.js';
import { fmt, printJson, table } from '../output.js';
import { progress } from '../progress.js';
import { readText, writeAllOrNothing } from '../files.js';

const FLAGS = {
  rank: { type: 'string' }, d: { type: 'string' }, compression: { type: 'string' }, p: { type: 'string' },
  method: { type: 'string' }, solver: { type: 'string' }, recovery: { type: 'string' }, nmf: { type: 'string' },
  iters: { type: 'string' }, alpha: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' },
  clip: { type: 'boolean' }, json: { type: 'boolean' },
} as const;

/** Entry point of the subcommand; returns the exit code. */
export async function factorizeCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseFlags('factorize', argv, FLAGS);
  if (positionals.length !== 1) throw new UsageError(`factorize: expected one input file (matrix.csv); got ${positionals.length}`);
  const file = positionals[0]!;
  const method = choice<Method>('method', v.method, ['fr', 'rf', 'full'], 'fr');
  const solver = choice<Solver>('solver', v.solver, ['nmf', 'spca'], 'nmf');
  const recovery = choice<RecoveryMethod>('recovery', v.recovery, ['fast', 'lp'], 'fast');
  const nmfAlgorithm = choice('nmf', v.nmf, ['hals', 'pgd'] as const, 'hals');
  const rank = num('rank', v.rank, { int: true, min: 1 });
  const p = num('p', v.p, { int: true, min: 1, def: DEFAULT_P });
  const seed = num('seed', v.seed, { int: true, def: 0 });
  const iters = v.iters === undefined ? undefined : num('iters', v.iters, { int: true, min: 1 });
  const alpha = v.alpha === undefined ? undefined : num('alpha', v.alpha, { min: 0 });
  if (method !== 'full' && (v.d === undefined) === (v.compression === undefined)) {
    throw new UsageError(`factorize: give exactly one of --d or --compression for method ${method}`);
  }

  const parsed = parseMatrixCsv(readText(file), file);
  const M = parsed.matrix;
  const { rows: n, cols: m } = M;
  if (rank > Math.min(n, m)) throw new UsageError(`--rank ${rank} exceeds min(n, m) = ${Math.min(n, m)} of ${file} (n = ${n} rows × m = ${m} columns)`);
  let d = n;
  if (method !== 'full') {
    if (v.d !== undefined) d = num('d', v.d, { int: true, min: 1 });
    else d = Math.round(n / num('compression', v.compression, { min: Number.MIN_VALUE }));
    if (d >= n) throw new UsageError(`compressed dimension d = ${d} must be smaller than n = ${n} (rows of ${file})`);
    if (d < 1) throw new UsageError(`compressed dimension d = ${d} must be at least 1`);
    if (p > d) throw new UsageError(`--p ${p} must be ≤ d = ${d} (each column of P has p ones among d rows)`);
    if (rank > d) throw new UsageError(`--rank ${rank} exceeds the compressed dimension d = ${d}`);
  }
  let clipped = 0;
  if (solver === 'nmf') {
    for (let t = 0; t < M.data.length; t++) {
      if (M.data[t]! < 0) {
        if (!v.clip) {
          throw new DataError(`negative entry ${M.data[t]} — NMF needs non-negative data (pass --clip to set negatives to 0)`, cellWhere(parsed, t, file));
        }
        M.data[t] = 0;
        clipped++;
      }
    }
    if (clipped) process.stderr.write(`cfstream: --clip set ${clipped} negative entries of ${file} to 0\n`);
  }

  const bar = progress(`factorize ${method}`, !v.json);
  const res = await runCompressed(M, method === 'full' ? undefined : { ensemble: 'sparse-binary', n, d, p, seed: seed + 1 }, {
    method,
    factorization: { solver, rank, seed: seed + 2, nmfAlgorithm, iters, alpha },
    recovery: { method: recovery },
    onProgress: (stage, f) => bar.update(f, stage),
  });
  bar.done();
  const relError = reconstructionError(res.W, res.H, M);
  const summary = {
    method, solver, recovery: method === 'full' ? null : recovery, nmfAlgorithm: solver === 'nmf' ? nmfAlgorithm : null,
    input: file, n, m, d: method === 'full' ? n : d, r: rank, p: method === 'full' ? null : p, seed,
    seconds: res.seconds, relError, clipped,
  };
  if (v.out) {
    const comps = Array.from({ length: rank }, (_, c) => `c${c + 1}`);
    const files: Record<string, string> = {
      'W.csv': formatMatrixCsv(res.W, comps, parsed.rowLabels),
      'H.csv': formatMatrixCsv(res.H, parsed.colLabels, comps),
      'summary.json': JSON.stringify(summary, null, 2) + '\n',
    };
    if (res.Wc) files['Wc.csv'] = formatMatrixCsv(res.Wc, comps);
    writeAllOrNothing(v.out, files);
  }
  if (v.json) printJson({ ...summary, out: v.out ?? null });
  else {
    process.stdout.write(`${method.toUpperCase()} ${solver} on ${file}: n=${n} m=${m} d=${summary.d} r=${rank}${method === 'full' ? '' : ` p=${p} recovery=${recovery}`}\n`);
    process.stdout.write(table(['relError', 'compress s', 'factorize s', 'recover s', 'total s'], [[
      fmt(relError, 4), fmt(res.seconds.compress), fmt(res.seconds.factorize), fmt(res.seconds.recover), fmt(res.seconds.total),
    ]]) + '\n');
    if (v.out) process.stdout.write(`wrote W.csv, H.csv${res.Wc ? ', Wc.csv' : ''}, summary.json to ${v.out}\n`);
  }
  return 0;
}
