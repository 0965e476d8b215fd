// The origin serves the player pages under /player/ (mounted as the CLI mounts them), and /api/streams and
// /metrics carry CORS headers so that the dashboard on another host can read them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { originCliConfig, startOrigin } from '../helpers/origin.js';
import { fetchText } from '../helpers/http.js';

test('/player/ answers the player page; /api/streams and /metrics are readable cross-origin', async (t) => {
  // Only the handlers from the CLI's config: ports and the rest stay the test helper's.
  const { pages } = originCliConfig([]);
  const o = await startOrigin({ pages }, t);
  const page = await fetchText(`${o.httpBase}/player/`, {}, 30_000);
  assert.equal(page.status, 200, page.text.slice(0, 300));
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(page.text, /<html/i);
  const dashboard = await fetchText(`${o.httpBase}/player/dashboard.html`);
  assert.equal(dashboard.status, 200);
  assert.equal((await fetchText(`${o.httpBase}/player/../etc/passwd`)).status, 404, 'fetch normalizes to /etc/passwd: not ours');
  assert.equal((await fetchText(`${o.httpBase}/player/nosuch.js`)).status, 404);

  const origin = { Origin: 'http://dashboard.example' };
  for (const path of ['/api/streams', '/metrics']) {
    const r = await fetchText(`${o.httpBase}${path}`, { headers: origin });
    assert.equal(r.status, 200, path);
    assert.equal(r.headers.get('access-control-allow-origin'), '*', path);
    const pre = await fetch(`${o.httpBase}${path}`, {
      method: 'OPTIONS',
      headers: { ...origin, 'Access-Control-Request-Method': 'GET' },
    });
    await pre.arrayBuffer();
    assert.equal(pre.status, 204, `preflight ${path}`);
    assert.equal(pre.headers.get('access-control-allow-origin'), '*', `preflight ${path}`);
    assert.match(pre.headers.get('access-control-allow-methods') ?? '', /GET/);
  }
});

test('without pages /player/ is a plain 404', async (t) => {
  const o = await startOrigin({}, t);
  assert.equal((await fetchText(`${o.httpBase}/player/`)).status, 404);
});
