// Shared validation for command-line flags and environment variables. Every command validates its
// merged options with zod and exits with one clear line per bad value.
import { z } from 'zod';

export const portSchema = z.coerce.number().int().min(0).max(65535);
export const positiveInt = z.coerce.number().int().positive();
export const nonNegativeNumber = z.coerce.number().nonnegative();
export const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), 'must be an http:// or https:// URL');
export const hostSchema = z.string().min(1);

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
