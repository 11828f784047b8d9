import { describe, expect, it } from 'vitest';
import { escapeXml, niceTicks, svgChart, type Panel } from '../../src/cli/svg.js';
import { DataError, InvalidOptionError } from '../../src/errors.js';
import { Rng } from '../../src/linalg/random.js';

/** Checks that tags open and close in order (a small well-formedness check; no XML parser needed). */
function balanced(svg: string): string[] {
  const stack: string[] = [];
  const problems: string[] = [];
  const body = svg.replace(/^<\?xml[^>]*\?>\s*/, '');
  for (const m of body.matchAll(/<(\/?)([a-zA-Z][\w-]*)([^>]*?)(\/?)>/g)) {
    const [, close, name, , self] = m;
    if (self) continue;
    if (!close) stack.push(name!);
    else if (stack.pop() !== name) problems.push(`unexpected </${name}>`);
  }
  if (stack.length) problems.push(`unclosed ${stack.join(', ')}`);
  if (/&(?!(amp|lt|gt|quot|apos);)/.test(body)) problems.push('raw &');
  return problems;
}

/** The `d` attributes of the series paths. */
const paths = (svg: string) => [...svg.matchAll(/<path class="series" d="([^"]*)"/g)].map((m) => m[1]!);
const commands = (d: string) => d.match(/[ML]/g)?.length ?? 0;
const points = (d: string) => [...d.matchAll(/[ML](-?[\d.]+) (-?[\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])] as const);

describe('svgChart', () => {
  const two: Panel[] = [
    { title: 'first', series: [{ label: 'a', y: [0, 1, 4, 9] }, { label: 'b', y: [1, 1, 1, 1], dashed: true }], xLabel: 'time', yLabel: 'value' },
    { title: 'second', series: [{ label: 'c', y: [3, 2, 1], x: [10, 20, 30], color: '#123456' }] },
  ];

  it('writes one standalone, balanced SVG document with a group, title and legend per panel', () => {
    const svg = svgChart(two, { title: 'Chart', width: 800, panelHeight: 150 });
    expect(svg.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(balanced(svg)).toEqual([]);
    expect(svg).toContain('width="800" height="328"'); // 28 for the title + 2 × 150
    expect(svg.match(/<g class="panel"/g)?.length).toBe(2);
    for (const t of ['Chart', 'first', 'second', 'time', 'value', '>a<', '>b<', '>c<']) expect(svg).toContain(t);
    expect(svg.match(/<g class="legend">/g)?.length).toBe(3);
    expect(paths(svg).length).toBe(3);
    expect(svg).toContain('stroke="#123456"');
    expect(svg.match(/class="series"[^>]*stroke-dasharray/g)?.length).toBe(1);
    // Without a title the panels start at the top; default size 960 × 180 per panel.
    expect(svgChart(two)).toContain('width="960" height="364"');
  });

  it('maps data to pixels: the first and last x at the plot edges, higher y higher up', () => {
    const svg = svgChart([{ series: [{ label: 'up', y: [0, 10] }], yRange: [0, 10] }], { width: 400, panelHeight: 100 });
    const [p0, p1] = points(paths(svg)[0]!);
    expect(p0![0]).toBe(64); // left margin
    expect(p1![0]).toBe(400 - 16); // right margin
    expect(p1![1]).toBeLessThan(p0![1]);
    expect(p0![1] - p1![1]).toBeCloseTo(100 - 22 - 34, 6); // the whole plot height
  });

  it('decimates a long series to at most two points per pixel column and keeps its extremes', () => {
    const rng = new Rng(1);
    const y = Float64Array.from({ length: 7200 }, () => rng.uniform());
    y[3000] = 10; // a spike
    y[5000] = -5; // a dip
    const width = 960;
    const svg = svgChart([{ series: [{ label: 'long', y }, { label: 'long2', y }] }], { width });
    const plotW = width - 64 - 16;
    for (const d of paths(svg)) {
      expect(commands(d)).toBeLessThanOrEqual(2 * (plotW + 1));
      expect(commands(d)).toBeGreaterThan(plotW); // but not thinned below one point per column
      const ys = points(d).map((p) => p[1]);
      const top = Math.min(...ys), bottom = Math.max(...ys);
      // The spike and the dip survive as the path's extreme pixels.
      const yt = points(d).find((p) => p[1] === top)!, yb = points(d).find((p) => p[1] === bottom)!;
      expect(yt[0]).toBeCloseTo(64 + (3000 / 7199) * plotW, 0);
      expect(yb[0]).toBeCloseTo(64 + (5000 / 7199) * plotW, 0);
    }
    expect(svg.length).toBeLessThan(100_000);
  });

  it('keeps short series point for point', () => {
    const y = [0, 3, 1, 2, 5];
    expect(commands(paths(svgChart([{ series: [{ label: 's', y }] }]))[0]!)).toBe(5);
  });

  it('breaks the line at NaN and infinite values (a gap), in y or in x', () => {
    const svg = svgChart([{ series: [{ label: 'gappy', y: [0, 1, Number.NaN, 1, 0, Infinity, 2, 3] }] }]);
    const d = paths(svg)[0]!;
    expect(d.match(/M/g)?.length).toBe(3);
    expect(commands(d)).toBe(6);
    const dx = paths(svgChart([{ series: [{ label: 'x gap', y: [1, 2, 3, 4], x: [0, 1, Number.NaN, 3] }] }]))[0]!;
    expect(dx.match(/M/g)?.length).toBe(2);
    // A lone point between gaps is a move only; a series of NaNs next to a finite one draws nothing.
    const lone = svgChart([{ series: [{ label: 'finite', y: [1, 2] }, { label: 'nan', y: [Number.NaN, Number.NaN] }] }]);
    expect(paths(lone).length).toBe(1);
  });

  it('escapes text in titles, labels and legends', () => {
    const svg = svgChart([{ title: 'a<b & "c"', series: [{ label: "<script>'x'</script>", y: [1, 2] }], xLabel: 'x>y' }], { title: 'T&T' });
    expect(svg).toContain('a&lt;b &amp; &quot;c&quot;');
    expect(svg).toContain('&lt;script&gt;&apos;x&apos;&lt;/script&gt;');
    expect(svg).toContain('x&gt;y');
    expect(svg).toContain('T&amp;T');
    expect(svg).not.toContain('<script>');
    expect(balanced(svg)).toEqual([]);
    expect(escapeXml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&apos;');
  });

  it('draws markers as dashed vertical lines at their x, skipping those outside the range', () => {
    const y = Array.from({ length: 100 }, (_, i) => i);
    const svg = svgChart([{ series: [{ label: 'y', y }], markers: [10, 50, 1e9, -3, Number.NaN] }], { width: 500 });
    const lines = [...svg.matchAll(/<line class="marker" x1="([\d.]+)" x2="([\d.]+)"[^>]*stroke-dasharray/g)];
    expect(lines.length).toBe(2);
    const plotW = 500 - 64 - 16;
    expect(Number(lines[0]![1])).toBeCloseTo(64 + (10 / 99) * plotW, 1);
    expect(Number(lines[1]![1])).toBeCloseTo(64 + (50 / 99) * plotW, 1);
  });

  it('uses the given x ticks and y range, and labels ticks with the decimals their spacing needs', () => {
    const svg = svgChart([{ series: [{ label: 'y', y: [0.2, 0.4], x: [0, 2] }], xTicks: [0, 0.5, 1.5, 2], yRange: [0, 1] }]);
    const ticks = [...svg.matchAll(/<text class="tick"[^>]*>([^<]*)</g)].map((m) => m[1]);
    for (const t of ['0.0', '0.5', '1.5', '2.0']) expect(ticks).toContain(t);
    expect(ticks).toContain('0.25'); // y ticks at 0, 0.25, …, 1
    expect(ticks).toContain('1.00');
    expect(niceTicks(0, 7200, 8)).toEqual([0, 1000, 2000, 3000, 4000, 5000, 6000, 7000]);
    expect(niceTicks(-1, 1, 5)).toEqual([-1, -0.5, 0, 0.5, 1]);
    expect(niceTicks(1e16, 1e16 + 2, 5).length).toBeLessThanOrEqual(1001); // terminates where steps vanish in rounding
    expect(niceTicks(3, 3, 5)).toEqual([3]);
  });

  it('handles a constant series and a single point', () => {
    expect(balanced(svgChart([{ series: [{ label: 'flat', y: [2, 2, 2] }] }]))).toEqual([]);
    expect(paths(svgChart([{ series: [{ label: 'one', y: [5] }] }])).length).toBe(1);
  });

  it('refuses empty or inconsistent input with a clear error', () => {
    expect(() => svgChart([])).toThrow(DataError);
    expect(() => svgChart([{ title: 'p', series: [] }])).toThrow(/panel 0 \("p"\).*no series/);
    expect(() => svgChart([{ series: [{ label: 'ok', y: [1] }] }, { series: [{ label: 'empty', y: [] }] }])).toThrow(/panel 1.*"empty" is empty/);
    expect(() => svgChart([{ series: [{ label: 'xy', y: [1, 2], x: [1] }] }])).toThrow(/1 x values for 2 y values/);
    expect(() => svgChart([{ series: [{ label: 'nan', y: [Number.NaN] }] }])).toThrow(/no finite values/);
    expect(() => svgChart([{ series: [{ label: 'r', y: [1] }], yRange: [1, 1] }])).toThrow(/yRange/);
    expect(() => svgChart(two, { width: 100 })).toThrow(InvalidOptionError);
    expect(() => svgChart(two, { panelHeight: Number.NaN })).toThrow(/panelHeight/);
  });
});
