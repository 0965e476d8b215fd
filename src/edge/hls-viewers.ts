// HLS has no connection per viewer, so viewers are estimated: distinct clients (address + user agent)
// that fetched a playlist within the window. Good enough for load reports and placement.

export class HlsViewers {
  private readonly lastSeen = new Map<string, number>();

  constructor(private readonly windowMs = 15_000) {}

  touch(client: string, now = Date.now()): void {
    this.lastSeen.delete(client);
    this.lastSeen.set(client, now);
  }

  count(now = Date.now()): number {
    // Oldest first (re-inserted on touch), so expiry stops at the first live entry.
    for (const [k, t] of this.lastSeen) {
      if (now - t <= this.windowMs) break;
      this.lastSeen.delete(k);
    }
    return this.lastSeen.size;
  }
}
