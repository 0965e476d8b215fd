// A source stream's packets as FLV bytes for an FFmpeg child's stdin: the file header, the codec headers,
// then frames from the next keyframe on. A process never gets frames older than the one it starts at, so
// rung timestamps (copied from the source's) only move forward across restarts. The child's stdin is a
// bounded queue: past the cap the feed drops frames up to the next keyframe (counted), as a slow viewer
// would, instead of buffering without limit when FFmpeg cannot keep up.
import { flvFormat } from '../hub/wire-formats.js';
import type { OutPacket, PacketKind } from '../hub/out-packet.js';

const HEADER_KINDS: ReadonlySet<PacketKind> = new Set(['metadata', 'video-header', 'audio-header']);

export interface FeedSink {
  /** Bytes written but not yet taken by the reader (the pipe's writableLength). */
  readonly backlog: number;
  write(bytes: Buffer): void;
}

export class FlvFeed {
  /** Media frames dropped: waiting for the first keyframe is not counted, falling behind is. */
  skippedFrames = 0;
  private waitKey = true;
  private behind = false;

  constructor(
    private readonly sink: FeedSink,
    private readonly maxBacklogBytes: number,
  ) {}

  /** The file header for the source's tracks, then its metadata and codec headers (other packets are ignored). */
  begin(tracks: { readonly audio: boolean; readonly video: boolean }, headers: readonly OutPacket[]): void {
    const header = flvFormat.header?.(tracks);
    if (header) this.sink.write(header);
    for (const p of headers) if (HEADER_KINDS.has(p.kind)) this.sink.write(p.bytes(flvFormat.encoder));
  }

  /** One source packet, as the hub offers it to observers. */
  packet(p: OutPacket): void {
    if (!p.isMedia) {
      // Codec headers and metadata always go through: a codec change mid-stream needs them.
      if (HEADER_KINDS.has(p.kind)) this.sink.write(p.bytes(flvFormat.encoder));
      return;
    }
    if (this.sink.backlog > this.maxBacklogBytes) {
      this.waitKey = true;
      this.behind = true;
      this.skippedFrames++;
      return;
    }
    if (this.waitKey) {
      if (!p.randomAccess) {
        if (this.behind) this.skippedFrames++;
        return;
      }
      this.waitKey = false;
      this.behind = false;
    }
    this.sink.write(p.bytes(flvFormat.encoder));
  }
}
