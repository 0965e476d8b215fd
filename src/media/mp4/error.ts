import { MediaFormatError } from '../error.js';

/** A value that cannot be written into an ISO BMFF box (out of its field's range, or samples and data that disagree). */
export class Mp4Error extends MediaFormatError {
  override name = 'Mp4Error';
}
