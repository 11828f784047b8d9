/**
 * Source URIs (ARCHITECTURE.md, Interfaces) → an opened source: its header, its frames and, for
 * simulators, the truth behind them. The one place that maps schemes to devices/ and simulators/.
 *
 *   sim:synthetic?n=2000&d=400&p=5&r=10&k=40&noise=0.1&rate=250&seed=0[&bits=12&range=…&adcNoise=…][&frames=N]
 *       the paper's sparse model (simulators/sparseModel.ts) measured by a compressive front-end
 *       (simulators/frontEnd.ts; d=0: raw frames, no front-end)
 *   sim:eeg?channels=8&patterns=4&rate=250&line=60&burstEvery=60&seed=0
 *       an EEG-like raw source: sparse spectral-spatial patterns, bursts, line noise, drift (simulators/eegSource.ts)
 *   file:<path.edf|.bdf|.csv|.cfs>[?speed=1|N|max&signals=a,b]
 *       a recording replayed on the file's own clock (devices/file/replay.ts); `--pacing max` = speed=max
 *   mqtt://host:port/<prefix>/<stream>[?…]
 *       a sensor publishing frames (CFSB batches or JSON) with its retained info (devices/mqtt/sensor.ts);
 *       the header is the retained info, awaited up to 10 s
 *   cyton:<serial path>[?daisy=1&baud=115200&gain=24]
 *       an OpenBCI Cyton (8 ch, 250 Hz) or Cyton + Daisy (16 ch, 125 Hz) over serial (devices/serial)
 *   lines:<serial path>?columns=8&rate=250[&baud=115200&sep=auto&time=none|first&timeUnit=s|ms&id=…&labels=a,b,c]
 *       an Arduino-style sensor printing CSV / whitespace lines of numbers over serial (devices/serial)
 */
import { firstValueFrom, map, Observable, race, timer } from 'rxjs';
import type { Frame, StreamInfo } from '../frames/index.js';
import type { Matrix } from '../linalg/matrix.js';
import { compressiveFrontEnd } from '../../simulators/frontEnd.js';
import { eegSource } from '../../simulators/eegSource.js';
import { sparseModelSource } from '../../simulators/sparseModel.js';
import { UsageError } from './args.js';

/** An opened source. */
export interface OpenedSource {
  readonly uri: string;
  readonly info: StreamInfo;
  readonly frames$: Observable<Frame>;
  /** What a person reads in the start-up line. */
  readonly description: string;
  /** Simulators: the true factors in the original domain. */
  readonly truth?: { W: Matrix };
  /** Releases ports and handles (after the subscription ended). */
  close(): Promise<void>;
  /** Device events (connects, disconnects, reconnects, gaps, rejects), hot: subscribe before the frames. */
  readonly events$?: Observable<SourceEvent>;
}

/** What `run` needs of a device event: its type, how many frames it says were lost, a line for people. */
export interface SourceEvent {
  readonly type: string;
  readonly lost?: number;
  readonly message?: string;
}

/** How sources pace themselves. */
export interface OpenSourceOptions {
  /** 'realtime' (default) or 'max' for simulators and replays. */
  pacing?: 'realtime' | 'max';
}

/** Opens a source URI; throws UsageError naming the URI and the bad part. */
export async function openSource(uri: string, o: OpenSourceOptions = {}): Promise<OpenedSource> {
  const colon = uri.indexOf(':');
  const scheme = colon > 0 ? uri.slice(0, colon) : '';
  switch (scheme) {
    case 'sim': return openSimulator(uri, uri.slice(colon + 1), o);
    case 'cyton': return openCyton(uri);
    case 'lines': return openLines(uri);
    case 'file': return openFile(uri, o);
    case 'mqtt':
    case 'mqtts':
    case 'ws':
    case 'wss': return openMqtt(uri);
    default:
      throw new UsageError(`source ${JSON.stringify(uri)}: unknown scheme ${JSON.stringify(scheme)} (known: sim:, file:, cyton:, lines:, mqtt://)`);
  }
}

/** Numeric query parameters with defaults; unknown keys and non-numbers are usage errors. */
function numericQuery<K extends string>(uri: string, query: string, defaults: Record<K, number>): Record<K, number> {
  const out = { ...defaults };
  for (const [key, value] of new URLSearchParams(query)) {
    if (!(key in defaults)) throw new UsageError(`source ${uri}: unknown parameter ${JSON.stringify(key)} (known: ${Object.keys(defaults).join(', ')})`);
    const v = value === 'Infinity' ? Infinity : Number(value);
    if (value.trim() === '' || Number.isNaN(v)) throw new UsageError(`source ${uri}: parameter ${key} must be a number; got ${JSON.stringify(value)}`);
    out[key as K] = v;
  }
  return out;
}

function openSimulator(uri: string, rest: string, o: OpenSourceOptions): OpenedSource {
  const q = rest.indexOf('?');
  const model = q >= 0 ? rest.slice(0, q) : rest;
  const query = q >= 0 ? rest.slice(q + 1) : '';
  if (model === 'eeg') {
    const e = numericQuery(uri, query, { channels: 8, patterns: 4, spread: 3, rate: 250, line: 60, noise: 2, burstEvery: 60, seed: 0, frames: Infinity });
    try {
      const src = eegSource({ ...e, pacing: o.pacing ?? 'realtime' });
      return {
        uri, info: src.info, frames$: src.frames$, close: async () => undefined,
        description: `simulated EEG: ${e.channels} channels at ${e.rate} Hz, ${e.patterns} spectral-spatial patterns, ${e.line} Hz line noise, a burst every ${e.burstEvery} s`,
      };
    } catch (err) {
      throw new UsageError(`source ${uri}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (model !== 'synthetic') throw new UsageError(`source ${uri}: unknown simulator ${JSON.stringify(model)} (known: synthetic, eeg)`);
  const p = numericQuery(uri, query, { n: 2000, d: 400, p: 5, r: 10, k: 40, noise: 0.1, rate: 250, seed: 0, bits: 0, range: 0, adcNoise: 0, frames: Infinity });
  const wrap = (e: unknown): never => {
    throw new UsageError(`source ${uri}: ${e instanceof Error ? e.message : String(e)}`);
  };
  try {
    const raw = sparseModelSource({ n: p.n, r: p.r, k: p.k, noise: p.noise, rate: p.rate, seed: p.seed, frames: p.frames, pacing: o.pacing ?? 'realtime' });
    const base = { uri, truth: raw.truth, close: async () => undefined };
    if (p.d === 0) return { ...base, info: raw.info, frames$: raw.frames$, description: `simulated sparse model (raw, n = ${p.n}, r = ${p.r}, k = ${p.k}) at ${p.rate} Hz` };
    const fe = compressiveFrontEnd(raw.info, {
      projection: { ensemble: 'sparse-binary', n: p.n, d: p.d, p: p.p, seed: p.seed + 1 },
      bits: p.bits, ...(p.bits > 0 ? { range: p.range } : {}), noise: p.adcNoise, noiseSeed: p.seed + 4,
    });
    return {
      ...base, info: fe.info, frames$: raw.frames$.pipe(fe.measure),
      description: `simulated compressive front-end: sparse model n = ${p.n}, r = ${p.r}, k = ${p.k}, measured to d = ${p.d} (sparse-binary, p = ${p.p}) at ${p.rate} Hz`,
    };
  } catch (e) {
    return wrap(e);
  }
}

async function openCyton(uri: string): Promise<OpenedSource> {
  const { cytonSource } = await import('../../devices/serial/index.js');
  let src;
  try {
    src = cytonSource(uri);
  } catch (e) {
    throw new UsageError(`source ${uri}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const o = src.options;
  return {
    uri, info: src.info, frames$: src.frames$, events$: src.events$,
    description: `OpenBCI Cyton${o.daisy ? ' + Daisy' : ''} on ${o.path} (${src.info.n} channels at ${src.info.rate} Hz, ${o.baudRate} baud)`,
    close: async () => undefined,
  };
}

async function openLines(uri: string): Promise<OpenedSource> {
  const { linesSource } = await import('../../devices/serial/index.js');
  let src;
  try {
    src = linesSource(uri);
  } catch (e) {
    throw new UsageError(`source ${uri}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const o = src.options;
  const time = o.time === 'first' ? `time column in ${o.timeUnit}` : `${o.rate} lines/s`;
  return {
    uri, info: src.info, frames$: src.frames$, events$: src.events$,
    description: `line sensor on ${o.path} (${o.columns} columns, ${time}, separator ${o.separator}, ${o.baudRate} baud)`,
    close: async () => undefined,
  };
}

async function openFile(uri: string, o: OpenSourceOptions): Promise<OpenedSource> {
  const { fileSource } = await import('../../devices/file/replay.js');
  let src;
  try {
    src = fileSource(uri, o.pacing === 'max' ? { speed: 'max' } : {});
  } catch (e) {
    throw new UsageError(`source ${uri}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const events$ = src.events$.pipe(map((e) => (e.type === 'gap' ? { type: 'gap', lost: e.lost } : { type: 'marker', message: `${e.text} at ${e.t} s` })));
  return {
    uri, info: src.info, frames$: src.frames$, events$,
    description: `${src.format.toUpperCase()} recording ${src.options.path} (${src.info.n} channels at ${src.info.rate} Hz), speed ${src.options.speed}`,
    close: async () => undefined,
  };
}

async function openMqtt(uri: string): Promise<OpenedSource> {
  const { mqttSource } = await import('../../devices/mqtt/sensor.js');
  let src;
  try {
    src = mqttSource(uri);
  } catch (e) {
    throw new UsageError(`source ${uri}: ${e instanceof Error ? e.message : String(e)}`);
  }
  // One session from the header to the frames: held open by `keep` until the pipeline subscribes
  // frames$, so frames that come meanwhile wait in the source's queue instead of being lost.
  const keep = src.info$.subscribe({ error: () => undefined });
  // The header must be known before the pipeline is checked: wait for the retained info.
  const waitMs = 10_000;
  const info = await firstValueFrom(race(src.info$, timer(waitMs).pipe(map(() => undefined))));
  if (!info) {
    keep.unsubscribe();
    throw new UsageError(`source ${uri}: no stream info on ${src.topics.info} within ${waitMs / 1000} s (is the sensor publishing its retained info?)`);
  }
  const frames$ = new Observable<Frame>((subscriber) => {
    const sub = src.frames$.subscribe(subscriber);
    keep.unsubscribe();
    return sub;
  });
  const events$ = src.events$.pipe(map((e): SourceEvent => {
    switch (e.type) {
      case 'reject': return { type: 'reject', message: e.message };
      case 'drop': return e.reason === 'queue-full'
        ? { type: 'drop', lost: e.count, message: `${e.count} frames dropped (the pipeline did not keep up; ${e.dropped} so far)` }
        : { type: 'drop', message: `a frame message dropped while waiting for the info (${e.dropped} so far)` };
      case 'stale': case 'fresh': return { type: e.type, message: e.message };
      case 'offline': case 'reconnect': case 'fallback': case 'close': return { type: e.type, message: `${e.url}: ${e.reason}` };
      case 'error': return { type: 'error', message: e.message };
      default: return { type: e.type };
    }
  }));
  return {
    uri, info, frames$, events$,
    description: `MQTT sensor ${src.topics.frames} (${info.kind}, n = ${info.n}${info.projection ? `, d = ${info.projection.d}` : ''}, ${info.rate} Hz)`,
    close: async () => keep.unsubscribe(),
  };
}
