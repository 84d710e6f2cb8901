/**
 * The codec against byte vectors written by hand from the wire facts
 * (`../shared/design/ssm-data-channel.md`, "Binary message").
 */
import { describe, expect, it } from 'vitest';
import {
  HEADER_LENGTH,
  MessageDecodeError,
  decodeMessage,
  encodeAcknowledge,
  encodeChannelClosed,
  encodeMessage,
  parseAcknowledge,
  uuidFromWire,
  uuidToWire,
} from './message';

const MESSAGE_ID = '00112233-4455-6677-8899-aabbccddeeff';
const CREATED = 1_700_000_000_000; // 0x0000018bcfe56800

/** output_stream_data, seq 5, Output payload "abc". */
const OUTPUT_VECTOR = [
  '00000074', // HeaderLength 116
  '6f75747075745f73747265616d5f64617461' + '20'.repeat(32 - 18), // "output_stream_data" + 14 spaces
  '00000001', // SchemaVersion
  '0000018bcfe56800', // CreatedDate
  '0000000000000005', // SequenceNumber
  '0000000000000000', // Flags
  '8899aabbccddeeff' + '0011223344556677', // MessageId: bytes 8..15, then 0..7
  'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', // SHA-256("abc")
  '00000001', // PayloadType Output
  '00000003', // PayloadLength
  '616263', // "abc"
].join('');

describe('message codec', () => {
  it('encodes the header at the documented offsets', () => {
    const frame = encodeMessage({
      messageType: 'output_stream_data',
      sequenceNumber: 5,
      payloadType: 1,
      payload: 'abc',
      messageId: MESSAGE_ID,
      createdDate: CREATED,
    });
    expect(frame.toString('hex')).toBe(OUTPUT_VECTOR);
    expect(frame.length).toBe(HEADER_LENGTH + 4 + 3);
  });

  it('decodes the same vector', () => {
    const message = decodeMessage(Buffer.from(OUTPUT_VECTOR, 'hex'));
    expect(message).toMatchObject({
      headerLength: 116,
      messageType: 'output_stream_data',
      schemaVersion: 1,
      createdDate: CREATED,
      sequenceNumber: 5,
      flags: 0,
      messageId: MESSAGE_ID,
      payloadType: 1,
      payloadLength: 3,
    });
    expect(message.payload.toString()).toBe('abc');
  });

  it('swaps the UUID halves on the wire and back', () => {
    expect(uuidToWire(MESSAGE_ID).toString('hex')).toBe('8899aabbccddeeff0011223344556677');
    expect(uuidFromWire(Buffer.from('8899aabbccddeeff0011223344556677', 'hex'))).toBe(MESSAGE_ID);
    expect(() => uuidToWire('not-a-uuid')).toThrow(/not a UUID/);
  });

  it('writes negative and large sequence numbers as big-endian i64', () => {
    const frame = encodeMessage({
      messageType: 'input_stream_data',
      sequenceNumber: 0x0102030405,
      payloadType: 3,
      payload: '',
      messageId: MESSAGE_ID,
      createdDate: CREATED,
      flags: 1,
    });
    expect(frame.subarray(48, 56).toString('hex')).toBe('0000000102030405');
    expect(frame.subarray(56, 64).toString('hex')).toBe('0000000000000001');
    // SHA-256 of the empty payload.
    expect(frame.subarray(80, 112).toString('hex')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });

  it('builds acks as seen on the wire: seq 0, Flags 3, PayloadType 0, fixed key order', () => {
    const frame = encodeAcknowledge(
      { messageType: 'output_stream_data', messageId: MESSAGE_ID, sequenceNumber: 7 },
      { messageId: MESSAGE_ID, createdDate: CREATED },
    );
    const payload =
      '{"AcknowledgedMessageType":"output_stream_data","AcknowledgedMessageId":"00112233-4455-6677-8899-aabbccddeeff","AcknowledgedMessageSequenceNumber":7,"IsSequentialMessage":true}';
    expect(frame.subarray(4, 36).toString('hex')).toBe('61636b6e6f776c65646765' + '20'.repeat(21));
    expect(frame.subarray(48, 56).toString('hex')).toBe('0000000000000000');
    expect(frame.subarray(56, 64).toString('hex')).toBe('0000000000000003');
    expect(frame.subarray(112, 116).toString('hex')).toBe('00000000');
    expect(frame.readUInt32BE(116)).toBe(payload.length);
    expect(frame.subarray(120).toString()).toBe(payload);
    expect(parseAcknowledge(decodeMessage(frame)).AcknowledgedMessageSequenceNumber).toBe(7);
  });

  it('takes the payload from HeaderLength + 4 and ignores PayloadLength, as the plugin does', () => {
    const frame = Buffer.from(OUTPUT_VECTOR, 'hex');
    frame.writeUInt32BE(999, 116);
    expect(decodeMessage(frame).payload.toString()).toBe('abc');
  });

  it('rejects what the plugin drops: short frames, HeaderLength 0, empty type, CreatedDate 0, bad digest', () => {
    const valid = () => Buffer.from(OUTPUT_VECTOR, 'hex');
    expect(() => decodeMessage(valid().subarray(0, 100))).toThrow(MessageDecodeError);
    const noHeader = valid();
    noHeader.writeUInt32BE(0, 0);
    expect(() => decodeMessage(noHeader)).toThrow('HeaderLength is 0');
    const noType = valid();
    noType.fill(0x20, 4, 36);
    expect(() => decodeMessage(noType)).toThrow('MessageType is empty');
    const noDate = valid();
    noDate.fill(0, 40, 48);
    expect(() => decodeMessage(noDate)).toThrow('CreatedDate is 0');
    const tampered = valid();
    tampered[120] = 0x41; // "Abc"
    expect(() => decodeMessage(tampered)).toThrow('payload digest mismatch');
  });

  it('accepts start/pause_publication whatever their digest', () => {
    const frame = encodeMessage({
      messageType: 'start_publication',
      sequenceNumber: 0,
      payloadType: 0,
      payload: 'x',
    });
    frame.fill(0, 80, 112);
    expect(decodeMessage(frame).messageType).toBe('start_publication');
  });

  it('builds channel_closed with the fields the plugin reads', () => {
    const message = decodeMessage(encodeChannelClosed('sess-1', 'client-1', 'bye'));
    expect(message.messageType).toBe('channel_closed');
    const payload = JSON.parse(message.payload.toString());
    expect(Object.keys(payload)).toEqual([
      'MessageId',
      'CreatedDate',
      'DestinationId',
      'SessionId',
      'MessageType',
      'SchemaVersion',
      'Output',
    ]);
    expect(payload).toMatchObject({
      SessionId: 'sess-1',
      DestinationId: 'client-1',
      Output: 'bye',
      SchemaVersion: 1,
    });
    expect(payload.MessageId).toBe(message.messageId);
  });
});
