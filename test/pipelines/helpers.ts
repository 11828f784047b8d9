/** Shared fixtures of the pipeline tests: a marble TestScheduler wired to vitest, frames, streams. */
import { expect } from 'vitest';
import { TestScheduler } from 'rxjs/testing';
import type { Frame, StreamInfo } from '../../src/frames/index.js';
import type { PipelineEvent } from '../../pipelines/index.js';

/** A fresh TestScheduler whose assertions are vitest deep equality. */
export function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** A compressed stream of frames of length d = 4 (n = 12). */
export const INFO4: StreamInfo = {
  id: 'cs', kind: 'compressed', n: 12, rate: 100,
  projection: { ensemble: 'sparse-binary', n: 12, d: 4, p: 2, seed: 3 },
};

/** A frame of INFO4's length with values seq + 0.1·i (or the given values). */
export function frame(seq: number, values?: number[]): Frame {
  const v = values ?? [0, 1, 2, 3].map((i) => seq + 0.1 * i);
  return { seq, t: seq / 100, values: Float64Array.from(v) };
}

/** A letter → frame map for marbles: 'a' → seq 1, 'b' → seq 2, … */
export function frames(letters: string): Record<string, Frame> {
  const out: Record<string, Frame> = {};
  for (const ch of letters) out[ch] = frame(ch.charCodeAt(0) - 96);
  return out;
}

/** A sink collecting the side channel's events. */
export function eventLog(): { events: PipelineEvent[]; onEvent: (e: PipelineEvent) => void } {
  const events: PipelineEvent[] = [];
  return { events, onEvent: (e) => events.push(e) };
}
