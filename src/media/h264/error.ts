import { MediaFormatError } from '../error.js';

/** Malformed or truncated H.264 data (NALU framing, AVC config, SPS). The only error the H.264 parsers throw on bad input. */
export class H264Error extends MediaFormatError {
  override name = 'H264Error';
}
