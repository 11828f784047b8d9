// @ts-check
/**
 * Checks of the MQTT payloads the dashboard reads (ARCHITECTURE.md "MQTT topics"): each returns
 * the fields the page uses, or throws `MalformedError` saying what was wrong, so the caller can
 * ignore the message, count it and show why. Pure functions, no DOM.
 *
 * ```
 * <prefix>/<stream>/info     StreamInfo JSON           checkInfo
 * <prefix>/<stream>/status   'online' | 'stale' | 'offline' checkStatus
 * <prefix>/<stream>/factors  FactorsMessage JSON       checkFactors (+ optional trueError)
 * <prefix>/<stream>/metrics  MetricsSnapshot JSON      checkMetrics
 * ```
 *
 * NaN and ±Infinity arrive as JSON null (JSON.stringify), so scalar measurements may be null;
 * the entries of W may not.
 */

/** A payload the page cannot use; the message names the field. */
export class MalformedError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'MalformedError';
  }
}

/**
 * @typedef {object} StreamInfoView
 * @property {string} id
 * @property {string} kind
 * @property {number} n
 * @property {number | null} rate
 * @property {string | null} units
 * @property {number | null} labels  how many labels there are
 * @property {{ ensemble: string, d: number | null, p: number | null } | null} projection
 */

/**
 * @typedef {object} QualityView
 * @property {number | null} heldOutError
 * @property {number | null} compressedError
 * @property {number | null} frames
 * @property {number | null} rows
 */

/**
 * @typedef {object} FactorsView
 * @property {number} seq
 * @property {number} t
 * @property {number} n
 * @property {number | null} d
 * @property {number} rank
 * @property {number[][]} W             rank columns of length n
 * @property {number | null} error      the recovery residual
 * @property {number} index
 * @property {QualityView | null} quality
 * @property {number | null} trueError  optional field (simulators): the matched error of W against the true factors, unit-norm columns
 * @property {number | null} framesSeen
 * @property {number | null} seconds
 */

/**
 * @typedef {object} MetricsView
 * @property {number | null} at
 * @property {number | null} framesPerSecond
 * @property {number | null} framesTotal
 * @property {number} gaps
 * @property {number | null} lost
 * @property {number} rejects
 * @property {number | null} p50
 * @property {number | null} p99
 * @property {number | null} queueDepth
 * @property {number | null} queueCapacity
 * @property {number | null} skipped
 * @property {number | null} failures
 */

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a payload as UTF-8 text.
 * @param {Uint8Array} payload
 * @returns {string}
 */
export function decodeText(payload) {
  try {
    return utf8.decode(payload);
  } catch {
    throw new MalformedError('not UTF-8 text');
  }
}

/**
 * Parses JSON text into a plain object.
 * @param {string} text
 * @returns {Record<string, unknown>}
 */
export function parseObject(text) {
  /** @type {unknown} */
  let v;
  try {
    v = JSON.parse(text);
  } catch {
    throw new MalformedError(`not JSON: ${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new MalformedError(`not a JSON object: ${Array.isArray(v) ? 'an array' : String(v)}`);
  return /** @type {Record<string, unknown>} */ (v);
}

/**
 * @param {Record<string, unknown>} o
 * @param {string} key
 * @returns {number}
 */
function num(o, key) {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new MalformedError(`${key} is ${describe(v)}, expected a number`);
  return v;
}

/**
 * @param {Record<string, unknown>} o
 * @param {string} key
 * @param {number} min
 * @returns {number}
 */
function int(o, key, min) {
  const v = num(o, key);
  if (!Number.isInteger(v) || v < min) throw new MalformedError(`${key} is ${v}, expected an integer ≥ ${min}`);
  return v;
}

/**
 * A number, or null when absent or null (NaN and ±Infinity serialise as null).
 * @param {Record<string, unknown>} o
 * @param {string} key
 * @returns {number | null}
 */
function numOrNull(o, key) {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number') throw new MalformedError(`${key} is ${describe(v)}, expected a number or null`);
  return v;
}

/**
 * @param {Record<string, unknown>} o
 * @param {string} key
 * @returns {Record<string, unknown> | null}
 */
function objOrNull(o, key) {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw new MalformedError(`${key} is ${describe(v)}, expected an object or null`);
  return /** @type {Record<string, unknown>} */ (v);
}

/** @param {unknown} v */
function describe(v) {
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'string') return JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…` : v);
  if (typeof v === 'object' && v !== null) return 'an object';
  return String(v);
}

/**
 * Checks a retained status payload.
 * @param {string} text
 * @returns {'online' | 'stale' | 'offline'}
 */
export function checkStatus(text) {
  const s = text.trim();
  if (s !== 'online' && s !== 'stale' && s !== 'offline') throw new MalformedError(`status is ${describe(s)}, expected "online", "stale" or "offline"`);
  return s;
}

/**
 * Checks a StreamInfo.
 * @param {Record<string, unknown>} o
 * @returns {StreamInfoView}
 */
export function checkInfo(o) {
  const id = o.id;
  if (typeof id !== 'string' || id === '') throw new MalformedError(`id is ${describe(id)}, expected a non-empty string`);
  const kind = o.kind;
  if (kind !== 'raw' && kind !== 'compressed') throw new MalformedError(`kind is ${describe(kind)}, expected "raw" or "compressed"`);
  const n = int(o, 'n', 1);
  const units = typeof o.units === 'string' ? o.units : null;
  const labels = Array.isArray(o.labels) ? o.labels.length : null;
  const p = objOrNull(o, 'projection');
  const projection = p ? { ensemble: String(p.ensemble ?? '?'), d: numOrNull(p, 'd'), p: numOrNull(p, 'p') } : null;
  return { id, kind, n, rate: numOrNull(o, 'rate'), units, labels, projection };
}

/**
 * Checks a FactorsMessage: `W` must be `rank` arrays of `n` numbers.
 * @param {Record<string, unknown>} o
 * @returns {FactorsView}
 */
export function checkFactors(o) {
  const n = int(o, 'n', 1);
  const rank = int(o, 'rank', 1);
  const W = o.W;
  if (!Array.isArray(W) || W.length !== rank) throw new MalformedError(`W is ${describe(W)}, expected rank = ${rank} arrays`);
  for (let c = 0; c < rank; c++) {
    const col = W[c];
    if (!Array.isArray(col) || col.length !== n) throw new MalformedError(`W[${c}] is ${describe(col)}, expected n = ${n} numbers`);
    for (let i = 0; i < n; i++) {
      if (typeof col[i] !== 'number') throw new MalformedError(`W[${c}][${i}] is ${describe(col[i])}, expected a number`);
    }
  }
  const q = objOrNull(o, 'quality');
  const quality = q
    ? { heldOutError: numOrNull(q, 'heldOutError'), compressedError: numOrNull(q, 'compressedError'), frames: numOrNull(q, 'frames'), rows: numOrNull(q, 'rows') }
    : null;
  return {
    seq: num(o, 'seq'), t: num(o, 't'), n, d: numOrNull(o, 'd'), rank, W: /** @type {number[][]} */ (W),
    error: numOrNull(o, 'error'), index: int(o, 'index', 0), quality, trueError: numOrNull(o, 'trueError'),
    framesSeen: numOrNull(o, 'framesSeen'), seconds: numOrNull(o, 'seconds'),
  };
}

/**
 * Checks an ActivationsMessage `{seq, t, rank, h}`: `h` is `rank` numbers (or one such array per
 * frame of a block, averaged here).
 * @param {Record<string, unknown>} o
 * @returns {{ seq: number, t: number, rank: number, h: number[] }}
 */
export function checkActivations(o) {
  const rank = int(o, 'rank', 1);
  const h = o.h;
  /** @param {unknown} row */
  const isRow = (row) => Array.isArray(row) && row.length === rank && row.every((v) => typeof v === 'number');
  if (isRow(h)) return { seq: num(o, 'seq'), t: num(o, 't'), rank, h: /** @type {number[]} */ (h) };
  if (Array.isArray(h) && h.length > 0 && h.every(isRow)) {
    const rows = /** @type {number[][]} */ (h);
    const mean = Array.from({ length: rank }, (_, c) => rows.reduce((s, row) => s + /** @type {number} */ (row[c]), 0) / rows.length);
    return { seq: num(o, 'seq'), t: num(o, 't'), rank, h: mean };
  }
  throw new MalformedError(`h is ${describe(h)}, expected rank = ${rank} numbers (or arrays of them)`);
}

/**
 * Checks a MetricsSnapshot.
 * @param {Record<string, unknown>} o
 * @returns {MetricsView}
 */
export function checkMetrics(o) {
  if (!('framesPerSecond' in o)) throw new MalformedError('framesPerSecond is missing');
  const latency = objOrNull(o, 'latencyMs');
  if (!latency) throw new MalformedError('latencyMs is missing, expected {p50, p99, …}');
  return {
    at: numOrNull(o, 'at'), framesPerSecond: numOrNull(o, 'framesPerSecond'), framesTotal: numOrNull(o, 'framesTotal'),
    gaps: num(o, 'gaps'), lost: numOrNull(o, 'lost'), rejects: num(o, 'rejects'),
    p50: numOrNull(latency, 'p50'), p99: numOrNull(latency, 'p99'),
    queueDepth: numOrNull(o, 'queueDepth'), queueCapacity: numOrNull(o, 'queueCapacity'),
    skipped: numOrNull(o, 'skipped'), failures: numOrNull(o, 'failures'),
  };
}
