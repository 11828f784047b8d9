import { describe, expect, it } from 'vitest';
import { parseWorkerSource } from '../../src/cli/commands/runWorker.js';
import { main } from '../../src/cli/main.js';

describe('run --worker source', () => {
  it('reads the broker, credentials and prefix, with or without the trailing /+', () => {
    expect(parseWorkerSource('mqtt://u:p%40ss@host:1884/lab/eeg/+')).toEqual({ broker: { url: 'mqtt://host:1884', username: 'u', password: 'p@ss' }, prefix: 'lab/eeg' });
    expect(parseWorkerSource('mqtts://host:8883/cfstream')).toEqual({ broker: { url: 'mqtts://host:8883' }, prefix: 'cfstream' });
    expect(parseWorkerSource('mqtt://host').prefix).toBe('cfstream');
  });

  it.each([
    ['sim:synthetic', /reads device streams from an MQTT broker/],
    ['mqtt://host/a/+/b', /no other wildcard/],
    ['mqtt://host/a?qos=0', /no query options/],
    ['not a url', /not a URL/],
  ])('refuses %s with one clear line', (uri, message) => {
    expect(() => parseWorkerSource(uri)).toThrow(message);
  });

  it('refuses flags that do not apply to a worker, and worker flags without --worker', async () => {
    const errors: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => { errors.push(String(s)); return true; }) as typeof process.stderr.write;
    try {
      expect(await main(['run', 'config/workers.yaml', '--worker', '--headless'])).toBe(2);
      expect(await main(['run', 'config/workers.yaml', '--group', 'g'])).toBe(2);
    } finally {
      process.stderr.write = write;
    }
    expect(errors.join('')).toMatch(/--headless does not apply/);
    expect(errors.join('')).toMatch(/--worker-id and --group need --worker/);
  });
});
