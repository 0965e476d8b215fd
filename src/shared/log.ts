import { pino, type Logger } from 'pino';

export type { Logger };

const REDACTED = '[redacted]';

/**
 * A URL, path or RTMP app/stream string with every `token=` query value replaced: tokens are credentials
 * and logs are read by more people than tokens are meant for.
 */
export function redactUrl(url: string): string {
  return url.replace(/([?&;]token=)[^&#\s]*/gi, `$1${REDACTED}`);
}

const redactIfString = (v: unknown): unknown => (typeof v === 'string' ? redactUrl(v) : v);

/**
 * JSON logs to stdout; LOG_LEVEL overrides the level (tests default to "silent" unless LOG_LEVEL is set).
 * Whatever a caller passes, `url`, `path` and `stream` fields lose their `?token=` values and
 * Authorization headers are never written.
 */
export function createLogger(name: string, level?: string): Logger {
  const fallback = process.env.NODE_TEST_CONTEXT ? 'silent' : 'info';
  return pino({
    name,
    level: level ?? process.env.LOG_LEVEL ?? fallback,
    serializers: { url: redactIfString, path: redactIfString, stream: redactIfString, app: redactIfString },
    redact: {
      paths: ['authorization', 'headers.authorization', 'req.headers.authorization', '*.headers.authorization', 'headers["x-livecdn-signature"]'],
      censor: REDACTED,
    },
  });
}
