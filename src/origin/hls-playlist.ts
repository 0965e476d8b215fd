// One HLS playlist in memory: its segmenter, the segments (the live window plus as many again kept
// fetchable after they leave it), fMP4 init segments, LL-HLS parts (hls-parts.ts), the wall clock of
// each segment (EXT-X-PROGRAM-DATE-TIME), and the m3u8 texts, rebuilt once per change rather than per
// request (hls-render.ts).
import { HlsSegmenter } from '../media/hls/segmenter.js';
import type { HlsFormat, HlsInit, HlsPart, HlsSegment } from '../media/hls/segmenter.js';
import type { MediaPacket } from '../media/packet.js';
import type { AudioTagHeader, VideoTagHeader } from '../media/flv/tag-header.js';
import { comparePositions } from './hls-directives.js';
import type { ListedPosition, PartPosition } from './hls-directives.js';
import { PartStore } from './hls-parts.js';
import { partsRetainedFrom, renderPlaylist } from './hls-render.js';
import type { ListedSegment, LowLatencyState } from './hls-render.js';

export interface StoredSegment extends ListedSegment {
  readonly keyframeStart: boolean;
  readonly data: Buffer;
}

export interface HlsPlaylistOptions {
  readonly stream: string;
  readonly targetDurationMs: number;
  /** Segments listed. */
  readonly window: number;
  /** Segments kept fetchable after leaving the window. */
  readonly retainExtra: number;
  readonly firstSequence: number;
  /** Default 'ts'. */
  readonly format?: HlsFormat | 'auto';
  /** LL-HLS part target, ms; 0 or absent: no parts. */
  readonly partTargetMs?: number;
  /** Errors of part readers (sockets), which must not reach the segmenter. */
  readonly onError?: (err: unknown) => void;
  /** The wall clock (tests). */
  readonly now?: () => number;
}

export class HlsPlaylist {
  readonly segmenter: HlsSegmenter;
  readonly parts: PartStore;
  private readonly segments: StoredSegment[] = [];
  private readonly bySequence = new Map<number, StoredSegment>();
  private readonly inits = new Map<number, Buffer>();
  private currentInitId: number | undefined;
  private totalDiscontinuities = 0;
  private maxDurationS: number;
  /** Wall clock minus input timeline at the first packet: a segment's PDT is this + its start DTS. */
  private wallBase: number | undefined;
  private lastPdtEnd = -Infinity;
  /** A republish flagged the open segment: its parts follow EXT-X-DISCONTINUITY. */
  private openDiscontinuity = false;
  /** A part completed since the last render. */
  private partsDirty = false;
  private readonly now: () => number;
  ended = false;
  /** The current m3u8; undefined until the first segment is complete. */
  text: string | undefined;
  /** The current delta update (LL-HLS, _HLS_skip), when it skips anything. */
  deltaText: string | undefined;
  /** What the current text lists, for blocking requests; undefined with `text`. */
  position: ListedPosition | undefined;
  /** TARGETDURATION of the current text, s. */
  targetDurationS: number;
  /** Bumped whenever something a held request waits for happens: a render, a part opening. */
  version = 0;

  constructor(private readonly opts: HlsPlaylistOptions) {
    this.now = opts.now ?? Date.now;
    this.parts = new PartStore(opts.onError ?? (() => undefined));
    this.segmenter = new HlsSegmenter({
      targetDurationMs: opts.targetDurationMs,
      firstSequence: opts.firstSequence,
      format: opts.format ?? 'ts',
      ...(this.lowLatency ? { partTargetMs: opts.partTargetMs } : {}),
      sink: {
        onInit: (init: HlsInit) => this.addInit(init),
        onChunk: (sequence: number, index: number, bytes: Buffer) => this.addChunk(sequence, index, bytes),
        onPart: (part: HlsPart) => this.addPart(part),
      },
    });
    this.maxDurationS = opts.targetDurationMs / 1000;
    this.targetDurationS = Math.max(1, Math.round(this.maxDurationS));
  }

  get lowLatency(): boolean {
    return (this.opts.partTargetMs ?? 0) > 0;
  }

  /** PART-TARGET: the segmenter's effective target (whole frames near the configured one), fixed before the first part; the configured one until then. */
  get partTargetS(): number | undefined {
    return this.lowLatency ? (this.segmenter.partTargetMs ?? this.opts.partTargetMs ?? 0) / 1000 : undefined;
  }

  /** The CODECS string of what the stream carries (RFC 6381), undefined before its headers. */
  codecs(): string | undefined {
    const c = this.segmenter.codecs();
    const list = [c.video?.codecString, c.audio?.codecString].filter((s) => s !== undefined);
    return list.length > 0 ? list.join(',') : undefined;
  }

  /** Feeds a packet (with its tag header when already parsed); returns how many segments it completed (they are listed on return). */
  push(p: MediaPacket, header?: AudioTagHeader | VideoTagHeader): number {
    this.wallBase ??= this.now() - p.timestamp;
    return this.add(this.segmenter.push(p, header));
  }

  /** A new publisher continues the playlist: the open segment is flushed and the next one is flagged. */
  continueAfterRepublish(): number {
    const n = this.add(this.segmenter.markDiscontinuity());
    this.parts.abandonOpen();
    this.openDiscontinuity = true;
    // The new publisher's first packet maps the timeline to the wall clock again: dates after the
    // discontinuity tell when it was published, not how much media came before.
    this.wallBase = undefined;
    return n;
  }

  /** The stream is over: flush the last segment and append EXT-X-ENDLIST. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.add(this.segmenter.end(), true);
    this.parts.abandonOpen();
  }

  segment(sequence: number): StoredSegment | undefined {
    return this.bySequence.get(sequence);
  }

  init(id: number): Buffer | undefined {
    return this.inits.get(id);
  }

  /** Segments currently listed. */
  listed(): readonly StoredSegment[] {
    return this.segments.slice(-this.opts.window);
  }

  /** The part clients are told to request next (EXT-X-PRELOAD-HINT): it may not exist yet. */
  get hint(): PartPosition | undefined {
    const last = this.parts.last;
    if (!this.lowLatency || this.ended || !last) return undefined;
    const lastSegment = this.segments.at(-1)?.sequence;
    return lastSegment !== undefined && last.sequence <= lastSegment ? { sequence: lastSegment + 1, index: 0 } : { sequence: last.sequence, index: last.index + 1 };
  }

  /** Part (sequence, index) is the hint or before it: it exists, is open, or is next. */
  notAfterHint(p: PartPosition): boolean {
    const h = this.hint;
    return h !== undefined && comparePositions(p, h) <= 0;
  }

  private addInit(init: HlsInit): void {
    this.inits.set(init.id, init.data);
    this.currentInitId = init.id;
  }

  private addChunk(sequence: number, index: number, bytes: Buffer): void {
    const before = this.parts.openPosition;
    this.parts.chunk(sequence, index, bytes);
    if (before?.sequence !== sequence || before.index !== index) this.version++;
  }

  private addPart(p: HlsPart): void {
    this.parts.complete({ sequence: p.sequence, index: p.index, durationS: p.durationMs / 1000, independent: p.independent, data: p.data });
    this.partsDirty = true;
  }

  private add(segs: readonly HlsSegment[], force = false): number {
    for (const s of segs) {
      const pdt = this.dateOf(s.startDts) ?? this.now();
      const stored: StoredSegment = {
        sequence: s.sequence,
        durationS: s.durationMs / 1000,
        discontinuity: s.discontinuity,
        keyframeStart: s.keyframeStart,
        format: s.format,
        initId: s.initId,
        programDateTime: pdt,
        data: s.data,
      };
      this.lastPdtEnd = pdt + s.durationMs;
      this.segments.push(stored);
      this.bySequence.set(s.sequence, stored);
      if (s.discontinuity) {
        this.totalDiscontinuities++;
        this.openDiscontinuity = false;
      }
      // TARGETDURATION must cover every EXTINF and should not shrink: keep the largest ever seen.
      this.maxDurationS = Math.max(this.maxDurationS, stored.durationS);
    }
    while (this.segments.length > this.opts.window + this.opts.retainExtra) {
      const old = this.segments.shift() as StoredSegment;
      this.bySequence.delete(old.sequence);
    }
    if (segs.length > 0) this.dropUnusedInits();
    if (segs.length > 0 || this.partsDirty || force) this.render();
    return segs.length;
  }

  /** The wall-clock date of a DTS, epoch ms: kept monotonic, a segment never starts before the previous one ended. */
  private dateOf(dts: number | undefined): number | undefined {
    return dts === undefined || this.wallBase === undefined ? undefined : Math.max(Math.round(this.wallBase + dts), this.lastPdtEnd);
  }

  /** Init segments no stored segment needs, except the current one (the open segment's). */
  private dropUnusedInits(): void {
    const used = new Set(this.segments.map((s) => s.initId));
    for (const id of this.inits.keys()) if (id !== this.currentInitId && !used.has(id)) this.inits.delete(id);
  }

  private render(): void {
    this.partsDirty = false;
    this.version++;
    const listed = this.listed();
    if (listed.length === 0) {
      this.text = this.deltaText = this.position = undefined;
      return;
    }
    const inWindow = listed.reduce((n, s) => n + (s.discontinuity ? 1 : 0), 0);
    const lastSequence = (listed.at(-1) as StoredSegment).sequence;
    const ll: LowLatencyState | undefined = this.lowLatency
      ? {
          partTargetS: this.partTargetS ?? 0,
          partsOf: (seq) => this.parts.partsOf(seq),
          trailing: this.parts.partsOf(lastSequence + 1),
          openDiscontinuity: this.openDiscontinuity,
          openInitId: this.currentInitId,
          openProgramDateTime: this.dateOf(this.segmenter.openSegmentStartDts),
          hint: this.hint,
        }
      : undefined;
    const r = renderPlaylist({
      stream: this.opts.stream,
      segments: listed,
      maxDurationS: this.maxDurationS,
      // Discontinuity tags that have slid out of the window (RFC 8216 4.3.3.3).
      discontinuitySequence: this.totalDiscontinuities - inWindow,
      endList: this.ended,
      ...(ll ? { ll } : {}),
    });
    this.text = r.full;
    this.deltaText = r.delta;
    this.position = r.position;
    this.targetDurationS = r.targetDurationS;
    if (ll) this.parts.dropBefore(partsRetainedFrom(listed, r.targetDurationS));
  }
}
