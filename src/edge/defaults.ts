// The edge's defaults, in one place: `new Edge(config)` (config.ts) fills every option it is not given
// from here, and `livecdn edge` shows them as its flags' defaults (converted once to the unit each flag
// names). Durations are milliseconds, sizes bytes.
import type { LocateMode } from './locator.js';
import { defaultUpstreamOptions } from './upstream.js';

export const EDGE_DEFAULTS = {
  host: '0.0.0.0',
  httpPort: 8080,
  region: 'default',
  cacheBytes: 512 * 1024 * 1024,
  prefetch: true,
  maxHops: 8,
  workers: 1,
  /** Keep an HTTP-FLV upstream this long after its last viewer left. */
  flvLingerMs: 10_000,
  /** Keep HTTP-FLV viewers connected this long while the upstream reconnects. */
  flvGraceMs: 10_000,
  /**
   * The edge's hub batches its HTTP-FLV viewers' writes as the origin's does (ORIGIN_DEFAULTS.writeBatchMs):
   * one syscall per viewer per window, which is where an edge's fan-out capacity comes from. The two
   * windows add up: a frame waits up to 40 ms at the origin and up to 40 ms more at the edge (BENCHMARKS.md,
   * "Delay through an edge", measures what a viewer sees).
   */
  writeBatchMs: 40,
  upstream: defaultUpstreamOptions,
  /** With a signal configured: streams are located through its route answers first (locator.ts); without one, 'upstreams'. */
  locate: 'signal' as LocateMode,
  capacity: 5000,
  heartbeatMs: 5000,
  hookTimeoutMs: 2000,
} as const;
