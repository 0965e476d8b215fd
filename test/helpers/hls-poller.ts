// Test helper: an HLS player's view of a server, as chaos and failover tests watch it through an outage:
// the live playlist every `everyMs` (its text, parsed, and when it came; or the error status), and each new
// segment fetched once (200 only when it is a TS segment); then what a player needs across the outage.
import assert from 'node:assert/strict';
import { parseMediaPlaylist, type MediaPlaylist } from '../../src/media/hls/playlist.js';
import { timed } from '../chaos/cluster.js';
import { sleep } from './wait.js';

export class HlsPoller {
  readonly playlists: Array<{ at: number; playlist: MediaPlaylist; text: string }> = [];
  readonly failures: Array<{ at: number; status: number }> = [];
  /** Every segment URI with the sequence number each playlist listed it at. */
  readonly seqOf = new Map<string, Set<number>>();
  readonly segmentStatus = new Map<string, number>();
  slowest = 0;
  private stopped = false;
  readonly done: Promise<void>;

  constructor(
    private readonly url: string,
    private readonly everyMs = 500,
  ) {
    this.done = this.run();
  }

  stop(): Promise<void> {
    this.stopped = true;
    return this.done;
  }

  /** Segment URIs listed by the playlists that came before `at`. */
  listedBefore(at: number): Set<string> {
    return new Set(this.playlists.filter((x) => x.at < at).flatMap((x) => x.playlist.segments.map((s) => s.uri)));
  }

  /** The first playlist after `at` listing at least `n` segments not listed before it. */
  newSegmentsListed(at: number, n = 1): { at: number; playlist: MediaPlaylist; text: string } | undefined {
    const old = this.listedBefore(at);
    return this.playlists.find((x) => x.at > at && x.playlist.segments.filter((s) => !old.has(s.uri)).length >= n);
  }

  /**
   * Asserts what a player needs across an upstream change at `cut` (a kill): media and discontinuity
   * sequences that only grow, each segment keeping its number; the first segment not listed before `cut`
   * carrying EXT-X-DISCONTINUITY wherever it is listed and numbered after every earlier one; every new
   * segment served; no playlist request hung.
   */
  assertContinuesAcross(cut: number, label = this.url): void {
    const seqs = this.playlists.map((x) => x.playlist.mediaSequence);
    for (let k = 1; k < seqs.length; k++) assert.ok((seqs[k] ?? 0) >= (seqs[k - 1] ?? 0), `${label}: media sequence never decreases: ${seqs.join(',')}`);
    const dseqs = this.playlists.map((x) => x.playlist.discontinuitySequence);
    for (let k = 1; k < dseqs.length; k++) assert.ok((dseqs[k] ?? 0) >= (dseqs[k - 1] ?? 0), `${label}: discontinuity sequence never decreases: ${dseqs.join(',')}`);
    for (const [uri, s] of this.seqOf) assert.equal(s.size, 1, `${label}: ${uri} keeps one sequence number: ${[...s].join(',')}`);
    const old = this.listedBefore(cut);
    const after = this.playlists.filter((x) => x.at > cut);
    const firstNew = after.flatMap((x) => x.playlist.segments).find((s) => !old.has(s.uri));
    assert.ok(firstNew, `${label}: a segment listed after the cut`);
    for (const x of after) {
      const s = x.playlist.segments.find((y) => y.uri === firstNew.uri);
      if (s) assert.ok(s.discontinuity, `${label}: DISCONTINUITY before ${s.uri} in:\n${x.text}`);
    }
    const lastOld = Math.max(...this.playlists.filter((x) => x.at < cut).map((x) => x.playlist.mediaSequence + x.playlist.segments.length - 1));
    const joinSeq = [...(this.seqOf.get(firstNew.uri) ?? [])][0] ?? -1;
    assert.ok(joinSeq > lastOld, `${label}: the join's sequence ${joinSeq} follows the last one before, ${lastOld}`);
    for (const [uri, status] of this.segmentStatus) if (!old.has(uri)) assert.equal(status, 200, `${label}: new segment ${uri} served`);
    assert.ok(this.slowest < 6000, `${label}: no playlist request hung (slowest ${this.slowest} ms)`);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const r = await timed(this.url);
      this.slowest = Math.max(this.slowest, r.ms);
      if (r.status === 200) {
        const playlist = parseMediaPlaylist(r.text);
        this.playlists.push({ at: Date.now(), playlist, text: r.text });
        for (const [i, s] of playlist.segments.entries()) {
          const seqs = this.seqOf.get(s.uri) ?? new Set<number>();
          seqs.add(playlist.mediaSequence + i);
          this.seqOf.set(s.uri, seqs);
          if (!this.segmentStatus.has(s.uri)) {
            // A body cut short (an upstream killed mid-transfer) counts as not served (0), not as a crash of the loop.
            const seg = await fetch(new URL(s.uri, this.url), { signal: AbortSignal.timeout(10_000) })
              .then(async (r) => ({ status: r.status, body: Buffer.from(await r.arrayBuffer()) }))
              .catch(() => undefined);
            // A TS segment starts with the sync byte.
            this.segmentStatus.set(s.uri, seg?.status === 200 && seg.body[0] === 0x47 ? 200 : (seg?.status ?? 0));
          }
        }
      } else {
        this.failures.push({ at: Date.now(), status: r.status });
      }
      await sleep(this.everyMs);
    }
  }
}
