// Shared by the AMF0 and AMF3 tests (src/media/amf/*.test.ts).
import assert from 'node:assert/strict';
import { AmfError } from '../../src/media/amf/error.js';

/** Bytes from hex, whitespace ignored. */
export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Decodes `bytes`: returning is fine, and so is AmfError; any other error fails. */
export function decodesOrThrowsAmfError(decode: (bytes: Buffer) => unknown, bytes: Buffer): void {
  try {
    decode(bytes);
  } catch (e) {
    assert.ok(e instanceof AmfError, String(e));
  }
}
