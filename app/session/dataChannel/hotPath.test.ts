/**
 * The per-message fast paths give exactly the bytes of the plain ones: acks
 * built from a template equal JSON.stringify's, acks read in place equal
 * JSON.parse's, pooled random message ids are version-4 UUIDs; and the frame
 * writer puts a turn's frames on the wire in one write, in order.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { FrameWriter } from './frameWriter';
import {
  MessageType,
  acknowledgedSequenceNumber,
  decodeMessage,
  encodeAcknowledge,
  encodeMessage,
  parseAcknowledge,
  uuidFromWire,
} from './message';

const CREATED = 1_700_000_000_000;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('acks from a template', () => {
  it.each([
    [MessageType.OutputStreamData, 0],
    [MessageType.OutputStreamData, 7],
    [MessageType.InputStreamData, 123_456_789],
    [MessageType.InputStreamData, Number.MAX_SAFE_INTEGER],
  ])(
    'for %s seq %d: the same bytes as the JSON ack but for its own MessageId',
    (messageType, sequenceNumber) => {
      const acked = decodeMessage(
        encodeMessage({ messageType, sequenceNumber, payloadType: 1, payload: 'x', createdDate: CREATED }),
      );
      const fromTemplate = encodeAcknowledge(acked, { createdDate: CREATED });
      // Without the id bytes encodeAcknowledge takes the JSON.stringify path.
      const plain = encodeAcknowledge(
        { messageType, messageId: acked.messageId, sequenceNumber },
        { createdDate: CREATED },
      );
      expect(fromTemplate.length).toBe(plain.length);
      expect(fromTemplate.subarray(0, 64)).toEqual(plain.subarray(0, 64));
      expect(fromTemplate.subarray(80)).toEqual(plain.subarray(80)); // digest, payload type, length, payload
      expect(uuidFromWire(fromTemplate.subarray(64, 80))).toMatch(UUID_V4);
      expect(parseAcknowledge(decodeMessage(fromTemplate))).toEqual({
        AcknowledgedMessageType: messageType,
        AcknowledgedMessageId: acked.messageId,
        AcknowledgedMessageSequenceNumber: sequenceNumber,
        IsSequentialMessage: true,
      });
    },
  );

  it('reads the sequence number in place, and falls back to JSON for any other layout', () => {
    const acked = decodeMessage(
      encodeMessage({ messageType: 'output_stream_data', sequenceNumber: 42, payloadType: 1, payload: 'x' }),
    );
    expect(acknowledgedSequenceNumber(decodeMessage(encodeAcknowledge(acked)))).toBe(42);
    const spaced = encodeMessage({
      messageType: MessageType.Acknowledge,
      sequenceNumber: 0,
      flags: 3,
      payloadType: 0,
      payload: JSON.stringify(
        {
          AcknowledgedMessageType: 'output_stream_data',
          AcknowledgedMessageId: acked.messageId,
          AcknowledgedMessageSequenceNumber: 43,
          IsSequentialMessage: true,
        },
        null,
        1,
      ),
    });
    expect(acknowledgedSequenceNumber(decodeMessage(spaced))).toBe(43);
    const missing = encodeMessage({
      messageType: 'acknowledge',
      sequenceNumber: 0,
      payloadType: 0,
      payload: '{}',
    });
    expect(() => acknowledgedSequenceNumber(decodeMessage(missing))).toThrow(
      /lacks AcknowledgedMessageSequenceNumber/,
    );
  });
});

it('gives every message a distinct version-4 UUID, across refills of the id pool', () => {
  const ids = new Set<string>();
  for (let i = 0; i < 3000; i++) {
    const id = decodeMessage(
      encodeMessage({ messageType: 'input_stream_data', sequenceNumber: i, payloadType: 1, payload: '' }),
    ).messageId;
    expect(id).toMatch(UUID_V4);
    ids.add(id);
  }
  expect(ids.size).toBe(3000);
});

describe('FrameWriter', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  });

  async function connectedPair() {
    server = createServer();
    const wss = new WebSocketServer({ server });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const accepted = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
    const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    await new Promise((resolve) => client.once('open', resolve));
    const peer = await accepted;
    const rawReads: number[] = [];
    (peer as unknown as { _socket: Socket })._socket.on('data', (chunk: Buffer) =>
      rawReads.push(chunk.length),
    );
    const received: Buffer[] = [];
    peer.on('message', (data) => received.push(data as Buffer));
    return { client, peer, rawReads, received, close: () => (client.close(), wss.close()) };
  }

  it('writes the frames of one turn together and in order', async () => {
    const { client, rawReads, received, close } = await connectedPair();
    const writer = new FrameWriter(() => client);
    const frames = Array.from({ length: 50 }, (_, i) => Buffer.from(`frame ${i} `.padEnd(150, '.')));
    for (const frame of frames) writer.send(frame);
    expect(received).toEqual([]); // nothing written before the turn ends
    await waitUntil(() => received.length === 50);
    expect(received.map((b) => b.toString())).toEqual(frames.map((b) => b.toString()));
    // One writev of 50 × ~156 bytes arrives in one or two reads, not fifty.
    expect(rawReads.length).toBeLessThanOrEqual(2);
    close();
  });

  it('flush() writes at once, so a frame sent just before close() is not lost', async () => {
    const { client, received, close } = await connectedPair();
    const writer = new FrameWriter(() => client);
    writer.send(Buffer.from('terminate'));
    writer.flush();
    client.close();
    await waitUntil(() => received.length === 1);
    expect(received[0]!.toString()).toBe('terminate');
    close();
  });

  it('drops what is queued when no socket is open, as an unsent frame was before', async () => {
    const writer = new FrameWriter(() => undefined);
    writer.send(Buffer.from('lost'));
    expect(() => writer.flush()).not.toThrow();
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
