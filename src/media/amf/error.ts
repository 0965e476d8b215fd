/** Any malformed or over-limit AMF input. The only error the AMF decoders throw. */
export class AmfError extends Error {
  override readonly name = 'AmfError';
}
