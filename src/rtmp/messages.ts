// RTMP message types, protocol control and user control messages, and command/data messages
// (AMF0 types 20/18, AMF3 types 17/15 which start with a 0x00 format byte and continue in AMF0).
import { decodeAmf0, decodeAmf0Value, encodeAmf0, AmfError, type Amf0Value } from '../media/amf/amf0.js';
import { Csid, type OutgoingMessage } from './chunk-writer.js';
import { RtmpProtocolError } from './errors.js';

export const MessageType = {
  SetChunkSize: 1,
  Abort: 2,
  Acknowledgement: 3,
  UserControl: 4,
  WindowAckSize: 5,
  SetPeerBandwidth: 6,
  Audio: 8,
  Video: 9,
  DataAmf3: 15,
  SharedObjectAmf3: 16,
  CommandAmf3: 17,
  DataAmf0: 18,
  SharedObjectAmf0: 19,
  CommandAmf0: 20,
  Aggregate: 22,
} as const;

export const UserControlEvent = {
  StreamBegin: 0,
  StreamEOF: 1,
  StreamDry: 2,
  SetBufferLength: 3,
  StreamIsRecorded: 4,
  PingRequest: 6,
  PingResponse: 7,
} as const;

/** Set Peer Bandwidth limit types. */
export const BandwidthLimit = { Hard: 0, Soft: 1, Dynamic: 2 } as const;

const u32 = (v: number): Buffer => {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(v >>> 0, 0);
  return b;
};

const control = (typeId: number, payload: Buffer): OutgoingMessage => ({
  csid: Csid.Control,
  timestamp: 0,
  typeId,
  streamId: 0,
  payload,
});

export const setChunkSize = (size: number): OutgoingMessage => control(MessageType.SetChunkSize, u32(size & 0x7fffffff));
export const abortMessage = (csid: number): OutgoingMessage => control(MessageType.Abort, u32(csid));
export const acknowledgement = (sequence: number): OutgoingMessage => control(MessageType.Acknowledgement, u32(sequence));
export const windowAckSize = (size: number): OutgoingMessage => control(MessageType.WindowAckSize, u32(size));
export function setPeerBandwidth(size: number, limit: number = BandwidthLimit.Dynamic): OutgoingMessage {
  const b = Buffer.allocUnsafe(5);
  b.writeUInt32BE(size >>> 0, 0);
  b[4] = limit;
  return control(MessageType.SetPeerBandwidth, b);
}

export function userControl(event: number, ...values: number[]): OutgoingMessage {
  const b = Buffer.allocUnsafe(2 + 4 * values.length);
  b.writeUInt16BE(event, 0);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, 2 + 4 * i));
  return control(MessageType.UserControl, b);
}
export const streamBegin = (streamId: number): OutgoingMessage => userControl(UserControlEvent.StreamBegin, streamId);
export const streamEof = (streamId: number): OutgoingMessage => userControl(UserControlEvent.StreamEOF, streamId);
export const setBufferLength = (streamId: number, ms: number): OutgoingMessage =>
  userControl(UserControlEvent.SetBufferLength, streamId, ms);
export const pingRequest = (time: number): OutgoingMessage => userControl(UserControlEvent.PingRequest, time);
export const pingResponse = (time: number): OutgoingMessage => userControl(UserControlEvent.PingResponse, time);

export interface UserControlMessage {
  readonly event: number;
  /** Stream id or ping time. */
  readonly value: number;
  /** Buffer length in ms, for SetBufferLength. */
  readonly extra?: number;
}

export function parseUserControl(payload: Buffer): UserControlMessage {
  if (payload.length < 6) throw new RtmpProtocolError('bad-message', `user control message of ${payload.length} bytes`);
  const event = payload.readUInt16BE(0);
  const value = payload.readUInt32BE(2);
  if (event === UserControlEvent.SetBufferLength && payload.length >= 10)
    return { event, value, extra: payload.readUInt32BE(6) };
  return { event, value };
}

export function parseU32(payload: Buffer, what: string): number {
  if (payload.length < 4) throw new RtmpProtocolError('bad-message', `${what} of ${payload.length} bytes`);
  return payload.readUInt32BE(0);
}

// ---------------------------------------------------------------- commands and data

export interface Command {
  readonly name: string;
  readonly transactionId: number;
  /** Command object (often null). */
  readonly object: Amf0Value;
  readonly args: readonly Amf0Value[];
}

/** Decodes an AMF0 or AMF3 command/data payload to its values. Malformed AMF -> RtmpProtocolError. */
export function decodeAmfPayload(typeId: number, payload: Buffer): Amf0Value[] {
  try {
    // AMF3 message types carry a format byte (0) and then AMF0 values that may switch to AMF3 via 0x11.
    const body = typeId === MessageType.CommandAmf3 || typeId === MessageType.DataAmf3 ? payload.subarray(1) : payload;
    return decodeAmf0(body);
  } catch (e) {
    if (e instanceof AmfError) throw new RtmpProtocolError('bad-command', `malformed AMF: ${e.message}`);
    throw e;
  }
}

/**
 * The AMF0 values of a data message (after an AMF3 type's format byte), without a leading
 * '@setDataFrame' (which wraps what a publisher wants stored).
 */
export function stripSetDataFrame(typeId: number, payload: Buffer): Buffer {
  const body = typeId === MessageType.DataAmf3 ? payload.subarray(1) : payload;
  try {
    const first = decodeAmf0Value(body, 0);
    return first.value === '@setDataFrame' ? body.subarray(first.offset) : body;
  } catch (e) {
    if (e instanceof AmfError) throw new RtmpProtocolError('bad-command', `malformed AMF in data message: ${e.message}`);
    throw e;
  }
}

export function parseCommand(typeId: number, payload: Buffer): Command {
  const values = decodeAmfPayload(typeId, payload);
  const [name, tx, object, ...args] = values;
  if (typeof name !== 'string') throw new RtmpProtocolError('bad-command', 'command without a name');
  return { name, transactionId: typeof tx === 'number' ? tx : 0, object: object ?? null, args };
}

export function commandMessage(streamId: number, name: string, transactionId: number, ...rest: Amf0Value[]): OutgoingMessage {
  return {
    csid: Csid.Command,
    timestamp: 0,
    typeId: MessageType.CommandAmf0,
    streamId,
    payload: encodeAmf0(name, transactionId, ...rest),
  };
}

export function dataMessage(streamId: number, ...values: Amf0Value[]): OutgoingMessage {
  return { csid: Csid.Data, timestamp: 0, typeId: MessageType.DataAmf0, streamId, payload: encodeAmf0(...values) };
}

export interface StatusInfo {
  readonly level: 'status' | 'error' | 'warning';
  readonly code: string;
  readonly description: string;
  readonly [k: string]: Amf0Value;
}

export const onStatus = (streamId: number, info: StatusInfo): OutgoingMessage =>
  commandMessage(streamId, 'onStatus', 0, null, { ...info });
