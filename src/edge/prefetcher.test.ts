import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeMediaPlaylist, type MediaPlaylist } from '../media/hls/playlist.js';
import { Prefetcher, resolveSegment } from './prefetcher.js';
import { playlistUris } from './playlist-uris.js';

test('playlist segment URIs resolve inside the stream only', () => {
  const text = '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\ncam/1.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:2.0,\ncam/2.ts\n';
  assert.deepEqual(playlistUris(text).segments, ['cam/1.ts', 'cam/2.ts']);
  assert.deepEqual(playlistUris('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv/index.m3u8\n'), { segments: [], maps: [], parts: [], preloadHint: undefined });
  // An ABR rung's gap segments are not fetched (they 404).
  assert.deepEqual(playlistUris('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\ncam_low/1.ts\n#EXTINF:2.0,\n#EXT-X-GAP\ncam_low/2.ts\n#EXTINF:2.0,\ncam_low/3.ts\n').segments, ['cam_low/1.ts', 'cam_low/3.ts']);
  // A recording's VOD playlist: its init segment only (viewers start at its beginning; each segment is a remux).
  const vod = '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-MAP:URI="20261130-090000/init.mp4"\n#EXTINF:2.0,\n20261130-090000/0.m4s\n#EXTINF:2.0,\n20261130-090000/1.m4s\n#EXT-X-ENDLIST\n';
  assert.deepEqual(playlistUris(vod), { segments: [], maps: ['20261130-090000/init.mp4'], parts: [], preloadHint: undefined });
  assert.deepEqual(resolveSegment('/live/cam.m3u8', 'cam/1.ts'), { path: '/live/cam/1.ts', search: '' });
  assert.deepEqual(resolveSegment('/live/cam.m3u8', '/live/cam/1.ts'), { path: '/live/cam/1.ts', search: '' });
  assert.equal(resolveSegment('/live/cam.m3u8', 'http://evil.example/live/cam/1.ts'), undefined);
  // A play token on the URI goes upstream with the prefetch; the cache key stays the path.
  assert.deepEqual(resolveSegment('/live/cam.m3u8', 'cam/1.ts?token=1.abc'), { path: '/live/cam/1.ts', search: '?token=1.abc' });
  assert.equal(resolveSegment('/live/cam.m3u8', 'other.m3u8'), undefined);
});

/** An LL-HLS playlist of segments `from`..`to` (two parts each, listed for the last one), the open segment's parts, and the hint. */
function llPlaylist(from: number, to: number, openParts: number, map = from): string {
  const segments = [];
  for (let seq = from; seq <= to; seq++) {
    const parts = seq === to ? [0, 1].map((i) => ({ uri: `cam/${seq}.${i}.m4s`, durationS: 0.5, independent: i === 0 })) : undefined;
    segments.push({ uri: `cam/${seq}.m4s`, durationS: 1, discontinuity: false, ...(seq === map ? { map: `cam/init-${map}.mp4` } : {}), ...(parts ? { parts } : {}) });
  }
  const open = to + 1;
  const p: MediaPlaylist = {
    targetDurationS: 1,
    mediaSequence: from,
    discontinuitySequence: 0,
    segments,
    endList: false,
    partTargetS: 0.5,
    serverControl: { canBlockReload: true, partHoldBackS: 1.5 },
    trailingParts: Array.from({ length: openParts }, (_, i) => ({ uri: `cam/${open}.${i}.m4s`, durationS: 0.5, independent: i === 0 })),
    preloadHint: { uri: `cam/${open}.${openParts}.m4s?token=t` },
  };
  return writeMediaPlaylist(p);
}

test('LL-HLS playlist URIs: init segments, parts and the preload hint', () => {
  const u = playlistUris(llPlaylist(10, 12, 1));
  assert.deepEqual(u.segments, ['cam/10.m4s', 'cam/11.m4s', 'cam/12.m4s']);
  assert.deepEqual(u.maps, ['cam/init-10.mp4']);
  assert.deepEqual(u.parts, ['cam/12.0.m4s', 'cam/12.1.m4s', 'cam/13.0.m4s']);
  assert.equal(u.preloadHint, 'cam/13.1.m4s?token=t');
});

test('prefetch: plain playlists fetch new segments; LL-HLS playlists their init segments and each new preload hint', () => {
  const fetched: string[] = [];
  const p = new Prefetcher({ prefetch: (path, search) => fetched.push(path + search) });
  const plain = (seqs: number[]): Buffer => Buffer.from(['#EXTM3U', '#EXT-X-TARGETDURATION:2', ...seqs.flatMap((n) => ['#EXTINF:2.0,', `cam/${n}.ts`])].join('\n') + '\n');
  p.onPlaylist('/live/cam.m3u8', plain([1, 2, 3, 4, 5]));
  assert.deepEqual(fetched.splice(0), ['/live/cam/3.ts', '/live/cam/4.ts', '/live/cam/5.ts']);
  p.onPlaylist('/live/cam.m3u8', plain([2, 3, 4, 5, 6]));
  assert.deepEqual(fetched.splice(0), ['/live/cam/6.ts']);

  p.onPlaylist('/live/ll.m3u8', Buffer.from(llPlaylist(10, 12, 1)));
  assert.deepEqual(fetched.splice(0), ['/live/cam/init-10.mp4', '/live/cam/13.1.m4s?token=t'], 'no segments: LL viewers load parts');
  p.onPlaylist('/live/ll.m3u8', Buffer.from(llPlaylist(10, 12, 2)));
  assert.deepEqual(fetched.splice(0), ['/live/cam/13.2.m4s?token=t']);
  // The same version again (another viewer's plain reload) fetches nothing; a new init segment is fetched.
  p.onPlaylist('/live/ll.m3u8', Buffer.from(llPlaylist(10, 12, 2)));
  assert.deepEqual(fetched.splice(0), []);
  p.onPlaylist('/live/ll.m3u8', Buffer.from(llPlaylist(11, 13, 0, 13)));
  assert.deepEqual(fetched.splice(0), ['/live/cam/init-13.mp4', '/live/cam/14.0.m4s?token=t']);
});
