/**
 * End to end over a real socat pty pair: VirtualCyton (wire protocol) on one end, cytonSource
 * (serialport + CytonParser) on the other. Rates are raised to 1000–2000 packets/s to keep the file
 * short; `seq` still advances by one per board sample, so the checks are exact.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Subscription } from 'rxjs';
import { CytonError, cytonSource, type CytonEvent, type CytonFrame, type CytonSource } from '../../../devices/serial/cyton.js';
import { cytonMicrovoltsPerCount } from '../../../devices/serial/cytonPacket.js';
import { VirtualCyton, type VirtualCytonOptions, type VirtualCytonSignal } from '../../../simulators/virtualCyton.js';
import { describeWithSocat, PtyPair, until } from './ptyPair.js';

const SCALE = cytonMicrovoltsPerCount(24);
const verbose = (...a: unknown[]) => process.env.CYTON_E2E_VERBOSE && console.log(...a);

/** One board, one source, everything they report. */
interface Rig {
  pty: PtyPair;
  board: VirtualCyton;
  source: CytonSource;
  frames: CytonFrame[];
  events: CytonEvent[];
  /** For each event, how many frames had arrived before it. */
  eventAt: number[];
  errors: unknown[];
  sub: Subscription;
}

let rig: Rig | undefined;

async function setup(board: Omit<VirtualCytonOptions, 'path'>, uriQuery = '', overrides: Parameters<typeof cytonSource>[1] = {}): Promise<Rig> {
  const pty = new PtyPair();
  await pty.start();
  const vb = await VirtualCyton.start({ reopenMs: 20, ...board, path: pty.board });
  const source = cytonSource(`cyton:${pty.host}${uriQuery}`, { handshakeTimeoutMs: 1000, ...overrides });
  const frames: CytonFrame[] = [];
  const events: CytonEvent[] = [];
  const errors: unknown[] = [];
  const eventAt: number[] = [];
  source.events$.subscribe((e) => {
    events.push(e);
    eventAt.push(frames.length);
  });
  const sub = source.frames$.subscribe({ next: (f) => frames.push(f), error: (e) => errors.push(e) });
  rig = { pty, board: vb, source, frames, events, eventAt, errors, sub };
  return rig;
}

afterEach(async () => {
  if (!rig) return;
  rig.sub.unsubscribe();
  await rig.board.close();
  await rig.pty.close();
  rig = undefined;
});

/** Channel values a board sample should have, in µV. */
function expected(signal: VirtualCytonSignal, j: number): number[] {
  return Array.from({ length: signal.channels }, (_, c) => signal.counts(c, j) * SCALE);
}

/** Frames whose values differ from the board's signal at sample `seq − offset`. */
function mismatches(frames: CytonFrame[], signal: VirtualCytonSignal, offset = 0): string[] {
  const bad: string[] = [];
  for (const f of frames) {
    const want = expected(signal, f.seq - offset);
    if (want.some((v, c) => f.values[c] !== v)) bad.push(`seq ${f.seq}: got ${[...f.values].slice(0, 3)}… want ${want.slice(0, 3)}…`);
  }
  return bad;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describeWithSocat('cyton e2e over a socat pty pair', () => {
  beforeEach(() => {
    rig = undefined;
  });

  it('8 channels: exact µV, t on the 250 Hz grid, every dropped packet counted as a gap, s on unsubscribe', async () => {
    const r = await setup({ rate: 2000, seed: 3, dropEvery: 37 });
    await until(() => r.frames.length >= 800, 4000, '800 frames');
    r.sub.unsubscribe();
    await until(() => r.board.stats().commands.endsWith('s'), 1000, "the board to get 's'");
    expect(r.board.stats().streaming).toBe(false);
    const { frames, events } = r;
    const last = frames[frames.length - 1]!.seq;
    expect(frames[0]!.seq).toBe(0);
    expect(frames[0]!.counter).toBe(0);
    expect(mismatches(frames, r.board.signal)).toEqual([]);
    for (const f of frames) {
      expect(f.counter).toBe(f.seq & 0xff);
      expect(f.t - frames[0]!.t).toBeCloseTo(f.seq / 250, 6); // t is Unix seconds: ~0.2 µs resolution
      expect(f.values).toBeInstanceOf(Float64Array);
    }
    // Exactly the dropped packets are missing, and each is one gap of one sample.
    const dropped = r.board.stats().dropped.map((d) => d.k).filter((k) => k < last);
    expect(dropped.length).toBeGreaterThan(15);
    expect(frames.map((f) => f.seq)).toEqual(range(last + 1).filter((k) => !dropped.includes(k)));
    const gaps = events.filter((e): e is Extract<CytonEvent, { type: 'gap' }> => e.type === 'gap');
    expect(gaps.map((g) => [g.seq - 1, g.lost])).toEqual(dropped.map((k) => [k, 1]));
    const s = r.source.stats();
    expect([s.gaps, s.lost, s.frames]).toEqual([dropped.length, dropped.length, frames.length]);
    expect(events.filter((e) => e.type === 'reject')).toEqual([]);
    expect(events[0]).toMatchObject({ type: 'connect', attempt: 0, banner: expect.stringMatching(/^OpenBCI V3 8-16 channel[\s\S]*Firmware: v3/) });
    expect(r.source.info).toMatchObject({ id: `cyton:${r.pty.host}`, kind: 'raw', n: 8, rate: 250, units: 'uV' });
    expect(Number.isFinite(s.latencyMs.mean)).toBe(true);
    verbose('8ch', frames.length, 'frames', dropped.length, 'drops', s.latencyMs);
  });

  it('Daisy: 16 channels merged from odd/even packets, exact, lost packets counted as lost pairs', async () => {
    const r = await setup({ rate: 2000, seed: 9, daisy: true, dropEvery: 23 }, '?daisy=1&gain=24');
    await until(() => r.frames.length >= 400, 4000, '400 Daisy frames');
    r.sub.unsubscribe();
    const { frames, events } = r;
    const last = frames[frames.length - 1]!.seq;
    expect(r.source.info).toMatchObject({ n: 16, rate: 125 });
    expect(events.filter((e) => e.type === 'warning')).toEqual([]);
    expect(frames[0]!.values).toHaveLength(16);
    expect(mismatches(frames, r.board.signal)).toEqual([]);
    // Packet k carries half of pair (k − 1) / 2 (odd k) or k / 2 − 1 (even k).
    const droppedPackets = r.board.stats().dropped.map((d) => d.k);
    const lostPairs = [...new Set(droppedPackets.map((k) => (k % 2 ? (k - 1) / 2 : k / 2 - 1)))].filter((j) => j >= 0 && j < last);
    expect(lostPairs.length).toBeGreaterThan(10);
    expect(frames.map((f) => f.seq)).toEqual(range(last + 1).filter((j) => !lostPairs.includes(j)));
    expect(r.source.stats().lost).toBe(lostPairs.length);
    for (const f of frames) expect(f.t - frames[0]!.t).toBeCloseTo(f.seq / 125, 6);
    // The board's first packet (even) and the partner of each lost packet are unpaired (counted
    // up to the last frame: a partner after it may or may not have been seen yet).
    const unpaired = events.filter((e, i) => e.type === 'reject' && e.reason === 'daisy-unpaired' && r.eventAt[i]! < frames.length).length;
    expect(unpaired).toBe(1 + droppedPackets.filter((k) => (k % 2 ? (k - 1) / 2 : k / 2 - 1) < last).length);
  });

  it('corrupt and deleted bytes at every packet offset cost only the packets they hit', async () => {
    const r = await setup({ rate: 2000, seed: 5, corruptEvery: 7, deleteEvery: 11 });
    await until(() => r.frames.length >= 900, 4000, '900 frames');
    r.sub.unsubscribe();
    const { frames } = r;
    const last = frames[frames.length - 1]!.seq;
    const st = r.board.stats();
    const corrupted = st.corrupted.filter((f) => f.k <= last);
    const deleted = st.deleted.filter((f) => f.k <= last);
    // Both fault kinds have hit every one of the 33 byte offsets.
    expect(new Set(corrupted.map((f) => f.offset)).size).toBe(33);
    expect(new Set(deleted.map((f) => f.offset)).size).toBe(33);
    const faulty = new Set([...corrupted, ...deleted].map((f) => f.k));
    const got = new Set(frames.map((f) => f.seq));
    const missing = range(last + 1).filter((k) => !got.has(k));
    // Resync within one packet: nothing but faulty packets is missing …
    expect(missing.filter((k) => !faulty.has(k))).toEqual([]);
    // … every packet missing a byte is dropped, and so is every broken header, counter or footer …
    for (const f of deleted) expect(missing).toContain(f.k);
    for (const f of corrupted) {
      const mask = 1 + (((f.k + 1) * 37) % 255); // the board's mask for packet n = k + 1
      const framing = f.offset === 0 || f.offset === 1 || (f.offset === 32 && ((0xc0 ^ mask) < 0xc0 || (0xc0 ^ mask) > 0xc6));
      if (framing) expect(missing, `corrupt offset ${f.offset} of packet ${f.k}`).toContain(f.k);
    }
    // … every other frame is exact, and the source counted exactly what is missing.
    expect(mismatches(frames.filter((f) => !faulty.has(f.seq)), r.board.signal)).toEqual([]);
    expect(r.source.stats().lost).toBe(missing.length);
    const rejects = r.source.stats().rejects;
    expect(rejects['bytes-skipped']).toBeGreaterThan(0);
    expect(rejects['bad-footer'] + rejects['bad-header']).toBeGreaterThan(0);
    verbose('faults', corrupted.length, 'corrupt', deleted.length, 'deleted', missing.length, 'missing', rejects);
  });

  it('reconnects after the ptys disappear (socat killed) and come back, and resumes exact', async () => {
    // serialport does not always notice a pty vanishing (about 1 run in 4 here): the stall
    // watchdog is the safety net, so keep it short.
    const r = await setup({ rate: 1000, seed: 4 }, '', { reconnectDelayMs: 50, reconnectMaxDelayMs: 200, handshakeTimeoutMs: 500, stallTimeoutMs: 300 });
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
    const resume = r.events.find((e): e is Extract<CytonEvent, { type: 'resume' }> => e.type === 'resume')!;
    expect(resume).toMatchObject({ cause: 'reconnect' });
    const firstAfter = r.frames[before]!;
    expect(firstAfter.seq).toBe(resume.seq);
    const resumedMs = r.frames[before]!.hostT * 1000 - (performance.timeOrigin + restartedAt);
    verbose('reconnect: resumed', resumedMs.toFixed(0), 'ms after socat restart,', (restartedAt - killedAt).toFixed(0), 'ms down', r.events.filter((e) => e.type !== 'reject').map((e) => JSON.stringify(e)));
    expect(resumedMs).toBeLessThan(1500);

    const types = r.events.map((e) => e.type);
    expect(types.filter((t) => t === 'connect')).toHaveLength(2);
    expect(types.filter((t) => t === 'reconnect').length).toBeGreaterThanOrEqual(1);
    expect(r.events.find((e) => e.type === 'disconnect')).toMatchObject({ reason: expect.stringMatching(/closed|error|stall/) });
    const second = r.events.filter((e) => e.type === 'connect')[1]!;
    expect(second).toMatchObject({ attempt: expect.any(Number) });
    expect((second as Extract<CytonEvent, { type: 'connect' }>).attempt).toBeGreaterThanOrEqual(1);
    // Before: board samples 0…; after: the board restarted its count at 'v', seq jumped by the estimate.
    expect(mismatches(r.frames.slice(0, before), r.board.signal)).toEqual([]);
    expect(mismatches(r.frames.slice(before), r.board.signal, resume.seq)).toEqual([]);
    const seqs = r.frames.map((f) => f.seq);
    const ts = r.frames.map((f) => f.t);
    for (let i = 1; i < seqs.length; i++) {
      expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!);
      expect(ts[i]!).toBeGreaterThan(ts[i - 1]!);
    }
    expect(resume.seq - r.frames[before - 1]!.seq).toBe(resume.estimatedLost + 1);
    expect(r.source.stats()).toMatchObject({ connects: 2, disconnects: 1, lost: 0 });
  });

  it('a board that goes silent is detected by the stall watchdog and picked up again when it is back', async () => {
    const r = await setup({ rate: 1000, seed: 8 }, '', { stallTimeoutMs: 150, reconnectDelayMs: 50, reconnectMaxDelayMs: 100, handshakeTimeoutMs: 300 });
    await until(() => r.frames.length >= 100, 4000, '100 frames');
    await r.board.disconnect(400);
    await until(() => r.events.some((e) => e.type === 'disconnect'), 2000, 'a stall disconnect');
    expect(r.events.find((e) => e.type === 'disconnect')).toMatchObject({ reason: 'stall', message: 'no data for 150 ms' });
    const before = r.frames.length;
    await until(() => r.frames.length >= before + 100, 5000, '100 frames after the board came back');
    const resume = r.events.find((e): e is Extract<CytonEvent, { type: 'resume' }> => e.type === 'resume')!;
    expect(mismatches(r.frames.slice(before), r.board.signal, resume.seq)).toEqual([]);
    expect(r.board.stats().opens).toBe(2);
  });

  it('warns when the board\'s banner disagrees with the daisy option', async () => {
    const r = await setup({ rate: 1000, daisy: true });
    await until(() => r.events.some((e) => e.type === 'connect'), 3000, 'a connection');
    expect(r.events.filter((e) => e.type === 'warning')).toEqual([
      { type: 'warning', path: r.pty.host, message: "the board's banner lists a Daisy, but the source was opened with daisy=0: channel values will be wrong" },
    ]);
  });

  it('errors frames$ with a CytonError when reconnecting is off and the port vanishes', async () => {
    const r = await setup({ rate: 1000 }, '', { reconnectDelayMs: 0, stallTimeoutMs: 300 });
    await until(() => r.frames.length >= 20, 4000, '20 frames');
    await r.pty.kill();
    await until(() => r.errors.length > 0, 2000, 'frames$ to error');
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toBeInstanceOf(CytonError);
    expect(r.errors[0]).toMatchObject({ path: r.pty.host, stage: 'stream' });
    expect(String(r.errors[0])).toMatch(new RegExp(`^CytonError: cyton ${r.pty.host}: stream: (closed|error|stall): .*\\(reconnecting is off\\)$`));
    expect(r.events.filter((e) => e.type === 'reconnect')).toEqual([]);
  });
});
