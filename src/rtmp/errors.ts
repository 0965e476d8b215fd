/** Why a connection is dropped: any protocol violation or limit hit by the peer. */
export type RtmpErrorCode =
  | 'handshake'
  | 'chunk-size'
  | 'message-too-large'
  | 'buffered-too-much'
  | 'bad-chunk-header'
  | 'too-many-chunk-streams'
  | 'bad-message'
  | 'bad-command';

/** The only error the pure RTMP protocol code throws; the server closes that one connection on it. */
export class RtmpProtocolError extends Error {
  override readonly name = 'RtmpProtocolError';
  constructor(
    readonly code: RtmpErrorCode,
    message: string,
  ) {
    super(message);
  }
}
