// One recorded FLV file on disk. Tags are copied into one buffer and written with one positioned write
// per flush (every flushMs or flushBytes), never a syscall per frame; each flush holds whole tags, so the
// file is valid FLV at every flush boundary and a killed process leaves a file that plays to its last
// complete tag. The onMetaData tag at the head reserves room for the keyframes index
// (media/flv/file-meta.ts); the clean close rewrites it in place, same size, then fsyncs.
// Errors: the first failed write (ENOSPC, EIO, …) goes to onError, once, and the file takes no more
// bytes; nothing throws out of a timer or fs callback. The caller then abort()s.
import { open as openFile, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { encodeFileMetadata, OPEN_FILE_VALUES, RECORD_INDEX_CAPACITY } from '../media/flv/file-meta.js';
import type { FileMetadata, FileMetaValues } from '../media/flv/file-meta.js';
import { encodeFlvHeader, FLV_HEADER_SIZE } from '../media/flv/header.js';
import { encodeFlvTag, FLV_MAX_TAG_BODY, FLV_TAG_HEADER_SIZE, writeFlvTagHeader } from '../media/flv/tag-writer.js';
import { TagType } from '../media/packet.js';
import type { MediaPacket } from '../media/packet.js';
import { ms } from '../media/time.js';
import { classify } from '../hub/out-packet.js';

export interface FlvFileOptions {
  /** A tag waits at most this long in memory before it is written (e.g. 250). */
  flushMs: number;
  /** Written as soon as this many bytes are buffered (e.g. 256 KiB). */
  flushBytes: number;
  /** Keyframes the reserved index holds (default RECORD_INDEX_CAPACITY). */
  indexCapacity?: number;
  /**
   * Bytes waiting for a disk that does not keep up before the file fails with ENOBUFS (default 64
   * flushes' worth): memory stays bounded whatever the disk does.
   */
  maxBacklogBytes?: number;
}

/** Where the onMetaData body starts: after the file header and the script tag's header. */
const META_BODY_OFFSET = FLV_HEADER_SIZE + FLV_TAG_HEADER_SIZE;
/** FLV tag framing around a body: tag header and PreviousTagSize. */
const TAG_OVERHEAD = FLV_TAG_HEADER_SIZE + 4;
const DEFAULT_BACKLOG_FLUSHES = 64;
/** Buffers of flushBytes kept for reuse after their write: one filling, one being written. */
const SPARE_BUFFERS = 2;

type State = 'open' | 'closing' | 'closed';

/** What the file needs of a packet: its tag type and body (the timestamp is the file's own). */
export type RecordedTag = Pick<MediaPacket, 'type' | 'payload'>;

interface Job {
  readonly buf: Buffer;
  readonly len: number;
}

/** Writes all of buf[0, len) at `position` (pwrite), however many calls the kernel wants. */
async function writeAll(fh: FileHandle, buf: Buffer, len: number, position: number): Promise<void> {
  for (let done = 0; done < len; ) {
    const { bytesWritten } = await fh.write(buf, done, len - done, position + done);
    if (bytesWritten <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
    done += bytesWritten;
  }
}

function errnoError(e: unknown): NodeJS.ErrnoException {
  return e instanceof Error ? (e as NodeJS.ErrnoException) : Object.assign(new Error(String(e)), { code: 'EIO' });
}

/** Last timestamp and last frame interval of one track, for the duration (last frame included). */
interface TrackClock {
  last: number;
  step: number;
}

export class FlvFileWriter {
  /**
   * Creates the file (it must not exist: 'wx'), writes the FLV header and the onMetaData tag with the
   * reserved index. Rejects on an error then (and removes what it created); later errors go to onError.
   */
  static async open(
    path: string,
    tracks: { audio: boolean; video: boolean },
    metadata: Record<string, unknown> | undefined,
    opts: FlvFileOptions,
    onError: (err: NodeJS.ErrnoException) => void,
  ): Promise<FlvFileWriter> {
    if (!(opts.flushMs > 0) || !Number.isInteger(opts.flushBytes) || opts.flushBytes < 1) throw new RangeError('flushMs and flushBytes must be positive');
    const base = { tracks: { audio: tracks.audio, video: tracks.video }, publisher: metadata, capacity: opts.indexCapacity ?? RECORD_INDEX_CAPACITY };
    const meta = encodeFileMetadata({ ...base, ...OPEN_FILE_VALUES });
    const head = Buffer.concat([encodeFlvHeader(tracks), encodeFlvTag({ type: TagType.Script, timestamp: ms(0), payload: meta })]);
    const fh = await openFile(path, 'wx');
    try {
      await writeAll(fh, head, head.length, 0);
    } catch (e) {
      await fh.close().catch(() => {});
      await unlink(path).catch(() => {});
      throw e;
    }
    return new FlvFileWriter(fh, base, meta.length, head.length, opts, onError);
  }

  private state: State = 'open';
  private failed = false;
  private closing: Promise<void> | undefined;
  // The batch being filled, and the batches waiting for (or in) their write.
  private pending: Buffer | undefined;
  private pendingLen = 0;
  private readonly queue: Job[] = [];
  private queuedBytes = 0;
  private readonly spare: Buffer[] = [];
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private idleWaiters: (() => void)[] = [];
  /** Bytes on disk: where the next batch goes. */
  private written: number;
  private total: number;
  // Rebasing: the hub timestamp of the file's time 0, set by the first media frame.
  private base: number | undefined;
  private lastTimestamp = 0;
  private readonly clocks = new Map<number, TrackClock>();
  private readonly timesMs: number[] = [];
  private readonly positions: number[] = [];
  private lastKeyTimestamp = 0;
  private lastKeyLocation = 0;
  private readonly maxBacklog: number;

  private constructor(
    private readonly fh: FileHandle,
    private readonly meta: Pick<FileMetadata, 'tracks' | 'publisher' | 'capacity'>,
    private readonly metaSize: number,
    headBytes: number,
    private readonly opts: FlvFileOptions,
    private readonly onError: (err: NodeJS.ErrnoException) => void,
  ) {
    this.written = headBytes;
    this.total = headBytes;
    this.maxBacklog = opts.maxBacklogBytes ?? DEFAULT_BACKLOG_FLUSHES * opts.flushBytes;
  }

  /** Bytes of the file, the buffered ones included. */
  get bytes(): number {
    return this.total;
  }

  /** From time 0 to the end of the last frame (its timestamp plus its track's frame interval). */
  get durationMs(): number {
    let d = 0;
    for (const c of this.clocks.values()) d = Math.max(d, c.last + c.step);
    return d;
  }

  get keyframeCount(): number {
    return this.timesMs.length;
  }

  /** The reserved index is full: the caller should split at the next keyframe. */
  get indexFull(): boolean {
    return this.timesMs.length >= this.meta.capacity;
  }

  /**
   * One tag (its type and body), its hub timestamp, and whether it is a video keyframe: framed as an FLV
   * tag straight into the batch. Not the hub's shared FLV bytes: the file has times of its own, and
   * serialising a tag just to copy it again would allocate a buffer per frame that the GOP cache then keeps
   * alive (bench:record measured that garbage as most of a recording's cost). Timestamps are rebased so
   * that the file starts at 0: the first audio or video frame sets time 0, codec headers before it are
   * written at 0. Ignored after an error, close() or abort(). Throws RangeError on a body FLV cannot carry.
   */
  write(p: RecordedTag, timestampMs: number, keyframe: boolean): void {
    if (this.state !== 'open' || this.failed) return;
    const dataSize = p.payload.length;
    if (dataSize > FLV_MAX_TAG_BODY) throw new RangeError(`an FLV tag body of ${dataSize} bytes`);
    const t = this.rebase(p, timestampMs);
    const size = dataSize + TAG_OVERHEAD;

    const position = this.total;
    const buf = this.room(size);
    const at = writeFlvTagHeader(buf, this.pendingLen, p.type, dataSize, t);
    p.payload.copy(buf, at);
    buf.writeUInt32BE(FLV_TAG_HEADER_SIZE + dataSize, at + dataSize);
    this.pendingLen += size;
    this.total += size;
    this.account(p.type, t, keyframe, position);

    if (this.pendingLen >= this.opts.flushBytes) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, this.opts.flushMs);
      this.timer.unref();
    }
  }

  /** Flushes, patches onMetaData in place (duration, filesize, keyframes), fsyncs and closes. Never rejects: errors go to onError. */
  close(): Promise<void> {
    this.closing ??= this.finish(true);
    return this.closing;
  }

  /** After an error (or to drop a file being written): closes the fd without patching; buffered tags are dropped. */
  abort(): Promise<void> {
    this.dropPending();
    this.closing ??= this.finish(false);
    return this.closing;
  }

  private rebase(p: RecordedTag, timestampMs: number): number {
    if (this.base === undefined) {
      const kind = classify({ type: p.type, timestamp: ms(timestampMs), payload: p.payload });
      if (kind !== 'video' && kind !== 'video-key' && kind !== 'audio') return 0;
      this.base = timestampMs;
    }
    return Math.max(0, Math.round(timestampMs - this.base));
  }

  /** Index, duration and last timestamps after a tag at `position` with file time t. */
  private account(type: number, t: number, keyframe: boolean, position: number): void {
    this.lastTimestamp = Math.max(this.lastTimestamp, t);
    if (type !== TagType.Audio && type !== TagType.Video) return;
    const clock = this.clocks.get(type);
    if (!clock) this.clocks.set(type, { last: t, step: 0 });
    else if (t > clock.last) {
      clock.step = t - clock.last;
      clock.last = t;
    }
    if (!keyframe || type !== TagType.Video) return;
    this.lastKeyTimestamp = t;
    this.lastKeyLocation = position;
    if (this.timesMs.length < this.meta.capacity) {
      this.timesMs.push(t);
      this.positions.push(position);
    }
  }

  /** The batch buffer with room for n more bytes: the current one, else a fresh one after a flush. */
  private room(n: number): Buffer {
    if (this.pending && this.pendingLen + n > this.pending.length) this.flush();
    if (!this.pending) {
      // A tag larger than a batch gets a buffer of its own.
      this.pending = n > this.opts.flushBytes ? Buffer.allocUnsafe(n) : (this.spare.pop() ?? Buffer.allocUnsafe(this.opts.flushBytes));
      this.pendingLen = 0;
    }
    return this.pending;
  }

  /** Hands the current batch to the writer. */
  private flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (!this.pending || this.pendingLen === 0 || this.failed) return;
    this.queue.push({ buf: this.pending, len: this.pendingLen });
    this.queuedBytes += this.pendingLen;
    this.pending = undefined;
    this.pendingLen = 0;
    if (this.queuedBytes > this.maxBacklog) {
      this.fail(Object.assign(new Error(`recording: ${this.queuedBytes} bytes wait for the disk`), { code: 'ENOBUFS' }));
      return;
    }
    this.kick();
  }

  private kick(): void {
    if (this.busy) return;
    this.busy = true;
    void this.drain();
  }

  /** Writes queued batches one after another; never rejects. */
  private async drain(): Promise<void> {
    try {
      for (let job = this.queue.shift(); job && !this.failed; job = this.queue.shift()) {
        await writeAll(this.fh, job.buf, job.len, this.written);
        this.written += job.len;
        this.queuedBytes -= job.len;
        if (job.buf.length === this.opts.flushBytes && this.spare.length < SPARE_BUFFERS) this.spare.push(job.buf);
      }
    } catch (e) {
      this.fail(errnoError(e));
    }
    this.busy = false;
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private whenIdle(): Promise<void> {
    return this.busy ? new Promise((resolve) => this.idleWaiters.push(resolve)) : Promise.resolve();
  }

  private dropPending(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
    this.pendingLen = 0;
    this.queue.length = 0;
    this.queuedBytes = 0;
  }

  private fail(err: NodeJS.ErrnoException): void {
    if (this.failed) return;
    this.failed = true;
    this.dropPending();
    try {
      this.onError(err);
    } catch {
      // The listener's own failure: it must not become an unhandled rejection of the write loop.
    }
  }

  private async finish(patch: boolean): Promise<void> {
    this.state = 'closing';
    if (patch) this.flush();
    await this.whenIdle();
    if (patch && !this.failed) {
      try {
        const body = encodeFileMetadata({ ...this.meta, ...this.finalValues() });
        if (body.length !== this.metaSize) throw new Error(`onMetaData patch of ${body.length} bytes for ${this.metaSize} reserved`);
        await writeAll(this.fh, body, body.length, META_BODY_OFFSET);
        await this.fh.sync();
      } catch (e) {
        this.fail(errnoError(e));
      }
    }
    try {
      await this.fh.close();
    } catch (e) {
      this.fail(errnoError(e));
    }
    this.state = 'closed';
  }

  private finalValues(): FileMetaValues {
    return {
      durationMs: this.durationMs,
      filesize: this.written,
      lastTimestampMs: this.lastTimestamp,
      lastKeyframeTimestampMs: this.lastKeyTimestamp,
      lastKeyframeLocation: this.lastKeyLocation,
      keyframes: { timesMs: this.timesMs, positions: this.positions },
    };
  }
}
