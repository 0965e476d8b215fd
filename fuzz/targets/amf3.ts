// AMF3 as a publisher may send it (message types 15 and 17): decoded, then re-encoded as AMF0 onMetaData,
// which is what the origin does with AMF3 metadata. The re-encoded size must respect the encoder's cap:
// shared references would otherwise expand a few hundred bytes into gigabytes.
import fc from 'fast-check';
import { AmfError } from '../../src/media/amf/amf0.js';
import { decodeAmf3, encodeAmf3 } from '../../src/media/amf/amf3.js';
import type { FuzzTarget } from '../harness.js';
import { amfValue } from './amf0.js';
import { encodeMetadata, MAX_SCRIPT_DATA_BYTES } from '../../src/media/flv/script.js';
import { bound, text } from './util.js';

export const target: FuzzTarget = {
  name: 'amf3',
  description: 'decodeAmf3, then encodeMetadata of each value (its size cap)',
  expected: [AmfError],
  run(input) {
    for (const v of decodeAmf3(input)) bound('onMetaData re-encode', encodeMetadata(v)?.length ?? 0, 0, 0, MAX_SCRIPT_DATA_BYTES);
  },
  arbitrary: fc.array(amfValue, { maxLength: 4 }).map((vs) => new Uint8Array(encodeAmf3(...vs))),
  // Markers of references and of the types with counts: object, array, ByteArray, vectors, dictionary.
  dictionary: [text('onMetaData'), Buffer.from([0x0a, 0x0b, 0x01]), Buffer.from([0x09, 0x03, 0x01]), Buffer.from([0x0c, 0x07]), Buffer.from([0x0a, 0x00]), Buffer.from([0x11, 0x03, 0x00])],
};
