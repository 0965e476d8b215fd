// AMF0 as RTMP commands and FLV script data carry it: decoded, then re-encoded as the origin does for
// metadata. The re-encoded size must stay in proportion (references must not expand).
import fc from 'fast-check';
import { AmfError, decodeAmf0, encodeAmf0, type Amf0Value } from '../../src/media/amf/amf0.js';
import type { FuzzTarget } from '../harness.js';
import { bound, text } from './util.js';

/** Values as RTMP peers send them: command objects, metadata, arrays, dates. */
export const amfValue: fc.Arbitrary<Amf0Value> = fc.letrec<{ v: Amf0Value }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.double(),
    fc.boolean(),
    fc.string({ maxLength: 40 }),
    fc.constant(null),
    fc.constant(undefined),
    fc.date({ noInvalidDate: true }),
    fc.array(tie('v'), { maxLength: 6 }),
    fc.dictionary(fc.string({ maxLength: 12 }), tie('v'), { maxKeys: 6 }),
  ),
})).v;

export const target: FuzzTarget = {
  name: 'amf0',
  description: 'decodeAmf0, then encodeAmf0 of the result (size bound)',
  expected: [AmfError],
  run(input) {
    const values = decodeAmf0(input);
    bound('AMF0 re-encode', encodeAmf0(...values).length, input.length, 8);
  },
  arbitrary: fc.array(amfValue, { maxLength: 4 }).map((vs) => new Uint8Array(encodeAmf0(...vs))),
  dictionary: [text('onMetaData'), text('@setDataFrame'), text('connect'), Buffer.from([0x00, 0x00, 0x09]), Buffer.from([0x07, 0x00, 0x00])],
};
