// The DVR's Prometheus metrics, registered in the origin's registry. No per-stream labels (the per-stream
// window is the `dvr` of /api/streams).
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { DvrStore } from './dvr-store.js';

export function registerDvrMetrics(registry: Registry, store: DvrStore): void {
  new Gauge({
    name: 'livecdn_dvr_segments',
    help: 'Segments listed in DVR playlists, all streams',
    registers: [registry],
    collect() {
      this.set(store.listedSegments());
    },
  });
  new Counter({
    name: 'livecdn_dvr_bytes_written_total',
    help: 'Segment bytes written to disk for DVR playlists',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(store.bytesWritten);
    },
  });
  new Counter({
    name: 'livecdn_dvr_errors_total',
    help: "Streams whose DVR stopped on a write error (code), or on a backlog the disk could not take (EBACKLOG); the live stream carries on",
    labelNames: ['code'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [code, n] of store.errors) this.inc({ code }, n);
    },
  });
}
