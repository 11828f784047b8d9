import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const fixture = join(root, 'test/fixtures/S001R01.edf');
const dir = mkdtempSync(join(tmpdir(), 'cfstream-inspect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'src/cli/cfstream.js'), 'inspect', ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('cfstream inspect', () => {
  it("prints the fixture's header and annotations as JSON: 64 signals at 160 Hz, 61 records, T0 at 0 s lasting 60.2 s", () => {
    const r = cli(fixture);
    expect(r.code, r.err).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc).toMatchObject({ format: 'EDF+C', records: 61, declaredRecords: 61, recordDuration: 1, tornBytes: 0, duration: 61, start: '2009-08-12T16:15:00', annotationSignals: 1 });
    expect(doc.signals.length).toBe(64);
    expect(doc.signals.every((s: { rate: number; physicalDimension: string }) => s.rate === 160 && s.physicalDimension === 'uV')).toBe(true);
    expect(doc.signals[0]).toMatchObject({ label: 'Fc5.', physicalMin: -8092, physicalMax: 8092, digitalMin: -8092, digitalMax: 8092, samplesPerRecord: 160 });
    expect(doc.annotations).toEqual([{ onset: 0, duration: 60.2, text: 'T0' }]);
    expect(doc.discontinuities).toEqual([]);
  });

  it('accepts a file: URI', () => {
    const r = cli(`file:${fixture}?speed=max`);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).records).toBe(61);
  });

  it('bad input: exit 2 with one line naming the file and the field', () => {
    const garbage = join(dir, 'garbage.edf');
    writeFileSync(garbage, Buffer.alloc(400, 0x41));
    const g = cli(garbage);
    expect(g.code).toBe(2);
    expect(g.err).toMatch(/^cfstream: error: .*garbage\.edf: header field 'number of signals' must be an integer; got "AAAA"\n$/);
    const short = join(dir, 'short.bdf');
    writeFileSync(short, '0       abc');
    expect(cli(short).err).toMatch(/short\.bdf: file too short for an EDF header \(11 of 256 bytes\)/);
    expect(cli(join(dir, 'none.edf')).err).toMatch(/none\.edf: cannot open: no such file/);
    const txt = cli(join(dir, 'x.txt'));
    expect([txt.code, txt.err]).toEqual([2, expect.stringMatching(/inspect .*x\.txt: the extension must be \.edf, \.bdf, \.csv or \.cfs/)]);
  });
});
