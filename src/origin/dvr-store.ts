// The DVR (time-shift) store: every segment and init segment a live HLS playlist completes is also
// written to disk, so that the DVR playlist (dvr-playlist.ts) can list the last --dvr-window of the
// stream and the segment routes can serve what has left the memory window (dvr-routes.ts).
//
// Layout: {dir}/{app}/{stream}/{session}/{seq}.ts|.m4s and init-{id}.mp4, a session per live playlist
// (a republish within the grace continues one; a new publish starts another and the old one's files
// go). The index in memory holds what the playlist needs (number, duration, date, discontinuity, init,
// bytes), one small entry per segment, capped; an entry is listed once its file is written. Segments
// whose end is older than the window (by the wall clock of EXT-X-PROGRAM-DATE-TIME) leave the playlist,
// and their files go retainMs later (by the same clock): a player that loaded the playlist just before
// still fetches them (RFC 8216 6.2.2), as the live playlist keeps segments past its window.
//
// The directory is ours: at start it is wiped, and only a directory that is empty or was made by this
// store (a marker file) is accepted, so a mistyped --dvr-dir never deletes anyone's files.
//
// Writes go one at a time per stream, in order (an init segment before the segments that need it). Any
// write error, or a backlog past maxPendingBytes (a disk that cannot keep up), stops the DVR of that
// stream until its next publish: logged, counted, its files removed. The live stream never notices.
import { mkdir, readdir, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../shared/log.js';
import type { DvrStat } from '../shared/cluster.js';
import type { HlsInit } from '../media/hls/segmenter.js';
import { dvrInitUri, dvrSegmentUri, streamKey } from '../shared/url-contract.js';
import type { HlsObjectListener } from './hls-service.js';
import type { StoredSegment } from './hls-playlist.js';
import { dvrPlaylistText, entryIndexAt } from './dvr-playlist.js';
import type { DvrEntry } from './dvr-playlist.js';

export interface DvrOptions {
  readonly dir: string;
  /** How far back the DVR playlist reaches, ms. */
  readonly windowMs: number;
  /** Bytes of one stream waiting to be written past which its DVR stops. */
  readonly maxPendingBytes: number;
  /** Index entries per stream at most (the oldest go first). */
  readonly maxSegments: number;
  /** How long a segment that left the window stays fetchable, ms of the stream's clock. */
  readonly retainMs: number;
}

/** A file the DVR serves: where it is and its size. */
export interface DvrFile {
  readonly path: string;
  readonly bytes: number;
}

const MARKER = '.livecdn-dvr';
/** Rendered playlists kept per stream between two changes: the plain one and a few ?start= ones. */
const MAX_CACHED_TEXTS = 16;

const endOf = (e: DvrEntry): number => e.programDateTime + e.durationS * 1000;
// A file is named as the DVR playlist lists its URI (both relative to the stream's directory).
const segmentFile = dvrSegmentUri;
const initFile = dvrInitUri;

/** One live playlist's DVR: its files, its index and its rendered playlists. */
export class DvrStream {
  readonly entries: DvrEntry[] = [];
  /** Entries that left the window, still served (not listed) until their files go, and the stream's clock when each left. */
  private readonly retired: DvrEntry[] = [];
  private readonly retiredAt: number[] = [];
  /** Init segments written: id -> bytes. */
  readonly inits = new Map<number, number>();
  ended = false;
  /** Removed or failed: queued work is dropped. */
  closed = false;
  /** Bytes queued for writing. */
  pending = 0;
  /** The write queue: one file at a time, in order; it never rejects. */
  queue: Promise<void> = Promise.resolve();
  private discontinuities = 0;
  private currentInit: number | undefined;
  private maxDurationS: number;
  /** Rendered texts by first listed index (-1: the plain playlist), until the next change. */
  private readonly texts = new Map<string, string>();

  constructor(
    readonly key: string,
    readonly dir: string,
    targetDurationMs: number,
  ) {
    this.maxDurationS = targetDurationMs / 1000;
  }

  /** TARGETDURATION: the longest segment ever listed, rounded (RFC 8216 4.3.3.1); it never shrinks, as the live playlist's. */
  get targetDurationS(): number {
    return Math.max(1, Math.round(this.maxDurationS));
  }

  add(s: StoredSegment, bytes: number): void {
    if (s.discontinuity) this.discontinuities++;
    this.entries.push({
      sequence: s.sequence,
      durationS: s.durationS,
      programDateTime: s.programDateTime,
      discontinuity: s.discontinuity,
      format: s.format,
      initId: s.initId,
      gap: s.gap === true,
      bytes,
      discontinuities: this.discontinuities,
    });
    this.maxDurationS = Math.max(this.maxDurationS, s.durationS);
    this.changed();
  }

  addInit(id: number, bytes: number): void {
    this.inits.set(id, bytes);
    this.currentInit = id;
  }

  end(): void {
    this.ended = true;
    this.changed();
  }

  /**
   * Unlists entries that ended before `windowMs` before the newest one ended, or past `max`; returns the
   * files of entries unlisted for `retainMs` or more (or past `max` unlisted ones) and of init segments
   * no kept entry uses: the files to delete.
   */
  prune(windowMs: number, max: number, retainMs: number): string[] {
    const newest = this.entries.at(-1);
    if (!newest) return [];
    const now = endOf(newest);
    const from = now - windowMs;
    let n = 0;
    while (n < this.entries.length - 1) {
      const e = this.entries[n] as DvrEntry;
      if (endOf(e) > from && this.entries.length - n <= max) break;
      n++;
    }
    if (n > 0) {
      for (const entry of this.entries.splice(0, n)) {
        this.retired.push(entry);
        this.retiredAt.push(now);
      }
      this.changed();
    }
    const files: string[] = [];
    let gone = 0;
    while (gone < this.retired.length) {
      const e = this.retired[gone] as DvrEntry;
      if (now - (this.retiredAt[gone] as number) < retainMs && this.retired.length - gone <= max) break;
      if (!e.gap) files.push(segmentFile(e.sequence, e.format));
      gone++;
    }
    if (gone === 0) return files;
    this.retired.splice(0, gone);
    this.retiredAt.splice(0, gone);
    const used = new Set([...this.entries, ...this.retired].map((e) => e.initId));
    for (const id of this.inits.keys()) {
      if (id === this.currentInit || used.has(id)) continue;
      this.inits.delete(id);
      files.push(initFile(id));
    }
    return files;
  }

  /** A segment's file while it is listed or retained. */
  segment(sequence: number, format: 'ts' | 'fmp4'): DvrFile | undefined {
    const e = findEntry(this.entries, sequence) ?? findEntry(this.retired, sequence);
    return !e || e.gap || e.format !== format ? undefined : { path: join(this.dir, segmentFile(sequence, format)), bytes: e.bytes };
  }

  init(id: number): DvrFile | undefined {
    const bytes = this.inits.get(id);
    return bytes === undefined ? undefined : { path: join(this.dir, initFile(id)), bytes };
  }

  /**
   * The DVR playlist from the window's start, or from the segment holding `startMs` (then with
   * EXT-X-START at its first segment); undefined while nothing is listed. Rendered once per change.
   */
  playlist(startMs?: number): string | undefined {
    if (this.entries.length === 0) return undefined;
    const from = startMs === undefined ? -1 : entryIndexAt(this.entries, startMs);
    const cacheKey = String(from);
    let text = this.texts.get(cacheKey);
    if (text === undefined) {
      text = dvrPlaylistText(this.entries, Math.max(0, from), { targetDurationS: this.targetDurationS, ended: this.ended, startHere: from >= 0 });
      if (this.texts.size >= MAX_CACHED_TEXTS) this.texts.clear();
      this.texts.set(cacheKey, text);
    }
    return text;
  }

  private changed(): void {
    this.texts.clear();
  }
}

/** The entry of `sequence` in entries ascending by sequence (binary search). */
function findEntry(entries: readonly DvrEntry[], sequence: number): DvrEntry | undefined {
  let lo = 0;
  let hi = entries.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const e = entries[mid] as DvrEntry;
    if (e.sequence === sequence) return e;
    if (e.sequence < sequence) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

export class DvrStore implements HlsObjectListener {
  private readonly streams = new Map<string, DvrStream>();
  private sessions = 0;
  /** Write errors (and backlogs given up) by error code, since start. */
  readonly errors = new Map<string, number>();
  /** Bytes written to disk since start. */
  bytesWritten = 0;
  /** Bytes served from disk since start (egress for /metrics and heartbeats). */
  bytesOut = 0;

  constructor(
    readonly opts: DvrOptions,
    private readonly log: Logger,
  ) {}

  /** Wipes the directory (refusing one this store did not make) and marks it as ours. */
  async start(): Promise<void> {
    const names: string[] = await readdir(this.opts.dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [] as string[];
      throw err;
    });
    if (names.length > 0 && !names.includes(MARKER)) throw new Error(`dvr: ${this.opts.dir} is not empty and not a DVR directory (no ${MARKER}); give an empty or new directory`);
    await rm(this.opts.dir, { recursive: true, force: true });
    await mkdir(this.opts.dir, { recursive: true });
    await writeFile(join(this.opts.dir, MARKER), 'livecdn DVR segments: wiped at every start\n');
  }

  /** Waits for queued writes (shutdown). */
  async close(): Promise<void> {
    await Promise.all([...this.streams.values()].map((s) => s.queue));
  }

  /** The DVR of app/stream, once it lists a segment. */
  stream(app: string, stream: string): DvrStream | undefined {
    const s = this.streams.get(streamKey(app, stream));
    return s && s.entries.length > 0 ? s : undefined;
  }

  /** Segments listed in DVR playlists, all streams (retained ones, still on disk but unlisted, not counted). */
  listedSegments(): number {
    let segments = 0;
    for (const s of this.streams.values()) segments += s.entries.length;
    return segments;
  }

  /** The `dvr` of /api/streams and heartbeats; undefined while the stream has no DVR segment. */
  info(app: string, stream: string): DvrStat | undefined {
    const entries = this.stream(app, stream)?.entries;
    const oldest = entries?.[0];
    return entries && oldest && { windowMs: this.opts.windowMs, fromMs: oldest.programDateTime, segments: entries.length };
  }

  onPlaylist(app: string, stream: string, targetDurationMs: number): void {
    const key = streamKey(app, stream);
    this.onRemove(key);
    const s = new DvrStream(key, join(this.opts.dir, app, stream, String(++this.sessions)), targetDurationMs);
    this.streams.set(key, s);
    this.enqueue(s, 0, async () => void (await mkdir(s.dir, { recursive: true })));
  }

  onInit(key: string, init: HlsInit): void {
    const s = this.streams.get(key);
    if (!s) return;
    this.enqueue(s, init.data.length, async () => {
      await writeFile(join(s.dir, initFile(init.id)), init.data);
      s.addInit(init.id, init.data.length);
    });
  }

  onSegment(key: string, segment: StoredSegment): void {
    const s = this.streams.get(key);
    if (!s) return;
    this.enqueue(s, segment.data.length, async () => {
      if (!segment.gap) await writeFile(join(s.dir, segmentFile(segment.sequence, segment.format)), segment.data);
      this.bytesWritten += segment.data.length;
      s.add(segment, segment.data.length);
      this.deleteFiles(s, s.prune(this.opts.windowMs, this.opts.maxSegments, this.opts.retainMs));
    });
  }

  onEnd(key: string): void {
    const s = this.streams.get(key);
    if (s) this.enqueue(s, 0, async () => s.end());
  }

  onRemove(key: string): void {
    const s = this.streams.get(key);
    if (!s) return;
    this.streams.delete(key);
    s.closed = true;
    // After the writes under way: nothing is written into the directory once it is gone.
    s.queue = s.queue.then(() => this.removeDir(s));
  }

  /** Runs `write` after the stream's earlier writes; a failure or a backlog past the cap stops this stream's DVR. */
  private enqueue(s: DvrStream, bytes: number, write: () => Promise<void>): void {
    if (s.closed) return;
    if (s.pending + bytes > this.opts.maxPendingBytes) return this.fail(s, 'EBACKLOG', new Error(`more than ${this.opts.maxPendingBytes} bytes waiting to be written`));
    s.pending += bytes;
    s.queue = s.queue.then(async () => {
      try {
        if (!s.closed) await write();
      } catch (err) {
        this.fail(s, (err as NodeJS.ErrnoException).code ?? 'EIO', err);
      } finally {
        s.pending -= bytes;
      }
    });
  }

  private fail(s: DvrStream, code: string, err: unknown): void {
    if (s.closed) return;
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
    this.log.warn({ stream: s.key, code, err }, 'dvr stopped for this stream (the live stream carries on)');
    if (this.streams.get(s.key) === s) this.onRemove(s.key);
  }

  private deleteFiles(s: DvrStream, files: readonly string[]): void {
    for (const f of files) {
      unlink(join(s.dir, f)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') this.log.warn({ stream: s.key, file: f, code: err.code }, 'dvr could not delete a segment');
      });
    }
  }

  private async removeDir(s: DvrStream): Promise<void> {
    try {
      await rm(s.dir, { recursive: true, force: true });
    } catch (err) {
      this.log.warn({ stream: s.key, err }, 'dvr could not remove a session directory');
    }
  }
}
