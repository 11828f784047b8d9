/**
 * `cfstream bench replay [--channels 64 --hours 1 --rate 160 --format bdf|edf]`: writes a synthetic
 * recording (sines plus noise, µV) with the streaming EDF/BDF writer into a temporary directory,
 * replays it with `fileSource` at `max`, and reports samples/s (channel values per second) for
 * both, plus the peak RSS while replaying (sampled) and the process's maxRSS. The target: at least
 * 1M samples/s in under 100 MB of RSS, however long the file (the replay holds one record).
 *
 * The CLI runs through tsx, whose loader thread and transpiled modules keep ~85 MB resident before
 * any work (plain node: ~40 MB), so the replay is also
 * measured the way a deployment runs it: bundled (esbuild, which tsx brings) and run by plain
 * `node` in a child process, which reports its own RSS before and during the replay.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EdfWriter } from '../../../devices/file/edfWriter.js';
import { fileSource } from '../../../devices/file/replay.js';
import type { StreamInfo } from '../../frames/index.js';
import { choice, num, parseFlags, UsageError } from '../args.js';
import { fmt, printJson, table } from '../output.js';
import { progress } from '../progress.js';

const FLAGS = {
  channels: { type: 'string' }, hours: { type: 'string' }, rate: { type: 'string' }, format: { type: 'string' },
  keep: { type: 'boolean' }, json: { type: 'boolean' }, seed: { type: 'string' },
} as const;

/** Usage line (for the CLI help). */
export const BENCH_REPLAY_USAGE = 'cfstream bench replay [--channels 64 --hours 1 --rate 160 --format bdf|edf] [--keep] [--json]';

const MB = 1024 * 1024;

/** Entry point of `cfstream bench replay` (argv after the benchmark name); resolves to the exit code. */
export async function benchReplayCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseFlags('bench replay', argv, FLAGS);
  if (positionals.length) throw new UsageError(`bench replay: unexpected argument ${JSON.stringify(positionals[0])}`);
  const channels = num('channels', v.channels, { int: true, min: 1, max: 4096, def: 64 });
  const hours = num('hours', v.hours, { min: 1 / 3600, max: 100, def: 1 });
  const rate = num('rate', v.rate, { int: true, min: 1, max: 100_000, def: 160 });
  const format = choice('format', v.format, ['bdf', 'edf'] as const, 'bdf');
  const seed = num('seed', v.seed, { int: true, def: 0 });
  const frames = Math.round(hours * 3600 * rate);
  const dir = mkdtempSync(join(tmpdir(), 'cfstream-bench-replay-'));
  const path = join(dir, `synthetic.${format}`);
  const bar = progress('bench replay', !v.json);
  try {
    // 1. Write: alpha-ish sines of 5–40 µV per channel plus uniform noise, one reused frame.
    const info: StreamInfo = { id: 'bench', kind: 'raw', n: channels, rate, units: 'uV', labels: Array.from({ length: channels }, (_, c) => `ch${c + 1}`) };
    const w = EdfWriter.create({ path, info, physicalMin: -500, physicalMax: 500, start: new Date(2020, 0, 1) });
    const omega = Float64Array.from({ length: channels }, (_, c) => (2 * Math.PI * (2 + ((c * 7 + seed) % 30))) / rate);
    const amp = Float64Array.from({ length: channels }, (_, c) => 5 + ((c * 13 + seed) % 36));
    const values = new Float64Array(channels);
    const frame = { seq: 0, t: 0, values };
    let noise = (seed * 2654435761) >>> 0 || 1;
    let t = performance.now();
    for (let k = 0; k < frames; k++) {
      for (let c = 0; c < channels; c++) {
        noise ^= noise << 13; noise ^= noise >>> 17; noise ^= noise << 5; // xorshift32
        values[c] = amp[c]! * Math.sin(omega[c]! * k) + ((noise >>> 0) / 4294967296 - 0.5) * 20;
      }
      frame.seq = k;
      frame.t = k / rate;
      w.write(frame);
      if ((k & 0xffff) === 0) bar.update((0.5 * k) / frames, 'writing');
    }
    w.close();
    const writeSeconds = (performance.now() - t) / 1000;
    const fileBytes = statSync(path).size;

    // 2. Replay at max: count, touch every value, sample RSS.
    const src = fileSource({ path, speed: 'max' });
    const rssBefore = process.memoryUsage.rss();
    let peak = rssBefore, got = 0, samples = 0, sum = 0;
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage.rss()); }, 50);
    t = performance.now();
    try {
      await new Promise<void>((resolve, reject) => {
        src.frames$.subscribe({
          next: (f) => {
            const x = f.values;
            for (let c = 0; c < x.length; c++) sum += x[c]!;
            samples += x.length;
            if ((++got & 0x3fff) === 0) {
              peak = Math.max(peak, process.memoryUsage.rss());
              bar.update(0.5 + (0.5 * got) / frames, 'replaying');
            }
          },
          error: reject,
          complete: resolve,
        });
      });
    } finally {
      clearInterval(sampler);
    }
    const replaySeconds = (performance.now() - t) / 1000;
    peak = Math.max(peak, process.memoryUsage.rss());
    const maxRssMB = process.resourceUsage().maxRSS / 1024;
    bar.update(1, 'bundled replay');
    const bundled = await bundledReplay(dir, path);
    bar.done();
    const res = {
      options: { channels, hours, rate, format, seed }, file: v.keep ? path : undefined, fileMB: fileBytes / MB,
      write: { seconds: writeSeconds, frames, samplesPerSecond: (frames * channels) / writeSeconds },
      replay: { seconds: replaySeconds, frames: got, samples, samplesPerSecond: samples / replaySeconds, framesPerSecond: got / replaySeconds, checksum: sum },
      rss: { beforeReplayMB: rssBefore / MB, peakDuringReplayMB: peak / MB, processMaxRssMB: maxRssMB },
      bundled,
      target: {
        samplesPerSecond: 1e6, rssMB: 100,
        met: samples / replaySeconds >= 1e6 && (peak / MB < 100 || (bundled !== null && bundled.samplesPerSecond >= 1e6 && bundled.maxRssMB < 100)),
      },
    };
    if (got !== frames) throw new Error(`bench replay: replayed ${got} frames of ${frames} written`);
    if (v.json) printJson(res);
    else {
      process.stdout.write(`bench replay: ${channels} channels × ${rate} Hz × ${fmt(hours, 3)} h = ${frames} frames (${(frames * channels).toExponential(3)} samples), ${format.toUpperCase()}+ ${fmt(res.fileMB, 1)} MB\n`);
      process.stdout.write(table(
        ['phase', 'seconds', 'samples/s', 'frames/s'],
        [
          ['write', fmt(writeSeconds, 2), Math.round(res.write.samplesPerSecond).toString(), Math.round(frames / writeSeconds).toString()],
          ['replay (max)', fmt(replaySeconds, 2), Math.round(res.replay.samplesPerSecond).toString(), Math.round(res.replay.framesPerSecond).toString()],
        ],
      ) + '\n');
      process.stdout.write(`RSS (this process, under tsx): ${fmt(res.rss.beforeReplayMB, 1)} MB before the replay, peak ${fmt(res.rss.peakDuringReplayMB, 1)} MB during it; maxRSS ${fmt(maxRssMB, 1)} MB (write + replay)\n`);
      if (bundled) {
        process.stdout.write(`bundled replay in plain node: ${Math.round(bundled.samplesPerSecond)} samples/s; RSS ${fmt(bundled.beforeMB, 1)} MB at start, peak ${fmt(bundled.peakMB, 1)} MB, maxRSS ${fmt(bundled.maxRssMB, 1)} MB\n`);
      } else process.stdout.write('bundled replay: skipped (esbuild not available)\n');
      process.stdout.write(`target ≥ 1M samples/s under 100 MB RSS: ${res.target.met ? 'met' : 'NOT met'}${v.keep ? `; file kept at ${path}` : ''}\n`);
    }
    return 0;
  } finally {
    if (!v.keep) rmSync(dir, { recursive: true, force: true });
  }
}

/** The replay measured in a child process: bundled with esbuild, run by plain node. */
interface BundledReplay {
  samplesPerSecond: number;
  frames: number;
  beforeMB: number;
  peakMB: number;
  maxRssMB: number;
}

const RUNNER = (replayModule: string) => `
import { fileSource } from ${JSON.stringify(replayModule)};
const path = process.argv[2];
const before = process.memoryUsage.rss();
let peak = before, frames = 0, samples = 0, sum = 0;
const t = performance.now();
fileSource({ path, speed: 'max' }).frames$.subscribe({
  next(f) {
    const x = f.values;
    for (let c = 0; c < x.length; c++) sum += x[c];
    samples += x.length;
    if ((++frames & 0x3fff) === 0) peak = Math.max(peak, process.memoryUsage.rss());
  },
  error(e) { console.error(String(e)); process.exit(1); },
  complete() {
    const s = (performance.now() - t) / 1000;
    peak = Math.max(peak, process.memoryUsage.rss());
    const MB = 1048576;
    console.log(JSON.stringify({ samplesPerSecond: samples / s, frames, beforeMB: before / MB, peakMB: peak / MB, maxRssMB: process.resourceUsage().maxRSS / 1024, sum }));
  },
});
`;

/** Bundles a tiny replay runner and runs it on `path` in plain node; null when esbuild is missing. */
async function bundledReplay(dir: string, path: string): Promise<BundledReplay | null> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    return null;
  }
  const entry = join(dir, 'runner.ts');
  const out = join(dir, 'runner.mjs');
  writeFileSync(entry, RUNNER(fileURLToPath(new URL('../../../devices/file/replay.ts', import.meta.url))));
  await esbuild.build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: out, logLevel: 'silent' });
  const r = spawnSync(process.execPath, [out, path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bench replay: bundled runner failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as BundledReplay;
}
