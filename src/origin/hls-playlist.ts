// One HLS playlist in memory: its segmenter, the segments (the live window plus as many again kept
// fetchable after they leave it), fMP4 init segments, LL-HLS parts (hls-parts.ts), the wall clock of
// each segment (EXT-X-PROGRAM-DATE-TIME), and the m3u8 texts, rebuilt once per change rather than per
// request (hls-render.ts).
//
// An ABR rendition's playlist follows its source's (`follow`): its segmenter cuts where the source's cut,
// with the source's numbers, and numbers it has no segment for (a transcoder restart lost them) are
// listed as EXT-X-GAP segments with the source's durations, so that a number means the same media time
// in every rendition.
import { HlsSegmenter } from '../media/hls/segmenter.js';
import type { HlsFormat, HlsInit, HlsPart, HlsSegment, SegmentLeader } from '../media/hls/segmenter.js';
import type { RenditionReport } from '../media/hls/playlist.js';
import type { MediaPacket } from '../media/packet.js';
import type { AudioTagHeader, VideoTagHeader } from '../media/flv/tag-header.js';
import { comparePositions } from './hls-directives.js';
import type { ListedPosition, PartPosition } from './hls-directives.js';
import { PartStore } from './hls-parts.js';
import { partsRetainedFrom, renderPlaylist } from './hls-render.js';
import type { ListedSegment, LowLatencyState } from './hls-render.js';

export interface StoredSegment extends ListedSegment {
  readonly keyframeStart: boolean;
  /** Empty for a gap. */
  readonly data: Buffer;
}

/** The playlist a rendition follows: where its segments start, how long each one is (gap durations), and its date. */
export interface PlaylistLeader extends SegmentLeader {
  durationS(sequence: number): number | undefined;
  /** The leader's EXT-X-PROGRAM-DATE-TIME of segment `sequence` (epoch ms), while it keeps it. */
  programDateTime(sequence: number): number | undefined;
}

/** Measured bit rates of the listed segments (bits / EXTINF), bit/s: the multivariant playlist's BANDWIDTH and AVERAGE-BANDWIDTH. */
export interface MeasuredBandwidth {
  readonly peakBps: number;
  readonly averageBps: number;
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
  /** ABR: the source playlist this rendition's segments follow. */
  readonly follow?: PlaylistLeader;
  /** LL-HLS with ABR: the sibling renditions' reports (EXT-X-RENDITION-REPORT), asked at each render. */
  readonly reports?: () => RenditionReport[];
  /** Told of each init segment as it is made, and of each segment (gaps too) as it is listed: the DVR store keeps them. */
  readonly onInit?: (init: HlsInit) => void;
  readonly onSegment?: (segment: StoredSegment) => void;
}

const EMPTY = Buffer.alloc(0);

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
  /** Where the last segment ended on the input timeline (a gap before the next one spans up to its start). */
  private lastEndDts: number | undefined;
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
      ...(opts.follow ? { follow: opts.follow } : {}),
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

  /** Bit rates of the listed segments (gaps left out); undefined before the first one. */
  bandwidth(): MeasuredBandwidth | undefined {
    let peak = 0;
    let bits = 0;
    let seconds = 0;
    for (const s of this.listed()) {
      if (s.gap || s.durationS <= 0) continue;
      peak = Math.max(peak, (s.data.length * 8) / s.durationS);
      bits += s.data.length * 8;
      seconds += s.durationS;
    }
    return seconds > 0 ? { peakBps: Math.round(peak), averageBps: Math.round(bits / seconds) } : undefined;
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
    this.opts.onInit?.(init);
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
      this.addGaps(s);
      this.lastEndDts = s.startDts + s.durationMs;
      // A rendition takes its source's date for the same number: the same number is the same media time,
      // and players (hls.js) line renditions up by their dates when they switch. Its own clock would be late
      // by the transcoder's start-up.
      const pdt = Math.max(this.opts.follow?.programDateTime(s.sequence) ?? this.dateOf(s.startDts) ?? this.now(), this.lastPdtEnd);
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
      this.opts.onSegment?.(stored);
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

  /**
   * A follower's segment whose number jumps past the last one's: the numbers in between are gaps, with
   * the leader's durations (else the time between the two, shared). At most a window of them: older
   * ones would never be listed.
   */
  private addGaps(next: HlsSegment): void {
    const prev = this.segments.at(-1);
    const leader = this.opts.follow;
    if (!leader || !prev || next.sequence <= prev.sequence + 1) return;
    const missing = Math.min(next.sequence - prev.sequence - 1, this.opts.window);
    const spanMs = this.lastEndDts === undefined ? 0 : next.startDts - this.lastEndDts;
    // Unknown to the leader (gone from its store): the time in between, shared, never longer than a listed segment (TARGETDURATION stays).
    const evenS = spanMs > 0 ? Math.min(spanMs / 1000 / missing, this.maxDurationS) : this.opts.targetDurationMs / 1000;
    for (let seq = next.sequence - missing; seq < next.sequence; seq++) {
      const durationS = leader.durationS(seq) ?? evenS;
      const gap: StoredSegment = { sequence: seq, durationS, discontinuity: false, gap: true, keyframeStart: false, format: prev.format, initId: prev.initId, programDateTime: Math.max(this.lastPdtEnd, prev.programDateTime), data: EMPTY };
      this.lastPdtEnd = gap.programDateTime + durationS * 1000;
      this.segments.push(gap);
      this.opts.onSegment?.(gap);
      this.maxDurationS = Math.max(this.maxDurationS, durationS);
    }
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
      ...(ll && this.opts.reports ? { renditionReports: this.opts.reports() } : {}),
    });
    this.text = r.full;
    this.deltaText = r.delta;
    this.position = r.position;
    this.targetDurationS = r.targetDurationS;
    if (ll) this.parts.dropBefore(partsRetainedFrom(listed, r.targetDurationS));
  }
}
