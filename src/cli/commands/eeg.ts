/**
 * `cfstream experiment eeg --input file.edf`: reads an EDF/BDF recording, builds its spectrogram
 * tensor (time × frequency × channel) and runs the Fig. 6 analogue (src/experiments/eeg.ts).
 * The CLI is the one place in src/ that reaches into devices/ (the EDF reader lives there).
 */
import { basename, dirname } from 'node:path';
import { readEdfSignals } from '../../../devices/file/edf.js';
import { DataError } from '../../errors.js';
import { spectrogramTensor } from '../../signal/stft.js';
import { BASES, type BasisName } from '../../sensing/basis.js';
import { EEG_MODES, EEG_RECOVERIES, runEegExperiment, type EegMode, type EegRecovery, type EegResult } from '../../experiments/eeg.js';
import type { TensorLift } from '../../compressed/tensor.js';
import { choice, num, numList, parseFlags, UsageError } from '../args.js';
import { fmt, printJson, table } from '../output.js';
import { progress } from '../progress.js';
import { svgChart } from '../svg.js';
import { checkPlotPath, writeAllOrNothing } from '../files.js';

const FLAGS = {
  input: { type: 'string' }, window: { type: 'string' }, hop: { type: 'string' }, fmin: { type: 'string' }, fmax: { type: 'string' },
  scale: { type: 'string' }, rank: { type: 'string' }, compressions: { type: 'string' }, rf: { type: 'string' }, 'no-rf': { type: 'boolean' },
  mode: { type: 'string' }, basis: { type: 'string' }, p: { type: 'string' }, cp: { type: 'string' }, iters: { type: 'string' },
  recovery: { type: 'string' }, lift: { type: 'string' }, refit: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' }, plot: { type: 'string' },
} as const;

/** Entry point of `experiment eeg`; returns the exit code. */
export async function eegCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseFlags('experiment eeg', argv, FLAGS);
  if (positionals.length) throw new UsageError(`experiment eeg: unexpected argument ${JSON.stringify(positionals[0])} (use --input FILE)`);
  if (!v.input) throw new UsageError('experiment eeg: --input file.edf is required');
  const stft = {
    window: num('window', v.window, { min: 0, def: 1 }),
    hop: num('hop', v.hop, { min: 0, def: 0.5 }),
    fmin: num('fmin', v.fmin, { min: 0, def: 0 }),
    fmax: num('fmax', v.fmax, { min: 0, def: 40 }),
    scale: choice('scale', v.scale, ['magnitude', 'power'] as const, 'magnitude'),
  };
  const rank = num('rank', v.rank, { int: true, min: 1, def: 10 });
  const compressions = numList('compressions', v.compressions, [2, 3, 4, 5, 6], { min: 1.0001 });
  const rfAt = v['no-rf'] ? [] : numList('rf', v.rf, compressions.filter((c) => c === Math.min(...compressions) || c === 5), { min: 1.0001 });
  const missing = rfAt.find((c) => !compressions.includes(c));
  if (missing !== undefined) throw new UsageError(`--rf ${missing} is not one of --compressions ${compressions.join(',')}`);
  const mode = choice<EegMode>('mode', v.mode, EEG_MODES, 'time');
  const basis = choice<BasisName>('basis', v.basis, BASES, 'identity');
  const p = num('p', v.p, { int: true, min: 1, def: 5 });
  const cpMethod = choice('cp', v.cp, ['nn-hals', 'orth-als', 'als'] as const, 'nn-hals');
  const maxIter = num('iters', v.iters, { int: true, min: 1, def: 500 });
  // 'auto': non-negative BP's least-ℓ2 optimum in the identity basis (the time courses are not
  // sparse, so the LP's vertex is arbitrary), exact BP with the LP in the DCT basis.
  const recoveryFlag = choice<EegRecovery | 'auto'>('recovery', v.recovery, [...EEG_RECOVERIES, 'auto'], 'auto');
  const recovery: EegRecovery = recoveryFlag !== 'auto' ? recoveryFlag : basis === 'identity' ? 'min-l2' : 'lp';
  if (recovery === 'min-l2' && basis !== 'identity') {
    throw new UsageError(`--recovery min-l2 needs --basis identity (it picks among the x ≥ 0 fitting y, which needs the sparse-binary P itself, not P·Ψ); got --basis ${basis}`);
  }
  // 'auto': lift the MTTKRP when recovering min-ℓ2 (it stays in the cone), else the factor (the paper).
  const liftFlag = choice<TensorLift | 'auto'>('lift', v.lift, ['factor', 'mttkrp', 'auto'], 'auto');
  const lift: TensorLift = liftFlag !== 'auto' ? liftFlag : recovery === 'min-l2' ? 'mttkrp' : 'factor';
  const refit = num('refit', v.refit, { int: true, min: 0, def: 10 });
  const seed = num('seed', v.seed, { int: true, def: 0 });

  if (v.plot !== undefined) checkPlotPath(v.plot);
  const edf = await readEdfSignals(v.input);
  if (edf.signals.length === 0) throw new DataError('no data signals (only annotations)', v.input);
  const rate = edf.rates[0]!;
  const odd = edf.rates.findIndex((r) => r !== rate);
  if (odd >= 0) throw new DataError(`signal ${odd} (${edf.labels[odd]}) is sampled at ${edf.rates[odd]} Hz, signal 0 at ${rate} Hz; the spectrogram tensor needs one rate`, v.input);
  const { tensor } = spectrogramTensor(edf.signals, { rate, ...stft });
  const n = tensor.dims[EEG_MODES.indexOf(mode)]!;
  if (rank > Math.min(...tensor.dims)) throw new UsageError(`--rank ${rank} exceeds the smallest tensor dimension (${tensor.dims.join('×')})`);
  for (const c of compressions) {
    const d = Math.round(n / c);
    if (d < Math.max(p, rank)) throw new UsageError(`--compressions ${c} gives d = ${d} < max(p, rank) = ${Math.max(p, rank)} for the ${mode} mode (n = ${n})`);
  }

  const bar = progress('eeg', !v.json);
  const res = await runEegExperiment(tensor, {
    rank, compressions, rfAt, mode, basis, p, seed, cpMethod, maxIter, tol: 1e-6, recovery, lift, refit,
    onProgress: (f, label) => bar.update(f, label),
  });
  bar.done();
  if (v.plot) writePlot(v.plot, res, v.input);
  if (v.json) {
    printJson({ input: v.input, rate, stft, cp: cpMethod, recovery, lift, refit, p, seed, ...res });
    return 0;
  }
  const [I, J, K] = res.dims;
  process.stdout.write(`eeg: ${v.input}, tensor ${I} time × ${J} frequency × ${K} channel (${stft.window} s ${stft.scale} Hann windows, hop ${stft.hop} s, ${stft.fmin}–${stft.fmax} Hz); ` +
    `rank ${rank} CP ${cpMethod}, ${mode} mode compressed, ${basis} basis, ${recovery} recovery, FR lifts the ${lift === 'factor' ? 'compressed factor' : 'compressed MTTKRP'}, FR refit ${refit} sweeps, p=${p}, seed ${seed}\n`);
  process.stdout.write(`uncompressed CP error ${fmt(res.full.error)} (${fmt(res.full.seconds, 1)} s)\n`);
  const cell = (x: number | undefined) => (x === undefined ? '—' : fmt(x));
  process.stdout.write(table(
    ['n/d', 'd', 'FR error', 'RF error', 'FR corr time', 'freq', 'chan', 'RF corr time', 'freq', 'chan', 'FR CP s', 'FR rec s', 'RF rec s', 'RF CP s', 'RF/FR time'],
    res.rows.map((r) => [
      String(r.compression), String(r.d), fmt(r.fr.error), cell(r.rf?.error),
      fmt(r.fr.correlation.time), fmt(r.fr.correlation.frequency), fmt(r.fr.correlation.channel),
      cell(r.rf?.correlation.time), cell(r.rf?.correlation.frequency), cell(r.rf?.correlation.channel),
      fmt(r.fr.seconds.factorize, 2), fmt(r.fr.seconds.recover, 2), r.rf ? fmt(r.rf.seconds.recover, 2) : '—',
      r.rf ? fmt(r.rf.seconds.factorize, 2) : '—', r.rf ? `${fmt(r.rf.seconds.total / r.fr.seconds.total, 1)}×` : '—',
    ]),
  ) + '\n');
  return 0;
}

/** Fig. 6: error and median factor correlation against the compression factor. */
function writePlot(path: string, res: EegResult, input: string): void {
  const x = res.rows.map((r) => r.compression);
  const rfRows = res.rows.filter((r) => r.rf);
  const svg = svgChart([
    {
      title: 'normalised reconstruction error', xLabel: 'compression n/d', yLabel: 'error', xTicks: x,
      series: [
        { label: 'FR', x, y: res.rows.map((r) => r.fr.error) },
        ...(rfRows.length ? [{ label: 'RF', x: rfRows.map((r) => r.compression), y: rfRows.map((r) => r.rf!.error) }] : []),
        { label: 'uncompressed', x: [x[0]!, x[x.length - 1]!], y: [res.full.error, res.full.error], dashed: true },
      ],
    },
    {
      title: 'FR: median matched |corr| with the uncompressed factors', xLabel: 'compression n/d', yLabel: 'correlation', xTicks: x, yRange: [0, 1],
      series: EEG_MODES.map((m) => ({ label: m, x, y: res.rows.map((r) => r.fr.correlation[m]) })),
    },
  ], { title: `${basename(input)}: ${res.mode} mode compressed, ${res.basis} basis, rank ${res.rank}` });
  writeAllOrNothing(dirname(path), { [basename(path)]: svg }, '--plot');
}
