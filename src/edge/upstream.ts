// The upstreams of an edge (origins or parent edges) and failover between them. An upstream that fails
// (connect error, 5xx, timeout) is marked down for a while and the next one is used; a request that
// fails before its response starts is retried once on the next upstream.
import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Logger } from '../shared/log.js';

export interface UpstreamOptions {
  /** How long a failed upstream is avoided. */
  readonly downMs: number;
  /** Connect + response headers. */
  readonly headersTimeoutMs: number;
  /** No body bytes for this long aborts the response. */
  readonly idleTimeoutMs: number;
  /**
   * Connect + response headers of a held LL-HLS request (a blocking playlist reload, a preload-hint
   * part), at least: the upstream holds those until the version or part exists. The cache raises it to
   * a few of the playlist's target durations when it knows them (the origin holds 3).
   */
  readonly heldTimeoutMs: number;
}

export const defaultUpstreamOptions: UpstreamOptions = { downMs: 10_000, headersTimeoutMs: 5_000, idleTimeoutMs: 10_000, heldTimeoutMs: 30_000 };

export interface UpstreamResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: IncomingMessage;
  /** Base URL of the upstream that answered. */
  readonly upstream: string;
}

/** No upstream gave a response: 502 (connect/protocol error) or 504 (timeout). */
export class UpstreamError extends Error {
  override name = 'UpstreamError';
  constructor(
    message: string,
    readonly status: 502 | 504,
  ) {
    super(message);
  }
}

interface UpstreamState {
  readonly base: string;
  readonly origin: string;
  readonly prefix: string;
  downUntil: number;
  failures: number;
  requests: number;
}

export interface UpstreamStatus {
  readonly url: string;
  readonly up: boolean;
  readonly downForMs: number;
  readonly failures: number;
  readonly requests: number;
}

export interface RequestOptions {
  readonly headers?: OutgoingHttpHeaders;
  /** Retry once on the next upstream (default true). */
  readonly retry?: boolean;
  /** Overrides the pool's idle timeout (a live FLV body never ends, but must keep flowing). */
  readonly idleTimeoutMs?: number;
  /** Called for each upstream attempt (metrics). */
  readonly onAttempt?: (upstream: string) => void;
  /**
   * A held LL-HLS request: its headers timeout, instead of headersTimeoutMs. Its 503 is the upstream's
   * answer once its hold ran out (RFC 8216bis 6.2.5.2), passed through, not a sign of a sick upstream.
   */
  readonly heldTimeoutMs?: number;
}

// A 508 says the tier graph loops: that is configuration, not a sick upstream, so it is neither retried
// nor a reason to mark the upstream down.
const isFailureStatus = (s: number): boolean => s >= 500 && s !== 508;

export class UpstreamPool {
  private readonly states: UpstreamState[];
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 256 });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 256 });

  constructor(
    urls: readonly string[],
    private readonly opts: UpstreamOptions,
    private readonly log: Logger,
  ) {
    if (urls.length === 0) throw new Error('at least one upstream is required');
    this.states = urls.map((u) => {
      const url = new URL(u);
      return {
        base: u,
        origin: url.origin,
        prefix: url.pathname.replace(/\/+$/, ''),
        downUntil: 0,
        failures: 0,
        requests: 0,
      };
    });
  }

  /** Healthy upstreams in configured order, then the down ones, soonest back first (better than nothing). */
  private order(now: number): UpstreamState[] {
    const up = this.states.filter((s) => s.downUntil <= now);
    const down = this.states.filter((s) => s.downUntil > now).sort((a, b) => a.downUntil - b.downUntil);
    return [...up, ...down];
  }

  markDown(base: string, reason: string): void {
    const s = this.states.find((x) => x.base === base);
    if (!s) return;
    s.failures++;
    const wasUp = s.downUntil <= Date.now();
    s.downUntil = Date.now() + this.opts.downMs;
    if (wasUp) this.log.warn({ upstream: base, reason, downMs: this.opts.downMs }, 'upstream marked down');
  }

  status(): UpstreamStatus[] {
    const now = Date.now();
    return this.states.map((s) => ({
      url: s.base,
      up: s.downUntil <= now,
      downForMs: Math.max(0, s.downUntil - now),
      failures: s.failures,
      requests: s.requests,
    }));
  }

  /**
   * GET `path` (absolute, with query) from the best upstream. Resolves with the first non-failure
   * response, or the last failure response when the retry failed too (so its status passes through);
   * rejects with UpstreamError when no upstream answered at all.
   */
  async get(path: string, options: RequestOptions = {}): Promise<UpstreamResponse> {
    const order = this.order(Date.now());
    const attempts = options.retry === false ? 1 : Math.min(2, order.length);
    let lastError: UpstreamError | undefined;
    for (let i = 0; i < attempts; i++) {
      const s = order[i];
      if (!s) break;
      const last = i === attempts - 1;
      options.onAttempt?.(s.base);
      s.requests++;
      try {
        const res = await this.attempt(s, path, options);
        if (!isFailureStatus(res.status) || (res.status === 503 && options.heldTimeoutMs !== undefined)) return res;
        this.markDown(s.base, `status ${res.status}`);
        if (last) return res;
        res.body.resume();
      } catch (err) {
        const e = err instanceof UpstreamError ? err : new UpstreamError(String(err), 502);
        this.markDown(s.base, e.message);
        lastError = e;
      }
    }
    throw lastError ?? new UpstreamError('no upstream', 502);
  }

  private attempt(s: UpstreamState, path: string, options: RequestOptions): Promise<UpstreamResponse> {
    return new Promise((resolve, reject) => {
      const url = s.origin + s.prefix + path;
      const secure = url.startsWith('https:');
      const req = (secure ? https : http).get(url, {
        agent: secure ? this.httpsAgent : this.httpAgent,
        headers: { 'accept-encoding': 'identity', ...options.headers },
      });
      const headersMs = options.heldTimeoutMs ?? this.opts.headersTimeoutMs;
      const headersTimer = setTimeout(() => {
        req.destroy(new UpstreamError(`no response from ${s.base} within ${headersMs} ms`, 504));
      }, headersMs);
      req.once('error', (err) => {
        clearTimeout(headersTimer);
        reject(err instanceof UpstreamError ? err : new UpstreamError(`${s.base}: ${err.message}`, 502));
      });
      req.once('response', (res) => {
        clearTimeout(headersTimer);
        // Idle watchdog on the body via the socket's timeout (a 'data' listener here would switch the
        // body to flowing mode and lose the first chunk before the caller attaches its own).
        const idleMs = options.idleTimeoutMs ?? this.opts.idleTimeoutMs;
        res.setTimeout(idleMs, () => {
          this.markDown(s.base, 'body idle timeout');
          res.destroy(new Error(`${s.base}: no body bytes for ${idleMs} ms`));
        });
        // A keep-alive socket goes back to the pool after 'end': it must not carry this watchdog along.
        res.once('end', () => res.socket?.setTimeout(0));
        res.on('error', () => {});
        resolve({ status: res.statusCode ?? 502, headers: res.headers, body: res, upstream: s.base });
      });
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
