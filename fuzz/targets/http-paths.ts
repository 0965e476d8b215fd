// Request targets as the origin and the edge route them: the URL parse of the origin's server, its route
// patterns and name checks, the edge's path classification, and the prefetcher's playlist URI resolution.
import fc from 'fast-check';
import { classifyPath } from '../../src/edge/paths.js';
import { resolveSegment } from '../../src/edge/prefetcher.js';
import { FLV_PATH, PLAYLIST_PATH, SEGMENT_PATH, validNames } from '../../src/origin/names.js';
import type { FuzzTarget } from '../harness.js';
import { text } from './util.js';

export const target: FuzzTarget = {
  name: 'http-paths',
  description: 'origin routes (new URL, FLV/PLAYLIST/SEGMENT_PATH, validNames), classifyPath, resolveSegment',
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
    for (const re of [FLV_PATH, PLAYLIST_PATH, SEGMENT_PATH]) {
      const m = re.exec(pathname);
      if (m) validNames(m[1], m[2]);
    }
    classifyPath(pathname);
    classifyPath(target);
    if (cut >= 0) resolveSegment(pathname, s.slice(cut + 1));
  },
  arbitrary: fc
    .tuple(fc.oneof(fc.webPath(), fc.constantFrom('/live/s.flv', '/live/s.m3u8', '/live/s/12.ts', '//[', '/%/x.flv')), fc.option(fc.webPath()))
    .map(([p, uri]) => new Uint8Array(text(uri === null ? p : `${p} ${uri}`))),
  dictionary: ['%', '%2f', '%00', '%E0%A4%A', '..', '//', '.flv', '.m3u8', '.ts', '?token=', '#', '\\', 'http://x/'].map(text),
};
