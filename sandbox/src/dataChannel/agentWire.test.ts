/**
 * The agent seen frame by frame from a raw WebSocket peer that uses only the
 * codec, as the session-manager-plugin would see it: handshake order, ack
 * format, output held until HandshakeComplete, retransmission of unacked
 * output, ordering of early input and duplicates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { randomUUID } from 'node:crypto';
import {
  ActionStatus,
  PayloadType,
  decodeMessage,
  encodeAcknowledge,
  encodeMessage,
  parseJsonPayload,
  type ClientMessage,
} from '../../../app/session/dataChannel/message';
import {
  ensureLinuxUser,
  runningAsRoot,
  startDataChannelServer,
  type DataChannelTestServer,
} from './fixtures/harness';

const USER = 'rs-dc-carol';
let server: DataChannelTestServer;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  if (runningAsRoot) ensureLinuxUser(USER);
  server = await startDataChannelServer();
});

afterAll(async () => {
  for (const socket of sockets) socket.terminate();
  await server.close();
});

/** A bare peer: opens, records every decoded frame, lets the test send what it likes. */
async function rawPeer() {
  const session = server.startSession({ runAsUser: runningAsRoot ? USER : 'nobody' });
  const socket = new WebSocket(session.streamUrl);
  sockets.push(socket);
  const received: ClientMessage[] = [];
  const listeners: (() => void)[] = [];
  socket.on('message', (data, isBinary) => {
    if (!isBinary) return;
    received.push(decodeMessage(data as Buffer));
    for (const listener of listeners.splice(0)) listener();
  });
  await new Promise((resolve) => socket.once('open', resolve));
  socket.send(
    JSON.stringify({
      MessageSchemaVersion: '1.0',
      RequestId: randomUUID(),
      TokenValue: session.token,
      ClientId: randomUUID(),
      ClientVersion: '1.2.0.0',
    }),
  );
  const waitUntil = async (test: () => boolean) => {
    while (!test()) await new Promise<void>((resolve) => listeners.push(resolve));
  };
  let sequence = 0;
  const sendInput = (payloadType: number, payload: string | Buffer, sequenceNumber = sequence++) =>
    socket.send(encodeMessage({ messageType: 'input_stream_data', sequenceNumber, payloadType, payload }));
  const ack = (message: ClientMessage) => socket.send(encodeAcknowledge(message));
  const handshakeResponse = (request: ClientMessage) => {
    const actions = (parseJsonPayload(request) as { RequestedClientActions: { ActionType: string }[] })
      .RequestedClientActions;
    sendInput(
      PayloadType.HandshakeResponse,
      JSON.stringify({
        ClientVersion: '1.2.0.0',
        ProcessedClientActions: actions.map((a) => ({
          ActionType: a.ActionType,
          ActionStatus: ActionStatus.Success,
          ActionResult: null,
          Error: '',
        })),
        Errors: null,
      }),
    );
  };
  const outputs = () => received.filter((m) => m.messageType === 'output_stream_data');
  const acks = () =>
    received
      .filter((m) => m.messageType === 'acknowledge')
      .map((m) => parseJsonPayload(m) as { AcknowledgedMessageSequenceNumber: number });
  return { session, socket, received, waitUntil, sendInput, ack, handshakeResponse, outputs, acks };
}

describe('agent on the wire', () => {
  it('sends the HandshakeRequest as seq 0 and resends it, same MessageId, until acked', async () => {
    const peer = await rawPeer();
    await peer.waitUntil(() => peer.outputs().length >= 2);
    const [first, again] = peer.outputs();
    expect(first).toMatchObject({ sequenceNumber: 0, payloadType: PayloadType.HandshakeRequest, flags: 0 });
    expect(again!.messageId).toBe(first!.messageId);
    expect(again!.sequenceNumber).toBe(0);
    const request = parseJsonPayload(first!) as { AgentVersion: string; RequestedClientActions: unknown[] };
    expect(request.RequestedClientActions).toEqual([
      { ActionType: 'SessionType', ActionParameters: { SessionType: 'Standard_Stream', Properties: {} } },
    ]);
  });

  it('holds shell output until the handshake completes, then numbers it after HandshakeComplete', async () => {
    const peer = await rawPeer();
    await peer.waitUntil(() => peer.outputs().length >= 1);
    const request = peer.outputs()[0]!;
    peer.ack(request);
    // The shell prints its prompt meanwhile; nothing but handshake retransmissions may arrive.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(peer.outputs().every((m) => m.payloadType === PayloadType.HandshakeRequest)).toBe(true);

    peer.handshakeResponse(request);
    await peer.waitUntil(() => peer.outputs().some((m) => m.payloadType === PayloadType.Output));
    const complete = peer.outputs().find((m) => m.payloadType === PayloadType.HandshakeComplete)!;
    expect(complete.sequenceNumber).toBe(1);
    const payload = parseJsonPayload(complete) as {
      HandshakeTimeToComplete: number;
      CustomerMessage: string;
    };
    expect(payload.HandshakeTimeToComplete).toBeGreaterThan(0);
    const firstOutput = peer.outputs().find((m) => m.payloadType === PayloadType.Output)!;
    expect(firstOutput.sequenceNumber).toBe(2);
    expect(firstOutput.payload.length).toBeLessThanOrEqual(1024);
    // The agent acked our HandshakeResponse (seq 0) in the format seen on the wire.
    const ackFrame = peer.received.find((m) => m.messageType === 'acknowledge')!;
    expect(ackFrame).toMatchObject({ sequenceNumber: 0, flags: 3, payloadType: 0 });
    expect(ackFrame.payload.toString()).toMatch(
      /^\{"AcknowledgedMessageType":"input_stream_data","AcknowledgedMessageId":"[0-9a-f-]{36}","AcknowledgedMessageSequenceNumber":0,"IsSequentialMessage":true\}$/,
    );
  });

  it('acks early input at once, applies it in order, and re-acks duplicates without applying them twice', async () => {
    const peer = await rawPeer();
    await peer.waitUntil(() => peer.outputs().length >= 1);
    const request = peer.outputs()[0]!;
    peer.ack(request);
    peer.handshakeResponse(request); // our seq 0
    await peer.waitUntil(() => peer.outputs().some((m) => m.payloadType === PayloadType.HandshakeComplete));
    // seq 2 before seq 1: the agent acks 2 at once but types nothing until 1 arrives.
    peer.sendInput(PayloadType.Output, 'echo "two-$((1+1))"\r', 2);
    await peer.waitUntil(() => peer.acks().some((a) => a.AcknowledgedMessageSequenceNumber === 2));
    peer.sendInput(PayloadType.Output, 'echo "one-$((0+1))";', 1);
    peer.sendInput(PayloadType.Output, 'echo "one-$((0+1))";', 1); // a duplicate
    const text = () =>
      Buffer.concat(
        peer
          .outputs()
          .filter((m) => m.payloadType === PayloadType.Output)
          .map((m) => m.payload),
      ).toString();
    // Unacked output is resent, so read it with acks flowing.
    const acked = new Set<number>();
    const ackAll = () => {
      for (const m of peer.outputs()) {
        if (!acked.has(m.sequenceNumber)) {
          acked.add(m.sequenceNumber);
          peer.ack(m);
        }
      }
    };
    await peer.waitUntil(() => {
      ackAll();
      return /two-2\r\n/.test(text());
    });
    expect(text()).toMatch(/one-1\r\ntwo-2\r\n/);
    expect(text().match(/one-1\r\n/g)).toHaveLength(1);
    expect(peer.acks().filter((a) => a.AcknowledgedMessageSequenceNumber === 1).length).toBe(2);
  });

  it('drops malformed frames and bad Size payloads without losing the session', async () => {
    const peer = await rawPeer();
    await peer.waitUntil(() => peer.outputs().length >= 1);
    const request = peer.outputs()[0]!;
    peer.ack(request);
    peer.handshakeResponse(request); // seq 0
    await peer.waitUntil(() => peer.outputs().some((m) => m.payloadType === PayloadType.HandshakeComplete));
    peer.socket.send(Buffer.from('not a message'));
    const tampered = encodeMessage({
      messageType: 'input_stream_data',
      sequenceNumber: 1,
      payloadType: 1,
      payload: 'x',
    });
    tampered[120] = 0x79; // digest no longer matches
    peer.socket.send(tampered);
    peer.sendInput(PayloadType.Size, '{"cols":"wide"}'); // seq 1: processed, ignored
    peer.sendInput(PayloadType.Output, 'echo "still-$((2*3))"\r'); // seq 2
    const acked = new Set<number>();
    await peer.waitUntil(() => {
      for (const m of peer.outputs()) {
        if (!acked.has(m.sequenceNumber)) {
          acked.add(m.sequenceNumber);
          peer.ack(m);
        }
      }
      return /still-6\r\n/.test(
        Buffer.concat(
          peer
            .outputs()
            .filter((m) => m.payloadType === PayloadType.Output)
            .map((m) => m.payload),
        ).toString(),
      );
    });
    expect(server.logs.some((line) => line.includes('dropped a frame: frame of 13 bytes is too short'))).toBe(
      true,
    );
    expect(server.logs.some((line) => line.includes('payload digest mismatch on input_stream_data'))).toBe(
      true,
    );
    expect(server.logs.some((line) => line.includes('ignored a malformed Size payload'))).toBe(true);
  });
});
