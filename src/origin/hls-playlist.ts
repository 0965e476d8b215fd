// One HLS playlist in memory: its segmenter, the segments (the live window plus as many again kept
// fetchable after they leave it), and the m3u8 text, rebuilt once per change rather than per request.
import { HlsSegmenter } from '../media/hls/segmenter.js';
import type { TsSegment } from '../media/hls/segmenter.js';
import { writeMediaPlaylist } from '../media/hls/playlist.js';
import type { MediaPacket } from '../media/packet.js';
import type { AudioTagHeader, VideoTagHeader } from '../media/flv/tag-header.js';
import { segmentUri } from '../shared/url-contract.js';

export interface StoredSegment {
  readonly sequence: number;
  readonly durationS: number;
  readonly discontinuity: boolean;
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
}

export class HlsPlaylist {
  readonly segmenter: HlsSegmenter;
  private readonly segments: StoredSegment[] = [];
  private readonly bySequence = new Map<number, StoredSegment>();
  private totalDiscontinuities = 0;
  private maxDurationS: number;
  ended = false;
  /** The current m3u8; undefined until the first segment is complete. */
  text: string | undefined;

  constructor(private readonly opts: HlsPlaylistOptions) {
    this.segmenter = new HlsSegmenter({ targetDurationMs: opts.targetDurationMs, firstSequence: opts.firstSequence });
    this.maxDurationS = opts.targetDurationMs / 1000;
  }

  /** Feeds a packet (with its tag header when already parsed); returns how many segments it completed (they are listed on return). */
  push(p: MediaPacket, header?: AudioTagHeader | VideoTagHeader): number {
    return this.add(this.segmenter.push(p, header));
  }

  /** A new publisher continues the playlist: the open segment is flushed and the next one is flagged. */
  continueAfterRepublish(): number {
    return this.add(this.segmenter.markDiscontinuity());
  }

  /** The stream is over: flush the last segment and append EXT-X-ENDLIST. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.add(this.segmenter.end(), true);
  }

  segment(sequence: number): StoredSegment | undefined {
    return this.bySequence.get(sequence);
  }

  /** Segments currently listed. */
  listed(): readonly StoredSegment[] {
    return this.segments.slice(-this.opts.window);
  }

  private add(segs: readonly TsSegment[], force = false): number {
    for (const s of segs) {
      const stored: StoredSegment = {
        sequence: s.sequence,
        durationS: s.durationMs / 1000,
        discontinuity: s.discontinuity,
        keyframeStart: s.keyframeStart,
        data: s.data,
      };
      this.segments.push(stored);
      this.bySequence.set(s.sequence, stored);
      if (s.discontinuity) this.totalDiscontinuities++;
      // TARGETDURATION must cover every EXTINF and should not shrink: keep the largest ever seen.
      this.maxDurationS = Math.max(this.maxDurationS, stored.durationS);
    }
    while (this.segments.length > this.opts.window + this.opts.retainExtra) {
      const old = this.segments.shift() as StoredSegment;
      this.bySequence.delete(old.sequence);
    }
    if (segs.length > 0 || force) this.render();
    return segs.length;
  }

  private render(): void {
    const listed = this.listed();
    const first = listed[0];
    if (!first) {
      this.text = undefined;
      return;
    }
    const inWindow = listed.reduce((n, s) => n + (s.discontinuity ? 1 : 0), 0);
    this.text = writeMediaPlaylist({
      targetDurationS: this.maxDurationS,
      mediaSequence: first.sequence,
      // Discontinuity tags that have slid out of the window (RFC 8216 4.3.3.3).
      discontinuitySequence: this.totalDiscontinuities - inWindow,
      segments: listed.map((s) => ({ uri: segmentUri(this.opts.stream, s.sequence), durationS: s.durationS, discontinuity: s.discontinuity })),
      endList: this.ended,
    });
  }
}
