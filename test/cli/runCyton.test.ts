/**
 * `cfstream run` against a Cyton over a real pty pair: the virtual board on one end, the run
 * command's `cyton:` source on the other, through the EEG spectrogram config.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { VirtualCyton } from '../../simulators/virtualCyton.js';
import { describeWithSocat, PtyPair, until } from '../devices/serial/ptyPair.js';

const root = join(import.meta.dirname, '..', '..');

describeWithSocat('cfstream run with a cyton: source', () => {
  let pty: PtyPair | undefined;
  let board: VirtualCyton | undefined;
  afterEach(async () => {
    await board?.close();
    await pty?.close();
  });

  it('streams the board through stft → compressed NMF, counting the dropped packets as gaps', async () => {
    pty = new PtyPair();
    await pty.start();
    board = await VirtualCyton.start({ path: pty.board, dropEvery: 100 });
    const child = spawn(process.execPath, [join(root, 'src/cli/cfstream.js'), 'run', 'config/eeg-spectrogram.yaml', '--source', `cyton:${pty.host}`, '--duration', '4', '--json'], { cwd: root });
    let out = '', err = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, err).toBe(0);
    const s = JSON.parse(out);
    expect(s.stoppedBy).toBe('duration');
    // ~4 s at 250 Hz, every 100th packet never sent and counted from the counter.
    expect(s.frames).toBeGreaterThan(500);
    expect(s.deviceLost).toBeGreaterThanOrEqual(Math.floor(s.frames / 100) - 1);
    expect(s.deviceLost).toBeLessThanOrEqual(Math.ceil(s.frames / 99) + 1);
    expect(s.gaps).toBe(0); // no detectGaps stage in this config: nothing counted twice
    expect(s.deviceDisconnects).toBe(0);
    expect(s.rejects).toBe(0);
    expect(err).toMatch(/source: OpenBCI Cyton on .*host \(8 channels at 250 Hz/);
  }, 20_000);

  it('survives an unplug and replug mid-run: reconnects, the model keeps learning, the run ends cleanly', async () => {
    pty = new PtyPair();
    await pty.start();
    board = await VirtualCyton.start({ path: pty.board });
    // The EEG config, warm-started after 8 spectra (2 s) and reconstructing every second, so factors come before the unplug and after the replug.
    const config = join(pty.dir, 'eeg.yaml');
    writeFileSync(config, readFileSync(join(root, 'config/eeg-spectrogram.yaml'), 'utf8').replace(/warmStartFrames: \d+/, 'warmStartFrames: 8').replace(/everyMs: 5000/, 'everyMs: 1000'));
    const child = spawn(process.execPath, [join(root, 'src/cli/cfstream.js'), 'run', config, '--source', `cyton:${pty.host}`, '--duration', '12', '--json'], { cwd: root });
    let out = '', err = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await until(() => /device connect/.test(err), 10_000, 'the board to connect');
    const connectedAt = performance.now();
    await new Promise((r) => setTimeout(r, 3000));
    await pty.kill(); // both ptys vanish: the cable is pulled
    // At most this many samples (a few packets of slack) and so spectra (1 s windows, 63-sample hop) before the unplug.
    const spectraBefore = Math.floor((250 * (performance.now() - connectedAt) / 1000 + 25 - 250) / 63) + 1;
    await until(() => /device disconnect/.test(err), 5000, 'the run to notice the unplug');
    // Nothing arrives while unplugged: a status line written after the disconnect has the count from before it.
    const sinceUnplug = err.length;
    await until(() => /\] \d+ frames/.test(err.slice(sinceUnplug)), 3000, 'a status line during the outage');
    const framesBefore = Number(/\] (\d+) frames/.exec(err.slice(sinceUnplug))![1]);
    await pty.start(); // plugged back; the board reopens its end by itself
    const code = await exit;
    expect(code, err).toBe(0);
    const s = JSON.parse(out);
    expect(s.stoppedBy).toBe('duration');
    expect(err).toMatch(/device reconnect/);
    expect(s.deviceDisconnects).toBe(1);
    expect(err.match(/device connect/g)?.length, err).toBeGreaterThanOrEqual(2);
    // Frames from both sides of the outage: 3 s before the unplug, and at least 1 s after the replug.
    expect(framesBefore).toBeGreaterThan(250 * 2);
    expect(s.frames - framesBefore).toBeGreaterThan(250);
    expect(s.frames).toBeLessThan(250 * 12);
    expect(s.rejects).toBe(0);
    // Spectra made after the replug reached the model too.
    expect(s.lastFactors.framesSeen).toBeGreaterThan(spectraBefore + 2);
  }, 30_000);
});
