/**
 * `fileSource`: replays a recording (EDF/EDF+/BDF/BDF+, CSV, cfstream's .cfs) as `Observable<Frame>`
 * plus a side channel of events (annotations as markers, discontinuities as gaps), paced in real
 * time, ×N, or as fast as the consumer takes it.
 *
 * ```
 * file ──read one record (sync)──▶ frames ──on the scheduler──▶ frames$   f f f f   f f f
 *                                                                events$  m         gap
 * speed 1:   frame t is emitted at  start + (t − t_first) / 1 s   (virtual clock: file time)
 * speed 10:  … at start + (t − t_first) / 10
 * max:       chunks of `chunkValues` values, one scheduler action each
 * ```
 *
 * Time: `seq` and `t` come from the file (seconds from its start for EDF, the stored times for CSV
 * and .cfs), never from the wall clock; the scheduler's clock only paces. Due times are computed
 * from the file's timestamps, not summed delays, so pacing does not drift, and a late timer
 * catches up by emitting every frame already due. Inject a `TestScheduler` to test pacing in
 * virtual time: reads are synchronous, so nothing but the scheduler moves the replay.
 *
 * Bounded memory: one record (two for EDF, which looks one ahead for fill annotations) is in
 * memory at a time; each scheduler action reads what it emits. RxJS has no pull: the consumer's
 * synchronous work in `next` is the backpressure, and the replay yields to the event loop after
 * each chunk and stops reading as soon as the subscriber unsubscribes.
 *
 * Events (hot, like cytonSource's: subscribe before frames$): a marker is emitted just before the
 * first frame at or after its `t` (those past the last frame at the end); a gap just before the
 * frame that follows a seq jump, with the number of frames lost.
 */
import { asyncScheduler, Observable, share, Subject, type Subscription } from 'rxjs';
import type { Frame, StreamInfo } from '../../src/frames/index.js';
import type { BlockReader, FileBlock, FileEvent, FileFormat, FileMarker } from './blocks.js';
import { openCfsBlocks } from './cfsRecording.js';
import { openCsvBlocks } from './csvBlocks.js';
import { openEdfBlocks, EdfBlockReader } from './edfBlocks.js';
import type { EdfHeader, EdfSignal } from './edf.js';
import { parseFileUri, resolveFileSourceOptions, type FileSourceOptions, type ResolvedFileSourceOptions } from './fileOptions.js';

export type { FileEvent, FileGap, FileMarker, FileFormat } from './blocks.js';
export { parseFileUri, resolveFileSourceOptions, DEFAULT_FILE_SOURCE_OPTIONS, type FileSourceOptions, type ResolvedFileSourceOptions } from './fileOptions.js';

/** Running totals of a file source (over all its replays). */
export interface FileSourceStats {
  frames: number;
  /** frames × values per frame. */
  samples: number;
  markers: number;
  gaps: number;
  lost: number;
  /** Bytes of a torn last record left out by the last complete replay. */
  tornBytes: number;
}

/** A file source: its header, its frames (the file is read on subscribe, shared), its events. */
export interface FileSource {
  readonly info: StreamInfo;
  readonly format: FileFormat;
  readonly options: Readonly<ResolvedFileSourceOptions>;
  /** EDF/BDF only: the parsed header and the signals read (their physical and digital ranges). */
  readonly edf?: { readonly header: EdfHeader; readonly signals: readonly EdfSignal[] };
  /** Reads the file on the first subscription; completes at its end. */
  readonly frames$: Observable<Frame>;
  /** Hot: markers and gaps, in stream order with the frames. */
  readonly events$: Observable<FileEvent>;
  /** A copy of the running totals. */
  stats(): FileSourceStats;
}

/** Opens the block reader of a file (synchronously: DataError naming the file and field). */
export function openBlocks(o: ResolvedFileSourceOptions): BlockReader {
  if (o.format === 'edf') return openEdfBlocks(o.path, { id: o.id, signals: o.signals });
  if (o.format === 'csv') return openCsvBlocks(o.path, { id: o.id, rate: o.rate });
  return openCfsBlocks(o.path, { id: o.id });
}

/**
 * Replays a recording as a stream of frames.
 *
 * Like BrainFlow's playback board, but for EDF+/BDF+/CSV/.cfs, at ×N or `max`, on a virtual clock
 * driven by the file's own timestamps, with annotations and gaps as events.
 *
 * @example
 * const src = fileSource('file:test/fixtures/S001R01.edf?speed=max');
 * src.events$.subscribe((e) => e.type === 'marker' && console.log(e.text));
 * src.frames$.subscribe((f) => …); // 9760 frames of 64 µV values, seq 0…9759, t = seq / 160
 * @param source a `file:` URI or the options
 * @param overrides options applied over the URI's (scheduler, speed, …)
 * @returns the source; the header is read now (DataError naming the file and field), the data on subscribe
 */
export function fileSource(source: string | FileSourceOptions, overrides: Partial<FileSourceOptions> = {}): FileSource {
  const base = typeof source === 'string' ? parseFileUri(source) : source;
  const options = Object.freeze(resolveFileSourceOptions({ ...base, ...overrides } as FileSourceOptions));
  const probe = openBlocks(options);
  const info = probe.info;
  const edf = probe instanceof EdfBlockReader ? { header: probe.header, signals: probe.signals } : undefined;
  probe.close();
  const events = new Subject<FileEvent>();
  const stats: FileSourceStats = { frames: 0, samples: 0, markers: 0, gaps: 0, lost: 0, tornBytes: 0 };
  const frames$ = new Observable<Frame>((subscriber) => {
    const scheduler = options.scheduler ?? asyncScheduler;
    const speed = options.speed;
    const budget = options.chunkValues;
    let reader: BlockReader | undefined;
    let block: FileBlock | null = null;
    let i = 0;
    const pending: FileMarker[] = []; // sorted by t
    let startMs = NaN;
    let tFirst = NaN;
    let lastSeq = -1;
    let action: Subscription | undefined;
    const finish = () => {
      reader?.close();
      reader = undefined;
    };
    const emitMarkersUpTo = (t: number) => {
      while (pending.length > 0 && pending[0]!.t <= t) {
        stats.markers++;
        events.next(pending.shift()!);
      }
    };
    const work = () => {
      try {
        reader ??= openBlocks(options);
        let left = budget;
        for (;;) {
          if (subscriber.closed) return finish();
          if (block === null || i >= block.frames.length) {
            block = reader.next();
            i = 0;
            if (block === null) {
              emitMarkersUpTo(Infinity);
              stats.tornBytes = reader.tornBytes;
              finish();
              subscriber.complete();
              return;
            }
            for (const m of block.markers) insertByTime(pending, m);
            continue;
          }
          const f = block.frames[i]!;
          if (speed !== 'max') {
            if (Number.isNaN(startMs)) {
              startMs = scheduler.now();
              tFirst = f.t;
            }
            const wait = startMs + ((f.t - tFirst) * 1000) / speed - scheduler.now();
            if (wait > 0) {
              action = scheduler.schedule(work, wait);
              return;
            }
          }
          if (pending.length > 0) emitMarkersUpTo(f.t);
          if (lastSeq >= 0 && f.seq > lastSeq + 1) {
            stats.gaps++;
            stats.lost += f.seq - lastSeq - 1;
            events.next({ type: 'gap', seq: f.seq, t: f.t, lost: f.seq - lastSeq - 1 });
          }
          lastSeq = f.seq;
          i++;
          stats.frames++;
          stats.samples += f.values.length;
          subscriber.next(f);
          left -= f.values.length;
          if (left <= 0) {
            action = scheduler.schedule(work, 0); // yield: let the event loop (and other streams) run
            return;
          }
        }
      } catch (e) {
        finish();
        subscriber.error(e);
      }
    };
    action = scheduler.schedule(work, 0);
    return () => {
      action?.unsubscribe();
      finish();
    };
  }).pipe(share());
  return { info, format: options.format, options, edf, frames$, events$: events.asObservable(), stats: () => ({ ...stats }) };
}

function insertByTime(list: FileMarker[], m: FileMarker): void {
  let k = list.length;
  while (k > 0 && list[k - 1]!.t > m.t) k--;
  list.splice(k, 0, m);
}
