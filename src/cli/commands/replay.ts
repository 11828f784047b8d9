/**
 * `cfstream replay <file> [--speed N|max] [--json]`: replays a recording (EDF/EDF+/BDF/BDF+, CSV,
 * .cfs) through `fileSource` and reports what came out: a line per wall-clock second while it
 * runs, then a summary (frames, samples, samples/s, gaps, annotations); with `--json`, only the
 * summary, as one JSON document.
 */
import { fileSource, type FileMarker } from '../../../devices/file/replay.js';
import { InvalidOptionError } from '../../errors.js';
import { frameLength } from '../../frames/index.js';
import { parseFlags, UsageError } from '../args.js';
import { fmt, printJson } from '../output.js';

const FLAGS = { speed: { type: 'string' }, json: { type: 'boolean' }, seed: { type: 'string' } } as const;

/** Usage line (for the CLI help). */
export const REPLAY_USAGE = 'cfstream replay <file|file:URI> [--speed N|max] [--json]';

/** The speed flag: a factor > 0 or 'max'. */
export function parseSpeed(raw: string | undefined): number | 'max' | undefined {
  if (raw === undefined || raw === 'max') return raw;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || v <= 0) throw new UsageError(`--speed must be a number > 0 or max; got ${JSON.stringify(raw)}`);
  return v;
}

/** Entry point of `cfstream replay`; resolves to the exit code. */
export async function replayCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseFlags('replay', argv, FLAGS);
  if (positionals.length !== 1) throw new UsageError(`replay: expected one file; got ${positionals.length}. Usage: ${REPLAY_USAGE}`);
  const arg = positionals[0]!;
  const speed = parseSpeed(v.speed);
  let src;
  try {
    src = fileSource(arg.startsWith('file:') ? arg : `file:${arg}`, speed === undefined ? {} : { speed });
  } catch (e) {
    if (e instanceof InvalidOptionError) throw new UsageError(`replay ${arg}: ${e.message}`);
    throw e;
  }
  const { info } = src;
  const markers: FileMarker[] = [];
  let gaps = 0, lost = 0;
  src.events$.subscribe((e) => {
    if (e.type === 'marker') {
      if (markers.length < 10_000) markers.push(e);
    } else {
      gaps++;
      lost += e.lost;
    }
  });
  let frames = 0, samples = 0, tFirst = NaN, tLast = NaN;
  let lastSamples = 0;
  const start = performance.now();
  const tick = v.json
    ? undefined
    : setInterval(() => {
      const s = (performance.now() - start) / 1000;
      process.stdout.write(`${fmt(s, 1).padStart(7)} s  file t ${fmt(tLast, 2).padStart(9)} s  frames ${frames}  samples ${samples} (${Math.round(samples - lastSamples)}/s)  gaps ${gaps}  annotations ${src.stats().markers}\n`);
      lastSamples = samples;
    }, 1000);
  try {
    await new Promise<void>((resolve, reject) => {
      src.frames$.subscribe({
        next: (f) => {
          if (Number.isNaN(tFirst)) tFirst = f.t;
          tLast = f.t;
          frames++;
          samples += f.values.length;
        },
        error: reject,
        complete: resolve,
      });
    });
  } finally {
    if (tick) clearInterval(tick);
  }
  const wallSeconds = (performance.now() - start) / 1000;
  const span = frames > 0 ? tLast - tFirst + (info.rate > 0 ? 1 / info.rate : 0) : 0;
  const summary = {
    file: src.options.path, format: src.format, id: info.id, kind: info.kind, channels: info.n, valuesPerFrame: frameLength(info), rate: info.rate,
    speed: src.options.speed, frames, samples, fileSeconds: span, wallSeconds,
    samplesPerSecond: samples / wallSeconds, framesPerSecond: frames / wallSeconds,
    gaps, lost, annotations: src.stats().markers, markers: markers.map((m) => ({ t: m.t, duration: m.duration, text: m.text })),
    tornBytes: src.stats().tornBytes,
  };
  if (v.json) printJson(summary);
  else {
    process.stdout.write(`replayed ${src.options.path} (${src.format.toUpperCase()}, ${info.n} channels at ${info.rate} Hz, speed ${summary.speed}): ` +
      `${frames} frames, ${samples} samples in ${fmt(wallSeconds, 2)} s (${Math.round(summary.samplesPerSecond)} samples/s); ` +
      `${fmt(span, 2)} s of recording; gaps ${gaps} (${lost} frames lost); annotations ${summary.annotations}` +
      `${summary.tornBytes ? `; torn tail of ${summary.tornBytes} bytes left out` : ''}\n`);
    for (const m of markers.slice(0, 20)) process.stdout.write(`  annotation at ${m.t} s${m.duration ? ` lasting ${m.duration} s` : ''}: ${m.text}\n`);
  }
  return 0;
}
