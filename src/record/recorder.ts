// The recorder: a hub observer that writes one FLV per publish session of each stream it records
// (--record patterns, or POST /api/streams/{app}/{stream}/record), split at a keyframe by duration or
// size, when the file's keyframes index is full, or when the video decoder configuration changes (a
// new sequence header: VOD segments and clips prime their decoders from a file's first headers, and
// FFmpeg reads one configuration per FLV file). Each part starts with onMetaData (the file writer's,
// with the publisher's fields) and the codec headers, then the keyframe: a part plays on its own, and
// every frame is in exactly one part. The writer frames each packet's body as a tag straight into its
// batch (one copy; the file has times of its own) and writes a batch per flush. An I/O error (ENOSPC, EACCES…) stops
// that recording only ('failed'); the live stream and other recordings carry on.
import { isAmfObject } from '../media/amf/amf0.js';
import { parseScriptData } from '../media/flv/script.js';
import type { OutPacket } from '../hub/out-packet.js';
import type { Stream, StreamObserver } from '../hub/stream.js';
import type { Logger } from '../shared/log.js';
import type { Recording, RecordingCatalogue } from './catalogue.js';
import { FlvFileWriter } from './flv-file.js';
import type { FlvFileOptions } from './flv-file.js';
import { matchesRecordPatterns } from './patterns.js';
import type { RecordPatterns } from './patterns.js';

export interface RecorderOptions {
  readonly catalogue: RecordingCatalogue;
  /** Streams recorded from their publish on. */
  readonly patterns: RecordPatterns;
  /** A part ends at the first keyframe past this duration (0: no duration split). */
  readonly splitMs: number;
  /** … or past this size (0: no size split). */
  readonly splitBytes: number;
  readonly file: FlvFileOptions;
  readonly log: Logger;
}

/**
 * A new video configuration starts a part only when the part has this much media: a publisher that
 * alternates sequence headers cannot make a file per keyframe (a header that comes sooner goes into the part).
 */
const MIN_CONFIG_PART_MS = 1000;
/** Tags held while a part's file opens (a few ms normally); past this the disk is hopeless: failed. */
const MAX_PENDING_BYTES = 32 * 1024 * 1024;

interface Part {
  readonly recording: Recording;
  writer: FlvFileWriter | undefined;
  /** Tags that came while the file was opening, with the timestamps to write them at. */
  pending: { p: OutPacket; ts: number }[];
  pendingBytes: number;
  /** Opening, then writing the pending tags: the close waits for it. */
  ready: Promise<void>;
  failed: boolean;
  /** The video sequence header the part started with (its body). */
  readonly videoHeader: Buffer | undefined;
  /** Another video sequence header came: the next keyframe starts a new part, which writes it. */
  configChanged: boolean;
}

interface Session {
  readonly stream: Stream;
  /** The first part's name (all parts of a session share it). */
  name: string | undefined;
  parts: number;
  part: Part | undefined;
  /** The publisher's latest onMetaData fields (each part's metadata). */
  metadata: Record<string, unknown> | undefined;
}

export interface RecorderTotals {
  active: number;
  bytes: number;
  errors: Map<string, number>;
}

const metadataOf = (p: OutPacket | undefined): Record<string, unknown> | undefined => {
  if (!p) return undefined;
  try {
    const { name, value } = parseScriptData(p.packet.payload);
    return name === 'onMetaData' && isAmfObject(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined; // malformed metadata costs only the publisher's fields in the file
  }
};

export class Recorder implements StreamObserver {
  private readonly sessions = new Map<string, Session>();
  /** Parts being closed: close() waits for them. */
  private readonly closing = new Set<Promise<void>>();
  /** FLV tag bytes handed to the file writers (buffered ones included): livecdn_record_bytes_total. */
  private tagBytes = 0;
  private readonly errors = new Map<string, number>();
  private closed = false;

  constructor(private readonly o: RecorderOptions) {}

  // ---- StreamObserver ----

  onPublish(stream: Stream): void {
    if (this.closed || !matchesRecordPatterns(this.o.patterns, stream.app, stream.name)) return;
    this.begin(stream);
  }

  onPacket(stream: Stream, p: OutPacket): void {
    const s = this.sessions.get(stream.key);
    if (!s) return;
    if (p.kind === 'metadata') {
      // Kept for the next part's onMetaData; the file has its own at the start.
      s.metadata = metadataOf(p) ?? s.metadata;
      return;
    }
    const part = s.part;
    if (!part) {
      // The file starts at a place a player can start: a keyframe (or audio of an audio-only stream).
      if (p.randomAccess) this.startPart(s, p);
      return;
    }
    if (part.failed) return;
    if (p.kind === 'video-header' && part.videoHeader !== undefined && (part.writer?.durationMs ?? 0) >= MIN_CONFIG_PART_MS && !p.packet.payload.equals(part.videoHeader)) {
      part.configChanged = true;
      return;
    }
    if (p.randomAccess && this.wantsSplit(part)) {
      this.endPart(s);
      this.startPart(s, p);
      return;
    }
    this.write(part, p, p.packet.timestamp);
  }

  onUnpublish(stream: Stream): void {
    this.stopSession(stream.key);
  }

  // ---- control (API) ----

  /** Starts recording a live stream at its next keyframe (until it ends or stop()); again after a failure. */
  start(stream: Stream): 'started' | 'already' {
    const s = this.sessions.get(stream.key);
    if (s && !s.part?.failed) return 'already';
    this.begin(stream);
    return 'started';
  }

  /** Stops recording a stream (the file is closed cleanly); false when it was not being recorded. */
  stop(key: string): boolean {
    return this.stopSession(key);
  }

  /** The file being written for a stream, if any. */
  current(key: string): Recording | undefined {
    const r = this.sessions.get(key)?.part?.recording;
    return r?.state === 'recording' ? r : undefined;
  }

  totals(): RecorderTotals {
    let active = 0;
    for (const s of this.sessions.values()) if (s.part && !s.part.failed) active++;
    return { active, bytes: this.tagBytes, errors: this.errors };
  }

  /** Ends every recording cleanly (shutdown) and waits for the files to be closed. */
  async close(): Promise<void> {
    this.closed = true;
    for (const key of [...this.sessions.keys()]) this.stopSession(key);
    await Promise.all([...this.closing]);
  }

  // ---- internals ----

  private begin(stream: Stream): void {
    this.stopSession(stream.key);
    const fromJoin = stream.joinState()?.packets.find((p) => p.kind === 'metadata');
    this.sessions.set(stream.key, { stream, name: undefined, parts: 0, part: undefined, metadata: metadataOf(fromJoin) });
  }

  private stopSession(key: string): boolean {
    const s = this.sessions.get(key);
    if (!s) return false;
    this.sessions.delete(key);
    this.endPart(s);
    return true;
  }

  private wantsSplit(part: Part): boolean {
    if (part.configChanged) return true;
    const w = part.writer;
    if (!w) return false; // still opening: too early to split anyway
    return w.indexFull || (this.o.splitMs > 0 && w.durationMs >= this.o.splitMs) || (this.o.splitBytes > 0 && w.bytes >= this.o.splitBytes);
  }

  /** A new part starting with the stream's codec headers and `first`, all at first's time (the file's 0). */
  private startPart(s: Session, first: OutPacket): void {
    const stream = s.stream;
    const r = this.o.catalogue.reserve(stream.app, stream.name, Date.now(), s.name, s.parts++);
    s.name ??= r.name;
    const headers = stream.headers();
    const videoHeader = headers.find((h) => h.kind === 'video-header')?.packet.payload;
    const part: Part = { recording: r, writer: undefined, pending: [], pendingBytes: 0, ready: Promise.resolve(), failed: false, videoHeader, configChanged: false };
    s.part = part;
    const at = first.packet.timestamp;
    for (const h of headers) this.write(part, h, at);
    this.write(part, first, at);
    const tracks = stream.info.tracks() ?? { audio: false, video: true };
    part.ready = (async () => {
      try {
        await this.o.catalogue.prepare(r);
        const writer = await FlvFileWriter.open(r.file, tracks, s.metadata, this.o.file, (err) => this.fail(part, err));
        if (part.failed) return void (await writer.abort());
        part.writer = writer;
        this.o.log.info({ id: r.id, file: r.file, part: r.part }, 'recording started');
        const pending = part.pending;
        part.pending = [];
        for (const { p, ts } of pending) this.write(part, p, ts);
      } catch (err) {
        this.fail(part, err as NodeJS.ErrnoException);
      }
    })();
  }

  private write(part: Part, p: OutPacket, ts: number): void {
    if (part.failed) return;
    const w = part.writer;
    if (!w) {
      part.pending.push({ p, ts });
      part.pendingBytes += p.size;
      if (part.pendingBytes > MAX_PENDING_BYTES) this.fail(part, Object.assign(new Error('file did not open in time'), { code: 'EQUEUE' }));
      return;
    }
    try {
      const before = w.bytes;
      w.write(p.packet, ts, p.kind === 'video-key');
      this.tagBytes += w.bytes - before;
    } catch (err) {
      // A bug, not the disk (the hub refuses what FLV cannot carry): it must not reach the publisher's socket.
      return this.fail(part, Object.assign(err as Error, { code: 'EINTERNAL' }));
    }
    part.recording.bytes = w.bytes;
    part.recording.durationMs = w.durationMs;
  }

  /** Closes the session's part (in the background; close() waits for it). */
  private endPart(s: Session): void {
    const part = s.part;
    if (!part) return;
    s.part = undefined;
    const done = (async () => {
      await part.ready;
      const r = part.recording;
      const w = part.writer;
      if (part.failed || !w) return;
      // Never rejects: an error in the last flush, the index patch or the fsync went to fail() (onError).
      await w.close();
      if (part.failed) return;
      r.bytes = w.bytes;
      r.durationMs = w.durationMs;
      this.o.log.info({ id: r.id, bytes: r.bytes, durationMs: r.durationMs }, 'recording done');
      await this.o.catalogue.finish(r, 'done');
    })();
    this.track(done);
  }

  /** A close in the background (never rejects): close() waits for it. */
  private track(done: Promise<void>): void {
    this.closing.add(done);
    void done.finally(() => this.closing.delete(done));
  }

  /** An I/O error: this recording stops ('failed'); nothing else does. Once per part. */
  private fail(part: Part, err: NodeJS.ErrnoException): void {
    if (part.failed) return;
    part.failed = true;
    part.pending = [];
    const code = typeof err.code === 'string' && /^[A-Z0-9_]{1,32}$/.test(err.code) ? err.code : 'EIO';
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
    const r = part.recording;
    this.o.log.error({ id: r.id, code, err: String(err) }, 'recording failed');
    const w = part.writer;
    const done = (async () => {
      await w?.abort().catch(() => undefined);
      await this.o.catalogue.finish(r, 'failed', code);
    })();
    this.track(done);
  }
}
