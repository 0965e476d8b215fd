// FFmpeg publishing to a real origin with tokens from the signal service: a valid token is accepted; a
// forged, expired or revoked one is refused. Two origins: one checks the token itself (shared secret)
// and asks the hook; the other has no secret and relies on the signal's on_publish hook alone.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Signal } from '../../src/signal/signal.js';
import { signPublishToken } from '../../src/shared/token.js';
import { deriveKeys } from '../../src/shared/keys.js';
import { startOrigin } from '../helpers/origin.js';
import type { TestOrigin } from '../helpers/origin.js';
import { publishTestStream } from '../helpers/publish.js';
import { admin, nodeReq, req } from './util.js';
import { sleep } from '../helpers/wait.js';

const KEYS = deriveKeys('origin-publish-secret-of-at-least-32-bytes');

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Publishing is refused when ffmpeg gives up on its own with an error, and the origin never lists it. */
async function assertRefused(o: TestOrigin, pushUrl: string, stream: string): Promise<void> {
  const p = publishTestStream(pushUrl, 'video-only', { durationS: 10 });
  try {
    const code = await Promise.race([p.exited, sleep(8000).then(() => 'timeout' as const)]);
    assert.notEqual(code, 'timeout', `ffmpeg kept publishing to ${pushUrl}`);
    assert.notEqual(code, 0, 'ffmpeg must fail');
    const live = (await req(o.httpBase, 'GET', '/api/streams')).body as unknown as { streams?: Array<{ name: string }> } | Array<{ name: string }>;
    const list = Array.isArray(live) ? live : (live.streams ?? []);
    assert.ok(!list.some((s) => s.name === stream), 'the origin does not list the refused stream');
  } finally {
    await p.stop();
  }
}

const isLiveOnOrigin = async (o: TestOrigin, stream: string): Promise<boolean> => {
  const body = (await req(o.httpBase, 'GET', '/api/streams')).body as unknown as { streams?: Array<{ name: string }> } | Array<{ name: string }>;
  const list = Array.isArray(body) ? body : (body.streams ?? []);
  return list.some((s) => s.name === stream);
};

describe('FFmpeg publishing through a real origin with signal tokens', () => {
  let signal: Signal;
  let base: string;
  let withSecret: TestOrigin | undefined;
  let hookOnly: TestOrigin | undefined;

  before(async () => {
    signal = new Signal({ apiPort: 0, host: '127.0.0.1', keys: KEYS });
    base = `http://127.0.0.1:${(await signal.start()).apiPort}`;
    const hooks = { onPublish: `${base}/api/hooks/on_publish`, onDone: `${base}/api/hooks/on_done` };
    withSecret = await startOrigin({ keys: KEYS, ...hooks });
    hookOnly = await startOrigin({ ...hooks });
  });

  after(async () => {
    await withSecret?.stop();
    await hookOnly?.stop();
    await signal?.stop();
  });

  const register = async (o: TestOrigin, id: string) => {
    await nodeReq(base, 'DELETE', `/api/nodes/${id === 'o-secret' ? 'o-hook' : 'o-secret'}`, undefined, KEYS);
    const r = await nodeReq(base, 'POST', '/api/nodes', { id, kind: 'origin', region: 'eu', publicUrl: o.httpBase, rtmpUrl: `rtmp://127.0.0.1:${o.rtmpPort}`, capacity: 10 }, KEYS);
    assert.equal(r.status, 201);
  };

  for (const mode of ['secret', 'hook'] as const) {
    test(`origin with ${mode === 'secret' ? 'the shared secret and the hook' : 'the on_publish hook only'}: valid, forged, expired, revoked`, async () => {
      const o = (mode === 'secret' ? withSecret : hookOnly) as TestOrigin;
      await register(o, mode === 'secret' ? 'o-secret' : 'o-hook');
      const name = `cam-${mode}`;
      const created = await req(base, 'POST', '/api/streams', { name }, admin(KEYS));
      assert.equal(created.status, 201);
      const pushUrl = String(created.body.pushUrl);
      assert.ok(pushUrl.startsWith(`rtmp://127.0.0.1:${o.rtmpPort}/live/${name}?token=`), pushUrl);

      // valid: live on the origin, and the hook told the signal
      const pub = publishTestStream(pushUrl, 'video-only');
      try {
        await until('the stream to be live on the origin', () => isLiveOnOrigin(o, name));
        await until('the signal to see it live', async () => (await req(base, 'GET', `/api/streams/live.${name}`)).body.live === true);

        // revoked: the origin drops the publisher at once
        const del = await req(base, 'DELETE', `/api/streams/live.${name}`, undefined, admin(KEYS));
        assert.equal(del.status, 200);
        const kicks = del.body.kicked as Array<{ url: string; status: number | null }>;
        const mine = kicks.find((k) => k.url.startsWith(o.httpBase));
        // the origin with keys checks the kick's signature; the one without (a development origin) takes any kick
        assert.equal(mine?.status, 200, JSON.stringify(kicks));
        const code = await Promise.race([pub.exited, sleep(8000).then(() => 'timeout' as const)]);
        assert.notEqual(code, 'timeout', 'the kicked ffmpeg ends');
        await until('the stream to leave the origin', async () => !(await isLiveOnOrigin(o, name)));
      } finally {
        await pub.stop();
      }
      await until('the publisher to be gone', async () => !(await isLiveOnOrigin(o, name)));
      // the revoked token is refused when ffmpeg comes back with it
      await assertRefused(o, pushUrl, name);

      const rtmp = `rtmp://127.0.0.1:${o.rtmpPort}/live`;
      const fresh = `${name}-2`;
      const forged = signPublishToken({ app: 'live', stream: fresh, expSec: Math.floor(Date.now() / 1000) + 3600 }, deriveKeys('not-the-secret-of-this-cluster-at-all!').publish);
      await assertRefused(o, `${rtmp}/${fresh}?token=${forged}`, fresh);
      const expired = signPublishToken({ app: 'live', stream: fresh, expSec: Math.floor(Date.now() / 1000) - 10 }, KEYS.publish);
      await assertRefused(o, `${rtmp}/${fresh}?token=${expired}`, fresh);
      await assertRefused(o, `${rtmp}/${fresh}`, fresh);

      const refusals = await (await fetch(`${base}/metrics`)).text();
      assert.match(refusals, /livecdn_signal_hooks_total\{hook="on_publish",result="revoked"\} [1-9]/);
    });
  }
});
