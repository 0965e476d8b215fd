// The recorder's Prometheus metrics, registered in the origin's registry. No per-stream labels (the
// per-recording figures are in /api/recordings); errors by code (ENOSPC, EACCES, …: a handful).
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Recorder } from './recorder.js';

export function registerRecordMetrics(registry: Registry, recorder: Recorder): void {
  new Gauge({
    name: 'livecdn_record_active',
    help: 'Recordings being written',
    registers: [registry],
    collect() {
      this.set(recorder.totals().active);
    },
  });
  new Counter({
    name: 'livecdn_record_bytes_total',
    help: 'FLV tag bytes handed to recording files',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(recorder.totals().bytes);
    },
  });
  new Counter({
    name: 'livecdn_record_errors_total',
    help: 'Recordings stopped by an error, by error code (ENOSPC, EACCES, …)',
    labelNames: ['code'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [code, n] of recorder.totals().errors) this.inc({ code }, n);
    },
  });
}
