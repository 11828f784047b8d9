/** Output helpers: JSON on stdout, tables for people, numbers rounded for reading. */

/** Prints one JSON document on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
}

/** Formats a number with `digits` decimals ('—' for null/NaN). */
export function fmt(v: number | null | undefined, digits = 3): string {
  return v === null || v === undefined || Number.isNaN(v) ? '—' : v.toFixed(digits);
}

/** Renders rows as an aligned text table (Markdown-compatible). */
export function table(header: string[], rows: string[][], minWidth = 0): string {
  const w = header.map((h, i) => Math.max(h.length, minWidth, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padStart(w[i]!)).join(' | ') + ' |';
  return [line(header), '|' + w.map((x) => '-'.repeat(x + 2)).join('|') + '|', ...rows.map(line)].join('\n');
}
