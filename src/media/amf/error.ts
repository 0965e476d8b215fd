import { MediaFormatError } from '../error.js';

/** Any malformed or over-limit AMF input. The only error the AMF decoders throw. */
export class AmfError extends MediaFormatError {
  override readonly name = 'AmfError';
}
