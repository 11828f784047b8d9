import { describe, expect, it } from 'vitest';
import { DataError, InvalidOptionError } from '../../src/errors.js';
import {
  FrameValidator, decodeJsonFrames, decodeStreamInfo, encodeJsonFrame, encodeStreamInfo, type Frame,
} from '../../src/frames/index.js';
import { COMPRESSED, RAW4, atOffset, thrown } from './helpers.js';

describe('decodeJsonFrames', () => {
  it('decodes one frame', () => {
    const [f, ...rest] = decodeJsonFrames('{"seq": 17, "t": 12.068, "values": [1.5, -2, 0.25, 1e-3], "sensor": "x"}', 4);
    expect(rest).toHaveLength(0);
    expect(f).toEqual({ seq: 17, t: 12.068, values: Float64Array.from([1.5, -2, 0.25, 1e-3]) });
  });

  it('decodes a batch: frame i has seq + i and t0 + i·dt', () => {
    const frames = decodeJsonFrames('{"seq": 254, "t0": 10, "dt": 0.5, "values": [[1,2],[3,4],[5,6]]}', 2);
    expect(frames.map((f) => [f.seq, f.t, Array.from(f.values)])).toEqual([[254, 10, [1, 2]], [255, 10.5, [3, 4]], [256, 11, [5, 6]]]);
  });

  it('reads UTF-8 bytes from a Buffer at an odd offset', () => {
    const bytes = new TextEncoder().encode('{"seq":1,"t":0,"values":[1,2,3,4]}');
    for (const off of [0, 1, 3, 7]) expect(decodeJsonFrames(atOffset(bytes, off), 4)[0]!.seq).toBe(1);
  });

  it('turns null (JSON\'s spelling of NaN/Infinity) into NaN, which the validator then counts as non-finite', () => {
    const [f] = decodeJsonFrames('{"seq":3,"t":0,"values":[1,null,3,4]}', 4);
    expect(Number.isNaN(f!.values[1])).toBe(true);
    const v = new FrameValidator(RAW4);
    expect(v.check(f!)).toMatchObject({ ok: false, reason: 'non-finite', message: 'stream eeg1 frame seq 3: value 1 is NaN' });
  });

  const cases: [string, string, string][] = [
    ['invalid JSON', '{"seq": 1,', 'not valid JSON'],
    ['an array', '[1,2]', 'expected a JSON object; got an array'],
    ['a number', '42', 'expected a JSON object; got a number'],
    ['missing seq', '{"t":0,"values":[1,2,3,4]}', 'missing seq'],
    ['seq a string', '{"seq":"1","t":0,"values":[1,2,3,4]}', 'seq must be a non-negative integer; got a string "1"'],
    ['seq negative', '{"seq":-1,"t":0,"values":[1,2,3,4]}', 'seq must be a non-negative integer; got a number -1'],
    ['seq fractional', '{"seq":1.5,"t":0,"values":[1,2,3,4]}', 'seq must be a non-negative integer'],
    ['missing values', '{"seq":1,"t":0}', 'missing values'],
    ['missing t', '{"seq":1,"values":[1,2,3,4]}', 'missing t (one frame) or t0 and dt (a batch)'],
    ['both t and t0', '{"seq":1,"t":0,"t0":0,"dt":1,"values":[1,2,3,4]}', 'has both t (one frame) and t0 (a batch)'],
    ['t a string', '{"seq":1,"t":"now","values":[1,2,3,4]}', 't must be a finite number; got a string "now"'],
    ['t null', '{"seq":1,"t":null,"values":[1,2,3,4]}', 't must be a finite number; got null'],
    ['values not an array', '{"seq":1,"t":0,"values":"1,2,3,4"}', 'values must be an array of 4 numbers; got a string'],
    ['values[3] a string', '{"seq":1,"t":0,"values":[1,2,3,"4"]}', 'values[3] is a string ("4"), expected a number'],
    ['values[0] an object', '{"seq":1,"t":0,"values":[{},2,3,4]}', 'values[0] is an object, expected a number'],
    ['wrong length', '{"seq":1,"t":0,"values":[1,2,3]}', 'values has 3 values, expected 4'],
    ['batch without dt', '{"seq":1,"t0":0,"values":[[1,2,3,4]]}', 'missing dt'],
    ['batch dt negative', '{"seq":1,"t0":0,"dt":-1,"values":[[1,2,3,4]]}', 'dt must be ≥ 0; got -1'],
    ['batch values flat', '{"seq":1,"t0":0,"dt":1,"values":[1,2,3,4]}', 'values[0] must be an array of 4 numbers; got a number'],
    ['batch values empty', '{"seq":1,"t0":0,"dt":1,"values":[]}', 'values is empty'],
    ['batch past seq 2^53 − 1', '{"seq":9007199254740990,"t0":0,"dt":1,"values":[[1,2,3,4],[1,2,3,4],[1,2,3,4]]}', 'seq 9007199254740990 + 2 (the last of 3 frames) runs past 2^53 − 1'],
    ['batch t overflowing', '{"seq":1,"t0":1e308,"dt":1e308,"values":[[1,2,3,4],[1,2,3,4]]}', 't0 + 1·dt = 1e+308 + 1·1e+308 is Infinity (the last of 2 frames)'],
    ['batch row wrong length', '{"seq":1,"t0":0,"dt":1,"values":[[1,2,3,4],[1,2]]}', 'values[1] has 2 values, expected 4'],
    ['batch cell a boolean', '{"seq":1,"t0":0,"dt":1,"values":[[1,2,3,4],[1,2,true,4]]}', 'values[1][2] is a boolean, expected a number'],
  ];
  it.each(cases)('%s → DataError naming the field', (_name, text, fragment) => {
    const e = thrown(() => decodeJsonFrames(text, 4, 'mqtt cfstream/eeg1/frames'));
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toContain(fragment);
    expect(e.message.startsWith('mqtt cfstream/eeg1/frames: ')).toBe(true);
  });

  it('accepts a batch whose last frame is exactly seq 2^53 − 1, or has a huge but finite t', () => {
    const last = (text: string) => decodeJsonFrames(text, 1).at(-1)!;
    expect(last('{"seq":9007199254740989,"t0":0,"dt":1,"values":[[1],[2],[3]]}').seq).toBe(Number.MAX_SAFE_INTEGER);
    expect(last('{"seq":0,"t0":1e308,"dt":3e307,"values":[[1],[2],[3]]}').t).toBe(1e308 + 2 * 3e307);
  });

  it('refuses invalid UTF-8 bytes and a bad dims', () => {
    expect(() => decodeJsonFrames(Uint8Array.from([0x7b, 0xff, 0x7d]), 4)).toThrow(/not valid UTF-8/);
    expect(() => decodeJsonFrames('{}', 0)).toThrow(InvalidOptionError);
  });
});

describe('encodeJsonFrame', () => {
  it('round-trips Float32 and Float64 frames exactly', () => {
    const frames: Frame[] = [
      { seq: 5, t: 1.25, values: Float32Array.from([0.1, -3.5, 1e-30, 65504]) },
      { seq: 6, t: 1.5, values: Float64Array.from([0.1, Math.PI, -0, 1e300]) },
    ];
    for (const f of frames) {
      const [back] = decodeJsonFrames(encodeJsonFrame(f), 4);
      expect(back!.seq).toBe(f.seq);
      expect(back!.t).toBe(f.t);
      expect(Array.from(back!.values)).toEqual(Array.from(f.values).map((x) => (Object.is(x, -0) ? 0 : x))); // JSON has no −0
    }
    expect(JSON.parse(encodeJsonFrame(frames[0]!))).toEqual({ seq: 5, t: 1.25, values: Array.from(frames[0]!.values) });
  });

  it('writes non-finite values as null, and they come back as NaN', () => {
    const text = encodeJsonFrame({ seq: 1, t: 0, values: Float32Array.from([1, NaN, Infinity]) });
    expect(text).toBe('{"seq":1,"t":0,"values":[1,null,null]}');
    expect(Array.from(decodeJsonFrames(text, 3)[0]!.values)).toEqual([1, NaN, NaN]);
  });
});

describe('StreamInfo JSON', () => {
  it('round-trips raw and compressed headers, as text and as bytes', () => {
    for (const info of [RAW4, COMPRESSED]) {
      const text = encodeStreamInfo(info);
      expect(decodeStreamInfo(text)).toEqual(info);
      expect(decodeStreamInfo(atOffset(new TextEncoder().encode(text), 3))).toEqual(info);
    }
  });

  it('validates on both sides with DataErrors naming the field', () => {
    expect(() => encodeStreamInfo({ ...RAW4, rate: -1 })).toThrow(/field 'rate'/);
    expect(() => decodeStreamInfo('{"id":"x","kind":"raw","n":2,"rate":1,"labels":["a"]}', 'cfstream/x/info')).toThrow("cfstream/x/info: field 'labels' must have n = 2 entries; got 1");
    expect(() => decodeStreamInfo('not json')).toThrow(/not valid JSON/);
    expect(() => decodeStreamInfo('null')).toThrow(DataError);
  });
});
