// A plain-HLS viewer for the load generator, requesting what hls.js requests at the live edge: the
// media playlist every target duration, and each segment that newly appears in it, once, over one
// kept-alive connection. Bodies are counted, not kept (only playlists are read).
import http from 'node:http';
import type { Viewer } from './viewers.js';

const SEGMENT_LINE = /^[^#\s][^\r\n]*$/gm;
const TARGET_DURATION = /^#EXT-X-TARGETDURATION:(\d+)/m;

export class HlsCounter implements Viewer {
  bytes = 0;
  requests = 0;
  ended: string | undefined;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  private readonly base: URL;
  /** Segment URIs already fetched (or skipped at the start); trimmed to the playlist's window. */
  private seen = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private started = false;

  constructor(url: string) {
    this.base = new URL(url);
    // A random phase within one reload period: 500 viewers do not reload in lockstep.
    this.timer = setTimeout(() => void this.reload(), Math.random() * 2000);
  }

  private async reload(): Promise<void> {
    if (this.ended !== undefined) return;
    const startedAt = performance.now();
    let periodMs = 2000;
    try {
      const text = (await this.get(this.base.pathname + this.base.search, true)) ?? '';
      periodMs = Number(TARGET_DURATION.exec(text)?.[1] ?? 2) * 1000;
      const uris = text.match(SEGMENT_LINE) ?? [];
      // A viewer joins with the newest segment (hls.js starts a few back, which only shifts the start);
      // from then on each segment the playlist adds is loaded once.
      const fresh = this.started ? uris.filter((u) => !this.seen.has(u)) : uris.slice(-1);
      this.started = true;
      // Remembered: what the playlist still lists, other than what is about to be loaded.
      this.seen = new Set(uris.filter((u) => !fresh.includes(u)));
      for (const u of fresh) {
        const segment = new URL(u, this.base);
        await this.get(segment.pathname + segment.search, false);
        this.seen.add(u);
      }
    } catch (e) {
      this.end(e instanceof Error ? e.message : String(e));
      return;
    }
    // Reloads keep their cadence from the start of each one, as hls.js's do, however long the fetches took.
    if (this.ended === undefined) this.timer = setTimeout(() => void this.reload(), Math.max(0, periodMs - (performance.now() - startedAt)));
  }

  /** GETs `path`; returns the body text when `text`, else only counts it. Anything but a 200 ends the viewer. */
  private get(path: string, text: boolean): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      const req = http.get({ host: this.base.hostname, port: this.base.port, path, agent: this.agent }, (res) => {
        this.requests++;
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`HTTP ${res.statusCode ?? 0} for ${path}`));
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => {
          this.bytes += d.length;
          if (text) chunks.push(d);
        });
        res.on('end', () => resolve(text ? Buffer.concat(chunks).toString('utf8') : undefined));
        res.on('error', reject);
      });
      req.on('error', reject);
    });
  }

  private end(why: string): void {
    this.ended ??= why;
    clearTimeout(this.timer);
    this.agent.destroy();
  }

  close(): void {
    this.end('closed by us');
  }
}
