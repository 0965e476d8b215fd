// Publish authorization: a signed token (?token=) per app/stream when a secret is configured, and the
// bearer secret that guards the admin API (the signal service revokes publishers with it).
import { timingSafeEqual, createHash } from 'node:crypto';
import { verifyPublishToken } from '../shared/token.js';
import type { Refusal } from '../rtmp/app.js';

const REASONS: Readonly<Record<string, string>> = {
  missing: 'a publish token is required (?token=...)',
  malformed: 'the publish token is malformed',
  expired: 'the publish token has expired',
  forged: 'the publish token is not valid for this stream',
};

/** undefined when the publish may go ahead. */
export function checkPublishToken(secret: string | undefined, app: string, stream: string, token: string | undefined): Refusal | undefined {
  if (!secret) return undefined;
  const r = verifyPublishToken(token, { app, stream }, secret);
  if (r.ok) return undefined;
  return { code: 'NetStream.Publish.Unauthorized', description: REASONS[r.reason] ?? 'publish token refused' };
}

/** Constant-time check of `Authorization: Bearer <secret>`. Without a secret the API is closed. */
export function checkBearer(header: string | undefined, secret: string | undefined): boolean {
  if (!secret || !header?.startsWith('Bearer ')) return false;
  // Hash both so the comparison is constant-time whatever the lengths.
  const a = createHash('sha256').update(header.slice(7)).digest();
  const b = createHash('sha256').update(secret).digest();
  return timingSafeEqual(a, b);
}
