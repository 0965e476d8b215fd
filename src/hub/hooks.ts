// HTTP callbacks as nginx-rtmp and SRS have them: on_publish and on_play must answer 2xx within the
// timeout or the client is refused; on_done is fire-and-forget.
import type { Logger } from '../shared/log.js';

export interface HookUrls {
  readonly onPublish?: string | undefined;
  readonly onPlay?: string | undefined;
  readonly onDone?: string | undefined;
}

export interface HookEvent {
  readonly app: string;
  readonly stream: string;
  readonly query: Readonly<Record<string, string>>;
  readonly remoteAddress: string;
  readonly clientId: string;
}

let nextId = 0;
/** Process-unique id of a client connection (HookEvent.clientId), for hooks and logs. */
export const newClientId = (prefix: string): string => `${prefix}-${(++nextId).toString(36)}-${process.pid.toString(36)}`;

export type HookAnswer = { ok: true } | { ok: false; reason: string };

export class Hooks {
  constructor(
    private readonly urls: HookUrls,
    private readonly log: Logger,
    private readonly timeoutMs = 2000,
  ) {}

  /** Whether an on_play hook is configured (without one, every play is allowed). */
  get asksPlay(): boolean {
    return Boolean(this.urls.onPlay);
  }

  allowPublish(e: HookEvent): Promise<HookAnswer> {
    return this.ask(this.urls.onPublish, 'publish', e);
  }

  allowPlay(e: HookEvent, protocol: string): Promise<HookAnswer> {
    return this.ask(this.urls.onPlay, 'play', e, { protocol });
  }

  /** A publisher or player ended. Failures are logged only. */
  done(e: HookEvent, role: 'publish' | 'play'): void {
    const url = this.urls.onDone;
    if (url) this.notify(url, { action: 'done', role, ...e }, 'on_done');
  }

  /** A fire-and-forget event (on_done, on_record_done): failures are logged only. */
  notify(url: string, body: object, hook: string): void {
    void this.post(url, body).catch((err: unknown) => this.log.warn({ err: String(err), url }, `${hook} hook failed`));
  }

  private async ask(url: string | undefined, action: string, e: HookEvent, extra: object = {}): Promise<HookAnswer> {
    if (!url) return { ok: true };
    try {
      const status = await this.post(url, { action, ...e, ...extra });
      if (status >= 200 && status < 300) return { ok: true };
      return { ok: false, reason: `on_${action} hook answered ${status}` };
    } catch (err) {
      this.log.warn({ err: String(err), url }, `on_${action} hook failed`);
      return { ok: false, reason: `on_${action} hook failed or timed out` };
    }
  }

  private async post(url: string, body: object): Promise<number> {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    await res.body?.cancel();
    return res.status;
  }
}
