/** Generators shared by the frame-codec and MQTT fuzz tests: valid CFSB batches and JSON payloads, and their mutations. */
import fc from 'fast-check';
import { BATCH_FIXED_HEADER_BYTES, batchPayloadOffset, encodeBatch, type FrameBatch, type StreamInfo } from '../../src/frames/index.js';
import { concat } from './helpers.js';

/** A raw 3-channel stream and a compressed one (d = 4): the infos payloads are decoded against. */
export const RAW3: StreamInfo = { id: 's1', kind: 'raw', n: 3, rate: 100 };
export const COMP4: StreamInfo = { id: 'c-é', kind: 'compressed', n: 10, rate: 50, projection: { ensemble: 'sparse-binary', n: 10, d: 4, p: 2, seed: 7 } };

/** Float32 values, NaN and ±Infinity included (the codec carries them as they are). */
const f32 = fc.float();

/** A valid batch; `id` and `dims` fixed when given. Its last frame has seq ≤ 2^53 − 1 (often exactly) and a finite t. */
export function batchArb(id?: string, dims?: number): fc.Arbitrary<FrameBatch> {
  return fc.record({
    streamId: id === undefined ? fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }) : fc.constant(id),
    seq: fc.oneof(fc.nat({ max: 1000 }), fc.maxSafeNat()),
    t0: fc.oneof(fc.double({ min: 0, max: 2e9, noNaN: true }), fc.double({ noNaN: true, noDefaultInfinity: true })),
    dt: fc.oneof(fc.constantFrom(0, 0.004, 1), fc.double({ min: 0, noNaN: true, noDefaultInfinity: true })),
    count: fc.integer({ min: 1, max: 5 }),
    dims: dims === undefined ? fc.integer({ min: 1, max: 6 }) : fc.constant(dims),
  }).map((b) => ({ ...b, seq: Math.min(b.seq, Number.MAX_SAFE_INTEGER - (b.count - 1)) }))
    .filter((b) => Number.isFinite(b.t0 + (b.count - 1) * b.dt))
    .chain((b) => fc.float32Array({ minLength: b.count * b.dims, maxLength: b.count * b.dims }).map((values) => ({ ...b, values })));
}

/** One mutation of a CFSB message, with the byte offset the decoder must name when it rejects it (undefined: may pass, or fail anywhere). */
export type BatchMutation =
  | { kind: 'truncate'; keep: number }
  | { kind: 'append'; bytes: Uint8Array }
  | { kind: 'u8'; at: number; value: number }
  | { kind: 'u32'; at: number; value: number }
  | { kind: 'f64'; at: number; value: number }
  | { kind: 'byte'; at: number; value: number }
  | { kind: 'cut'; at: number; len: number };

const interestingU32 = fc.oneof(fc.constantFrom(0, 1, 2, 0xffff, 0x10000, 1 << 24, (1 << 24) + 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x1fffff, 0x200000), fc.nat({ max: 0xffffffff }));
const interestingF64 = fc.oneof(fc.constantFrom(NaN, Infinity, -Infinity, -1, -0, 0, 5e-324, 1.7976931348623157e308, -1e-300), fc.double());

export const batchMutation: fc.Arbitrary<BatchMutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  // magic, version, flags, id length, reserved
  fc.record({ kind: fc.constant('u8' as const), at: fc.integer({ min: 0, max: 7 }), value: fc.integer({ min: 0, max: 255 }) }),
  // seq low/high, count, dims
  fc.record({ kind: fc.constant('u32' as const), at: fc.constantFrom(8, 12, 32, 36), value: interestingU32 }),
  // t0, dt
  fc.record({ kind: fc.constant('f64' as const), at: fc.constantFrom(16, 24), value: interestingF64 }),
  // anywhere (id, padding, samples)
  fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 12 }) }),
);

/** Applies a mutation (positions taken modulo the length where they are free). */
export function mutateBatch(bytes: Uint8Array, m: BatchMutation): Uint8Array {
  const n = bytes.length;
  const out = bytes.slice();
  const view = new DataView(out.buffer);
  switch (m.kind) {
    case 'truncate': return out.subarray(0, m.keep % (n + 1));
    case 'append': return concat([out, m.bytes]);
    case 'u8': if (m.at < n) out[m.at] = m.value; return out;
    case 'u32': if (m.at + 4 <= n) view.setUint32(m.at, m.value, true); return out;
    case 'f64': if (m.at + 8 <= n) view.setFloat64(m.at, m.value, true); return out;
    case 'byte': if (n > 0) out[m.at % n] = m.value; return out;
    case 'cut': {
      if (n === 0) return out;
      const at = m.at % n;
      return concat([out.subarray(0, at), out.subarray(Math.min(n, at + m.len))]);
    }
  }
}

/** The byte offset `decodeBatch` must report for a single mutation of a valid message, or undefined when it may legitimately decode (or the rule is not simple). */
export function expectedOffset(good: Uint8Array, batch: FrameBatch, m: BatchMutation): number | undefined {
  const n = good.length;
  const idLen = good[6]!;
  const start = batchPayloadOffset(idLen);
  const end = start + 4 * batch.count * batch.dims;
  switch (m.kind) {
    case 'truncate': return m.keep % (n + 1) === n ? undefined : m.keep % (n + 1); // 'truncated …' at the end, also inside the magic
    case 'append': return end;
    case 'u8': {
      if (good[m.at] === m.value) return undefined;
      if (m.at < 4) return m.at;
      if (m.at === 4 || m.at === 5 || m.at === 7) return m.at;
      return m.value === 0 ? 6 : undefined; // another id length: many outcomes
    }
    case 'u32': {
      if (m.at === 12 && m.value > 0x1fffff) return 8;
      const TWO_32 = 2 ** 32;
      const seq = m.at === 8 ? Math.floor(batch.seq / TWO_32) * TWO_32 + m.value : m.at === 12 ? m.value * TWO_32 + (batch.seq % TWO_32) : batch.seq;
      const count = m.at === 32 ? m.value : batch.count;
      const dims = m.at === 36 ? m.value : batch.dims;
      if (count === 0) return 32;
      if (dims === 0) return 36;
      if (count * dims > 1 << 24) return 32;
      // Frame i has seq + i and t0 + i·dt: the last must be exact and finite.
      if (count - 1 > Number.MAX_SAFE_INTEGER - seq) return 8;
      if (!Number.isFinite(batch.t0 + (count - 1) * batch.dt)) return 24;
      if (count * dims !== batch.count * batch.dims) return count * dims > batch.count * batch.dims ? n : start + 4 * count * dims;
      return undefined;
    }
    case 'f64': {
      const bad = m.at === 16 ? !Number.isFinite(m.value) : !Number.isFinite(m.value) || m.value < 0;
      if (bad) return m.at;
      const t0 = m.at === 16 ? m.value : batch.t0, dt = m.at === 24 ? m.value : batch.dt;
      return Number.isFinite(t0 + (batch.count - 1) * dt) ? undefined : 24;
    }
    case 'byte': {
      const at = m.at % n;
      if (at >= BATCH_FIXED_HEADER_BYTES + idLen && at < start) return m.value === 0 ? undefined : at; // padding
      return undefined;
    }
    case 'cut': return undefined;
  }
}

export { encodeBatch };

/** A JSON value that is not a finite number (as text), or a structure of the wrong kind. */
export const wrongJson: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('"NaN"', '"1"', 'null', 'true', '[]', '{}', '"Infinity"', '1e400', '-1e400', '-1', '1.5', '9007199254740992', '1e300', '[1]', '{"a":1}', '""'),
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
);

/** A valid JSON frame (`{seq,t,values}`) or batch (`{seq,t0,dt,values:[[…]]}`) as a mutable object of `dims` values per frame. */
export function jsonPayloadArb(dims: number): fc.Arbitrary<Record<string, unknown>> {
  const row = fc.array(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(null)), { minLength: dims, maxLength: dims });
  return fc.oneof(
    fc.record({ seq: fc.oneof(fc.nat(), fc.maxSafeNat()), t: fc.double({ noNaN: true, noDefaultInfinity: true }), values: row }),
    fc.record({ seq: fc.oneof(fc.nat(), fc.maxSafeNat()), t0: fc.double({ noNaN: true, noDefaultInfinity: true }), dt: fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }), values: fc.array(row, { minLength: 1, maxLength: 4 }) }),
  );
}

/** One mutation of a JSON payload's text, and whether the result must be refused. */
export type JsonMutation =
  | { kind: 'delete'; field: string }
  | { kind: 'replace'; field: string; json: string }
  | { kind: 'add'; field: string; json: string }
  | { kind: 'valueWrong'; index: number; json: string }
  | { kind: 'rowLength'; delta: number }
  | { kind: 'hugeArray'; length: number }
  | { kind: 'deep'; depth: number }
  | { kind: 'truncateText'; keep: number }
  | { kind: 'wrap'; prefix: string; suffix: string }
  | { kind: 'bytes'; bytes: Uint8Array };

const FIELDS = ['seq', 't', 't0', 'dt', 'values'];

export const jsonMutation: fc.Arbitrary<JsonMutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), field: fc.constantFrom(...FIELDS) }),
  fc.record({ kind: fc.constant('replace' as const), field: fc.constantFrom(...FIELDS), json: wrongJson }),
  fc.record({ kind: fc.constant('add' as const), field: fc.constantFrom('t', 't0', 'dt', 'extra', '__proto__', 'constructor'), json: wrongJson }),
  fc.record({ kind: fc.constant('valueWrong' as const), index: fc.nat(), json: fc.constantFrom('"NaN"', '"nan"', '"1.5"', 'true', '[]', '{}', '"Infinity"', '"-Infinity"') }),
  fc.record({ kind: fc.constant('rowLength' as const), delta: fc.integer({ min: -3, max: 3 }).filter((d) => d !== 0) }),
  fc.record({ kind: fc.constant('hugeArray' as const), length: fc.constantFrom(1000, 100_000) }),
  fc.record({ kind: fc.constant('deep' as const), depth: fc.constantFrom(10, 1000, 100_000) }),
  fc.record({ kind: fc.constant('truncateText' as const), keep: fc.nat() }),
  fc.record({ kind: fc.constant('wrap' as const), prefix: fc.constantFrom('', ' ', '\ufeff', '\n\t', '[', 'x'), suffix: fc.constantFrom('', ' ', ']', '}', ',', '\u0000') }),
  fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 8 }) }),
);

/** Applies a JSON mutation; returns the payload bytes and whether the decoder must refuse it ('length': refuse as a length mismatch). */
export function mutateJson(o: Record<string, unknown>, m: JsonMutation, dims: number): { bytes: Uint8Array; mustRefuse: false | 'refuse' | 'length' } {
  const isBatch = 't0' in o;
  const enc = (text: string) => new TextEncoder().encode(text);
  // Splices raw JSON text in place of a field's value (so '1e400' and '"NaN"' arrive as written).
  const withField = (obj: Record<string, unknown>, field: string, json: string) => {
    const rest = { ...obj };
    delete rest[field];
    const body = JSON.stringify(rest);
    return body === '{}' ? `{${JSON.stringify(field)}:${json}}` : `{${JSON.stringify(field)}:${json},${body.slice(1)}`;
  };
  switch (m.kind) {
    case 'delete': {
      const required = m.field === 'seq' || m.field === 'values' || (isBatch ? m.field === 't0' || m.field === 'dt' : m.field === 't');
      const rest = { ...o };
      delete rest[m.field];
      return { bytes: enc(JSON.stringify(rest)), mustRefuse: required ? 'refuse' : false };
    }
    case 'replace':
    case 'add': {
      const present = m.field in o;
      if (m.kind === 'replace' && !present) return { bytes: enc(JSON.stringify(o)), mustRefuse: false };
      // Adding t to a batch or t0 to a frame is refused ("both t and t0"); other extra fields are ignored.
      const clash = !present && ((isBatch && m.field === 't') || (!isBatch && m.field === 't0'));
      const text = withField(o, m.field, m.json);
      if (m.kind === 'add' && !present) return { bytes: enc(text), mustRefuse: clash ? 'refuse' : false };
      // A replaced known field of the wrong kind: the validity depends on the value, checked by the caller's oracle.
      return { bytes: enc(text), mustRefuse: wrongForField(m.field, m.json, isBatch, dims) ? 'refuse' : false };
    }
    case 'valueWrong': {
      const rows = (isBatch ? o.values : [o.values]) as unknown[][];
      const r = m.index % rows.length;
      const c = Math.floor(m.index / rows.length) % rows[r]!.length;
      const texts = rows.map((row, i) => `[${row.map((v, j) => (i === r && j === c ? m.json : JSON.stringify(v))).join(',')}]`);
      return { bytes: enc(withField(o, 'values', isBatch ? `[${texts.join(',')}]` : texts[0]!)), mustRefuse: 'refuse' };
    }
    case 'rowLength': {
      const rows = (isBatch ? o.values : [o.values]) as unknown[][];
      const changed = rows.map((row, i) => (i === rows.length - 1 ? (m.delta > 0 ? [...row, ...Array(m.delta).fill(1)] : row.slice(0, Math.max(0, row.length + m.delta))) : row));
      return { bytes: enc(JSON.stringify({ ...o, values: isBatch ? changed : changed[0] })), mustRefuse: 'length' };
    }
    case 'hugeArray': {
      const huge = `[${Array(m.length).fill('1').join(',')}]`;
      return { bytes: enc(withField(o, 'values', isBatch ? `[${huge}]` : huge)), mustRefuse: 'length' };
    }
    case 'deep': {
      const deep = '['.repeat(m.depth) + ']'.repeat(m.depth);
      return { bytes: enc(withField(o, 'values', deep)), mustRefuse: 'refuse' };
    }
    case 'truncateText': {
      const text = JSON.stringify(o);
      const keep = m.keep % (text.length + 1);
      return { bytes: enc(text.slice(0, keep)), mustRefuse: keep === text.length ? false : 'refuse' };
    }
    case 'wrap': {
      const text = JSON.stringify(o);
      // Leading/trailing white space is fine; a BOM is stripped by the decoder's TextDecoder (not asserted).
      const broken = m.prefix === '[' || m.prefix === 'x' || m.suffix === ']' || m.suffix === '}' || m.suffix === ',' || m.suffix === '\u0000';
      return { bytes: enc(m.prefix + text + m.suffix), mustRefuse: broken ? 'refuse' : false };
    }
    case 'bytes': {
      const text = enc(JSON.stringify(o));
      const cut = Math.min(text.length, 1 + (m.bytes.length % Math.max(1, text.length)));
      return { bytes: concat([text.subarray(0, cut), m.bytes, text.subarray(cut)]), mustRefuse: false }; // may still be valid (e.g. spaces)
    }
  }
}

/** True when `json` in `field` can never be accepted. */
function wrongForField(field: string, json: string, isBatch: boolean, dims: number): boolean {
  const v: unknown = JSON.parse(json); // 1e400 → Infinity
  const finite = typeof v === 'number' && Number.isFinite(v);
  switch (field) {
    case 'seq': return !(finite && Number.isSafeInteger(v) && (v as number) >= 0);
    case 't': return !isBatch && !finite;
    case 't0': return isBatch && !finite;
    case 'dt': return isBatch && !(finite && (v as number) >= 0);
    case 'values': {
      const row = (r: unknown) => Array.isArray(r) && r.length === dims && r.every((x) => typeof x === 'number' || x === null);
      return isBatch ? !(Array.isArray(v) && v.length > 0 && v.every(row)) : !row(v);
    }
    default: return false;
  }
}
