// AMF0 as RTMP commands and FLV script data carry it: decoded, then each value written as onMetaData by
// the encoder the origin uses for metadata it re-encodes, whose output must respect its cap (decoded
// values share referenced objects, so a naive re-encode can expand without bound).
import fc from 'fast-check';
import { AmfError, decodeAmf0, encodeAmf0, type Amf0Value } from '../../src/media/amf/amf0.js';
import type { FuzzTarget } from '../harness.js';
import { encodeMetadata, MAX_SCRIPT_DATA_BYTES } from '../../src/media/flv/script.js';
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
  description: 'decodeAmf0, then encodeMetadata of each value (its size cap)',
  expected: [AmfError],
  run(input) {
    for (const v of decodeAmf0(input)) bound('onMetaData re-encode', encodeMetadata(v)?.length ?? 0, 0, 0, MAX_SCRIPT_DATA_BYTES);
  },
  arbitrary: fc.array(amfValue, { maxLength: 4 }).map((vs) => new Uint8Array(encodeAmf0(...vs))),
  dictionary: [text('onMetaData'), text('@setDataFrame'), text('connect'), Buffer.from([0x00, 0x00, 0x09]), Buffer.from([0x07, 0x00, 0x00])],
};
