/** Crafted EDF/BDF files and temp-dir helpers for the file-device tests (not a test file itself). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The repository's PhysioNet fixture (64 EEG channels at 160 Hz, EDF+C, 61 records, T0 annotation). */
export const FIXTURE = join(import.meta.dirname, '..', '..', 'fixtures', 'S001R01.edf');

/** A temporary directory and a `file(name, bytes)` writer into it; call `cleanup` in afterAll. */
export function tempDir(prefix: string): { dir: string; file: (name: string, bytes: Uint8Array | string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    file: (name, bytes) => {
      const p = join(dir, name);
      writeFileSync(p, bytes);
      return p;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Options of `buildEdf`: signals given as digital samples per record. */
export interface CraftOptions {
  bdf?: boolean;
  reserved?: string;
  records: number[][][];
  spr: number[];
  labels?: string[];
  pmin?: number;
  pmax?: number;
  dmin?: number;
  dmax?: number;
  declared?: number | string;
  duration?: number | string;
  /** TAL bytes of record r, for signals labelled 'EDF Annotations'. */
  annotation?: (rec: number) => string;
}

/** Builds an EDF/BDF file byte for byte (independently of the writer under test). */
export function buildEdf(o: CraftOptions): Buffer {
  const ns = o.spr.length;
  const pad = (s: string, n: number) => s.padEnd(n, ' ').slice(0, n);
  let head = (o.bdf ? '\xffBIOSEMI' : pad('0', 8)) + pad('X X X X', 80) + pad('Startdate X', 80) + '24.11.26' + '10.20.30';
  head += pad(String(256 + 256 * ns), 8) + pad(o.reserved ?? '', 44) + pad(String(o.declared ?? o.records.length), 8) + pad(String(o.duration ?? 1), 8) + pad(String(ns), 4);
  const labels = o.labels ?? o.spr.map((_, i) => `ch${i}`);
  const fields: [number, (i: number) => string][] = [
    [16, (i) => labels[i]!], [80, () => ''], [8, () => 'uV'], [8, () => String(o.pmin ?? -100)], [8, () => String(o.pmax ?? 100)],
    [8, () => String(o.dmin ?? -1000)], [8, () => String(o.dmax ?? 1000)], [80, () => ''], [8, (i) => String(o.spr[i])], [32, () => ''],
  ];
  for (const [size, f] of fields) for (let i = 0; i < ns; i++) head += pad(f(i), size);
  const bps = o.bdf ? 3 : 2;
  const parts: Buffer[] = [Buffer.from(head, 'latin1')];
  o.records.forEach((rec, r) => {
    o.spr.forEach((n, s) => {
      const b = Buffer.alloc(n * bps);
      if (labels[s] === 'EDF Annotations' || labels[s] === 'BDF Annotations') b.write(o.annotation!(r), 'utf8');
      else rec[s]!.forEach((v, k) => (o.bdf ? b.writeIntLE(v, k * 3, 3) : b.writeInt16LE(v, k * 2)));
      parts.push(b);
    });
  });
  return Buffer.concat(parts);
}

/** A seeded uniform generator in [0, 1) (mulberry32), for test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
