/** Internal: how the frames module quotes a bad value in an error message. */

/** A short description of a bad value for messages: JSON for plain values, the type otherwise. */
export function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'number') return String(v); // NaN and Infinity, which JSON would turn into null
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (typeof v === 'object' && v !== null) return ArrayBuffer.isView(v) ? `a ${v.constructor.name}` : 'an object';
  return String(v);
}

/** The JSON-ish type of a value with its article ('a string', 'an array', 'null'), for messages. */
export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  const t = typeof v;
  return t === 'object' || t === 'undefined' ? `an ${t}` : `a ${t}`;
}
