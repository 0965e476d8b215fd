// Request targets as the origin and the edge route them: the URL parse of the origin's server, its route
// patterns and name checks, the URL contract's path classification (the edge's), the LL-HLS delivery
// directives of the query (the origin's parseDirectives, the edge's playlist key), the DVR playlist's
// ?start= (parseDvrStart, and the edge's key for it), a snapshot's ?width= (the edge's key for it), and the
// prefetcher's playlist URI resolution; origin-to-origin's reading of a stream request and of a Via header
// (the request target stands for one: the loop check splits any text).
import fc from 'fast-check';
import { playlistRequest } from '../../src/edge/playlist-request.js';
import { resolveSegment } from '../../src/edge/prefetcher.js';
import { snapshotRequest } from '../../src/edge/snapshot-request.js';
import { parseDirectives } from '../../src/origin/hls-directives.js';
import { missStep, streamRequestOf } from '../../src/origin/cluster-miss.js';
import {
  DVR_PLAYLIST_ROUTE,
  DVR_START_PARAM,
  FLV_ROUTE,
  FMP4_SEGMENT_ROUTE,
  INIT_ROUTE,
  PART_ROUTE,
  PLAYLIST_ROUTE,
  SEGMENT_ROUTE,
  SNAPSHOT_ROUTE,
  parseDvrStart,
  parsePath,
  validNames,
} from '../../src/shared/url-contract.js';
import type { FuzzTarget } from '../harness.js';
import { bound, text } from './util.js';

export const target: FuzzTarget = {
  name: 'http-paths',
  description: 'origin routes (new URL, every *_ROUTE, validNames), LL-HLS directives (origin and edge), DVR ?start=, snapshot ?width=, parsePath, playlistRequest, snapshotRequest, resolveSegment, streamRequestOf, missStep (Via)',
  expected: [],
  maxLength: 8192,
  run(input) {
    // A space splits the request target from a playlist entry for resolveSegment.
    const s = input.toString('latin1');
    const cut = s.indexOf(' ');
    const target = cut < 0 ? s : s.slice(0, cut);
    let pathname: string;
    try {
      pathname = new URL(target, 'http://localhost').pathname; // the origin answers 500 when this throws
    } catch {
      pathname = target;
    }
    for (const re of [FLV_ROUTE, PLAYLIST_ROUTE, SEGMENT_ROUTE, INIT_ROUTE, FMP4_SEGMENT_ROUTE, PART_ROUTE, DVR_PLAYLIST_ROUTE, SNAPSHOT_ROUTE]) {
      const m = re.exec(pathname);
      if (m) validNames(m[1], m[2]);
    }
    parsePath(pathname);
    parsePath(target);
    const wanted = streamRequestOf('GET', pathname);
    if (wanted && !validNames(wanted.app, wanted.stream)) throw new Error('streamRequestOf: a stream request with invalid names');
    missStep(s, 'origin-a', 8, () => false);
    // The cache key holds at most the three directives, canonical and bounded, whatever the query.
    const q = target.indexOf('?');
    const version = playlistRequest(pathname, q < 0 ? '' : target.slice(q));
    // The origin's reading of the same directives: numbers it accepts stay small integers.
    const d = parseDirectives(new URLSearchParams(q < 0 ? '' : target.slice(q)));
    if (d.ok && ![d.directives.msn ?? 0, d.directives.part ?? 0].every(Number.isSafeInteger)) throw new Error('parseDirectives: a directive that is not a safe integer');
    // The origin's reading of ?start=: a date it accepts is a finite time.
    for (const start of new URLSearchParams(q < 0 ? '' : target.slice(q)).getAll(DVR_START_PARAM)) {
      const ms = parseDvrStart(start);
      if (ms !== undefined && !Number.isFinite(ms)) throw new Error('parseDvrStart: not a finite time');
    }
    if (version.ok) bound('playlist cache key', version.key.length, pathname.length, 1, 64);
    // The snapshot key adds at most one canonical ?width= to the path, whatever the query.
    const snapshot = snapshotRequest(pathname, q < 0 ? '' : target.slice(q));
    if (snapshot.ok) bound('snapshot cache key', snapshot.key.length, pathname.length, 1, 16);
    if (cut >= 0) resolveSegment(pathname, s.slice(cut + 1));
  },
  arbitrary: fc
    .tuple(
      fc.oneof(fc.webPath(), fc.constantFrom('/live/s.flv', '/live/s.m3u8', '/live/s.m3u8?_HLS_msn=7&_HLS_part=1&_HLS_skip=YES', '/live/s/12.ts', '//[', '/%/x.flv', '/live/s/dvr.m3u8?start=2026-11-30T09:00:00Z', '/live/s.jpg?width=160')),
      fc.option(fc.webPath()),
    )
    .map(([p, uri]) => new Uint8Array(text(uri === null ? p : `${p} ${uri}`))),
  dictionary: ['%', '%2f', '%00', '%E0%A4%A', '..', '//', '.flv', '.m3u8', '.ts', '?token=', '#', '\\', 'http://x/', '_HLS_msn=', '&_HLS_part=', '&_HLS_skip=YES', '_HLS_', '/dvr.m3u8', '?start=', '&start=', 'T09:00:00', '+01:00', '%2B01:00', 'Z', '.jpg', '?width=', '&width=', '1.1 origin-a', ', 1.1 '].map(text),
};
