import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RenditionInfo } from '../hub/renditions.js';
import { ladderStats, multivariantText } from './hls-multivariant.js';
import type { RenditionState } from './hls-multivariant.js';

const LADDER: RenditionInfo[] = [
  { rung: 'source', stream: 'cam', height: 720 },
  { rung: '480p', stream: 'cam_480p', height: 480, videoBps: 1_400_000, audioBps: 128_000, maxFps: 30 },
  { rung: '240p', stream: 'cam_240p', height: 240, videoBps: 400_000, audioBps: 64_000, maxFps: 15 },
];

const SOURCE: RenditionState = {
  listed: true,
  bandwidth: { peakBps: 2_900_000, averageBps: 2_600_000 },
  codecs: 'avc1.64001f,mp4a.40.2',
  video: { width: 1280, height: 720, fps: 29.97 },
};

test('before a rung has segments: its configured rate x 1.1, the source\'s aspect, min(source fps, maxFps); no CODECS', () => {
  const states: Record<string, RenditionState> = {
    cam: SOURCE,
    cam_480p: { listed: true, bandwidth: { peakBps: 1_700_000, averageBps: 1_500_000 }, codecs: 'avc1.64001e,mp4a.40.2', video: { width: 854, height: 480, fps: 29.97 } },
  };
  const text = multivariantText('cam', LADDER, (n) => states[n]);
  assert.equal(
    text,
    [
      '#EXTM3U',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-STREAM-INF:BANDWIDTH=2900000,AVERAGE-BANDWIDTH=2600000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=29.970',
      'cam_source.m3u8',
      '#EXT-X-STREAM-INF:BANDWIDTH=1700000,AVERAGE-BANDWIDTH=1500000,CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=854x480,FRAME-RATE=29.970',
      'cam_480p.m3u8',
      '#EXT-X-STREAM-INF:BANDWIDTH=510400,RESOLUTION=426x240,FRAME-RATE=15.000',
      'cam_240p.m3u8',
      '',
    ].join('\n'),
  );
  assert.deepEqual(
    ladderStats('cam', LADDER, (n) => states[n])?.map((r) => [r.rung, r.stream, r.live, r.bandwidthBps]),
    [
      ['source', 'cam', true, 2_900_000],
      ['480p', 'cam_480p', true, 1_700_000],
      ['240p', 'cam_240p', false, 510_400],
    ],
  );
});

test('no multivariant playlist or ladder stats until the source lists a segment; a rung with no rate to tell is left out', () => {
  assert.equal(multivariantText('cam', LADDER, () => undefined), undefined);
  assert.equal(ladderStats('cam', LADDER, (n) => (n === 'cam' ? { ...SOURCE, listed: false } : undefined)), undefined);
  const noRate: RenditionInfo[] = [LADDER[0] as RenditionInfo, { rung: 'x', stream: 'cam_x', height: 100 }];
  assert.deepEqual(ladderStats('cam', noRate, (n) => (n === 'cam' ? SOURCE : undefined))?.map((r) => r.rung), ['source']);
});
