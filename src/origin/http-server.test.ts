// The origin's router answers a route that throws with a 500 "internal error": the exception's text,
// which may name files or internals, is logged and never sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../shared/log.js';
import { HttpServer } from './http-server.js';

test('a route that throws answers 500 without the exception message; other routes keep working', async (t) => {
  const http = new HttpServer(createLogger('test', 'silent'))
    .route('GET', /^\/boom$/, async () => {
      await Promise.resolve();
      throw new Error('cannot open /srv/livecdn/secret.key');
    })
    .route('GET', /^\/ok$/, (_req, res) => void res.end('ok'));
  const port = await http.listen(0, '127.0.0.1');
  t.after(() => http.close());
  const res = await fetch(`http://127.0.0.1:${port}/boom`);
  const body = await res.text();
  assert.equal(res.status, 500);
  assert.deepEqual(JSON.parse(body), { error: 'internal', message: 'internal error' });
  assert.ok(!body.includes('secret'), body);
  assert.equal(res.headers.get('access-control-allow-origin'), '*', 'errors are readable cross-origin like the rest');
  assert.equal(await (await fetch(`http://127.0.0.1:${port}/ok`)).text(), 'ok');
});
