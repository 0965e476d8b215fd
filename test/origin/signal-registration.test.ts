// `livecdn origin --signal ...` registers with a real signal service as kind 'origin' with its rtmpUrl,
// heartbeats its load, is where the signal places publish URLs, accepts FFmpeg with the signal's token,
// is kicked by the signal's revocation, and deregisters on SIGTERM.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { Signal } from '../../src/signal/signal.js';
import { adminToken, deriveKeys } from '../../src/shared/keys.js';
import type { NodeRecord } from '../../src/shared/cluster.js';
import { originCliConfig } from '../helpers/origin.js';
import { fetchText } from '../helpers/http.js';
import { publishTestStream } from '../helpers/publish.js';
import { waitFor } from '../helpers/wait.js';
import { freePort } from '../helpers/net.js';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const SECRET = 'registration-root-secret-0123456789abcdef';
const KEYS = deriveKeys(SECRET);

let signal: Signal;
let signalBase: string;
let child: ChildProcess | undefined;
let stderr = '';

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetchText(`${signalBase}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken(KEYS)}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: r.status, json: r.text ? (JSON.parse(r.text) as Record<string, unknown>) : {} };
}

const nodes = async (): Promise<NodeRecord[]> => (await api('GET', '/api/nodes')).json.nodes as NodeRecord[];

before(async () => {
  signal = new Signal({ apiPort: 0, host: '127.0.0.1', keys: KEYS });
  signalBase = `http://127.0.0.1:${(await signal.start()).apiPort}`;
});

after(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await signal?.stop();
});

test('the --signal flags map onto the registration config, named as the edge names them', () => {
  const argv = ['--signal', 'http://signal.test:8090', '--public-url', 'http://o1.test:8080', '--rtmp-url', 'rtmp://o1.test:1935'];
  argv.push('--region', 'eu', '--node-id', 'origin-1', '--secret', SECRET, '--heartbeat', '2', '--play-wait', '7');
  const config = originCliConfig(argv);
  // the registration is signed with the node key derived from the secret
  assert.deepEqual(config.keys?.node, KEYS.node);
  assert.deepEqual(config.signal, {
    url: ['http://signal.test:8090'],
    region: 'eu',
    nodeId: 'origin-1',
    publicUrl: 'http://o1.test:8080',
    rtmpUrl: 'rtmp://o1.test:1935',
    capacity: 100,
    heartbeatMs: 2000,
  });
  assert.equal(config.playWaitMs, 7000);
  // several signal instances: a comma-separated list, each an http(s) URL
  assert.deepEqual(originCliConfig(['--signal', 'http://s1.test:8090, http://s2.test:8090']).signal?.url, ['http://s1.test:8090', 'http://s2.test:8090']);
  assert.throws(() => originCliConfig(['--signal', 'http://s1.test:8090,ftp://s2']), /--signal: must be an http:\/\/ or https:\/\/ URL/);
  assert.throws(() => originCliConfig(['--rtmp-url', 'http://wrong', '--region', 'no spaces']), /--rtmp-url: must be an rtmp:\/\/[\s\S]*--region/);
  const plain = originCliConfig([]);
  assert.equal(plain.signal, undefined, 'no --signal: no registration');
  assert.equal(plain.playWaitMs, 30_000, 'viewers wait for a publisher by default, as with SRS');
});

test('an origin started with --signal is placed by the signal, takes FFmpeg with its token and deregisters on stop', async () => {
  const [rtmpPort, httpPort] = [await freePort(), await freePort()];
  const publicUrl = `http://127.0.0.1:${httpPort}`;
  const rtmpUrl = `rtmp://127.0.0.1:${rtmpPort}`;
  const args = ['--host', '127.0.0.1', '--rtmp-port', String(rtmpPort), '--http-port', String(httpPort)];
  args.push('--signal', signalBase, '--public-url', publicUrl, '--rtmp-url', rtmpUrl);
  args.push('--region', 'eu', '--node-id', 'origin-eu-1', '--heartbeat', '0.3');
  const proc = spawn(process.execPath, ['--import', 'tsx', MAIN, 'origin', ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', LIVECDN_SECRET: SECRET },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child = proc;
  proc.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));

  const me = await waitFor('the origin in GET /api/nodes', async () => (await nodes()).find((n) => n.id === 'origin-eu-1'), 20_000);
  assert.equal(me.kind, 'origin');
  assert.equal(me.region, 'eu');
  assert.equal(me.rtmpUrl, rtmpUrl);
  assert.equal(me.publicUrl, publicUrl);
  const page = await fetchText(`${publicUrl}/player/`, {}, 30_000);
  assert.equal(page.status, 200, 'the origin binary serves the player pages');
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);

  const created = await api('POST', '/api/streams', { name: 'placed' });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const pushUrl = String(created.json.pushUrl);
  assert.ok(pushUrl.startsWith(`${rtmpUrl}/live/placed?token=`), pushUrl);

  const pub = publishTestStream(pushUrl, 'video-only');
  try {
    await waitFor('the stream live on the origin', async () => ((await fetchText(`${publicUrl}/api/streams`)).text.includes('"name":"placed"') ? true : undefined), 15_000);
    // The first heartbeat after the publish may come before the codec is known: wait for one that has it.
    const loaded = await waitFor(
      'a heartbeat with the publisher and its codec',
      async () =>
        (await nodes()).find(
          (n) => n.id === 'origin-eu-1' && n.load.streamStats?.some((s) => s.stream === 'live/placed' && s.publishing === true && s.video === 'h264'),
        ),
      5000,
    );
    assert.equal(loaded.load.publishers, 1);
    assert.ok(loaded.load.streams.includes('live/placed'));
    assert.ok(loaded.load.cpu > 0, 'CPU sampled');
    // The signal's revocation reaches the origin (a DELETE signed with the node key) and ends the publisher.
    const revoked = await api('DELETE', '/api/streams/live.placed');
    assert.equal(revoked.status, 200);
    const kicks = revoked.json.kicked as Array<{ url: string; status: number | null }>;
    assert.equal(kicks.find((k) => k.url.startsWith(publicUrl))?.status, 200, JSON.stringify(kicks));
    const code = await Promise.race([pub.exited, new Promise((r) => setTimeout(() => r('timeout'), 8000))]);
    assert.notEqual(code, 'timeout', 'the kicked ffmpeg ends');
  } finally {
    await pub.stop();
  }

  proc.kill('SIGTERM');
  assert.equal(await exited, 0, stderr);
  assert.equal((await nodes()).some((n) => n.id === 'origin-eu-1'), false, 'deregistered on stop');
});
