/**
 * A progress bar on stderr, drawn only when stderr is a TTY (so logs, pipes and `--json` output
 * stay clean). Redraws at most 10 times a second.
 */

/** A running progress bar. */
export interface Progress {
  /** Sets the completed fraction (0..1) and an optional status text. */
  update(fraction: number, text?: string): void;
  /** Clears the bar. */
  done(): void;
}

/** Creates a progress bar labelled `label`; a no-op unless `enabled` and `stream` is a TTY. */
export function progress(label: string, enabled = true, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!enabled || !stream.isTTY) return { update() {}, done() {} };
  let last = 0;
  const width = 28;
  const draw = (f: number, text = '') => {
    const filled = Math.round(Math.max(0, Math.min(1, f)) * width);
    const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(f * 100).toFixed(0).padStart(3)}% ${text}`;
    stream.write(`\r${line.slice(0, (stream.columns ?? 100) - 1)}\x1b[K`);
  };
  return {
    update(f, text) {
      const t = Date.now();
      if (t - last < 100 && f < 1) return;
      last = t;
      draw(f, text);
    },
    done() {
      stream.write('\r\x1b[K');
    },
  };
}
