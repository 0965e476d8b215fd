// `livecdn edge`: an HLS pull-through cache and HTTP-FLV relay in front of origins or parent edges.
import type { Command } from 'commander';
import { z } from 'zod';
import type { EdgeConfig } from '../../edge/config.js';
import { EDGE_DEFAULTS } from '../../edge/defaults.js';
import { runEdge } from '../../edge/workers.js';
import { createLogger } from '../../shared/log.js';
import {
  OptionsError,
  addHttpListenOptions,
  addRegistrationOptions,
  boolFlag,
  httpListenFields,
  httpUrl,
  httpUrlList,
  inSeconds,
  positiveInt,
  readCommandOptions,
  registrationFields,
} from '../options.js';
import { playerPages } from '../pages.js';
import { addSecretOptions, readKeys, requirePlayKeys, secretFields } from '../secret.js';
import { addHttpLimitOptions, httpLimitFields, httpLimitsOf } from '../http-limits.js';
import { stopOnSignals } from '../shutdown.js';

export const edgeSchema = z.object({
  upstream: httpUrlList('required: one or more upstream URLs, comma-separated'),
  ...httpListenFields,
  ...registrationFields(EDGE_DEFAULTS),
  ...secretFields,
  playTokens: boolFlag,
  cacheMb: z.coerce.number().positive().max(1024 * 1024),
  prefetch: boolFlag,
  maxHops: positiveInt.max(64),
  workers: positiveInt.max(256),
  flvLinger: z.coerce.number().nonnegative().max(3600),
  flvGrace: z.coerce.number().nonnegative().max(3600),
  writeBatchMs: z.coerce.number().nonnegative().max(1000),
  upstreamTimeout: z.coerce.number().positive().max(600),
  upstreamDown: z.coerce.number().nonnegative().max(3600),
  locate: z.enum(['signal', 'upstreams']).optional(),
  onPlay: httpUrl.optional(),
  ...httpLimitFields,
});

export type EdgeOptions = z.infer<typeof edgeSchema>;

export function addEdgeOptions(cmd: Command): Command {
  const d = EDGE_DEFAULTS;
  // No --insecure: an edge serves public media and runs without a secret (unsigned registration, no play tokens).
  addSecretOptions(cmd).option('--upstream <urls>', 'origins or parent edges, comma-separated (required): asked in this order with --locate upstreams; with a signal, the fallback when its route names no origin');
  addHttpListenOptions(cmd, 'HTTP-FLV, HLS, /metrics, /api/edge', d);
  addRegistrationOptions(cmd, {
    kind: 'edge',
    nodeIdNote: ' and loop detection',
    publicUrl: 'URL viewers use to reach this edge (registration)',
    capacity: 'viewers before this edge counts as full',
    defaults: d,
  });
  return addHttpLimitOptions(cmd)
    .option('--play-tokens', 'require a play token (?token=) on every playlist, segment and FLV request (needs the secret)')
    .option('--on-play <url>', 'POST hook asked for every FLV viewer and per client address + stream for HLS (2xx allows)')
    .option('--cache-mb <mb>', 'HLS cache budget', String(d.cacheBytes / (1024 * 1024)))
    .option('--no-prefetch', 'do not fetch new segments before viewers ask')
    .option('--max-hops <n>', 'refuse requests that crossed this many edges (508)', String(d.maxHops))
    .option('--workers <n>', 'processes sharing the port (node:cluster); each object and stream is fetched by one of them', String(d.workers))
    .option('--flv-linger <sec>', 'keep an HTTP-FLV upstream this long after its last viewer', inSeconds(d.flvLingerMs))
    .option('--flv-grace <sec>', 'keep HTTP-FLV viewers connected this long while the upstream reconnects', inSeconds(d.flvGraceMs))
    .option('--write-batch-ms <ms>', 'HTTP-FLV viewer write window, on top of the upstream\'s (0: unbatched)', String(d.writeBatchMs))
    .option('--upstream-timeout <sec>', 'connect + response head timeout, and body idle timeout', inSeconds(d.upstream.headersTimeoutMs))
    .option('--upstream-down <sec>', 'how long a failed upstream is avoided', inSeconds(d.upstream.downMs))
    .option('--locate <how>', `how the upstream holding a stream is found: signal (the control plane's route, then the upstreams) or upstreams (each in turn, the one that answered remembered; a child tier); default ${d.locate} with --signal, else upstreams`);
}

export function readEdgeOptions(cmd: Command, flags: Record<string, unknown>): EdgeOptions {
  return readCommandOptions(edgeSchema, cmd, flags);
}

export function edgeConfig(o: EdgeOptions): EdgeConfig {
  const keys = readKeys(o);
  requirePlayKeys(o.playTokens, keys);
  if (o.locate === 'signal' && !o.signal) throw new OptionsError('invalid options:\n  --locate: signal needs --signal (the control plane to ask)');
  return {
    upstreams: o.upstream,
    httpPort: o.httpPort,
    host: o.host,
    region: o.region,
    ...(o.nodeId ? { nodeId: o.nodeId } : {}),
    ...(o.publicUrl ? { publicUrl: o.publicUrl } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.locate ? { locate: o.locate } : {}),
    ...(keys ? { keys } : {}),
    playTokens: o.playTokens,
    cacheBytes: Math.floor(o.cacheMb * 1024 * 1024),
    prefetch: o.prefetch,
    maxHops: o.maxHops,
    flvLingerMs: o.flvLinger * 1000,
    flvGraceMs: o.flvGrace * 1000,
    writeBatchMs: o.writeBatchMs,
    upstream: { headersTimeoutMs: o.upstreamTimeout * 1000, idleTimeoutMs: Math.max(o.upstreamTimeout * 1000, EDGE_DEFAULTS.upstream.idleTimeoutMs), downMs: o.upstreamDown * 1000, heldTimeoutMs: EDGE_DEFAULTS.upstream.heldTimeoutMs },
    capacity: o.capacity,
    heartbeatMs: o.heartbeat * 1000,
    ...(o.onPlay ? { onPlay: o.onPlay } : {}),
    httpLimits: httpLimitsOf(o),
    pages: playerPages(),
  };
}

export function registerEdge(program: Command): void {
  addEdgeOptions(program.command('edge').description('edge cache: pulls HLS and HTTP-FLV from origins or parent edges')).action(
    async (flags: Record<string, unknown>, cmd: Command) => {
      const o = readEdgeOptions(cmd, flags);
      const log = createLogger('edge');
      const running = await runEdge(edgeConfig(o), o.workers, log);
      stopOnSignals(log, () => running.stop());
    },
  );
}
