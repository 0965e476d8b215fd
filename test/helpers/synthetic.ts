// Test helper: an in-process publisher pushing synthetic frames straight into a hub (no RTMP, no
// ffmpeg), for tests that need a precise, high byte rate (slow viewers, fan-out).
import type { Hub } from '../../src/hub/hub.js';
import { streamKey } from '../../src/shared/url-contract.js';
import { aacFrame, aacHeader, videoHeader, videoInter, videoKey } from './packets.js';

export interface SyntheticPublisher {
  /** Frames pushed so far. */
  readonly frames: () => number;
  stop(): void;
}

export function publishSynthetic(
  hub: Hub,
  app: string,
  name: string,
  opts: { frameBytes?: number; intervalMs?: number; gop?: number; audio?: boolean } = {},
): SyntheticPublisher {
  const out = hub.publish(app, name, { id: `synthetic-${name}`, remoteAddress: '127.0.0.1', query: {}, close: () => undefined });
  if (!out.ok) throw new Error(`publish of ${streamKey(app, name)} refused: ${out.reason}`);
  const interval = opts.intervalMs ?? 40;
  const gop = opts.gop ?? 25;
  const audio = opts.audio ?? true;
  out.push(videoHeader());
  if (audio) out.push(aacHeader());
  let n = 0;
  const timer = setInterval(() => {
    const t = n * interval;
    out.push(n % gop === 0 ? videoKey(t, opts.frameBytes) : videoInter(t, opts.frameBytes));
    if (audio) out.push(aacFrame(t + 1));
    n++;
  }, interval);
  return {
    frames: () => n,
    stop: () => {
      clearInterval(timer);
      out.end();
    },
  };
}
