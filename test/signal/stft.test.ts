import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readEdfSignals } from '../../devices/file/edf.js';
import { spectrogramTensor, stft } from '../../src/signal/stft.js';

const rate = 160;
const tone = (hz: number, a: number, seconds: number, phase = 0) =>
  Float64Array.from({ length: seconds * rate }, (_, i) => a * Math.cos((2 * Math.PI * hz * i) / rate + phase));

describe('stft', () => {
  it('a tone shows |X| = a/2 at its bin (Hann, 1/Σw scaling) and power = magnitude²', () => {
    // 1 s windows → nfft 256, bins every 0.625 Hz; 10 Hz is bin 16 exactly.
    const x = tone(10, 3, 10, 0.7);
    const m = stft(x, { rate, scale: 'magnitude' });
    const p = stft(x, { rate });
    const F = m.S.cols;
    const k = m.freqs.indexOf(10);
    expect(k).toBe(16);
    for (let t = 0; t < m.S.rows; t++) {
      let best = 0;
      for (let f = 1; f < F; f++) if (m.S.data[t * F + f]! > m.S.data[t * F + best]!) best = f;
      expect(best).toBe(k);
      expect(m.S.data[t * F + k]).toBeCloseTo(1.5, 6);
      expect(p.S.data[t * F + k]).toBeCloseTo(2.25, 6);
    }
  });

  it('frames: whole windows only, every hop, times at the centres; bins cut to [fmin, fmax]', () => {
    const s = stft(tone(5, 1, 10), { rate, window: 1, hop: 0.5, fmin: 1, fmax: 40 });
    expect(s.S.rows).toBe(19); // (1600 − 160) / 80 + 1
    expect(s.times[0]).toBeCloseTo(0.5, 12);
    expect(s.times[1]! - s.times[0]!).toBeCloseTo(0.5, 12);
    expect(s.freqs[0]).toBeCloseTo(1.25, 12);
    expect(s.freqs[s.freqs.length - 1]).toBeCloseTo(40, 12);
    expect(s.S.data.every((v) => v >= 0)).toBe(true);
  });

  it.each([
    [{ rate: 0 }, /'rate'/],
    [{ rate, window: 0.001 }, /'window'.*at least 2 samples/],
    [{ rate, window: 20 }, /'window'.*at most the signal length 10 s/],
    [{ rate, hop: 0 }, /'hop'/],
    [{ rate, fmax: 100 }, /'fmin\/fmax'.*rate\/2 = 80/],
    [{ rate, scale: 'db' as never }, /'scale'/],
  ])('rejects %j', (o, re) => {
    expect(() => stft(tone(5, 1, 10), o)).toThrow(re);
  });
});

describe('spectrogramTensor', () => {
  it('lays out time × frequency × channel and rejects unequal channels', () => {
    const { tensor, freqs } = spectrogramTensor([tone(10, 1, 5), tone(20, 2, 5)], { rate, fmax: 40 });
    const [T, F, C] = tensor.dims;
    expect(C).toBe(2);
    const at = (t: number, hz: number, c: number) => tensor.data[(t * F + freqs.indexOf(hz)) * C + c]!;
    expect(at(T - 1, 10, 0)).toBeCloseTo(0.25, 6);
    expect(at(T - 1, 20, 1)).toBeCloseTo(1, 6);
    expect(at(0, 20, 0)).toBeLessThan(1e-6);
    expect(() => spectrogramTensor([tone(10, 1, 5), tone(10, 1, 4)], { rate })).toThrow(/channel 1/);
  });

  it('on the PhysioNet EEG fixture: 121 × 129 × 64 and the recording\'s 60 Hz line and alpha bump', async () => {
    const { signals } = await readEdfSignals(join(import.meta.dirname, '..', 'fixtures', 'S001R01.edf'));
    const { tensor, freqs } = spectrogramTensor(signals, { rate, window: 1, hop: 0.5 });
    expect(tensor.dims).toEqual([121, 129, 64]);
    const [T, F, C] = tensor.dims;
    const mean = new Float64Array(F);
    for (let t = 0; t < T; t++) for (let f = 0; f < F; f++) for (let c = 0; c < C; c++) mean[f]! += tensor.data[(t * F + f) * C + c]!;
    const p = (hz: number) => mean[freqs.indexOf(hz)]!;
    const near = Math.max(p(58.125), p(58.75), p(61.25), p(61.875));
    expect(p(60), `60 Hz line: ${p(60)} vs neighbours ${near}`).toBeGreaterThan(1.5 * near);
    expect(p(8.125), `alpha: 8.1 Hz ${p(8.125)} vs 10 Hz ${p(10)}`).toBeGreaterThan(1.4 * p(10));
  });
});
