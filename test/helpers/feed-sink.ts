// Test helper: what an FFmpeg child's stdin would receive from a feed (src/transcode/flv-feed.ts,
// remote-feed.ts), with a backlog the test sets.
import { FlvReader } from '../../src/media/flv/reader.js';

export class RecordingSink {
  backlog = 0;
  readonly chunks: Buffer[] = [];

  write(b: Buffer): void {
    this.chunks.push(b);
  }

  /** What FFmpeg reads: [type, timestamp] per tag. */
  tags(): Array<[number, number]> {
    return new FlvReader().push(Buffer.concat(this.chunks)).map((p) => [p.type, p.timestamp]);
  }
}
