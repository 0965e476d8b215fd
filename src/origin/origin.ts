// The origin service: RTMP ingest and play, HTTP-FLV, HLS (and its DVR), snapshots, recordings and their
// VOD, /metrics and /api on one hub. With a signal, a client's request for a stream another origin holds
// is proxied or redirected there (cluster-miss.ts).
import type { IncomingMessage } from 'node:http';
import { hostname } from 'node:os';
import { RtmpServer } from '../rtmp/server.js';
import type { NodeLoad } from '../shared/cluster.js';
import { LoadSampler } from '../shared/load.js';
import { createLogger } from '../shared/log.js';
import type { Logger } from '../shared/log.js';
import type { ClusterKeys } from '../shared/keys.js';
import { Registration, defaultNodeId } from '../shared/registration.js';
import { Hub } from '../hub/hub.js';
import { Hooks } from '../hub/hooks.js';
import { HlsService } from './hls-service.js';
import { HttpServer } from './http-server.js';
import { reply, type HttpLimits, type MountedHandler, type RouteHandler } from '../shared/http.js';
import { flvHandler } from '../hub/flv-handler.js';
import { OriginRtmpApp } from './rtmp-app.js';
import { ORIGIN_DEFAULTS } from './defaults.js';
import { createMetrics } from './metrics.js';
import type { OriginMetrics } from './metrics.js';
import { API_STREAMS_PATH, kickHandler, originLoad, streamsHandler } from './api.js';
import {
  DVR_PLAYLIST_ROUTE,
  FLV_ROUTE,
  FMP4_SEGMENT_ROUTE,
  INIT_ROUTE,
  PART_ROUTE,
  PLAYLIST_ROUTE,
  RECORDING_API_ROUTE,
  RECORDING_FILE_ROUTE,
  RECORDINGS_API_ROUTE,
  SEGMENT_ROUTE,
  SNAPSHOT_ROUTE,
  STREAM_API_ROUTE,
  STREAM_RECORD_ROUTE,
  THUMBS_ROUTE,
  validNames,
} from '../shared/url-contract.js';
import { DEFAULT_PLAY_WAIT_LIMITS, PlayWaits } from '../hub/play-wait.js';
import { PlayDecisions, guardPlay } from '../hub/play-auth.js';
import type { PlayWaitLimits } from '../hub/play-wait.js';
import { DEFAULT_SLOW_VIEWER_LIMITS } from '../hub/viewer-policy.js';
import type { SlowViewerLimits } from '../hub/viewer-policy.js';
import type { GopCacheLimits } from '../hub/gop-cache.js';
import { TranscodeService } from '../transcode/transcode-service.js';
import { registerTranscodeMetrics } from '../transcode/metrics.js';
import type { LadderConfig, TranscodeSettings } from '../transcode/ladder.js';
import { join, resolve } from 'node:path';
import { DvrStore } from './dvr-store.js';
import { dvrPlaylistHandler, withDvrFallback, type DvrObject } from './dvr-routes.js';
import { registerDvrMetrics } from './dvr-metrics.js';
import { RecordingCatalogue, type Recording } from '../record/catalogue.js';
import { Recorder } from '../record/recorder.js';
import { Retention } from '../record/retention.js';
import { hookRecordDone } from '../record/record-hook.js';
import { registerRecordMetrics } from '../record/metrics.js';
import { RecordingsApi } from '../record/recordings-api.js';
import { vodRoutes } from '../record/vod-routes.js';
import { Snapshots, type SnapshotLimits } from './snapshots.js';
import { Thumbnails } from '../record/thumbnails.js';
import { parseRecordPatterns } from '../record/patterns.js';
import { ClusterMiss, type ClusterMissMode } from './cluster-miss.js';
import { RouteClient } from '../shared/route-client.js';

/** Registration with the signal service as a node of kind 'origin', where encoders are placed. */
export interface OriginSignalConfig {
  /** Base URL of the signal service, e.g. http://signal:8090, or several instances' (registration fails over). */
  readonly url: string | readonly string[];
  /** Default ORIGIN_DEFAULTS.region. */
  readonly region?: string;
  /** Default origin-REGION-HOST-HTTPPORT. */
  readonly nodeId?: string | undefined;
  /** HTTP base viewers, edges and the signal (kicks) use; default http://HOST:HTTPPORT. */
  readonly publicUrl?: string | undefined;
  /** Where encoders push; default rtmp://HOST:RTMPPORT. */
  readonly rtmpUrl?: string | undefined;
  /** Publishers before the origin counts as full. */
  readonly capacity?: number;
  /** Heartbeat period. */
  readonly heartbeatMs?: number;
}

/** ABR transcoding (issue 11): the ladders per app and how rungs are made. */
export interface OriginTranscodeConfig {
  readonly ladders: LadderConfig;
  readonly settings: TranscodeSettings;
  /** A ladder starts when a viewer asks for a rung and stops after idleMs without rung viewers. */
  readonly onDemand: boolean;
  /** Rungs come from a remote transcoder (`livecdn transcode`): nothing is spawned here. */
  readonly remote: boolean;
  /** Default ORIGIN_DEFAULTS.transcodeIdleMs. */
  readonly idleMs?: number;
}

/** Recording (issue 12): which streams, where, how files are split and how long they are kept. */
export interface OriginRecordConfig {
  /** Default ORIGIN_DEFAULTS.recordDir. */
  readonly dir?: string;
  /** Streams recorded from their publish on: app/stream patterns, `*` a wildcard (record/patterns.ts). Others by POST …/record. */
  readonly patterns?: readonly string[];
  /** A new file at the first keyframe past this (0: none). Default ORIGIN_DEFAULTS.recordSplitMs. */
  readonly splitMs?: number;
  /** … or past this size (0: none). */
  readonly splitBytes?: number;
  /** Retention: files older than this (0: none) … */
  readonly maxAgeMs?: number;
  /** … and the oldest while all together hold more than this (0: none). */
  readonly maxBytes?: number;
  /** POST JSON here when a file ends. */
  readonly onRecordDone?: string | undefined;
}

/** DVR (issue 12): the live HLS segments kept on disk for a time-shift window per stream. */
export interface OriginDvrConfig {
  /** 0: DVR off. */
  readonly windowMs: number;
  /** Wiped at start. Default {record dir}/.dvr (ORIGIN_DEFAULTS.recordDir, dvrDirName). */
  readonly dir?: string | undefined;
  /** A segment that left the window stays fetchable this long. Default ORIGIN_DEFAULTS.dvrRetainMs. */
  readonly retainMs?: number;
}

export interface OriginConfig {
  // Defaults: ORIGIN_DEFAULTS (./defaults.ts). Durations in ms.
  readonly host?: string;
  /** 0 picks a free port. */
  readonly rtmpPort?: number;
  /** 0 picks a free port. */
  readonly httpPort?: number;
  /** HLS target segment duration. */
  readonly hlsSegmentMs?: number;
  /** Segments in the live playlist. */
  readonly hlsWindow?: number;
  /** How long a playlist waits for a republish before it ends. */
  readonly hlsGraceMs?: number;
  /** How long an ended playlist stays before 404. */
  readonly hlsRemoveAfterMs?: number;
  /** HLS container: 'auto' is fMP4 for HEVC/AV1 or with LL-HLS, MPEG-TS otherwise. */
  readonly hlsFormat?: 'ts' | 'fmp4' | 'auto';
  /** LL-HLS part target (0: LL-HLS off); needs fMP4 ('fmp4' or 'auto'). */
  readonly hlsPartMs?: number;
  /** Held LL-HLS requests (blocking reloads, preload-hint parts) per stream and in all. */
  readonly hlsMaxHeldPerStream?: number;
  readonly hlsMaxHeld?: number;
  /** The cluster's keys (shared/keys.ts): publish verifies RTMP publish tokens, admin guards the kick API. */
  readonly keys?: ClusterKeys | undefined;
  /** Play tokens (signed with keys.play) on every path that serves media: .m3u8, segments, init segments, parts, .flv. */
  readonly playTokens?: boolean;
  readonly onPublish?: string | undefined;
  readonly onPlay?: string | undefined;
  readonly onDone?: string | undefined;
  readonly hookTimeoutMs?: number;
  readonly maxConnections?: number;
  /** RTMP connections per client address (IPv6: per /64). */
  readonly maxConnectionsPerIp?: number;
  /** RTMP connection slots only publishers may take (default a tenth of maxConnections). */
  readonly publisherSlots?: number;
  readonly maxMessageSize?: number;
  readonly chunkSize?: number;
  readonly handshakeTimeoutMs?: number;
  /** An RTMP connection must publish or play within this. */
  readonly startTimeoutMs?: number;
  /** An RTMP publisher sending no media for this long is dropped. */
  readonly idleTimeoutMs?: number;
  /** Viewer write window (0 writes every packet at once). */
  readonly writeBatchMs?: number;
  readonly publishTakeover?: boolean;
  /** How long a viewer of a stream that is not live yet waits for its publisher (0: 404 at once). */
  readonly playWaitMs?: number;
  /** Bounds on waiting viewers (per stream, total); the time limit is playWaitMs. */
  readonly playWaitMax?: Partial<Omit<PlayWaitLimits, 'timeoutMs'>>;
  /** The player pages (cli/pages.ts), tried after the origin's own routes. */
  readonly pages?: MountedHandler;
  readonly slowViewer?: Partial<SlowViewerLimits>;
  /** Timeouts and caps of the HTTP listener (defaults: DEFAULT_HTTP_LIMITS). */
  readonly httpLimits?: Partial<HttpLimits>;
  readonly gop?: GopCacheLimits;
  readonly signal?: OriginSignalConfig | undefined;
  /**
   * With a signal: a request without Via for a live stream this origin does not hold is proxied from the
   * origin that holds it, or redirected there (302); 'off': the local answer as without a cluster (404, or for FLV the play wait). Default ORIGIN_DEFAULTS.clusterMiss.
   */
  readonly clusterMiss?: ClusterMissMode;
  /** Requests proxied to other origins at once (503 past it). Default ORIGIN_DEFAULTS.clusterMaxProxies. */
  readonly clusterMaxProxies?: number;
  /** A proxied request's upstream connection silent this long is cut. Default ORIGIN_DEFAULTS.clusterProxyIdleMs. */
  readonly clusterProxyIdleMs?: number;
  /** Transcoding ladders; with a ladder and no remote transcoder, start() fails without FFmpeg. */
  readonly transcode?: OriginTranscodeConfig | undefined;
  /** Recording; without it nothing is recorded and the recordings API answers 404. */
  readonly record?: OriginRecordConfig | undefined;
  /** DVR playlists (/{app}/{stream}/dvr.m3u8); off without it or with windowMs 0. */
  readonly dvr?: OriginDvrConfig | undefined;
  /** Snapshot limits (/{app}/{stream}.jpg); defaults: SNAPSHOT_DEFAULTS (ORIGIN_DEFAULTS.snapshot*). */
  readonly snapshots?: Partial<SnapshotLimits>;
  readonly logger?: Logger;
}

/** Edges, and origins proxying a stream (cluster-miss.ts), name themselves in Via on every upstream request (loop detection): a relay's request. */
const viaEdge = (req: IncomingMessage): boolean => req.headers.via !== undefined;

export class Origin {
  readonly hub: Hub;
  readonly http: HttpServer;
  readonly hls: HlsService;
  readonly rtmp: RtmpServer;
  readonly metrics: OriginMetrics;
  readonly waits: PlayWaits;
  /** The ladders and their transcoders, when configured (the Renditions the HLS service and FLV route use). */
  readonly transcode: TranscodeService | undefined;
  /** The recorder and the recordings on disk, when recording is configured. */
  readonly recorder: Recorder | undefined;
  readonly recordings: RecordingCatalogue | undefined;
  /** Seek-bar thumbnails of finished recordings (a sprite and a WebVTT track each), when recording is configured. */
  readonly thumbnails: Thumbnails | undefined;
  /** The DVR segments on disk, with --dvr-window. */
  readonly dvr: DvrStore | undefined;
  /** /{app}/{stream}.jpg: the latest keyframe as JPEG. */
  readonly snapshots: Snapshots;
  /** Requests for streams another origin holds (with a signal and --cluster-miss proxy|redirect). */
  readonly clusterMiss: ClusterMiss | undefined;
  /** The registration id, once started with a signal: what this origin adds to Via. */
  private nodeId: string | undefined;
  private readonly retention: Retention | undefined;
  private readonly log: Logger;
  private readonly load: LoadSampler;
  private registration: Registration | undefined;
  private started = false;
  private stopping: Promise<void> | undefined;

  constructor(private readonly config: OriginConfig = {}) {
    if (config.playTokens && !config.keys) throw new Error('origin: play tokens need the cluster keys (a secret)');
    this.log = config.logger ?? createLogger('origin');
    const d = ORIGIN_DEFAULTS;
    const graceMs = config.hlsGraceMs ?? d.hlsGraceMs;
    this.hub = new Hub({
      writeBatchMs: config.writeBatchMs ?? d.writeBatchMs,
      slowViewer: { ...DEFAULT_SLOW_VIEWER_LIMITS, ...config.slowViewer },
      ...(config.gop ? { gop: config.gop } : {}),
      publishTakeover: config.publishTakeover ?? d.publishTakeover,
      // The timeline must outlive the HLS grace so that a republish continues it.
      idleRetainMs: Math.max(60_000, graceMs * 2),
      // HTTP-FLV and RTMP viewers stay over a republish for as long as the playlist does.
      republishGraceMs: graceMs,
      logger: this.log.child({ part: 'hub' }),
    });
    let onSegmentListed: (ms: number) => void = () => undefined;
    // Play tokens (keys.play) on every path that serves media when they are on: RTMP play, FLV, HLS.
    const playKey = config.playTokens ? config.keys?.play : undefined;
    this.hls = new HlsService(
      {
        segmentMs: config.hlsSegmentMs ?? d.hlsSegmentMs,
        window: config.hlsWindow ?? d.hlsWindow,
        graceMs,
        removeAfterMs: config.hlsRemoveAfterMs ?? d.hlsRemoveAfterMs,
        format: config.hlsFormat ?? d.hlsFormat,
        partTargetMs: config.hlsPartMs ?? d.hlsPartMs,
        holdTargets: d.hlsHoldTargets,
        maxHeldPerStream: config.hlsMaxHeldPerStream ?? d.hlsMaxHeldPerStream,
        maxHeld: config.hlsMaxHeld ?? d.hlsMaxHeld,
        renditionWaitMs: d.hlsRenditionWaitMs,
        onSegmentListed: (ms) => onSegmentListed(ms),
        ...(playKey ? { playKey } : {}),
      },
      this.log.child({ part: 'hls' }),
    );
    this.hub.observe(this.hls);
    if (config.dvr && config.dvr.windowMs > 0) {
      const dir = config.dvr.dir ?? join(resolve(config.record?.dir ?? d.recordDir), d.dvrDirName);
      this.dvr = new DvrStore(
        { dir: resolve(dir), windowMs: config.dvr.windowMs, maxPendingBytes: d.dvrMaxPendingBytes, maxSegments: d.dvrMaxSegments, retainMs: config.dvr.retainMs ?? d.dvrRetainMs },
        this.log.child({ part: 'dvr' }),
      );
      this.hls.useObjectListener(this.dvr);
    }
    const tc = config.transcode;
    if (tc && tc.ladders.size > 0) {
      this.transcode = new TranscodeService({
        hub: this.hub,
        ladders: tc.ladders,
        settings: tc.settings,
        onDemand: tc.onDemand,
        idleMs: tc.idleMs ?? d.transcodeIdleMs,
        local: !tc.remote,
        hlsViewers: (app, stream) => this.hls.viewers(app, stream),
        log: this.log.child({ part: 'transcode' }),
      });
      this.hls.useRenditions(this.transcode);
      this.hub.observe(this.transcode);
    }
    this.waits = new PlayWaits({
      ...DEFAULT_PLAY_WAIT_LIMITS,
      ...config.playWaitMax,
      timeoutMs: config.playWaitMs ?? d.playWaitMs,
    });
    this.hub.observe(this.waits);
    const hooks = new Hooks(config, this.log.child({ part: 'hooks' }), config.hookTimeoutMs ?? d.hookTimeoutMs);
    const rec = config.record;
    if (rec) {
      const log = this.log.child({ part: 'record' });
      this.recordings = new RecordingCatalogue(resolve(rec.dir ?? d.recordDir), log);
      this.recorder = new Recorder({
        catalogue: this.recordings,
        patterns: parseRecordPatterns(rec.patterns ?? []),
        splitMs: rec.splitMs ?? d.recordSplitMs,
        splitBytes: rec.splitBytes ?? d.recordSplitBytes,
        file: { flushMs: d.recordFlushMs, flushBytes: d.recordFlushBytes },
        log,
      });
      this.hub.observe(this.recorder);
      this.retention = new Retention(
        this.recordings,
        { maxAgeMs: rec.maxAgeMs ?? d.recordMaxAgeMs, maxBytes: rec.maxBytes ?? d.recordMaxBytes, intervalMs: d.recordRetentionIntervalMs },
        log,
      );
      if (rec.onRecordDone) hookRecordDone(this.recordings, hooks, rec.onRecordDone);
      this.thumbnails = new Thumbnails(this.recordings, this.log.child({ part: 'thumbnails' }));
    }
    this.rtmp = new RtmpServer(new OriginRtmpApp(this.hub, hooks, config.keys?.publish, this.waits, playKey, this.transcode), {
      ...(config.chunkSize !== undefined ? { chunkSize: config.chunkSize } : {}),
      maxMessageSize: config.maxMessageSize ?? d.maxMessageSize,
      ...(config.handshakeTimeoutMs !== undefined ? { handshakeTimeoutMs: config.handshakeTimeoutMs } : {}),
      idleTimeoutMs: config.idleTimeoutMs ?? d.idleTimeoutMs,
      maxConnections: config.maxConnections ?? d.maxConnections,
      maxConnectionsPerIp: config.maxConnectionsPerIp ?? d.maxConnectionsPerIp,
      ...(config.publisherSlots !== undefined ? { publisherSlots: config.publisherSlots } : {}),
      startTimeoutMs: config.startTimeoutMs ?? d.startTimeoutMs,
      // A player legitimately receives nothing while it waits for a publisher (play wait) or for a
      // republish (a silent publisher's idle timeout, then the grace); past the longest of those, plus a
      // margin, it is idle.
      playerIdleTimeoutMs: Math.max(this.waits.limits.timeoutMs, (config.idleTimeoutMs ?? d.idleTimeoutMs) + graceMs) + 30_000,
      logger: this.log.child({ part: 'rtmp' }),
    });
    this.metrics = createMetrics(this.hub, this.hls, () => this.rtmp.stats());
    if (this.transcode) registerTranscodeMetrics(this.metrics.registry, this.transcode);
    if (this.recorder) registerRecordMetrics(this.metrics.registry, this.recorder);
    if (this.dvr) registerDvrMetrics(this.metrics.registry, this.dvr);
    this.snapshots = new Snapshots(this.hub, this.metrics.registry, this.log.child({ part: 'snapshots' }), config.snapshots);
    this.hub.observe(this.snapshots);
    this.load = new LoadSampler(() => this.hub.totals.bytesOut + this.hls.bytesOut + (this.dvr?.bytesOut ?? 0) + (this.clusterMiss?.bytesOut ?? 0));
    const latency = this.metrics.hlsSegmentLatency;
    onSegmentListed = (ms) => latency.observe(ms);

    this.http = new HttpServer(this.log.child({ part: 'http' }), config.httpLimits);
    const missMode = config.clusterMiss ?? d.clusterMiss;
    if (config.signal && missMode !== 'off') {
      this.clusterMiss = new ClusterMiss({
        mode: missMode,
        nodeId: () => this.nodeId,
        route: new RouteClient({ signals: config.signal.url, key: config.keys?.node }),
        holds: (app, stream) => this.holds(app, stream),
        playKey,
        maxHops: d.clusterMaxHops,
        maxProxies: config.clusterMaxProxies ?? d.clusterMaxProxies,
        idleTimeoutMs: config.clusterProxyIdleMs ?? d.clusterProxyIdleMs,
        registry: this.metrics.registry,
        log: this.log.child({ part: 'cluster' }),
      });
      this.http.before(this.clusterMiss.intercept);
    }
    // Play tokens on every path that serves media; on_play per viewer for FLV (in its handler), per
    // client address and stream for HLS (cached: not on every playlist refresh or segment).
    const decisions = new PlayDecisions(hooks);
    this.http
      .route(['GET', 'HEAD'], FLV_ROUTE, guardPlay(this.withDemand(flvHandler(this.hub, { hooks, waits: this.waits, fromRelay: viaEdge })), playKey))
      .route(['GET', 'HEAD'], PLAYLIST_ROUTE, guardPlay(this.hls.playlistHandler(), playKey, decisions))
      .route(['GET', 'HEAD'], SEGMENT_ROUTE, guardPlay(this.withDvr(this.hls.segmentHandler(), 'ts'), playKey, decisions))
      .route(['GET', 'HEAD'], FMP4_SEGMENT_ROUTE, guardPlay(this.withDvr(this.hls.fmp4SegmentHandler(), 'fmp4'), playKey, decisions))
      .route(['GET', 'HEAD'], PART_ROUTE, guardPlay(this.hls.partHandler(), playKey, decisions))
      .route(['GET', 'HEAD'], INIT_ROUTE, guardPlay(this.withDvr(this.hls.initHandler(), 'init'), playKey, decisions))
      .route(['GET', 'HEAD'], SNAPSHOT_ROUTE, guardPlay(this.snapshots.handler(), playKey, decisions))
      .route('GET', API_STREAMS_PATH, streamsHandler(this.hub, this.hls, config.keys, this.transcode, this.recorder, this.dvr))
      .route('DELETE', STREAM_API_ROUTE, kickHandler(this.hub, config.keys))
      .route('GET', /^\/metrics$/, async (_req, res) => {
        const body = await this.metrics.registry.metrics();
        reply(res, 200, body.trimEnd(), { 'Content-Type': this.metrics.registry.contentType });
      })
      .route('GET', /^\/healthz$/, (_req, res) => reply(res, 200, 'ok'));
    if (this.dvr) this.http.route(['GET', 'HEAD'], DVR_PLAYLIST_ROUTE, guardPlay(dvrPlaylistHandler(this.dvr, playKey), playKey, decisions));
    if (this.recorder && this.recordings) {
      const thumbs = this.thumbnails;
      const hasThumbs = thumbs ? { hasThumbs: (r: Recording) => thumbs.has(r) } : {};
      const api = new RecordingsApi({ catalogue: this.recordings, recorder: this.recorder, hub: this.hub, keys: config.keys, ...hasThumbs, log: this.log.child({ part: 'record' }) });
      this.http
        .route('GET', RECORDINGS_API_ROUTE, api.list())
        .route('GET', RECORDING_API_ROUTE, api.entry())
        .route('DELETE', RECORDING_API_ROUTE, api.remove())
        .route(['GET', 'HEAD'], RECORDING_FILE_ROUTE, api.file())
        .route(['POST', 'DELETE'], STREAM_RECORD_ROUTE, api.control());
      if (thumbs) this.http.route(['GET', 'HEAD'], THUMBS_ROUTE, guardPlay(thumbs.handler(), playKey, decisions));
      // VOD playlists, segments and init segments of finished recordings (play tokens as on every media route) and clips (admin).
      const vod = { recordings: this.recordings, targetMs: config.hlsSegmentMs ?? d.hlsSegmentMs, playKey, decisions, keys: config.keys, log: this.log.child({ part: 'vod' }) };
      for (const r of vodRoutes(vod)) this.http.route(r.methods, r.pattern, r.handler);
    }
    if (config.pages) this.http.use(config.pages);
    // Live responses are ended by the hub on shutdown before the HTTP server cuts what is left.
    this.http.onClose(() => this.hub.closeAll('origin shutting down'));
  }

  /**
   * Whether this origin holds app/stream: a live hub stream, a playlist still in its republish grace (not
   * ended), or a rung (or `_source`) of a source live here.
   */
  private holds(app: string, stream: string): boolean {
    if (this.hub.get(app, stream)) return true;
    const pl = this.hls.playlist(app, stream);
    if (pl && !pl.ended) return true;
    const source = this.transcode?.sourceOf(app, stream)?.source;
    return source !== undefined && this.hub.get(app, source) !== undefined;
  }

  /** With DVR, segments and init segments that left the memory window are served from its files (same URLs). */
  private withDvr(handler: RouteHandler, what: DvrObject): RouteHandler {
    return this.dvr ? withDvrFallback(handler, this.hls, this.dvr, what) : handler;
  }

  /** On demand, a rung's FLV viewer starts its ladder (and waits for the rung like any play-before-publish). */
  private withDemand(handler: RouteHandler): RouteHandler {
    const transcode = this.transcode;
    if (!transcode) return handler;
    return (req, res, params, url) => {
      const [app, name] = params;
      if (app && name && validNames(app, name)) transcode.demand(app, name);
      return handler(req, res, params, url);
    };
  }

  /** Binds both servers; with port 0, the chosen ports are returned. Fails without FFmpeg when a ladder needs it. */
  async start(): Promise<{ rtmpPort: number; httpPort: number }> {
    if (this.started) throw new Error('origin already started');
    this.started = true;
    await this.transcode?.start();
    // The DVR directory is wiped: what an earlier run kept no playlist lists any more.
    await this.dvr?.start();
    // Recordings left by an earlier run are listed (unclean ones 'interrupted') before anything records.
    await this.recordings?.scan();
    await this.thumbnails?.load();
    this.retention?.start();
    const host = this.config.host ?? ORIGIN_DEFAULTS.host;
    const rtmpPort = await this.rtmp.listen(this.config.rtmpPort ?? ORIGIN_DEFAULTS.rtmpPort, host);
    try {
      const httpPort = await this.http.listen(this.config.httpPort ?? ORIGIN_DEFAULTS.httpPort, host);
      this.log.info({ rtmpPort, httpPort, host }, 'origin started');
      if (this.config.signal) await this.register(this.config.signal, host, rtmpPort, httpPort);
      return { rtmpPort, httpPort };
    } catch (err) {
      await this.rtmp.close();
      throw err;
    }
  }

  /** Load for heartbeats; egress and CPU are averaged since the previous call. */
  nodeLoad(): NodeLoad {
    return originLoad(this.hub, this.hls, this.load.sample(), this.transcode, this.dvr);
  }

  private async register(sig: OriginSignalConfig, host: string, rtmpPort: number, httpPort: number): Promise<void> {
    // A wildcard bind address is no address to hand out: fall back to the host name.
    const publicHost = host === '0.0.0.0' || host === '::' ? hostname() : host.includes(':') ? `[${host}]` : host;
    const region = sig.region ?? ORIGIN_DEFAULTS.region;
    this.nodeId = sig.nodeId ?? defaultNodeId('origin', region, httpPort);
    this.registration = new Registration(
      {
        signal: sig.url,
        registration: {
          id: this.nodeId,
          kind: 'origin',
          region,
          publicUrl: sig.publicUrl ?? `http://${publicHost}:${httpPort}`,
          rtmpUrl: sig.rtmpUrl ?? `rtmp://${publicHost}:${rtmpPort}`,
          capacity: sig.capacity ?? ORIGIN_DEFAULTS.capacity,
        },
        load: () => this.nodeLoad(),
        intervalMs: sig.heartbeatMs ?? ORIGIN_DEFAULTS.heartbeatMs,
        // Requests to the signal are signed with the node key (no secret is sent).
        key: this.config.keys?.node,
      },
      this.log.child({ part: 'registration' }),
    );
    await this.registration.start();
  }

  /** Graceful: deregisters, publishers end, playlists get ENDLIST, viewers are ended cleanly, then sockets close. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      // First, so that the signal stops placing publishers here while we shut down.
      await this.registration?.stop();
      this.waits.abortAll();
      this.hub.closeAll('origin shutting down');
      // Recordings end with their streams: wait for their files to be closed (index patched, fsync'd).
      await Promise.all([this.transcode?.close(), this.recorder?.close(), this.retention?.stop(), this.snapshots.close(), this.thumbnails?.close()]);
      this.hls.endAll();
      await this.dvr?.close();
      await Promise.all([this.rtmp.close(), this.http.close()]);
      this.clusterMiss?.close();
      this.hls.close();
      this.log.info('origin stopped');
    })();
    return this.stopping;
  }
}
