// The registry of streams, keyed by app/stream: one publisher each. The origin's RTMP wiring and the
// edge's FLV relay both publish into a hub; HTTP-FLV and RTMP play subscribe to its streams.
import type { MediaPacket } from '../media/packet.js';
import type { Logger } from '../shared/log.js';
import { createLogger } from '../shared/log.js';
import { streamKey } from '../shared/url-contract.js';
import type { FanoutCounters } from './fanout.js';
import { Stream } from './stream.js';
import type { PublisherInfo, StreamObserver, StreamOptions } from './stream.js';
import { DEFAULT_SLOW_VIEWER_LIMITS } from './viewer-policy.js';

export interface HubOptions extends Partial<Omit<StreamOptions, 'writeBatchMs'>> {
  /**
   * Viewer write window, ms (0: every packet at once). No default here: each service states its own
   * (ORIGIN_DEFAULTS, EDGE_DEFAULTS), as an edge's window adds to its origin's.
   */
  readonly writeBatchMs: number;
  /** A second publisher for a live key replaces the first instead of being refused. */
  readonly publishTakeover?: boolean;
  /** How long an ended stream keeps its timeline, so a republish continues it. Default 60 s. */
  readonly idleRetainMs?: number;
  readonly logger?: Logger;
}

/**
 * Why the hub refuses a publish, in its own terms: each protocol says it its own way (RTMP: an onStatus
 * code, rtmp-app.ts; HTTP: a status, the edge's flv-relay.ts). 'taken': the key is live and take-over is off.
 */
export type PublishRefusal = 'taken';

export type PublishOutcome =
  | { ok: true; stream: Stream; push(p: MediaPacket): void; end(): void }
  | { ok: false; reason: PublishRefusal };

export interface HubTotals extends FanoutCounters {
  bytesIn: number;
}

export class Hub {
  private readonly streams = new Map<string, Stream>();
  private readonly idleTimers = new Map<string, NodeJS.Timeout>();
  private readonly observers: StreamObserver[] = [];
  private readonly opts: StreamOptions;
  /** A second publisher replaces the first instead of being refused. */
  private readonly takeover: boolean;
  private readonly idleRetainMs: number;
  readonly log: Logger;
  /** Totals since start; /metrics reads them. */
  readonly totals: HubTotals = { bytesIn: 0, bytesOut: 0, droppedFrames: 0, slowDisconnects: 0 };

  constructor(opts: HubOptions) {
    this.opts = {
      writeBatchMs: opts.writeBatchMs,
      slowViewer: opts.slowViewer ?? DEFAULT_SLOW_VIEWER_LIMITS,
      ...(opts.gop ? { gop: opts.gop } : {}),
      ...(opts.timeline ? { timeline: opts.timeline } : {}),
      ...(opts.republishGraceMs ? { republishGraceMs: opts.republishGraceMs } : {}),
    };
    this.takeover = opts.publishTakeover ?? false;
    this.idleRetainMs = opts.idleRetainMs ?? 60_000;
    this.log = opts.logger ?? createLogger('hub');
  }

  /** Registers an in-process subscriber of every stream (call before streams start). */
  observe(o: StreamObserver): void {
    this.observers.push(o);
  }

  /** The live stream at app/name, or undefined. */
  get(app: string, name: string): Stream | undefined {
    const s = this.streams.get(streamKey(app, name));
    return s?.live ? s : undefined;
  }

  /** Live streams. */
  list(): Stream[] {
    return [...this.streams.values()].filter((s) => s.live);
  }

  /** Why a publish of app/name would be refused now, or undefined when it would start. */
  publishRefusal(app: string, name: string): PublishRefusal | undefined {
    return this.get(app, name) && !this.takeover ? 'taken' : undefined;
  }

  /**
   * Starts publishing app/name. A live key is refused unless take-over is on, in which case the old
   * publisher is closed first. The caller pushes raw packets and calls end() once when done.
   */
  publish(app: string, name: string, publisher: PublisherInfo): PublishOutcome {
    const key = streamKey(app, name);
    const refused = this.publishRefusal(app, name);
    if (refused) return { ok: false, reason: refused };
    let stream = this.streams.get(key);
    if (stream?.publisher) {
      const old = stream.publisher;
      this.log.info({ stream: key, old: old.id, new: publisher.id }, 'publish take-over');
      stream.detach();
      old.close('taken over by another publisher');
    }
    if (!stream) {
      stream = new Stream(app, name, this.opts, this.totals, this.observers, this.log);
      this.streams.set(key, stream);
    }
    const idle = this.idleTimers.get(key);
    if (idle) clearTimeout(idle);
    this.idleTimers.delete(key);
    stream.attach(publisher);
    this.log.info({ stream: key, publisher: publisher.id, remoteAddress: publisher.remoteAddress }, 'publish started');
    const s = stream;
    let ended = false;
    return {
      ok: true,
      stream: s,
      push: (p) => {
        if (ended) return;
        this.totals.bytesIn += p.payload.length;
        s.push(p);
      },
      end: () => {
        if (ended) return;
        ended = true;
        // A taken-over session must not end its successor.
        if (s.publisher !== publisher) return;
        this.unpublish(s);
      },
    };
  }

  /** Ends the publish of a live stream and closes its publisher's connection (revocation, shutdown). */
  kick(app: string, name: string, reason: string): boolean {
    const s = this.get(app, name);
    if (!s?.publisher) return false;
    const p = s.publisher;
    this.unpublish(s);
    p.close(reason);
    return true;
  }

  /** Ends every stream and every viewer kept for a republish (shutdown). */
  closeAll(reason: string): void {
    for (const s of this.list()) this.kick(s.app, s.name, reason);
    for (const s of this.streams.values()) s.endViewers(reason);
    for (const t of this.idleTimers.values()) clearTimeout(t);
    this.idleTimers.clear();
  }

  private unpublish(s: Stream): void {
    this.log.info({ stream: s.key }, 'publish ended');
    s.detach();
    const timer = setTimeout(() => {
      this.idleTimers.delete(s.key);
      if (s.live) return;
      // Viewers kept for a republish must not outlive their stream's entry.
      s.endViewers('stream ended');
      this.streams.delete(s.key);
    }, this.idleRetainMs);
    timer.unref();
    this.idleTimers.set(s.key, timer);
  }
}
