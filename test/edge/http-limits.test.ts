// The HTTP listener limits of `livecdn origin` and `livecdn edge`, against real processes (issue 8,
// item 7): a slowloris client (a header byte a second) and a client that connects and sends nothing are
// dropped within the headers timeout; connections past the cap are closed at once and the node answers
// again once the hogs are gone; meanwhile an HTTP-FLV viewer's stream keeps flowing, the process stays
// up and its memory bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TagType } from '../../src/media/packet.js';
import { startCli, waitListening, type CliProcess } from '../helpers/cli-process.js';
import { hog } from '../helpers/slow-client.js';
import { FlvViewer } from '../helpers/http.js';
import { startOrigin } from '../helpers/origin.js';
import { publishTestStream } from '../helpers/publish.js';
import { get } from './util.js';
import { waitFor, sleep } from '../helpers/wait.js';
import { freePort } from '../helpers/net.js';

const HEADERS_TIMEOUT_S = 3;
const MAX_CONNECTIONS = 40;
const LIMIT_FLAGS = ['--http-headers-timeout', String(HEADERS_TIMEOUT_S), '--http-request-timeout', '5', '--http-max-connections', String(MAX_CONNECTIONS)];

async function attack(node: CliProcess, port: number, viewer: FlvViewer): Promise<void> {
  const rssBefore = node.rss();
  const bytesBefore = viewer.bytes;

  // Slowloris and a silent connection: dropped within the headers timeout (plus Node's check period).
  const slow = hog(port, true, '/live/s.m3u8');
  const silent = hog(port, false);
  await waitFor('slow clients dropped', () => (slow.closedAfter !== undefined && silent.closedAfter !== undefined ? true : undefined), 15_000, 100);
  for (const [what, h] of [['slowloris', slow], ['silent', silent]] as const) {
    assert.ok((h.closedAfter ?? Infinity) <= (HEADERS_TIMEOUT_S + 2.5) * 1000, `${what} dropped after ${h.closedAfter} ms`);
  }

  // Past the cap: the extra connections are closed at once, the others held until their timeout.
  const hogs = Array.from({ length: MAX_CONNECTIONS + 20 }, (_, i) => hog(port, i % 2 === 0, '/live/s.m3u8'));
  await sleep(1000);
  const refused = hogs.filter((h) => h.closedAfter !== undefined && h.closedAfter < 1000);
  const held = hogs.filter((h) => h.closedAfter === undefined);
  assert.ok(refused.length >= 20, `connections past the cap refused: ${refused.length}`);
  assert.ok(held.length <= MAX_CONNECTIONS, `held ${held.length}`);
  assert.ok(refused.every((h) => h.silent), 'refused without an answer');
  await assert.rejects(get(`http://127.0.0.1:${port}/healthz`), 'a new client is refused while the cap is reached');
  const during = viewer.bytes;
  assert.ok(during > bytesBefore, 'the viewer kept receiving while the cap was reached');

  // The hogs time out; the node answers again, the viewer still flows.
  await waitFor('the node answers again', async () => ((await get(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status === 200 ? true : undefined), 15_000, 200);
  for (const h of hogs) h.socket.destroy();
  await waitFor('the viewer keeps receiving', () => (viewer.bytes > during ? true : undefined), 5000);
  assert.ok(!viewer.ended, 'the viewer was never cut (its request completed: no request timeout applies)');
  assert.ok(node.alive(), node.stderr());
  const grown = node.rss() - rssBefore;
  assert.ok(grown < 64 * 1024 * 1024, `RSS grew by ${Math.round(grown / 1024 / 1024)} MB`);
}

test('origin process: slowloris and silent clients dropped, connections past the cap refused, a viewer keeps flowing', async (t) => {
  const [rtmpPort, httpPort] = [await freePort(), await freePort()];
  const origin = startCli('origin', ['--host', '127.0.0.1', '--rtmp-port', String(rtmpPort), '--http-port', String(httpPort), '--hls-segment', '1', ...LIMIT_FLAGS]);
  t.after(() => origin.stop());
  await waitListening(origin, `http://127.0.0.1:${httpPort}/healthz`);
  const publisher = publishTestStream(`rtmp://127.0.0.1:${rtmpPort}/live/s`, 'baseline+aac-mono', { gopS: 1 });
  t.after(() => publisher.stop());
  const viewer = await FlvViewer.openLive(`http://127.0.0.1:${httpPort}/live/s.flv`, 20_000);
  t.after(() => viewer.close());
  await viewer.waitFor((p) => p.type === TagType.Video, 10_000);
  await attack(origin, httpPort, viewer);
});

test('edge process: slowloris and silent clients dropped, connections past the cap refused, a viewer keeps flowing', async (t) => {
  const origin = await startOrigin({ hlsSegmentMs: 1000 }, t);
  const publisher = publishTestStream(origin.rtmpUrl('live', 's'), 'baseline+aac-mono', { gopS: 1 });
  t.after(() => publisher.stop());
  const port = await freePort();
  const edge = startCli('edge', ['--upstream', origin.httpBase, '--host', '127.0.0.1', '--http-port', String(port), ...LIMIT_FLAGS]);
  t.after(() => edge.stop());
  await waitListening(edge, `http://127.0.0.1:${port}/healthz`);
  const viewer = await FlvViewer.openLive(`http://127.0.0.1:${port}/live/s.flv`, 20_000);
  t.after(() => viewer.close());
  await viewer.waitFor((p) => p.type === TagType.Video, 10_000);
  await attack(edge, port, viewer);
});
