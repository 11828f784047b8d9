/**
 * `cfstream experiment seizure`: the Fig. 4 analogue (PAPER.md §4.4). Simulates an EEG-like
 * spectrogram with seizure-like bursts (simulators/eegSpectrogram.ts), compresses its time mode,
 * runs FR, RF and the uncompressed CP (src/experiments/seizure.ts), prints a table (or one JSON
 * document with --json) and with --plot writes an SVG of the burst factors with the onsets marked.
 * Seeds: the data from --seed, P from seed + 1, the CP start from seed + 2.
 */
import { basename, dirname } from 'node:path';
import {
  DEFAULT_SEIZURE_SPECTROGRAM_OPTIONS as SIM, simulateSeizureSpectrogram, type SeizureSpectrogram,
} from '../../../simulators/eegSpectrogram.js';
import {
  DEFAULT_SEIZURE_EXPERIMENT_OPTIONS as DEF, runSeizureExperiment, type SeizureExperimentResult, type SeizureMethodResult,
} from '../../experiments/seizure.js';
import { InvalidOptionError } from '../../errors.js';
import { choice, num, parseFlags, UsageError } from '../args.js';
import { fmt, printJson, table } from '../output.js';
import { progress } from '../progress.js';
import { svgChart, type Panel } from '../svg.js';
import { checkPlotPath, writeAllOrNothing } from '../files.js';

const FLAGS = {
  hours: { type: 'string' }, bursts: { type: 'string' }, compression: { type: 'string' }, channels: { type: 'string' },
  'freq-bins': { type: 'string' }, rank: { type: 'string' }, p: { type: 'string' }, recovery: { type: 'string' },
  cp: { type: 'string' }, iters: { type: 'string' }, 'no-rf': { type: 'boolean' }, seed: { type: 'string' },
  json: { type: 'boolean' }, plot: { type: 'string' },
} as const;

/** Simulator option → flag, to report its refusals as usage errors. */
const SIM_FLAG: Record<string, string> = { hours: 'hours', bursts: 'bursts', channels: 'channels', freqBins: 'freq-bins', seed: 'seed' };

/** Entry point of the subcommand; returns the exit code. */
export async function seizureCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseFlags('experiment seizure', argv, FLAGS);
  if (positionals.length) throw new UsageError(`experiment seizure: unexpected argument ${JSON.stringify(positionals[0])}`);
  const hours = num('hours', v.hours, { def: SIM.hours });
  if (!(hours > 0)) throw new UsageError(`--hours must be > 0; got ${v.hours}`);
  const bursts = num('bursts', v.bursts, { int: true, min: 1, def: SIM.bursts });
  const compression = num('compression', v.compression, { def: DEF.compression });
  if (!(compression > 1)) throw new UsageError(`--compression must be > 1 (it is n/d); got ${v.compression}`);
  const channels = num('channels', v.channels, { int: true, min: 1, def: SIM.channels });
  const freqBins = num('freq-bins', v['freq-bins'], { int: true, min: 2, def: SIM.freqBins });
  const rank = v.rank === undefined ? 0 : num('rank', v.rank, { int: true, min: 1 });
  const p = num('p', v.p, { int: true, min: 1, def: DEF.p });
  const recovery = choice('recovery', v.recovery, ['fast', 'lp'] as const, DEF.recovery);
  const cpMethod = choice('cp', v.cp, ['orth-als', 'nn-hals', 'als'] as const, DEF.cpMethod);
  const maxIter = num('iters', v.iters, { int: true, min: 1, def: DEF.maxIter });
  const seed = num('seed', v.seed, { int: true, def: SIM.seed });
  const n = Math.round((hours * 3600) / SIM.binSeconds);
  if (n < 2) throw new UsageError(`--hours ${v.hours} is shorter than two ${SIM.binSeconds}-s time bins`);
  const d = Math.round(n / compression);
  if (d < 1 || d >= n) throw new UsageError(`--compression ${compression} gives d = ${d} for n = ${n} time bins; need 1 ≤ d < n`);
  if (p > d) throw new UsageError(`--p ${p} must be ≤ d = ${d} (n = ${n} time bins / --compression ${compression})`);
  if (rank > d) throw new UsageError(`--rank ${rank} must be ≤ d = ${d}`);
  if (v.plot !== undefined) checkPlotPath(v.plot);

  let sim: SeizureSpectrogram;
  try {
    sim = simulateSeizureSpectrogram({ hours, bursts, channels, freqBins, seed });
  } catch (e) {
    if (e instanceof InvalidOptionError && SIM_FLAG[e.option]) throw new UsageError(`--${SIM_FLAG[e.option]}: ${e.message}`);
    throw e;
  }
  const bar = progress('seizure', !v.json);
  const res = await runSeizureExperiment(
    sim, { compression, rank, p, seed, cpMethod, maxIter, recovery, rf: !v['no-rf'] },
    (stage, f) => bar.update(f, stage.toUpperCase()),
  );
  bar.done();
  if (v.plot !== undefined) writeAllOrNothing(dirname(v.plot), { [basename(v.plot)]: seizurePlot(res, sim.binSeconds) }, '--plot');
  if (v.json) {
    printJson({ hours, bursts, channels, freqBins, binSeconds: sim.binSeconds, plot: v.plot ?? null, ...rounded(res) });
    return 0;
  }
  const [, J, K] = sim.tensor.dims;
  process.stdout.write(
    `seizure: ${n}×${J}×${K} spectrogram (time × frequency × channel, ${sim.binSeconds} s bins), ${bursts} bursts, ` +
    `time compressed ${fmt(res.compression, 2)}× to d=${res.d} (p=${p}), CP ${cpMethod} rank ${res.rank} ≤${maxIter} sweeps, ` +
    `recovery ${recovery}, seed ${seed}\n`,
  );
  process.stdout.write(`burst onsets (bins): ${res.onsets.join(' ')}\n`);
  const rows = [res.fr, res.rf, res.full].filter((m): m is SeizureMethodResult => m !== null);
  process.stdout.write(table(
    ['method', 'error', 'burst corr', 'hit rate', 'false-peak rate', 'compress s', 'CP s', 'recover s', 'total s', 'CPU s'],
    rows.map((m) => [
      m.method.toUpperCase(), fmt(m.error), fmt(m.correlation), `${fmt(m.hitRate, 2)} (${m.hits}/${res.onsets.length})`,
      `${fmt(m.falsePeakRate, 2)} (${m.falsePeaks}/${m.peaks.length})`,
      fmt(m.seconds.compress, 2), fmt(m.seconds.factorize, 2), fmt(m.seconds.recover, 2), fmt(m.seconds.total, 2), fmt(m.cpuSeconds, 2),
    ]),
  ) + '\n');
  if (res.speedup) {
    process.stdout.write(
      `RF/FR time: ${fmt(res.speedup.total, 1)}× wall-clock, ${fmt(res.speedup.cpu, 1)}× CPU; ` +
      `${fmt(res.speedup.recovery, 1)}× in the recovery stage (${res.J * res.K} fibers vs ${res.rank} factors)\n`,
    );
  }
  if (v.plot !== undefined) process.stdout.write(`plot: ${v.plot}\n`);
  return 0;
}

/** The Fig. 4 panels: the true burst activation, then FR, RF and the uncompressed burst factors. */
export function seizurePlot(res: SeizureExperimentResult, binSeconds: number): string {
  // Hours for records of an hour or more (as Fig. 4), minutes for shorter ones.
  const inHours = res.n * binSeconds >= 3600;
  const perBin = binSeconds / (inHours ? 3600 : 60);
  const x = Float64Array.from({ length: res.n }, (_, i) => i * perBin);
  const markers = res.onsets.map((o) => o * perBin);
  const panel = (title: string, y: number[], color: string, last: boolean, label = 'recovered factor'): Panel => {
    let lo = 0;
    for (const value of y) if (value < lo) lo = value;
    return {
      title, markers, yRange: [lo, 1], yLabel: 'factor / max',
      series: [{ label, y, x, color }],
      ...(last ? { xLabel: `time (${inHours ? 'hours' : 'minutes'}); dashed lines: burst onsets` } : {}),
    };
  };
  const methods: [string, SeizureMethodResult | null, string][] = [
    ['FR', res.fr, '#1f77b4'], ['RF', res.rf, '#d62728'], ['uncompressed CP', res.full, '#2ca02c'],
  ];
  const shown = methods.filter((m): m is [string, SeizureMethodResult, string] => m[1] !== null);
  const panels: Panel[] = [panel('true burst activation', res.truth, '#000000', shown.length === 0, 'planted')];
  shown.forEach(([name, m, color], i) => {
    const what = name === 'uncompressed CP' ? name : `${name}, ${fmt(res.compression, 1)}× compression`;
    panels.push(panel(
      `${what}: |r| = ${fmt(m.correlation, 2)}, onsets hit ${m.hits}/${res.onsets.length}, false peaks ${m.falsePeaks}/${m.peaks.length}, error ${fmt(m.error, 2)}`,
      m.factor, color, i === shown.length - 1,
    ));
  });
  return svgChart(panels, {
    title: `Recovered temporal factor matching the seizure bursts (${res.n}×${res.J}×${res.K}, d = ${res.d}, CP rank ${res.rank})`,
    panelHeight: 170,
  });
}

/** The result with factor values rounded to 4 decimals (keeps --json small). */
function rounded(res: SeizureExperimentResult): SeizureExperimentResult {
  const r4 = (a: number[]) => a.map((x) => Math.round(x * 1e4) / 1e4);
  const m = (x: SeizureMethodResult | null) => (x ? { ...x, factor: r4(x.factor) } : null);
  return { ...res, truth: r4(res.truth), fr: m(res.fr)!, rf: m(res.rf), full: m(res.full) };
}
