// Play before publish, as SRS and nginx-rtmp allow: a viewer of a stream that is not live yet waits for
// its publisher, up to a time limit. Each waiter holds a socket and a timer, so their number is bounded
// per stream and in total; past a bound the viewer is refused at once.
import type { Stream, StreamObserver } from './stream.js';

export interface PlayWaitLimits {
  /** How long a viewer waits; 0 turns waiting off (a not-live stream is refused at once). */
  readonly timeoutMs: number;
  readonly perStream: number;
  readonly total: number;
}

export const DEFAULT_PLAY_WAIT_LIMITS: PlayWaitLimits = { timeoutMs: 30_000, perStream: 1000, total: 10_000 };

/** The stream once live, or why not: waiting is off, a bound is reached, the time ran out, or it was aborted. */
export type WaitOutcome = Stream | 'off' | 'full' | 'timeout' | 'aborted';

export class PlayWaits implements StreamObserver {
  private readonly waiting = new Map<string, Set<(s: Stream | 'timeout' | 'aborted') => void>>();
  private count = 0;

  constructor(readonly limits: PlayWaitLimits) {}

  /** Viewers waiting now. */
  get size(): number {
    return this.count;
  }

  /** Why a viewer of `key` (app/stream) could not wait now, or undefined when it can. */
  refusal(key: string): 'off' | 'full' | undefined {
    if (this.limits.timeoutMs <= 0) return 'off';
    if (this.count >= this.limits.total || (this.waiting.get(key)?.size ?? 0) >= this.limits.perStream) return 'full';
    return undefined;
  }

  /** Waits for `key` to go live; `signal` aborts the wait (the viewer went away). */
  wait(key: string, signal: AbortSignal): Promise<WaitOutcome> {
    const refused = this.refusal(key);
    if (refused) return Promise.resolve(refused);
    if (signal.aborted) return Promise.resolve('aborted');
    let set = this.waiting.get(key);
    if (!set) {
      set = new Set();
      this.waiting.set(key, set);
    }
    const waiters = set;
    return new Promise<WaitOutcome>((resolve) => {
      const done = (outcome: Stream | 'timeout' | 'aborted'): void => {
        if (!waiters.delete(done)) return;
        this.count--;
        if (waiters.size === 0 && this.waiting.get(key) === waiters) this.waiting.delete(key);
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      const onAbort = (): void => done('aborted');
      const timer = setTimeout(() => done('timeout'), this.limits.timeoutMs);
      timer.unref();
      signal.addEventListener('abort', onAbort, { once: true });
      waiters.add(done);
      this.count++;
    });
  }

  onPublish(stream: Stream): void {
    const waiters = this.waiting.get(stream.key);
    if (waiters) for (const done of [...waiters]) done(stream);
  }

  /** Shutdown: every waiter gives up. */
  abortAll(): void {
    for (const waiters of [...this.waiting.values()]) for (const done of [...waiters]) done('aborted');
  }
}
