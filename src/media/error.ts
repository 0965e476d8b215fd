/**
 * The base of the errors the format code throws on malformed, truncated, over-limit or unsupported
 * input (AmfError, FlvError, H264Error, HevcError, Av1Error, AacError, Mp3Error, TsError, PlaylistError,
 * Mp4Error): one class for a caller that refuses such input without caring which format found the
 * fault. Anything else that escapes src/media is a bug.
 */
export class MediaFormatError extends Error {
  override name = 'MediaFormatError';
}
