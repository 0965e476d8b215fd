// --transcode-on-demand: a live source with a ladder runs no FFmpeg until a viewer asks for a rung; the
// rung's HTTP-FLV request starts the ladder (and waits for the rung like any play before publish); once
// no rung has had a viewer for the idle time, FFmpeg is stopped and the rung streams end. A later viewer
// starts it again, and the rung is still on the source's keyframe times.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlvViewer, type ReceivedPacket } from '../helpers/http.js';
import { publishTestStream } from '../helpers/publish.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { isVideoKeyframe, startTranscodingOrigin, videoFrames } from './helpers.js';

const IDLE_MS = 1500;

test('on demand: a rung viewer starts the ladder, idle stops FFmpeg, a new viewer starts it again', { timeout: 120_000 }, async (t) => {
  const o = await startTranscodingOrigin(t, { onDemand: true, idleMs: IDLE_MS });
  const tc = o.origin.transcode;
  assert.ok(tc);
  const pub = publishTestStream(o.rtmpUrl('live', 'cam'), 'baseline+aac-mono', { gopS: 1 });
  t.after(() => pub.stop());
  const source = await FlvViewer.openLive(o.flvUrl('live', 'cam'));
  t.after(() => source.close());
  await waitFor('the ladder of the live source', () => tc.ladderOf('live', 'cam'), 20_000);
  assert.deepEqual(tc.ladderOf('live', 'cam')?.map((r) => r.stream), ['cam', 'cam_low', 'cam_tiny'], 'listed before it runs');
  await sleep(2000);
  assert.equal(tc.totals().transcoders, 0, 'no FFmpeg without a rung viewer');
  assert.equal(o.origin.hub.get('live', 'cam_low'), undefined);

  const watch = async (): Promise<ReceivedPacket[]> => {
    const v = await FlvViewer.open(o.flvUrl('live', 'cam_low'), 30_000);
    try {
      assert.equal(v.status, 200);
      await waitFor('rung frames', () => videoFrames(v).length >= 50, 30_000);
    } finally {
      v.close();
    }
    return videoFrames(v);
  };
  const first = await watch();
  assert.equal(tc.totals().transcoders, 1);
  assert.deepEqual(tc.stats('live', 'cam')?.restarts, 0);

  await waitFor('the idle stop', () => tc.totals().transcoders === 0, IDLE_MS + 10_000);
  await waitFor('the rungs ending', () => !o.origin.hub.get('live', 'cam_low') && !o.origin.hub.get('live', 'cam_tiny'), 5000);
  assert.equal(tc.stats('live', 'cam')?.rungsUp, 0);
  // Still listed: a viewer starts it again.
  assert.equal(tc.ladderOf('live', 'cam')?.length, 3);
  await sleep(1000);

  const second = await watch();
  const sourceKeys = new Set(source.packets.filter(isVideoKeyframe).map((p) => p.timestamp));
  const lastFirst = first.at(-1)?.timestamp ?? 0;
  const againKeys = second.filter((p) => p.timestamp > lastFirst && isVideoKeyframe(p)).map((p) => p.timestamp);
  assert.ok(againKeys.length >= 1, 'keyframes after the second start');
  assert.deepEqual(againKeys.filter((k) => !sourceKeys.has(k)), [], 'the second start is on the source keyframe times');
  await waitFor('the second idle stop', () => tc.totals().transcoders === 0, IDLE_MS + 10_000);
});
