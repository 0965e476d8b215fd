// The Range header of a recording download (record/recordings-api.ts parseByteRange) against several file
// sizes: whatever a client sends, the answer is the whole body, a 416, or one range inside the file.
import fc from 'fast-check';
import { parseByteRange } from '../../src/record/recordings-api.js';
import type { FuzzTarget } from '../harness.js';
import { text } from './util.js';

const SIZES = [0, 1, 1000, 2 ** 40];

export const target: FuzzTarget = {
  name: 'http-range',
  description: 'recordings API Range header (parseByteRange) against file sizes 0, 1, 1000 and 1 TiB',
  expected: [],
  maxLength: 1024,
  run(input) {
    const header = input.toString('latin1');
    for (const size of SIZES) {
      const r = parseByteRange(header, size);
      if (r === undefined || r === 'unsatisfiable') continue;
      if (!(Number.isSafeInteger(r.start) && Number.isSafeInteger(r.end) && r.start >= 0 && r.start <= r.end && r.end < size)) {
        throw new Error(`parseByteRange(${JSON.stringify(header)}, ${size}) = ${JSON.stringify(r)}: not a range inside the file`);
      }
    }
  },
  arbitrary: fc
    .oneof(
      fc.tuple(fc.option(fc.nat()), fc.option(fc.nat())).map(([a, b]) => `bytes=${a ?? ''}-${b ?? ''}`),
      fc.string(),
    )
    .map((s) => new Uint8Array(text(s))),
  dictionary: ['bytes=', '-', ',', ' ', '0', '999999999999999', '18446744073709551616', 'items='].map(text),
};
