// Ownership by hash across the workers of one edge (`--workers N`). Each object (HLS path) and each
// FLV stream (app/stream) belongs to worker hash(key) % N. The owner fetches from the real upstreams; any
// other worker uses the owner's private loopback port as its upstream, like a child tier (Via and all),
// so the whole edge makes one upstream fetch per object and holds one upstream FLV connection per stream.
import { createHash } from 'node:crypto';
import type { Logger } from '../shared/log.js';
import { UpstreamPool, type UpstreamOptions } from './upstream.js';

export interface ShardPosition {
  /** This worker's slot, 0..count-1; a restarted worker takes the slot of the one it replaces. */
  readonly index: number;
  readonly count: number;
}

/** Where the requests for one key go. `peer` tells a sibling worker from a real upstream (metrics). */
export interface UpstreamRoute {
  readonly pool: UpstreamPool;
  readonly peer: boolean;
}

/** The owning slot of `key` among `count` workers. */
export function ownerOf(key: string, count: number): number {
  return createHash('sha1').update(key).digest().readUInt32BE(0) % count;
}

interface Peer {
  readonly port: number;
  readonly route: UpstreamRoute;
}

export class ShardRouter {
  private readonly own: UpstreamRoute;
  /** Slot -> the sibling on its private port; a missing slot (not ready, restarting) is served by us. */
  private peers: (Peer | undefined)[] = [];

  constructor(
    pool: UpstreamPool,
    private readonly position: ShardPosition | undefined,
    private readonly opts: UpstreamOptions,
    private readonly log: Logger,
  ) {
    this.own = { pool, peer: false };
  }

  route(key: string): UpstreamRoute {
    if (!this.position || this.position.count <= 1) return this.own;
    const owner = ownerOf(key, this.position.count);
    if (owner === this.position.index) return this.own;
    // While the owner is down or not yet known, this worker goes upstream itself: a duplicate fetch for
    // a moment is better than failing viewers.
    return this.peers[owner]?.route ?? this.own;
  }

  /** The private ports of all slots, from the primary (null: that worker is not up). */
  setPeers(ports: readonly (number | null)[]): void {
    const next: (Peer | undefined)[] = ports.map((port, i) => {
      if (port === null || i === this.position?.index) return undefined;
      const current = this.peers[i];
      if (current?.port === port) return current;
      // No down time: a sibling is either there or replaced, and a replacement comes with a new map.
      const pool = new UpstreamPool([`http://127.0.0.1:${port}`], { ...this.opts, downMs: 0 }, this.log);
      return { port, route: { pool, peer: true } };
    });
    // Pools of replaced or vanished siblings: their requests in flight fail and viewers retry.
    for (const p of this.peers) if (p && !next.includes(p)) p.route.pool.close();
    this.peers = next;
    this.log.debug({ ports }, 'worker peers updated');
  }

  status(privatePort: number): (ShardPosition & { peers: (number | null)[] }) | undefined {
    if (!this.position) return undefined;
    const { index, count } = this.position;
    const peers = Array.from({ length: count }, (_, i) => (i === index ? privatePort : (this.peers[i]?.port ?? null)));
    return { index, count, peers };
  }

  close(): void {
    for (const p of this.peers) p?.route.pool.close();
    this.peers = [];
  }
}
