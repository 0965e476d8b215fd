// A tiny LL-HLS upstream's pieces for the edge tests (Node edges and nginx): the playlists an origin
// writes, a log of the requests it got with their queries, and a streaming GET that counts bytes as
// they arrive.
import http from 'node:http';
import { writeMediaPlaylist } from '../../src/media/hls/playlist.js';
import { LLHLS_PARAMS } from '../../src/shared/url-contract.js';

export const PLAYLIST = '/live/s.m3u8';
export const M3U8 = { 'content-type': 'application/vnd.apple.mpegurl' } as const;

/** An LL-HLS playlist whose open segment `msn` has `parts` parts, as an origin writes it. */
export function llPlaylist(msn: number, parts: number): string {
  const part = (seq: number, i: number) => ({ uri: `s/${seq}.${i}.m4s`, durationS: 0.25, independent: i === 0 });
  return writeMediaPlaylist({
    targetDurationS: 1,
    mediaSequence: msn - 2,
    discontinuitySequence: 0,
    segments: [msn - 2, msn - 1].map((seq, j) => ({
      uri: `s/${seq}.m4s`,
      durationS: 1,
      discontinuity: false,
      ...(j === 0 ? { map: `s/init-${msn - 2}.mp4` } : { parts: [0, 1, 2, 3].map((i) => part(seq, i)) }),
    })),
    endList: false,
    partTargetS: 0.25,
    serverControl: { canBlockReload: true, partHoldBackS: 0.75, canSkipUntilS: 6 },
    trailingParts: Array.from({ length: parts }, (_, i) => part(msn, i)),
    preloadHint: { uri: `s/${msn}.${parts}.m4s` },
  });
}

/** Requests the upstream got, by path and query. */
export class Log {
  readonly seen = new Map<string, number>();
  add(url: string): void {
    this.seen.set(url, (this.seen.get(url) ?? 0) + 1);
  }
  count(url: string): number {
    return this.seen.get(url) ?? 0;
  }
  /** Every request that reached the upstream, as "url xN". */
  toString(): string {
    return [...this.seen].map(([u, n]) => `${u} x${n}`).join(', ');
  }
}

/** Keeps the directives canonical: the upstream sees `?_HLS_msn=..&_HLS_part=..` in this order, tokens elsewhere. */
export const directives = (url: string): string => {
  const q = new URL(url, 'http://x').searchParams;
  return LLHLS_PARAMS.filter((k) => q.has(k)).map((k) => `${k}=${q.get(k)}`).join('&');
};

/** A GET that records when each chunk arrives and can be asked to wait for the n-th byte. */
export function streamingGet(url: string): { done: Promise<Buffer>; received: () => number; status: Promise<number> } {
  const chunks: Buffer[] = [];
  let n = 0;
  let setStatus: (s: number) => void = () => undefined;
  const status = new Promise<number>((r) => (setStatus = r));
  const done = new Promise<Buffer>((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      setStatus(res.statusCode ?? 0);
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        n += c.length;
      });
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  return { done, received: () => n, status };
}

