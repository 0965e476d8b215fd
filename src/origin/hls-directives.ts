// LL-HLS delivery directives (RFC 8216bis 6.2.5): what a playlist request's _HLS_msn, _HLS_part and
// _HLS_skip ask for, and whether the playlist as it stands answers it now, later, or never (400).
// Pure: the origin's playlist route holds the request (hls-holds.ts) while the verdict is 'wait'.
// Bounded digits (LLHLS_MSN, LLHLS_PART): a number a client sends never grows into a float or a huge loop.
import { LLHLS_MSN, LLHLS_PART } from '../shared/url-contract.js';

export interface DeliveryDirectives {
  /** _HLS_msn: hold until the playlist has this media sequence number (or this part of it). */
  readonly msn?: number;
  /** _HLS_part: with msn, hold until this part (0..) of segment msn, or a later one, is listed. */
  readonly part?: number;
  /** _HLS_skip=YES (or v2): a delta update is wanted. */
  readonly skip: boolean;
}

/** A part's place in the stream: segment sequence, then part index within it. */
export interface PartPosition {
  readonly sequence: number;
  readonly index: number;
}

/** What a playlist lists right now, for the verdict. */
export interface ListedPosition {
  /** Sequence of the last complete segment listed. */
  readonly lastSegment: number;
  /** The last part listed (of a complete segment or a trailing one). */
  readonly lastPart: PartPosition | undefined;
  readonly partTargetS: number;
}

export type DirectiveParse = { readonly ok: true; readonly directives: DeliveryDirectives } | { readonly ok: false; readonly reason: string };


/** The directives of a playlist request, or why they are malformed (a 400). */
export function parseDirectives(params: URLSearchParams): DirectiveParse {
  const msn = params.get('_HLS_msn');
  const part = params.get('_HLS_part');
  const skip = params.get('_HLS_skip');
  if (msn !== null && !LLHLS_MSN.test(msn)) return { ok: false, reason: '_HLS_msn must be a decimal integer' };
  if (part !== null && !LLHLS_PART.test(part)) return { ok: false, reason: '_HLS_part must be a decimal integer' };
  if (part !== null && msn === null) return { ok: false, reason: '_HLS_part needs _HLS_msn' };
  if (skip !== null && skip !== 'YES' && skip !== 'v2') return { ok: false, reason: '_HLS_skip must be YES or v2' };
  return {
    ok: true,
    directives: { ...(msn !== null ? { msn: Number(msn) } : {}), ...(part !== null ? { part: Number(part) } : {}), skip: skip !== null },
  };
}

export const comparePositions = (a: PartPosition, b: PartPosition): number => a.sequence - b.sequence || a.index - b.index;

/**
 * How far past the last listed part a request may ask (RFC 8216bis 6.2.5.2): three parts' worth of
 * time, so three parts with a part target of a second or more, more parts when they are shorter.
 */
export const advancePartLimit = (partTargetS: number): number => (partTargetS < 1 ? Math.floor(3 / partTargetS) : 3);

/**
 * 'ready' when the playlist already satisfies msn (and part), 'wait' when it may later, else the 400's
 * reason: _HLS_msn beyond the last (complete) segment's sequence + 2, or _HLS_part beyond the advance
 * part limit.
 */
export function blockingVerdict(p: ListedPosition, msn: number, part: number | undefined): 'ready' | 'wait' | { bad: string } {
  if (msn > p.lastSegment + 2) return { bad: `_HLS_msn ${msn} is beyond the last media sequence number ${p.lastSegment} + 2` };
  if (part === undefined) return p.lastSegment >= msn ? 'ready' : 'wait';
  const last = p.lastPart ?? { sequence: p.lastSegment, index: Infinity };
  const limit = advancePartLimit(p.partTargetS);
  // Within the last part's segment the distance is exact; in a later one it is at least part + 1.
  const ahead = msn === last.sequence ? part - last.index : msn > last.sequence ? part + 1 : 0;
  if (ahead > limit) return { bad: `_HLS_part ${part} is more than ${limit} parts beyond the last part listed` };
  return comparePositions(last, { sequence: msn, index: part }) >= 0 ? 'ready' : 'wait';
}
