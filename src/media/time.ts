// Timestamps carry their unit in the type so that milliseconds (RTMP/FLV) and 90 kHz ticks (MPEG-TS)
// can never be mixed up silently.
declare const msBrand: unique symbol;
declare const ticksBrand: unique symbol;

/** Milliseconds, as in RTMP and FLV timestamps. May exceed 2^32 once unwrapped. */
export type Ms = number & { readonly [msBrand]: 'ms' };
/** 90 kHz clock ticks, as in MPEG-TS PTS/DTS/PCR (33-bit on the wire). */
export type Ticks90k = number & { readonly [ticksBrand]: '90kHz' };

export const ms = (n: number): Ms => n as Ms;
export const ticks90k = (n: number): Ticks90k => n as Ticks90k;
export const msToTicks90k = (t: Ms): Ticks90k => ticks90k(Math.round(t * 90));
