// Shared validation for command-line flags and environment variables. Every command validates its
// merged options with zod and exits with one clear line per bad value.
import type { Command } from 'commander';
import { z } from 'zod';

export const portSchema = z.coerce.number().int().min(0).max(65535);
export const positiveInt = z.coerce.number().int().positive();
export const nonNegativeNumber = z.coerce.number().nonnegative();
export const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), 'must be an http:// or https:// URL');
export const hostSchema = z.string().min(1);
/** Comma-separated http(s) URLs (--upstream, --signal), in their order; `message` when there is none. */
export const httpUrlList = (message: string) =>
  z
    .string({ required_error: message })
    .transform((s) => s.split(',').map((u) => u.trim()).filter((u) => u !== ''))
    .pipe(z.array(httpUrl).min(1, message));

/** Environment variable for a flag: --rtmp-port -> LIVECDN_RTMP_PORT. */
export const envName = (flag: string): string => 'LIVECDN_' + flag.replace(/^--/, '').replace(/-/g, '_').toUpperCase();

/**
 * Merge commander's parsed flags over LIVECDN_* environment variables and validate. Flags given on the
 * command line win; environment variables fill what the flags left at their default.
 */
export function parseOptions<T extends z.ZodTypeAny>(
  schema: T,
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
  explicitlySet: ReadonlySet<string> = new Set(),
): z.infer<T> {
  const merged: Record<string, unknown> = { ...flags };
  for (const key of Object.keys(flags)) {
    const fromEnv = env[envName('--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase()))];
    if (fromEnv !== undefined && !explicitlySet.has(key)) merged[key] = fromEnv;
  }
  const result = schema.safeParse(merged);
  if (!result.success) {
    const lines = result.error.issues.map(
      (i: z.ZodIssue) => `  --${String(i.path[0] ?? '').replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}: ${i.message}`,
    );
    throw new OptionsError(`invalid options:\n${lines.join('\n')}`);
  }
  return result.data;
}

export class OptionsError extends Error {}

/** A boolean flag, or its environment variable as true/false/1/0; unset is false. */
export const boolFlag = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0'])])
  .optional()
  .transform((v) => v === true || v === 'true' || v === '1');

/** Region and node id reported to the control plane (edge and origin registration). */
export const regionSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must match [A-Za-z0-9_.-]{1,64}');
export const nodeIdSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must match [A-Za-z0-9_.:-]{1,128}');

/**
 * Validates a command's flags over LIVECDN_* variables. Every declared option is present (undefined when
 * unset), so variables can fill those without defaults; flags given on the command line win.
 */
export function readCommandOptions<T extends z.ZodTypeAny>(schema: T, cmd: Command, flags: Record<string, unknown>): z.infer<T> {
  const all = Object.fromEntries(cmd.options.map((opt) => [opt.attributeName(), flags[opt.attributeName()]]));
  const explicit = new Set(Object.keys(all).filter((k) => cmd.getOptionValueSource(k) === 'cli'));
  return parseOptions(schema, all, process.env, explicit);
}

/** A default in milliseconds as the value of a flag that takes seconds. */
export const inSeconds = (ms: number): string => String(ms / 1000);

/** The argument parser of a repeatable flag: its values in command-line order. */
export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** A node's HTTP listener: `--http-port` (`serves`: what it answers there) and `--host`. */
export function addHttpListenOptions(cmd: Command, serves: string, defaults: { readonly httpPort: number; readonly host: string }): Command {
  return cmd.option('--http-port <port>', `HTTP port (${serves})`, String(defaults.httpPort)).option('--host <addr>', 'address to bind', defaults.host);
}

/** Validation of addHttpListenOptions' flags, to merge into a command's schema. */
export const httpListenFields = { httpPort: portSchema, host: hostSchema };

/** What differs between the nodes' registration flags (edge, origin, transcoder). */
export interface RegistrationFlags {
  /** 'edge', 'origin' or 'transcoder': the default node id is KIND-REGION-HOST-PORT. */
  readonly kind: string;
  readonly nodeIdNote?: string;
  readonly publicUrl: string;
  readonly capacity: string;
  /** The service's defaults (ORIGIN_DEFAULTS, EDGE_DEFAULTS). */
  readonly defaults: { readonly region: string; readonly capacity: number; readonly heartbeatMs: number };
}

/**
 * Validation of addRegistrationOptions' flags, to merge into a command's schema. The defaults serve
 * `all`, which shares the origin's schema without declaring these flags.
 */
export function registrationFields(defaults: RegistrationFlags['defaults']) {
  return {
    signal: httpUrlList('one or more signal URLs, comma-separated').optional(),
    publicUrl: httpUrl.optional(),
    region: regionSchema.default(defaults.region),
    nodeId: nodeIdSchema.optional(),
    capacity: positiveInt.default(defaults.capacity),
    heartbeat: z.coerce.number().positive().max(300).default(defaults.heartbeatMs / 1000),
  };
}

/** The flags of registration with the control plane, shared by `edge`, `origin` and `transcode`. */
export function addRegistrationOptions(cmd: Command, f: RegistrationFlags): Command {
  return cmd
    .option(
      '--signal <urls>',
      'control plane to register with, e.g. http://signal:8090; several instances (sharing a Redis) comma-separated, the next used when one fails (requests are signed with the cluster secret)',
    )
    .option('--public-url <url>', f.publicUrl)
    .option('--region <name>', 'region reported to the control plane', f.defaults.region)
    .option('--node-id <id>', `node id for registration${f.nodeIdNote ?? ''} (default ${f.kind}-REGION-HOST-PORT)`)
    .option('--capacity <n>', f.capacity, String(f.defaults.capacity))
    .option('--heartbeat <sec>', 'heartbeat period to the control plane', inSeconds(f.defaults.heartbeatMs));
}
