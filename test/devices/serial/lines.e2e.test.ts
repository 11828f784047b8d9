/**
 * End to end over a real socat pty pair: VirtualLines (an Arduino-style sensor printing lines) on
 * one end, linesSource (serialport + SerialLink + LineParser) on the other. Rates are raised to
 * 500–1000 lines/s to keep the file short; every check is exact.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Subscription } from 'rxjs';
import { LinesError, linesSource, type LinesEvent, type LinesFrame, type LinesSource } from '../../../devices/serial/lines.js';
import { lineExcerpt } from '../../../devices/serial/lineParser.js';
import { VirtualLines, type VirtualLinesOptions, type VirtualLinesSignal } from '../../../simulators/virtualLines.js';
import { describeWithSocat, PtyPair, until } from './ptyPair.js';

const verbose = (...a: unknown[]) => process.env.LINES_E2E_VERBOSE && console.log(...a);

/** One sensor, one source, everything they report. */
interface Rig {
  pty: PtyPair;
  sensor: VirtualLines;
  source: LinesSource;
  frames: LinesFrame[];
  events: LinesEvent[];
  /** For each event, how many frames had arrived before it. */
  eventAt: number[];
  errors: unknown[];
  sub: Subscription;
}

let rig: Rig | undefined;

/** Opens the source first (so that it sees the sensor's first line), then starts the sensor. */
async function setup(sensor: Omit<VirtualLinesOptions, 'path'>, uriQuery: string, overrides: Parameters<typeof linesSource>[1] = {}): Promise<Rig> {
  const pty = new PtyPair();
  await pty.start();
  const source = linesSource(`lines:${pty.host}?${uriQuery}`, overrides);
  const frames: LinesFrame[] = [];
  const events: LinesEvent[] = [];
  const errors: unknown[] = [];
  const eventAt: number[] = [];
  source.events$.subscribe((e) => {
    events.push(e);
    eventAt.push(frames.length);
  });
  const sub = source.frames$.subscribe({ next: (f) => frames.push(f), error: (e) => errors.push(e) });
  await until(() => events.some((e) => e.type === 'connect'), 3000, 'the source to open the port');
  const vs = await VirtualLines.start({ reopenMs: 20, ...sensor, path: pty.board });
  rig = { pty, sensor: vs, source, frames, events, eventAt, errors, sub };
  return rig;
}

afterEach(async () => {
  if (!rig) return;
  rig.sub.unsubscribe();
  await rig.sensor.close();
  await rig.pty.close();
  rig = undefined;
});

/** Frames whose values differ from the sensor's line j(f). */
function mismatches(frames: LinesFrame[], signal: VirtualLinesSignal, j: (f: LinesFrame) => number): string[] {
  const bad: string[] = [];
  for (const f of frames) {
    const want = Array.from({ length: signal.columns }, (_, c) => signal.value(c, j(f)));
    if (want.some((v, c) => f.values[c] !== v)) bad.push(`seq ${f.seq} (line j = ${j(f)}): got ${[...f.values]} want ${want}`);
  }
  return bad;
}

/** The sensor line j whose values are exactly those of `f`, searched in [from, from + span). */
function findLine(f: LinesFrame, signal: VirtualLinesSignal, from: number, span: number): number {
  for (let j = from; j < from + span; j++) if ([...f.values].every((v, c) => v === signal.value(c, j))) return j;
  return -1;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const ofType = <T extends LinesEvent['type']>(events: LinesEvent[], type: T) => events.filter((e): e is Extract<LinesEvent, { type: T }> => e.type === type);

describeWithSocat('lines e2e over a socat pty pair', () => {
  beforeEach(() => {
    rig = undefined;
  });

  it('exact values and t = seq / rate; the header; every bad line counted once with its reason, line number and excerpt', async () => {
    const r = await setup({ columns: 4, rate: 1000, seed: 3, badEvery: 7 }, 'columns=4&rate=1000');
    await until(() => r.frames.length >= 700, 5000, '700 frames');
    r.sub.unsubscribe();
    const { frames, events } = r;
    const n = frames.length;
    const last = frames[n - 1]!.seq;
    // Nothing lost: frame k is sensor line k, with its exact values, on the 1000 Hz grid.
    expect(frames.map((f) => f.seq)).toEqual(range(n));
    expect(mismatches(frames, r.sensor.signal, (f) => f.seq)).toEqual([]);
    for (const f of frames) {
      expect(f.t).toBe(f.seq / 1000);
      expect(f.values).toBeInstanceOf(Float64Array);
      // Line 1 is the header; a bad line follows every 7th good line.
      expect(f.line).toBe(2 + f.seq + Math.floor(f.seq / 7));
    }
    expect(ofType(events, 'header')).toEqual([{ type: 'header', labels: ['ch1', 'ch2', 'ch3', 'ch4'], line: 1, message: 'line 1: labels ch1, ch2, ch3, ch4' }]);
    // The rejects reported before the last frame are exactly the bad lines sent before it, in order.
    const bad = r.sensor.stats().bad.filter((b) => b.after < last);
    const rejects = events.filter((e, i): e is Extract<LinesEvent, { type: 'reject' }> => e.type === 'reject' && r.eventAt[i]! < n);
    expect(bad.length).toBeGreaterThanOrEqual(99);
    expect(new Set(bad.map((b) => b.kind))).toEqual(new Set(['not-numeric', 'column-count', 'not-text', 'overlong']));
    expect(rejects.map((e) => [e.reason, e.line, e.excerpt])).toEqual(bad.map((b) => [b.kind, 2 + b.after + Math.floor(b.after / 7) + 1, lineExcerpt(b.head)]));
    const s = r.source.stats();
    const counted = Object.fromEntries(['not-numeric', 'column-count', 'not-text', 'overlong'].map((k) => [k, bad.filter((b) => b.kind === k).length]));
    expect(Object.fromEntries(Object.keys(counted).map((k) => [k, rejects.filter((e) => e.reason === k).length]))).toEqual(counted);
    expect(s.rejects.truncated).toBe(0);
    expect(s).toMatchObject({ frames: n, connects: 1, disconnects: 0, headers: 1, labels: ['ch1', 'ch2', 'ch3', 'ch4'], estimatedLost: 0 });
    expect(r.source.info).toEqual({ id: `lines:${r.pty.host}`, kind: 'raw', n: 4, rate: 1000 });
    verbose('lines', n, 'frames', bad.length, 'bad lines', s.rejects, 'bytes', s.bytes);
  });

  it('reconnects after the ptys disappear (socat killed) and come back: the device time column says exactly how many lines were missed', async () => {
    // serialport does not always notice a pty vanishing: the stall watchdog is the safety net, so keep it short.
    const r = await setup({ columns: 3, rate: 500, seed: 4, time: 'ms' }, 'columns=3&rate=500&time=first&timeUnit=ms', {
      reconnectDelayMs: 50, reconnectMaxDelayMs: 200, stallTimeoutMs: 300,
    });
    const jOf = (f: LinesFrame) => Math.round(f.t * 500);
    await until(() => r.frames.length >= 200, 4000, '200 frames');
    await r.pty.kill();
    const killedAt = performance.now();
    await until(() => r.events.some((e) => e.type === 'disconnect'), 2000, 'a disconnect event');
    const before = r.frames.length;
    await new Promise((res) => setTimeout(res, 300));
    expect(r.frames.length).toBe(before);
    await r.pty.start();
    const restartedAt = performance.now();
    await until(() => r.frames.length >= before + 200, 5000, '200 frames after the restart');
    const resumedMs = r.frames[before]!.hostT * 1000 - (performance.timeOrigin + restartedAt);
    verbose('reconnect: resumed', resumedMs.toFixed(0), 'ms after socat restart,', (restartedAt - killedAt).toFixed(0), 'ms down', r.events.filter((e) => e.type !== 'reject').map((e) => JSON.stringify(e)));
    expect(resumedMs).toBeLessThan(1500);

    // Every frame is the sensor's line j = t · rate, exactly; t is the printed millisecond count.
    expect(mismatches(r.frames, r.sensor.signal, jOf)).toEqual([]);
    for (const f of r.frames) expect(f.t).toBe(Number(String((jOf(f) * 1000) / 500)) * 1e-3);
    const js = r.frames.map(jOf);
    expect(js.slice(0, before)).toEqual(range(before));
    const j0 = js[before]!;
    expect(js.slice(before)).toEqual(range(js.length - before).map((k) => j0 + k));
    // seq counts lines received; the resume event names the gap the time column shows.
    expect(r.frames.map((f) => f.seq)).toEqual(range(r.frames.length));
    const resume = ofType(r.events, 'resume');
    expect(resume).toHaveLength(1);
    expect(resume[0]).toMatchObject({ seq: before, t: r.frames[before]!.t, clock: 'device', estimatedLost: j0 - js[before - 1]! - 1 });
    expect(resume[0]!.estimatedLost).toBeGreaterThan(0.3 * 500); // the link was down > 300 ms

    const s = r.source.stats();
    expect(s).toMatchObject({ connects: 2, disconnects: 1, estimatedLost: resume[0]!.estimatedLost });
    expect(s.reconnectAttempts).toBeGreaterThanOrEqual(1);
    expect(ofType(r.events, 'disconnect')[0]).toMatchObject({ reason: expect.stringMatching(/closed|error|stall/) });
    expect(ofType(r.events, 'connect').map((e) => e.attempt)[0]).toBe(0);
    expect(ofType(r.events, 'connect')[1]!.attempt).toBeGreaterThanOrEqual(1);
    // The sensor printed its header on each open (the second one is seen only if the source was
    // open before the sensor: serialport flushes what came before). Only a line cut off by the kill
    // (truncated) and the first line of the new connection (partial) may be rejected.
    expect(r.sensor.stats().opens).toBe(2);
    const headers = ofType(r.events, 'header').map((e) => e.labels);
    expect(headers.slice(0, 1)).toEqual([['ch1', 'ch2', 'ch3']]);
    expect(headers.every((h) => h.join() === 'ch1,ch2,ch3') && headers.length <= 2).toBe(true);
    const rejected = ofType(r.events, 'reject').map((e) => e.reason);
    expect(rejected.filter((x) => x !== 'truncated' && x !== 'partial')).toEqual([]);
    expect(rejected.filter((x) => x === 'partial').length + headers.length).toBe(2); // the new connection's first line
    verbose('rejects around the reconnect', rejected);
  });

  it('a sensor that goes silent is caught by the stall watchdog; without a time column seq jumps by the host-clock estimate', async () => {
    const r = await setup({ columns: 3, rate: 500, seed: 8, separator: 'tab', eol: '\n' }, 'columns=3&rate=500', {
      stallTimeoutMs: 150, reconnectDelayMs: 50, reconnectMaxDelayMs: 100,
    });
    await until(() => r.frames.length >= 100, 4000, '100 frames');
    const downAt = r.sensor.stats().sent;
    await r.sensor.disconnect(400);
    await until(() => r.events.some((e) => e.type === 'disconnect'), 2000, 'a stall disconnect');
    expect(ofType(r.events, 'disconnect')[0]).toMatchObject({ reason: 'stall', message: 'no data for 150 ms' });
    const before = r.frames.length;
    await until(() => r.frames.length >= before + 100, 5000, '100 frames after the sensor came back');
    expect(mismatches(r.frames.slice(0, before), r.sensor.signal, (f) => f.seq)).toEqual([]);
    const resume = ofType(r.events, 'resume');
    expect(resume).toHaveLength(1);
    expect(resume[0]).toMatchObject({ clock: 'host', seq: r.frames[before]!.seq, t: r.frames[before]!.seq / 500 });
    expect(resume[0]!.seq - r.frames[before - 1]!.seq).toBe(resume[0]!.estimatedLost + 1);
    // The lines after the gap are the sensor's, exact, at the offset the host clock estimated.
    const j0 = findLine(r.frames[before]!, r.sensor.signal, downAt, 5000);
    expect(j0).toBeGreaterThan(r.frames[before - 1]!.seq);
    expect(mismatches(r.frames.slice(before), r.sensor.signal, (f) => j0 + f.seq - resume[0]!.seq)).toEqual([]);
    const error = resume[0]!.seq - j0;
    verbose('host-clock estimate: seq', resume[0]!.seq, 'true line', j0, 'error', error, 'lines');
    expect(Math.abs(error)).toBeLessThanOrEqual(50); // 100 ms at 500 lines/s
    for (let i = 1; i < r.frames.length; i++) expect(r.frames[i]!.t).toBeGreaterThan(r.frames[i - 1]!.t);
    expect(r.sensor.stats().opens).toBe(2);
  });

  it('errors frames$ with a LinesError when reconnecting is off and the port vanishes; warns when the header disagrees with labels', async () => {
    const r = await setup({ columns: 2, rate: 500 }, 'columns=2&rate=500&labels=x,y&id=probe', { reconnectDelayMs: 0, stallTimeoutMs: 300 });
    await until(() => r.frames.length >= 20, 4000, '20 frames');
    expect(r.source.info).toEqual({ id: 'probe', kind: 'raw', n: 2, rate: 500, labels: ['x', 'y'] });
    expect(ofType(r.events, 'warning')).toEqual([
      { type: 'warning', path: r.pty.host, message: "the device's header (ch1, ch2) differs from the labels option (x, y): info.labels keeps the option's" },
    ]);
    await r.pty.kill();
    await until(() => r.errors.length > 0, 2000, 'frames$ to error');
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toBeInstanceOf(LinesError);
    expect(r.errors[0]).toMatchObject({ path: r.pty.host, stage: 'stream' });
    expect(String(r.errors[0])).toMatch(new RegExp(`^LinesError: lines ${r.pty.host}: stream: (closed|error|stall): .*\\(reconnecting is off\\)$`));
    expect(ofType(r.events, 'reconnect')).toEqual([]);
  });
});
