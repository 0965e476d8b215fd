// HTTP-FLV relay: the first viewer of a stream opens one upstream HTTP-FLV connection, parsed with
// FlvReader and published into this edge's own Hub (src/hub/, the one the origin runs too: GOP cache for
// instant start, bytes serialized once and shared, slow viewers handled). Every later viewer is a hub
// subscriber, served by the hub's HTTP-FLV handler.
// The upstream is closed a linger time after the last viewer leaves; when it drops, the relay
// reconnects with backoff (failing over through the pool, locating the stream afresh: it may have moved
// to another origin) while viewers stay connected, up to a grace.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { FlvReader } from '../media/flv/reader.js';
import type { MediaPacket } from '../media/packet.js';
import { TagType } from '../media/packet.js';
import { flvHandler } from '../hub/flv-handler.js';
import type { Hooks } from '../hub/hooks.js';
import type { Hub, PublishOutcome, PublishRefusal } from '../hub/hub.js';
import { classify } from '../hub/out-packet.js';
import { reply } from '../shared/http.js';
import type { Logger } from '../shared/log.js';
import { PUBLICATION_HEADER, PUBLICATION_ID, flvPath, streamKey } from '../shared/url-contract.js';
import type { EdgeMetrics } from './metrics.js';
import type { ShardRouter } from './shard.js';
import { UpstreamError } from './upstream.js';
import { appendVia } from '../shared/via.js';

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

// After a reconnect the upstream replays its GOP cache. When both connections named their publication
// (PUBLICATION_HEADER), the same id means every frame up to the last one forwarded is a duplicate, and
// another id that none is. Without the ids the relay guesses: frames this far behind the last one
// forwarded are duplicates, further back is a different timeline (another upstream, a restarted origin),
// passed on for the hub's timeline to rebase. The guess fails for a new publication younger than this,
// which would be dropped until it passes the old times: only upstreams without the header pay that.
const REPLAY_WINDOW_MS = 15_000;

/** The upstream's publication id, undefined when it sent none (an older or foreign upstream) or a malformed one. */
function publicationOf(headers: IncomingHttpHeaders): string | undefined {
  const id = headers[PUBLICATION_HEADER];
  return typeof id === 'string' && PUBLICATION_ID.test(id) ? id : undefined;
}

/** The hub's publish refusal as HTTP says it, to the viewer that opened the relay. */
function publishRefusal(key: string, reason: PublishRefusal): { status: number; message: string } {
  switch (reason) {
    case 'taken':
      return { status: 409, message: `${key} is already publishing` };
  }
}

class RelaySession {
  /** Every subscriber, sibling workers included: the linger waits for all of them. */
  viewers = 0;
  /** Of which sibling workers relaying this stream from us (--workers): not viewers of the edge. */
  peerViewers = 0;
  /** The latest viewer's query string (a play token, on_play parameters): sent upstream on every connect. */
  query = '';
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
  /** Per track, after a reconnect: dropping the replayed GOP until a frame passes the last one forwarded. */
  private readonly resyncing: Record<'audio' | 'video', boolean> = { audio: false, video: false };
  /** The upstream publication relayed (its PUBLICATION_HEADER), undefined when unknown. */
  private upstreamPublication: string | undefined;
  /** The replay is known to be one (same publication id): every frame up to the last forwarded goes, whatever its age. */
  private replayKnown = false;

  constructor(
    readonly app: string,
    readonly stream: string,
    private readonly relay: FlvRelay,
    hops: readonly string[],
    query: string,
  ) {
    this.backoff = relay.opts.backoffMs ?? 250;
    this.query = query;
    this.ready = this.connect(hops);
  }

  get key(): string {
    return streamKey(this.app, this.stream);
  }

  /** Never rejects: a failure of any kind is a failed attempt, retried or answered like the others. */
  private connect(hops: readonly string[]): Promise<ConnectResult> {
    return this.attempt(hops).catch((err: unknown) => {
      this.relay.log.error({ stream: this.key, err: String(err) }, 'flv relay connect failed');
      return { ok: false, status: 502, message: 'relay failed' };
    });
  }

  private async attempt(hops: readonly string[]): Promise<ConnectResult> {
    const { metrics, log, opts } = this.relay;
    // Routed on every connect: after a sibling's restart the owner's port has changed.
    const { pool, peer } = this.relay.router.route(this.key);
    let up;
    try {
      up = await pool.get(flvPath(this.app, this.stream) + this.query, {
        headers: { via: appendVia(hops, opts.nodeId) },
        stream: { app: this.app, stream: this.stream },
        idleTimeoutMs: opts.idleTimeoutMs ?? 10_000,
        onAttempt: (upstream) => metrics.countUpstreamRequest('flv', upstream, peer),
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
    const publication = publicationOf(up.headers);
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
        return { ok: false, ...publishRefusal(this.key, pub.reason) };
      }
      this.publication = pub;
    } else this.resync(this.publication, publication);
    this.upstreamPublication = publication;
    log.info({ stream: this.key, upstream: up.upstream, reconnects: this.reconnects, publication: this.upstreamPublication }, 'flv relay connected');
    const reader = new FlvReader();
    const body = up.body;
    body.on('data', (chunk: Buffer) => {
      metrics.countUpstreamBytes('flv', chunk.length, peer);
      let packets: MediaPacket[];
      try {
        packets = reader.push(chunk);
      } catch (err) {
        log.warn({ stream: this.key, err: String(err) }, 'bad FLV from upstream');
        body.destroy();
        return;
      }
      // A throw in this listener would end the process: a packet the hub cannot take ends this relay only.
      try {
        for (const p of packets) this.forward(p);
      } catch (err) {
        log.error({ stream: this.key, err: String(err) }, 'flv relay forward failed');
        this.close('forward failed');
      }
    });
    let clean = false;
    body.once('end', () => (clean = true));
    body.once('close', () => {
      if (this.body !== body) return;
      this.body = undefined;
      if (this.closed) return;
      // A clean end means the stream ended upstream (the publisher left): not the upstream's fault.
      if (!clean) pool.markDown(up.upstream, 'flv connection dropped');
      // Either way the stream may come back elsewhere (a publisher failing over to another origin): the
      // reconnect locates it afresh instead of insisting on this upstream.
      pool.lost({ app: this.app, stream: this.stream });
      log.warn({ stream: this.key, upstream: up.upstream, clean }, 'flv upstream dropped; reconnecting');
      this.reconnectLater();
    });
    return { ok: true };
  }

  /** After a reconnect: how the upstream's first frames relate to those forwarded before. */
  private resync(pub: Publication, id: string | undefined): void {
    const known = id !== undefined && this.upstreamPublication !== undefined;
    if (known && id !== this.upstreamPublication) {
      // Another publication (the stream moved to another origin, or was published anew): none of its
      // frames reached our viewers yet, and its times may start anywhere (near 0 for a new publish).
      this.resyncing.audio = this.resyncing.video = false;
      this.relay.log.info({ stream: this.key, from: this.upstreamPublication, to: id }, 'flv relay follows a new publication');
      pub.stream.sourceChanged();
      return;
    }
    this.resyncing.audio = this.resyncing.video = true;
    this.replayKnown = known;
  }

  private forward(p: MediaPacket): void {
    const pub = this.publication;
    if (!pub) return;
    if (p.type !== TagType.Script) {
      const track = p.type === TagType.Video ? 'video' : 'audio';
      const kind = classify(p);
      if (kind !== 'video-header' && kind !== 'audio-header') {
        const last = this.last[track];
        if (this.resyncing[track]) {
          if (last >= 0 && p.timestamp <= last && (this.replayKnown || last - p.timestamp < REPLAY_WINDOW_MS)) return;
          // Past the replay: from here on the upstream's timeline is followed as it is, so a later jump
          // back (a publisher restarting at zero) is never taken for a replay.
          this.resyncing[track] = false;
        }
        this.last[track] = p.timestamp;
      }
    }
    pub.push(p);
  }

  /** scheduleReconnect() from a callback, where a throw would end the process: the relay closes instead. */
  private reconnectLater(): void {
    try {
      this.scheduleReconnect();
    } catch (err) {
      this.relay.log.error({ stream: this.key, err: String(err) }, 'flv relay reconnect failed');
      this.closeFromTimer('reconnect failed');
    }
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
      void this.connect([]).then((r) => {
        if (this.closed || r.ok) return;
        log.info({ stream: this.key, status: r.status, message: r.message }, 'flv reconnect failed');
        this.reconnectLater();
      });
    }, delay);
  }

  addViewer(peer: boolean): void {
    this.viewers++;
    if (peer) this.peerViewers++;
    if (this.linger) clearTimeout(this.linger);
    this.linger = undefined;
  }

  removeViewer(peer: boolean): void {
    this.viewers = Math.max(0, this.viewers - 1);
    if (peer) this.peerViewers = Math.max(0, this.peerViewers - 1);
    if (this.viewers > 0 || this.closed) return;
    this.linger = setTimeout(() => this.closeFromTimer('linger expired'), this.relay.opts.lingerMs);
  }

  /** close() from a timer callback, where a throw would end the process. */
  private closeFromTimer(reason: string): void {
    try {
      this.close(reason);
    } catch (err) {
      this.relay.log.error({ stream: this.key, err: String(err) }, 'flv relay close failed');
    }
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
  private readonly servePeer;
  private readonly peerSockets = new Set<Socket>();
  private peerBytesClosed = 0;

  constructor(
    readonly hub: Hub,
    readonly router: ShardRouter,
    hooks: Hooks,
    readonly metrics: EdgeMetrics,
    readonly log: Logger,
    readonly opts: FlvRelayOptions,
  ) {
    // The edge's on_play hook (if any) is asked for every viewer, also those joining an open relay; the
    // origin's is asked once per upstream connection, with the query of the viewer that opened it. No
    // play-before-publish wait: the relay holds the viewer until the upstream answers.
    this.serveFlv = flvHandler(hub, { hooks });
    // A sibling worker's relay connection is no viewer: its viewers were asked where they arrived.
    this.servePeer = flvHandler(hub);
  }

  /**
   * Serves GET/HEAD /{app}/{stream}.flv from the relay, opening the upstream for the first viewer.
   * `peer` marks a sibling worker relaying the stream from this one (--workers).
   */
  async handle(req: IncomingMessage, res: ServerResponse, app: string, stream: string, hops: readonly string[], peer = false): Promise<void> {
    const key = streamKey(app, stream);
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const query = q < 0 ? '' : url.slice(q);
    let session = this.sessions.get(key);
    if (!session) {
      session = new RelaySession(app, stream, this, hops, query);
      this.sessions.set(key, session);
    } else if (query !== '') {
      // The newest viewer's token expires last: reconnects use it.
      session.query = query;
    }
    // Counted before the await, so a session being set up is not lingered away under this viewer.
    session.addViewer(peer);
    if (peer) this.trackPeerSocket(req.socket);
    let counted = true;
    const release = (): void => {
      if (!counted) return;
      counted = false;
      session.removeViewer(peer);
    };
    req.socket.once('close', release);
    const result = await session.ready;
    if (!result.ok) {
      release();
      // Only the first failure closes it; viewers that joined the same attempt get the same answer.
      if (!session.publication) session.close(result.message);
      reply(res, result.status, result.message);
      return;
    }
    if (req.socket.destroyed) return release();
    await (peer ? this.servePeer : this.serveFlv)(req, res, [app, stream], new URL(req.url ?? '/', 'http://edge.invalid'));
  }

  forget(session: RelaySession): void {
    if (this.sessions.get(session.key) === session) this.sessions.delete(session.key);
  }

  private trackPeerSocket(socket: Socket): void {
    if (this.peerSockets.has(socket)) return;
    this.peerSockets.add(socket);
    socket.once('close', () => {
      this.peerSockets.delete(socket);
      this.peerBytesClosed += socket.bytesWritten;
    });
  }

  /** Bytes the hub wrote to sibling workers: egress is what reaches viewers, so these are left out of it. */
  peerBytes(): number {
    let n = this.peerBytesClosed;
    for (const s of this.peerSockets) n += s.bytesWritten;
    return n;
  }

  /** Viewers of this edge (sibling workers relaying from us are not). */
  viewers(): number {
    let n = 0;
    for (const s of this.sessions.values()) n += s.viewers - s.peerViewers;
    return n;
  }

  status(): { stream: string; viewers: number; peers: number; upstream: string | undefined; reconnects: number }[] {
    return [...this.sessions.values()].map((s) => ({
      stream: s.key,
      viewers: s.viewers - s.peerViewers,
      peers: s.peerViewers,
      upstream: s.upstream,
      reconnects: s.reconnects,
    }));
  }

  closeAll(reason: string): void {
    for (const s of [...this.sessions.values()]) s.close(reason);
  }
}
