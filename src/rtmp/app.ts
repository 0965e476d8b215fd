// The boundary between the RTMP protocol layer and the application that owns streams (the origin hub,
// or an edge). The rtmp/ layer knows nothing about hubs; it calls these hooks.
import type { MediaPacket } from '../media/packet.js';

export interface RtmpStreamRequest {
  readonly app: string;
  readonly stream: string;
  /** Query parameters from the stream name (`name?token=…`) merged over those of the connect tcUrl. */
  readonly query: Readonly<Record<string, string>>;
  readonly remoteAddress: string;
  readonly connectionId: string;
}

/** Status sent to the client when a publish or play is refused (onStatus level "error"). */
export interface Refusal {
  /** e.g. NetStream.Publish.BadName, NetStream.Publish.Unauthorized, NetStream.Play.StreamNotFound */
  readonly code: string;
  readonly description: string;
}

/** What the app receives from a publisher. Timestamps are raw RTMP timestamps (32-bit, may wrap). */
export interface PublishSink {
  onPacket(packet: MediaPacket): void;
  /** The publisher stopped (FCUnpublish, deleteStream, closeStream or socket closed). Called once. */
  onEnd(): void;
}

/** Lets the app end a publisher (take-over, revoked token, idle). */
export interface PublisherControl {
  close(reason: string): void;
}

/**
 * The byte pipe to one RTMP player. The app writes pre-chunked RTMP messages (see rtmp/chunk-writer.ts
 * `encodeMessage`) using `chunkSize` and `streamId`, which are the same for every player of a server so
 * that the chunked bytes of a frame can be shared among players.
 */
export interface PlayOutput {
  readonly chunkSize: number;
  readonly streamId: number;
  /** Returns false when the socket buffer is above its high-water mark (as net.Socket.write). */
  write(bytes: Buffer): boolean;
  /** Several buffers in one syscall where possible. */
  writev(chunks: readonly Buffer[]): boolean;
  readonly writableLength: number;
  close(reason: string): void;
}

export type PublishResult = { ok: true; sink: PublishSink } | { ok: false; refusal: Refusal };
/**
 * On success the server sends StreamBegin, NetStream.Play.Reset/Start and |RtmpSampleAccess, then calls
 * `start()`; only then may the app write (metadata, sequence headers, GOP cache, live).
 * `detach()` is called once when the player stops or disconnects.
 */
export type PlayResult = { ok: true; start(): void; detach(): void } | { ok: false; refusal: Refusal };

export interface RtmpApp {
  publish(req: RtmpStreamRequest, control: PublisherControl): Promise<PublishResult>;
  play(req: RtmpStreamRequest, out: PlayOutput): Promise<PlayResult>;
}
