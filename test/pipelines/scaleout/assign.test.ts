import { describe, expect, it } from 'vitest';
import { assignStreams, ownerOf, rendezvousWeight } from '../../../pipelines/scaleout/assign.js';

const streams = Array.from({ length: 1000 }, (_, i) => `dev${i}`);

describe('rendezvous assignment', () => {
  it('gives every stream exactly one owner, whatever order the workers are listed in', () => {
    const a = assignStreams(streams, ['w1', 'w2', 'w3']);
    const b = assignStreams([...streams].reverse(), ['w3', 'w1', 'w2', 'w1']);
    expect(a).toEqual(b);
    const all = [...a.values()].flat();
    expect(all.length).toBe(streams.length);
    expect(new Set(all).size).toBe(streams.length);
  });

  it('spreads streams roughly evenly (each of 4 workers within 20% of 250 of 1000)', () => {
    const a = assignStreams(streams, ['a', 'b', 'c', 'd']);
    for (const list of a.values()) expect(Math.abs(list.length - 250)).toBeLessThan(50);
  });

  it('moves only the leaving worker\'s streams when one leaves, and only streams to the newcomer when one joins', () => {
    const before = new Map(streams.map((s) => [s, ownerOf(s, ['a', 'b', 'c'])]));
    const after = new Map(streams.map((s) => [s, ownerOf(s, ['a', 'c'])]));
    for (const s of streams) if (before.get(s) !== 'b') expect(after.get(s)).toBe(before.get(s));
    const joined = new Map(streams.map((s) => [s, ownerOf(s, ['a', 'b', 'c', 'd'])]));
    let moved = 0;
    for (const s of streams) {
      if (joined.get(s) !== before.get(s)) { expect(joined.get(s)).toBe('d'); moved++; }
    }
    expect(moved).toBeGreaterThan(150);
    expect(moved).toBeLessThan(350);
  });

  it('has no owner without workers, and weights that depend on both ids', () => {
    expect(ownerOf('s', [])).toBeUndefined();
    expect(rendezvousWeight('a', 'b')).not.toBe(rendezvousWeight('b', 'a'));
    expect(rendezvousWeight('ab', 'c')).not.toBe(rendezvousWeight('a', 'bc'));
  });
});
