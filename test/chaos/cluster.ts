// Shared by the chaos tests: the cluster's root secret, the admin header derived from it, and a request
// that records how long it took and what came back, so that a hang or a stack trace can be asserted on.
import { adminToken, deriveKeys } from '../../src/shared/keys.js';

/** The root secret every process of a chaos test gets through LIVECDN_SECRET (>= 32 bytes). */
export const SECRET = 'chaos-test-root-secret-0123456789abcdef';

export const ADMIN = { authorization: `Bearer ${adminToken(deriveKeys(SECRET))}` };

export interface Timed {
  /** HTTP status, or 0 when no response came (connection refused, timeout). */
  readonly status: number;
  readonly text: string;
  readonly ms: number;
}

/** One request with a hard timeout; never throws. */
export async function timed(url: string, init: RequestInit = {}, timeoutMs = 10_000): Promise<Timed> {
  const t0 = Date.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    return { status: res.status, text, ms: Date.now() - t0 };
  } catch (e) {
    return { status: 0, text: e instanceof Error ? e.message : String(e), ms: Date.now() - t0 };
  }
}

/** A stack trace line ("    at fn (file:1:2)") or an error class name leaking into a response body. */
export const STACK_TEXT = /\n\s+at \S|\b(TypeError|ReferenceError|MaxRetriesPerRequestError)\b|node_modules|\.ts:\d+/;
