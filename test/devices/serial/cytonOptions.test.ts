import { describe, expect, it, vi } from 'vitest';
import { InvalidOptionError } from '../../../src/errors.js';
import { DEFAULT_CYTON_SOURCE_OPTIONS, parseCytonUri, resolveCytonOptions } from '../../../devices/serial/cytonOptions.js';
import { DEFAULT_RECONNECT_OPTIONS, Reconnector, type ReconnectTimers } from '../../../devices/serial/reconnect.js';

describe('parseCytonUri', () => {
  it('reads the path and the documented query keys', () => {
    expect(parseCytonUri('cyton:/dev/ttyUSB0')).toEqual({ path: '/dev/ttyUSB0' });
    expect(parseCytonUri('cyton:/dev/ttyUSB0?daisy=1&baud=230400&gain=12')).toEqual({ path: '/dev/ttyUSB0', daisy: true, baudRate: 230400, gain: 12 });
    expect(parseCytonUri('cyton:COM3?daisy=0')).toEqual({ path: 'COM3', daisy: false });
    expect(parseCytonUri('cyton:/dev/x?gain=24,24,24,24,12,12,12,1')).toEqual({ path: '/dev/x', gain: [24, 24, 24, 24, 12, 12, 12, 1] });
    expect(parseCytonUri('cyton:/tmp/my%20port')).toEqual({ path: '/tmp/my port' });
  });

  it('names the bad part of a bad URI', () => {
    const cases: [string, RegExp][] = [
      ['serial:/dev/ttyUSB0', /option 'uri' must be of the form cyton:<serial path>\[\?daisy=1&baud=115200&gain=24\]; got "serial:\/dev\/ttyUSB0"/],
      ['cyton:', /option 'path' must be a serial device path after 'cyton:'/],
      ['cyton:?daisy=1', /option 'path'/],
      ['cyton:/dev/x?daisy=yes', /URI "cyton:\/dev\/x\?daisy=yes": option 'daisy' must be 0 or 1; got "yes"/],
      ['cyton:/dev/x?baud=fast', /option 'baud' must be a positive integer .*; got "fast"/],
      ['cyton:/dev/x?baud=0', /option 'baud'/],
      ['cyton:/dev/x?gain=25', /option 'gain' must be one of 1, 2, 4, 6, 8, 12, 24; got 25/],
      ['cyton:/dev/x?gain=24,24', /option 'gain' must be .*an array of 8 of them/],
      ['cyton:/dev/x?daisy=1&gain=24,24,24,24,24,24,24,24', /array of 16/],
      ['cyton:/dev/x?gain=24,x', /option 'gain' must be a gain .*; got "24,x"/],
      ['cyton:/dev/x?rate=250', /option 'rate' must be one of daisy, baud, gain; got "250"/],
      ['cyton:/dev/x?daisy=1&daisy=0', /option 'daisy' must be given once/],
    ];
    for (const [uri, re] of cases) {
      expect(() => parseCytonUri(uri), uri).toThrow(InvalidOptionError);
      expect(() => parseCytonUri(uri), uri).toThrow(re);
    }
  });
});

describe('resolveCytonOptions', () => {
  it('fills the documented defaults without touching the caller\'s object', () => {
    const given = { path: '/dev/x' };
    const o = resolveCytonOptions(given);
    expect(given).toEqual({ path: '/dev/x' });
    expect(o).toMatchObject({
      path: '/dev/x', id: 'cyton:/dev/x', daisy: false, baudRate: 115200, gain: [24, 24, 24, 24, 24, 24, 24, 24],
      handshakeTimeoutMs: 3000, stallTimeoutMs: 2000, reconnectDelayMs: 250, reconnectMaxDelayMs: 5000, reconnectFactor: 2, reconnectAttempts: Infinity,
    });
    expect(DEFAULT_CYTON_SOURCE_OPTIONS.reconnectDelayMs).toBe(DEFAULT_RECONNECT_OPTIONS.delayMs);
    expect(Math.abs(o.now() - Date.now() / 1000)).toBeLessThan(1);
    expect(resolveCytonOptions({ path: '/dev/x', daisy: true }).gain).toHaveLength(16);
  });

  it('refuses bad options naming them', () => {
    const cases: [object, RegExp][] = [
      [{ path: '' }, /option 'path'/],
      [{ path: '/dev/x', baud: 9600 }, /option 'baud' must be a known option/],
      [{ path: '/dev/x', baudRate: 1.5 }, /option 'baudRate'/],
      [{ path: '/dev/x', handshakeTimeoutMs: 0 }, /option 'handshakeTimeoutMs' must be a number of ms > 0; got 0/],
      [{ path: '/dev/x', stallTimeoutMs: -1 }, /option 'stallTimeoutMs'/],
      [{ path: '/dev/x', reconnectFactor: 0.5 }, /option 'reconnectFactor' must be a number ≥ 1; got 0.5/],
      [{ path: '/dev/x', reconnectAttempts: 0 }, /option 'reconnectAttempts'/],
      [{ path: '/dev/x', reconnectMaxDelayMs: 10 }, /option 'reconnectMaxDelayMs' must be a number of ms ≥ delayMs \(250\)/],
      [{ path: '/dev/x', gain: [24] }, /option 'gain'/],
    ];
    for (const [opts, re] of cases) expect(() => resolveCytonOptions(opts as never), JSON.stringify(opts)).toThrow(re);
  });
});

describe('Reconnector', () => {
  function fakeTimers() {
    const pending: { fn: () => void; ms: number; id: number }[] = [];
    let next = 1;
    const timers: ReconnectTimers = {
      setTimeout: (fn, ms) => { pending.push({ fn, ms, id: next }); return next++; },
      clearTimeout: (id) => { const i = pending.findIndex((p) => p.id === id); if (i >= 0) pending.splice(i, 1); },
    };
    return { timers, pending, fire: () => pending.shift()!.fn() };
  }

  it('backs off exponentially up to the cap, once at a time, and starts over after a success', () => {
    const t = fakeTimers();
    const attempt = vi.fn();
    const r = new Reconnector({ delayMs: 100, maxDelayMs: 500, factor: 2 }, attempt, t.timers);
    expect(r.arm()).toEqual({ attempt: 1, delayMs: 100 });
    expect(r.arm()).toBeUndefined(); // one pending at a time
    expect(r.pending).toBe(true);
    t.fire();
    expect(attempt).toHaveBeenCalledTimes(1);
    expect(r.pending).toBe(false);
    const delays = [];
    for (let i = 0; i < 5; i++) {
      delays.push(r.arm()!.delayMs);
      t.fire();
    }
    expect(delays).toEqual([200, 400, 500, 500, 500]);
    r.succeeded();
    expect(r.arm()).toEqual({ attempt: 1, delayMs: 100 });
    r.clear();
    expect(t.pending).toHaveLength(0);
    expect(attempt).toHaveBeenCalledTimes(6);
  });

  it('gives up after `attempts` failures in a row, and never reconnects with delayMs 0', () => {
    const t = fakeTimers();
    const r = new Reconnector({ delayMs: 10, attempts: 2 }, () => {}, t.timers);
    expect(r.arm()).toBeDefined();
    t.fire();
    expect(r.arm()).toBeDefined();
    t.fire();
    expect(r.arm()).toBeUndefined();
    expect(r.pending).toBe(false);
    expect(new Reconnector({ delayMs: 0 }, () => {}, t.timers).arm()).toBeUndefined();
    expect(() => new Reconnector({ factor: 0.5 }, () => {})).toThrow(/option 'factor' must be a number ≥ 1/);
  });
});
