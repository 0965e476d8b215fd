// JSON exchanged between nodes (origins, edges) and the signal service. Both sides import these types.

/** 'transcoder': a `livecdn transcode` process (issue 11), which transcodes the sources the signal assigns it. */
export type NodeKind = 'origin' | 'edge' | 'transcoder';

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
  /**
   * Origins with --transcode-remote, for a live source with a ladder: what a remote transcoder must make
   * of it. The signal hands it on in GET /api/transcode/assignments, so the origin's ladder config is the
   * one the transcoders follow.
   */
  readonly transcodeJob?: TranscodeJob;
  /** Origins: a source with a ladder: its renditions, source first (what the play answer lists). */
  readonly ladder?: readonly RungStat[];
  /** Origins: a source with a ladder: its transcoder. */
  readonly transcode?: TranscodeStat;
  /** Origins with --dvr-window: the stream's time-shift window now (the `dvr` of /api/streams); absent without DVR. */
  readonly dvr?: DvrStat;
}

/** A live stream's DVR window as the origin keeps it: the `dvr` of /api/streams and heartbeats. */
export interface DvrStat {
  /** The configured window (--dvr-window), ms. */
  readonly windowMs: number;
  /** Wall-clock start (EXT-X-PROGRAM-DATE-TIME, ms since epoch) of the oldest segment kept. */
  readonly fromMs: number;
  /** Segments kept. */
  readonly segments: number;
}

/** One rendition of a source's ladder as the origin serves it: the `ladder` of /api/streams and heartbeats. */
export interface RungStat {
  /** 'source' or the rung's name. */
  readonly rung: string;
  /** Its hub stream ({stream}, or {stream}_{rung}): its .m3u8 and .flv. */
  readonly stream: string;
  readonly width?: number;
  readonly height?: number;
  /** The multivariant playlist's BANDWIDTH (measured peak, or the configured rate x 1.1 before segments) and AVERAGE-BANDWIDTH, bit/s. */
  readonly bandwidthBps?: number;
  readonly averageBandwidthBps?: number;
  /** RFC 6381 CODECS, once known. */
  readonly codecs?: string;
  /** Has HLS segments now. */
  readonly live: boolean;
}

/** A source's transcoder: the `transcode` of /api/streams and heartbeats. */
export interface TranscodeStat {
  readonly where: 'local' | 'remote';
  readonly rungsUp: number;
  readonly restarts: number;
  /** Encode speed (x real time); null when unknown (remote, or not started). */
  readonly speed: number | null;
}

/** One rung's encoder settings (src/transcode/ladder.ts calls it Rung). */
export interface RungSpec {
  readonly name: string;
  /** Output height, px (even: H.264 4:2:0); the width follows the source's aspect ratio. */
  readonly height: number;
  readonly videoKbps: number;
  /** A source with a higher frame rate is reduced to this. */
  readonly maxFps: number;
  /** Used only when the source's audio is not AAC (AAC is copied, not re-encoded). */
  readonly audioKbps: number;
}

/** The rungs of one source (those below its height, highest first), the libx264 settings and what the source is. */
export interface TranscodeJob {
  readonly rungs: readonly RungSpec[];
  readonly preset: string;
  /** libx264 -tune; null: none. */
  readonly tune: string | null;
  /** The source's audio: AAC is copied into every rung, other codecs encoded to AAC, 'none' without audio. */
  readonly audio: 'copy' | 'encode' | 'none';
  /** The source's frame rate when known (rungs with a lower maxFps are reduced). */
  readonly sourceFps: number | null;
}

/** One source a transcoder must transcode: GET /api/transcode/assignments?node=ID answers `{assignments: [...]}`. */
export interface TranscodeAssignment extends TranscodeJob {
  readonly app: string;
  readonly stream: string;
  /** The id of the origin that has the source: rungs are published back there. */
  readonly origin: string;
  /** The origin's HTTP base (HTTP-FLV pull) and RTMP base (rung publishes). */
  readonly httpUrl: string;
  readonly rtmpUrl: string;
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

/** One origin that holds a stream, as GET /api/route/{app}/{stream} lists it. */
export interface RouteOrigin {
  readonly id: string;
  /** The origin's HTTP base (its registered publicUrl): HTTP-FLV, HLS, snapshots. */
  readonly url: string;
  readonly rtmpUrl?: string;
  /** Its last heartbeat said a publisher is connected (false: it still serves the stream, e.g. in its republish grace). */
  readonly publishing: boolean;
}

/**
 * GET /api/route/{app}/{stream} on the signal (node-signed, or the admin bearer): the origins whose
 * heartbeats list the stream, in preference order (publishing first, then the freshest heartbeat). 404
 * with an empty list when no origin holds it. `ttlMs`: how long a caller may reuse the answer.
 */
export interface RouteAnswer {
  readonly app: string;
  readonly stream: string;
  readonly origins: readonly RouteOrigin[];
  readonly ttlMs: number;
}
