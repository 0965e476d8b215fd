// Every API error is JSON `{error, message}` with a fitting status; handlers throw ApiError.
import type { ErrorRequestHandler } from 'express';
import type { Logger } from '../shared/log.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface BodyParserError {
  type?: string;
  status?: number;
  expose?: boolean;
}

const isBodyParserError = (e: unknown): e is Error & BodyParserError =>
  e instanceof Error && typeof (e as BodyParserError).type === 'string' && typeof (e as BodyParserError).status === 'number';

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, _req, res, _next) => {
    if (err instanceof ApiError) {
      res.status(err.status).json({ error: err.code, message: err.message });
      return;
    }
    // express.json() errors: malformed JSON, too large, wrong charset.
    if (isBodyParserError(err)) {
      const code = err.type === 'entity.too.large' ? 'too_large' : err.type === 'entity.parse.failed' ? 'bad_json' : 'bad_request';
      res.status(err.status ?? 400).json({ error: code, message: err.message });
      return;
    }
    log.error({ err }, 'unhandled API error');
    res.status(500).json({ error: 'internal', message: 'internal error' });
  };
}
