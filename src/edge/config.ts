// Edge configuration: what the CLI (or a test, or `livecdn all`) passes to `new Edge(...)`.
import { hostname } from 'node:os';
import type { NodeLoad } from '../shared/cluster.js';
import type { HttpLimits, MountedHandler } from '../shared/http.js';
import type { ClusterKeys } from '../shared/keys.js';
import type { Logger } from '../shared/log.js';
import { Registration, defaultNodeId, signalUrls } from '../shared/registration.js';
import { defaultFreshness, type FreshnessPolicy } from './freshness.js';
import type { ShardPosition } from './shard.js';
import type { UpstreamOptions } from './upstream.js';
import { EDGE_DEFAULTS } from './defaults.js';
import type { LocateMode } from './locator.js';


export interface EdgeConfig {
  /** Origins or parent edges, in order of preference. */
  readonly upstreams: readonly string[];
  // Defaults: EDGE_DEFAULTS (./defaults.ts). Durations in ms, sizes in bytes.
  /** 0 picks a free port. */
  readonly httpPort?: number;
  readonly host?: string;
  readonly region?: string;
  /** Default edge-{region}-{hostname}-{port}. Must be unique among the tiers (loop detection uses it). */
  readonly nodeId?: string;
  /** URL viewers use, for registration; default http://{hostname}:{port}. */
  readonly publicUrl?: string;
  /**
   * Control plane base URL(s): register, heartbeat, deregister, and locate streams (GET /api/route). Several
   * signal instances (one registry in Redis): the next is used when one fails.
   */
  readonly signal?: string | readonly string[];
  /**
   * How the upstream holding a stream is found (locator.ts): 'signal' asks the control plane's route
   * first, then the upstreams; 'upstreams' asks the upstreams in turn and remembers the one that answered.
   * Default 'signal' with a signal configured, else 'upstreams'. A child tier uses 'upstreams' (its parent).
   */
  readonly locate?: LocateMode;
  /** HLS cache budget. */
  readonly cacheBytes?: number;
  /** Prefetch new segments listed by refreshed playlists. */
  readonly prefetch?: boolean;
  /** Requests that already crossed this many tiers are refused with 508. */
  readonly maxHops?: number;
  readonly upstream?: Partial<UpstreamOptions>;
  readonly freshness?: Partial<FreshnessPolicy>;
  /** Keep an FLV upstream this long after its last viewer left. */
  readonly flvLingerMs?: number;
  /** Keep FLV viewers connected this long while the upstream reconnects. */
  readonly flvGraceMs?: number;
  /** HTTP-FLV viewer write window (0: every packet at once); adds to the origin's. */
  readonly writeBatchMs?: number;
  /** Viewers before the edge counts as full (registration). */
  readonly capacity?: number;
  readonly heartbeatMs?: number;
  /** The player pages (cli/pages.ts), tried after the edge's own routes. */
  readonly pages?: MountedHandler;
  readonly logger?: Logger;
  /** Process metrics (CPU, memory, event loop) in /metrics; default true. */
  readonly defaultMetrics?: boolean;
  /** The cluster's keys (shared/keys.ts); the edge uses keys.play to verify play tokens. */
  readonly keys?: ClusterKeys | undefined;
  /** Every playlist, segment and FLV request needs a valid `?token=` play token (needs keys). */
  readonly playTokens?: boolean;
  /**
   * on_play hook (POSTed JSON as on the origin, non-2xx refuses): asked for every FLV viewer, and per
   * client address + stream for HLS (cached). Without it the edge asks nothing; the origin's hook is
   * asked only by the edge's own upstream requests.
   */
  readonly onPlay?: string | undefined;
  readonly hookTimeoutMs?: number;
  /** Timeouts and caps of the HTTP listeners (defaults: DEFAULT_HTTP_LIMITS in shared/http.ts). */
  readonly httpLimits?: Partial<HttpLimits>;
  /** This process's slot among the workers of one edge (set by workers.ts): ownership by hash. */
  readonly shard?: ShardPosition;
}

export interface ResolvedEdgeConfig {
  readonly upstreams: readonly string[];
  readonly httpPort: number;
  readonly host: string;
  readonly region: string;
  readonly nodeId: string | undefined;
  readonly publicUrl: string | undefined;
  /** Signal base URLs, without trailing slashes; empty without a control plane. */
  readonly signals: readonly string[];
  readonly locate: LocateMode;
  readonly cacheBytes: number;
  readonly prefetch: boolean;
  readonly maxHops: number;
  readonly upstream: UpstreamOptions;
  readonly freshness: FreshnessPolicy;
  readonly flvLingerMs: number;
  readonly flvGraceMs: number;
  readonly writeBatchMs: number;
  readonly capacity: number;
  readonly heartbeatMs: number;
  readonly pages: MountedHandler | undefined;
  readonly defaultMetrics: boolean;
  /** The play token key when play tokens are on, else undefined (nothing is checked). */
  readonly playKey: Buffer | undefined;
  /** Signs registration and heartbeats to the signal (keys.node); undefined in an --insecure cluster. */
  readonly nodeKey: Buffer | undefined;
  readonly onPlay: string | undefined;
  readonly hookTimeoutMs: number;
  readonly httpLimits: Partial<HttpLimits>;
  readonly shard: ShardPosition | undefined;
}

export function resolveEdgeConfig(c: EdgeConfig): ResolvedEdgeConfig {
  if (c.playTokens && !c.keys) throw new Error('edge: play tokens need the cluster keys (a secret)');
  if (c.upstreams.length === 0) throw new Error('edge: at least one upstream URL is required');
  for (const u of c.upstreams) {
    if (!/^https?:\/\//.test(u)) throw new Error(`edge: upstream must be an http(s) URL: ${u}`);
  }
  const d = EDGE_DEFAULTS;
  const signals = c.signal === undefined ? [] : signalUrls(c.signal);
  const locate = c.locate ?? (signals.length > 0 ? d.locate : 'upstreams');
  if (locate === 'signal' && signals.length === 0) throw new Error('edge: locating streams through the signal needs a signal URL');
  return {
    upstreams: c.upstreams,
    httpPort: c.httpPort ?? d.httpPort,
    host: c.host ?? d.host,
    region: c.region ?? d.region,
    nodeId: c.nodeId,
    publicUrl: c.publicUrl,
    signals,
    locate,
    cacheBytes: c.cacheBytes ?? d.cacheBytes,
    prefetch: c.prefetch ?? d.prefetch,
    maxHops: c.maxHops ?? d.maxHops,
    upstream: { ...d.upstream, ...c.upstream },
    freshness: { ...defaultFreshness, ...c.freshness },
    flvLingerMs: c.flvLingerMs ?? d.flvLingerMs,
    flvGraceMs: c.flvGraceMs ?? d.flvGraceMs,
    writeBatchMs: c.writeBatchMs ?? d.writeBatchMs,
    capacity: c.capacity ?? d.capacity,
    heartbeatMs: c.heartbeatMs ?? d.heartbeatMs,
    pages: c.pages,
    defaultMetrics: c.defaultMetrics ?? true,
    playKey: playKey(c),
    onPlay: c.onPlay === '' ? undefined : c.onPlay,
    hookTimeoutMs: c.hookTimeoutMs ?? d.hookTimeoutMs,
    httpLimits: c.httpLimits ?? {},
    nodeKey: c.keys?.node,
    shard: c.shard,
  };
}

const playKey = (c: EdgeConfig): Buffer | undefined => (c.playTokens && c.keys ? c.keys.play : undefined);

/** The configured node id, else the stable default edge-{region}-{hostname}-{port}. */
export const edgeNodeId = (c: ResolvedEdgeConfig, port: number): string => c.nodeId ?? defaultNodeId('edge', c.region, port);

/** Registration of the edge listening on `port` as `id`, when a control plane is configured (not started). */
export function edgeRegistration(c: ResolvedEdgeConfig, id: string, port: number, load: () => NodeLoad, log: Logger): Registration | undefined {
  if (c.signals.length === 0) return undefined;
  return new Registration(
    {
      signal: c.signals,
      registration: { id, kind: 'edge', region: c.region, publicUrl: c.publicUrl ?? `http://${hostname()}:${port}`, capacity: c.capacity },
      load,
      intervalMs: c.heartbeatMs,
      // Signed with the node key: the signal authenticates the edge, and no secret is sent.
      key: c.nodeKey,
    },
    log.child({ part: 'registration' }),
  );
}
