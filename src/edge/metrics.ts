// Prometheus metrics of one edge process, in its own Registry (not the global one) so that an origin
// and an edge in the same process, as `livecdn all` and the tests run them, never collide.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export type CacheKind = 'playlist' | 'segment' | 'snapshot';
export type Protocol = 'hls' | 'flv';

export class EdgeMetrics {
  readonly registry = new Registry();
  readonly cacheRequests: Counter<'kind' | 'result'>;
  readonly coalescedWaits: Counter<'kind'>;
  readonly prefetches: Counter;
  readonly upstreamRequests: Counter<'kind' | 'upstream'>;
  readonly peerRequests: Counter<'kind'>;
  readonly upstreamBytes: Counter<'kind'>;
  readonly egressBytes: Counter<'protocol'>;
  readonly viewers: Gauge<'protocol'>;
  readonly cacheBytes: Gauge;
  readonly cacheObjects: Gauge;
  /** HLS egress bytes, kept outside prom-client for cheap rate sampling (heartbeats). */
  private hlsEgressTotal = 0;

  /** Set by the cache once it exists; read at scrape time. */
  cacheStats: () => { bytes: number; objects: number } = () => ({ bytes: 0, objects: 0 });
  /** Set by the FLV relay: its hub's running byte total and viewer count. */
  flvStats: () => { bytesOut: number; viewers: number } = () => ({ bytesOut: 0, viewers: 0 });
  /** HLS clients seen lately (set by the edge). */
  hlsViewers: () => number = () => 0;
  private flvBytesSeen = 0;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'livecdn_edge_' });
    this.cacheRequests = new Counter({
      name: 'livecdn_edge_cache_requests_total',
      help: 'HLS requests by cache result (hit, miss)',
      labelNames: ['kind', 'result'],
      registers,
    });
    this.coalescedWaits = new Counter({
      name: 'livecdn_edge_coalesced_waits_total',
      help: 'Misses that joined an upstream fetch already in flight instead of starting one',
      labelNames: ['kind'],
      registers,
    });
    this.prefetches = new Counter({
      name: 'livecdn_edge_prefetches_total',
      help: 'Segments fetched ahead of any viewer because a refreshed playlist listed them',
      registers,
    });
    this.upstreamRequests = new Counter({
      name: 'livecdn_edge_upstream_requests_total',
      help: 'Requests sent upstream (each attempt, retries included)',
      labelNames: ['kind', 'upstream'],
      registers,
    });
    this.peerRequests = new Counter({
      name: 'livecdn_edge_peer_requests_total',
      help: 'Requests sent to the sibling worker that owns the object or stream (--workers), instead of upstream',
      labelNames: ['kind'],
      registers,
    });
    this.upstreamBytes = new Counter({
      name: 'livecdn_edge_upstream_bytes_total',
      help: 'Body bytes received from upstreams',
      labelNames: ['kind'],
      registers,
    });
    const self = (): EdgeMetrics => this;
    this.egressBytes = new Counter({
      name: 'livecdn_edge_egress_bytes_total',
      help: 'Body bytes sent to viewers',
      labelNames: ['protocol'],
      registers,
      collect() {
        // FLV bytes are counted by the hub on its hot path; mirror the delta at scrape time.
        const m = self();
        const total = m.flvStats().bytesOut;
        if (total > m.flvBytesSeen) this.inc({ protocol: 'flv' }, total - m.flvBytesSeen);
        m.flvBytesSeen = total;
      },
    });
    this.viewers = new Gauge({
      name: 'livecdn_edge_viewers',
      help: 'Viewers: HTTP-FLV connections, HLS clients seen in the last 15 s',
      labelNames: ['protocol'],
      registers,
      collect() {
        const m = self();
        this.set({ protocol: 'flv' }, m.flvStats().viewers);
        this.set({ protocol: 'hls' }, m.hlsViewers());
      },
    });
    const stats = (): { bytes: number; objects: number } => this.cacheStats();
    this.cacheBytes = new Gauge({
      name: 'livecdn_edge_cache_bytes',
      help: 'Bytes held by the HLS cache',
      registers,
      collect() {
        this.set(stats().bytes);
      },
    });
    this.cacheObjects = new Gauge({
      name: 'livecdn_edge_cache_objects',
      help: 'Objects held by the HLS cache',
      registers,
      collect() {
        this.set(stats().objects);
      },
    });
  }

  /** One attempt at an upstream, or at the sibling worker that owns the key (kept apart: not origin load). */
  countUpstreamRequest(kind: Protocol, upstream: string, peer: boolean): void {
    if (peer) this.peerRequests.inc({ kind });
    else this.upstreamRequests.inc({ kind, upstream });
  }

  /** Body bytes received for `kind`; a sibling worker's bytes are not upstream traffic and are left out. */
  countUpstreamBytes(kind: Protocol, bytes: number, peer: boolean): void {
    if (!peer) this.upstreamBytes.inc({ kind }, bytes);
  }

  egress(protocol: Protocol, bytes: number): void {
    this.egressBytes.inc({ protocol }, bytes);
    this.hlsEgressTotal += bytes;
  }

  /** All body bytes sent to viewers so far (HLS and FLV). */
  egressTotal(): number {
    return this.hlsEgressTotal + this.flvStats().bytesOut;
  }
}
