// Chaos: `kill -9` of the signal. The data plane does not depend on the control plane: the origin and
// the edge (both registered with it) keep serving the streams they have to the viewers they have, take
// new viewers, and the origin accepts a publisher whose token the signal issued before it died. When a
// signal comes back on the same address, both nodes register with it again by themselves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCli, waitListening, type CliProcess } from '../helpers/cli-process.js';
import { FlvViewer } from '../helpers/http.js';
import { publishTestStream } from '../helpers/publish.js';
import { parseMediaPlaylist } from '../../src/media/hls/playlist.js';
import { TagType } from '../../src/media/packet.js';
import { ADMIN, SECRET, timed } from './cluster.js';
import { waitFor, sleep } from '../helpers/wait.js';
import { freePort } from '../helpers/net.js';

const isKeyframe = (p: { type: number; payload: Buffer }): boolean => p.type === TagType.Video && ((p.payload[0] ?? 0) >> 4) === 1;

test('kill -9 of the signal: origin and edge keep serving, take new viewers and publishers, re-register when it returns', async () => {
  const [rtmpPort, originPort, edgePort, signalPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const signalBase = `http://127.0.0.1:${signalPort}`;
  const originBase = `http://127.0.0.1:${originPort}`;
  const edgeBase = `http://127.0.0.1:${edgePort}`;
  const env = { LIVECDN_SECRET: SECRET };
  const signalArgs = ['--api-port', String(signalPort), '--host', '127.0.0.1', '--node-ttl', '3'];
  const procs: CliProcess[] = [];
  const viewers: FlvViewer[] = [];
  const publishers: Array<ReturnType<typeof publishTestStream>> = [];
  try {
    const signal = startCli('signal', signalArgs, env);
    procs.push(signal);
    await waitListening(signal, `${signalBase}/api/health`);
    const origin = startCli(
      'origin',
      ['--host', '127.0.0.1', '--rtmp-port', String(rtmpPort), '--http-port', String(originPort), '--signal', signalBase, '--public-url', originBase, '--rtmp-url', `rtmp://127.0.0.1:${rtmpPort}`, '--node-id', 'origin-chaos', '--heartbeat', '0.5', '--hls-segment', '1'],
      env,
    );
    const edge = startCli(
      'edge',
      ['--host', '127.0.0.1', '--http-port', String(edgePort), '--upstream', originBase, '--signal', signalBase, '--public-url', edgeBase, '--node-id', 'edge-chaos', '--heartbeat', '0.5'],
      env,
    );
    procs.push(origin, edge);
    await waitListening(origin, `${originBase}/healthz`);
    await waitListening(edge, `${edgeBase}/healthz`);
    const registered = async (): Promise<string[]> => {
      const r = await timed(`${signalBase}/api/nodes`, {}, 2000);
      return r.status === 200 ? (JSON.parse(r.text) as { nodes: Array<{ id: string }> }).nodes.map((n) => n.id).sort() : [];
    };
    await waitFor('origin and edge registered', async () => ((await registered()).join() === 'edge-chaos,origin-chaos' ? true : undefined), 20_000, 100);

    // Two streams from the signal: one published now, one whose publisher comes while the signal is dead.
    const pushUrl = async (name: string): Promise<string> => {
      const r = await timed(`${signalBase}/api/streams`, { method: 'POST', headers: { 'content-type': 'application/json', ...ADMIN }, body: JSON.stringify({ app: 'live', name }) });
      assert.equal(r.status, 201, r.text);
      return (JSON.parse(r.text) as { pushUrl: string }).pushUrl;
    };
    const nowUrl = await pushUrl('now');
    const laterUrl = await pushUrl('later');
    assert.match(nowUrl, /^rtmp:\/\/127\.0\.0\.1:\d+\/live\/now\?token=/, 'placed on the registered origin, with a publish token');
    publishers.push(publishTestStream(nowUrl, 'baseline+aac-mono', { gopS: 1 }));
    await waitFor('the stream on the origin', async () => ((await timed(`${originBase}/live/now.m3u8`)).status === 200 ? true : undefined), 20_000, 200);
    const flv = await FlvViewer.open(`${edgeBase}/live/now.flv`);
    viewers.push(flv);
    await flv.waitFor(isKeyframe, 15_000);
    const playlistSeq = async (base: string): Promise<number> => {
      const r = await timed(`${base}/live/now.m3u8`, {}, 3000);
      assert.equal(r.status, 200, `${base}: ${r.status} ${r.text}`);
      const p = parseMediaPlaylist(r.text);
      return p.mediaSequence + p.segments.length;
    };
    const seq0 = { origin: await playlistSeq(originBase), edge: await playlistSeq(edgeBase) };

    await signal.kill();
    const packets0 = flv.packets.length;
    // Several heartbeat periods without a control plane.
    await sleep(4000);
    assert.ok(flv.packets.length > packets0 + 50 && !flv.ended, `the FLV viewer kept receiving (${flv.packets.length - packets0} packets)`);
    assert.ok((await playlistSeq(originBase)) > seq0.origin, 'the origin playlist advanced');
    assert.ok((await playlistSeq(edgeBase)) > seq0.edge, 'the edge playlist advanced');
    // New viewers, on the edge and on the origin.
    const flv2 = await FlvViewer.open(`${edgeBase}/live/now.flv`);
    viewers.push(flv2);
    assert.equal(flv2.status, 200);
    await flv2.waitFor(isKeyframe, 10_000);
    const flv3 = await FlvViewer.open(`${originBase}/live/now.flv`);
    viewers.push(flv3);
    await flv3.waitFor(isKeyframe, 10_000);
    // A new publisher with a token issued before: the origin checks it alone, and the edge relays it.
    publishers.push(publishTestStream(laterUrl, 'baseline+aac-mono', { gopS: 1 }));
    await waitFor('the later stream on the origin', async () => ((await timed(`${originBase}/live/later.m3u8`)).status === 200 ? true : undefined), 20_000, 200);
    const flv4 = await FlvViewer.open(`${edgeBase}/live/later.flv`);
    viewers.push(flv4);
    await flv4.waitFor(isKeyframe, 10_000);
    assert.ok(origin.alive() && edge.alive());

    // A signal again on the same address (its registry is empty): both nodes register by themselves.
    const again = startCli('signal', signalArgs, env);
    procs.push(again);
    await waitListening(again, `${signalBase}/api/health`);
    await waitFor('origin and edge registered again', async () => ((await registered()).join() === 'edge-chaos,origin-chaos' ? true : undefined), 15_000, 100);
    assert.ok(!flv.ended, 'viewers never noticed');
    for (const p of [origin, edge]) assert.doesNotMatch(p.stdout(), /"level":(50|60)/, 'a lost control plane is logged as a warning, not an error');
  } finally {
    for (const p of publishers) p.stop();
    for (const v of viewers) v.close();
    await Promise.all(procs.map((p) => p.stop()));
  }
});
