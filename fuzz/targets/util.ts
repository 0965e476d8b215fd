// Shared by the targets: feeding a streaming parser in pieces, and output bounds.
import assert from 'node:assert/strict';
import { BoundError, type ErrorClass } from '../harness.js';

const PIECE_SIZES = [1, 2, 7, 64, 188, 1000, 4096, Infinity];

/**
 * Splits an input as the network might: its first byte picks the piece size, so the mutator explores
 * the splits too and a finding replays with the same ones.
 */
export function pieces(input: Buffer): Buffer[] {
  if (input.length === 0) return [];
  const size = PIECE_SIZES[input[0]! % PIECE_SIZES.length]!;
  const body = input.subarray(1);
  if (size >= body.length) return [body];
  const out: Buffer[] = [];
  for (let at = 0; at < body.length; at += size) out.push(body.subarray(at, at + size));
  return out;
}

/** Throws a BoundError when a parser's output is out of proportion with its input. */
export function bound(what: string, outBytes: number, inBytes: number, factor: number, slack = 1024): void {
  if (outBytes > factor * inBytes + slack)
    throw new BoundError(`${what}: ${outBytes} bytes out of ${inBytes} bytes in (limit ${factor}x + ${slack})`);
}

export const text = (s: string): Buffer => Buffer.from(s, 'latin1');

/**
 * Differential check of a streaming parser: the input fed in one piece and in network-like pieces must
 * give the same outputs, or both end in an expected error. Any other error propagates as a finding.
 */
export function sameInAnySplit<T>(input: Buffer, expected: readonly ErrorClass[], parse: (parts: Buffer[]) => T[], key: (t: T) => string): T[] {
  const attempt = (parts: Buffer[]): T[] | Error => {
    try {
      return parse(parts);
    } catch (e) {
      if (expected.some((c) => e instanceof c)) return e as Error;
      throw e;
    }
  };
  const split = attempt(pieces(input));
  const whole = attempt(input.length > 1 ? [input.subarray(1)] : []);
  if (split instanceof Error || whole instanceof Error) {
    assert.equal(split instanceof Error, whole instanceof Error, `split: ${String(split instanceof Error ? split : 'ok')}; whole: ${String(whole instanceof Error ? whole : 'ok')}`);
    throw split;
  }
  assert.deepEqual(split.map(key), whole.map(key), 'output differs with the split');
  return split;
}
