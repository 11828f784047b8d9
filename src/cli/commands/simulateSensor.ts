/**
 * `cfstream simulate sensor --mqtt <url>`: a virtual MQTT sensor (simulators/virtualSensor.ts)
 * publishing a seeded stream on `<prefix>/<stream>/frames` with its retained info, until Ctrl-C /
 * SIGTERM or `--duration` seconds; then a summary of what it sent and which faults it injected
 * (one JSON document with `--json`). Connection events go to stderr. `--qos 1`: every frame
 * message is acknowledged by the broker, kept in order while the broker is away and sent again
 * after the reconnect (outbox of `--queue-limit` messages, oldest dropped and counted); at the
 * end the sensor waits up to 5 s for the outbox to drain.
 *
 * ```
 * cfstream simulate sensor --mqtt mqtt://127.0.0.1:1883 --stream lab1 --compressed 8 --nan-every 50 &
 * # then read mqtt://127.0.0.1:1883/cfstream/lab1 (mqttSource) in another process
 * ```
 */
import { DataError, InvalidOptionError } from '../../errors.js';
import { num, parseFlags, UsageError } from '../args.js';
import { printJson } from '../output.js';
import { untilStopped } from './simulate.js';

const FLAGS = {
  mqtt: { type: 'string' }, stream: { type: 'string' }, prefix: { type: 'string' }, rate: { type: 'string' },
  n: { type: 'string' }, rank: { type: 'string' }, batch: { type: 'string' }, compressed: { type: 'string' }, p: { type: 'string' },
  'json-frames': { type: 'boolean' }, seed: { type: 'string' }, noise: { type: 'string' }, frames: { type: 'string' },
  'malformed-every': { type: 'string' }, 'nan-every': { type: 'string' }, 'wrong-length-every': { type: 'string' }, 'gap-every': { type: 'string' },
  duration: { type: 'string' }, json: { type: 'boolean' }, qos: { type: 'string' }, 'queue-limit': { type: 'string' },
} as const;

/** Entry point of `simulate sensor`; resolves to the exit code when the sensor stops. */
export async function simulateSensorCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseFlags('simulate sensor', argv, FLAGS);
  if (positionals.length) throw new UsageError(`simulate sensor: unexpected argument ${JSON.stringify(positionals[0])}`);
  if (!v.mqtt) throw new UsageError('simulate sensor: --mqtt <broker url> is required (e.g. mqtt://127.0.0.1:1883)');
  const options = {
    broker: { url: v.mqtt },
    stream: v.stream ?? 'sensor1',
    prefix: v.prefix ?? 'cfstream',
    rate: num('rate', v.rate, { min: 0.001, max: 1_000_000, def: 250 }),
    n: num('n', v.n, { int: true, min: 2, max: 65536, def: 32 }),
    rank: num('rank', v.rank, { int: true, min: 1, def: 4 }),
    batch: num('batch', v.batch, { int: true, min: 1, max: 65536, def: 25 }),
    compressed: num('compressed', v.compressed, { int: true, min: 0, def: 0 }),
    p: num('p', v.p, { int: true, min: 1, def: 5 }),
    format: v['json-frames'] ? 'json' as const : 'cfsb' as const,
    seed: num('seed', v.seed, { int: true, def: 0 }),
    noise: num('noise', v.noise, { min: 0, def: 0.01 }),
    frames: num('frames', v.frames, { int: true, min: 1, def: Infinity }),
    malformedEvery: num('malformed-every', v['malformed-every'], { int: true, min: 0, def: 0 }),
    nanEvery: num('nan-every', v['nan-every'], { int: true, min: 0, def: 0 }),
    wrongLengthEvery: num('wrong-length-every', v['wrong-length-every'], { int: true, min: 0, def: 0 }),
    gapEvery: num('gap-every', v['gap-every'], { int: true, min: 0, def: 0 }),
    qos: num('qos', v.qos, { int: true, min: 0, max: 1, def: 0 }) as 0 | 1,
    queueLimit: num('queue-limit', v['queue-limit'], { int: true, min: 0, def: 10_000 }),
  };
  const duration = num('duration', v.duration, { min: 0, def: Infinity });

  const { VirtualSensor } = await import('../../../simulators/virtualSensor.js');
  let sensor: Awaited<ReturnType<typeof VirtualSensor.start>>;
  try {
    sensor = await VirtualSensor.start(options);
  } catch (e) {
    if (e instanceof InvalidOptionError) throw new UsageError(`simulate sensor: ${e.message}`);
    throw new DataError(`cannot publish: ${(e as Error).message}`, v.mqtt);
  }
  const conn = sensor.mqtt;
  conn.events$.subscribe((e) => {
    if (e.type !== 'connect') process.stderr.write(`cfstream simulate: mqtt ${e.type} ${e.url}${'reason' in e ? `: ${e.reason}` : 'message' in e ? `: ${e.message}` : ''}\n`);
  });
  const what = `${sensor.info.kind} n=${options.n}${options.compressed ? ` d=${options.compressed}` : ''}, ${options.rate} frames/s, ${options.format === 'json' ? 'JSON frames' : `CFSB batches of ${options.batch}`}, seed ${options.seed}, MQTT ${conn.protocolVersion === 5 ? '5' : '3.1.1'}, QoS ${options.qos}`;
  process.stderr.write(`cfstream simulate: virtual sensor on ${sensor.topics.frames} at ${conn.url} (${what}); Ctrl-C to stop\n`);

  await untilStopped(duration, sensor.done);
  await sensor.close();
  const s = sensor.stats();
  const summary = {
    board: 'sensor', mqtt: conn.url, topic: sensor.topics.base, info: sensor.info, protocolVersion: conn.protocolVersion,
    qos: options.qos, messages: s.messages, frames: s.frames, bytes: s.bytes, unsent: s.unsent, dropped: s.dropped, droppedFrames: s.droppedFrames, retried: s.retried,
    malformed: s.malformed.length, nan: s.nan.length, wrongLength: s.wrongLength.length, gaps: s.gaps.length,
  };
  if (v.json) printJson(summary);
  else {
    process.stdout.write(`virtual sensor on ${sensor.topics.base}: sent ${s.messages} messages (${s.frames} frames, ${s.bytes} bytes; ${s.unsent} unsent, ${s.dropped} dropped (${options.qos === 1 ? `outbox full; ${s.retried} retried` : 'socket backed up'})); ` +
      `malformed ${summary.malformed}, NaN ${summary.nan}, wrong length ${summary.wrongLength}, gaps ${summary.gaps}\n`);
  }
  return 0;
}
