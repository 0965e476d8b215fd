// Graceful shutdown: playlists end with ENDLIST, HTTP-FLV viewers get a clean end of the chunked body,
// and the CLI exits 0 on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startOrigin } from '../helpers/origin.js';
import { FlvViewer } from '../helpers/http.js';
import { publishTestStream } from '../helpers/publish.js';
import { RtmpClient } from '../rtmp/client.js';
import { TagType } from '../../src/media/packet.js';
import { aacHeader, videoHeader, videoKey, videoInter } from '../helpers/packets.js';
import { waitFor } from '../helpers/wait.js';

test('stop() ends playlists with ENDLIST and viewers cleanly', async (t) => {
  const o = await startOrigin({ hlsSegmentMs: 500 }, t);
  const pub = publishTestStream(o.rtmpUrl('live', 'bye'), 'video-only', { gopS: 0.5 });
  t.after(() => pub.stop());
  await waitFor('bye live', () => (o.origin.hub.get('live', 'bye') ? true : undefined), 15_000);
  const v = await FlvViewer.open(o.flvUrl('live', 'bye'));
  t.after(() => v.close());
  await v.waitFor((p) => p.type === TagType.Video, 2000);
  await waitFor('a segment', () => o.origin.hls.playlist('live', 'bye')?.text, 15_000);
  await o.stop();
  const pl = o.origin.hls.playlist('live', 'bye');
  assert.ok(pl?.ended);
  assert.match(pl.text ?? '', /#EXT-X-ENDLIST\n$/);
  assert.equal(await v.waitEnd(3000), true);
  assert.equal(v.error, undefined, 'a clean end, not a reset');
});

test('livecdn origin exits 0 on SIGTERM, ending its viewers cleanly', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'origin', '--host', '127.0.0.1', '--rtmp-port', '0', '--http-port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'info' },
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const started = await waitFor('origin started', () => {
    const line = out.split('\n').find((l) => l.includes('"origin started"'));
    return line ? (JSON.parse(line) as { rtmpPort: number; httpPort: number }) : undefined;
  }, 15_000);
  const c = await RtmpClient.connect(`rtmp://127.0.0.1:${started.rtmpPort}/live`);
  t.after(() => c.close());
  await c.publish('sig');
  c.send(videoHeader());
  c.send(aacHeader());
  c.send(videoKey(0));
  const v = await FlvViewer.open(`http://127.0.0.1:${started.httpPort}/live/sig.flv`);
  t.after(() => v.close());
  c.send(videoInter(40));
  await v.waitFor((p) => p.type === TagType.Video, 3000);
  child.kill('SIGTERM');
  assert.equal(await exited, 0, out);
  assert.equal(await v.waitEnd(3000), true);
  assert.equal(v.error, undefined);
});
