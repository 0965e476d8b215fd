// Hostile clients against a real `livecdn signal` process (issue 8, items 1, 6, 7 and 8 for the signal): a
// request that used to end the process (a chat upgrade with a bad escape or a bad target), the confirmed
// take-over of an open control plane, slowloris and silent connections, and a connection flood past the cap. Each time the process stays up, its memory
// stays bounded, and a chat room beside the attack keeps delivering messages to its members.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { adminToken, deriveKeys } from '../../src/shared/keys.js';
import { startCli, waitListening, type CliProcess } from '../helpers/cli-process.js';
import { hog } from '../helpers/slow-client.js';
import { ChatClient, req } from './util.js';
import { waitFor, sleep } from '../helpers/wait.js';
import { freePort } from '../helpers/net.js';

const ROOT = 'signal-hardening-root-secret-0123456789';
const ADMIN = { authorization: `Bearer ${adminToken(deriveKeys(ROOT))}` };
const HEADERS_TIMEOUT_S = 3;
const MAX_CONNECTIONS = 40;

let proc: CliProcess;
let base: string;
let port: number;
let speaker: ChatClient;
let listener: ChatClient;
let chatTimer: NodeJS.Timeout | undefined;
/** The configured --origin-http: records every request's raw headers, as a kick target would see them. */
let origin: Server;
const originSaw: string[] = [];

before(async () => {
  origin = createServer((r, res) => {
    originSaw.push(`${r.method ?? ''} ${r.url ?? ''}\n${r.rawHeaders.join('\n')}`);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  const originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  port = await freePort();
  base = `http://127.0.0.1:${port}`;
  proc = startCli(
    'signal',
    ['--api-port', String(port), '--host', '127.0.0.1', '--http-headers-timeout', String(HEADERS_TIMEOUT_S), '--http-request-timeout', '5', '--http-max-connections', String(MAX_CONNECTIONS), '--origin-rtmp', 'rtmp://o.test:1935', '--origin-http', originUrl],
    { LIVECDN_SECRET: ROOT },
  );
  await waitListening(proc, `${base}/api/health`);
  assert.equal((await req(base, 'POST', '/api/streams', { name: 'beside' }, ADMIN)).status, 201);
  // The healthy traffic beside every attack: one member speaks twice a second, another listens.
  const room = `ws://127.0.0.1:${port}/api/streams/live.beside/chat`;
  speaker = await ChatClient.join(`${room}?name=speaker`);
  listener = await ChatClient.join(`${room}?name=listener`);
  let n = 0;
  chatTimer = setInterval(() => speaker.send(`tick ${n++}`), 500);
});

after(async () => {
  clearInterval(chatTimer);
  speaker?.close();
  listener?.close();
  await proc?.stop();
  await new Promise<void>((resolve) => (origin ? origin.close(() => resolve()) : resolve()));
});

/** The listener keeps receiving the speaker's messages. */
async function chatFlows(): Promise<void> {
  const before = listener.messages().length;
  const end = Date.now() + 5000;
  while (listener.messages().length < before + 2) {
    assert.ok(Date.now() < end, 'the chat room beside the attack kept delivering');
    await sleep(100);
  }
}

/** Sends raw bytes on a fresh connection; resolves with what came back before the close (or 3 s). */
function raw(request: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(request));
    let got = '';
    const timer = setTimeout(() => s.destroy(), 3000);
    s.on('data', (b: Buffer) => (got += b.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
  });
}

const upgrade = (target: string): string =>
  `GET ${target} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;

test('a chat upgrade with a bad escape or a bad target is answered 400; the signal stays up', async () => {
  const rssBefore = proc.rss();
  assert.match(await raw(upgrade('/api/streams/%/chat')), /^HTTP\/1\.1 400 /);
  assert.match(await raw(upgrade('/api/streams/%E0%A4%A/chat')), /^HTTP\/1\.1 400 /);
  assert.match(await raw(upgrade('//[')), /^HTTP\/1\.1 400 /);
  assert.match(await raw(upgrade('//[/api/streams/live.beside/chat')), /^HTTP\/1\.1 400 /);
  // the same targets as plain requests
  for (const target of ['//[', '/api/streams/%/chat', '/api/play/%/x', '/api/streams/%']) {
    assert.match(await raw(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`), /^HTTP\/1\.1 4\d\d /, target);
  }
  assert.ok(proc.alive(), proc.stderr());
  // many of them: still up, memory bounded, the room next door unaffected
  for (let i = 0; i < 20; i++) {
    await Promise.all(Array.from({ length: 25 }, (_, j) => raw(upgrade(j % 2 ? '/api/streams/%/chat' : '//['))));
  }
  assert.ok(proc.alive(), proc.stderr());
  assert.equal((await req(base, 'GET', '/api/health')).status, 200);
  await chatFlows();
  const grown = proc.rss() - rssBefore;
  assert.ok(grown < 64 * 1024 * 1024, `RSS grew ${(grown / 1048576).toFixed(1)} MB`);
});

test('the confirmed take-over is closed: no anonymous node, stream or revocation; kicks carry no secret', async () => {
  // 1. an anonymous fake origin cannot register, 2. nor can anyone mint, revoke or delete without the admin token
  const fake = { id: 'origin-evil', kind: 'origin', region: 'eu', publicUrl: 'http://127.0.0.1:9', rtmpUrl: 'rtmp://127.0.0.1:9', capacity: 100 };
  assert.equal((await req(base, 'POST', '/api/nodes', fake)).status, 401);
  assert.equal((await req(base, 'POST', '/api/nodes', fake, { authorization: `Bearer ${ROOT}` })).status, 401);
  assert.equal((await req(base, 'POST', '/api/streams', { name: 'victim' })).status, 401);
  assert.equal((await req(base, 'DELETE', '/api/streams/live.beside')).status, 401);
  assert.equal((await req(base, 'DELETE', '/api/nodes/anything')).status, 401);
  assert.deepEqual((await req(base, 'GET', '/api/nodes')).body.nodes, []);
  // 3. a revocation by the operator reaches the configured origin signed: no secret, no admin token on the wire
  assert.equal((await req(base, 'POST', '/api/streams', { name: 'victim' }, ADMIN)).status, 201);
  originSaw.length = 0;
  const del = await req(base, 'DELETE', '/api/streams/live.victim', undefined, ADMIN);
  assert.equal(del.status, 200);
  assert.equal(originSaw.length, 1, 'one kick, to the configured origin only');
  const keys = deriveKeys(ROOT);
  for (const secret of [ROOT, adminToken(keys), ...Object.values(keys).map((k: Buffer) => k.toString('base64url'))]) {
    assert.ok(!originSaw[0]?.includes(secret), 'no secret or key in the kick');
  }
  assert.match(originSaw[0] ?? '', /^DELETE \/api\/streams\/live\/victim\n[\s\S]*X-Livecdn-Signature\nt=\d+,s=/i);
  assert.doesNotMatch(originSaw[0] ?? '', /authorization/i);
  assert.ok(proc.alive(), proc.stderr());
});

const health = async (): Promise<number | undefined> =>
  (await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined))?.status;

test('slowloris and silent clients are dropped; past the connection cap new ones are refused, then served again', async () => {
  const rssBefore = proc.rss();
  const slow = hog(port, true, '/api/health');
  const silent = hog(port, false, '/api/health');
  await waitFor('slow clients dropped', () => (slow.closedAfter !== undefined && silent.closedAfter !== undefined) || undefined, 15_000, 100);
  for (const [what, h] of [['slowloris', slow], ['silent', silent]] as const) {
    assert.ok((h.closedAfter ?? Infinity) <= (HEADERS_TIMEOUT_S + 2.5) * 1000, `${what} dropped after ${h.closedAfter} ms`);
  }
  await chatFlows();

  // The two chat members hold two of the slots; the hogs take the rest and more.
  const hogs = Array.from({ length: MAX_CONNECTIONS + 20 }, (_, i) => hog(port, i % 2 === 0, '/api/health'));
  await sleep(1000);
  const refused = hogs.filter((h) => h.closedAfter !== undefined && h.closedAfter < 1000);
  const held = hogs.filter((h) => h.closedAfter === undefined);
  assert.ok(refused.length >= 20, `connections past the cap refused: ${refused.length}`);
  assert.ok(held.length <= MAX_CONNECTIONS, `held ${held.length}`);
  // A slot freed meanwhile (an idle keep-alive connection of this test process closing) is taken again.
  hogs.push(...Array.from({ length: 10 }, () => hog(port, false, '/api/health')));
  await sleep(300);
  // a fresh connection (fetch would reuse a kept-alive one)
  assert.equal(await raw('GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), '', 'a new client is refused while the cap is reached');
  // the members already in keep talking
  await chatFlows();
  for (const h of hogs) h.socket.destroy();
  await waitFor('the signal answers a new client again', async () => (await health()) === 200 || undefined, 10_000, 100);
  assert.ok(proc.alive(), proc.stderr());
  await chatFlows();
  const grown = proc.rss() - rssBefore;
  assert.ok(grown < 64 * 1024 * 1024, `RSS grew ${(grown / 1048576).toFixed(1)} MB`);
});
