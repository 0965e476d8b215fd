// One subscriber of a stream in one wire format, and the byte pipe it writes to.
import type { ViewerProtocol } from './wire-formats.js';
import type { ViewerLag } from './viewer-policy.js';

/** The transport of one viewer: an HTTP response's socket or an RTMP PlayOutput. */
export interface ViewerSink {
  /** Bytes accepted but not yet handed to the kernel (net.Socket.writableLength). */
  readonly writableLength: number;
  write(bytes: Buffer): void;
  /** Several buffers in one syscall where possible. */
  writev(parts: readonly Buffer[]): void;
  /** Ends the viewer's connection cleanly (a final chunk for HTTP, a close for RTMP). */
  end(reason: string): void;
  /** Drops the connection now, queued bytes and all (a stalled reader would never take a clean end). */
  abort(reason: string): void;
  /** The publisher left, or a new one took over, while this viewer stays (RTMP sends the Play notifies). */
  publisherChanged?(event: 'unpublish' | 'republish'): void;
}

export interface ViewerInfo {
  readonly id: string;
  readonly remoteAddress: string;
  /**
   * Stays connected when the publisher stops, for a republish within the stream's grace (as SRS does).
   * Off for relays (edges), which run their own grace and reconnect.
   */
  readonly keepAcrossRepublish?: boolean;
}

export class Viewer {
  /** The next packet seq this viewer needs; packets before it were sent or deliberately skipped. */
  nextSeq = 0;
  started = false;
  closed = false;
  readonly lag: ViewerLag = { skipping: false, behindSince: undefined };
  /** A codec header was skipped while lagging: resend the current ones on resume. */
  headersDropped = false;
  droppedFrames = 0;
  bytesSent = 0;
  /** The tracks announced in this viewer's FLV header, when its format has one. */
  tracks: { readonly audio: boolean; readonly video: boolean } | undefined;
  readonly since = Date.now();

  constructor(
    readonly protocol: ViewerProtocol,
    readonly info: ViewerInfo,
    readonly sink: ViewerSink,
  ) {}

  write(bytes: Buffer): void {
    this.bytesSent += bytes.length;
    this.sink.write(bytes);
  }

  writev(parts: readonly Buffer[]): number {
    let n = 0;
    for (const p of parts) n += p.length;
    this.bytesSent += n;
    this.sink.writev(parts);
    return n;
  }
}
