// Signed publish and play tokens, shared by signal (signs), origin (verifies publishes) and edges
// (verify optional play tokens).
//
// Format: `<expSec>.<mac>` where expSec is the expiry in whole seconds since the epoch (decimal, no sign,
// at most 12 digits) and mac is the unpadded base64url HMAC-SHA256 (43 characters) with the shared
// secret over the UTF-8 string `<domain>\n<app>/<stream>/<expSec>`. The domain is `livecdn-publish-v1`
// or `livecdn-play-v1`, so a play token can never be used to publish (and the reverse).
// A token is valid while nowSec < expSec.
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface TokenSubject {
  readonly app: string;
  readonly stream: string;
}

export interface TokenClaims extends TokenSubject {
  readonly expSec: number;
}

export type TokenFailure = 'missing' | 'malformed' | 'expired' | 'forged';
export type TokenCheck = { ok: true; expSec: number } | { ok: false; reason: TokenFailure };

const PUBLISH_DOMAIN = 'livecdn-publish-v1';
const PLAY_DOMAIN = 'livecdn-play-v1';
export const TOKEN_PATTERN = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/;

const mac = (domain: string, app: string, stream: string, expSec: number, secret: string | Buffer): Buffer =>
  createHmac('sha256', secret).update(`${domain}\n${app}/${stream}/${expSec}`, 'utf8').digest();

function sign(domain: string, { app, stream, expSec }: TokenClaims, secret: string | Buffer): string {
  if (!Number.isSafeInteger(expSec) || expSec < 0 || expSec > 999_999_999_999) {
    throw new RangeError(`expSec must be a non-negative integer of at most 12 digits, got ${expSec}`);
  }
  if (secret.length === 0) throw new RangeError('secret must not be empty');
  return `${expSec}.${mac(domain, app, stream, expSec, secret).toString('base64url')}`;
}

function verify(
  domain: string,
  token: string | undefined,
  { app, stream }: TokenSubject,
  secret: string | Buffer,
  nowSec: number,
): TokenCheck {
  if (token === undefined || token === '') return { ok: false, reason: 'missing' };
  const m = TOKEN_PATTERN.exec(token);
  if (!m) return { ok: false, reason: 'malformed' };
  const expSec = Number(m[1]);
  // Compare the encoded text, not decoded bytes: the last base64url character carries 2 unused bits, and
  // comparing text refuses those non-canonical spellings of a valid mac. Both sides are 43 ASCII bytes.
  const given = Buffer.from(m[2] as string, 'ascii');
  const expected = Buffer.from(mac(domain, app, stream, expSec, secret).toString('base64url'), 'ascii');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'forged' };
  if (nowSec >= expSec) return { ok: false, reason: 'expired' };
  return { ok: true, expSec };
}

const now = (): number => Math.floor(Date.now() / 1000);

/** Token that allows publishing app/stream until expSec. */
export const signPublishToken = (claims: TokenClaims, secret: string | Buffer): string => sign(PUBLISH_DOMAIN, claims, secret);

export const verifyPublishToken = (
  token: string | undefined,
  subject: TokenSubject,
  secret: string | Buffer,
  nowSec: number = now(),
): TokenCheck => verify(PUBLISH_DOMAIN, token, subject, secret, nowSec);

/** Token that allows playing app/stream until expSec (checked by edges when play tokens are on). */
export const signPlayToken = (claims: TokenClaims, secret: string | Buffer): string => sign(PLAY_DOMAIN, claims, secret);

export const verifyPlayToken = (
  token: string | undefined,
  subject: TokenSubject,
  secret: string | Buffer,
  nowSec: number = now(),
): TokenCheck => verify(PLAY_DOMAIN, token, subject, secret, nowSec);
