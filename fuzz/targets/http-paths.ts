// Request targets as the origin and the edge route them: the URL parse of the origin's server, its route
// patterns and name checks, the URL contract's path classification (the edge's), and the prefetcher's
// playlist URI resolution.
import fc from 'fast-check';
import { resolveSegment } from '../../src/edge/prefetcher.js';
import { FLV_ROUTE, PLAYLIST_ROUTE, SEGMENT_ROUTE, parsePath, validNames } from '../../src/shared/url-contract.js';
import type { FuzzTarget } from '../harness.js';
import { text } from './util.js';

export const target: FuzzTarget = {
  name: 'http-paths',
  description: 'origin routes (new URL, FLV/PLAYLIST/SEGMENT_ROUTE, validNames), parsePath, resolveSegment',
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
    for (const re of [FLV_ROUTE, PLAYLIST_ROUTE, SEGMENT_ROUTE]) {
      const m = re.exec(pathname);
      if (m) validNames(m[1], m[2]);
    }
    parsePath(pathname);
    parsePath(target);
    if (cut >= 0) resolveSegment(pathname, s.slice(cut + 1));
  },
  arbitrary: fc
    .tuple(fc.oneof(fc.webPath(), fc.constantFrom('/live/s.flv', '/live/s.m3u8', '/live/s/12.ts', '//[', '/%/x.flv')), fc.option(fc.webPath()))
    .map(([p, uri]) => new Uint8Array(text(uri === null ? p : `${p} ${uri}`))),
  dictionary: ['%', '%2f', '%00', '%E0%A4%A', '..', '//', '.flv', '.m3u8', '.ts', '?token=', '#', '\\', 'http://x/'].map(text),
};
