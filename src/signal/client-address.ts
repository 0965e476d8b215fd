// The address a client's limits are keyed by. Behind a trusted proxy it is the client's address from
// X-Forwarded-For (as express resolves req.ip), not the proxy's, which every client would share. The limits then
// count it by limitKey() (shared/address.ts).
import type { IncomingMessage } from 'node:http';

/** express's compiled "trust proxy fn": is the hop at `addr`, `i` hops from us, a trusted proxy? */
export type TrustFn = (addr: string, i: number) => boolean;

/** The client's address: walk X-Forwarded-For from the nearest hop while the hops are trusted proxies. */
export function clientAddress(req: IncomingMessage, trust: TrustFn | undefined): string {
  const socketAddr = req.socket.remoteAddress ?? 'unknown';
  if (!trust) return socketAddr;
  const header = req.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    // Bounded: a client may send a header with thousands of entries.
    .slice(-32)
    .reverse();
  const hops = [socketAddr, ...forwarded];
  for (let i = 0; i < hops.length - 1; i++) if (!trust(hops[i] as string, i)) return hops[i] as string;
  return hops[hops.length - 1] as string;
}
