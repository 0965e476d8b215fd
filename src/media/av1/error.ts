import { MediaFormatError } from '../error.js';

/** Malformed or truncated AV1 data (av1C record, OBUs, sequence header). The only error the AV1 parsers throw on bad input. */
export class Av1Error extends MediaFormatError {
  override name = 'Av1Error';
}
