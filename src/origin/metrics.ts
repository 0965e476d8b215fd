// Prometheus metrics, one Registry per origin so several origins (tests, `all`) never collide. Hot-path
// counters live as plain numbers in the hub and RTMP server; gauges and counters read them on scrape.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Hub } from '../hub/hub.js';
import type { HlsService } from './hls-service.js';
import type { RtmpServerStats } from '../rtmp/server.js';
import { streamViewers } from './api.js';

export interface OriginMetrics {
  readonly registry: Registry;
  readonly hlsSegmentLatency: Histogram;
}

export function createMetrics(hub: Hub, hls: HlsService, rtmpStats: () => RtmpServerStats | undefined): OriginMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'livecdn_origin_' });
  const counterFrom = (name: string, help: string, read: () => number): void => {
    // A counter mirrored from a running total (collect() sets it to the total).
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  };
  new Gauge({ name: 'livecdn_streams', help: 'Live streams', registers: [registry], collect() { this.set(hub.list().length); } });
  new Gauge({
    name: 'livecdn_publishers',
    help: 'Publishers connected',
    registers: [registry],
    collect() {
      this.set(hub.list().filter((s) => s.publisher).length);
    },
  });
  new Gauge({
    name: 'livecdn_viewers',
    help: 'Viewers by protocol (hls: distinct playlist fetchers over the last 10 s)',
    labelNames: ['protocol'],
    registers: [registry],
    collect() {
      let flv = 0;
      let rtmp = 0;
      let hlsViewers = 0;
      for (const s of hub.list()) {
        const v = streamViewers(s, hls);
        flv += v.flv;
        rtmp += v.rtmp;
        hlsViewers += v.hls;
      }
      this.set({ protocol: 'flv' }, flv);
      this.set({ protocol: 'rtmp' }, rtmp);
      this.set({ protocol: 'hls' }, hlsViewers);
    },
  });
  counterFrom('livecdn_media_bytes_in_total', 'Media payload bytes received from publishers', () => hub.totals.bytesIn);
  counterFrom('livecdn_media_bytes_out_total', 'Bytes written to HTTP-FLV and RTMP viewers', () => hub.totals.bytesOut);
  counterFrom('livecdn_hls_bytes_out_total', 'Playlist, segment and part bytes served', () => hls.bytesOut);
  new Gauge({
    name: 'livecdn_hls_held_requests',
    help: 'LL-HLS requests held open: blocking playlist reloads and preload-hinted parts',
    registers: [registry],
    collect() {
      this.set(hls.held);
    },
  });
  counterFrom('livecdn_rtmp_bytes_in_total', 'Bytes received on RTMP connections', () => rtmpStats()?.bytesIn ?? 0);
  counterFrom('livecdn_rtmp_bytes_out_total', 'Bytes sent on RTMP connections', () => rtmpStats()?.bytesOut ?? 0);
  counterFrom('livecdn_dropped_frames_total', 'Frames skipped for slow viewers', () => hub.totals.droppedFrames);
  counterFrom('livecdn_slow_viewer_disconnects_total', 'Viewers disconnected for staying behind', () => hub.totals.slowDisconnects);
  counterFrom('livecdn_rtmp_refused_connections_total', 'RTMP connections refused by the connection limit', () => rtmpStats()?.refusedConnections ?? 0);
  counterFrom('livecdn_rtmp_dropped_connections_total', 'RTMP connections dropped (protocol error, timeout, idle)', () => rtmpStats()?.droppedConnections ?? 0);
  const hlsSegmentLatency = new Histogram({
    name: 'livecdn_hls_segment_publish_latency_ms',
    help: 'From the arrival of the keyframe closing a segment to the segment being listed, ms',
    buckets: [0.25, 0.5, 1, 2, 5, 10, 20, 50, 100, 250],
    registers: [registry],
  });
  return { registry, hlsSegmentLatency };
}
