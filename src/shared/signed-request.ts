// Requests between nodes and the signal (registration, heartbeats, deregistration) and the signal's kicks
// to origins are signed with the cluster's node key (shared/keys.ts), so that no secret ever travels:
//
//   X-Livecdn-Signature: t=<unix seconds>,s=<base64url HMAC-SHA256(node key,
//       METHOD "\n" PATH?QUERY "\n" t "\n" base64url(SHA-256(body)))>
//
// accepted within ±30 s of the receiver's clock. The path and the body are covered, so a captured
// signature cannot be moved to another route or carry another body; the window bounds replays.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-livecdn-signature';

/** How far the signer's clock may be from the verifier's, in seconds, either way. */
export const MAX_SKEW_SEC = 30;

type SignatureFailure = 'missing' | 'malformed' | 'stale' | 'forged';
export type SignatureCheck = { ok: true } | { ok: false; reason: SignatureFailure };

const HEADER_PATTERN = /^t=(\d{1,12}),s=([A-Za-z0-9_-]{43})$/;

const nowSec = (): number => Math.floor(Date.now() / 1000);

function mac(key: Buffer, method: string, pathAndQuery: string, t: number, body: Buffer | string): string {
  const bodyHash = createHash('sha256').update(body).digest('base64url');
  return createHmac('sha256', key).update(`${method.toUpperCase()}\n${pathAndQuery}\n${t}\n${bodyHash}`, 'utf8').digest('base64url');
}

/** The header value for a request of `method` to `pathAndQuery` (e.g. "/api/nodes?x=1") with `body`. */
export function signRequest(key: Buffer, method: string, pathAndQuery: string, body: Buffer | string = '', t = nowSec()): string {
  return `t=${t},s=${mac(key, method, pathAndQuery, t, body)}`;
}

/**
 * What can be checked of a received header before its body is read: present, well formed, fresh. A
 * server runs this first so that an unsigned client never makes it buffer a body.
 */
export function checkHeaderShape(header: string | undefined, now = nowSec()): { ok: false; reason: SignatureFailure } | { ok: true; t: number; sig: string } {
  if (header === undefined || header === '') return { ok: false, reason: 'missing' };
  const m = HEADER_PATTERN.exec(header);
  if (!m) return { ok: false, reason: 'malformed' };
  const t = Number(m[1]);
  if (Math.abs(now - t) > MAX_SKEW_SEC) return { ok: false, reason: 'stale' };
  return { ok: true, t, sig: m[2] as string };
}

/** Checks a received header; `body` is the raw body as received (empty when there is none). */
export function verifyRequest(
  key: Buffer,
  header: string | undefined,
  method: string,
  pathAndQuery: string,
  body: Buffer | string = '',
  now = nowSec(),
): SignatureCheck {
  const shape = checkHeaderShape(header, now);
  if (!shape.ok) return shape;
  // Both sides are 43 ASCII characters: the comparison is constant-time.
  const given = Buffer.from(shape.sig, 'ascii');
  const expected = Buffer.from(mac(key, method, pathAndQuery, shape.t, body), 'ascii');
  if (!timingSafeEqual(given, expected)) return { ok: false, reason: 'forged' };
  return { ok: true };
}

interface SignedFetchOptions {
  readonly method: string;
  /** JSON-encoded when given. */
  readonly json?: unknown;
  /** Unsigned when undefined (an --insecure cluster). */
  readonly key: Buffer | undefined;
  readonly timeoutMs: number;
}

/** fetch() with the signature header; the body is serialised once so that what is signed is what is sent. */
export async function signedFetch(url: string, opts: SignedFetchOptions): Promise<{ status: number; body: string }> {
  const body = opts.json === undefined ? '' : JSON.stringify(opts.json);
  const headers: Record<string, string> = {};
  if (opts.json !== undefined) headers['content-type'] = 'application/json';
  if (opts.key) {
    const u = new URL(url);
    headers[SIGNATURE_HEADER] = signRequest(opts.key, opts.method, u.pathname + u.search, body);
  }
  const res = await fetch(url, {
    method: opts.method,
    headers,
    ...(opts.json !== undefined ? { body } : {}),
    signal: AbortSignal.timeout(opts.timeoutMs),
  });
  return { status: res.status, body: await res.text() };
}
