// Every API error is JSON `{error, message}` with a fitting status; handlers throw ApiError.
import type { ErrorRequestHandler } from 'express';
import type { Logger } from '../shared/log.js';
import { isStoreOutage } from './store-outage.js';

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

/** Status and body for an error thrown by a handler: an ApiError as it says, anything else a logged 500. */
export function errorReply(err: unknown, log: Logger): { status: number; body: { error: string; message: string } } {
  if (err instanceof ApiError) return { status: err.status, body: { error: err.code, message: err.message } };
  if (isStoreOutage(err)) {
    log.warn({ err: (err as Error).message }, 'registry store unavailable');
    return { status: 503, body: { error: 'store_unavailable', message: 'the registry is unavailable; retry shortly' } };
  }
  log.error({ err }, 'unhandled API error');
  return { status: 500, body: { error: 'internal', message: 'internal error' } };
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, _req, res, _next) => {
    // express.json() errors: malformed JSON, too large, wrong charset.
    if (!(err instanceof ApiError) && isBodyParserError(err)) {
      const code = err.type === 'entity.too.large' ? 'too_large' : err.type === 'entity.parse.failed' ? 'bad_json' : 'bad_request';
      res.status(err.status ?? 400).json({ error: code, message: err.message });
      return;
    }
    // The router decodes path parameters: a bad escape (/api/streams/%) is the client's error, not ours.
    if (err instanceof URIError) {
      res.status(400).json({ error: 'bad_request', message: 'malformed percent-encoding in the path' });
      return;
    }
    const { status, body } = errorReply(err, log);
    res.status(status).json(body);
  };
}
