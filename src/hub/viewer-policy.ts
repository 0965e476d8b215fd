// The slow-viewer policy, pure: given how much a viewer has queued and what the next batch holds, decide
// whether it gets the batch, skips it (dropping to the next keyframe) or is cut off. Queued bytes are
// socket.writableLength, so a viewer that stops reading stops being written to and never grows memory.

export interface SlowViewerLimits {
  /** Above this many queued bytes the viewer stops receiving and waits for the next keyframe. */
  readonly maxQueueBytes: number;
  /** It resumes at a keyframe once its queue has drained below this. */
  readonly resumeQueueBytes: number;
  /** Skipping for longer than this disconnects it. */
  readonly maxLagMs: number;
}

export const DEFAULT_SLOW_VIEWER_LIMITS: SlowViewerLimits = {
  maxQueueBytes: 4 * 1024 * 1024,
  resumeQueueBytes: 1024 * 1024,
  maxLagMs: 10_000,
};

export interface ViewerLag {
  /** Not receiving until a keyframe. */
  skipping: boolean;
  /** When it fell behind (ms); undefined for a joiner merely waiting for its first keyframe. */
  behindSince: number | undefined;
}

export type Decision =
  /** Send the batch from index `from` (0: the whole shared batch). */
  | { readonly action: 'send'; readonly from: number; readonly resumed: boolean }
  | { readonly action: 'skip'; readonly startedLagging: boolean }
  | { readonly action: 'disconnect' };

/**
 * `from` is the first batch index the viewer has not had yet; `keyIndex(from)` finds the first random
 * access point at or after an index (-1 if none). Mutates `lag`.
 */
export function decide(
  lag: ViewerLag,
  queued: number,
  from: number,
  keyIndex: (from: number) => number,
  now: number,
  limits: SlowViewerLimits,
): Decision {
  if (!lag.skipping) {
    if (queued <= limits.maxQueueBytes) return { action: 'send', from, resumed: false };
    lag.skipping = true;
    lag.behindSince = now;
    return { action: 'skip', startedLagging: true };
  }
  if (lag.behindSince !== undefined && now - lag.behindSince > limits.maxLagMs) return { action: 'disconnect' };
  const k = queued <= limits.resumeQueueBytes ? keyIndex(from) : -1;
  if (k < 0) return { action: 'skip', startedLagging: false };
  lag.skipping = false;
  lag.behindSince = undefined;
  return { action: 'send', from: k, resumed: true };
}
