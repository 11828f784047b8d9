/**
 * The per-stream checkpoint workers hand a stream over with: retained (QoS 1) on
 * `<coordination>/checkpoints/<stream>`, so any worker on any machine reads it from the broker.
 * It is also the stream's lock: `owner` says who runs the stream, `released` that it stopped
 * cleanly after its last frame, so the next owner may start at `lastSeq + 1` with this model.
 */
import { DataError } from '../../src/errors.js';
import type { OnlineNmfState } from '../../src/factorize/online/nmf.js';

/** One stream's checkpoint (module header). */
export interface StreamCheckpoint {
  readonly format: 'cfstream-stream-checkpoint';
  readonly version: 1;
  readonly stream: string;
  /** The worker that runs (or last ran) the stream. */
  readonly owner: string;
  /** True when the owner stopped cleanly: every frame up to lastSeq is in `model`. */
  readonly released: boolean;
  readonly savedAt: string;
  /** The last frame seq the model has seen (−1: none). */
  readonly lastSeq: number;
  /** The last published factors' index (the next owner continues after it). */
  readonly index: number;
  /** The online NMF model's state, or null before it saw a frame. */
  readonly model: OnlineNmfState | null;
}

/** Serialises a checkpoint. */
export function encodeCheckpoint(c: Omit<StreamCheckpoint, 'format' | 'version' | 'savedAt'>): string {
  const full: StreamCheckpoint = { format: 'cfstream-stream-checkpoint', version: 1, savedAt: new Date().toISOString(), ...c };
  return JSON.stringify(full);
}

/**
 * Parses a retained checkpoint; an empty payload (a cleared topic) is undefined.
 * @throws DataError naming the topic and the bad field
 */
export function decodeCheckpoint(payload: Uint8Array, topic: string): StreamCheckpoint | undefined {
  if (payload.length === 0) return undefined;
  const where = `checkpoint on ${topic}`;
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new DataError(`${where}: not JSON (${(e as Error).message})`);
  }
  if (typeof o !== 'object' || o === null) throw new DataError(`${where}: not a JSON object`);
  if (o.format !== 'cfstream-stream-checkpoint') throw new DataError(`${where}: format ${JSON.stringify(o.format)} is not 'cfstream-stream-checkpoint'`);
  if (o.version !== 1) throw new DataError(`${where}: version ${JSON.stringify(o.version)} is not 1`);
  for (const k of ['stream', 'owner', 'savedAt'] as const) if (typeof o[k] !== 'string') throw new DataError(`${where}: field ${k} is not a string`);
  if (typeof o.released !== 'boolean') throw new DataError(`${where}: field released is not true or false`);
  if (!Number.isSafeInteger(o.lastSeq) || (o.lastSeq as number) < -1) throw new DataError(`${where}: field lastSeq is not an integer ≥ −1`);
  if (!Number.isSafeInteger(o.index) || (o.index as number) < 0) throw new DataError(`${where}: field index is not an integer ≥ 0`);
  if (o.model !== null && (typeof o.model !== 'object' || (o.model as { kind?: unknown }).kind !== 'OnlineNMF')) throw new DataError(`${where}: field model is neither null nor an OnlineNMF state`);
  return o as unknown as StreamCheckpoint;
}
