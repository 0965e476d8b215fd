import { MediaFormatError } from '../error.js';

/** A request the MPEG-TS writer cannot honour (bad PID, unknown track, oversized section). */
export class TsError extends MediaFormatError {
  override name = 'TsError';
}
