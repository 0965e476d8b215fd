// The transcoder's Prometheus metrics, registered in the origin's registry. No per-stream labels: a
// cluster may run thousands of sources, and the per-stream figures are in /api/streams (`transcode`).
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { TranscodeService } from './transcode-service.js';

export function registerTranscodeMetrics(registry: Registry, service: TranscodeService): void {
  new Gauge({
    name: 'livecdn_transcode_processes',
    help: 'FFmpeg transcoders running (one per source with a ladder)',
    registers: [registry],
    collect() {
      this.set(service.totals().transcoders);
    },
  });
  new Gauge({
    name: 'livecdn_transcode_rungs_up',
    help: 'Rung streams published by local transcoders',
    registers: [registry],
    collect() {
      this.set(service.totals().rungsUp);
    },
  });
  new Counter({
    name: 'livecdn_transcode_restarts_total',
    help: 'FFmpeg transcoders restarted after exiting on their own',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(service.totals().restarts);
    },
  });
  new Counter({
    name: 'livecdn_transcode_skipped_frames_total',
    help: 'Source frames not fed to FFmpeg because it fell behind (its input skips to the next keyframe)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(service.totals().skippedFrames);
    },
  });
  new Gauge({
    name: 'livecdn_transcode_speed',
    help: 'Encoding speed of the slowest running transcoder, x real time (below 1: falling behind); 0 when none reports',
    registers: [registry],
    collect() {
      this.set(service.totals().slowestSpeed ?? 0);
    },
  });
}
