// A simulated LL-HLS viewer that loads what hls.js (lowLatencyMode) loads at the live edge, without
// decoding: one plain playlist load and the init segment, then blocking playlist reloads asking for the
// part after the last one listed (_HLS_msn, _HLS_part and, with CAN-SKIP-UNTIL, _HLS_skip=YES, in
// hls.js's order and choice of part), while a second keep-alive connection fetches every newly listed
// part in order. Like hls.js it ignores EXT-X-PRELOAD-HINT. Bodies are counted, not kept (playlists are).
import { parseMediaPlaylist } from '../../src/media/hls/playlist.js';
import type { MediaPlaylist, PlaylistPart } from '../../src/media/hls/playlist.js';
import { KeepAliveConnection } from './http-keepalive.js';
import type { Viewer } from './viewers.js';

/** Bound on one request (blocking reloads are held for at most a few target durations). */
const REQUEST_TIMEOUT_MS = 15_000;
/** Pause before starting over after a failed request. */
const RETRY_MS = 500;
/** Parts fetched behind the live edge at start (hls.js starts PART-HOLD-BACK = 3 parts back). */
const START_PARTS_BACK = 3;
/** `{seq}.{part}.m4s` at the end of a part URI (url-contract's partUri). */
const PART_NAME = /(\d{1,15})\.(\d{1,4})\.m4s$/;

interface PartRef {
  msn: number;
  part: number;
  uri: string;
}

const after = (a: PartRef, b: { msn: number; part: number }): boolean => a.msn > b.msn || (a.msn === b.msn && a.part > b.part);

export class LlhlsClient implements Viewer {
  requests = 0;
  partsFetched = 0;
  errors = 0;
  ended: string | undefined;
  private lastError: string | undefined;
  private readonly playlists: KeepAliveConnection;
  private readonly media: KeepAliveConnection;
  private readonly path: string;
  /** The playlist's directory, which relative URIs are resolved against. */
  private readonly dir: string;
  private readonly queue: PartRef[] = [];
  /** Newest part queued (or fetched). */
  private newest: { msn: number; part: number } | undefined;
  private fetching = false;
  private haveInit = false;
  private readonly startTimer: NodeJS.Timeout;

  /** Starts after `startDelayMs`, so that a crowd does not open in lock step. */
  constructor(playlistUrl: string, startDelayMs: number) {
    const u = new URL(playlistUrl);
    const port = Number(u.port || 80);
    this.playlists = new KeepAliveConnection(u.hostname, port, REQUEST_TIMEOUT_MS);
    this.media = new KeepAliveConnection(u.hostname, port, REQUEST_TIMEOUT_MS);
    this.path = u.pathname;
    this.dir = u.pathname.slice(0, u.pathname.lastIndexOf('/') + 1);
    this.startTimer = setTimeout(() => void this.playlistLoop(), startDelayMs);
  }

  /** Bytes received on both connections, headers included. */
  get bytes(): number {
    return this.playlists.bytes + this.media.bytes;
  }

  /** The last error since the previous call, if any. */
  takeError(): string | undefined {
    const e = this.lastError;
    this.lastError = undefined;
    return e;
  }

  close(): void {
    this.ended ??= 'closed by us';
    clearTimeout(this.startTimer);
    this.playlists.close();
    this.media.close();
  }

  private async playlistLoop(): Promise<void> {
    let directives: URLSearchParams | undefined;
    while (this.ended === undefined) {
      try {
        const body = await this.get(this.playlists, directives ? `${this.path}?${directives.toString()}` : this.path, true);
        const playlist = parseMediaPlaylist(body?.toString('utf8') ?? '');
        if (!this.haveInit) await this.fetchInit(playlist);
        this.enqueueParts(playlist);
        directives = nextDirectives(playlist);
        if (!directives) throw new Error('playlist without parts or blocking reload');
      } catch (e) {
        if (this.ended !== undefined) return;
        this.fail(e);
        directives = undefined;
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  /** Before any part, so the media connection is free. */
  private async fetchInit(p: MediaPlaylist): Promise<void> {
    const map = p.segments.find((s) => s.map)?.map ?? p.openSegment?.map;
    if (map) await this.get(this.media, this.resolve(map), false);
    this.haveInit = true;
  }

  private enqueueParts(p: MediaPlaylist): void {
    const listed: PartRef[] = [];
    const add = (parts: readonly PlaylistPart[] | undefined): void => {
      for (const part of parts ?? []) {
        const m = PART_NAME.exec(part.uri);
        if (m) listed.push({ msn: Number(m[1]), part: Number(m[2]), uri: part.uri });
      }
    };
    for (const s of p.segments) add(s.parts);
    add(p.trailingParts);
    const newest = this.newest;
    const fresh = newest ? listed.filter((r) => after(r, newest)) : listed.slice(-START_PARTS_BACK);
    const last = fresh[fresh.length - 1];
    if (!last) return;
    this.newest = { msn: last.msn, part: last.part };
    this.queue.push(...fresh);
    if (!this.fetching) void this.fetchParts();
  }

  private async fetchParts(): Promise<void> {
    this.fetching = true;
    try {
      for (let r = this.queue.shift(); r && this.ended === undefined; r = this.queue.shift()) {
        try {
          await this.get(this.media, this.resolve(r.uri), false);
          this.partsFetched++;
        } catch (e) {
          if (this.ended === undefined) this.fail(e);
        }
      }
    } finally {
      this.fetching = false;
    }
  }

  /** A playlist URI as a request path: relative to the playlist's directory, or absolute. */
  private resolve(uri: string): string {
    if (uri.startsWith('/')) return uri;
    if (/^https?:\/\//.test(uri)) return new URL(uri).pathname;
    return this.dir + uri;
  }

  private async get(conn: KeepAliveConnection, path: string, keep: boolean): Promise<Buffer | undefined> {
    const r = await conn.get(path, keep);
    this.requests++;
    if (r.status !== 200) throw new Error(`HTTP ${r.status} for ${path}`);
    return r.body;
  }

  private fail(e: unknown): void {
    this.errors++;
    this.lastError = e instanceof Error ? e.message : String(e);
  }
}

/**
 * hls.js's delivery directives after loading `p` (base-playlist-controller, lowLatencyMode): the part
 * after the last one listed, or part 0 of the next segment when the last part closed a segment; skip
 * when the server allows delta updates. Undefined when the playlist cannot block.
 */
export function nextDirectives(p: MediaPlaylist): URLSearchParams | undefined {
  if (!p.serverControl?.canBlockReload) return undefined;
  const endSn = p.mediaSequence + (p.skippedSegments ?? 0) + p.segments.length - 1;
  const trailing = p.trailingParts?.length ?? 0;
  const lastSegParts = p.segments[p.segments.length - 1]?.parts?.length ?? 0;
  const out = new URLSearchParams();
  if (trailing > 0) {
    out.set('_HLS_msn', String(endSn + 1));
    out.set('_HLS_part', String(trailing));
  } else if (lastSegParts > 0) {
    out.set('_HLS_msn', String(endSn + 1));
    out.set('_HLS_part', '0');
  } else {
    out.set('_HLS_msn', String(endSn + 1));
  }
  if (p.serverControl.canSkipUntilS) out.set('_HLS_skip', 'YES');
  return out;
}
