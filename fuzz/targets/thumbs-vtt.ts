// A recording's WebVTT thumbnail track as the recordings page reads it (src/player/web/timeshift.ts
// parseThumbsVtt): bytes fetched from an origin. Whatever comes in: at most one cue per two lines and
// MAX_THUMB_CUES in all, each with finite times in order and a region of whole non-negative numbers, and
// cueAt answers for any time.
import fc from 'fast-check';
import { MAX_THUMB_CUES, cueAt, parseThumbsVtt } from '../../src/player/web/timeshift.js';
import type { FuzzTarget } from '../harness.js';
import { bound, text } from './util.js';

const whole = (n: number): boolean => Number.isInteger(n) && n >= 0;

export const target: FuzzTarget = {
  name: 'thumbs-vtt',
  description: 'parseThumbsVtt: bounded cues with sane times and #xywh regions',
  expected: [],
  run(input) {
    const s = input.toString('utf8');
    const cues = parseThumbsVtt(s);
    const lines = s.split('\n').length;
    if (cues.length > MAX_THUMB_CUES || cues.length > lines / 2) throw new Error(`${cues.length} cues out of ${lines} lines`);
    bound('cue URLs', cues.reduce((n, c) => n + c.url.length, 0), input.length, 1, 0);
    for (const c of cues) {
      if (!Number.isFinite(c.start) || !Number.isFinite(c.end) || c.start < 0 || c.end < c.start) throw new Error(`bad times ${c.start} --> ${c.end}`);
      if (![c.x, c.y, c.w, c.h].every(whole)) throw new Error(`bad region ${JSON.stringify(c)}`);
      if (cueAt(cues, c.start) === undefined && c.end > c.start) throw new Error(`no cue at ${c.start}`);
    }
    cueAt(cues, Number.NaN);
  },
  arbitrary: fc
    .array(
      fc.tuple(
        fc.nat(400_000),
        fc.nat(400_000),
        fc.constantFrom('thumbs.jpg', 'a b.jpg', '', '../x.jpg', 'http://h/s.jpg?token=x'),
        fc.array(fc.nat(99_999), { minLength: 4, maxLength: 4 }),
        fc.constantFrom('\n', '\r\n', '\n\n'),
      ),
      { maxLength: 40 },
    )
    .map((cues) => {
      const t = (ms: number): string => new Date(ms).toISOString().slice(11, 23);
      const body = cues.map(([a, b, url, [x, y, w, h], nl]) => `${t(a)} --> ${t(b)}${nl}${url}#xywh=${x},${y},${w},${h}${nl}`).join('\n');
      return new Uint8Array(text(`WEBVTT\n\n${body}`));
    }),
  dictionary: [text('WEBVTT'), text(' --> '), text('#xywh='), text('00:00:10.000'), text('100:00:00.000'), text('\r\n'), text(',')],
};
