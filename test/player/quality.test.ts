// The player's ABR pieces without a browser (issue 11): reading renditions from the play answer and
// /api/streams, the rung of a variant URL, HTTP-FLV rung URLs, folding rung streams into their source on
// the dashboard, and the quality models behind the menu (hls.js levels, HTTP-FLV rungs).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { flvUrlOf, foldRungs, renditionLabel, renditionsOf, rungOfUrl, streamRows } from '../../src/player/web/streams.js';
import type { PlaySource } from '../../src/player/web/streams.js';
import { FlvRungs, HlsQuality, qualityText } from '../../src/player/web/quality.js';
import type { Engine, Quality } from '../../src/player/web/engines.js';

const ANSWER_RENDITIONS = [
  { rung: 'source', stream: 'cam', live: true, width: 640, height: 360, bandwidthBps: 900_000, hls: 'http://e/live/cam_source.m3u8', flv: 'http://e/live/cam.flv?token=a' },
  { rung: '240p', stream: 'cam_240p', live: true, height: 240, bandwidthBps: 420_000, hls: 'http://e/live/cam_240p.m3u8', flv: 'http://e/live/cam_240p.flv?token=b' },
  { rung: '160p', stream: 'cam_160p', live: false, height: 160, hls: 'http://e/live/cam_160p.m3u8', flv: 'http://e/live/cam_160p.flv?token=c' },
];

describe('player: renditions', () => {
  it('reads the play answer and a stream ladder, leaving out entries that break the URL contract', () => {
    const r = renditionsOf([...ANSWER_RENDITIONS, { rung: 'HD', stream: 'cam_HD', live: true }, { rung: '720p', stream: '../x', live: true }, 'junk', null]);
    assert.deepEqual(
      r?.map((x) => [x.rung, x.stream, x.height, x.bandwidthBps, x.live, x.flv]),
      [
        ['source', 'cam', 360, 900_000, true, 'http://e/live/cam.flv?token=a'],
        ['240p', 'cam_240p', 240, 420_000, true, 'http://e/live/cam_240p.flv?token=b'],
        ['160p', 'cam_160p', 160, undefined, false, 'http://e/live/cam_160p.flv?token=c'],
      ],
    );
    assert.equal(renditionsOf([]), undefined);
    assert.equal(renditionsOf({ rung: 'source' }), undefined);
    // A ladder whose stream is given as app/stream: the name is taken.
    assert.equal(renditionsOf([{ rung: '240p', stream: 'live/cam_240p', live: true }])?.[0]?.stream, 'cam_240p');
    // /api/streams rows carry the ladder and the transcoder
    const [row] = streamRows({ streams: [{ app: 'live', stream: 'cam', ladder: ANSWER_RENDITIONS, transcode: { where: 'local', rungsUp: 2, restarts: 0, speed: 1.4 } }] });
    assert.equal(row?.ladder?.length, 3);
    assert.deepEqual(row?.transcode, { where: 'local', rungsUp: 2, restarts: 0, speed: 1.4 });
    assert.equal(streamRows({ streams: [{ app: 'live', stream: 'x', transcode: { where: 'remote', speed: null } }] })[0]?.transcode?.speed, undefined);
  });

  it('labels, variant URLs and FLV rung URLs', () => {
    assert.equal(renditionLabel({ rung: 'source', height: 360 }), '360p (source)');
    assert.equal(renditionLabel({ rung: '240p', height: 240 }), '240p');
    assert.equal(renditionLabel({ rung: 'low', height: undefined }), 'low');
    assert.equal(rungOfUrl('http://e/live/cam_240p.m3u8?token=1.x'), '240p');
    assert.equal(rungOfUrl('http://e/live/my_cam_source.m3u8'), 'source');
    assert.equal(rungOfUrl('http://e/live/cam.m3u8'), undefined);
    assert.equal(rungOfUrl('http://e/live/cam_HD.m3u8'), undefined);
    assert.equal(flvUrlOf('http://e:8080/live/cam.flv?token=1.abc', 'cam_240p'), 'http://e:8080/live/cam_240p.flv?token=1.abc');
    assert.equal(flvUrlOf('http://e/live/cam.m3u8', 'cam_240p'), undefined);
    assert.equal(flvUrlOf('not a url', 'cam_240p'), undefined);
  });

  it('the dashboard folds rung streams into their source', () => {
    const rows = streamRows({
      streams: [
        { app: 'live', stream: 'cam', ladder: ANSWER_RENDITIONS },
        { app: 'live', stream: 'cam_240p', viewers: 3 },
        { app: 'other', stream: 'cam_240p', viewers: 1 },
        { app: 'live', stream: 'solo' },
      ],
    });
    const { sources, rungs } = foldRungs(rows);
    assert.deepEqual(sources.map((r) => r.key), ['live/cam', 'other/cam_240p', 'live/solo']);
    assert.equal(rungs.get('live/cam_240p')?.totalViewers, 3);
  });
});

describe('player: quality models', () => {
  const fakeEngine = (q: Quality, picked: number[]): Engine => ({
    kind: 'hls.js',
    url: 'http://e/live/cam.m3u8',
    latency: () => undefined,
    bitrate: () => undefined,
    quality: () => q,
    setLevel: (i) => picked.push(i),
    destroy: () => undefined,
  });

  it('hls.js: "Auto" and each level from the top; a pick goes to the engine; the panel names the level on screen', () => {
    const picked: number[] = [];
    const levels = [
      { width: 284, height: 160, bitrate: 200_000, rung: '160p' },
      { width: 426, height: 240, bitrate: 420_000, rung: '240p' },
      { width: 640, height: 360, bitrate: 900_000, rung: 'source' },
    ];
    let q: Quality = { levels, playing: 2, auto: true, switches: 0 };
    const m = new HlsQuality(() => fakeEngine(q, picked));
    assert.deepEqual(
      m.choices().map((c) => [c.value, c.label]),
      [
        [-1, 'Auto'],
        [2, '360p (source) · 900 kbit/s'],
        [1, '240p · 420 kbit/s'],
        [0, '160p · 200 kbit/s'],
      ],
    );
    assert.equal(m.selected(), -1);
    assert.equal(m.label(), 'Auto 360p');
    assert.equal(qualityText(m.now()), '360p 640x360 · 900 kbit/s, auto');
    m.choose(0);
    assert.deepEqual(picked, [0]);
    q = { levels, playing: 0, auto: false, switches: 1 };
    assert.equal(m.selected(), 0);
    assert.equal(m.label(), '160p');
    assert.deepEqual(m.now(), { levels: 3, level: 0, rung: '160p', width: 284, height: 160, bitrate: 200_000, auto: false, switches: 1 });
    // One level is no choice: no menu, no quality line.
    q = { levels: [levels[0] as (typeof levels)[0]], playing: 0, auto: true, switches: 0 };
    assert.deepEqual(m.choices(), []);
    assert.equal(m.now(), undefined);
    assert.equal(new HlsQuality(() => undefined).label(), 'Auto');
  });

  it('HTTP-FLV: each rung; a pick plays {stream}_{rung}.flv, the answer URL on the chosen node, renamed on fallbacks', () => {
    const played: PlaySource[][] = [];
    const sources: PlaySource[] = [
      { hls: 'http://e/live/cam.m3u8?token=a', flv: 'http://e/live/cam.flv?token=a', via: 'edge-1' },
      { hls: 'http://o/live/cam.m3u8?token=a', flv: 'http://o/live/cam.flv?token=a', via: 'origin' },
    ];
    const m = new FlvRungs(sources, (s) => played.push(s));
    assert.deepEqual(m.choices(), [], 'no ladder known yet');
    m.setRenditions(renditionsOf(ANSWER_RENDITIONS) ?? [], 'cam');
    assert.deepEqual(
      m.choices().map((c) => c.label),
      ['360p (source) · 900 kbit/s', '240p · 420 kbit/s', '160p (off)'],
    );
    assert.equal(m.selected(), 0);
    assert.equal(m.indexOf('240p'), 1);
    m.choose(0);
    assert.equal(played.length, 0, 'the rung already playing: nothing to do');
    m.choose(1);
    assert.deepEqual(
      played[0]?.map((s) => s.flv),
      ['http://e/live/cam_240p.flv?token=b', 'http://o/live/cam_240p.flv?token=a'],
    );
    assert.equal(played[0]?.[0]?.hls, sources[0]?.hls);
    assert.equal(m.selected(), 1);
    assert.equal(m.label(), '240p');
    const video = { videoWidth: 426, videoHeight: 241 } as HTMLVideoElement;
    assert.deepEqual(m.now(video), { levels: 3, level: 1, rung: '240p', width: 426, height: 240, bitrate: 420_000, auto: false, switches: 1 });
    m.choose(7);
    assert.equal(played.length, 1, 'no such rung');
  });
});
