// Retention of recordings: files older than maxAgeMs (since they ended) go, then the oldest files while
// all of them together hold more than maxBytes. The file being written is never deleted. Swept every
// intervalMs and after each file ends (one sweep at a time; a request meanwhile runs one more after it).
import type { Logger } from '../shared/log.js';
import type { Recording, RecordingCatalogue } from './catalogue.js';

export interface RetentionOptions {
  /** 0: no age limit. */
  readonly maxAgeMs: number;
  /** Total bytes of all recordings; 0: no size limit. */
  readonly maxBytes: number;
  readonly intervalMs: number;
}

export class Retention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  /** After stop(): files that end while the origin shuts down (the recorder's last closes) start no sweep. */
  private stopped = false;

  constructor(
    private readonly catalogue: RecordingCatalogue,
    private readonly o: RetentionOptions,
    private readonly log: Logger,
  ) {}

  get enabled(): boolean {
    return this.o.maxAgeMs > 0 || this.o.maxBytes > 0;
  }

  start(): void {
    if (!this.enabled || this.timer || this.stopped) return;
    this.catalogue.onEnded(() => void this.sweep());
    this.timer = setInterval(() => void this.sweep(), this.o.intervalMs);
    this.timer.unref();
    void this.sweep();
  }

  stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    return this.running ?? Promise.resolve();
  }

  /** One sweep (or the one running, followed by another); never rejects. None after stop(). */
  sweep(): Promise<void> {
    if (this.stopped) return this.running ?? Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.sweepOnce(Date.now());
        } catch (err) {
          this.log.error({ err }, 'recordings retention sweep failed');
        }
      } while (this.again && !this.stopped);
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  private async sweepOnce(now: number): Promise<void> {
    const all = this.catalogue.list(); // oldest first
    let total = all.reduce((n, r) => n + r.bytes, 0);
    const doomed: Recording[] = [];
    for (const r of all) {
      if (r.state === 'recording') continue;
      const tooOld = this.o.maxAgeMs > 0 && now - (r.endedAt ?? r.startedAt) > this.o.maxAgeMs;
      const tooMuch = this.o.maxBytes > 0 && total > this.o.maxBytes;
      if (!tooOld && !tooMuch) continue;
      doomed.push(r);
      total -= r.bytes;
    }
    for (const r of doomed) {
      if (await this.catalogue.remove(r.app, r.stream, r.name)) this.log.info({ id: r.id, bytes: r.bytes }, 'recording removed by retention');
    }
  }
}
