import { MediaFormatError } from '../error.js';

/** Malformed AAC configuration, or one that cannot be carried as asked. The only error the AAC code throws on bad input. */
export class AacError extends MediaFormatError {
  override name = 'AacError';
}
