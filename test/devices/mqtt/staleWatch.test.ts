import { VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { StaleWatch } from '../../../devices/mqtt/staleWatch.js';

/** Runs the virtual clock up to `t` ms. */
function runTo(s: VirtualTimeScheduler, t: number): void {
  s.maxFrames = t;
  s.flush();
  s.frame = t;
}

describe('StaleWatch', () => {
  it('says stale once per silence, fresh with the next message, and measures both silences', () => {
    const s = new VirtualTimeScheduler();
    const seen: string[] = [];
    const w = new StaleWatch(100, { stale: (ms) => seen.push(`stale ${ms}`), fresh: (ms) => seen.push(`fresh ${ms}`) }, s);
    runTo(s, 60);
    w.alive(); // at 60: the check at 100 re-arms for 60 + 100
    runTo(s, 159);
    expect(seen).toEqual([]);
    runTo(s, 400);
    expect(seen).toEqual(['stale 100']); // once, not every 100 ms
    expect(w.stale).toBe(true);
    w.alive();
    expect(seen).toEqual(['stale 100', 'fresh 340']);
    expect(w.stale).toBe(false);
    w.stop();
    runTo(s, 1000);
    expect(seen).toHaveLength(2);
  });

  it('with 0 never says stale', () => {
    const s = new VirtualTimeScheduler();
    const seen: number[] = [];
    new StaleWatch(0, { stale: (ms) => seen.push(ms), fresh: () => undefined }, s);
    runTo(s, 10_000);
    expect(seen).toEqual([]);
  });
});
