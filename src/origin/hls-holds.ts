// Requests an LL-HLS origin holds open: blocking playlist reloads (until a sequence/part is listed) and
// preload-hint parts (until the part opens, then while it streams). Each costs a socket and a timer, so
// they are counted per stream and in all (HoldBudget), and each has a deadline. Waiters of one stream
// are grouped by what they wait for: a change wakes each group once, not each request.

export interface HoldLimits {
  /** Held requests per stream. */
  readonly perStream: number;
  /** Held requests over all streams. */
  readonly total: number;
}

/** The one count of held requests over all streams. */
export class HoldBudget {
  held = 0;
  constructor(readonly limits: HoldLimits) {}
}

export type HoldOutcome = 'ready' | 'timeout' | 'cancelled';

interface Waiter {
  readonly done: (outcome: HoldOutcome) => void;
  timer: NodeJS.Timeout | undefined;
}

interface Group<T> {
  readonly target: T;
  readonly waiters: Set<Waiter>;
}

/**
 * One stream's held requests. A slot is taken with `take()` and given back with the function it returns,
 * exactly once, whenever the request ends (answered, timed out, client gone): the count cannot leak.
 */
export class StreamHolds<T> {
  private readonly groups = new Map<string, Group<T>>();
  /** Slots this stream holds (waiting or streaming). */
  held = 0;

  constructor(
    private readonly budget: HoldBudget,
    private readonly keyOf: (target: T) => string,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** A slot, or undefined when the stream's or the global cap is reached. Call the release once. */
  take(): (() => void) | undefined {
    if (this.held >= this.budget.limits.perStream || this.budget.held >= this.budget.limits.total) return undefined;
    this.held++;
    this.budget.held++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held--;
      this.budget.held--;
    };
  }

  /**
   * Waits for `target`: `done` is called once, with 'ready' from wake(), 'timeout' after `timeoutMs`,
   * or 'cancelled' from cancel() or cancelAll(). The returned function cancels without calling `done`
   * (the client went away).
   */
  wait(target: T, timeoutMs: number, done: (outcome: HoldOutcome) => void): () => void {
    const key = this.keyOf(target);
    let g = this.groups.get(key);
    if (!g) {
      g = { target, waiters: new Set() };
      this.groups.set(key, g);
    }
    const group = g;
    const w: Waiter = { done, timer: undefined };
    group.waiters.add(w);
    w.timer = setTimeout(() => this.finish(key, group, w, 'timeout'), timeoutMs);
    w.timer.unref();
    return () => this.remove(key, group, w);
  }

  /** Answers every waiter whose target `ready` accepts now. */
  wake(ready: (target: T) => boolean): void {
    for (const [key, g] of this.groups) {
      if (!ready(g.target)) continue;
      this.groups.delete(key);
      for (const w of g.waiters) this.settle(w, 'ready');
    }
  }

  /** Answers every waiter with 'cancelled' (the stream is gone or the service stops). */
  cancelAll(): void {
    const groups = [...this.groups.values()];
    this.groups.clear();
    for (const g of groups) for (const w of g.waiters) this.settle(w, 'cancelled');
  }

  /** Requests waiting (not streaming). */
  get waiting(): number {
    let n = 0;
    for (const g of this.groups.values()) n += g.waiters.size;
    return n;
  }

  private finish(key: string, g: Group<T>, w: Waiter, outcome: HoldOutcome): void {
    this.remove(key, g, w);
    this.settle(w, outcome);
  }

  private remove(key: string, g: Group<T>, w: Waiter): void {
    clearTimeout(w.timer);
    g.waiters.delete(w);
    if (g.waiters.size === 0 && this.groups.get(key) === g) this.groups.delete(key);
  }

  // A timer or a wake runs this: nothing may escape into the caller (a packet push) or the event loop.
  private settle(w: Waiter, outcome: HoldOutcome): void {
    clearTimeout(w.timer);
    try {
      w.done(outcome);
    } catch (err) {
      this.onError(err);
    }
  }
}
