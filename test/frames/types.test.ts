import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.js';
import { frameLength, validateStreamInfo, type StreamInfo } from '../../src/frames/index.js';
import { COMPRESSED, RAW4, thrown } from './helpers.js';

describe('frameLength', () => {
  it('is n for raw streams and projection.d for compressed ones', () => {
    expect(frameLength(RAW4)).toBe(4);
    expect(frameLength(COMPRESSED)).toBe(8);
  });

  it('refuses a compressed stream without a projection', () => {
    expect(() => frameLength({ id: 'x', kind: 'compressed', n: 4, rate: 1 })).toThrow(DataError);
  });
});

describe('validateStreamInfo', () => {
  it('accepts valid headers and returns a clean copy (unknown fields dropped, p resolved)', () => {
    const raw = validateStreamInfo({ ...RAW4, extra: 1 });
    expect(raw).toEqual(RAW4);
    expect(raw).not.toBe(RAW4);
    const c = validateStreamInfo({ ...COMPRESSED, projection: { ensemble: 'gaussian', n: 40, d: 8, seed: 1 } });
    expect(c.projection).toEqual({ ensemble: 'gaussian', n: 40, d: 8, p: 5, seed: 1 });
    expect(validateStreamInfo({ id: 'irregular', kind: 'raw', n: 1, rate: 0 }).rate).toBe(0);
  });

  const base = RAW4 as unknown as Record<string, unknown>;
  const cbase = COMPRESSED as unknown as Record<string, unknown>;
  const cases: [string, unknown, string][] = [
    ['not an object', 'eeg', 'expected a StreamInfo object'],
    ['an array', [], 'expected a StreamInfo object'],
    ['empty id', { ...base, id: '' }, "field 'id'"],
    ['numeric id', { ...base, id: 3 }, "field 'id'"],
    ['unknown kind', { ...base, kind: 'cooked' }, "field 'kind'"],
    ['n = 0', { ...base, n: 0, labels: undefined }, "field 'n'"],
    ['n fractional', { ...base, n: 2.5, labels: undefined }, "field 'n'"],
    ['rate negative', { ...base, rate: -1 }, "field 'rate'"],
    ['rate NaN', { ...base, rate: NaN }, "field 'rate'"],
    ['rate Infinity', { ...base, rate: Infinity }, "field 'rate'"],
    ['units not a string', { ...base, units: 5 }, "field 'units'"],
    ['labels not an array', { ...base, labels: 'C3' }, "field 'labels'"],
    ['labels wrong length', { ...base, labels: ['a', 'b'] }, "field 'labels' must have n = 4 entries; got 2"],
    ['labels with a number', { ...base, labels: ['a', 'b', 3, 'd'] }, "field 'labels[2]'"],
    ['compressed without projection', { ...cbase, projection: undefined }, "field 'projection' is required"],
    ['raw with projection', { ...base, projection: cbase.projection }, "field 'projection' must be absent"],
    ['projection not an object', { ...cbase, projection: 7 }, "field 'projection' must be a ProjectionSpec"],
    ['projection bad ensemble', { ...cbase, projection: { ensemble: 'x', n: 40, d: 8, seed: 1 } }, "field 'projection.ensemble'"],
    ['projection d ≥ n', { ...cbase, projection: { ensemble: 'gaussian', n: 40, d: 40, seed: 1 } }, "field 'projection.d'"],
    ['projection p > d', { ...cbase, projection: { ensemble: 'sparse-binary', n: 40, d: 8, p: 9, seed: 1 } }, "field 'projection.p'"],
    ['projection seed', { ...cbase, projection: { ensemble: 'gaussian', n: 40, d: 8, seed: 0.5 } }, "field 'projection.seed'"],
    ['projection.n ≠ n', { ...cbase, projection: { ensemble: 'gaussian', n: 50, d: 8, seed: 1 } }, "field 'projection.n' must equal n = 40; got 50"],
  ];
  it.each(cases)('rejects %s with a DataError naming the field', (_name, info, fragment) => {
    const e = thrown(() => validateStreamInfo(info, 'mqtt cfstream/eeg1/info'));
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toContain(fragment);
    expect(e.message.startsWith('mqtt cfstream/eeg1/info: ')).toBe(true);
  });

  it('does not modify its argument', () => {
    const info: StreamInfo = { ...COMPRESSED, projection: { ensemble: 'sparse-binary', n: 40, d: 8, seed: 5 } };
    validateStreamInfo(info);
    expect(info.projection).toEqual({ ensemble: 'sparse-binary', n: 40, d: 8, seed: 5 });
  });
});
