/**
 * Bad-input corpus for `LineParser` (devices/serial/lineParser.ts): text lines of numbers mixed
 * with labels, garbage bytes, invalid UTF-8, control characters, NaN spellings, wrong field
 * counts, overlong lines and stray CRs, pushed in arbitrary chunks, with resets in between.
 *
 * Properties:
 * - it never throws, and every line is accounted for: lines = records + blank + headers + Σ
 *   rejects, and the onReject events add up to `stats().rejects`; records hold `columns` finite
 *   values with seq counting up;
 * - chunking does not matter: any split of the bytes gives the same records, headers and rejects;
 * - clean numeric lines decode to exactly `Number(field)`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  LINE_REJECT_REASONS, LineParser, type LineParserOptions, type LineRejectReason, type LineSeparator,
} from '../../devices/serial/lineParser.js';
import { chunked, concat, expectOnly, runProperty, total } from './helpers.js';

const enc = new TextEncoder();

type ParserSettings = Omit<LineParserOptions, 'onRecord' | 'onReject' | 'onHeader'>;

const settings: fc.Arbitrary<ParserSettings> = fc.record({
  columns: fc.integer({ min: 1, max: 4 }),
  separator: fc.constantFrom<LineSeparator>('auto', 'comma', 'semicolon', 'tab', 'space'),
  time: fc.constantFrom('none' as const, 'first' as const),
  timeUnit: fc.constantFrom('s' as const, 'ms' as const),
  rate: fc.integer({ min: 1, max: 1000 }),
  maxLineBytes: fc.integer({ min: 16, max: 80 }),
});

const SEP_CHARS: Record<LineSeparator, string[]> = { auto: [',', ';', '\t', ' '], comma: [','], semicolon: [';'], tab: ['\t'], space: [' ', '  ', '\t'] };

/** A number as a sensor might print it. */
const numberText: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: -100000, max: 100000 }).map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
  fc.tuple(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: 0, max: 8 })).map(([v, k]) => v.toFixed(k)),
  fc.tuple(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: 0, max: 20 })).map(([v, k]) => v.toExponential(k)),
  fc.constantFrom('.5', '-.25', '+3', '5.', '0', '-0', '1e-22', '1E22', '123456789012345678', '0.000000000000000000000001', '9007199254740993', '1e308', '2.5e-308'),
);

/** A field that is not a finite decimal number. */
const badField = fc.constantFrom('nan', 'NaN', 'inf', '-inf', 'ovf', 'Infinity', '0x1F', '1,5', '--1', '1e', 'e5', '.', '-', '1.2.3', '1e400', '½', '١٢', '"1"', '');

/** One line's content (without its end). */
const lineContent = (s: ParserSettings): fc.Arbitrary<string | Uint8Array> => {
  const fields = s.columns + (s.time === 'first' ? 1 : 0);
  const sep = fc.constantFrom(...SEP_CHARS[s.separator!]);
  const row = (n: number, field: fc.Arbitrary<string>) => fc.tuple(fc.array(field, { minLength: n, maxLength: n }), sep).map(([f, c]) => f.join(c));
  return fc.oneof(
    { weight: 6, arbitrary: row(fields, numberText) },
    { weight: 1, arbitrary: fc.tuple(row(fields, numberText), sep).map(([r, c]) => r + c) }, // a trailing separator
    { weight: 1, arbitrary: fc.integer({ min: 0, max: fields + 2 }).filter((n) => n !== fields).chain((n) => row(n, numberText)) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: fields - 1 }).chain((bad) => row(fields, numberText).chain((r) => badField.map((b) => { const parts = r.split(/[,;\t ]+/); parts[bad] = b; return parts.join(','); }))) },
    { weight: 1, arbitrary: row(fields, fc.constantFrom('ch1', 'C3', '"Fp1"', 'time', 'x y')) }, // labels
    { weight: 1, arbitrary: fc.constantFrom('', ' ', '\t', '\r', ' \r ') }, // blank
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }) }, // garbage, newlines included
    { weight: 1, arbitrary: fc.constantFrom(Uint8Array.of(0x31, 0xff, 0x2c, 0x32), Uint8Array.of(0xc3), Uint8Array.of(0x31, 0x00, 0x32), Uint8Array.of(0xe2, 0x82), Uint8Array.of(0x1b, 0x5b, 0x41)) },
    { weight: 1, arbitrary: fc.integer({ min: 60, max: 200 }).map((n) => '1'.repeat(n)) }, // overlong
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  );
};

const lineEnd = fc.constantFrom('\n', '\r\n', '\n', '\r\r\n', ' \r\n');

const input = settings.chain((s) => fc.record({
  settings: fc.constant(s),
  lines: fc.array(fc.tuple(lineContent(s), lineEnd), { maxLength: 30 }),
  lastEnd: fc.boolean(),
  cuts: fc.array(fc.nat(), { maxLength: 12 }),
}));

function toBytes(lines: readonly [string | Uint8Array, string][], lastEnd: boolean): Uint8Array {
  const parts = lines.map(([c, e], i) => concat([typeof c === 'string' ? enc.encode(c) : c, i === lines.length - 1 && !lastEnd ? new Uint8Array(0) : enc.encode(e)]));
  return concat(parts);
}

interface Log {
  events: string[];
  rejectSums: Record<LineRejectReason, number>;
  parser: LineParser;
}

function newParser(s: ParserSettings): Log {
  const events: string[] = [];
  const rejectSums = Object.fromEntries(LINE_REJECT_REASONS.map((r) => [r, 0])) as Record<LineRejectReason, number>;
  const parser = new LineParser({
    ...s,
    onRecord: (r) => {
      expect(r.values).toHaveLength(s.columns);
      for (const v of r.values) expect(Number.isFinite(v), `record at line ${r.line} has ${v}`).toBe(true);
      expect(Number.isFinite(r.t)).toBe(true);
      events.push(`R ${r.line} ${r.seq} ${r.t} ${[...r.values].map((v) => (Object.is(v, -0) ? '-0' : String(v))).join(' ')}`);
    },
    onReject: (r) => {
      expect(LINE_REJECT_REASONS).toContain(r.reason);
      expect(r.message.length).toBeGreaterThan(0);
      rejectSums[r.reason]++;
      events.push(`X ${r.line} ${r.reason} ${r.excerpt}`);
    },
    onHeader: (h) => events.push(`H ${h.line} ${h.labels.join('|')}`),
  });
  return { events, rejectSums, parser };
}

function checkAccounting(log: Log): void {
  const st = log.parser.stats();
  expect(st.rejects).toEqual(log.rejectSums);
  expect(st.lines, 'every line is a record, a blank, a header or a reject').toBe(st.records + st.blank + st.headers + total(st.rejects));
}

describe('LineParser fuzz', () => {
  it('never throws, accounts for every line, and chunking does not change the result', () => {
    runProperty('lines chunking', 11, 250, input, ({ settings: s, lines, lastEnd, cuts }) => {
      const bytes = toBytes(lines, lastEnd);
      const whole = newParser(s);
      expectOnly('LineParser.push', [], () => whole.parser.push(bytes));
      expectOnly('LineParser.flush', [], () => whole.parser.flush());
      checkAccounting(whole);
      const split = newParser(s);
      for (const c of chunked(bytes, cuts)) expectOnly('LineParser.push', [], () => split.parser.push(c));
      expectOnly('LineParser.flush', [], () => split.parser.flush());
      checkAccounting(split);
      // The excerpt of an overlong line depends on how it arrived (in pieces the carry buffer
      // holds only maxLineBytes + 1 bytes of it, whole it is cut at 40): compare the rest.
      const cut = (events: string[]) => events.map((e) => e.replace(/^(X \d+ overlong) .*$/s, '$1'));
      expect(cut(split.events)).toEqual(cut(whole.events));
      expect(split.parser.stats()).toEqual(whole.parser.stats());
      expect(whole.parser.stats().bytes).toBe(bytes.length);
    });
  });

  it('accounts for every line across resets (mid-stream and clean) and skips', () => {
    const arb = input.chain((i) => fc.record({ i: fc.constant(i), resets: fc.array(fc.tuple(fc.nat(), fc.boolean(), fc.nat({ max: 5 })), { maxLength: 4 }) }));
    const seen = Object.fromEntries(LINE_REJECT_REASONS.map((r) => [r, 0])) as Record<LineRejectReason, number>;
    let headers = 0;
    runProperty('lines resets', 12, 150, arb, ({ i, resets }) => {
      const bytes = toBytes(i.lines, i.lastEnd);
      const log = newParser(i.settings);
      const chunks = chunked(bytes, [...i.cuts, ...resets.map(([at]) => at)]);
      const resetAt = new Map(resets.map(([at, mid, skip]) => [bytes.length ? at % bytes.length : 0, [mid, skip] as const]));
      let pos = 0;
      let lastSeq = -1;
      const p = log.parser;
      for (const c of chunks) {
        const r = resetAt.get(pos);
        if (r) {
          expectOnly('LineParser.reset', [], () => p.reset(r[0]));
          expectOnly('LineParser.skip', [], () => p.skip(r[1]));
        }
        expectOnly('LineParser.push', [], () => p.push(c));
        pos += c.length;
        checkAccounting(log);
      }
      expectOnly('LineParser.flush', [], () => p.flush());
      checkAccounting(log);
      // Seqs only go up.
      for (const e of log.events) {
        if (!e.startsWith('R ')) continue;
        const seq = Number(e.split(' ')[2]);
        expect(seq).toBeGreaterThan(lastSeq);
        lastSeq = seq;
      }
      expect(log.events.filter((e) => e.startsWith('R ')).length).toBe(p.stats().records);
      for (const k of LINE_REJECT_REASONS) seen[k] += p.stats().rejects[k];
      headers += p.stats().headers;
    });
    // The corpus reaches every reject reason, and headers.
    for (const k of LINE_REJECT_REASONS) expect(seen[k], `reason ${k} never occurred`).toBeGreaterThan(0);
    expect(headers).toBeGreaterThan(0);
  });

  it('clean numeric lines decode to exactly Number(field)', () => {
    const arb = fc.record({
      columns: fc.integer({ min: 1, max: 5 }),
      rate: fc.integer({ min: 1, max: 500 }),
    }).chain(({ columns, rate }) => fc.record({
      columns: fc.constant(columns),
      rate: fc.constant(rate),
      rows: fc.array(fc.array(numberText, { minLength: columns, maxLength: columns }), { maxLength: 25 }),
      crlf: fc.boolean(),
      cuts: fc.array(fc.nat(), { maxLength: 8 }),
    }));
    runProperty('lines exact', 13, 150, arb, ({ columns, rate, rows, crlf, cuts }) => {
      const text = rows.map((r) => r.join(',') + (crlf ? '\r\n' : '\n')).join('');
      const got: number[][] = [];
      const rejects: string[] = [];
      let headers = 0;
      const parser = new LineParser({ columns, rate, maxLineBytes: 4096, onRecord: (r) => got.push([...r.values]), onReject: (r) => rejects.push(r.message), onHeader: () => headers++ });
      for (const c of chunked(enc.encode(text), cuts)) parser.push(c);
      parser.flush();
      // A field that overflows (toExponential can print '2e+308') is not a finite number: that row is
      // rejected, or, when it is the first line and no field of it is a number, taken as the header.
      const want = rows.map((r) => r.map(Number)).filter((r) => r.every(Number.isFinite));
      expect(rejects.length + headers).toBe(rows.length - want.length);
      expect(headers).toBeLessThanOrEqual(rows.length > 0 && rows[0]!.every((f) => !Number.isFinite(Number(f))) ? 1 : 0);
      expect(got.length).toBe(want.length);
      got.forEach((row, i) => row.forEach((v, j) => expect(Object.is(v, want[i]![j]), `row ${i} field ${j}: ${rows[i]![j]} → ${v}, Number() gives ${want[i]![j]}`).toBe(true)));
    });
  });
});
