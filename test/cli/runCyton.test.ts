/**
 * `cfstream run` against a Cyton over a real pty pair: the virtual board on one end, the run
 * command's `cyton:` source on the other, through the EEG spectrogram config.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { VirtualCyton } from '../../simulators/virtualCyton.js';
import { describeWithSocat, PtyPair } from '../devices/serial/ptyPair.js';

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
    expect(s.rejects).toBe(0);
    expect(err).toMatch(/source: OpenBCI Cyton on .*host \(8 channels at 250 Hz/);
  }, 20_000);
});
