import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeAmf0 } from '../media/amf/amf0.js';
import { RtmpProtocolError } from './errors.js';
import {
  MessageType,
  UserControlEvent,
  abortMessage,
  acknowledgement,
  commandMessage,
  dataMessage,
  onStatus,
  parseCommand,
  parseUserControl,
  pingRequest,
  setBufferLength,
  setChunkSize,
  setPeerBandwidth,
  streamBegin,
  streamEof,
  windowAckSize,
} from './messages.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('protocol control messages: types, chunk stream 2, stream 0, payload bytes', () => {
  const cases = [
    [setChunkSize(60000), 1, '0000ea60'],
    [abortMessage(6), 2, '00000006'],
    [acknowledgement(2 ** 32 - 1), 3, 'ffffffff'],
    [windowAckSize(5_000_000), 5, '004c4b40'],
    [setPeerBandwidth(5_000_000), 6, '004c4b40 02'],
    [streamBegin(1), 4, '0000 00000001'],
    [streamEof(1), 4, '0001 00000001'],
    [setBufferLength(1, 3000), 4, '0003 00000001 00000bb8'],
    [pingRequest(7), 4, '0006 00000007'],
  ] as const;
  for (const [m, type, payload] of cases) {
    assert.equal(m.typeId, type);
    assert.equal(m.csid, 2);
    assert.equal(m.streamId, 0);
    assert.deepEqual(m.payload, hex(payload));
  }
});

test('user control parsing', () => {
  assert.deepEqual(parseUserControl(hex('0003 00000001 00000bb8')), { event: UserControlEvent.SetBufferLength, value: 1, extra: 3000 });
  assert.deepEqual(parseUserControl(hex('0006 0000002a')), { event: UserControlEvent.PingRequest, value: 42 });
  assert.throws(() => parseUserControl(hex('0006 00')), RtmpProtocolError);
});

test('commands: AMF0 and AMF3 (leading format byte) decode alike', () => {
  const body = encodeAmf0('connect', 1, { app: 'live' }, 'extra');
  const want = { name: 'connect', transactionId: 1, object: { app: 'live' }, args: ['extra'] };
  assert.deepEqual(parseCommand(MessageType.CommandAmf0, body), want);
  assert.deepEqual(parseCommand(MessageType.CommandAmf3, Buffer.concat([Buffer.from([0]), body])), want);
  // AMF3 values inside an AMF3 command via the AVM+ marker: object { app: "live" }
  const amf3 = Buffer.concat([Buffer.from([0]), encodeAmf0('connect', 1), hex('11 0a 0b 01 07 617070 06 09 6c697665 01')]);
  assert.deepEqual(parseCommand(MessageType.CommandAmf3, amf3), { ...want, args: [] });
  assert.throws(() => parseCommand(20, encodeAmf0(5)), RtmpProtocolError);
  assert.throws(() => parseCommand(20, hex('02 00ff 61')), RtmpProtocolError);
});

test('command, data and onStatus builders', () => {
  const c = commandMessage(0, '_result', 4, null, 1);
  assert.deepEqual([c.csid, c.typeId, c.streamId], [3, 20, 0]);
  assert.deepEqual(c.payload, encodeAmf0('_result', 4, null, 1));
  const d = dataMessage(1, '|RtmpSampleAccess', true, true);
  assert.deepEqual([d.csid, d.typeId, d.streamId], [5, 18, 1]);
  const s = onStatus(1, { level: 'error', code: 'NetStream.Publish.BadName', description: 'x' });
  assert.deepEqual(parseCommand(20, s.payload), {
    name: 'onStatus',
    transactionId: 0,
    object: null,
    args: [{ level: 'error', code: 'NetStream.Publish.BadName', description: 'x' }],
  });
});
