/**
 * Which worker owns which stream: rendezvous (highest-random-weight) hashing. Every worker that
 * sees the same member list computes the same owner for every stream without talking to the
 * others, and when a worker joins or leaves only the streams it gains or loses move (about 1/k of
 * them), which is what keeps a handover cheap.
 */
import { createHash } from 'node:crypto';

/** The weight of (worker, stream): 48 bits of SHA-256, so ties are practically impossible and never depend on order. */
export function rendezvousWeight(worker: string, stream: string): number {
  const h = createHash('sha256').update(worker).update('\0').update(stream).digest();
  return h.readUIntBE(0, 6);
}

/** The owner of `stream` among `workers` (the highest weight; ties broken by the smaller id), or undefined with no workers. */
export function ownerOf(stream: string, workers: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestWeight = -1;
  for (const w of workers) {
    const weight = rendezvousWeight(w, stream);
    if (weight > bestWeight || (weight === bestWeight && best !== undefined && w < best)) {
      best = w;
      bestWeight = weight;
    }
  }
  return best;
}

/** Every stream's owner: worker id → its streams, sorted (workers without streams included). */
export function assignStreams(streams: Iterable<string>, workers: Iterable<string>): Map<string, string[]> {
  const ws = [...new Set(workers)].sort();
  const out = new Map<string, string[]>(ws.map((w) => [w, []]));
  for (const s of [...new Set(streams)].sort()) {
    const owner = ownerOf(s, ws);
    if (owner !== undefined) out.get(owner)!.push(s);
  }
  return out;
}
