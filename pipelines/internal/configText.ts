/**
 * The text side of config checking (config.ts): YAML parsing with positions, paths as text, and
 * issues located at a line and column. Nothing here knows the schema or the stages.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { ConfigError, type ConfigIssue } from '../../src/errors.js';

/** A path into a config: ['stages', 2, 'rank']. */
export type ConfigPath = readonly (string | number)[];

/** 1-based line and column of a path in the source, at its key or its value. */
export type Locator = (path: ConfigPath, at: 'key' | 'value') => { line: number; column: number } | undefined;

/** How a bad value is quoted in a problem (as src/errors.ts quotes option values). */
export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'a mapping' : String(v);
}

/** 'projection.d' → ['projection', 'd']; 'labels[3]' → ['labels', 3]. */
export function splitPath(text: string): ConfigPath {
  return text.split(/[.[\]]/).filter((s) => s !== '').map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** A path as text: ['stages', 2, 'rank'] → "stages[2].rank". */
export function formatConfigPath(path: ConfigPath): string {
  let out = '';
  for (const seg of path) out = typeof seg === 'number' ? `${out}[${seg}]` : out ? `${out}.${seg}` : seg;
  return out;
}

/** An issue at `path`, with its line and column when the source is known. */
export function issueAt(path: ConfigPath, problem: string, locate: Locator | undefined, at: 'key' | 'value' = 'value'): ConfigIssue {
  const pos = locate?.(path, at);
  return pos ? { path: formatConfigPath(path), line: pos.line, column: pos.column, problem } : { path: formatConfigPath(path), problem };
}

/** In the order of the file (a stable sort; issues without a line keep their place at the end). */
export function byPosition(issues: ConfigIssue[]): ConfigIssue[] {
  const key = (i: ConfigIssue): number => (i.line === undefined ? Infinity : i.line * 1e6 + (i.column ?? 0));
  return [...issues].sort((a, b) => key(a) - key(b));
}

/** Parses YAML text; syntax errors become a ConfigError with line and column. */
export function parseYaml(text: string, source: string): { data: unknown; locate: Locator } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(source, doc.errors.map((e) => {
      const { line, col } = lineCounter.linePos(e.pos[0]);
      return { path: '', line, column: col, problem: `YAML: ${e.message}` };
    }));
  }
  const locate: Locator = (path, at) => {
    // Walk as far as the document goes: a missing key points at its parent mapping.
    let node: unknown = doc.contents;
    let offset = (doc.contents as { range?: [number, number, number] } | null)?.range?.[0];
    for (let i = 0; i < path.length; i++) {
      const seg = path[i]!;
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        const keyAt = isScalar(pair.key) ? pair.key.range?.[0] : undefined;
        const valueAt = (pair.value as { range?: [number, number, number] } | null)?.range?.[0];
        offset = (at === 'key' && i === path.length - 1) || valueAt === undefined ? keyAt : valueAt;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number' && node.items[seg] !== undefined) {
        node = node.items[seg];
        offset = (node as { range?: [number, number, number] }).range?.[0] ?? offset;
      } else {
        break;
      }
    }
    if (offset === undefined) return undefined;
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    throw new ConfigError(source, [{ path: '', problem: `YAML: ${e instanceof Error ? e.message : String(e)}` }]);
  }
  return { data, locate };
}
