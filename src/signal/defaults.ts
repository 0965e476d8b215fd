// The signal service's defaults, in one place: `new Signal(config)` fills every option it is not given
// from here, and `livecdn signal` shows them as its flags' defaults (converted once to the unit each flag
// names). Durations are milliseconds; tokens carry whole seconds, so their lifetimes are converted once
// where tokens are signed (streams.ts).
export const SIGNAL_DEFAULTS = {
  host: '0.0.0.0',
  apiPort: 8090,
  /** A node that has sent no heartbeat for this long leaves (three edge/origin heartbeats). */
  nodeTtlMs: 15_000,
  /** POST /api/streams may ask for a shorter or longer publish token, up to the max. */
  publishTokenTtlMs: 86_400_000,
  maxPublishTokenTtlMs: 7 * 86_400_000,
  playTokens: false,
  playTokenTtlMs: 3_600_000,
  kickTimeoutMs: 2000,
  /** GET and DELETE /api/recordings: how long the signal waits for each origin's answer. */
  recordingsTimeoutMs: 5000,
  /** GET /api/route: how long a caller may reuse the answer (edges and origins cache it that long). */
  routeTtlMs: 2000,
} as const;
