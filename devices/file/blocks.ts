/**
 * What every file format's reader hands the replay loop (devices/file/replay.ts): blocks of
 * consecutive frames, read synchronously one record (or batch, or a few hundred CSV rows) at a
 * time, so a file is never held whole and the scheduler alone decides when the next read runs.
 *
 * ```
 * file ─▶ BlockReader.next() ─▶ { frames: [f, f, …], markers: [m] } ─▶ replay: pacing, gap events
 *            (sync, bounded)       one record's worth                      on the scheduler
 * ```
 */
import type { Frame, StreamInfo } from '../../src/frames/index.js';

/** An annotation of the recording (EDF+ TAL, a .cfs marker): `t` in the stream's time base, seconds. */
export interface FileMarker {
  readonly type: 'marker';
  readonly t: number;
  /** Seconds; 0 for an instant. */
  readonly duration: number;
  readonly text: string;
}

/** `lost` frames are missing before frame `seq` (a seq jump: an EDF+D discontinuity, a gap in a recording). */
export interface FileGap {
  readonly type: 'gap';
  readonly seq: number;
  readonly t: number;
  readonly lost: number;
}

/** Everything a file source reports besides frames. */
export type FileEvent = FileMarker | FileGap;

/** Frames read together (one EDF record, one .cfs batch, a run of CSV rows) and the markers found with them. */
export interface FileBlock {
  /** In file order; `seq` increases (jumps are gaps). The frames own their values (never reused). */
  readonly frames: Frame[];
  /** Markers stored with these frames; the replay emits each just before the first frame at or after its `t`. */
  readonly markers: FileMarker[];
}

/** The formats a file source reads. */
export type FileFormat = 'edf' | 'csv' | 'cfs';

/** A synchronous, bounded reader of one file's blocks. */
export interface BlockReader {
  readonly info: StreamInfo;
  /** The next block, or null at the end (a torn tail is skipped and counted in `tornBytes`). */
  next(): FileBlock | null;
  /** Bytes of an incomplete last record, left out (known once `next()` returned null; 0 if none). */
  readonly tornBytes: number;
  /** Closes the file; idempotent. */
  close(): void;
}

/** Largest record (EDF data record, .cfs batch) read in one piece: refuses absurd headers before allocating. */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;
