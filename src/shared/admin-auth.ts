// Who may use a write route: operators with the admin bearer (derived from the root secret, printed by
// `livecdn keys`) and, where a route says so, nodes with a request signed by the node key. Without keys
// (an --insecure cluster) write routes are open: that is what --insecure gives up.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { adminToken } from './keys.js';
import type { ClusterKeys } from './keys.js';
import { SIGNATURE_HEADER, verifyRequest } from './signed-request.js';
import type { SignatureCheck } from './signed-request.js';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Constant-time check of `Authorization: Bearer <admin token>`; true without keys (insecure). */
export function hasAdminBearer(authorization: string | undefined, keys: ClusterKeys | undefined): boolean {
  if (!keys) return true;
  const m = /^Bearer (\S+)$/.exec(authorization ?? '');
  // Digests: equal lengths for timingSafeEqual whatever was sent, and no early exit on the first wrong byte.
  return m !== null && timingSafeEqual(digest(m[1] as string), digest(adminToken(keys)));
}

/** The node signature of a request as received; ok without keys (insecure). */
export function checkNodeSignature(
  keys: ClusterKeys | undefined,
  headers: IncomingHttpHeaders,
  method: string,
  pathAndQuery: string,
  body: Buffer | string,
): SignatureCheck {
  if (!keys) return { ok: true };
  const h = headers[SIGNATURE_HEADER];
  return verifyRequest(keys.node, Array.isArray(h) ? h[0] : h, method, pathAndQuery, body);
}
