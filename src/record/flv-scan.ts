// The index of a recorded FLV file, what VOD playlists, VOD segments and clips are cut from: where each
// keyframe lies (time, byte offset), the codec headers (sequence headers) in force, the first and last
// media times. A cleanly closed recording carries its keyframes index in onMetaData (media/flv/file-meta.ts):
// then only the head (up to the first keyframe: the headers) and the tail (from the last keyframe: the
// end time) are read. A file without one (interrupted, still open, or not ours) is scanned tag by tag,
// in bounded chunks, up to its last complete tag; anything that does not look like a tag ends the scan
// there. Indexes are cached per file, size and mtime (LRU), and concurrent builds of one are shared.
//
// The files are untrusted bytes (a crash, a full disk, an operator's copy): walkTags and FlvScanner are
// pure and fuzzed (fuzz/targets/flv-scan.ts), and every offset read from the file is checked before it
// is used.
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { MAX_FILE_META_BYTES, parseKeyframesIndex } from '../media/flv/file-meta.js';
import type { KeyframesIndex } from '../media/flv/file-meta.js';
import { FLV_HEADER_SIZE, parseFlvHeader } from '../media/flv/header.js';
import { FlvError, flvTagDataSize, flvTagFiltered, flvTagTimestamp, flvTagType, parseAudioTagHeader, parseVideoTagHeader } from '../media/flv/tag-header.js';
import { FLV_TAG_HEADER_SIZE } from '../media/flv/tag-writer.js';
import { MediaFormatError } from '../media/error.js';
import { TagType } from '../media/packet.js';

/** A point a segment may start at: a video keyframe's tag, or (audio-only files) an audio tag. */
export interface SyncPoint {
  /** ms on the file's timeline. */
  readonly timeMs: number;
  /** Offset of the tag's header in the file. */
  readonly pos: number;
}

/** A tag that sets decoder state: a video or AAC sequence header, or the first MP3 frame (its header). */
export interface ConfigTag {
  readonly pos: number;
  readonly type: typeof TagType.Audio | typeof TagType.Video;
  readonly timeMs: number;
  /** The tag body (a copy). */
  readonly body: Buffer;
}

export type IndexedVideo = 'h264' | 'hevc' | 'av1';
export type IndexedAudio = 'aac' | 'mp3';

export interface FlvIndex {
  /** Offset of the first tag. */
  readonly dataStart: number;
  /** Offset after the last complete, valid tag: nothing after it is read. */
  readonly dataEnd: number;
  /** Time of the first audio or video tag, ms. */
  readonly startMs: number;
  /** Where the last frame ends (its time + the frame interval), ms. */
  readonly endMs: number;
  /** The video codec of the first supported video sequence header; undefined: no video that HLS carries. */
  readonly video: IndexedVideo | undefined;
  readonly audio: IndexedAudio | undefined;
  /** Video keyframes of `video` (audio points every AUDIO_SYNC_MS without video), ascending in time and offset. */
  readonly sync: readonly SyncPoint[];
  /** Sequence headers in file order (the first MAX_CONFIGS). */
  readonly configs: readonly ConfigTag[];
  /** Where the keyframes came from. */
  readonly source: 'index' | 'scan';
}

/** Without video, a segment may start at an audio tag this far (ms) after the previous sync point. */
const AUDIO_SYNC_MS = 500;
/** Sequence headers kept: a publisher that changes its codec settings this often gets the first ones. */
const MAX_CONFIGS = 64;
/** Sync points kept: 27 h of 1 s GOPs. */
const MAX_SYNC_POINTS = 100_000;
/** Bytes read per step of a scan. */
const SCAN_CHUNK = 1024 * 1024;
/** The index path reads the head up to the first keyframe and the tail from the last: each at most this much (else the file is scanned). */
const MAX_HEAD_TAIL_BYTES = 64 * 1024 * 1024;
/** Frame intervals assumed before two frames were seen, ms. */
const DEFAULT_VIDEO_FRAME_MS = 40;
const DEFAULT_AUDIO_FRAME_MS = 1024_000 / 44_100;

/** One tag as walkTags sees it. */
export interface TagView {
  /** Offset of the tag header in the file. */
  readonly pos: number;
  readonly type: number;
  readonly timeMs: number;
  /** A view of the body in the walked buffer. */
  readonly body: Buffer;
}

/**
 * Visits the complete tags of `buf`, which starts with a tag header at file offset `base`. Stops at the
 * first incomplete tag (more bytes may come) or at one that is not a tag: a type other than audio, video
 * or script, the encryption flag, or a PreviousTagSize that does not match. Returns the offset in `buf`
 * after the last tag visited and whether it stopped on a bad tag.
 */
export function walkTags(buf: Buffer, base: number, visit: (t: TagView) => void): { used: number; bad: boolean } {
  let at = 0;
  while (buf.length - at >= FLV_TAG_HEADER_SIZE) {
    const type = flvTagType(buf, at);
    if ((type !== TagType.Audio && type !== TagType.Video && type !== TagType.Script) || flvTagFiltered(buf, at)) return { used: at, bad: true };
    const size = flvTagDataSize(buf, at);
    const end = at + FLV_TAG_HEADER_SIZE + size + 4;
    if (end > buf.length) break;
    if (buf.readUInt32BE(end - 4) !== FLV_TAG_HEADER_SIZE + size) return { used: at, bad: true };
    visit({ pos: base + at, type, timeMs: flvTagTimestamp(buf, at), body: buf.subarray(at + FLV_TAG_HEADER_SIZE, end - 4) });
    at = end;
  }
  return { used: at, bad: false };
}

/** What `parse` makes of untrusted bytes; undefined when they are malformed (a bad tag is skipped, as the demuxer does). */
function parsedOrUndefined<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch (e) {
    if (!(e instanceof MediaFormatError)) throw e;
    return undefined;
  }
}

/**
 * Builds an index from tags in file order: keyframes, sequence headers, first and last times. Pure;
 * fed by FlvScanner, over the whole file or (with a keyframes index) its head and tail.
 */
class IndexBuilder {
  readonly sync: SyncPoint[] = [];
  /** Audio points, used as sync points when there is no video. */
  private readonly audioSync: SyncPoint[] = [];
  readonly configs: ConfigTag[] = [];
  video: IndexedVideo | undefined;
  audio: IndexedAudio | undefined;
  startMs: number | undefined;
  /** The latest video and audio times seen, ms. */
  private lastVideoMs: number | undefined;
  private videoFrameMs = 0;
  private lastAudioMs: number | undefined;
  private audioFrameMs = 0;
  private audioSyncMs = -Infinity;

  /** `known`: the codecs, when the tags come from the middle of a file (after its headers). */
  constructor(known: { video?: IndexedVideo | undefined; audio?: IndexedAudio | undefined } = {}) {
    this.video = known.video;
    this.audio = known.audio;
  }

  add(t: TagView): void {
    if (t.type === TagType.Video) this.addVideo(t);
    else if (t.type === TagType.Audio) this.addAudio(t);
  }

  /** Where the last frame ends, ms (the start when nothing was seen). */
  get endMs(): number {
    const v = this.lastVideoMs === undefined ? -Infinity : this.lastVideoMs + (this.videoFrameMs || DEFAULT_VIDEO_FRAME_MS);
    const a = this.lastAudioMs === undefined ? -Infinity : this.lastAudioMs + (this.audioFrameMs || DEFAULT_AUDIO_FRAME_MS);
    const end = Math.max(v, a);
    return Number.isFinite(end) ? end : (this.startMs ?? 0);
  }

  /** The sync points to cut at: keyframes with video, else the audio points. */
  get points(): readonly SyncPoint[] {
    return this.video ? this.sync : this.audioSync;
  }

  /** The first audio or video frame sets the file's start. */
  private markStart(t: TagView): void {
    this.startMs ??= t.timeMs;
  }

  private addVideo(t: TagView): void {
    const h = parsedOrUndefined(() => parseVideoTagHeader(t.body));
    if (!h) return;
    const codec = h.codec;
    const supported = codec === 'h264' || codec === 'hevc' || codec === 'av1';
    if (h.kind === 'sequence-header' && supported) {
      this.video ??= codec;
      if (codec === this.video) this.config(t, TagType.Video);
      return;
    }
    if (h.kind !== 'coded-frames' || !supported || codec !== this.video) return;
    this.markStart(t);
    if (this.lastVideoMs !== undefined && t.timeMs > this.lastVideoMs) this.videoFrameMs = t.timeMs - this.lastVideoMs;
    // The latest time so far: a file whose times go back still ends after every keyframe in it.
    this.lastVideoMs = Math.max(this.lastVideoMs ?? t.timeMs, t.timeMs);
    if (h.frameType !== 'key' && h.frameType !== 'generated-key') return;
    const last = this.sync[this.sync.length - 1];
    // A keyframe earlier than the last one kept cannot start a segment (segments go forward in time).
    if ((last === undefined || t.timeMs > last.timeMs) && this.sync.length < MAX_SYNC_POINTS) this.sync.push({ timeMs: t.timeMs, pos: t.pos });
  }

  private addAudio(t: TagView): void {
    const h = parsedOrUndefined(() => parseAudioTagHeader(t.body));
    if (!h) return;
    if (h.codec === 'aac' && h.kind === 'sequence-header') {
      this.audio ??= 'aac';
      if (this.audio === 'aac') this.config(t, TagType.Audio);
      return;
    }
    if (h.codec !== 'aac' && h.codec !== 'mp3') return;
    if (h.data.length === 0) return;
    if (h.codec === 'mp3' && this.audio === undefined) {
      // MP3 has no sequence header: its first frame tells the demuxer the sample rate and channels.
      this.audio = 'mp3';
      this.config(t, TagType.Audio);
    }
    if (h.codec !== this.audio) return;
    this.markStart(t);
    if (this.lastAudioMs !== undefined && t.timeMs > this.lastAudioMs) this.audioFrameMs = t.timeMs - this.lastAudioMs;
    this.lastAudioMs = Math.max(this.lastAudioMs ?? t.timeMs, t.timeMs);
    if (t.timeMs - this.audioSyncMs >= AUDIO_SYNC_MS && this.audioSync.length < MAX_SYNC_POINTS) {
      this.audioSync.push({ timeMs: t.timeMs, pos: t.pos });
      this.audioSyncMs = t.timeMs;
    }
  }

  private config(t: TagView, type: ConfigTag['type']): void {
    if (this.configs.length < MAX_CONFIGS) this.configs.push({ pos: t.pos, type, timeMs: t.timeMs, body: Buffer.from(t.body) });
  }
}

/**
 * Tags from bytes in any split (a file read in chunks from a tag boundary): the same index whatever the
 * chunk sizes. Stops for good at the first bad tag.
 */
export class FlvScanner {
  private pending: Buffer = Buffer.alloc(0);
  /** File offset of `pending`'s first byte: after the last complete tag. */
  private at: number;
  /** A bad tag was met: nothing after `end` is trusted. */
  stopped = false;

  readonly index: IndexBuilder;

  /** `stopAt`: scanning ends after the first tag it is true of. */
  constructor(
    startPos: number,
    private readonly stopAt?: (t: TagView) => boolean,
    known?: ConstructorParameters<typeof IndexBuilder>[0],
  ) {
    this.at = startPos;
    this.index = new IndexBuilder(known);
  }

  /** File offset after the last complete tag. */
  get end(): number {
    return this.at;
  }

  /** Feeds the next bytes; false once scanning has stopped (a bad tag, or stopAt said so). */
  push(chunk: Buffer): boolean {
    if (this.stopped) return false;
    const buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let haltAt: number | undefined;
    const r = walkTags(buf, this.at, (t) => {
      if (haltAt !== undefined) return;
      this.index.add(t);
      if (this.stopAt?.(t)) haltAt = t.pos + FLV_TAG_HEADER_SIZE + t.body.length + 4;
    });
    if (haltAt !== undefined) {
      this.at = haltAt;
      this.pending = Buffer.alloc(0);
      this.stopped = true;
      return false;
    }
    this.at += r.used;
    // A copy of the rest: a view would keep the whole chunk alive.
    this.pending = r.used === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(r.used));
    if (r.bad) this.stopped = true;
    return !this.stopped;
  }
}

/** Reads up to `length` bytes at `pos` (fewer at the end of the file). */
export async function readAt(fh: FileHandle, pos: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await fh.read(buf, filled, length - filled, pos + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === length ? buf : buf.subarray(0, filled);
}

/** Scans [from, limit) in chunks; returns the scanner (its index and where the valid tags end). */
async function scanRange(fh: FileHandle, from: number, limit: number, stopAt?: (t: TagView) => boolean, known?: ConstructorParameters<typeof IndexBuilder>[0]): Promise<FlvScanner> {
  const scanner = new FlvScanner(from, stopAt, known);
  for (let pos = from; pos < limit; pos += SCAN_CHUNK) {
    const chunk = await readAt(fh, pos, Math.min(SCAN_CHUNK, limit - pos));
    if (chunk.length === 0 || !scanner.push(chunk)) break;
  }
  return scanner;
}

/** The FlvIndex of what a builder saw; `sync` defaults to its own points. */
function indexFrom(b: IndexBuilder, dataStart: number, dataEnd: number, source: FlvIndex['source'], sync: readonly SyncPoint[] = b.points): FlvIndex {
  const startMs = b.startMs ?? 0;
  return { dataStart, dataEnd, startMs, endMs: Math.max(startMs, b.endMs), video: b.video, audio: b.audio, sync, configs: b.configs, source };
}

/** The index of FLV tags in memory (`buf` holds the tags from file offset `dataStart` on), by a scan. Pure. */
export function scanBytes(buf: Buffer, dataStart: number): FlvIndex {
  const scanner = new FlvScanner(dataStart);
  scanner.push(buf);
  return indexFrom(scanner.index, dataStart, scanner.end, 'scan');
}

/**
 * The index from the file's own keyframes index, checked against the file: the head up to the first
 * keyframe (the headers, the first media time) and the tail from the last keyframe to the end are read
 * and must put keyframe tags exactly where the index says. Undefined when they do not (then: a scan).
 */
async function fromKeyframesIndex(fh: FileHandle, size: number, dataStart: number, kf: KeyframesIndex): Promise<FlvIndex | undefined> {
  const n = kf.positions.length;
  const first = kf.positions[0];
  const last = kf.positions[n - 1];
  if (n === 0 || first === undefined || last === undefined || kf.filesize !== size || first < dataStart || last >= size) return undefined;
  if (first - dataStart > MAX_HEAD_TAIL_BYTES || size - last > MAX_HEAD_TAIL_BYTES) return undefined;
  const head = await scanRange(fh, dataStart, size, (t) => t.pos >= first);
  const hb = head.index;
  if (!hb.video || hb.sync[0]?.pos !== first) return undefined;
  const tail = await scanRange(fh, last, size, undefined, { video: hb.video, audio: hb.audio });
  const tb = tail.index;
  if (tb.sync[0]?.pos !== last || tb.sync[0].timeMs !== kf.timesMs[n - 1]) return undefined;
  // The tail's builder saw no headers: the head's codecs hold. Its end times are the file's.
  const sync: SyncPoint[] = [];
  for (let i = 0; i < n - 1; i++) sync.push({ timeMs: kf.timesMs[i] as number, pos: kf.positions[i] as number });
  for (const p of tb.sync) sync.push(p);
  const endMs = Math.max(hb.startMs ?? 0, tb.endMs);
  return { ...indexFrom(hb, dataStart, tail.end, 'index', sync), endMs };
}

/** Builds the index of an FLV file of `size` bytes. Throws FlvError when it is not FLV at all. */
export async function indexFlvFile(file: string, size: number): Promise<FlvIndex> {
  const fh = await open(file, 'r');
  try {
    const header = parseFlvHeader(await readAt(fh, 0, 9));
    if (header.dataOffset > MAX_FILE_META_BYTES) throw new FlvError(`FLV data offset ${header.dataOffset} too large`);
    // The first tag follows PreviousTagSize0 (FLV_HEADER_SIZE counts it after the 9-byte header).
    const dataStart = header.dataOffset + (FLV_HEADER_SIZE - 9);
    const first = await readAt(fh, dataStart, FLV_TAG_HEADER_SIZE);
    if (first.length === FLV_TAG_HEADER_SIZE && flvTagType(first, 0) === TagType.Script) {
      const bodySize = flvTagDataSize(first, 0);
      if (bodySize <= MAX_FILE_META_BYTES) {
        const body = await readAt(fh, dataStart + FLV_TAG_HEADER_SIZE, bodySize);
        const kf = parsedOrUndefined(() => parseKeyframesIndex(body));
        const fromIndex = kf && (await fromKeyframesIndex(fh, size, dataStart, kf));
        if (fromIndex) return fromIndex;
      }
    }
    const scan = await scanRange(fh, dataStart, size);
    return indexFrom(scan.index, dataStart, scan.end, 'scan');
  } finally {
    await fh.close();
  }
}

/** Recent indexes by file, size and mtime (a file that grows or is replaced is indexed again); concurrent requests share a build. */
export class FlvIndexCache {
  /** One entry per file, least recently used first: the version (size, mtime) indexed and its build. */
  private readonly entries = new Map<string, { readonly version: string; readonly built: Promise<FlvIndex> }>();

  constructor(private readonly capacity = 64) {}

  async get(file: string): Promise<FlvIndex> {
    const st = await stat(file);
    const version = `${st.size}:${st.mtimeMs}`;
    const hit = this.entries.get(file);
    this.entries.delete(file);
    if (hit?.version === version) {
      this.entries.set(file, hit);
      return hit.built;
    }
    const entry = { version, built: indexFlvFile(file, st.size) };
    this.entries.set(file, entry);
    entry.built.catch(() => {
      if (this.entries.get(file) === entry) this.entries.delete(file);
    });
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    return entry.built;
  }
}
