import { describe, expect, it } from 'vitest';
import { lastValueFrom, map, toArray } from 'rxjs';
import { eegSource } from '../../simulators/eegSource.js';
import { spectrogramTensor } from '../../src/signal/stft.js';

describe('eegSource', async () => {
  const src = eegSource({ pacing: 'max', frames: 250 * 75, seed: 3, burstEvery: 60 });
  const rows = await lastValueFrom(src.frames$.pipe(map((f) => Float64Array.from(f.values)), toArray()));
  const C = 8;
  const signals = Array.from({ length: C }, (_, c) => Float64Array.from(rows, (x) => x[c]!));
  const { tensor, freqs, times } = spectrogramTensor(signals, { rate: 250, window: 1, hop: 0.5, fmin: 0, fmax: 125 });
  const [T, F] = tensor.dims;
  const power = (t0: number, t1: number, f: number, c: number) => {
    const bin = freqs.reduce((best, v, i) => (Math.abs(v - f) < Math.abs(freqs[best]! - f) ? i : best), 0);
    let s = 0, n = 0;
    for (let t = 0; t < T; t++) if (times[t]! >= t0 && times[t]! < t1) { s += tensor.data[(t * F + bin) * C + c]!; n++; }
    return s / n;
  };

  it('emits the header, in order, reproducibly', async () => {
    expect(src.info).toMatchObject({ id: 'eeg', kind: 'raw', n: 8, rate: 250, units: 'uV' });
    expect(rows).toHaveLength(18750);
    const again = await lastValueFrom(src.frames$.pipe(map((f) => f.values[5]!), toArray()));
    expect(again[1234]).toBe(rows[1234]![5]);
  });

  it('each pattern is a narrow band on its own channels (sparse in frequency × channel)', () => {
    for (const p of src.truth.patterns.slice(0, -1)) {
      const on = Math.min(...p.channels.slice(0, 2).map((c) => power(0, 55, p.frequency, c)));
      const off = Math.max(...Array.from({ length: C }, (_, c) => c).filter((c) => !p.channels.includes(c)).map((c) => power(0, 55, p.frequency, c)));
      expect(on, `pattern at ${p.frequency.toFixed(1)} Hz`).toBeGreaterThan(20 * off);
    }
  });

  it('line noise at 60 Hz on every channel; the burst pattern switches on at its onset', () => {
    for (let c = 0; c < C; c++) expect(power(0, 55, 60, c)).toBeGreaterThan(10 * power(0, 55, 55, c));
    const burst = src.truth.patterns.at(-1)!;
    const c = burst.channels[0]!;
    expect(power(60.5, 64, burst.frequency, c)).toBeGreaterThan(50 * power(40, 59, burst.frequency, c));
    expect(src.truth.firstBurst).toBe(60);
  });

  it('checks its options', () => {
    expect(() => eegSource({ channels: 0 })).toThrow(/channels/);
    expect(() => eegSource({ spread: 9 })).toThrow(/spread/);
    expect(() => eegSource({ fmax: 200 })).toThrow(/fmin\/fmax/);
  });
});
