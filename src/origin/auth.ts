// Publish authorization: a signed token (?token=) per app/stream when the cluster has keys. (The admin API's
// bearer and the signal's signed kicks are checked by shared/admin-auth.ts.)
import { verifyPublishToken } from '../shared/token.js';
import type { Refusal } from '../rtmp/app.js';

const REASONS: Readonly<Record<string, string>> = {
  missing: 'a publish token is required (?token=...)',
  malformed: 'the publish token is malformed',
  expired: 'the publish token has expired',
  forged: 'the publish token is not valid for this stream',
};

/** undefined when the publish may go ahead. */
export function checkPublishToken(key: Buffer | undefined, app: string, stream: string, token: string | undefined): Refusal | undefined {
  if (!key) return undefined;
  const r = verifyPublishToken(token, { app, stream }, key);
  if (r.ok) return undefined;
  return { code: 'NetStream.Publish.Unauthorized', description: REASONS[r.reason] ?? 'publish token refused' };
}
