// Registration of a node (origin, edge, transcoder) with the control plane: POST /api/nodes once, a
// heartbeat with the node's load every few seconds (re-registering when the signal forgot us, e.g. after
// its restart), DELETE on shutdown. The signal being down never stops the node from serving: failures are
// logged and retried. Every request is signed with the cluster's node key (shared/signed-request.ts): no
// secret is sent.
//
// Several signal instances may be given (they share a Redis registry): the node registers with the first
// that answers and heartbeats there; when that one fails (network, 5xx) it registers with the next one and
// heartbeats there, so the node stays listed on every instance while any instance lives.
import { hostname } from 'node:os';
import { MAX_HEARTBEAT_STREAMS } from './cluster.js';
import type { Heartbeat, NodeKind, NodeLoad, NodeRegistration } from './cluster.js';
import type { Logger } from './log.js';
import { signedFetch } from './signed-request.js';

/** A stable default id, e.g. origin-eu-host1-8080: the same node keeps its id across restarts. */
export const defaultNodeId = (kind: NodeKind, region: string, port: number): string =>
  `${kind}-${region}-${hostname().replace(/[^A-Za-z0-9_-]/g, '-')}-${port}`;

/** The load as the signal accepts it: a node with more streams than a heartbeat may list reports the first ones. */
function capped(load: NodeLoad): NodeLoad {
  if (load.streams.length <= MAX_HEARTBEAT_STREAMS && (load.streamStats?.length ?? 0) <= MAX_HEARTBEAT_STREAMS) return load;
  return {
    ...load,
    streams: load.streams.slice(0, MAX_HEARTBEAT_STREAMS),
    ...(load.streamStats ? { streamStats: load.streamStats.slice(0, MAX_HEARTBEAT_STREAMS) } : {}),
  };
}

/** Signal base URLs from a flag or a config value ("a,b" or a list): trimmed, without trailing slashes, each once. */
export function signalUrls(signal: string | readonly string[]): string[] {
  const parts = typeof signal === 'string' ? signal.split(',') : signal.flatMap((s) => s.split(','));
  return [...new Set(parts.map((s) => s.trim().replace(/\/+$/, '')).filter((s) => s !== ''))];
}

export interface RegistrationOptions {
  /** Signal base URLs (a list, or one comma-separated string), in order of preference. */
  readonly signal: string | readonly string[];
  readonly registration: NodeRegistration;
  readonly load: () => NodeLoad;
  readonly intervalMs: number;
  /** The cluster's node key (keys.node); without it requests go unsigned (an --insecure signal). */
  readonly key?: Buffer | undefined;
  readonly timeoutMs?: number;
}

type BeatOutcome = 'done' | 'forgotten' | 'failed';

export class Registration {
  private readonly signals: readonly string[];
  /** Index in `signals` of the instance registered with (or asked next). */
  private current = 0;
  private timer: NodeJS.Timeout | undefined;
  private registered = false;
  private stopped = false;
  private beating: Promise<void> | undefined;

  constructor(
    private readonly opts: RegistrationOptions,
    private readonly log: Logger,
  ) {
    this.signals = signalUrls(opts.signal);
    if (this.signals.length === 0) throw new Error('registration: at least one signal URL is required');
  }

  get id(): string {
    return this.opts.registration.id;
  }

  get isRegistered(): boolean {
    return this.registered;
  }

  /** The signal instance the node is registered with (or will try next). */
  get signal(): string {
    return this.signals[this.current] as string;
  }

  /** Registers (without waiting on a signal that is down) and starts the heartbeat. */
  async start(): Promise<void> {
    await this.register();
    this.timer = setInterval(() => {
      // One heartbeat at a time: a slow signal must not pile requests up.
      this.beating ??= this.beat().finally(() => (this.beating = undefined));
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.beating;
    if (!this.registered) return;
    try {
      await this.call('DELETE', `/api/nodes/${encodeURIComponent(this.id)}`);
      this.registered = false;
      this.log.info({ id: this.id, signal: this.signal }, 'deregistered from signal');
    } catch (err) {
      this.log.warn({ err: String(err), signal: this.signal }, 'deregistration failed');
    }
  }

  /** From the current instance on, each at most once: the first that accepts the node keeps it. */
  private async register(): Promise<boolean> {
    for (let tried = 0; tried < this.signals.length && !this.stopped; tried++) {
      const signal = this.signal;
      try {
        const res = await this.call('POST', '/api/nodes', this.opts.registration);
        if (res.status >= 200 && res.status < 300) {
          this.registered = true;
          this.log.info({ id: this.id, signal }, 'registered with signal');
          return true;
        }
        // A refusal (bad key, id taken, bad registration) is what every instance would answer.
        if (res.status < 500) {
          this.log.warn({ status: res.status, body: res.body.slice(0, 300), signal }, 'registration refused');
          return false;
        }
        this.log.warn({ status: res.status, signal }, 'registration failed');
      } catch (err) {
        this.log.warn({ err: String(err), signal }, 'signal unreachable; will retry');
      }
      this.current = (this.current + 1) % this.signals.length;
    }
    return false;
  }

  /**
   * A heartbeat; a signal that forgot the node, or failed while others are configured, gets the node
   * registered (again, or with the next instance) and the heartbeat sent at once: a registration lists no
   * streams, and the node's streams must not vanish from GET /api/route for a whole interval.
   */
  private async beat(): Promise<void> {
    for (let round = 0; round < 2 && !this.stopped; round++) {
      if (!this.registered && !(await this.register())) return;
      const outcome = await this.heartbeat();
      if (outcome === 'done') return;
      if (outcome === 'forgotten') {
        this.log.info({ id: this.id, signal: this.signal }, 'signal does not know this node; registering again');
      } else {
        // One instance: it is retried at the next heartbeat, as it still knows the node when it comes back.
        if (this.signals.length === 1) return;
        const from = this.signal;
        this.current = (this.current + 1) % this.signals.length;
        this.log.warn({ id: this.id, from, to: this.signal }, 'signal failed; registering with the next one');
      }
      this.registered = false;
    }
  }

  private async heartbeat(): Promise<BeatOutcome> {
    let hb: Heartbeat;
    try {
      hb = { id: this.id, load: capped(this.opts.load()) };
    } catch (err) {
      // This runs in a timer: a throwing load() costs one heartbeat, not the process.
      this.log.warn({ err: String(err) }, 'node load failed; heartbeat skipped');
      return 'done';
    }
    try {
      const res = await this.call('POST', `/api/nodes/${encodeURIComponent(this.id)}/heartbeat`, hb);
      if (res.status === 404) return 'forgotten';
      if (res.status < 500) {
        if (res.status >= 300) this.log.warn({ status: res.status, signal: this.signal }, 'heartbeat refused');
        return 'done';
      }
      this.log.warn({ status: res.status, signal: this.signal }, 'heartbeat failed');
    } catch (err) {
      this.log.warn({ err: String(err), signal: this.signal }, 'heartbeat failed');
    }
    return 'failed';
  }

  private call(method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> {
    return signedFetch(this.signal + path, { method, json: body, key: this.opts.key, timeoutMs: this.opts.timeoutMs ?? 3000 });
  }
}
