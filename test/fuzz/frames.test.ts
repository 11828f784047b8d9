/**
 * Bad-input corpus for the frame codecs (src/frames/binary.ts, json.ts): valid CFSB batches and
 * JSON payloads, mutated (truncated, wrong sizes in the header, wrong magic or version, huge
 * declared counts, NaN/Infinity, at odd byte offsets; wrong types, missing fields, huge arrays,
 * NaN strings, deep nesting), and plain garbage.
 *
 * Properties: the decoders throw nothing but their documented DataError (FrameDecodeError with a
 * byte offset inside the message for CFSB); a single header mutation is reported at the field's
 * offset; what decodes is canonical (re-encodes to the same bytes) and well-formed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.js';
import {
  decodeBatch, decodeJsonFrames, decodeStreamInfo, FrameDecodeError, frameLength, type Frame, type FrameBatch, type StreamInfo,
} from '../../src/frames/index.js';
import {
  batchArb, batchMutation, COMP4, encodeBatch, expectedOffset, jsonMutation, jsonPayloadArb, mutateBatch, mutateJson, RAW3, wrongJson,
} from './arbitraries.js';
import { atOffset, expectOnly, runProperty } from './helpers.js';

const enc = new TextEncoder();

/** Decodes with the only documented error, FrameDecodeError, and checks what came out. */
function decodeChecked(bytes: Uint8Array): FrameBatch | FrameDecodeError {
  const r = expectOnly('decodeBatch', [FrameDecodeError], () => decodeBatch(bytes, 'fuzz'));
  if (!r.ok) {
    const e = r.error as FrameDecodeError;
    expect(e).toBeInstanceOf(DataError);
    expect(e.byteOffset).toBeGreaterThanOrEqual(0);
    expect(e.byteOffset).toBeLessThanOrEqual(bytes.length);
    expect(e.problem.length).toBeGreaterThan(0);
    return e;
  }
  const b = r.value;
  expect(b.values).toHaveLength(b.count * b.dims);
  expect(b.values.buffer).not.toBe(bytes.buffer); // never a view on the input
  // Canonical: nothing in an accepted message was ignored.
  expect(Buffer.from(encodeBatch(b)).equals(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))).toBe(true);
  return b;
}

/** A JSON decode with the only documented error, DataError. */
function jsonChecked(bytes: Uint8Array | string, dims: number): Frame[] | DataError {
  const r = expectOnly('decodeJsonFrames', [DataError], () => decodeJsonFrames(bytes, dims, 'fuzz'));
  if (!r.ok) return r.error as DataError;
  expect(r.value.length).toBeGreaterThan(0);
  for (const f of r.value) {
    expect(f.values).toHaveLength(dims);
    expect(typeof f.seq).toBe('number');
    expect(typeof f.t).toBe('number');
  }
  return r.value;
}

describe('CFSB decodeBatch fuzz', () => {
  it('mutated batches at any byte offset: only FrameDecodeError, offsets inside the message, accepted ones canonical', () => {
    const arb = fc.record({ batch: batchArb(), mutations: fc.array(batchMutation, { minLength: 1, maxLength: 3 }), offset: fc.integer({ min: 0, max: 7 }) });
    runProperty('cfsb mutations', 21, 400, arb, ({ batch, mutations, offset }) => {
      let bytes = encodeBatch(batch);
      for (const m of mutations) bytes = mutateBatch(bytes, m);
      decodeChecked(atOffset(bytes, offset));
    });
  });

  it('one header mutation is reported at the offset of the field it broke', () => {
    const arb = fc.record({ batch: batchArb(), mutation: batchMutation, offset: fc.integer({ min: 0, max: 7 }) });
    runProperty('cfsb offsets', 22, 300, arb, ({ batch, mutation, offset }) => {
      const good = encodeBatch(batch);
      const bytes = atOffset(mutateBatch(good, mutation), offset);
      const want = expectedOffset(good, batch, mutation);
      const got = decodeChecked(bytes);
      if (want === undefined) return;
      expect(got, `mutation ${JSON.stringify(mutation)} must be refused`).toBeInstanceOf(FrameDecodeError);
      expect((got as FrameDecodeError).byteOffset, (got as FrameDecodeError).message).toBe(want);
    });
  });

  it('garbage and short messages: only FrameDecodeError', () => {
    const garbage = fc.oneof(
      fc.uint8Array({ maxLength: 120 }),
      fc.uint8Array({ maxLength: 120 }).map((b) => Uint8Array.from([0x43, 0x46, 0x53, 0x42, 1, 0, ...b])), // magic and version, then noise
    );
    runProperty('cfsb garbage', 23, 200, fc.record({ bytes: garbage, offset: fc.integer({ min: 0, max: 7 }) }), ({ bytes, offset }) => {
      decodeChecked(atOffset(bytes, offset));
    });
  });
});

describe('JSON decodeJsonFrames / decodeStreamInfo fuzz', () => {
  it('mutated frames and batches: only DataError; required fields, wrong types, NaN strings, deep nesting and wrong lengths refused', () => {
    const arb = fc.integer({ min: 1, max: 5 }).chain((dims) => fc.record({ dims: fc.constant(dims), payload: jsonPayloadArb(dims), mutation: jsonMutation }));
    runProperty('json mutations', 24, 300, arb, ({ dims, payload, mutation }) => {
      const { bytes, mustRefuse } = mutateJson(payload, mutation, dims);
      const got = jsonChecked(bytes, dims);
      if (mustRefuse) expect(got, `mutation ${mutation.kind} must be refused`).toBeInstanceOf(DataError);
      if (mustRefuse === 'length') expect((got as DataError).message).toMatch(/ has \d+ values, expected \d+$/);
      // Text input decodes the same as its UTF-8 bytes (when they are valid UTF-8).
      const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
      let s: string | undefined;
      try {
        s = text.decode(bytes);
      } catch {
        s = undefined;
      }
      if (s !== undefined) {
        const again = jsonChecked(s, dims);
        expect(again instanceof DataError).toBe(got instanceof DataError);
      }
    });
  });

  it('arbitrary text, JSON values and bytes: only DataError', () => {
    const arb = fc.record({
      input: fc.oneof(
        fc.string({ unit: 'binary', maxLength: 60 }),
        fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
        fc.uint8Array({ maxLength: 60 }),
        fc.dictionary(fc.constantFrom('seq', 't', 't0', 'dt', 'values', 'x'), wrongJson, { maxKeys: 5 }).map((d) => `{${Object.entries(d).map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
      ),
      dims: fc.integer({ min: 1, max: 4 }),
    });
    runProperty('json garbage', 25, 250, arb, ({ input, dims }) => {
      jsonChecked(input, dims);
    });
  });

  it('mutated StreamInfo headers: only DataError; a missing required field is refused', () => {
    const infoObj = fc.constantFrom<StreamInfo>(RAW3, COMP4, { ...RAW3, labels: ['a', 'b', 'c'], units: 'uV' });
    const arb = fc.record({
      info: infoObj,
      field: fc.constantFrom('id', 'kind', 'n', 'rate', 'labels', 'units', 'projection', 'projection.n', 'projection.d', 'projection.p', 'projection.seed', 'projection.ensemble'),
      action: fc.oneof(fc.constant({ delete: true as const }), wrongJson.map((json) => ({ json }))),
    });
    runProperty('streaminfo mutations', 26, 200, arb, ({ info, field, action }) => {
      const obj = JSON.parse(JSON.stringify(info)) as Record<string, unknown>;
      const [head, sub] = field.split('.') as [string, string | undefined];
      const target = sub === undefined ? obj : (obj[head] as Record<string, unknown> | undefined);
      if (!target) return;
      const key = sub ?? head;
      if ('delete' in action) delete target[key];
      else target[key] = JSON.parse(action.json);
      const r = expectOnly('decodeStreamInfo', [DataError], () => decodeStreamInfo(enc.encode(JSON.stringify(obj)), 'fuzz'));
      const required = ['id', 'kind', 'n', 'rate'].includes(field) || (info.kind === 'compressed' && ['projection', 'projection.n', 'projection.d', 'projection.seed', 'projection.ensemble'].includes(field));
      if ('delete' in action && required) expect(r.ok, `deleting ${field} must be refused`).toBe(false);
      if (r.ok) {
        // What passes is a usable header: its frame length is an integer ≥ 1.
        const len = frameLength(r.value);
        expect(Number.isSafeInteger(len) && len >= 1).toBe(true);
      }
    });
  });
});
