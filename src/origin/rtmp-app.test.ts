// The origin's RTMP app off the session's promise chain: a player waiting for its publisher joins later,
// from a promise of its own; a failure there closes that player and nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hub } from '../hub/hub.js';
import { Hooks } from '../hub/hooks.js';
import { PlayWaits } from '../hub/play-wait.js';
import { OriginRtmpApp } from './rtmp-app.js';
import { createLogger } from '../shared/log.js';
import type { PlayOutput } from '../rtmp/app.js';
import { videoHeader, videoKey } from '../../test/helpers/packets.js';

test('a waiting player whose join fails is closed, and no rejection escapes', async () => {
  const log = createLogger('test', 'silent');
  const hub = new Hub({ writeBatchMs: 0, logger: log });
  const waits = new PlayWaits({ timeoutMs: 5000, perStream: 10, total: 10 });
  hub.observe(waits);
  const app = new OriginRtmpApp(hub, new Hooks({}, log), undefined, waits);
  const closes: string[] = [];
  const output: PlayOutput = {
    chunkSize: 4096,
    streamId: 1,
    write: () => true,
    writev: () => true,
    writableLength: 0,
    close: (reason) => closes.push(reason),
  };
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown): void => void unhandled.push(err);
  process.on('unhandledRejection', onUnhandled);
  try {
    const req = { app: 'live', stream: 'later', query: {}, remoteAddress: '127.0.0.1', connectionId: 'p1' };
    const res = await app.play(req, output);
    assert.ok(res.ok);
    res.start(); // not live: waits for the publisher
    const pub = hub.publish('live', 'later', { id: 'pub', remoteAddress: '127.0.0.1', query: {}, close: () => undefined });
    assert.ok(pub.ok);
    // The stream refuses the viewer, as a bug in it would.
    pub.stream.addViewer = () => {
      throw new Error('stream bug');
    };
    pub.push(videoHeader());
    pub.push(videoKey(0));
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(closes, ['internal error']);
    assert.deepEqual(unhandled, []);
    res.detach();
    pub.end();
  } finally {
    process.off('unhandledRejection', onUnhandled);
    hub.closeAll('test over');
  }
});
