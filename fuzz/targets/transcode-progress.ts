// FFmpeg's -progress output as the transcoder parses it (src/transcode/progress.ts): a child's stdout in
// pipe-sized pieces. Whatever comes in: the same blocks in any split, never more blocks than lines, and
// every figure a finite non-negative number or undefined.
import fc from 'fast-check';
import { ProgressParser, type Progress } from '../../src/transcode/progress.js';
import type { FuzzTarget } from '../harness.js';
import { bound, sameInAnySplit, text } from './util.js';

const KEYS = ['frame', 'fps', 'speed', 'out_time_us', 'out_time_ms', 'out_time', 'bitrate', 'total_size', 'stream_0_0_q', 'progress'];

const figure = (v: number | undefined): boolean => v === undefined || (Number.isFinite(v) && v >= 0);

export const target: FuzzTarget = {
  name: 'transcode-progress',
  description: 'ProgressParser.push, in pieces and whole: the same progress blocks, sane figures',
  expected: [],
  run(input) {
    const blocks = sameInAnySplit<Progress>(
      input,
      [],
      (parts) => {
        const parser = new ProgressParser();
        return parts.flatMap((p) => parser.push(p.toString('latin1')));
      },
      (p) => JSON.stringify(p),
    );
    // A block ends with a `progress=` line: at least 10 bytes each.
    bound('progress blocks', blocks.length * 10, input.length, 1, 0);
    for (const b of blocks) {
      if (![b.frame, b.fps, b.speed, b.outTimeMs].every(figure)) throw new Error(`insane figure in ${JSON.stringify(b)}`);
    }
  },
  arbitrary: fc
    .tuple(
      fc.nat(255),
      fc.array(fc.tuple(fc.constantFrom(...KEYS), fc.oneof(fc.double().map(String), fc.constantFrom('N/A', '1.5x', '00:00:01.500000', 'continue', 'end', '')), fc.constantFrom('\n', '\r\n')), { maxLength: 30 }),
    )
    .map(([split, lines]) => new Uint8Array(Buffer.concat([Buffer.from([split]), text(lines.map(([k, v, nl]) => `${k}=${v}${nl}`).join(''))]))),
  dictionary: [...KEYS.map((k) => text(`${k}=`)), text('progress=continue\n'), text('progress=end\n'), text('N/A'), text('x\n'), text('00:00:')],
};
