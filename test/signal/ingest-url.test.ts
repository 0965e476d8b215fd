// `--ingest-url` (SignalConfig.ingestRtmpUrl): POST /api/streams hands out push URLs on the ingest front
// (nginx/ingest.conf.template) whatever the registered origins, so a publisher whose origin died reconnects
// to the same URL and the front takes it to a live one. test/cluster/failover.test.ts runs it for real.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Signal } from '../../src/signal/signal.js';
import { TEST_KEYS, admin, load, nodeReq, req } from './util.js';

let signal: Signal;
let base: string;

before(async () => {
  signal = new Signal({ apiPort: 0, host: '127.0.0.1', keys: TEST_KEYS, ingestRtmpUrl: 'rtmp://ingest.test:1935/' });
  base = `http://127.0.0.1:${(await signal.start()).apiPort}`;
});

after(() => signal.stop());

test('push URLs are on the ingest front, with or without registered origins, and name no origin', async () => {
  const expectFront = async (name: string): Promise<void> => {
    const r = await req(base, 'POST', '/api/streams', { name }, admin());
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.match(String(r.body.pushUrl), new RegExp(`^rtmp://ingest\\.test:1935/live/${name}\\?token=`));
    assert.deepEqual(r.body.obs, { server: 'rtmp://ingest.test:1935/live', streamKey: String(r.body.pushUrl).split('/live/')[1] });
    assert.equal(r.body.origin, null, 'the front picks the origin');
  };
  // No origin registered yet (the front may know them before the signal does): no 503.
  await expectFront('early');
  const origin = { id: 'origin-a', kind: 'origin', region: 'eu', publicUrl: 'http://origin-a.test:8080', rtmpUrl: 'rtmp://origin-a.test:1935', capacity: 1 };
  assert.equal((await nodeReq(base, 'POST', '/api/nodes', origin)).status, 201);
  await expectFront('registered');
  // Even a full origin does not turn the URL into its own or a 503: the front and the origins decide.
  assert.equal((await nodeReq(base, 'POST', '/api/nodes/origin-a/heartbeat', { load: load(0, [], 1) })).status, 204);
  await expectFront('full');
});
