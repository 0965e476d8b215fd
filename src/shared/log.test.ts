import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { redactUrl } from './log.js';

test('redactUrl removes every token value and keeps the rest', () => {
  assert.equal(redactUrl('/live/s.m3u8?token=123.abc'), '/live/s.m3u8?token=[redacted]');
  assert.equal(redactUrl('/live/s.flv?a=1&token=123.abc&b=2'), '/live/s.flv?a=1&token=[redacted]&b=2');
  assert.equal(redactUrl('rtmp://h/live/s?TOKEN=x#f'), 'rtmp://h/live/s?TOKEN=[redacted]#f');
  assert.equal(redactUrl('/live/s.m3u8?notatoken=1'), '/live/s.m3u8?notatoken=1');
  assert.equal(redactUrl('/live/seg/3.ts'), '/live/seg/3.ts');
});

test('loggers never write token values or Authorization headers, whatever the caller passes', async () => {
  // pino writes to file descriptor 1: a child process logs, the test reads its stdout.
  const script = `
    import { createLogger } from './src/shared/log.ts';
    const log = createLogger('t', 'info').child({ part: 'http' });
    log.info({ url: '/live/s.m3u8?token=SECRET1', path: '/live/s.flv?token=SECRET2' }, 'request');
    log.warn({ headers: { authorization: 'Bearer SECRET3', host: 'h' } }, 'headers');
    log.error({ req: { headers: { authorization: 'Bearer SECRET4' } }, authorization: 'Bearer SECRET5' }, 'req');
    log.info({ app: 'live?token=SECRET6', stream: 's?token=SECRET7' }, 'rtmp');
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, NODE_TEST_CONTEXT: '' },
    timeout: 30_000,
  });
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 4, stdout);
  assert.doesNotMatch(stdout, /SECRET\d/);
  assert.match(stdout, /"url":"\/live\/s\.m3u8\?token=\[redacted\]"/);
  assert.match(stdout, /"host":"h"/);
});

test('a terminal gets readable lines with the same fields and redaction; anything else gets JSON', async () => {
  const script = (tty: boolean): string => `
    import { createLogger } from './src/shared/log.ts';
    createLogger('origin', 'info', ${tty}).child({ part: 'http' }).info({ url: '/live/s.flv?token=SECRET1', port: 8080 }, 'listening');
  `;
  const run = (tty: boolean) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(tty)], {
      env: { ...process.env, NODE_TEST_CONTEXT: '', NO_COLOR: '1' },
      timeout: 30_000,
    });
  const [pretty, json] = await Promise.all([run(true), run(false)]);
  assert.match(pretty.stdout, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(origin\): listening \{"part":"http","url":"\/live\/s\.flv\?token=\[redacted\]","port":8080\}\n$/);
  const line = JSON.parse(json.stdout) as Record<string, unknown>;
  assert.equal(line.msg, 'listening');
  assert.equal(line.url, '/live/s.flv?token=[redacted]');
});
