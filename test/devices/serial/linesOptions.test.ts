import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../../src/errors.js';
import { openSource } from '../../../src/cli/sources.js';
import { UsageError } from '../../../src/cli/args.js';
import { DEFAULT_LINES_SOURCE_OPTIONS, defaultLinesStallTimeoutMs, parseLinesUri, resolveLinesOptions } from '../../../devices/serial/linesOptions.js';
import { linesSource } from '../../../devices/serial/index.js';

describe('parseLinesUri', () => {
  it('reads the path and every documented query key', () => {
    expect(parseLinesUri('lines:/dev/ttyACM0?columns=8&rate=250')).toEqual({ path: '/dev/ttyACM0', columns: 8, rate: 250 });
    expect(parseLinesUri('lines:/dev/x?columns=3&rate=12.5&baud=9600&sep=semicolon&time=first&timeUnit=ms&id=bench%201&labels=a,%C2%B5V,c&firstLine=trust')).toEqual({
      path: '/dev/x', columns: 3, rate: 12.5, baudRate: 9600, separator: 'semicolon', time: 'first', timeUnit: 'ms', id: 'bench 1', labels: ['a', 'µV', 'c'], firstLine: 'trust',
    });
    expect(parseLinesUri('lines:COM4?columns=2&time=first')).toEqual({ path: 'COM4', columns: 2, time: 'first' });
    expect(parseLinesUri('lines:/tmp/my%20port?columns=1&rate=1e3')).toEqual({ path: '/tmp/my port', columns: 1, rate: 1000 });
    for (const sep of ['auto', 'comma', 'space', 'tab', 'semicolon']) expect(parseLinesUri(`lines:/x?columns=1&rate=1&sep=${sep}`).separator).toBe(sep);
  });

  it('names the bad part of a bad URI', () => {
    const cases: [string, RegExp][] = [
      ['serial:/dev/x?columns=2', /linesSource: option 'uri' must be of the form lines:<serial path>\?columns=8&rate=250\[/],
      ['lines:', /option 'path' must be a serial device path after 'lines:'/],
      ['lines:?columns=2&rate=1', /option 'path'/],
      ['lines:/dev/x', /URI "lines:\/dev\/x": option 'columns' must be given: the number of values per line \(columns=N\); got undefined/],
      ['lines:/dev/x?rate=250', /option 'columns' must be given/],
      ['lines:/dev/x?columns=0&rate=1', /option 'columns' must be an integer in \[1, 65536\]; got "0"/],
      ['lines:/dev/x?columns=2.5&rate=1', /option 'columns'.*got "2.5"/],
      ['lines:/dev/x?columns=2', /option 'rate' must be lines per second > 0 when there is no time column \(or time=first\); got undefined/],
      ['lines:/dev/x?columns=2&rate=0', /option 'rate' must be lines per second > 0 when there is no time column/],
      ['lines:/dev/x?columns=2&rate=fast', /option 'rate' must be lines per second, a number ≥ 0 \(0 = irregular\); got "fast"/],
      ['lines:/dev/x?columns=2&rate=-5', /option 'rate'.*got "-5"/],
      ['lines:/dev/x?columns=2&rate=1&baud=0', /option 'baud' must be a positive integer/],
      ['lines:/dev/x?columns=2&rate=1&sep=pipe', /option 'sep' must be one of auto, comma, space, tab, semicolon; got "pipe"/],
      ['lines:/dev/x?columns=2&rate=1&time=last', /option 'time' must be none or first; got "last"/],
      ['lines:/dev/x?columns=2&time=first&timeUnit=us', /option 'timeUnit' must be s or ms; got "us"/],
      ['lines:/dev/x?columns=2&rate=1&id=', /option 'id' must be a non-empty stream id/],
      ['lines:/dev/x?columns=2&rate=1&labels=a', /option 'labels' must be 2 labels \(one per column\); got "a"/],
      ['lines:/dev/x?columns=2&rate=1&labels=a,,b', /option 'labels' must be a comma-separated list of non-empty labels/],
      ['lines:/dev/x?columns=2&rate=1&firstLine=drop', /option 'firstLine' must be suspect or trust; got "drop"/],
      ['lines:/dev/x?columns=2&rate=1&daisy=1', /option 'daisy' must be one of columns, rate, baud, sep, time, timeUnit, id, labels, firstLine; got "1"/],
      ['lines:/dev/x?columns=2&rate=1&rate=2', /option 'rate' must be given once/],
    ];
    for (const [uri, re] of cases) {
      expect(() => parseLinesUri(uri), uri).toThrow(InvalidOptionError);
      expect(() => parseLinesUri(uri), uri).toThrow(re);
    }
  });
});

describe('resolveLinesOptions', () => {
  it('fills the documented defaults without touching the caller\'s object; the stall timeout follows the rate', () => {
    const given = { path: '/dev/x', columns: 3, rate: 100 };
    const o = resolveLinesOptions(given);
    expect(given).toEqual({ path: '/dev/x', columns: 3, rate: 100 });
    expect(o).toMatchObject({
      path: '/dev/x', columns: 3, rate: 100, baudRate: 115200, separator: 'auto', time: 'none', timeUnit: 's', maxLineBytes: 4096,
      firstLine: 'suspect', labels: undefined, id: 'lines:/dev/x', stallTimeoutMs: 2000,
      reconnectDelayMs: 250, reconnectMaxDelayMs: 5000, reconnectFactor: 2, reconnectAttempts: Infinity,
    });
    const { now, ...documented } = DEFAULT_LINES_SOURCE_OPTIONS;
    expect(documented).toEqual({
      rate: 0, baudRate: 115200, separator: 'auto', time: 'none', timeUnit: 's', maxLineBytes: 4096, firstLine: 'suspect',
      reconnectDelayMs: 250, reconnectMaxDelayMs: 5000, reconnectFactor: 2, reconnectAttempts: Infinity,
    });
    expect(Math.abs(now() - Date.now() / 1000)).toBeLessThan(1);
    expect([defaultLinesStallTimeoutMs(250), defaultLinesStallTimeoutMs(1), defaultLinesStallTimeoutMs(0.5), defaultLinesStallTimeoutMs(0)]).toEqual([2000, 5000, 10000, 10000]);
    expect(resolveLinesOptions({ path: '/x', columns: 1, time: 'first' }).stallTimeoutMs).toBe(10000);
    expect(resolveLinesOptions({ path: '/x', columns: 1, rate: 1, stallTimeoutMs: 0 }).stallTimeoutMs).toBe(0);
  });

  it('refuses bad options with the source\'s own names', () => {
    const cases: [object, RegExp][] = [
      [{ path: '', columns: 1, rate: 1 }, /linesSource: option 'path'/],
      [{ path: '/x', rate: 1 }, /option 'columns' must be given/],
      [{ path: '/x', columns: 2, rate: 1, labels: ['a'] }, /option 'labels' must be an array of 2 strings \(one per column\)/],
      [{ path: '/x', columns: 2, rate: 1, baudRate: 1.5 }, /option 'baudRate'/],
      [{ path: '/x', columns: 2, rate: 1, stallTimeoutMs: -1 }, /option 'stallTimeoutMs' must be a number of ms ≥ 0 \(0 = never\)/],
      [{ path: '/x', columns: 2, rate: 1, reconnectFactor: 0.5 }, /option 'reconnectFactor' must be a number ≥ 1; got 0.5/],
      [{ path: '/x', columns: 2, rate: 1, gain: 24 }, /option 'gain' must be a known option/],
      [{ path: '/x', columns: 2, rate: 1, firstLine: 'maybe' }, /option 'firstLine' must be 'suspect' or 'trust'/],
      [{ path: '/x', columns: 2, rate: 1, maxLineBytes: 4 }, /option 'maxLineBytes'/],
    ];
    for (const [o, re] of cases) expect(() => resolveLinesOptions(o as never), JSON.stringify(o)).toThrow(re);
  });

  it('linesSource builds the StreamInfo without opening anything', () => {
    const src = linesSource('lines:/nonexistent/port?columns=3&rate=50&labels=x,y,z&id=imu');
    expect(src.info).toEqual({ id: 'imu', kind: 'raw', n: 3, rate: 50, labels: ['x', 'y', 'z'] });
    expect(linesSource({ path: '/nonexistent/port', columns: 2, time: 'first' }).info).toEqual({ id: 'lines:/nonexistent/port', kind: 'raw', n: 2, rate: 0 });
    expect(src.stats()).toMatchObject({ frames: 0, connects: 0, rejects: { 'not-text': 0, 'column-count': 0, 'not-numeric': 0, overlong: 0, truncated: 0, partial: 0 } });
  });
});

describe('openSource lines:', () => {
  it('opens a lines: URI lazily, with a description, and turns a bad URI into a UsageError naming it', async () => {
    const s = await openSource('lines:/nonexistent/port?columns=4&rate=100');
    expect(s.info).toEqual({ id: 'lines:/nonexistent/port', kind: 'raw', n: 4, rate: 100 });
    expect(s.description).toBe('line sensor on /nonexistent/port (4 columns, 100 lines/s, separator auto, 115200 baud)');
    expect(s.events$).toBeDefined();
    await expect(openSource('lines:/dev/x?columns=4&time=first&timeUnit=ms')).resolves.toMatchObject({ description: expect.stringContaining('time column in ms') });
    await expect(openSource('lines:/dev/x?columns=4&sep=pipe')).rejects.toThrow(UsageError);
    await expect(openSource('lines:/dev/x?columns=4&sep=pipe')).rejects.toThrow(/^source lines:\/dev\/x\?columns=4&sep=pipe: linesSource URI .*option 'sep'/);
    await expect(openSource('nope:/x')).rejects.toThrow(/known: .*\blines:/);
  });
});
