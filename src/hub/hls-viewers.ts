// HLS has no connection per viewer, so viewers are estimated: distinct client addresses that fetched a
// playlist within the window. Good enough for load reports and placement. Keyed by address alone (a
// header such as User-Agent is the client's to vary, and would let one client count as thousands),
// pruned on every insert and capped, so a flood of requests can neither grow it nor inflate the load.
// IPv6 addresses count by their /64 (limitKey), since one client can rotate through a whole /64.
import { limitKey } from '../shared/address.js';

const DEFAULT_MAX_HLS_VIEWERS = 100_000;

export class HlsViewers {
  // Insertion order is recency order (an address is re-inserted on touch): expiry stops at the first live one.
  private readonly lastSeen = new Map<string, number>();

  constructor(
    private readonly windowMs = 15_000,
    private readonly maxEntries = DEFAULT_MAX_HLS_VIEWERS,
  ) {}

  touch(address: string, now = Date.now()): void {
    const key = limitKey(address);
    this.lastSeen.delete(key);
    this.lastSeen.set(key, now);
    this.prune(now);
    // Past the cap the oldest go first: the count is then a lower bound, never more than the cap.
    while (this.lastSeen.size > this.maxEntries) {
      const oldest = this.lastSeen.keys().next().value;
      if (oldest === undefined) break;
      this.lastSeen.delete(oldest);
    }
  }

  count(now = Date.now()): number {
    this.prune(now);
    return this.lastSeen.size;
  }

  private prune(now: number): void {
    for (const [k, t] of this.lastSeen) {
      if (now - t <= this.windowMs) break;
      this.lastSeen.delete(k);
    }
  }
}
