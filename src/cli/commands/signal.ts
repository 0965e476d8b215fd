// `livecdn signal`: the control plane (API, placement, registry, tokens, hooks, chat).
import type { Command } from 'commander';
import { z } from 'zod';
import { createLogger } from '../../shared/log.js';
import { RegionGraph, RegionMap } from '../../signal/region-map.js';
import { Signal } from '../../signal/signal.js';
import { boolFlag, httpUrl, portSchema, positiveInt, readCommandOptions } from '../options.js';
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
    secret: z.string({ required_error: 'required (the token key shared with origins); or set LIVECDN_SECRET' }).min(8, 'must be at least 8 characters'),
    apiToken: z.string().min(8, 'must be at least 8 characters').optional(),
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
    nodeTtl: positiveInt,
    tokenTtl: positiveInt,
    playTokens: boolFlag,
    trustProxy: boolFlag,
  })
  .refine((o) => (o.originRtmp === undefined) === (o.originHttp === undefined), {
    message: '--origin-rtmp and --origin-http go together',
    path: ['originHttp'],
  });

export function registerSignal(program: Command): void {
  program
    .command('signal')
    .description('control plane: push URLs, play placement, node registry, tokens, hooks, chat')
    .option('--api-port <port>', 'HTTP API and chat WebSocket port', '8090')
    .option('--host <addr>', 'address to bind', '0.0.0.0')
    .option('--secret <key>', 'token key shared with origins (HMAC-SHA256)')
    .option('--api-token <token>', 'require Authorization: Bearer <token> on POST/DELETE /api/streams and /api/nodes')
    .option('--redis <url>', 'share the registry with other signal instances through Redis')
    .option('--region-map <list>', 'client CIDR to region: 10.0.0.0/8=eu,2001:db8::/32=us')
    .option('--region-graph <list>', 'fallback regions, nearest first: eu:us,ap;us:eu')
    .option('--origin-rtmp <url>', 'origin to use while none is registered, e.g. rtmp://origin:1935')
    .option('--origin-http <url>', 'its HTTP base, e.g. http://origin:8080')
    .option('--node-ttl <sec>', 'a node leaves after this many seconds without a heartbeat', '15')
    .option('--token-ttl <sec>', 'publish token lifetime', '86400')
    .option('--play-tokens', 'sign play URLs and require play tokens in on_play')
    .option('--trust-proxy', 'take the client address from X-Forwarded-For (behind a proxy)')
    .action(async (flags: Record<string, unknown>, cmd: Command) => {
      const o = readCommandOptions(schema, cmd, flags);
      const log = createLogger('signal');
      const signal = new Signal({
        apiPort: o.apiPort,
        host: o.host,
        secret: o.secret,
        apiToken: o.apiToken,
        redisUrl: o.redis,
        regionMap: o.regionMap,
        regionGraph: o.regionGraph,
        originRtmp: o.originRtmp,
        originHttp: o.originHttp,
        nodeTtlSec: o.nodeTtl,
        publishTokenTtlSec: o.tokenTtl,
        playTokens: o.playTokens,
        trustProxy: o.trustProxy,
        logger: log,
      });
      await signal.start();
      stopOnSignals(log, () => signal.stop());
    });
}
