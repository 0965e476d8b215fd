// What a remote transcoder writes to FFmpeg's stdin: the origin's HTTP-FLV, parsed and handed to the
// local transcoder's FlvFeed (header, codec headers, frames from a keyframe on, bounded backlog), with one
// difference: the origin opens every FLV response with its GOP cache, frames older than now. A transcoder
// that starts after another one (a restart, a reassignment) would publish those again, behind the rung's
// last timestamp, and the origin would rebase them off the source's timeline. So the cached keyframe and
// the frames after it are dropped, and FFmpeg starts at the first keyframe that arrives live: rung
// timestamps only move forward, as with local transcoding.
import { FlvReader } from '../media/flv/reader.js';
import { OutPacket, classify } from '../hub/out-packet.js';
import { FlvFeed } from './flv-feed.js';
import type { FeedSink } from './flv-feed.js';

export class RemoteFlvFeed {
  private readonly reader = new FlvReader();
  private readonly feed: FlvFeed;
  private begun = false;
  private seq = 0;
  /** The first (cached) keyframe has gone by: from here on frames are live. */
  private live = false;

  constructor(sink: FeedSink, maxBacklogBytes: number) {
    this.feed = new FlvFeed(sink, maxBacklogBytes);
  }

  /** Frames dropped because FFmpeg fell behind. */
  get skippedFrames(): number {
    return this.feed.skippedFrames;
  }

  /** HTTP-FLV bytes, in any split. Throws FlvError on a malformed stream. */
  push(chunk: Buffer): void {
    for (const m of this.reader.push(chunk)) {
      const header = this.reader.header;
      if (!this.begun && header) {
        this.feed.begin({ audio: header.audio, video: header.video }, []);
        this.begun = true;
      }
      const kind = classify(m);
      const p = new OutPacket(this.seq++, m, kind, kind === 'video-key', performance.now());
      if (p.isMedia && !this.live) {
        if (kind === 'video-key') this.live = true;
        continue;
      }
      this.feed.packet(p);
    }
  }
}
