import { MediaFormatError } from '../error.js';

/** Malformed or truncated HEVC data (hvcC record, SPS). The only error the HEVC parsers throw on bad input. */
export class HevcError extends MediaFormatError {
  override name = 'HevcError';
}
