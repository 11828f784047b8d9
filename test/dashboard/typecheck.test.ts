import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

describe("the dashboard page's modules", () => {
  it('type-check as JavaScript with JSDoc against the DOM, mqtt.js and uPlot (src/dashboard/tsconfig.json)', () => {
    // The root tsconfig skips .js files; the page has its own (lib DOM, checkJs, strict).
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', 'src/dashboard/tsconfig.json'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});
