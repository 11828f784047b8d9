import { describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint } from '../../../pipelines/scaleout/checkpoint.js';
import { DataError } from '../../../src/errors.js';
import { OnlineNMF } from '../../../src/factorize/online/nmf.js';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('stream checkpoints', () => {
  it('round-trip with a real model state, which restores', () => {
    const m = new OnlineNMF({ rank: 2, warmStartFrames: 4, seed: 1 });
    const frames = Float64Array.from({ length: 8 * 3 }, (_, i) => 1 + ((i * 7) % 5));
    m.partialFitFrames(frames, 8);
    const text = encodeCheckpoint({ stream: 'dev1', owner: 'a', released: true, lastSeq: 41, index: 3, model: m.state() });
    const c = decodeCheckpoint(bytes(text), 't')!;
    expect(c).toMatchObject({ format: 'cfstream-stream-checkpoint', version: 1, stream: 'dev1', owner: 'a', released: true, lastSeq: 41, index: 3 });
    expect(new OnlineNMF({ rank: 2 }).restore(c.model!).framesSeen).toBe(m.framesSeen);
  });

  it('an empty payload is a cleared topic', () => {
    expect(decodeCheckpoint(new Uint8Array(0), 't')).toBeUndefined();
  });

  it.each([
    ['not JSON', '{', /t: not JSON/],
    ['another format', '{"format":"x"}', /format "x"/],
    ['a later version', JSON.stringify({ format: 'cfstream-stream-checkpoint', version: 2 }), /version 2/],
    ['a bad lastSeq', encodeCheckpoint({ stream: 's', owner: 'a', released: false, lastSeq: -1, index: 0, model: null }).replace('"lastSeq":-1', '"lastSeq":-2'), /lastSeq/],
    ['a bad released', encodeCheckpoint({ stream: 's', owner: 'a', released: false, lastSeq: -1, index: 0, model: null }).replace('"released":false', '"released":"no"'), /released/],
    ['a foreign model', encodeCheckpoint({ stream: 's', owner: 'a', released: false, lastSeq: -1, index: 0, model: null }).replace('"model":null', '"model":{"kind":"CP"}'), /model/],
  ])('refuses %s, naming the topic and field', (_what, text, message) => {
    expect(() => decodeCheckpoint(bytes(text), 'coord/checkpoints/s')).toThrow(DataError);
    expect(() => decodeCheckpoint(bytes(text), 't')).toThrow(message);
  });
});
