// FLV script data tags (type 18): an AMF0 name (usually 'onMetaData') followed by one AMF0 value.
import { AmfError, decodeAmf0Value, encodeAmf0Capped, encodeAmf0EcmaArray, isAmfObject } from '../amf/amf0.js';
import { MAX_AMF_ENCODED_BYTES } from '../amf/limits.js';
import type { Amf0Value } from '../amf/amf0.js';
import { FlvError } from './tag-header.js';

/**
 * Largest script tag body a stream carries. onMetaData is a few hundred bytes in practice; every joiner
 * gets it again, so a large one would cost each of them.
 */
export const MAX_SCRIPT_DATA_BYTES = 64 * 1024;

export interface ScriptData {
  name: string;
  /** The value after the name; undefined when the tag has none. */
  value: Amf0Value;
}

/**
 * Parses a script tag body. A leading '@setDataFrame' (the RTMP publish wrapper) is unwrapped so that
 * callers see 'onMetaData' either way. Bytes after the value are ignored: some encoders pad them.
 * Throws FlvError (with the AmfError as cause) on malformed AMF.
 */
export function parseScriptData(payload: Buffer): ScriptData {
  try {
    const first = decodeAmf0Value(payload, 0);
    let name = first.value;
    let offset = first.offset;
    if (typeof name !== 'string') throw new FlvError('script data does not start with an AMF0 string name');
    if (name === '@setDataFrame' && offset < payload.length) {
      const inner = decodeAmf0Value(payload, offset);
      name = inner.value;
      offset = inner.offset;
      if (typeof name !== 'string') throw new FlvError('@setDataFrame is not followed by a name');
    }
    const value = offset < payload.length ? decodeAmf0Value(payload, offset).value : undefined;
    return { name, value };
  } catch (e) {
    if (e instanceof AmfError) throw new FlvError(`bad script data: ${e.message}`, { cause: e });
    throw e;
  }
}

/**
 * Encodes a script tag body. A plain object is written as an ECMA array, the form players expect for
 * onMetaData. Throws AmfError when the body would pass `maxBytes`.
 */
export function encodeScriptData(name: string, value: Amf0Value, maxBytes = MAX_AMF_ENCODED_BYTES): Buffer {
  const head = encodeAmf0Capped([name], maxBytes);
  const room = maxBytes - head.length;
  return Buffer.concat([head, isAmfObject(value) ? encodeAmf0EcmaArray(value, room) : encodeAmf0Capped([value], room)]);
}

/**
 * onMetaData as an AMF0 script body for FLV consumers, from a decoded value (AMF3 metadata, which FLV
 * players do not read). Undefined when it would pass `maxBytes`: shared references in the decoded value
 * are written out in full, so a few hundred bytes in can mean gigabytes out. A value that is not an
 * object becomes an empty ECMA array.
 */
export function encodeMetadata(value: Amf0Value, maxBytes = MAX_SCRIPT_DATA_BYTES): Buffer | undefined {
  try {
    return encodeScriptData('onMetaData', isAmfObject(value) ? value : {}, maxBytes);
  } catch (e) {
    if (e instanceof AmfError) return undefined;
    throw e;
  }
}
