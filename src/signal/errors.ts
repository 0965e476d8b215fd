// Every API error is JSON `{error, message}` with a fitting status (shared/http.ts): handlers throw
// HttpError; what express, its body parser or the registry store throw is mapped here to a message of
// ours, never their exception text.
import type { ErrorRequestHandler } from 'express';
import type { ServerResponse } from 'node:http';
import { HttpError, replyThrown } from '../shared/http.js';
import type { Logger } from '../shared/log.js';
import { isStoreOutage } from './store-outage.js';

interface BodyParserError {
  type?: string;
  status?: number;
}

const isBodyParserError = (e: unknown): e is Error & BodyParserError =>
  e instanceof Error && typeof (e as BodyParserError).type === 'string' && typeof (e as BodyParserError).status === 'number';

const BODY_ERRORS: Readonly<Record<string, [code: string, message: string]>> = {
  'entity.too.large': ['too_large', 'the request body is too large'],
  'entity.parse.failed': ['bad_json', 'the body is not valid JSON'],
};

/** Replies to an error a request ran into: the API's own as it says, known outside ones mapped, the rest a logged 500. */
export function replyApiError(res: ServerResponse, err: unknown, log: Logger): void {
  if (!(err instanceof HttpError)) {
    if (isBodyParserError(err)) {
      // express.json() errors: malformed JSON, too large, wrong charset.
      const [code, message] = BODY_ERRORS[err.type ?? ''] ?? ['bad_request', 'the request body cannot be read'];
      return replyThrown(res, new HttpError(err.status ?? 400, code, message), log);
    }
    // The router decodes path parameters: a bad escape (/api/streams/%) is the client's error, not ours.
    if (err instanceof URIError) return replyThrown(res, new HttpError(400, 'bad_request', 'malformed percent-encoding in the path'), log);
    if (isStoreOutage(err)) {
      log.warn({ err: (err as Error).message }, 'registry store unavailable');
      return replyThrown(res, new HttpError(503, 'store_unavailable', 'the registry is unavailable; retry shortly'), log);
    }
  }
  replyThrown(res, err, log);
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, _req, res, _next) => replyApiError(res, err, log);
}
