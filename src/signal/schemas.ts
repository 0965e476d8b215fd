// zod schemas for every request body and query the API accepts.
import { z } from 'zod';
import { MAX_HEARTBEAT_STREAMS } from '../shared/cluster.js';
import { NAME_PATTERN } from '../shared/url-contract.js';
import { transcodeJobSchema } from '../shared/transcode-job.js';

export const nameSchema = z.string().regex(NAME_PATTERN, 'must match [A-Za-z0-9_-]{1,64}');
export const regionSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must match [A-Za-z0-9_-]{1,64}');
export const nodeIdSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must match [A-Za-z0-9_.:-]{1,128}');

const urlWithScheme = (schemes: RegExp, what: string) =>
  z
    .string()
    .max(2048)
    .url()
    .refine((u) => schemes.test(u), `must be ${what}`)
    .transform((u) => u.replace(/\/+$/, ''));

export const httpUrlSchema = urlWithScheme(/^https?:\/\//, 'an http:// or https:// URL');
export const rtmpUrlSchema = urlWithScheme(/^rtmps?:\/\//, 'an rtmp:// or rtmps:// URL');

const count = z.number().int().nonnegative().finite();

/** Renditions one heartbeat may list per stream (the source and its rungs): a bound, not a ladder policy. */
export const MAX_LADDER_RENDITIONS = 32;

/** An origin's ladder entry for a source (shared/cluster.ts RungStat). */
const rungStatSchema = z.object({
  rung: z.string().max(16),
  stream: z.string().max(129),
  width: count.optional(),
  height: count.optional(),
  bandwidthBps: z.number().nonnegative().finite().optional(),
  averageBandwidthBps: z.number().nonnegative().finite().optional(),
  codecs: z.string().max(128).optional(),
  live: z.boolean(),
});

const streamStatSchema = z.object({
  stream: z.string().max(129),
  viewers: count,
  publishing: z.boolean().optional(),
  video: z.string().max(32).optional(),
  audio: z.string().max(32).optional(),
  bitrateBps: z.number().nonnegative().finite().optional(),
  hls: z
    .object({
      format: z.enum(['ts', 'fmp4']),
      partTargetS: z.number().positive().max(60).nullable(),
      codecs: z.string().max(128).nullable(),
    })
    .optional(),
  ladder: z.array(rungStatSchema).max(MAX_LADDER_RENDITIONS).optional(),
  transcode: z
    .object({
      where: z.enum(['local', 'remote']),
      rungsUp: count,
      restarts: count,
      speed: z.number().nonnegative().finite().nullable(),
    })
    .optional(),
  transcodeJob: transcodeJobSchema.optional(),
  dvr: z.object({ windowMs: z.number().nonnegative().finite(), fromMs: z.number().nonnegative().finite(), segments: count }).optional(),
});

export const nodeLoadSchema = z.object({
  viewers: count,
  publishers: count,
  egressBps: z.number().nonnegative().finite(),
  cpu: z.number().nonnegative().finite(),
  streams: z.array(z.string().max(129)).max(MAX_HEARTBEAT_STREAMS),
  streamStats: z.array(streamStatSchema).max(MAX_HEARTBEAT_STREAMS).optional(),
});

export const registrationSchema = z.object({
  id: nodeIdSchema,
  kind: z.enum(['origin', 'edge', 'transcoder']),
  region: regionSchema,
  publicUrl: httpUrlSchema,
  rtmpUrl: rtmpUrlSchema.optional(),
  capacity: count,
});

/** The id in the body is optional (the path carries it) but must agree when present. */
export const heartbeatSchema = z.object({ id: nodeIdSchema.optional(), load: nodeLoadSchema });

export const createStreamSchema = z
  .object({
    app: nameSchema.default('live'),
    name: nameSchema.optional(),
    /** Token lifetime; defaults to the configured publish token TTL. */
    expiresInSec: z.number().int().min(10).optional(),
  })
  .strict();

export const playQuerySchema = z.object({
  region: regionSchema.optional(),
});

/**
 * Hook bodies: our JSON shape `{action, app, stream, query, remoteAddress, clientId}`, and nginx-rtmp's
 * form fields (`call`, `app`, `name`, `addr`, `clientid`, query arguments as extra fields), normalised to
 * the former before validation.
 */
export const hookSchema = z.object({
  action: z.string().max(32).optional(),
  /** The origin's on_done says which side ended: {action:'done', role:'publish'|'play'}. */
  role: z.string().max(32).optional(),
  app: nameSchema,
  stream: nameSchema,
  query: z.record(z.string().max(4096)).default({}),
  remoteAddress: z.string().max(128).optional(),
  clientId: z.union([z.string().max(128), z.number()]).optional(),
  nodeId: z.string().max(128).optional(),
});
export type HookBody = z.infer<typeof hookSchema>;

const NGINX_FIELDS = new Set(['call', 'app', 'name', 'addr', 'clientid', 'tcurl', 'pageurl', 'swfurl', 'flashver', 'type', 'epoch']);

export function normaliseHookBody(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const b = body as Record<string, unknown>;
  if (!('name' in b) || 'stream' in b) return body;
  const query: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(b)) if (!NGINX_FIELDS.has(k)) query[k] = v;
  return { action: b.call, app: b.app, stream: b.name, query, remoteAddress: b.addr, clientId: b.clientid };
}

/** One-line message out of a zod error: "field: problem; field: problem". */
export function describeZodError(e: z.ZodError): string {
  return e.issues.map((i) => `${i.path.length ? i.path.join('.') : 'body'}: ${i.message}`).join('; ');
}
