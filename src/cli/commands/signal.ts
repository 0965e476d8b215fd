// `livecdn signal`: the control plane (API, placement, registry, tokens, hooks, chat).
import type { Command } from 'commander';
import { z } from 'zod';
import { createLogger } from '../../shared/log.js';
import { RegionGraph, RegionMap } from '../../signal/region-map.js';
import { Signal } from '../../signal/signal.js';
import { SIGNAL_DEFAULTS } from '../../signal/defaults.js';
import { boolFlag, httpUrl, inSeconds, portSchema, positiveInt, readCommandOptions } from '../options.js';
import { addHttpLimitOptions, httpLimitFields, httpLimitsOf } from '../http-limits.js';
import { playerPages } from '../pages.js';
import { addSecretOptions, requireKeys, requirePlayKeys, secretFields } from '../secret.js';
import { stopOnSignals } from '../shutdown.js';

const parses = (parse: (s: string) => unknown) => (s: string | undefined, ctx: z.RefinementCtx) => {
  if (s === undefined) return;
  try {
    parse(s);
  } catch (err) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: err instanceof Error ? err.message : String(err) });
  }
};

const schema = z
  .object({
    apiPort: portSchema,
    host: z.string().min(1),
    ...secretFields,
    redis: z
      .string()
      .regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL')
      .optional(),
    regionMap: z.string().optional().superRefine(parses((s) => RegionMap.parse(s))),
    regionGraph: z.string().optional().superRefine(parses((s) => RegionGraph.parse(s))),
    originRtmp: z
      .string()
      .url()
      .regex(/^rtmps?:\/\//, 'must be an rtmp:// URL, e.g. rtmp://origin:1935')
      .optional(),
    originHttp: httpUrl.optional(),
    ingestUrl: z
      .string()
      .url()
      .regex(/^rtmps?:\/\/[^/]+\/?$/, 'must be an rtmp:// URL without a path, e.g. rtmp://ingest.example:1935')
      .optional(),
    nodeTtl: positiveInt,
    tokenTtl: positiveInt,
    playTokens: boolFlag,
    trustProxy: boolFlag,
    ...httpLimitFields,
  })
  .refine((o) => (o.originRtmp === undefined) === (o.originHttp === undefined), {
    message: '--origin-rtmp and --origin-http go together',
    path: ['originHttp'],
  });

export function registerSignal(program: Command): void {
  const d = SIGNAL_DEFAULTS;
  const cmd = program
    .command('signal')
    .description('control plane: push URLs, play placement, node registry, tokens, hooks, chat')
    .option('--api-port <port>', 'HTTP API and chat WebSocket port', String(d.apiPort))
    .option('--host <addr>', 'address to bind', d.host)
    .option('--redis <url>', 'share the registry with other signal instances through Redis')
    .option('--region-map <list>', 'client CIDR to region: 10.0.0.0/8=eu,2001:db8::/32=us')
    .option('--region-graph <list>', 'fallback regions, nearest first: eu:us,ap;us:eu')
    .option('--origin-rtmp <url>', 'origin to use while none is registered, e.g. rtmp://origin:1935')
    .option('--origin-http <url>', 'its HTTP base, e.g. http://origin:8080')
    .option('--ingest-url <url>', 'hand out push URLs on this TCP front over every origin (nginx/ingest.conf.template), e.g. rtmp://ingest:1935')
    .option('--node-ttl <sec>', 'a node leaves after this many seconds without a heartbeat', inSeconds(d.nodeTtlMs))
    .option('--token-ttl <sec>', 'publish token lifetime', inSeconds(d.publishTokenTtlMs))
    .option('--play-tokens', 'sign play URLs and require play tokens in on_play')
    .option('--trust-proxy', 'take the client address from the X-Forwarded-For entry the one proxy in front adds: region map and chat limits');
  addSecretOptions(addHttpLimitOptions(cmd), 'development only: no secret, so no tokens and every write route open').action(
    async (flags: Record<string, unknown>, c: Command) => {
      const o = readCommandOptions(schema, c, flags);
      const keys = requireKeys(o, 'the signal');
      requirePlayKeys(o.playTokens, keys);
      const log = createLogger('signal');
      const signal = new Signal({
        apiPort: o.apiPort,
        host: o.host,
        keys,
        insecure: o.insecure,
        redisUrl: o.redis,
        regionMap: o.regionMap,
        regionGraph: o.regionGraph,
        originRtmp: o.originRtmp,
        originHttp: o.originHttp,
        ingestRtmpUrl: o.ingestUrl,
        nodeTtlMs: o.nodeTtl * 1000,
        publishTokenTtlMs: o.tokenTtl * 1000,
        playTokens: o.playTokens,
        // Unset, not false: without a proxy plain play requests take the fast path (Signal.playDirect).
        // One hop: the address the proxy in front appended, not the left-most X-Forwarded-For entry,
        // which the client writes itself and could change on every connection to dodge the chat limits.
        ...(o.trustProxy ? { trustProxy: 1 } : {}),
        http: httpLimitsOf(o),
        pages: playerPages(),
        logger: log,
      });
      await signal.start();
      stopOnSignals(log, () => signal.stop());
    },
  );
}
