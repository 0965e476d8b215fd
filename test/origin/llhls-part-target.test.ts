// The effective LL-HLS part target (media/hls/part-cutter.ts) at the origin, from real FFmpeg publishes
// whose frame durations do not divide the configured 200 ms: at 24 fps four frames (167 ms) would be
// under 85% of PART-TARGET=0.2, so PART-TARGET becomes five frames + slack; audio-only parts are all
// INDEPENDENT. Every playlist passes the conformance checker (part durations both ways, PART-HOLD-BACK).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startOrigin } from '../helpers/origin.js';
import { publishTestStream } from '../helpers/publish.js';
import type { StreamShape } from '../helpers/publish.js';
import { fetchText } from '../helpers/http.js';
import { fetchPlaylist } from '../helpers/hls.js';
import { checkMediaPlaylist, fetchKeyframeOracle } from '../helpers/hls-conformance.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { parseMediaPlaylist } from '../../src/media/hls/playlist.js';

const cases: { name: string; shape: StreamShape; fps?: number; partTargetS: number }[] = [
  // 5 x 41.67 ms x 1.04.
  { name: '24 fps H.264 + AAC', shape: 'h264-high-bframes+aac-stereo', fps: 24, partTargetS: 0.217 },
  // 9 AAC frames at 44.1 kHz (209 ms) x 1.04.
  { name: 'audio-only AAC 44.1 kHz', shape: 'audio-only', partTargetS: 0.217 },
];

for (const c of cases) {
  test(`LL-HLS part target from a real publish: ${c.name}`, async (t) => {
    const o = await startOrigin({ hlsSegmentMs: 1000, hlsPartMs: 200, hlsWindow: 10, playWaitMs: 0 }, t);
    const pub = publishTestStream(o.rtmpUrl('live', 'pt'), c.shape, { gopS: 1, ...(c.fps ? { fps: c.fps } : {}) });
    t.after(() => pub.stop());
    const url = o.hlsUrl('live', 'pt');
    await waitFor('4 segments listed', async () => ((await fetchPlaylist(url)).playlist?.segments.length ?? 0) >= 4 || undefined, 40_000, 200).catch((e: Error) => {
      throw new Error(`${e.message}\n${pub.log()}`);
    });
    let parts = 0;
    for (let i = 0; i < 6; i++) {
      const { text } = await fetchText(url);
      const p = parseMediaPlaylist(text);
      assert.equal(p.partTargetS, c.partTargetS, text);
      const keyframe = c.shape === 'audio-only' ? undefined : await fetchKeyframeOracle(url, text);
      assert.deepEqual(checkMediaPlaylist(text, keyframe ? { keyframe } : {}), [], text);
      const listed = [...p.segments.flatMap((s) => s.parts ?? []), ...(p.trailingParts ?? [])];
      if (c.shape === 'audio-only') assert.ok(listed.every((x) => x.independent), `every audio-only part is INDEPENDENT\n${text}`);
      parts += listed.length;
      await sleep(250);
    }
    assert.ok(parts > 0, 'parts were listed');
    const api = (await (await fetch(`${o.httpBase}/api/streams`)).json()) as { streams: { name: string; hls?: { partTargetS: number | null } }[] };
    assert.equal(api.streams.find((s) => s.name === 'pt')?.hls?.partTargetS, c.partTargetS);
  });
}
