// What an origin's GET /api/recordings answer becomes in the signal's merged list (src/signal/recordings.ts,
// mergeRecordings): any body, parsed as the signal parses it (not JSON: nothing), gives only entries whose
// names keep the URL contract, one per origin and id, newest first, with URLs on the origin that listed them.
import fc from 'fast-check';
import { mergeRecordings } from '../../src/signal/recordings.js';
import { isRecordingName, validNames } from '../../src/shared/url-contract.js';
import type { FuzzTarget } from '../harness.js';
import { text } from './util.js';

const ORIGINS = [
  { id: 'origin-a', url: 'http://10.0.0.1:8080' },
  { id: 'origin-b', url: 'https://b.example/cdn' },
];

export const target: FuzzTarget = {
  name: 'recordings-merge',
  // Nothing is expected to throw: a body that is no list gives an empty one.
  expected: [],
  description: "mergeRecordings on any origin answer: valid names only, unique per origin, newest first, URLs on the origin",
  maxLength: 64 * 1024,
  run(input) {
    let body: unknown;
    try {
      body = JSON.parse(input.toString('utf8')) as unknown;
    } catch {
      body = undefined;
    }
    // The same answer from two origins, and a token that needs escaping: both lists kept, apart.
    const merged = mergeRecordings(
      ORIGINS.map((origin) => ({ origin, body })),
      () => 'a b&c',
    );
    const seen = new Set<string>();
    let last = Infinity;
    for (const r of merged) {
      if (!validNames(r.app, r.stream) || !isRecordingName(r.name) || r.id !== `${r.app}/${r.stream}/${r.name}`) throw new Error(`bad names ${JSON.stringify(r.id)}`);
      const key = `${r.origin.id} ${r.id}`;
      if (seen.has(key)) throw new Error(`listed twice: ${key}`);
      seen.add(key);
      const at = Date.parse(r.startedAt);
      if (!Number.isFinite(at) || at > last) throw new Error(`not newest first at ${r.startedAt}`);
      last = at;
      for (const u of [r.urls.vod, r.urls.file, r.urls.sprite, r.urls.vtt]) {
        if (u !== null && !u.startsWith(`${r.origin.url}/`)) throw new Error(`URL off its origin: ${u}`);
        if (u !== null && u.includes('a b&c')) throw new Error(`token not escaped: ${u}`);
      }
      if (!(r.durationMs >= 0) || !(r.bytes >= 0) || !(r.part >= 0)) throw new Error(`negative figures in ${r.id}`);
    }
  },
  arbitrary: fc
    .record({
      recordings: fc.array(
        fc.oneof(
          fc.record(
            {
              app: fc.oneof(fc.constant('live'), fc.string({ maxLength: 70 })),
              stream: fc.oneof(fc.constant('cam1'), fc.string({ maxLength: 70 })),
              name: fc.oneof(fc.constant('20261130-101500'), fc.constant('20261130-101500-2'), fc.string({ maxLength: 20 })),
              startedAt: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string({ maxLength: 40 })),
              state: fc.constantFrom('recording', 'done', 'interrupted', 'failed', 'other'),
              durationMs: fc.oneof(fc.double(), fc.integer()),
              bytes: fc.oneof(fc.double(), fc.integer()),
              thumbs: fc.oneof(fc.constant({ sprite: 'x' }), fc.constant(null)),
            },
            { requiredKeys: [] },
          ),
          fc.jsonValue(),
        ),
        { maxLength: 20 },
      ),
    })
    .map((a) => new Uint8Array(text(JSON.stringify(a)))),
  dictionary: ['{"recordings":[', '"app":"live"', '"stream":"cam1"', '"name":"20261130-101500"', '"startedAt":"2026-11-30T10:15:00Z"', '"state":"done"', '"thumbs":{}', '..', '%2F', 'null', ']}'].map(text),
};
