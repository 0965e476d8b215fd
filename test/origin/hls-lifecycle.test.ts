// A publisher that stops and comes back within the grace period continues the same playlist with a
// discontinuity; once the grace runs out the playlist ends (ENDLIST) and later disappears (404).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startOrigin } from '../helpers/origin.js';
import { publishTestStream } from '../helpers/publish.js';
import { fetchText } from '../helpers/http.js';
import { fetchPlaylist, probeSegment, segmentUrl } from '../helpers/hls.js';
import { waitFor } from '../helpers/wait.js';

test('republish within the grace continues the playlist; the end of the grace ends it', async (t) => {
  // playWaitMs 0: a request for the ended stream answers at once instead of waiting for the republish.
  const o = await startOrigin({ hlsSegmentMs: 1000, hlsGraceMs: 2000, hlsRemoveAfterMs: 1000, playWaitMs: 0 }, t);
  const url = o.hlsUrl('live', 'rp');
  const publish = async (): Promise<void> => {
    const p = publishTestStream(o.rtmpUrl('live', 'rp'), 'baseline+aac-mono', { gopS: 1, durationS: 3 });
    t.after(() => p.stop());
    const code = await p.exited;
    assert.equal(code, 0, p.log());
  };

  await publish();
  const first = await fetchPlaylist(url);
  assert.ok(first.playlist, 'playlist during the grace');
  assert.ok(first.playlist.segments.length >= 2, first.text);
  assert.equal(first.playlist.endList, false, 'no ENDLIST within the grace');
  assert.equal((await fetchText(o.flvUrl('live', 'rp'))).status, 404, 'HTTP-FLV is gone with the publisher');
  const firstSeq = first.playlist.mediaSequence;
  const firstCount = first.playlist.segments.length;
  const lastBefore = first.playlist.segments[firstCount - 1];
  assert.ok(lastBefore);
  const lastBeforeProbe = await probeSegment(segmentUrl(url, lastBefore.uri));

  await publish(); // within the 2 s grace: the previous one just ended
  const second = await fetchPlaylist(url);
  assert.ok(second.playlist);
  assert.equal(second.playlist.endList, false, second.text);
  assert.match(second.text, /#EXT-X-DISCONTINUITY\n/);
  assert.ok(second.playlist.mediaSequence >= firstSeq, 'media sequence never goes back');
  const uris = second.playlist.segments.map((s) => s.uri);
  const seqs = uris.map((u) => Number(/(\d+)\.ts$/.exec(u)?.[1]));
  assert.deepEqual(
    seqs,
    seqs.map((_, i) => (seqs[0] as number) + i),
    'consecutive sequence numbers across the republish',
  );
  const disc = second.playlist.segments.findIndex((s) => s.discontinuity);
  assert.ok(disc > 0, 'the discontinuity sits between the two sessions');
  const afterDisc = second.playlist.segments[disc];
  assert.ok(afterDisc);
  const afterProbe = await probeSegment(segmentUrl(url, afterDisc.uri));
  const lastDts = lastBeforeProbe.packets.video.at(-1)?.dts ?? NaN;
  assert.ok((afterProbe.packets.video[0]?.dts ?? NaN) > lastDts, 'timestamps keep growing over the republish');

  const ended = await waitFor(
    'ENDLIST after the grace',
    async () => {
      const r = await fetchPlaylist(url);
      return r.playlist?.endList ? r : undefined;
    },
    6000,
  );
  assert.ok((ended.playlist?.segments.length ?? 0) >= 1);
  await waitFor('playlist removed', async () => ((await fetchText(url)).status === 404 ? true : undefined), 5000);
});
