// Limits of the AMF decoders and encoders, shared by AMF0 and AMF3 (one message may mix them).
import { AmfError } from './error.js';

/** Deepest nesting decoded or encoded: recursion stays far from the stack limit. */
export const MAX_AMF_DEPTH = 64;

/**
 * Most values decoded from one message, references and vector elements included. Each costs tens of
 * bytes of heap for as little as one byte of input; real commands and onMetaData hold a few hundred.
 */
export const MAX_AMF_ITEMS = 65_536;

/** Largest encoding by default: nothing bigger fits an RTMP message or an FLV tag (24-bit lengths). */
export const MAX_AMF_ENCODED_BYTES = 0xffffff;

/** Values decoded so far from one message, shared by its AMF0 reader and its AMF3 context. */
export interface AmfItemBudget {
  items: number;
}

/** Counts `n` more decoded values against the per-message cap. */
export function spendItems(budget: AmfItemBudget, n: number): void {
  budget.items += n;
  if (budget.items > MAX_AMF_ITEMS) throw new AmfError(`more than ${MAX_AMF_ITEMS} AMF values in one message`);
}
