import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SEIZURE_SPECTROGRAM_OPTIONS, SEIZURE_SPECTROGRAM_CONSTRAINTS, simulateSeizureSpectrogram,
} from '../../simulators/eegSpectrogram.js';
import { InvalidOptionError } from '../../src/errors.js';
import { cpReconstruct } from '../../src/factorize/cp/index.js';
import type { Matrix } from '../../src/linalg/matrix.js';

const col = (M: Matrix, c: number) => Float64Array.from({ length: M.rows }, (_, i) => M.data[i * M.cols + c]!);

/** Maximal runs [start, end] of non-zero entries. */
function runs(v: Float64Array): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < v.length; i++) {
    if (v[i] === 0) continue;
    let j = i;
    while (j + 1 < v.length && v[j + 1] !== 0) j++;
    out.push([i, j]);
    i = j;
  }
  return out;
}

describe('simulateSeizureSpectrogram', () => {
  const o = { hours: 0.25, bursts: 4, channels: 16, freqBins: 20, seed: 3 };
  const sim = simulateSeizureSpectrogram(o);
  const { tensor, truth } = sim;
  const [n, J, K] = tensor.dims;

  it('has the requested shape [time, frequency, channel] and matching truth factors', () => {
    expect(tensor.dims).toEqual([900, 20, 16]);
    expect(tensor.data.length).toBe(900 * 20 * 16);
    expect([truth.temporal.rows, truth.spectral.rows, truth.spatial.rows]).toEqual([n, J, K]);
    const R = truth.names.length;
    expect([truth.temporal.cols, truth.spectral.cols, truth.spatial.cols]).toEqual([R, R, R]);
    expect(truth.names[truth.burstComponent]).toBe('seizure');
    expect(truth.freqs.length).toBe(J);
    expect(truth.freqs[J - 1]).toBeCloseTo(40, 12);
    // binSeconds scales the number of bins.
    expect(simulateSeizureSpectrogram({ ...o, binSeconds: 5 }).tensor.dims[0]).toBe(180);
  });

  it('is non-negative and finite, and so are the planted factors', () => {
    for (const x of [tensor.data, truth.temporal.data, truth.spectral.data, truth.spatial.data]) {
      let bad = -1;
      for (let i = 0; i < x.length && bad < 0; i++) if (!(x[i]! >= 0) || !Number.isFinite(x[i]!)) bad = i;
      expect(bad, `entry ${bad} = ${x[bad]}`).toBe(-1);
    }
  });

  it('with noise 0 is exactly the CP model of the truth; the noise is multiplicative with mean 1 and CV = noise', () => {
    const exact = simulateSeizureSpectrogram({ ...o, noise: 0 });
    const model = cpReconstruct([exact.truth.temporal, exact.truth.spectral, exact.truth.spatial]);
    let maxRel = 0;
    for (let i = 0; i < model.data.length; i++) maxRel = Math.max(maxRel, Math.abs(exact.tensor.data[i]! - model.data[i]!) / model.data[i]!);
    expect(maxRel).toBeLessThan(1e-12);
    // Same seed: the same truth, so the ratio is the noise factor alone.
    expect(Array.from(exact.truth.temporal.data)).toEqual(Array.from(truth.temporal.data));
    let s = 0, s2 = 0;
    for (let i = 0; i < tensor.data.length; i++) { const g = tensor.data[i]! / exact.tensor.data[i]!; s += g; s2 += g * g; }
    const mean = s / tensor.data.length, cv = Math.sqrt(s2 / tensor.data.length - mean * mean) / mean;
    expect(Math.abs(mean - 1), `mean ${mean}`).toBeLessThan(0.005);
    expect(Math.abs(cv - DEFAULT_SEIZURE_SPECTROGRAM_OPTIONS.noise), `CV ${cv}`).toBeLessThan(0.01);
    // CV above 1 uses the boosted Gamma sampler.
    const heavy = simulateSeizureSpectrogram({ ...o, noise: 1.5 });
    let h = 0, h2 = 0;
    for (let i = 0; i < heavy.tensor.data.length; i++) { const g = heavy.tensor.data[i]! / exact.tensor.data[i]!; h += g; h2 += g * g; }
    const hm = h / heavy.tensor.data.length;
    expect(Math.abs(hm - 1)).toBeLessThan(0.01);
    expect(Math.abs(Math.sqrt(h2 / heavy.tensor.data.length - hm * hm) / hm - 1.5)).toBeLessThan(0.05);
  });

  it('is reproducible by seed and changes with it', () => {
    const again = simulateSeizureSpectrogram(o);
    expect(again.truth.onsets).toEqual(truth.onsets);
    let same = true;
    for (let i = 0; i < tensor.data.length && same; i++) same = again.tensor.data[i] === tensor.data[i];
    expect(same).toBe(true);
    const other = simulateSeizureSpectrogram({ ...o, seed: 4 });
    expect(other.truth.onsets).not.toEqual(truth.onsets);
    expect(other.tensor.data[12345]).not.toBe(tensor.data[12345]);
  });

  it('has separated, non-overlapping bursts: zero outside them, each peaking exactly at its onset', () => {
    const a = col(truth.temporal, truth.burstComponent);
    const L = truth.burstBins;
    const rs = runs(a);
    expect(rs.length).toBe(o.bursts);
    expect(truth.onsets.length).toBe(o.bursts);
    rs.forEach(([start, end], b) => {
      const onset = truth.onsets[b]!;
      expect(start).toBe(onset - 1); // one rise bin
      expect(end).toBe(onset + L - 2);
      for (let t = start; t <= end; t++) if (t !== onset) expect(a[t]!).toBeLessThan(a[onset]!);
      for (let t = onset + 1; t <= end; t++) expect(a[t]!).toBeLessThan(a[t - 1]!); // decays after the onset
      if (b > 0) expect(start - rs[b - 1]![1] - 1, 'quiet bins between bursts').toBeGreaterThanOrEqual(L);
    });
    // Decay over tens of seconds at the default 15 s time constant.
    expect(L * sim.binSeconds).toBeGreaterThanOrEqual(30);
  });

  it('keeps the background dense in time and the seizure confined to some channels and frequencies', () => {
    for (const name of ['broadband', 'alpha', 'muscle']) {
      const a = col(truth.temporal, truth.names.indexOf(name));
      expect(a.every((v) => v > 0), name).toBe(true);
    }
    const c = truth.burstComponent;
    const spectralNz = col(truth.spectral, c).filter((v) => v > 0).length;
    const spatialNz = col(truth.spatial, c).filter((v) => v > 0).length;
    expect(spectralNz).toBeGreaterThan(0);
    expect(spectralNz).toBeLessThan(J / 2);
    expect(spatialNz).toBeGreaterThan(0);
    expect(spatialNz).toBeLessThan(K / 2);
  });

  it('keeps at least one seizure channel even with very few channels', () => {
    for (let seed = 0; seed < 5; seed++) {
      const s = simulateSeizureSpectrogram({ hours: 0.1, bursts: 1, channels: 2, freqBins: 4, seed });
      expect(col(s.truth.spatial, s.truth.burstComponent).some((v) => v > 0)).toBe(true);
    }
  });

  it('rejects bad options by name', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ hours: 0 }, /'hours'/], [{ hours: -1 }, /'hours'/], [{ hours: Number.NaN }, /'hours'/],
      [{ bursts: 0 }, /'bursts'/], [{ bursts: 1.5 }, /'bursts'/], [{ channels: 0 }, /'channels'/],
      [{ freqBins: 1 }, /'freqBins'/], [{ binSeconds: 0 }, /'binSeconds'/], [{ noise: -0.1 }, /'noise'/],
      [{ noise: 3 }, /'noise'/], [{ burstDecay: 0 }, /'burstDecay'/], [{ seed: 0.5 }, /'seed'/],
      [{ colour: 'red' }, /'colour'/], [{ hours: 0.0001 }, /'hours'/],
    ];
    for (const [opt, re] of bad) {
      expect(() => simulateSeizureSpectrogram(opt as never), JSON.stringify(opt)).toThrow(InvalidOptionError);
      expect(() => simulateSeizureSpectrogram(opt as never), JSON.stringify(opt)).toThrow(re);
    }
  });

  it('refuses bursts that do not fit, saying how many do', () => {
    // 0.25 h = 900 bins; a burst is 47 bins and needs as many quiet ones: at most 9.
    expect(() => simulateSeizureSpectrogram({ hours: 0.25, bursts: 9 })).not.toThrow();
    let err: unknown;
    try { simulateSeizureSpectrogram({ hours: 0.25, bursts: 10 }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect((err as InvalidOptionError).option).toBe('bursts');
    expect((err as Error).message).toMatch(/at most 9/);
  });

  it('documents each default as the first token of its doc comment, and the defaults satisfy the constraints', () => {
    const src = readFileSync(join(import.meta.dirname, '../../simulators/eegSpectrogram.ts'), 'utf8');
    for (const [key, value] of Object.entries(DEFAULT_SEIZURE_SPECTROGRAM_OPTIONS)) {
      const m = src.match(new RegExp(`/\\*\\* ([^;\\n]+);[^\\n]*\\n\\s*${key}: `));
      expect(m, key).not.toBeNull();
      expect(m![1], key).toBe(String(value));
      expect(Object.keys(SEIZURE_SPECTROGRAM_CONSTRAINTS)).toContain(key);
    }
    expect(() => simulateSeizureSpectrogram({ hours: 0.1, bursts: 1 })).not.toThrow();
  });
});
