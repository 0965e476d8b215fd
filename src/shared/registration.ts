// Registration of a node (origin or edge) with the control plane: POST /api/nodes once, a heartbeat with
// the node's load every few seconds (re-registering when the signal forgot us, e.g. after its restart),
// DELETE on shutdown. The signal being down never stops the node from serving: failures are logged and
// retried. Every request is signed with the cluster's node key (shared/signed-request.ts): no secret is sent.
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

export interface RegistrationOptions {
  readonly signal: string;
  readonly registration: NodeRegistration;
  readonly load: () => NodeLoad;
  readonly intervalMs: number;
  /** The cluster's node key (keys.node); without it requests go unsigned (an --insecure signal). */
  readonly key?: Buffer | undefined;
  readonly timeoutMs?: number;
}

export class Registration {
  private timer: NodeJS.Timeout | undefined;
  private registered = false;
  private stopped = false;
  private beating: Promise<void> | undefined;

  constructor(
    private readonly opts: RegistrationOptions,
    private readonly log: Logger,
  ) {}

  get id(): string {
    return this.opts.registration.id;
  }

  get isRegistered(): boolean {
    return this.registered;
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
      this.log.info({ id: this.id }, 'deregistered from signal');
    } catch (err) {
      this.log.warn({ err: String(err) }, 'deregistration failed');
    }
  }

  private async register(): Promise<void> {
    try {
      const res = await this.call('POST', '/api/nodes', this.opts.registration);
      if (res.status >= 200 && res.status < 300) {
        this.registered = true;
        this.log.info({ id: this.id, signal: this.opts.signal }, 'registered with signal');
      } else {
        this.log.warn({ status: res.status, body: res.body.slice(0, 300) }, 'registration refused');
      }
    } catch (err) {
      this.log.warn({ err: String(err), signal: this.opts.signal }, 'signal unreachable; will retry');
    }
  }

  private async beat(): Promise<void> {
    if (this.stopped) return;
    if (!this.registered) return this.register();
    try {
      // Inside the try: a throwing load() must cost one heartbeat, not the process (this runs in a timer).
      const hb: Heartbeat = { id: this.id, load: capped(this.opts.load()) };
      const res = await this.call('POST', `/api/nodes/${encodeURIComponent(this.id)}/heartbeat`, hb);
      if (res.status === 404) {
        this.registered = false;
        this.log.info({ id: this.id }, 'signal does not know this node; registering again');
        await this.register();
      } else if (res.status >= 300) {
        this.log.warn({ status: res.status }, 'heartbeat refused');
      }
    } catch (err) {
      this.log.warn({ err: String(err) }, 'heartbeat failed');
    }
  }

  private call(method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> {
    return signedFetch(this.opts.signal + path, { method, json: body, key: this.opts.key, timeoutMs: this.opts.timeoutMs ?? 3000 });
  }
}
