// The pages' recording, DVR and snapshot logic without a browser (src/player/web/timeshift.ts and the
// play answer's dvr URL in streams.ts): ?start= parsing, DVR and thumbnail URLs, the recordings list as
// the signal merges it, thumbnail tracks (#xywh cues), sizes and durations.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_THUMB_CUES,
  SNAPSHOT_REFRESH_MS,
  cueAt,
  cueImageUrl,
  dvrUrlAt,
  fmtBytes,
  fmtDuration,
  isDvrUrl,
  parseStart,
  parseThumbsVtt,
  recordingRows,
  thumbUrl,
} from '../../src/player/web/timeshift.js';
import { playSources, streamRows } from '../../src/player/web/streams.js';

describe('DVR: ?start= and the DVR URL', () => {
  it('takes ISO 8601 date-times with a zone and nothing else', () => {
    assert.equal(parseStart('2026-11-30T08:00:00Z'), Date.UTC(2026, 10, 30, 8, 0, 0));
    assert.equal(parseStart('2026-11-30T09:00:00.250+01:00'), Date.UTC(2026, 10, 30, 8, 0, 0, 250));
    assert.equal(parseStart('2026-11-30T08:00Z'), Date.UTC(2026, 10, 30, 8, 0, 0));
    for (const bad of [null, undefined, '', 'yesterday', '2026-11-30', '2026-11-30T08:00:00', '1764489600', '2026-13-45T99:99:99Z', `2026-11-30T08:00:00Z${' '.repeat(50)}`]) {
      assert.equal(parseStart(bad), undefined, String(bad));
    }
  });

  it('sets ?start= in UTC and keeps the play token', () => {
    const u = new URL(dvrUrlAt('http://e:8080/live/cam/dvr.m3u8?token=abc', Date.UTC(2026, 10, 30, 8, 0, 0)));
    assert.equal(u.searchParams.get('token'), 'abc');
    assert.equal(u.searchParams.get('start'), '2026-11-30T08:00:00.000Z');
    assert.equal(dvrUrlAt('http://e/live/cam/dvr.m3u8', undefined), 'http://e/live/cam/dvr.m3u8');
    assert.equal(dvrUrlAt('not a url', 0), 'not a url');
  });

  it('knows a DVR playlist URL', () => {
    assert.ok(isDvrUrl('http://e/live/cam/dvr.m3u8'));
    assert.ok(isDvrUrl('http://e/live/cam/dvr.m3u8?token=x'));
    assert.ok(!isDvrUrl('http://e/live/cam.m3u8'));
    assert.ok(!isDvrUrl('http://e/live/cam/rec/20261130-080000.m3u8'));
  });

  it('reads the dvr URL of the play answer, relative ones too', () => {
    const sources = playSources(
      { hls: 'http://e/live/cam.m3u8?token=t', flv: 'http://e/live/cam.flv?token=t', dvr: '/live/cam/dvr.m3u8?token=t', fallbacks: [{ id: 'o', hls: 'http://o/live/cam.m3u8' }] },
      'live',
      'cam',
      'http://signal:8090',
    );
    assert.equal(sources[0]?.dvr, 'http://signal:8090/live/cam/dvr.m3u8?token=t');
    assert.equal(sources[1]?.dvr, undefined);
  });
});

describe('thumbnails', () => {
  it('asks for 160 px, with a parameter that moves every 10 s, keeping the token', () => {
    const a = new URL(thumbUrl('http://o/live/cam.jpg?token=t', 1_000_000) ?? '');
    assert.equal(a.searchParams.get('width'), '160');
    assert.equal(a.searchParams.get('token'), 't');
    assert.equal(thumbUrl('http://o/live/cam.jpg', 1_000_000 + SNAPSHOT_REFRESH_MS - 1 - (1_000_000 % SNAPSHOT_REFRESH_MS)), a.toString().replace('token=t&', ''));
    assert.notEqual(thumbUrl('http://o/live/cam.jpg', 1_000_000), thumbUrl('http://o/live/cam.jpg', 1_000_000 + SNAPSHOT_REFRESH_MS));
    assert.equal(thumbUrl('::', 0), undefined);
  });

  it("reads the signal's snapshot and DVR window in /api/streams, http(s) URLs only", () => {
    const rows = streamRows({
      streams: [
        { app: 'live', stream: 'a', snapshot: 'http://o/live/a.jpg', dvr: { windowMs: 7_200_000, fromMs: 1, segments: 3 } },
        { app: 'live', stream: 'b', snapshot: 'javascript:alert(1)', dvr: null },
      ],
    });
    assert.equal(rows[0]?.snapshot, 'http://o/live/a.jpg');
    assert.equal(rows[0]?.dvrWindowS, 7200);
    assert.equal(rows[1]?.snapshot, undefined);
    assert.equal(rows[1]?.dvrWindowS, undefined);
  });

  it('reads a WebVTT thumbnail track, skipping malformed cues', () => {
    const vtt = [
      'WEBVTT',
      '',
      '00:00:00.000 --> 00:00:10.000',
      'thumbs.jpg#xywh=0,0,160,90',
      '',
      '00:00:10.000 --> 00:00:20.000',
      'thumbs.jpg#xywh=160,0,160,90',
      '',
      '00:00:20.000 --> 00:00:10.000',
      'thumbs.jpg#xywh=320,0,160,90',
      '',
      '01:00:20.000 --> 01:00:30.000 align:start',
      'thumbs.jpg#xywh=0,90,160,90',
      '',
      '00:00:30.000 --> 00:00:40.000',
      'thumbs.jpg#xywh=a,0,160,90',
      '00:00:40.000 -->',
      'thumbs.jpg#xywh=0,0,160,90',
    ].join('\r\n');
    const cues = parseThumbsVtt(vtt);
    assert.deepEqual(
      cues.map((c) => [c.start, c.end, c.url, c.x, c.y, c.w, c.h]),
      [
        [0, 10, 'thumbs.jpg', 0, 0, 160, 90],
        [10, 20, 'thumbs.jpg', 160, 0, 160, 90],
        [3620, 3630, 'thumbs.jpg', 0, 90, 160, 90],
      ],
    );
    assert.equal(cueAt(cues, 12)?.x, 160);
    assert.equal(cueAt(cues, 25), undefined);
    assert.deepEqual(parseThumbsVtt(''), []);
    assert.deepEqual(parseThumbsVtt('-->\n#xywh=1,2,3,4'), []);
  });

  it("resolves a cue's image against the track, using the listed sprite URL (its token) for the same file", () => {
    const cue = { start: 0, end: 10, url: 'thumbs.jpg', x: 0, y: 0, w: 160, h: 90 };
    const vtt = 'http://o/live/cam/rec/20261130-080000/thumbs.vtt?token=t';
    const sprite = 'http://o/live/cam/rec/20261130-080000/thumbs.jpg?token=t';
    assert.equal(cueImageUrl(cue, vtt, sprite), sprite);
    assert.equal(cueImageUrl(cue, vtt, undefined), 'http://o/live/cam/rec/20261130-080000/thumbs.jpg');
    assert.equal(cueImageUrl({ ...cue, url: 'thumbs.jpg?token=u' }, vtt, sprite), 'http://o/live/cam/rec/20261130-080000/thumbs.jpg?token=u');
    assert.equal(cueImageUrl({ ...cue, url: 'javascript:alert(1)' }, vtt, sprite), undefined);
  });

  it('reads at most MAX_THUMB_CUES cues', () => {
    const one = '00:00:00.000 --> 00:00:10.000\nt.jpg#xywh=0,0,1,1\n\n';
    assert.equal(parseThumbsVtt('WEBVTT\n\n' + one.repeat(MAX_THUMB_CUES + 5)).length, MAX_THUMB_CUES);
  });
});

describe('recordings list', () => {
  it("reads the signal's entries, dropping those that break the URL contract and non-http URLs", () => {
    const rows = recordingRows({
      recordings: [
        {
          id: 'live/cam/20261130-080000',
          app: 'live',
          stream: 'cam',
          name: '20261130-080000',
          startedAt: '2026-11-30T08:00:00.000Z',
          durationMs: 61_500,
          bytes: 3_500_000,
          state: 'done',
          part: 1,
          origin: { id: 'origin-a', url: 'http://o' },
          urls: { vod: 'http://o/live/cam/rec/20261130-080000.m3u8?token=t', file: 'http://o/api/recordings/live/cam/20261130-080000.flv', sprite: 'data:image/png;base64,AAAA', vtt: null },
        },
        { id: 'live/cam/20261130-090000-2', state: 'failed', error: 'ENOSPC' },
        { app: 'live', stream: '../x', name: '20261130-080000' },
        { app: 'live', stream: 'cam', name: 'x' },
        null,
      ],
    });
    assert.equal(rows.length, 2);
    const [a, b] = rows;
    assert.equal(a?.id, 'live/cam/20261130-080000');
    assert.equal(a?.startedAt, Date.UTC(2026, 10, 30, 8));
    assert.equal(a?.origin, 'origin-a');
    assert.match(a?.vod ?? '', /token=t$/);
    assert.equal(a?.sprite, undefined, 'a data: URL is not loaded');
    assert.equal(b?.app, 'live');
    assert.equal(b?.name, '20261130-090000-2');
    assert.equal(b?.error, 'ENOSPC');
    assert.equal(b?.vod, undefined);
    assert.deepEqual(recordingRows('junk'), []);
  });

  it('writes sizes and durations as people read them', () => {
    assert.equal(fmtBytes(512), '512 B');
    assert.equal(fmtBytes(3_500_000), '3.3 MiB');
    assert.equal(fmtBytes(50 * 2 ** 30), '50 GiB');
    assert.equal(fmtBytes(undefined), '–');
    assert.equal(fmtBytes(-1), '–');
    assert.equal(fmtDuration(61_500), '1:01');
    assert.equal(fmtDuration(3_600_000 + 2 * 60_000 + 3000), '1:02:03');
    assert.equal(fmtDuration(undefined), '–');
  });
});
