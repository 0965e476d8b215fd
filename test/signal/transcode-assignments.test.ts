// GET /api/transcode/assignments on a real signal: node-signed, the caller must be a live transcoder, each
// source of an origin's heartbeat that asks for remote transcoding goes to one transcoder with the
// origin's URLs and job, and a transcoder that stops heartbeating loses its sources to another by the TTL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Signal } from '../../src/signal/signal.js';
import type { NodeLoad, TranscodeAssignment, TranscodeJob } from '../../src/shared/cluster.js';
import { TRANSCODE_ASSIGNMENTS_PATH } from '../../src/shared/transcode-job.js';
import { TEST_KEYS, eventually, load, nodeReq, req } from './util.js';

const JOB: TranscodeJob = { rungs: [{ name: '180p', height: 180, videoKbps: 250, maxFps: 30, audioKbps: 64 }], preset: 'ultrafast', tune: null, audio: 'copy', sourceFps: 25 };
const TTL_MS = 1500;

const originLoad = (streams: Array<{ key: string; job?: TranscodeJob; publishing?: boolean }>): NodeLoad => ({
  ...load(0, streams.map((s) => s.key), streams.length),
  streamStats: streams.map((s) => ({ stream: s.key, viewers: 0, publishing: s.publishing ?? true, ...(s.job ? { transcodeJob: s.job, transcode: { where: 'remote' as const, rungsUp: 0, restarts: 0, speed: null } } : {}) })),
});
const transcoder = (id: string, capacity = 4) => ({ id, kind: 'transcoder' as const, region: 'eu', publicUrl: `http://${id}.test:8095`, capacity });
const assignments = async (base: string, id: string): Promise<{ status: number; list: TranscodeAssignment[] }> => {
  const r = await nodeReq(base, 'GET', `${TRANSCODE_ASSIGNMENTS_PATH}?node=${id}`);
  return { status: r.status, list: (r.body as { assignments?: TranscodeAssignment[] }).assignments ?? [] };
};

describe('transcode assignments', () => {
  let signal: Signal;
  let base: string;

  before(async () => {
    signal = new Signal({ apiPort: 0, host: '127.0.0.1', keys: TEST_KEYS, nodeTtlMs: TTL_MS });
    base = `http://127.0.0.1:${(await signal.start()).apiPort}`;
  });
  after(() => signal.stop());

  test('signed, by live transcoders only; each remote source to exactly one; a silent transcoder loses its sources within the TTL', async () => {
    const origin = { id: 'o1', kind: 'origin' as const, region: 'eu', publicUrl: 'http://o1.test:8080', rtmpUrl: 'rtmp://o1.test:1935', capacity: 10 };
    assert.equal((await nodeReq(base, 'POST', '/api/nodes', origin)).status, 201);
    const beat = (id: string, l: NodeLoad) => nodeReq(base, 'POST', `/api/nodes/${id}/heartbeat`, { load: l });
    const oload = originLoad([{ key: 'live/a', job: JOB }, { key: 'live/b', job: JOB }, { key: 'live/plain' }, { key: 'live/gone', job: JOB, publishing: false }]);
    assert.equal((await beat('o1', oload)).status, 204);

    // Unsigned and forged requests are refused before anything is computed; an origin is no transcoder.
    assert.equal((await req(base, 'GET', `${TRANSCODE_ASSIGNMENTS_PATH}?node=t1`)).status, 401);
    assert.equal((await nodeReq(base, 'GET', `${TRANSCODE_ASSIGNMENTS_PATH}?node=t1`, undefined, { ...TEST_KEYS, node: Buffer.alloc(32, 1) })).status, 401);
    assert.equal((await assignments(base, 'o1')).status, 404);
    assert.equal((await assignments(base, 'nobody')).status, 404);
    assert.equal((await nodeReq(base, 'GET', `${TRANSCODE_ASSIGNMENTS_PATH}?node=bad%20id`)).status, 400);

    for (const id of ['t1', 't2']) assert.equal((await nodeReq(base, 'POST', '/api/nodes', transcoder(id))).status, 201);
    const [a1, a2] = await Promise.all([assignments(base, 't1'), assignments(base, 't2')]);
    assert.equal(a1.status, 200);
    const all = [...a1.list, ...a2.list].map((a) => `${a.app}/${a.stream}`).sort();
    assert.deepEqual(all, ['live/a', 'live/b']);
    const one = [...a1.list, ...a2.list][0];
    assert.ok(one);
    assert.equal(one.origin, 'o1');
    assert.equal(one.httpUrl, 'http://o1.test:8080');
    assert.equal(one.rtmpUrl, 'rtmp://o1.test:1935');
    assert.deepEqual(one.rungs, JOB.rungs);
    assert.equal(one.preset, 'ultrafast');
    assert.equal(one.tune, null);

    // The one with a source goes silent, the other keeps heartbeating with what it runs: past the TTL the
    // other has both sources, and the silent one is unknown.
    const [silent, stayer, runs] = a2.list.length > 0 ? ['t2', 't1', a1.list] : ['t1', 't2', a2.list];
    const keys = runs.map((a) => `${a.app}/${a.stream}`);
    const t0 = Date.now();
    const moved = await eventually(async () => {
      await beat('o1', oload);
      await beat(stayer, { ...load(0, keys), streamStats: keys.map((k) => ({ stream: k, viewers: 0, transcode: { where: 'remote', rungsUp: 1, restarts: 0, speed: 1.5 } })) });
      return (await assignments(base, stayer)).list.length === 2;
    }, TTL_MS * 4);
    assert.ok(moved, 'the silent transcoder\'s source did not move');
    assert.ok(Date.now() - t0 <= TTL_MS * 3, `moved after ${Date.now() - t0} ms`);
    assert.equal((await assignments(base, silent)).status, 404);
    // The transcoder's heartbeat (its sources and speed) is accepted and listed.
    assert.equal((await beat(stayer, { ...load(0, ['live/a']), streamStats: [{ stream: 'live/a', viewers: 0, transcode: { where: 'remote', rungsUp: 1, restarts: 0, speed: 1.5 } }] })).status, 204);
    const nodes = (await req(base, 'GET', '/api/nodes')).body as { nodes: Array<{ id: string; kind: string; load: NodeLoad }> };
    const t1 = nodes.nodes.find((n) => n.id === stayer);
    assert.equal(t1?.kind, 'transcoder');
    assert.equal(t1?.load.streamStats?.[0]?.transcode?.speed, 1.5);
  });
});
