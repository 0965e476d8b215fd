// JSON exchanged between nodes (origins, edges) and the signal service. Both sides import these types.

export type NodeKind = 'origin' | 'edge';

/**
 * Streams one heartbeat may list. Every listed stream costs memory in the registry and work in every
 * GET /api/streams: the signal refuses more, and nodes send at most this many (shared/registration.ts).
 */
export const MAX_HEARTBEAT_STREAMS = 5000;

export interface NodeRegistration {
  /** Stable id chosen by the node (e.g. kind-region-host-port). */
  readonly id: string;
  readonly kind: NodeKind;
  readonly region: string;
  /** Base HTTP URL viewers use, e.g. http://edge1.example:8080 */
  readonly publicUrl: string;
  /** rtmp://host:port, origins only: where encoders push. */
  readonly rtmpUrl?: string;
  /** Viewers (edge) or publishers (origin) the node accepts before it counts as full. */
  readonly capacity: number;
}

export interface NodeLoad {
  readonly viewers: number;
  readonly publishers: number;
  /** Egress bit rate, bits per second, averaged over the last heartbeat interval. */
  readonly egressBps: number;
  /** Process CPU use, 0..1 of one core per worker summed. */
  readonly cpu: number;
  /** Streams currently live or cached on the node, as "app/stream". */
  readonly streams: readonly string[];
  /** Optional per-stream detail; the signal service shows it in GET /api/streams[/:id]. */
  readonly streamStats?: readonly StreamStat[];
  /** Edges: share of HLS requests served from cache over the last heartbeat interval, 0..1; absent when idle. */
  readonly cacheHitRatio?: number;
}

export interface StreamStat {
  /** "app/stream" */
  readonly stream: string;
  readonly viewers: number;
  /** Origins: true while a publisher is connected. */
  readonly publishing?: boolean;
  /** Codec names as media/codec.ts spells them, e.g. "h264", "aac". */
  readonly video?: string;
  readonly audio?: string;
  readonly bitrateBps?: number;
  /** Origins: how the stream is packaged as HLS, once its first segment opened. */
  readonly hls?: StreamHlsInfo;
}

/** How an origin packages a stream as HLS: the `hls` field of its /api/streams and of its heartbeats. */
export interface StreamHlsInfo {
  readonly format: 'ts' | 'fmp4';
  /** LL-HLS part target (EXT-X-PART-INF), seconds; null when LL-HLS is off. */
  readonly partTargetS: number | null;
  /** The playlist's CODECS value as media/codec.ts writes it, e.g. "avc1.64001f,mp4a.40.2"; null until known. */
  readonly codecs: string | null;
}

export interface Heartbeat {
  readonly id: string;
  readonly load: NodeLoad;
}

export interface NodeRecord extends NodeRegistration {
  readonly load: NodeLoad;
  /** ms since epoch of the last heartbeat. */
  readonly lastSeen: number;
}
