// The signal's GET /api/route answer as edges and origins parse it (src/shared/route-client.ts): a body
// that is no answer is a RouteAnswerError; anything else gives at most 16 origins, each with an id and an
// http(s) base that parses as a URL and ends without a slash, a boolean `publishing`, and a finite TTL >= 0.
import fc from 'fast-check';
import { RouteAnswerError, parseRouteAnswer } from '../../src/shared/route-client.js';
import type { FuzzTarget } from '../harness.js';
import { text } from './util.js';

export const target: FuzzTarget = {
  name: 'route-answer',
  description: 'parseRouteAnswer on any body: well-formed origins only, at most 16, a sane TTL',
  expected: [RouteAnswerError],
  maxLength: 64 * 1024,
  run(input) {
    const { origins, ttlMs } = parseRouteAnswer(input.toString('utf8'));
    if (origins.length > 16) throw new Error(`${origins.length} origins`);
    if (!Number.isFinite(ttlMs) || ttlMs < 0) throw new Error(`ttlMs ${ttlMs}`);
    for (const o of origins) {
      if (typeof o.id !== 'string' || o.id === '') throw new Error(`bad id ${JSON.stringify(o.id)}`);
      if (typeof o.publishing !== 'boolean') throw new Error(`publishing ${JSON.stringify(o.publishing)}`);
      if (!/^https?:\/\//.test(o.url) || o.url.endsWith('/')) throw new Error(`bad url ${o.url}`);
      new URL(o.url);
    }
  },
  arbitrary: fc
    .record({
      app: fc.string({ maxLength: 10 }),
      origins: fc.array(
        fc.oneof(
          fc.record({ id: fc.string({ maxLength: 20 }), url: fc.oneof(fc.webUrl(), fc.string({ maxLength: 30 })), publishing: fc.oneof(fc.boolean(), fc.string()), rtmpUrl: fc.string({ maxLength: 20 }) }, { requiredKeys: [] }),
          fc.jsonValue(),
        ),
        { maxLength: 20 },
      ),
      ttlMs: fc.oneof(fc.double(), fc.integer(), fc.string()),
    })
    .map((a) => new Uint8Array(text(JSON.stringify(a)))),
  dictionary: ['{"origins":[', '{"id":"o1","url":"http://', '"publishing":true', '"ttlMs":2000', 'https://', '[::1]', '//', '%', 'null', ']}'].map(text),
};
