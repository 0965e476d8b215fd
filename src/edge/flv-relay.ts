// HTTP-FLV relay: the first viewer of a stream opens one upstream HTTP-FLV connection, parsed with
// FlvReader and published into this edge's own Hub (the origin's, reused: GOP cache for instant start,
// bytes serialized once and shared, slow viewers handled). Every later viewer is a hub subscriber.
// The upstream is closed a linger time after the last viewer leaves; when it drops, the relay
// reconnects with backoff (failing over through the pool) while viewers stay connected, up to a grace.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FlvReader } from '../media/flv/reader.js';
import type { MediaPacket } from '../media/packet.js';
import { TagType } from '../media/packet.js';
import { flvHandler } from '../origin/flv-handler.js';
import { Hooks } from '../origin/hooks.js';
import type { Hub, PublishOutcome } from '../origin/hub.js';
import { classify } from '../origin/out-packet.js';
import type { Logger } from '../shared/log.js';
import { sendError } from './cache-object.js';
import type { EdgeMetrics } from './metrics.js';
import { UpstreamError, type UpstreamPool } from './upstream.js';
import { appendVia } from './via.js';

export interface FlvRelayOptions {
  readonly nodeId: string;
  readonly lingerMs: number;
  readonly graceMs: number;
  /** First reconnect delay; doubles up to maxBackoffMs. */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  /** A live upstream silent this long is treated as dropped. */
  readonly idleTimeoutMs?: number;
}

type Publication = Extract<PublishOutcome, { ok: true }>;
type ConnectResult = { ok: true } | { ok: false; status: number; message: string };

// After a reconnect the upstream replays its GOP cache: frames this far behind the last one forwarded
// are duplicates of what viewers already have. Further back means a different timeline (another
// upstream, a restarted origin): those pass, and the hub's timeline rebases them.
const REPLAY_WINDOW_MS = 15_000;

class RelaySession {
  viewers = 0;
  closed = false;
  publication: Publication | undefined;
  ready: Promise<ConnectResult>;
  upstream: string | undefined;
  reconnects = 0;
  private body: IncomingMessage | undefined;
  private linger: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private graceDeadline = 0;
  private backoff: number;
  private readonly last: Record<'audio' | 'video', number> = { audio: -1, video: -1 };
  private resyncing = false;

  constructor(
    readonly app: string,
    readonly stream: string,
    private readonly relay: FlvRelay,
    hops: readonly string[],
  ) {
    this.backoff = relay.opts.backoffMs ?? 250;
    this.ready = this.connect(hops);
  }

  get key(): string {
    return `${this.app}/${this.stream}`;
  }

  private async connect(hops: readonly string[]): Promise<ConnectResult> {
    const { pool, metrics, log, opts } = this.relay;
    let up;
    try {
      up = await pool.get(`/${this.app}/${this.stream}.flv`, {
        headers: { via: appendVia(hops, opts.nodeId) },
        idleTimeoutMs: opts.idleTimeoutMs ?? 10_000,
        onAttempt: (upstream) => metrics.upstreamRequests.inc({ kind: 'flv', upstream }),
      });
    } catch (err) {
      const e = err instanceof UpstreamError ? err : new UpstreamError(String(err), 502);
      return { ok: false, status: e.status, message: e.status === 504 ? 'upstream timeout' : 'upstream unavailable' };
    }
    if (this.closed) {
      up.body.destroy();
      return { ok: false, status: 503, message: 'relay closed' };
    }
    if (up.status !== 200) {
      up.body.resume();
      return { ok: false, status: up.status, message: `upstream answered ${up.status}` };
    }
    this.upstream = up.upstream;
    this.body = up.body;
    this.backoff = opts.backoffMs ?? 250;
    this.graceDeadline = 0;
    if (!this.publication) {
      const pub = this.relay.hub.publish(this.app, this.stream, {
        id: `relay-${opts.nodeId}-${this.key}`,
        remoteAddress: up.upstream,
        query: {},
        close: (reason) => this.close(reason),
      });
      if (!pub.ok) {
        up.body.destroy();
        return { ok: false, status: 409, message: pub.description };
      }
      this.publication = pub;
    }
    log.info({ stream: this.key, upstream: up.upstream, reconnects: this.reconnects }, 'flv relay connected');
    const reader = new FlvReader();
    const body = up.body;
    body.on('data', (chunk: Buffer) => {
      metrics.upstreamBytes.inc({ kind: 'flv' }, chunk.length);
      let packets: MediaPacket[];
      try {
        packets = reader.push(chunk);
      } catch (err) {
        log.warn({ stream: this.key, err: String(err) }, 'bad FLV from upstream');
        body.destroy();
        return;
      }
      for (const p of packets) this.forward(p);
    });
    let clean = false;
    body.once('end', () => (clean = true));
    body.once('close', () => {
      if (this.body !== body) return;
      this.body = undefined;
      if (this.closed) return;
      // A clean end means the stream ended upstream (the publisher left): not the upstream's fault.
      if (!clean) pool.markDown(up.upstream, 'flv connection dropped');
      log.warn({ stream: this.key, upstream: up.upstream, clean }, 'flv upstream dropped; reconnecting');
      this.scheduleReconnect();
    });
    return { ok: true };
  }

  private forward(p: MediaPacket): void {
    const pub = this.publication;
    if (!pub) return;
    if (p.type !== TagType.Script) {
      const track = p.type === TagType.Video ? 'video' : 'audio';
      const kind = classify(p);
      if (this.resyncing && kind !== 'video-header' && kind !== 'audio-header') {
        const last = this.last[track];
        if (last >= 0 && p.timestamp <= last && last - p.timestamp < REPLAY_WINDOW_MS) return;
      }
      if (kind !== 'video-header' && kind !== 'audio-header') this.last[track] = p.timestamp;
    }
    pub.push(p);
  }

  private scheduleReconnect(): void {
    const { opts, log } = this.relay;
    const now = Date.now();
    if (this.graceDeadline === 0) this.graceDeadline = now + opts.graceMs;
    if (now >= this.graceDeadline || this.viewers === 0) {
      this.close(this.viewers === 0 ? 'no viewers while upstream down' : 'upstream did not come back within the grace');
      return;
    }
    const delay = Math.min(this.backoff, this.graceDeadline - now);
    this.backoff = Math.min(this.backoff * 2, opts.maxBackoffMs ?? 2000);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.reconnects++;
      this.resyncing = true;
      void this.connect([]).then((r) => {
        if (this.closed || r.ok) return;
        log.info({ stream: this.key, status: r.status, message: r.message }, 'flv reconnect failed');
        this.scheduleReconnect();
      });
    }, delay);
  }

  addViewer(): void {
    this.viewers++;
    if (this.linger) clearTimeout(this.linger);
    this.linger = undefined;
  }

  removeViewer(): void {
    this.viewers = Math.max(0, this.viewers - 1);
    if (this.viewers > 0 || this.closed) return;
    this.linger = setTimeout(() => this.close('linger expired'), this.relay.opts.lingerMs);
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    if (this.linger) clearTimeout(this.linger);
    if (this.retry) clearTimeout(this.retry);
    this.relay.log.info({ stream: this.key, reason }, 'flv relay closed');
    this.body?.destroy();
    this.body = undefined;
    // Ends the local stream: its viewers get a clean end of response.
    this.publication?.end();
    this.relay.forget(this);
  }
}

export class FlvRelay {
  private readonly sessions = new Map<string, RelaySession>();
  private readonly serveFlv;

  constructor(
    readonly hub: Hub,
    readonly pool: UpstreamPool,
    readonly metrics: EdgeMetrics,
    readonly log: Logger,
    readonly opts: FlvRelayOptions,
  ) {
    // No on_play hooks at the edge: the origin's hooks guard the source (a gap noted in the docs).
    this.serveFlv = flvHandler(hub, new Hooks({}, log));
  }

  /** Serves GET/HEAD /{app}/{stream}.flv from the relay, opening the upstream for the first viewer. */
  async handle(req: IncomingMessage, res: ServerResponse, app: string, stream: string, hops: readonly string[]): Promise<void> {
    const key = `${app}/${stream}`;
    let session = this.sessions.get(key);
    if (!session) {
      session = new RelaySession(app, stream, this, hops);
      this.sessions.set(key, session);
    }
    // Counted before the await, so a session being set up is not lingered away under this viewer.
    session.addViewer();
    let counted = true;
    const release = (): void => {
      if (!counted) return;
      counted = false;
      session.removeViewer();
    };
    req.socket.once('close', release);
    const result = await session.ready;
    if (!result.ok) {
      release();
      // Only the first failure closes it; viewers that joined the same attempt get the same answer.
      if (!session.publication) session.close(result.message);
      sendError(res, result.status, result.message);
      return;
    }
    if (req.socket.destroyed) return release();
    await this.serveFlv(req, res, [app, stream], new URL(req.url ?? '/', 'http://edge.invalid'));
  }

  forget(session: RelaySession): void {
    if (this.sessions.get(session.key) === session) this.sessions.delete(session.key);
  }

  viewers(): number {
    let n = 0;
    for (const s of this.sessions.values()) n += s.viewers;
    return n;
  }

  status(): { stream: string; viewers: number; upstream: string | undefined; reconnects: number }[] {
    return [...this.sessions.values()].map((s) => ({ stream: s.key, viewers: s.viewers, upstream: s.upstream, reconnects: s.reconnects }));
  }

  closeAll(reason: string): void {
    for (const s of [...this.sessions.values()]) s.close(reason);
  }
}
