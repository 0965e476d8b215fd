// Registration with the control plane, in-process and from the CLI with --workers (node:cluster).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Edge } from '../../src/edge/edge.js';
import type { Heartbeat, NodeRegistration } from '../../src/shared/cluster.js';
import { deriveKeys } from '../../src/shared/keys.js';
import { SIGNATURE_HEADER, verifyRequest } from '../../src/shared/signed-request.js';
import { get, startCliEdge, startFakeUpstream, type FakeUpstream } from './util.js';
import { waitFor } from '../helpers/wait.js';

interface SignalCalls {
  registrations: NodeRegistration[];
  heartbeats: Heartbeat[];
  deletes: string[];
  auth: string[];
  /** Each request's signature checked with the node key as the signal does: ok, or the failure. */
  signatures: string[];
}

/** A control plane stand-in: records calls; forgets the node once (404 on a heartbeat) when asked. */
async function fakeSignal(forgetOnce = false): Promise<FakeUpstream & { calls: SignalCalls }> {
  const calls: SignalCalls = { registrations: [], heartbeats: [], deletes: [], auth: [], signatures: [] };
  let forget = forgetOnce;
  const up = await startFakeUpstream((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      calls.auth.push(req.headers.authorization ?? '');
      const sig = req.headers[SIGNATURE_HEADER];
      const check = verifyRequest(KEYS.node, Array.isArray(sig) ? sig[0] : sig, req.method ?? '', req.url ?? '', body);
      calls.signatures.push(check.ok ? 'ok' : check.reason);
      const url = req.url ?? '';
      if (req.method === 'POST' && url === '/api/nodes') {
        const reg = JSON.parse(body) as NodeRegistration;
        calls.registrations.push(reg);
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: reg.id }));
      } else if (req.method === 'POST' && /^\/api\/nodes\/[^/]+\/heartbeat$/.test(url)) {
        if (forget) {
          forget = false;
          res.writeHead(404);
          res.end();
          return;
        }
        calls.heartbeats.push(JSON.parse(body) as Heartbeat);
        res.writeHead(204);
        res.end();
      } else if (req.method === 'DELETE' && url.startsWith('/api/nodes/')) {
        calls.deletes.push(decodeURIComponent(url.slice('/api/nodes/'.length)));
        res.writeHead(204);
        res.end();
      } else {
        res.writeHead(404);
        res.end();
      }
    });
  });
  return Object.assign(up, { calls });
}

const ROOT = 'edge-signal-test-root-secret-0123456789';
const KEYS = deriveKeys(ROOT);

const segmentUpstream = (): Promise<FakeUpstream> =>
  startFakeUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'video/mp2t', 'cache-control': 'max-age=60' });
    res.end(Buffer.alloc(1000, 7));
  });

test('an edge registers, heartbeats its load, re-registers when forgotten and deregisters on stop', async () => {
  const signal = await fakeSignal(true);
  const up = await segmentUpstream();
  const edge = new Edge({
    upstreams: [up.url],
    httpPort: 0,
    host: '127.0.0.1',
    region: 'eu',
    signal: signal.url,
    keys: KEYS,
    publicUrl: 'http://edge.example:8080',
    heartbeatMs: 100,
  });
  try {
    await edge.start();
    const reg = signal.calls.registrations[0];
    assert.ok(reg);
    assert.equal(reg.kind, 'edge');
    assert.equal(reg.region, 'eu');
    assert.equal(reg.publicUrl, 'http://edge.example:8080');
    assert.equal(reg.id, edge.nodeId);
    assert.ok(reg.capacity > 0);
    await waitFor('re-registration after a 404', () => (signal.calls.registrations.length >= 2 ? true : undefined), 3000);
    await waitFor('a heartbeat', () => signal.calls.heartbeats[0], 3000);
    const hb = signal.calls.heartbeats[0] as Heartbeat;
    assert.equal(hb.id, edge.nodeId);
    for (const k of ['viewers', 'publishers', 'egressBps', 'cpu'] as const) assert.equal(typeof hb.load[k], 'number');
    assert.ok(Array.isArray(hb.load.streams));
    // every request signed with the node key, and no secret sent
    assert.ok(signal.calls.signatures.every((x) => x === 'ok'), signal.calls.signatures.join());
    assert.ok(signal.calls.auth.every((a) => a === ''));
  } finally {
    await edge.stop();
    await up.close();
  }
  assert.deepEqual(signal.calls.deletes, [edge.nodeId]);
  await signal.close();
});

test('livecdn edge --workers 2: one port, one registration, metrics summed over workers, clean SIGTERM', async () => {
  const signal = await fakeSignal();
  const up = await segmentUpstream();
  const edge = await startCliEdge(['--upstream', up.url, '--workers', '2', '--signal', signal.url, '--heartbeat', '0.2', '--node-id', 'edge-cli-test'], { LIVECDN_SECRET: ROOT });
  try {
    await waitFor('registration', () => signal.calls.registrations[0], 20_000).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${edge.stderr()}`);
    });
    const base = edge.base;
    for (let i = 0; i < 20; i++) assert.equal((await get(`${base}/live/s/${i}.ts`)).status, 200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /livecdn_edge_cache_requests_total\{kind="segment",result="miss"\} 20\b/, 'summed over both workers');
    // A second round: hits wherever the segment is already held (the owner always holds it).
    for (let i = 0; i < 20; i++) assert.equal((await get(`${base}/live/s/${i}.ts`)).status, 200);
    for (let i = 0; i < 20; i++) assert.equal(up.count(`/live/s/${i}.ts`), 1, `segment ${i} fetched once by the whole edge`);
    const hb = await waitFor('a heartbeat with a hit ratio', () => signal.calls.heartbeats.find((h) => (h.load.cacheHitRatio ?? 0) > 0), 5000);
    assert.ok((hb.load.cacheHitRatio ?? 2) <= 1);
    assert.equal(signal.calls.registrations.length, 1, 'the primary registers once for all workers');
    assert.equal(signal.calls.registrations[0]?.id, 'edge-cli-test');
    edge.child.kill('SIGTERM');
    assert.equal(await edge.exited, 0);
    assert.deepEqual(signal.calls.deletes, ['edge-cli-test']);
    assert.ok(signal.calls.signatures.every((x) => x === 'ok'), signal.calls.signatures.join());
  } finally {
    await edge.stop();
    await up.close();
    await signal.close();
  }
});
