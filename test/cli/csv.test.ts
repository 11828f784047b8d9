import { describe, expect, it } from 'vitest';
import { formatMatrixCsv, parseMatrixCsv, splitCsvLine } from '../../src/cli/csv.js';

describe('parseMatrixCsv', () => {
  it('reads a bare numeric matrix', () => {
    const r = parseMatrixCsv('1,2,3\n4,5,6\n', 'a.csv');
    expect([r.matrix.rows, r.matrix.cols]).toEqual([2, 3]);
    expect(Array.from(r.matrix.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(r.colLabels).toBeUndefined();
    expect(r.rowLabels).toBeUndefined();
  });

  it('detects a header row and a label column (R write.csv style with an empty corner)', () => {
    const r = parseMatrixCsv('"","s1","s2"\n"g1",1,2\n"g2",3,4.5e1\n', 'b.csv');
    expect(r.colLabels).toEqual(['s1', 's2']);
    expect(r.rowLabels).toEqual(['g1', 'g2']);
    expect(Array.from(r.matrix.data)).toEqual([1, 2, 3, 45]);
  });

  it('detects a header without a label column, tabs, CRLF and a trailing blank line', () => {
    const r = parseMatrixCsv('a\tb\r\n1\t-2\r\n\r\n', 't.tsv');
    expect(r.colLabels).toEqual(['a', 'b']);
    expect(Array.from(r.matrix.data)).toEqual([1, -2]);
  });

  it('handles quoted fields with commas and escaped quotes', () => {
    expect(splitCsvLine('"a,b","c""d",3', ',', 'x')).toEqual(['a,b', 'c"d', '3']);
  });

  it.each([
    ['', /empty/, 'e.csv'],
    ['   \n\n', /empty/, 'e.csv'],
    ['1,2\n3\n', /e\.csv:2: ragged row: 1 fields, expected 2/, 'e.csv'],
    ['1,2\n3,x\n', /e\.csv:2, column 2: non-numeric value "x"/, 'e.csv'],
    ['1,NaN\n', /e\.csv:1, column 2: non-finite value "NaN"/, 'e.csv'],
    ['1,Infinity\n', /non-finite value "Infinity"/, 'e.csv'],
    ['1,,3\n', /e\.csv:1, column 2: empty field/, 'e.csv'],
    ['a,b\n', /no data rows/, 'e.csv'],
    ['"abc\n', /unterminated quoted field/, 'e.csv'],
    ['h1,h2\n1,2\n\n3,4\n', /e\.csv:3: empty line/, 'e.csv'],
  ])('rejects %j with a message naming the place', (text, re, src) => {
    expect(() => parseMatrixCsv(text, src)).toThrow(re);
  });

  it('round-trips through formatMatrixCsv with labels', () => {
    const r = parseMatrixCsv('"",x,y\nr1,0.1,2\nr2,3,1e-7\n');
    const again = parseMatrixCsv(formatMatrixCsv(r.matrix, r.colLabels, r.rowLabels));
    expect(again.colLabels).toEqual(['x', 'y']);
    expect(again.rowLabels).toEqual(['r1', 'r2']);
    expect(Array.from(again.matrix.data)).toEqual(Array.from(r.matrix.data));
  });
});
