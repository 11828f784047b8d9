/**
 * Matrix CSV: rows = features (n), columns = samples (m). A header row and a label column are
 * detected (a first row / first column with non-numeric text). Every rejection names the file,
 * the line and the column, so a user can open the file at the spot.
 */
import { DataError } from '../errors.js';
import type { Matrix } from '../linalg/matrix.js';

/** A parsed matrix with its optional labels. */
export interface LabelledMatrix {
  matrix: Matrix;
  /** Sample names from the header row (length m), if present. */
  colLabels?: string[];
  /** Feature names from the label column (length n), if present. */
  rowLabels?: string[];
}

/** Splits one CSV line (RFC 4180 quoting, comma, tab or semicolon delimiter). */
export function splitCsvLine(line: string, delim: string, where: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let s = '';
      i++;
      for (;;) {
        if (i >= line.length) throw new DataError('unterminated quoted field', where);
        const ch = line[i]!;
        if (ch === '"') {
          if (line[i + 1] === '"') { s += '"'; i += 2; continue; }
          i++;
          break;
        }
        s += ch;
        i++;
      }
      out.push(s);
      if (i < line.length && line[i] !== delim) throw new DataError(`unexpected text after a quoted field at character ${i + 1}`, where);
      i++;
    } else {
      const e = line.indexOf(delim, i);
      const end = e === -1 ? line.length : e;
      out.push(line.slice(i, end).trim());
      i = end + 1;
    }
  }
  return out;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function isNumeric(s: string): boolean {
  return NUMBER.test(s);
}

function detectDelimiter(line: string): string {
  for (const d of [',', '\t', ';']) if (line.includes(d)) return d;
  return ',';
}

/** Parses matrix CSV text; `source` names the file in errors. */
export function parseMatrixCsv(text: string, source = 'input'): LabelledMatrix {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  if (lines.length === 0) throw new DataError('the file is empty (no rows)', source);
  const delim = detectDelimiter(lines[0]!);
  const rows = lines.map((l, i) => {
    if (l.trim() === '') throw new DataError('empty line inside the matrix', `${source}:${i + 1}`);
    return splitCsvLine(l, delim, `${source}:${i + 1}`);
  });
  const first = rows[0]!;
  // A header is a row whose fields past the (possibly empty) corner cell are all text; a data row
  // with one bad value (NaN, a typo) must not be mistaken for one.
  const named = (f: string) => f !== '' && !isNumeric(f) && !/^[+-]?(nan|inf(inity)?)$/i.test(f);
  const hasHeader = first.length === 1 ? named(first[0]!) : first.slice(1).every(named);
  const body = hasHeader ? rows.slice(1) : rows;
  const bodyStart = hasHeader ? 2 : 1;
  if (body.length === 0) throw new DataError('no data rows after the header', source);
  const hasLabels = body.some((r) => !isNumeric(r[0] ?? '')) || (hasHeader && first.length === body[0]!.length && first[0] === '');
  const width = body[0]!.length;
  const m = hasLabels ? width - 1 : width;
  if (m < 1) throw new DataError('no numeric columns', `${source}:${bodyStart}`);
  if (hasHeader && first.length !== width && first.length !== m) {
    throw new DataError(`header has ${first.length} fields but the first data row has ${width}`, `${source}:1`);
  }
  const n = body.length;
  const data = new Float64Array(n * m);
  const rowLabels: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = body[i]!;
    const lineNo = i + bodyStart;
    if (r.length !== width) throw new DataError(`ragged row: ${r.length} fields, expected ${width} like the first data row`, `${source}:${lineNo}`);
    if (hasLabels) rowLabels.push(r[0]!);
    for (let j = 0; j < m; j++) {
      const f = r[hasLabels ? j + 1 : j]!;
      const col = (hasLabels ? j + 2 : j + 1);
      if (!isNumeric(f)) {
        const what = /^[+-]?(nan|inf(inity)?)$/i.test(f) ? 'non-finite value' : f === '' ? 'empty field' : 'non-numeric value';
        throw new DataError(`${what} ${JSON.stringify(f)}`, `${source}:${lineNo}, column ${col}`);
      }
      data[i * m + j] = Number(f);
    }
  }
  const result: LabelledMatrix = { matrix: { rows: n, cols: m, data } };
  if (hasHeader) result.colLabels = first.length === width && hasLabels ? first.slice(1) : first.slice(0, m);
  if (hasLabels) result.rowLabels = rowLabels;
  return result;
}

/** Where matrix entry `index` (row-major) stands in the file: `source:line, column c` (1-based, labels counted). */
export function cellWhere(parsed: LabelledMatrix, index: number, source: string): string {
  const i = Math.floor(index / parsed.matrix.cols), j = index % parsed.matrix.cols;
  return `${source}:${i + (parsed.colLabels ? 2 : 1)}, column ${j + (parsed.rowLabels ? 2 : 1)}`;
}

/** Formats a matrix as CSV with optional header and row labels (17 significant digits). */
export function formatMatrixCsv(M: Matrix, colLabels?: string[], rowLabels?: string[]): string {
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const out: string[] = [];
  if (colLabels) out.push([...(rowLabels ? [''] : []), ...colLabels].map(q).join(','));
  for (let i = 0; i < M.rows; i++) {
    const vals: string[] = rowLabels ? [q(rowLabels[i] ?? String(i))] : [];
    for (let j = 0; j < M.cols; j++) vals.push(String(M.data[i * M.cols + j]));
    out.push(vals.join(','));
  }
  return out.join('\n') + '\n';
}
