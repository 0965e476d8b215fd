// The upstreams of an edge (origins or parent edges) and failover between them. An upstream that fails
// (connect error, 5xx, timeout) is marked down for a while and the next one is used; a request that
// fails before its response starts is retried once on the next upstream. With a locator (locator.ts), a
// request for a stream asks the upstreams the locator names for it, in turn: a 404 there means "not here",
// so the next one is asked, and the one that answers is remembered.
import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Logger } from '../shared/log.js';
import type { Locator, LocatorCounts, StreamRef } from './locator.js';

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
  /** The stream the path belongs to: with a locator, the upstreams asked are the ones it names for it. */
  readonly stream?: StreamRef;
}

/** Upstreams asked for one request at most, 404s included. */
const MAX_TRIES = 8;
/** Upstreams a locator named that are not configured (origins from route answers), kept at most. */
const MAX_LOCATED_STATES = 64;

/** An upstream base as states are keyed: without trailing slashes (route answers give none). */
export const baseOf = (u: string): string => u.replace(/\/+$/, '');

// A 508 says the tier graph loops: that is configuration, not a sick upstream, so it is neither retried
// nor a reason to mark the upstream down.
const isFailureStatus = (s: number): boolean => s >= 500 && s !== 508;

export class UpstreamPool {
  private readonly states: UpstreamState[];
  /** States of located upstreams that are not configured, oldest first. */
  private readonly located = new Map<string, UpstreamState>();
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 256 });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 256 });

  constructor(
    urls: readonly string[],
    private readonly opts: UpstreamOptions,
    private readonly log: Logger,
    /** Locates streams (requests that name one); sibling-worker pools have none. */
    private readonly locator?: Locator,
  ) {
    if (urls.length === 0) throw new Error('at least one upstream is required');
    this.states = urls.map((u) => newState(baseOf(u)));
  }

  /** Healthy upstreams in the given order, then the down ones, soonest back first (better than nothing). */
  private order(states: readonly UpstreamState[], now: number): UpstreamState[] {
    const up = states.filter((s) => s.downUntil <= now);
    const down = states.filter((s) => s.downUntil > now).sort((a, b) => a.downUntil - b.downUntil);
    return [...up, ...down];
  }

  private find(base: string): UpstreamState | undefined {
    const b = baseOf(base);
    return this.states.find((x) => x.base === b) ?? this.located.get(b);
  }

  /** The state of a located base, configured or not: one down-marking per upstream whoever names it. */
  private stateOf(base: string): UpstreamState {
    const known = this.find(base);
    if (known) return known;
    const s = newState(baseOf(base));
    this.located.set(s.base, s);
    if (this.located.size > MAX_LOCATED_STATES) {
      const oldest = this.located.keys().next().value;
      if (oldest !== undefined) this.located.delete(oldest);
    }
    return s;
  }

  /** Located bases as order() ranks them, each with its one state. */
  private locatedOrder(bases: readonly string[]): UpstreamState[] {
    return this.order(bases.map((b) => this.stateOf(b)), Date.now());
  }

  /** A stream's upstream went away (an FLV body dropped, a body cut): the next request locates it afresh. */
  lost(ref: StreamRef): void {
    this.locator?.lost(ref);
  }

  /** What the locator did so far (undefined without one). */
  locatorCounts(): LocatorCounts | undefined {
    return this.locator?.counts();
  }

  markDown(base: string, reason: string): void {
    const s = this.find(base);
    if (!s) return;
    s.failures++;
    const wasUp = s.downUntil <= Date.now();
    s.downUntil = Date.now() + this.opts.downMs;
    if (wasUp) this.log.warn({ upstream: base, reason, downMs: this.opts.downMs }, 'upstream marked down');
  }

  status(): UpstreamStatus[] {
    const now = Date.now();
    return [...this.states, ...this.located.values()].map((s) => ({
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
   * rejects with UpstreamError when no upstream answered at all. With a locator and `options.stream`, the
   * locator's candidates are asked in turn and a 404 moves on to the next (the last 404 is the answer when
   * none has the stream); a 404 that followed a cached route answer asks the signal once more.
   */
  async get(path: string, options: RequestOptions = {}): Promise<UpstreamResponse> {
    const ref = options.stream;
    const locator = this.locator;
    if (!ref || !locator) return this.first(this.order(this.states, Date.now()), path, options, false);
    const c = await locator.candidates(ref);
    const tried = new Set<string>();
    let res = await this.first(this.locatedOrder(c.bases), path, options, true, tried);
    if (res.status === 404 && c.cachedRoute > 0) {
      // The signal's answer was reused and is stale (the stream moved or ended there): ask it again, once.
      // The 404 is held from here: asking the signal (a timeout per instance) is no silence of its upstream's.
      locator.lost(ref);
      const held = hold(res);
      const again = (await locator.candidates(ref)).bases.filter((b) => !tried.has(baseOf(b)));
      const second = again.length > 0 ? await this.first(this.locatedOrder(again), path, options, true, tried).catch(() => undefined) : undefined;
      if (second) this.discard(held, options);
      res = second ?? this.release(held, options);
    }
    if (res.status === 200) locator.found(ref, res.upstream);
    // Nobody has it where the signal or memory said: the next request looks it up afresh. A stream that
    // was never found costs nothing more (the signal's not-found answer stays cached).
    else if (res.status === 404 && c.hinted) locator.lost(ref);
    return res;
  }

  /** The first answer of `order` as get() describes it; `moveOn`: a 404 asks the next one. */
  private async first(order: readonly UpstreamState[], path: string, options: RequestOptions, moveOn: boolean, tried?: Set<string>): Promise<UpstreamResponse> {
    const failuresAllowed = options.retry === false ? 1 : 2;
    let failures = 0;
    let tries = 0;
    let lastError: UpstreamError | undefined;
    let lastFailure: UpstreamResponse | undefined;
    let notFound: UpstreamResponse | undefined;
    for (const s of order) {
      if (tries === MAX_TRIES || failures === failuresAllowed) break;
      tries++;
      tried?.add(s.base);
      options.onAttempt?.(s.base);
      s.requests++;
      try {
        const res = await this.attempt(s, path, options);
        if (moveOn && res.status === 404) {
          if (notFound) this.discard(notFound, options);
          notFound = hold(res);
          continue;
        }
        if (!isFailureStatus(res.status) || (res.status === 503 && options.heldTimeoutMs !== undefined)) {
          if (notFound) this.discard(notFound, options);
          lastFailure?.body.resume();
          return res;
        }
        this.markDown(s.base, `status ${res.status}`);
        failures++;
        lastFailure?.body.resume();
        lastFailure = res;
      } catch (err) {
        const e = err instanceof UpstreamError ? err : new UpstreamError(String(err), 502);
        this.markDown(s.base, e.message);
        failures++;
        lastError = e;
        // As before locating: a failure status followed by no answer at all is a 502/504.
        lastFailure?.body.resume();
        lastFailure = undefined;
      }
    }
    if (notFound) {
      lastFailure?.body.resume();
      return this.release(notFound, options);
    }
    if (lastFailure) return lastFailure;
    throw lastError ?? new UpstreamError('no upstream', 502);
  }

  /** A held 404 becomes the answer: its body's idle watchdog runs again. */
  private release(res: UpstreamResponse, options: RequestOptions): UpstreamResponse {
    res.body.socket?.setTimeout(options.idleTimeoutMs ?? this.opts.idleTimeoutMs);
    return res;
  }

  /** A held 404 another answer replaced: read to its end, under its watchdog again (a stalled body must not keep its socket for ever). */
  private discard(res: UpstreamResponse, options: RequestOptions): void {
    this.release(res, options).body.resume();
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

/**
 * A 404 kept unread while the next upstream is asked, which may take longer (a held LL-HLS request) than
 * the body's idle watchdog allows: that is no silence of this upstream's, so the watchdog waits.
 */
function hold(res: UpstreamResponse): UpstreamResponse {
  res.body.socket?.setTimeout(0);
  return res;
}

function newState(base: string): UpstreamState {
  const url = new URL(base);
  return { base, origin: url.origin, prefix: url.pathname.replace(/\/+$/, ''), downUntil: 0, failures: 0, requests: 0 };
}
