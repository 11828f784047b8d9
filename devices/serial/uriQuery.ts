/** The query of a serial source URI (`cyton:/dev/x?daisy=1&…`), shared by the Cyton and lines parsers. */
import { InvalidOptionError } from '../../src/errors.js';

/** The `key=value` parts of `query`, percent-decoded, in order; a key given twice is an InvalidOptionError naming it. */
export function uniqueQueryParts(owner: string, query: string): [key: string, value: string][] {
  const out: [string, string][] = [];
  const seen = new Set<string>();
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
    if (seen.has(key)) throw new InvalidOptionError(owner, key, 'given once', value);
    seen.add(key);
    out.push([key, value]);
  }
  return out;
}
