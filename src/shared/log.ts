import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs to stdout; LOG_LEVEL overrides the level (tests default to "silent" unless LOG_LEVEL is set). */
export function createLogger(name: string, level?: string): Logger {
  const fallback = process.env.NODE_TEST_CONTEXT ? 'silent' : 'info';
  return pino({ name, level: level ?? process.env.LOG_LEVEL ?? fallback });
}
