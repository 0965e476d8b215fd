// The origin's defaults, in one place: `new Origin(config)` fills every option it is not given from here,
// and `livecdn origin` shows them as its flags' defaults (converted once to the unit each flag names).
// Durations are milliseconds, sizes bytes.
import { RTMP_SERVER_DEFAULTS } from '../rtmp/server.js';
import { DEFAULT_PLAY_WAIT_LIMITS } from '../hub/play-wait.js';
import { DEFAULT_SLOW_VIEWER_LIMITS } from '../hub/viewer-policy.js';
import type { ClusterMissMode } from './cluster-miss.js';

export const ORIGIN_DEFAULTS = {
  host: '0.0.0.0',
  rtmpPort: 1935,
  httpPort: 8080,
  hlsSegmentMs: 2000,
  hlsWindow: 6,
  /** A republish within this continues the playlist (and keeps HTTP-FLV and RTMP viewers). */
  hlsGraceMs: 10_000,
  hlsRemoveAfterMs: 60_000,
  /** Container: 'auto' is fMP4 for HEVC/AV1 video or with LL-HLS on, MPEG-TS otherwise (old clients). */
  hlsFormat: 'auto' as 'ts' | 'fmp4' | 'auto',
  /** LL-HLS part target (0: LL-HLS off). With it on, a GOP of ~1 s and 1 s segments keep latency low. */
  hlsPartMs: 0,
  /** Shortest part target: finer parts multiply every viewer's requests for a few frames' gain. */
  hlsMinPartMs: 100,
  /**
   * A blocking playlist request (_HLS_msn) is held at most this many target durations (RFC 8216bis
   * 6.2.5.2 suggests three), then answered 503. Edges wait longer than this upstream.
   */
  hlsHoldTargets: 3,
  /** Held LL-HLS requests (blocking reloads and preload-hint parts) per stream and in all. */
  hlsMaxHeldPerStream: 2000,
  hlsMaxHeld: 10_000,
  /** ABR: a request for a rung playlist that has no segment yet (on demand: the ladder is starting) waits this long for one. */
  hlsRenditionWaitMs: 10_000,
  /** libx264 settings of the transcoding ladder (--transcode-preset, --transcode-tune; 'none': no tune). */
  transcodePreset: 'veryfast',
  transcodeTune: 'zerolatency' as string | undefined,
  /** On demand (--transcode-on-demand): a ladder whose rungs had no viewer for this long stops. */
  transcodeIdleMs: 30_000,
  hookTimeoutMs: 2000,
  /** Recordings (--record): where they go, a new part past 60 min (--record-split), retention off. */
  recordDir: './recordings',
  recordSplitMs: 3_600_000,
  /** 0: no size split. */
  recordSplitBytes: 0,
  /** 0: kept for ever (--record-max-age); 0: no total size limit (--record-max-size). */
  recordMaxAgeMs: 0,
  recordMaxBytes: 0,
  /** Recording files are written in batches: every 250 ms or 256 KiB, one write each (no syscall per frame). */
  recordFlushMs: 250,
  recordFlushBytes: 256 * 1024,
  /** Retention sweeps this often (and after each file ends). */
  recordRetentionIntervalMs: 60_000,
  /** DVR (--dvr-window): off by default; its segments go to {recordDir}/.dvr unless --dvr-dir says otherwise. */
  dvrWindowMs: 0,
  dvrDirName: '.dvr',
  /** A stream's DVR stops when this much waits to be written (a disk that cannot keep up with it). */
  dvrMaxPendingBytes: 64 * 1024 * 1024,
  /** Segments indexed per stream at most (a 2 h window of 2 s segments is 3600). */
  dvrMaxSegments: 50_000,
  /**
   * A segment that left the DVR window stays fetchable (not listed) this long, by the stream's clock: a
   * player that loaded the playlist just before still gets its first segments (RFC 8216 6.2.2).
   */
  dvrRetainMs: 30_000,
  /** Snapshots (/{app}/{stream}.jpg): a decoded picture is served again for this long (the edges keep it as long). */
  snapshotReuseMs: 1000,
  /** FFmpeg decodes per stream and second (any width); over it, the latest picture of that width or 429. */
  snapshotDecodesPerS: 2,
  /** FFmpeg decodes running at once, all streams; over it, the latest picture or 503. */
  snapshotMaxDecodes: 4,
  snapshotTimeoutMs: 5000,
  /** One decode's JPEG output at most, and all pictures kept for reuse. */
  snapshotMaxBytes: 16 * 1024 * 1024,
  snapshotCacheBytes: 64 * 1024 * 1024,
  maxConnections: RTMP_SERVER_DEFAULTS.maxConnections,
  maxConnectionsPerIp: RTMP_SERVER_DEFAULTS.maxConnectionsPerIp,
  startTimeoutMs: RTMP_SERVER_DEFAULTS.startTimeoutMs,
  /** An RTMP publisher sending no media for this long is dropped. */
  idleTimeoutMs: RTMP_SERVER_DEFAULTS.idleTimeoutMs,
  maxMessageSize: RTMP_SERVER_DEFAULTS.maxMessageSize,
  /**
   * Viewer write window: frames for HTTP-FLV and RTMP viewers are written together every 40 ms, one
   * syscall per viewer per window instead of one per frame (BENCHMARKS.md). A viewer sees frames up to
   * this much later; an edge's hub adds its own window (EDGE_DEFAULTS.writeBatchMs).
   */
  writeBatchMs: 40,
  maxViewerQueueBytes: DEFAULT_SLOW_VIEWER_LIMITS.maxQueueBytes,
  maxViewerLagMs: DEFAULT_SLOW_VIEWER_LIMITS.maxLagMs,
  publishTakeover: false,
  playWaitMs: DEFAULT_PLAY_WAIT_LIMITS.timeoutMs,
  /**
   * With a signal, a request without Via for a live stream another origin holds is proxied from it
   * ('proxy'), redirected there ('redirect', 302), or answered locally as without a cluster ('off': 404, or
   * for FLV the play wait) (--cluster-miss).
   */
  clusterMiss: 'proxy' as ClusterMissMode,
  /** Requests proxied to other origins at once (each a live FLV body perhaps); past it, 503. */
  clusterMaxProxies: 1000,
  /** A proxied request's upstream silent this long (connect, head, body) is cut: longer than an LL-HLS hold (3 target durations). */
  clusterProxyIdleMs: 30_000,
  /** A stream request that crossed this many nodes (Via), or names this origin in its Via, is 508. */
  clusterMaxHops: 8,
  /** Registration with the signal service. */
  region: 'default',
  capacity: 100,
  heartbeatMs: 5000,
} as const;
