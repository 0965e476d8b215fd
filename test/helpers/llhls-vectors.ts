// Shared LL-HLS playlist vectors: the RFC 8216bis example and a conforming live fMP4 playlist in our URL
// contract (the checker's, the cross-check's and the playlist tests' common ground).
import type { MediaPlaylist, PlaylistPart, PlaylistSegment } from '../../src/media/hls/playlist.js';

// RFC 8216bis-22 section 9.11 (Low-Latency Playlist), with the header it elides filled in.
export const RFC_LL_EXAMPLE = [
  '#EXTM3U',
  '#EXT-X-TARGETDURATION:4',
  '#EXT-X-VERSION:6',
  '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=6.00012,CAN-SKIP-UNTIL=24.0',
  '#EXT-X-PART-INF:PART-TARGET=2.00004',
  '#EXT-X-MEDIA-SEQUENCE:268',
  '#EXT-X-MAP:URI="init.mp4"',
  '#EXT-X-PROGRAM-DATE-TIME:2019-02-14T02:13:36.106Z',
  '#EXTINF:4.00008,',
  'fileSequence268.mp4',
  '#EXTINF:4.00008,',
  'fileSequence269.mp4',
  '#EXTINF:4.00008,',
  'fileSequence270.mp4',
  '#EXT-X-PART:DURATION=2.00004,INDEPENDENT=YES,URI="filePart271.0.mp4"',
  '#EXT-X-PART:DURATION=2.00004,URI="filePart271.1.mp4"',
  '#EXTINF:4.00008,',
  'fileSequence271.mp4',
  '#EXT-X-PART:DURATION=2.00004,INDEPENDENT=YES,URI="filePart272.0.mp4"',
  '#EXT-X-PART:DURATION=0.50001,URI="filePart272.1.mp4"',
  '#EXTINF:2.50005,',
  'fileSequence272.mp4',
  '#EXT-X-DISCONTINUITY',
  '#EXT-X-PART:DURATION=2.00004,INDEPENDENT=YES,URI="midRoll273.0.mp4"',
  '#EXT-X-PART:DURATION=2.00004,URI="midRoll273.1.mp4"',
  '#EXTINF:4.00008,',
  'midRoll273.mp4',
  '#EXT-X-PART:DURATION=2.00004,INDEPENDENT=YES,URI="midRoll274.0.mp4"',
  '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="midRoll274.1.mp4"',
  '#EXT-X-RENDITION-REPORT:URI="/1M/LL-HLS.m3u8",LAST-MSN=274,LAST-PART=1',
  '',
].join('\n');

/** PDT of the first segment of llPlaylist(). */
export const LL_T0 = Date.UTC(2026, 10, 30, 4, 0, 0);
/** Part i of MSN msn, named by our URL contract; part 0 is INDEPENDENT. */
export const llPart = (msn: number, i: number, durationS = 0.25): PlaylistPart => ({ uri: `s/${msn}.${i}.m4s`, durationS, independent: i === 0 });
/** The first n parts of MSN msn. */
export const llParts = (msn: number, n = 4): PlaylistPart[] => Array.from({ length: n }, (_, i) => llPart(msn, i));

/** 8 one-second segments (MSN 10-17), parts on the last two, two parts of MSN 18 open, the hint on 18.2. */
export function llPlaylist(): MediaPlaylist {
  const segments: PlaylistSegment[] = Array.from({ length: 8 }, (_, i) => ({
    uri: `s/${10 + i}.m4s`,
    durationS: 1,
    discontinuity: false,
    programDateTime: LL_T0 + i * 1000,
    ...(i === 0 ? { map: 's/init-10.mp4' } : {}),
    ...(i >= 6 ? { parts: llParts(10 + i) } : {}),
  }));
  return {
    targetDurationS: 1,
    mediaSequence: 10,
    discontinuitySequence: 0,
    segments,
    endList: false,
    independentSegments: true,
    partTargetS: 0.25,
    serverControl: { canBlockReload: true, partHoldBackS: 0.75, canSkipUntilS: 6 },
    openSegment: { discontinuity: false, programDateTime: LL_T0 + 8000 },
    trailingParts: llParts(18, 2),
    preloadHint: { uri: 's/18.2.m4s' },
  };
}
