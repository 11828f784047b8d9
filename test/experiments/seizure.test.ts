import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { simulateSeizureSpectrogram } from '../../simulators/eegSpectrogram.js';
import {
  DEFAULT_SEIZURE_EXPERIMENT_OPTIONS, SEIZURE_EXPERIMENT_CONSTRAINTS, detectPeaks, runSeizureExperiment, scorePeaks,
  type SeizureData,
} from '../../src/experiments/seizure.js';
import { InvalidOptionError } from '../../src/errors.js';

describe('detectPeaks', () => {
  const o = { threshold: 0.5, minSeparation: 2 };

  it('finds local maxima at or above threshold·max', () => {
    expect(detectPeaks([0, 1, 0, 0.9, 0, 0, 0.2, 0], o)).toEqual([1, 3]);
    expect(detectPeaks([0, 1, 0, 0.5, 0, 0.49, 0], o)).toEqual([1, 3]); // 0.5 is at the level, 0.49 below
  });

  it('takes peaks at the ends and the first bin of a flat top, not a shoulder', () => {
    expect(detectPeaks([1, 0, 0, 0, 0.8], o)).toEqual([0, 4]);
    expect(detectPeaks([0, 1, 1, 1, 0], o)).toEqual([1]);
    expect(detectPeaks([0, 1, 1, 2, 0], o)).toEqual([3]); // the plateau at 1 rises again: no peak
  });

  it('keeps only the highest of peaks closer than minSeparation (the earlier on ties)', () => {
    const y = [0, 0.8, 0, 1, 0, 0, 0, 0, 0.9, 0];
    expect(detectPeaks(y, { threshold: 0.5, minSeparation: 3 })).toEqual([3, 8]);
    expect(detectPeaks(y, { threshold: 0.5, minSeparation: 2 })).toEqual([1, 3, 8]);
    expect(detectPeaks(y, { threshold: 0.5, minSeparation: 6 })).toEqual([3]);
    expect(detectPeaks([0, 1, 0, 1, 0], { threshold: 0.5, minSeparation: 3 })).toEqual([1]);
  });

  it('keeps a decaying burst with a noisy tail as one peak at its onset', () => {
    const y = new Float64Array(200);
    y[49] = 0.4;
    y[50] = 1;
    for (let u = 1; u < 40; u++) y[50 + u] = 0.8 * Math.exp(-u / 10) * (1 + 0.15 * Math.sin(u * 2.1));
    expect(detectPeaks(y, { threshold: 0.3, minSeparation: 30 })).toEqual([50]);
  });

  it('returns nothing for an empty, zero or negative signal', () => {
    expect(detectPeaks([], o)).toEqual([]);
    expect(detectPeaks([0, 0, 0], o)).toEqual([]);
    expect(detectPeaks([-1, -0.5, -2], o)).toEqual([]);
  });
});

describe('scorePeaks', () => {
  it('counts onsets hit within ±tolerance and peaks near no onset', () => {
    const s = scorePeaks([8, 52, 100, 300], [10, 50, 200], 2);
    expect(s).toEqual({ hits: 2, hitRate: 2 / 3, falsePeaks: 2, falsePeakRate: 0.5 });
    expect(scorePeaks([13], [10], 2).hits).toBe(0);
    expect(scorePeaks([12], [10], 2).hits).toBe(1);
    expect(scorePeaks([], [10], 2)).toEqual({ hits: 0, hitRate: 0, falsePeaks: 0, falsePeakRate: 0 });
  });
});

describe('runSeizureExperiment', () => {
  // 30 minutes, 4 bursts, 32 channels × 40 bins: FR at 5× takes about a second. (At 15 minutes
  // d = 180 is too close to the 141 burst bins: FR's factor then often has a false peak.)
  const sim = simulateSeizureSpectrogram({ hours: 0.5, bursts: 4, seed: 0 });

  it('FR at 5× finds a temporal factor peaking at ≥ 90% of the burst onsets with ≤ 10% false peaks', async () => {
    for (const seed of [0, 1]) {
      const data = seed === 0 ? sim : simulateSeizureSpectrogram({ hours: 0.5, bursts: 4, seed });
      const r = await runSeizureExperiment(data, { rf: false, full: false, seed });
      const msg = `data seed ${seed}: peaks ${r.fr.peaks.join(',')} vs onsets ${r.onsets.join(',')}, |r| ${r.fr.correlation}`;
      expect(r.fr.hitRate, msg).toBeGreaterThanOrEqual(0.9);
      expect(r.fr.falsePeakRate, msg).toBeLessThanOrEqual(0.1);
      expect(r.fr.correlation, msg).toBeGreaterThan(0.8);
      expect(r.d).toBe(360);
      expect(r.rank).toBe(7); // 5 planted components + 2
      expect(r.fr.factor.length).toBe(1800);
      expect(Math.max(...r.fr.factor)).toBeCloseTo(1, 12);
      expect(r.rf).toBeNull();
      expect(r.full).toBeNull();
      expect(r.speedup).toBeNull();
    }
  });

  it('scores a factor against the planted onsets, not against itself: shifted onsets are missed', async () => {
    const shifted: SeizureData = { tensor: sim.tensor, truth: { ...sim.truth, onsets: sim.truth.onsets.map((o) => o + 10) } };
    const r = await runSeizureExperiment(shifted, { rf: false, full: false });
    expect(r.fr.hitRate).toBe(0);
    expect(r.fr.falsePeakRate).toBe(1);
  });

  it('runs RF and the uncompressed CP on a small tensor, times the stages and reports the speed-up', async () => {
    const small = simulateSeizureSpectrogram({ hours: 0.25, bursts: 3, channels: 8, freqBins: 10, seed: 2 });
    const stages: string[] = [];
    const r = await runSeizureExperiment(small, { maxIter: 10 }, (s) => stages.push(s));
    expect(stages).toEqual(['fr', 'full', 'rf']);
    for (const m of [r.fr, r.rf!, r.full!]) {
      expect(m.error).toBeGreaterThan(0);
      expect(Number.isFinite(m.error)).toBe(true);
      expect(m.correlation).toBeGreaterThanOrEqual(0);
      expect(m.correlation).toBeLessThanOrEqual(1);
      expect(m.seconds.total).toBeGreaterThanOrEqual(m.seconds.factorize + m.seconds.recover - 1e-9);
      expect(m.cpuSeconds).toBeGreaterThan(0);
    }
    expect(r.full!.seconds.recover).toBe(0);
    expect(r.rf!.seconds.recover).toBeGreaterThan(0);
    expect(r.speedup!.total).toBeCloseTo(r.rf!.seconds.total / r.fr.seconds.total, 12);
    expect(r.speedup!.recovery).toBeCloseTo(r.rf!.seconds.recover / r.fr.seconds.recover, 12);
    expect(r.speedup!.cpu).toBeCloseTo(r.rf!.cpuSeconds / r.fr.cpuSeconds, 12);
    // RF recovers all 80 fibers, FR only 7 factor columns.
    expect(r.rf!.seconds.recover).toBeGreaterThan(r.fr.seconds.recover);
    expect(r.frVsFullCorrelation).not.toBeNull();
    // The uncompressed CP has the full data: its burst factor is at least as good a match.
    expect(r.full!.correlation).toBeGreaterThan(0.8);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it('is deterministic for a seed', async () => {
    const a = await runSeizureExperiment(sim, { rf: false, full: false, seed: 3 });
    const b = await runSeizureExperiment(sim, { rf: false, full: false, seed: 3 });
    expect(b.fr.factor).toEqual(a.fr.factor);
    expect(b.fr.error).toBe(a.fr.error);
  });

  it('rejects bad options by name', async () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ compression: 1 }, /'compression'/], [{ compression: 5000 }, /'compression'/], [{ compression: 400 }, /'rank'/], [{ p: 400 }, /'p'/], [{ cpMethod: 'pgd' }, /'cpMethod'/],
      [{ rank: -1 }, /'rank'/], [{ p: 0 }, /'p'/], [{ peakThreshold: 0 }, /'peakThreshold'/], [{ tolerance: -1 }, /'tolerance'/],
      [{ maxIter: 0 }, /'maxIter'/], [{ recovery: 'omp' }, /'recovery'/], [{ speed: 1 }, /'speed'/], [{ rank: 500 }, /'rank'/],
    ];
    for (const [opt, re] of bad) {
      await expect(runSeizureExperiment(sim, { rf: false, full: false, ...opt } as never), JSON.stringify(opt)).rejects.toThrow(InvalidOptionError);
      await expect(runSeizureExperiment(sim, { rf: false, full: false, ...opt } as never), JSON.stringify(opt)).rejects.toThrow(re);
    }
    const wrong: SeizureData = { tensor: sim.tensor, truth: { ...sim.truth, burstComponent: 9 } };
    await expect(runSeizureExperiment(wrong)).rejects.toThrow(/burstComponent/);
  });

  it('documents each default as the first token of its doc comment', () => {
    const src = readFileSync(join(import.meta.dirname, '../../src/experiments/seizure.ts'), 'utf8');
    for (const [key, value] of Object.entries(DEFAULT_SEIZURE_EXPERIMENT_OPTIONS)) {
      const m = src.match(new RegExp(`/\\*\\* ([^;\\n]+);[^\\n]*\\n\\s*${key}: `));
      expect(m, key).not.toBeNull();
      expect(m![1], key).toBe(typeof value === 'string' ? `'${value}'` : String(value));
      expect(Object.keys(SEIZURE_EXPERIMENT_CONSTRAINTS)).toContain(key);
    }
  });
});
