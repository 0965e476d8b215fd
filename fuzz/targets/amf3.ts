// AMF3 as a publisher may send it (message types 15 and 17): decoded, then re-encoded as AMF0, which is
// what the origin does with AMF3 onMetaData. The re-encoded size must stay in proportion.
import fc from 'fast-check';
import { AmfError, encodeAmf0 } from '../../src/media/amf/amf0.js';
import { decodeAmf3, encodeAmf3 } from '../../src/media/amf/amf3.js';
import type { FuzzTarget } from '../harness.js';
import { amfValue } from './amf0.js';
import { bound, text } from './util.js';

export const target: FuzzTarget = {
  name: 'amf3',
  description: 'decodeAmf3, then encodeAmf0 of the result (size bound)',
  expected: [AmfError],
  run(input) {
    const values = decodeAmf3(input);
    bound('AMF3 to AMF0 re-encode', encodeAmf0(...values).length, input.length, 16); // a ByteArray byte becomes a 9-byte number
  },
  arbitrary: fc.array(amfValue, { maxLength: 4 }).map((vs) => new Uint8Array(encodeAmf3(...vs))),
  // Markers of references and of the types with counts: object, array, ByteArray, vectors, dictionary.
  dictionary: [text('onMetaData'), Buffer.from([0x0a, 0x0b, 0x01]), Buffer.from([0x09, 0x03, 0x01]), Buffer.from([0x0c, 0x07]), Buffer.from([0x0a, 0x00]), Buffer.from([0x11, 0x03, 0x00])],
};
