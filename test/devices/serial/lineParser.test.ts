import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../../src/errors.js';
import { Rng } from '../../../src/linalg/random.js';
import {
  DEFAULT_LINE_PARSER_OPTIONS, LINE_REJECT_REASONS, LineParser, lineExcerpt, parseNumber,
  type LineParserOptions, type LineRejectReason,
} from '../../../devices/serial/lineParser.js';

type Out =
  | { kind: 'record'; seq: number; t: number; values: number[]; line: number }
  | { kind: 'reject'; reason: LineRejectReason; line: number; excerpt: string; message: string }
  | { kind: 'header'; labels: string[]; line: number };

/** A parser that records everything it reports, in order. */
function make(options: Omit<LineParserOptions, 'onRecord' | 'onReject' | 'onHeader'>) {
  const out: Out[] = [];
  const parser = new LineParser({
    ...options,
    onRecord: (r) => out.push({ kind: 'record', seq: r.seq, t: r.t, values: [...r.values], line: r.line }),
    onReject: (r) => out.push({ kind: 'reject', ...r }),
    onHeader: (h) => out.push({ kind: 'header', labels: [...h.labels], line: h.line }),
  });
  return { parser, out };
}

const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));
const records = (out: Out[]) => out.filter((o): o is Extract<Out, { kind: 'record' }> => o.kind === 'record');
const rejects = (out: Out[]) => out.filter((o): o is Extract<Out, { kind: 'reject' }> => o.kind === 'reject');

/** Feeds `data` cut at the given offsets. */
function feed(parser: LineParser, data: Uint8Array, cuts: number[]): void {
  let from = 0;
  for (const c of [...cuts, data.length]) {
    parser.push(data.subarray(from, c));
    from = c;
  }
}

describe('LineParser: values', () => {
  it('reads each number exactly as Number() would, t = seq / rate, line numbers counting every line', () => {
    const { parser, out } = make({ columns: 4, rate: 250 });
    parser.push(bytes(
      '1,2,3,4\r\n',
      '-0.5,+7,.25,6.02e23\r\n',
      '\r\n', // blank: skipped, but a line
      '  1.5 ,\t-2E-3,0,-0\n',
      '0.1000000000000000055511151231257827,123456789012345678,1e-320,9007199254740993\n',
    ));
    expect(records(out)).toEqual([
      { kind: 'record', seq: 0, t: 0, values: [1, 2, 3, 4], line: 1 },
      { kind: 'record', seq: 1, t: 1 / 250, values: [-0.5, 7, 0.25, 6.02e23], line: 2 },
      { kind: 'record', seq: 2, t: 2 / 250, values: [1.5, -0.002, 0, -0], line: 4 },
      { kind: 'record', seq: 3, t: 3 / 250, values: [0.1, 123456789012345678, 1e-320, 9007199254740992], line: 5 },
    ]);
    expect(Object.is(records(out)[2]!.values[3], -0)).toBe(true);
    expect(parser.stats()).toMatchObject({ lines: 5, records: 4, blank: 1, headers: 0, buffered: 0 });
  });

  it('parseNumber agrees with Number() bit for bit on 200000 seeded strings, and refuses what is not a plain finite decimal', () => {
    const rng = new Rng(11);
    const grammar = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
    const mismatches: string[] = [];
    for (let k = 0; k < 200_000; k++) {
      let s: string;
      const kind = k % 4;
      if (kind === 0) s = String((rng.uniform() - 0.5) * 10 ** (rng.int(60) - 30));
      else if (kind === 1) s = ((rng.uniform() - 0.5) * 10 ** rng.int(9)).toFixed(rng.int(10));
      else if (kind === 2) s = (rng.uniform() * 1e6).toExponential(rng.int(19));
      else s = Array.from({ length: 1 + rng.int(24) }, () => '0123456789.-+eE'[rng.int(15)]).join('');
      const b = Buffer.from(s, 'latin1');
      const want = grammar.test(s) && Number.isFinite(Number(s)) ? Number(s) : NaN;
      if (!Object.is(parseNumber(b, 0, b.length), want)) mismatches.push(s);
    }
    expect(mismatches).toEqual([]);
    for (const s of ['', '+', '-', '.', 'e5', '1e', '1e+', '1.2.3', '0x10', 'nan', 'NaN', 'inf', 'Infinity', '1e999', '-1e400', '1_000', '１']) {
      const b = Buffer.from(s, 'utf8');
      expect(parseNumber(b, 0, b.length), s).toBeNaN();
    }
  });

  it('separators: auto per line (comma, semicolon, tab, spaces), a fixed one only itself, one trailing separator ignored', () => {
    const auto = make({ columns: 3, rate: 1 });
    auto.parser.push(bytes('1,2,3\n', '4;5;6\n', '7\t8\t9\n', '10   11 12\n', '13, 14 ,15,\n', '16 17 18 \n', '1;2,3\n'));
    expect(records(auto.out).map((r) => r.values)).toEqual([[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12], [13, 14, 15], [16, 17, 18]]);
    // ',' wins over ';' when a line has both
    expect(rejects(auto.out).map((r) => [r.reason, r.message])).toEqual([['column-count', "line 7: expected 3 fields, got 2 (separator ',')"]]);

    const semi = make({ columns: 3, rate: 1, separator: 'semicolon' });
    semi.parser.push(bytes('1;2;3\n', '1,5;2,5;3,5\n', '1,2,3\n'));
    expect(records(semi.out).map((r) => r.values)).toEqual([[1, 2, 3]]);
    expect(rejects(semi.out).map((r) => r.reason)).toEqual(['not-numeric', 'column-count']);

    const tab = make({ columns: 3, rate: 1, separator: 'tab' });
    tab.parser.push(bytes('1\t2\t3\n', '1\t\t3\n', '1 2 3\n'));
    expect(records(tab.out).map((r) => r.values)).toEqual([[1, 2, 3]]);
    expect(rejects(tab.out).map((r) => [r.reason, r.message])).toEqual([
      ['not-numeric', 'line 2: field 2 is not a finite number: empty'],
      ['column-count', 'line 3: expected 3 fields, got 1 (separator tab)'],
    ]);

    const space = make({ columns: 2, rate: 1, separator: 'space' });
    space.parser.push(bytes('1 2\n', '\t3\t 4 \r\n', '5,6\n'));
    expect(records(space.out).map((r) => r.values)).toEqual([[1, 2], [3, 4]]);
    expect(rejects(space.out).map((r) => r.reason)).toEqual(['column-count']);
  });
});

describe('LineParser: rejects', () => {
  it('counts every reason once per line, with the line number, an excerpt and a message naming the problem', () => {
    const { parser, out } = make({ columns: 3, rate: 100, maxLineBytes: 64 });
    const long = '1234567890'.repeat(10); // 100 bytes > 64
    parser.push(bytes(
      '1,2,3\r\n',
      '1,2\r\n',
      '1,2,3,4,5\r\n',
      '1,nan,3\r\n',
      '1,2,ovf\r\n',
      [0xff, 0xfe, 0x31, 0x2c, 0x32, 0x0d, 0x0a],
      '1,2\x003\r\n',
      long, '\r\n',
      'x'.repeat(30), ',', 'y'.repeat(20), ',µV\r\n', // 55 bytes of UTF-8 text
      '4,5,6\r\n',
      '7,8,',
    ));
    parser.reset();
    expect(rejects(out)).toEqual([
      { kind: 'reject', reason: 'column-count', line: 2, excerpt: '1,2', message: "line 2: expected 3 fields, got 2 (separator ',')" },
      { kind: 'reject', reason: 'column-count', line: 3, excerpt: '1,2,3,4,5', message: "line 3: expected 3 fields, got 5 (separator ',')" },
      { kind: 'reject', reason: 'not-numeric', line: 4, excerpt: '1,nan,3', message: 'line 4: field 2 is not a finite number: "nan"' },
      { kind: 'reject', reason: 'not-numeric', line: 5, excerpt: '1,2,ovf', message: 'line 5: field 3 is not a finite number: "ovf"' },
      { kind: 'reject', reason: 'not-text', line: 6, excerpt: '\\xFF\\xFE1,2', message: 'line 6: not UTF-8 text (line noise, or a wrong baud rate?)' },
      { kind: 'reject', reason: 'not-text', line: 7, excerpt: '1,2\\x003', message: 'line 7: control characters in the line (line noise, or a wrong baud rate?)' },
      { kind: 'reject', reason: 'overlong', line: 8, excerpt: long.slice(0, 40) + '…', message: 'line 8: no newline within 64 bytes: dropped up to the next newline' },
      { kind: 'reject', reason: 'not-numeric', line: 9, excerpt: 'x'.repeat(30) + ',' + 'y'.repeat(9) + '…', message: `line 9: field 1 is not a finite number: "${'x'.repeat(30)}"` },
      { kind: 'reject', reason: 'truncated', line: 11, excerpt: '7,8,', message: 'line 11: the input ended after 4 bytes without a newline: the line may be cut short' },
    ]);
    expect(records(out).map((r) => [r.seq, r.line, r.values])).toEqual([[0, 1, [1, 2, 3]], [1, 10, [4, 5, 6]]]);
    const s = parser.stats();
    expect(s.rejects).toEqual({ 'not-text': 2, 'column-count': 2, 'not-numeric': 3, overlong: 1, truncated: 1, partial: 0 });
    expect(s.lines).toBe(11);
    expect(s.lines).toBe(s.records + s.blank + s.headers + Object.values(s.rejects).reduce((a, b) => a + b, 0));
  });

  it('an overlong line is reported once when maxLineBytes pass without a newline, and dropped up to the next one, whatever the chunking', () => {
    const max = 4096;
    expect(DEFAULT_LINE_PARSER_OPTIONS.maxLineBytes).toBe(max);
    const data = bytes('1,2\r\n', 'a'.repeat(max - 2), ',7\r\n', '9'.repeat(10_000), '\r\n', '3,4\r\n', '5'.repeat(max + 1), '\n', '6,7\n');
    for (const step of [1, 7, 100, 4095, 4096, 4097, data.length]) {
      const { parser, out } = make({ columns: 2, rate: 1 });
      for (let i = 0; i < data.length; i += step) parser.push(data.subarray(i, i + step));
      expect(out.map((o) => (o.kind === 'reject' ? `${o.reason}@${o.line}` : o.kind === 'record' ? `${o.values}` : 'header')), `step ${step}`).toEqual([
        '1,2', 'not-numeric@2', 'overlong@3', '3,4', 'overlong@5', '6,7',
      ]);
      expect(parser.stats().buffered).toBe(0);
    }
    // A line of exactly maxLineBytes (its \r\n not counted) is fine, also when the \r comes in the next chunk.
    const exact = make({ columns: 1, rate: 1, maxLineBytes: 16 });
    exact.parser.push(bytes('1'.repeat(16)));
    exact.parser.push(bytes('\r'));
    exact.parser.push(bytes('\n', '2'.repeat(17), '\r\n'));
    expect(exact.out.map((o) => (o.kind === 'reject' ? o.reason : o.kind === 'record' ? o.values[0] : ''))).toEqual([1111111111111111, 'overlong']);
  });

  it('never throws on noise: 1 MB of seeded random bytes (and text-like noise) in random chunks, every line accounted for', () => {
    const rng = new Rng(5);
    for (const flavour of ['bytes', 'texty']) {
      const data = new Uint8Array(1 << 20);
      const alphabet = Buffer.from('0123456789.,;\t -+eE\r\n\n\nnax', 'latin1');
      for (let i = 0; i < data.length; i++) data[i] = flavour === 'bytes' ? rng.int(256) : alphabet[rng.int(alphabet.length)]!;
      const { parser, out } = make({ columns: 3, rate: 10, maxLineBytes: 256 });
      let i = 0;
      expect(() => {
        while (i < data.length) {
          const n = 1 + rng.int(3000);
          parser.push(data.subarray(i, i + n));
          i += n;
        }
        parser.flush();
      }).not.toThrow();
      const s = parser.stats();
      const rejected = Object.values(s.rejects).reduce((a, b) => a + b, 0);
      expect(s.lines).toBe(s.records + s.blank + s.headers + rejected);
      expect(rejects(out)).toHaveLength(rejected);
      expect(s.bytes).toBe(data.length);
      for (const r of records(out)) expect(r.values.every(Number.isFinite)).toBe(true);
      if (flavour === 'texty') expect(s.records).toBeGreaterThan(0);
    }
  });
});

describe('LineParser: chunk-split invariance', () => {
  // Everything at once: a header with UTF-8 labels, CRLF and LF, blank lines, every reject reason,
  // a multi-byte character, a time column.
  const corpus = bytes(
    'time_ms,"ax",ay,°C\r\n',
    '0,1.5,-2,20.25\r\n',
    '\r\n',
    '4,1.25e1,0.001,21\n',
    '8,nan,1,2\r\n',
    [0xc3, 0x28, 0x2c, 0x31, 0x0d, 0x0a], // invalid UTF-8
    '12,1,2\r\n',
    '9'.repeat(300), '\r\n',
    '16,-1,-2,-3\r\n',
    '20,µ,1,2\r\n',
    '24,7,8,9\r\n',
  );
  const opts = { columns: 3, time: 'first', timeUnit: 'ms', maxLineBytes: 128 } as const;
  const whole = (() => {
    const { parser, out } = make(opts);
    parser.push(corpus);
    return out;
  })();

  it('the reference output (one push) is what the lines say', () => {
    expect(whole).toEqual([
      { kind: 'header', labels: ['ax', 'ay', '°C'], line: 1 },
      { kind: 'record', seq: 0, t: 0, values: [1.5, -2, 20.25], line: 2 },
      { kind: 'record', seq: 1, t: 0.004, values: [12.5, 0.001, 21], line: 4 },
      { kind: 'reject', reason: 'not-numeric', line: 5, excerpt: '8,nan,1,2', message: 'line 5: field 2 is not a finite number: "nan"' },
      { kind: 'reject', reason: 'not-text', line: 6, excerpt: '\\xC3(,1', message: 'line 6: not UTF-8 text (line noise, or a wrong baud rate?)' },
      { kind: 'reject', reason: 'column-count', line: 7, excerpt: '12,1,2', message: "line 7: expected 4 fields (time + 3 values), got 3 (separator ',')" },
      { kind: 'reject', reason: 'overlong', line: 8, excerpt: '9'.repeat(40) + '…', message: 'line 8: no newline within 128 bytes: dropped up to the next newline' },
      { kind: 'record', seq: 2, t: 0.016, values: [-1, -2, -3], line: 9 },
      { kind: 'reject', reason: 'not-numeric', line: 10, excerpt: '20,µ,1,2', message: 'line 10: field 2 is not a finite number: "µ"' },
      { kind: 'record', seq: 3, t: 0.024, values: [7, 8, 9], line: 11 },
    ]);
  });

  it('one byte at a time, and cut in two at every offset (inside \\r\\n, inside a multi-byte character), give the same output', () => {
    const one = make(opts);
    for (let i = 0; i < corpus.length; i++) one.parser.push(corpus.subarray(i, i + 1));
    expect(one.out).toEqual(whole);
    for (let cut = 0; cut <= corpus.length; cut++) {
      const two = make(opts);
      feed(two.parser, corpus, [cut]);
      expect(two.out, `cut at ${cut}`).toEqual(whole);
    }
    const crlf = corpus.indexOf('\r\n');
    const split = make(opts);
    feed(split.parser, corpus, [crlf + 1]); // between \r and \n
    expect(split.out).toEqual(whole);
  });

  it('500 seeded random chunkings give the same output and the same totals', () => {
    const rng = new Rng(17);
    const ref = make(opts);
    ref.parser.push(corpus);
    for (let k = 0; k < 500; k++) {
      const cuts = Array.from({ length: 1 + rng.int(20) }, () => rng.int(corpus.length + 1)).sort((a, b) => a - b);
      const p = make(opts);
      feed(p.parser, corpus, cuts);
      expect(p.out).toEqual(whole);
      expect(p.parser.stats()).toEqual(ref.parser.stats());
    }
  });
});

describe('LineParser: header, time column, reset, flush, skip', () => {
  it('takes a header only before the first data line, with quotes stripped; a label line later is a not-numeric reject', () => {
    const { parser, out } = make({ columns: 2, rate: 10 });
    parser.push(bytes('Sensor v1 ready\r\n', '"temp";"hum"\r\n', '21.5;40\r\n', 'temp;hum\r\n'));
    expect(out).toEqual([
      { kind: 'reject', reason: 'column-count', line: 1, excerpt: 'Sensor v1 ready', message: 'line 1: expected 2 fields, got 3 (separator spaces)' },
      { kind: 'header', labels: ['temp', 'hum'], line: 2 },
      { kind: 'record', seq: 0, t: 0, values: [21.5, 40], line: 3 },
      { kind: 'reject', reason: 'not-numeric', line: 4, excerpt: 'temp;hum', message: 'line 4: field 1 is not a finite number: "temp"' },
    ]);
  });

  it('a line with one number in it is data, not a header (nan,1 on the first line is a reject)', () => {
    const { parser, out } = make({ columns: 2, rate: 10 });
    parser.push(bytes('nan,1\n', 'a,b\n', '1,2\n'));
    expect(out.map((o) => o.kind)).toEqual(['reject', 'header', 'record']);
  });

  it('reset(): a partial line is a truncated reject, a header may come again, seq and line numbers go on', () => {
    const { parser, out } = make({ columns: 2, rate: 2 });
    parser.push(bytes('a,b\n1,2\n3,4'));
    parser.reset();
    parser.push(bytes('a,b\n5,6\n'));
    parser.reset(); // nothing partial: nothing reported
    expect(out).toEqual([
      { kind: 'header', labels: ['a', 'b'], line: 1 },
      { kind: 'record', seq: 0, t: 0, values: [1, 2], line: 2 },
      { kind: 'reject', reason: 'truncated', line: 3, excerpt: '3,4', message: 'line 3: the input ended after 3 bytes without a newline: the line may be cut short' },
      { kind: 'header', labels: ['a', 'b'], line: 4 },
      { kind: 'record', seq: 1, t: 0.5, values: [5, 6], line: 5 },
    ]);
  });

  it('reset(true), a port opened mid-stream: the next line is a header or a partial reject, never data; a blank line clears the doubt', () => {
    const { parser, out } = make({ columns: 2, rate: 1 });
    parser.reset(true);
    parser.push(bytes('5,6\r\n', '7,8\r\n')); // "5,6" may be the tail of "12.5,6"
    parser.reset(true);
    parser.push(bytes('a,b\n', '9,10\n')); // a header is taken
    parser.reset(true);
    parser.push(bytes('\n', '11,12\n')); // the cut was at a line end: the next line is whole
    parser.reset(true);
    parser.push(bytes([0xff, 0x0a], '13,14\n')); // whatever it is, the first line is reported as partial
    expect(out.map((o) => (o.kind === 'record' ? o.values : o.kind === 'reject' ? `${o.reason}@${o.line}: ${o.excerpt}` : o.labels))).toEqual([
      'partial@1: 5,6', [7, 8], ['a', 'b'], [9, 10], [11, 12], 'partial@7: \\xFF', [13, 14],
    ]);
    expect(rejects(out)[0]!.message).toBe('line 1: the first line of a new connection is not taken as data: it may have started in the middle of a line');
    expect(parser.stats().rejects.partial).toBe(2);
  });

  it('flush(): a last line without a newline is read; an overlong one in progress is dropped', () => {
    const a = make({ columns: 2, rate: 1 });
    a.parser.push(bytes('1,2\n3,4\r'));
    a.parser.flush();
    expect(records(a.out).map((r) => r.values)).toEqual([[1, 2], [3, 4]]);
    const b = make({ columns: 1, rate: 1, maxLineBytes: 16 });
    b.parser.push(bytes('1'.repeat(40)));
    b.parser.flush();
    b.parser.push(bytes('2\n'));
    expect(b.out.map((o) => (o.kind === 'record' ? o.values[0] : o.kind))).toEqual(['reject', 2]);
  });

  it('time column in s or ms: t from it (a bad time is named), seq still counts records; skip(n) moves seq', () => {
    const s = make({ columns: 1, time: 'first' });
    s.parser.push(bytes('0.5,10\n', '1.25,11\n', 'x,12\n'));
    expect(s.out).toEqual([
      { kind: 'record', seq: 0, t: 0.5, values: [10], line: 1 },
      { kind: 'record', seq: 1, t: 1.25, values: [11], line: 2 },
      { kind: 'reject', reason: 'not-numeric', line: 3, excerpt: 'x,12', message: 'line 3: the time field is not a finite number: "x"' },
    ]);
    const ms = make({ columns: 2, time: 'first', timeUnit: 'ms', rate: 100 });
    ms.parser.push(bytes('1000 1 2\n', '1010 3 4\n'));
    ms.parser.skip(5);
    ms.parser.push(bytes('1070 5 6\n'));
    expect(records(ms.out).map((r) => [r.seq, r.t, r.values])).toEqual([[0, 1, [1, 2]], [1, 1.01, [3, 4]], [7, 1.07, [5, 6]]]);
    const none = make({ columns: 1, rate: 4 });
    none.parser.push(bytes('1\n'));
    none.parser.skip(2);
    none.parser.push(bytes('2\n'));
    expect(records(none.out).map((r) => [r.seq, r.t])).toEqual([[0, 0], [3, 0.75]]);
    expect(() => none.parser.skip(-1)).toThrow(InvalidOptionError);
  });

  it('lineExcerpt: UTF-8 kept (control characters escaped, never cut inside a character), other bytes as \\xNN, 40 bytes then …', () => {
    expect(lineExcerpt(Buffer.from('a\tb'))).toBe('a\\x09b');
    expect(lineExcerpt(Buffer.from('é'.repeat(30)))).toBe('é'.repeat(20) + '…');
    expect(lineExcerpt(Buffer.from('a'.repeat(39) + 'é'))).toBe('a'.repeat(39) + '…');
    expect(lineExcerpt(Buffer.from([0x31, 0xff, 0x7f, 0x00]))).toBe('1\\xFF\\x7F\\x00');
    expect(lineExcerpt(Buffer.alloc(0))).toBe('');
  });
});

describe('LineParser: options', () => {
  it('refuses bad options, naming them', () => {
    const onRecord = () => {};
    const cases: [Partial<LineParserOptions>, RegExp][] = [
      [{ columns: 0, rate: 1 }, /option 'columns' must be an integer in \[1, 65536\]; got 0/],
      [{ columns: 2.5, rate: 1 }, /'columns'/],
      [{ columns: 2 }, /option 'rate' must be lines per second > 0 when there is no time column/],
      [{ columns: 2, rate: -1 }, /option 'rate' must be lines per second, finite and ≥ 0; got -1/],
      [{ columns: 2, rate: 1, separator: 'pipe' as never }, /option 'separator' must be one of auto, comma, semicolon, tab, space; got "pipe"/],
      [{ columns: 2, time: 'last' as never }, /option 'time'/],
      [{ columns: 2, time: 'first', timeUnit: 'us' as never }, /option 'timeUnit' must be 's' or 'ms'; got "us"/],
      [{ columns: 2, rate: 1, maxLineBytes: 8 }, /option 'maxLineBytes' must be an integer in \[16, 16777216\]; got 8/],
    ];
    for (const [o, re] of cases) {
      expect(() => new LineParser({ onRecord, ...o } as LineParserOptions), JSON.stringify(o)).toThrow(InvalidOptionError);
      expect(() => new LineParser({ onRecord, ...o } as LineParserOptions), JSON.stringify(o)).toThrow(re);
    }
    expect(() => new LineParser({ columns: 1, rate: 1 } as LineParserOptions)).toThrow(/option 'onRecord' must be a function/);
    expect(() => new LineParser({ columns: 1, time: 'first', onRecord })).not.toThrow(); // rate 0 is fine with a time column
    expect(LINE_REJECT_REASONS).toEqual(['not-text', 'column-count', 'not-numeric', 'overlong', 'truncated', 'partial']);
  });
});
