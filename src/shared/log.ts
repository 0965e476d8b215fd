import { pino, type Logger } from 'pino';
import { build as prettyStream } from 'pino-pretty';

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
 * Logs to stdout: one JSON object a line for collectors, files and pipes, or readable coloured lines when
 * stdout is a terminal (`npm start`), with the same fields. LOG_LEVEL overrides the level (tests default
 * to "silent" unless LOG_LEVEL is set). Whatever a caller passes, `url`, `path` and `stream` fields lose
 * their `?token=` values and Authorization headers are never written.
 */
export function createLogger(name: string, level?: string, tty = process.stdout.isTTY === true): Logger {
  const fallback = process.env.NODE_TEST_CONTEXT ? 'silent' : 'info';
  const options = {
    name,
    level: level ?? process.env.LOG_LEVEL ?? fallback,
    serializers: { url: redactIfString, path: redactIfString, stream: redactIfString, app: redactIfString },
    redact: {
      paths: ['authorization', 'headers.authorization', 'req.headers.authorization', '*.headers.authorization', 'headers["x-livecdn-signature"]'],
      censor: REDACTED,
    },
  };
  if (!tty) return pino(options);
  // Formatted in this thread (no transport worker) and written at once, as a terminal is read live; colour
  // unless NO_COLOR.
  return pino(options, prettyStream({ sync: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
}
