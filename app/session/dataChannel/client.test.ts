/**
 * The built-in client against a scripted peer on a real loopback WebSocket:
 * the open frame, what it answers in the handshake, how it sends stdin and
 * sizes, and every way opening or resuming can fail.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { DataChannelClient, DataChannelOpenError, describeChannelClosed } from './client';
import {
  PayloadType,
  decodeMessage,
  encodeAcknowledge,
  encodeChannelClosed,
  encodeMessage,
  parseJsonPayload,
  type ClientMessage,
} from './message';

interface ScriptedAgent {
  url: string;
  openFrames: Record<string, string>[];
  received: ClientMessage[];
  socket(): WebSocket;
  waitFor(test: (m: ClientMessage[]) => boolean): Promise<void>;
  close(): Promise<void>;
}

const agents: ScriptedAgent[] = [];
const clients: DataChannelClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const agent of agents.splice(0)) await agent.close();
});

let outputSequence = 0;
function output(socket: WebSocket, payloadType: number, payload: string, sequenceNumber = outputSequence++) {
  socket.send(encodeMessage({ messageType: 'output_stream_data', sequenceNumber, payloadType, payload }));
}

/** A peer that acks every input and runs `onOpen` for each socket after its open frame. */
async function scriptedAgent(
  onOpen: (socket: WebSocket, frame: Record<string, string>) => void,
): Promise<ScriptedAgent> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  const openFrames: Record<string, string>[] = [];
  const received: ClientMessage[] = [];
  const waiters: (() => void)[] = [];
  let current: WebSocket | undefined;
  server.on('connection', (socket) => {
    current = socket;
    socket.once('message', (data) => {
      const frame = JSON.parse(data.toString()) as Record<string, string>;
      openFrames.push(frame);
      socket.on('message', (raw) => {
        const message = decodeMessage(raw as Buffer);
        received.push(message);
        if (message.messageType === 'input_stream_data') socket.send(encodeAcknowledge(message));
        for (const waiter of waiters.splice(0)) waiter();
      });
      onOpen(socket, frame);
    });
  });
  const agent: ScriptedAgent = {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/data-channel/s-1?role=publish_subscribe`,
    openFrames,
    received,
    socket: () => current!,
    async waitFor(test) {
      while (!test(received)) await new Promise<void>((resolve) => waiters.push(resolve));
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
  agents.push(agent);
  return agent;
}

function shellHandshake(socket: WebSocket, actions: unknown[] = [sessionType('Standard_Stream')]) {
  outputSequence = 0;
  output(
    socket,
    PayloadType.HandshakeRequest,
    JSON.stringify({ AgentVersion: '3.3.0.0', RequestedClientActions: actions }),
  );
  socket.on('message', (raw) => {
    const message = decodeMessage(raw as Buffer);
    if (message.payloadType === PayloadType.HandshakeResponse) {
      output(
        socket,
        PayloadType.HandshakeComplete,
        JSON.stringify({ HandshakeTimeToComplete: 1, CustomerMessage: 'hi' }),
      );
    }
  });
}

const sessionType = (type: string) => ({
  ActionType: 'SessionType',
  ActionParameters: { SessionType: type },
});

const inputs = (agent: ScriptedAgent, payloadType: number) =>
  agent.received.filter((m) => m.messageType === 'input_stream_data' && m.payloadType === payloadType);

describe('DataChannelClient', () => {
  it('sends the open frame, acks the request before answering it, and sends its size after HandshakeComplete', async () => {
    const agent = await scriptedAgent((socket) => shellHandshake(socket));
    const client = await DataChannelClient.open(agent.url, 'tok-1', { size: { cols: 120, rows: 40 } });
    clients.push(client);
    expect(agent.openFrames[0]).toEqual({
      MessageSchemaVersion: '1.0',
      RequestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      TokenValue: 'tok-1',
      ClientId: client.clientId,
      ClientVersion: '1.2.0.0',
    });
    expect(client.customerMessage).toBe('hi');
    await agent.waitFor(() => inputs(agent, PayloadType.Size).length === 1);
    const kinds = agent.received.map((m) => `${m.messageType}:${m.payloadType}:${m.sequenceNumber}`);
    expect(kinds.slice(0, 4)).toEqual([
      'acknowledge:0:0', // ack of the HandshakeRequest first
      'input_stream_data:6:0', // then the HandshakeResponse, our seq 0
      'acknowledge:0:0', // ack of HandshakeComplete
      'input_stream_data:3:1', // then the size
    ]);
    const response = parseJsonPayload(inputs(agent, PayloadType.HandshakeResponse)[0]!);
    expect(response).toEqual({
      ClientVersion: '1.2.0.0',
      ProcessedClientActions: [{ ActionType: 'SessionType', ActionStatus: 1, ActionResult: null, Error: '' }],
      Errors: null,
    });
    expect(parseJsonPayload(inputs(agent, PayloadType.Size)[0]!)).toEqual({ cols: 120, rows: 40 });
  });

  it('answers KMSEncryption and non-shell session types as Unsupported', async () => {
    const agent = await scriptedAgent((socket) =>
      shellHandshake(socket, [
        sessionType('Port'),
        { ActionType: 'KMSEncryption', ActionParameters: { KMSKeyId: 'k' } },
      ]),
    );
    clients.push(await DataChannelClient.open(agent.url, 't'));
    const response = parseJsonPayload(inputs(agent, PayloadType.HandshakeResponse)[0]!) as {
      ProcessedClientActions: { ActionStatus: number; Error: string }[];
    };
    expect(response.ProcessedClientActions.map((a) => [a.ActionStatus, a.Error])).toEqual([
      [3, 'Unsupported session type Port'],
      [3, 'Unsupported action KMSEncryption'],
    ]);
  });

  it('sends Enter as \\r and cuts stdin into chunks of at most 1024 bytes, in sequence', async () => {
    const agent = await scriptedAgent((socket) => shellHandshake(socket));
    const client = await DataChannelClient.open(agent.url, 't');
    clients.push(client);
    client.sendInput('\n');
    client.sendInput('a'.repeat(2500));
    await agent.waitFor(() => inputs(agent, PayloadType.Output).length === 4);
    const stdin = inputs(agent, PayloadType.Output);
    expect(stdin.map((m) => m.payload.length)).toEqual([1, 1024, 1024, 452]);
    expect(stdin[0]!.payload.toString()).toBe('\r');
    expect(stdin.map((m) => m.sequenceNumber)).toEqual([2, 3, 4, 5]);
    expect(() => client.resize(0, 10)).toThrow(RangeError);
  });

  it('treats an agent that starts with output (no handshake) as a shell', async () => {
    const agent = await scriptedAgent((socket) => {
      outputSequence = 0;
      output(socket, PayloadType.Output, 'legacy$ ');
    });
    const client = await DataChannelClient.open(agent.url, 't');
    clients.push(client);
    const text: string[] = [];
    client.on('output', (b) => text.push(b.toString()));
    output(agent.socket(), PayloadType.Output, 'more');
    await agent.waitFor((m) => m.filter((x) => x.messageType === 'acknowledge').length >= 2);
    // The first output arrived before open() resolved; it is replayed to the listener, in order.
    expect(text).toEqual(['legacy$ ', 'more']);
    expect(client.isOpen).toBe(true);
  });

  it('reports channel_closed with what the plugin prints, and refuses input afterwards', async () => {
    const agent = await scriptedAgent((socket) => shellHandshake(socket));
    const client = await DataChannelClient.open(agent.url, 't');
    const closed = new Promise<Parameters<typeof describeChannelClosed>[0]>((resolve) =>
      client.once('closed', resolve),
    );
    agent.socket().send(encodeChannelClosed('s-1', client.clientId, ''));
    const payload = await closed;
    expect(describeChannelClosed(payload)).toBe('\n\nExiting session with sessionId: s-1.\n\n');
    expect(describeChannelClosed({ SessionId: 's-1', Output: 'timed out' })).toBe(
      '\n\nSessionId: s-1 : timed out\n\n',
    );
    expect(() => client.sendInput('ls')).toThrow('The session has ended; start a new one.');
    await expect(client.resume('t2')).rejects.toThrow('The session has ended');
  });

  it('fails to open with a clear message when nothing listens, when refused, and when the handshake never comes', async () => {
    const agent = await scriptedAgent(() => {});
    const deadUrl = agent.url;
    await agent.close();
    agents.splice(agents.indexOf(agent), 1);
    await expect(DataChannelClient.open(deadUrl, 't')).rejects.toThrow(
      /^Cannot reach the session's data channel/,
    );

    const refusing = await scriptedAgent((socket) => socket.close(1008, 'Authentication failed'));
    const refused = DataChannelClient.open(refusing.url, 't');
    await expect(refused).rejects.toBeInstanceOf(DataChannelOpenError);
    await expect(refused).rejects.toThrow('The session was refused: Authentication failed');

    const silent = await scriptedAgent(() => {});
    await expect(DataChannelClient.open(silent.url, 't', { handshakeTimeoutMs: 200 })).rejects.toThrow(
      'The session did not start within 0.2 s.',
    );
  });

  it('reports a dropped socket and resumes on a new one with the same ClientId, resending unacked input', async () => {
    let connections = 0;
    const agent = await scriptedAgent((socket) => {
      connections++;
      if (connections === 1) shellHandshake(socket);
    });
    const client = await DataChannelClient.open(agent.url, 'first');
    clients.push(client);
    await agent.waitFor(() => inputs(agent, PayloadType.Size).length === 1);
    const disconnected = new Promise<{ code: number; reason: string }>((resolve) =>
      client.once('disconnected', resolve),
    );
    agent.socket().terminate();
    await disconnected;
    client.sendInput('typed while away');
    await client.resume('second');
    await agent.waitFor(() => inputs(agent, PayloadType.Output).length === 1);
    expect(agent.openFrames.map((f) => f.TokenValue)).toEqual(['first', 'second']);
    expect(agent.openFrames[1]!.ClientId).toBe(agent.openFrames[0]!.ClientId);
    expect(agent.openFrames[1]!.RequestId).not.toBe(agent.openFrames[0]!.RequestId);
    expect(inputs(agent, PayloadType.Output)[0]).toMatchObject({ sequenceNumber: 2 });
  });
});
