// Held LL-HLS requests: the upstream answers a blocking playlist reload (_HLS_msn) once that version
// exists, and a part (a preload hint) once it opens, then streams it. The edge must wait for their
// response headers longer than the upstream holds them, or it would give up on answers that are on
// their way: at least the pool's heldTimeoutMs, and a few target durations of the stream's playlist as
// last seen (the origin holds either for up to 3, then answers 503).
import { PART_ROUTE, playlistPath } from '../shared/url-contract.js';

export const isPartPath = (path: string): boolean => PART_ROUTE.test(path);

/** Target durations waited for a blocking reload: the origin's 3 (ORIGIN_DEFAULTS.hlsHoldTargets) and one of margin. */
export const HOLD_TARGETS = 4;
/** Playlists remembered; the least recently updated is forgotten first (ended streams). */
const MAX_PLAYLISTS = 10_000;
/** The tag sits in a playlist's first lines; only that much of the body is read. */
const HEAD_BYTES = 1024;
const TARGET_DURATION = /#EXT-X-TARGETDURATION:(\d{1,5})\s/;

export class HoldTimeouts {
  private readonly targetMs = new Map<string, number>();

  constructor(private readonly floorMs: number) {}

  /** Notes the target duration of the playlist at `path` from a 200 body. */
  onPlaylist(path: string, body: Buffer): void {
    const m = TARGET_DURATION.exec(body.toString('latin1', 0, Math.min(body.length, HEAD_BYTES)));
    if (!m) return;
    this.targetMs.delete(path);
    this.targetMs.set(path, Number(m[1]) * 1000);
    if (this.targetMs.size > MAX_PLAYLISTS) {
      const oldest = this.targetMs.keys().next().value;
      if (oldest !== undefined) this.targetMs.delete(oldest);
    }
  }

  /** How long to wait for the headers of a blocking reload of the playlist at `path`, or of the part at `path`. */
  timeoutMs(path: string): number {
    const part = PART_ROUTE.exec(path);
    const playlist = part ? playlistPath(part[1] ?? '', part[2] ?? '') : path;
    return Math.max(this.floorMs, HOLD_TARGETS * (this.targetMs.get(playlist) ?? 0));
  }

  get playlists(): number {
    return this.targetMs.size;
  }
}
