// The delay a transcoded rung adds over HTTP-FLV. x264 drops the source's SEI stamps, but a rung encoded
// with -copyts keeps the source's presentation times: the same PTS on the source's and the rung's
// connections is the same picture, so the difference of their arrival times is what the rung adds.
import type http from 'node:http';
import { parseVideoTagHeader } from '../../src/media/flv/tag-header.js';
import { TagType } from '../../src/media/packet.js';
import { nowMs } from './sei.js';
import { getFlv } from './viewers.js';

/** Frames kept per connection (10 minutes at 30 fps): a long run cannot grow without bound. */
const MAX_FRAMES = 18_000;

/** An HTTP-FLV viewer recording when each video frame (by PTS, ms) arrived. */
export class FlvArrivals {
  /** PTS (ms) -> arrival time (nowMs) of the video frames since the last take(). */
  private frames = new Map<number, number>();
  ended: string | undefined;
  private readonly req: http.ClientRequest;

  constructor(url: string) {
    this.req = getFlv(
      url,
      (p) => {
        if (p.type !== TagType.Video || this.frames.size >= MAX_FRAMES) return;
        const h = parseVideoTagHeader(p.payload);
        if (h.kind === 'coded-frames') this.frames.set(p.timestamp + h.compositionTimeMs, nowMs());
      },
      (why) => (this.ended ??= why),
    );
  }

  /** The frames recorded since the previous take(). */
  take(): Map<number, number> {
    const f = this.frames;
    this.frames = new Map();
    return f;
  }

  close(): void {
    this.ended ??= 'closed by us';
    this.req.destroy();
  }
}

/**
 * Arrival of each rung frame minus arrival of the source frame with the nearest PTS within
 * `toleranceMs` (an encoder's time base may round a PTS by a ms or so); rung frames without a
 * counterpart are left out.
 */
export function addedDelays(source: ReadonlyMap<number, number>, rung: ReadonlyMap<number, number>, toleranceMs: number): number[] {
  const pts = [...source.keys()].sort((a, b) => a - b);
  const out: number[] = [];
  for (const [p, t] of rung) {
    // Binary search for the first source PTS >= p; the nearest is it or the one before.
    let lo = 0;
    let hi = pts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((pts[mid] ?? 0) < p) lo = mid + 1;
      else hi = mid;
    }
    let best: number | undefined;
    for (const c of [pts[lo - 1], pts[lo]]) {
      if (c !== undefined && Math.abs(c - p) <= toleranceMs && (best === undefined || Math.abs(c - p) < Math.abs(best - p))) best = c;
    }
    const ts = best === undefined ? undefined : source.get(best);
    if (ts !== undefined) out.push(t - ts);
  }
  return out;
}
