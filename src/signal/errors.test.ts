// The signal's API errors: its own as they say, express's body parser and anything unexpected mapped to
// messages of ours, so that no exception text reaches a client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { HttpError, createHttpServer } from '../shared/http.js';
import { createLogger } from '../shared/log.js';
import { errorHandler } from './errors.js';

test('API errors are JSON {error, message} and never carry exception text', async (t) => {
  const app = express();
  app.post('/json', express.json(), (_req, res) => void res.end());
  app.get('/refused', () => {
    throw new HttpError(403, 'forbidden', 'not for you');
  });
  app.get('/bug', () => {
    throw new TypeError("Cannot read properties of undefined (reading 'secretField')");
  });
  app.use(errorHandler(createLogger('test', 'silent')));
  const server = createHttpServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const cases: Array<[path: string, init: RequestInit, status: number, error: string, message: string]> = [
    ['/refused', {}, 403, 'forbidden', 'not for you'],
    ['/bug', {}, 500, 'internal', 'internal error'],
    ['/json', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"secretKey": nope' }, 400, 'bad_json', 'the body is not valid JSON'],
  ];
  for (const [path, init, status, error, message] of cases) {
    const res = await fetch(base + path, init);
    assert.equal(res.status, status, path);
    assert.deepEqual(await res.json(), { error, message }, path);
  }
});
