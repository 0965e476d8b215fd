// FLV script data tags (type 18): an AMF0 name (usually 'onMetaData') followed by one AMF0 value.
import { AmfError, decodeAmf0Value, encodeAmf0, encodeAmf0EcmaArray } from '../amf/amf0.js';
import type { Amf0Value } from '../amf/amf0.js';
import { FlvError } from './tag-header.js';

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

/** Encodes a script tag body. A plain object is written as an ECMA array, the form players expect for onMetaData. */
export function encodeScriptData(name: string, value: Amf0Value): Buffer {
  const isPlainObject = typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
  return Buffer.concat([encodeAmf0(name), isPlainObject ? encodeAmf0EcmaArray(value) : encodeAmf0(value)]);
}
