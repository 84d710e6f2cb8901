/**
 * The SSM Session Manager data-channel message codec, shared by the sandbox's
 * agent and RoleShell's built-in client. Layout and rules follow
 * `../shared/design/ssm-data-channel.md` ("Binary message"): every integer is
 * big-endian, the header is 116 bytes, the payload starts at HeaderLength + 4.
 */
import { createHash, randomUUID } from 'node:crypto';

export const HEADER_LENGTH = 116;
/** Offset of the payload: the header, then the 4-byte PayloadLength. */
export const PAYLOAD_OFFSET = HEADER_LENGTH + 4;
export const SCHEMA_VERSION = 1;
/** Size of the MessageType field; the type is right-padded with spaces. */
const MESSAGE_TYPE_LENGTH = 32;

export const MessageType = {
  InputStreamData: 'input_stream_data',
  OutputStreamData: 'output_stream_data',
  Acknowledge: 'acknowledge',
  ChannelClosed: 'channel_closed',
  StartPublication: 'start_publication',
  PausePublication: 'pause_publication',
} as const;

export const PayloadType = {
  Output: 1,
  Error: 2,
  Size: 3,
  Parameter: 4,
  HandshakeRequest: 5,
  HandshakeResponse: 6,
  HandshakeComplete: 7,
  EncChallengeRequest: 8,
  EncChallengeResponse: 9,
  Flag: 10,
  StdErr: 11,
  ExitCode: 12,
} as const;

/** Payload of a `Flag` message (u32). */
export const PayloadTypeFlag = {
  DisconnectToPort: 1,
  TerminateSession: 2,
  ConnectToPortError: 3,
} as const;

/** ActionStatus in a HandshakeResponse. */
export const ActionStatus = { Success: 1, Failed: 2, Unsupported: 3 } as const;

/** The Flags value every acknowledge message carries (seen on the wire). */
export const ACK_FLAGS = 3;

export interface ClientMessage {
  headerLength: number;
  messageType: string;
  schemaVersion: number;
  /** Epoch milliseconds. */
  createdDate: number;
  sequenceNumber: number;
  flags: number;
  /** Canonical lower-case UUID string. */
  messageId: string;
  payloadDigest: Buffer;
  payloadType: number;
  payloadLength: number;
  payload: Buffer;
}

export interface NewMessage {
  messageType: string;
  sequenceNumber: number;
  payloadType: number;
  payload: Buffer | string;
  flags?: number;
  messageId?: string;
  createdDate?: number;
  schemaVersion?: number;
}

export class MessageDecodeError extends Error {
  override name = 'MessageDecodeError';
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** UUID on the wire: its bytes 8..15 first, then bytes 0..7 (the plugin's historical order). */
export function uuidToWire(uuid: string): Buffer {
  if (!UUID_PATTERN.test(uuid)) throw new Error(`not a UUID: ${uuid}`);
  const bytes = Buffer.from(uuid.replaceAll('-', ''), 'hex');
  return Buffer.concat([bytes.subarray(8, 16), bytes.subarray(0, 8)]);
}

export function uuidFromWire(wire: Buffer): string {
  if (wire.length !== 16) throw new Error('a wire UUID is 16 bytes');
  const hex = Buffer.concat([wire.subarray(8, 16), wire.subarray(0, 8)]).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function sha256(payload: Buffer): Buffer {
  return createHash('sha256').update(payload).digest();
}

export function encodeMessage(message: NewMessage): Buffer {
  const payload =
    typeof message.payload === 'string' ? Buffer.from(message.payload, 'utf8') : message.payload;
  if (message.messageType.length === 0 || message.messageType.length > MESSAGE_TYPE_LENGTH) {
    throw new Error(`message type must be 1..${MESSAGE_TYPE_LENGTH} characters`);
  }
  const frame = Buffer.alloc(PAYLOAD_OFFSET + payload.length);
  frame.writeUInt32BE(HEADER_LENGTH, 0);
  frame.write(message.messageType.padEnd(MESSAGE_TYPE_LENGTH, ' '), 4, MESSAGE_TYPE_LENGTH, 'ascii');
  frame.writeUInt32BE(message.schemaVersion ?? SCHEMA_VERSION, 36);
  frame.writeBigUInt64BE(BigInt(message.createdDate ?? Date.now()), 40);
  frame.writeBigInt64BE(BigInt(message.sequenceNumber), 48);
  frame.writeBigUInt64BE(BigInt(message.flags ?? 0), 56);
  uuidToWire(message.messageId ?? randomUUID()).copy(frame, 64);
  sha256(payload).copy(frame, 80);
  frame.writeUInt32BE(message.payloadType, 112);
  frame.writeUInt32BE(payload.length, 116);
  payload.copy(frame, PAYLOAD_OFFSET);
  return frame;
}

/**
 * Parses a binary frame as the plugin does: the payload is everything from
 * HeaderLength + 4 (PayloadLength is not trusted). Throws MessageDecodeError for
 * frames the plugin would drop: too short, HeaderLength 0, empty type,
 * CreatedDate 0, or a digest mismatch (start/pause_publication excepted).
 */
export function decodeMessage(frame: Buffer): ClientMessage {
  if (frame.length < PAYLOAD_OFFSET)
    throw new MessageDecodeError(`frame of ${frame.length} bytes is too short`);
  const headerLength = frame.readUInt32BE(0);
  if (headerLength === 0) throw new MessageDecodeError('HeaderLength is 0');
  if (headerLength + 4 > frame.length)
    throw new MessageDecodeError(`HeaderLength ${headerLength} exceeds the frame`);
  const messageType = frame.toString('ascii', 4, 36).trim();
  if (messageType.length === 0) throw new MessageDecodeError('MessageType is empty');
  const createdDate = Number(frame.readBigUInt64BE(40));
  if (createdDate === 0) throw new MessageDecodeError('CreatedDate is 0');
  const payload = frame.subarray(headerLength + 4);
  const payloadDigest = frame.subarray(80, 112);
  const publicationControl =
    messageType === MessageType.StartPublication || messageType === MessageType.PausePublication;
  if (!publicationControl && !sha256(payload).equals(payloadDigest)) {
    throw new MessageDecodeError(`payload digest mismatch on ${messageType}`);
  }
  return {
    headerLength,
    messageType,
    schemaVersion: frame.readUInt32BE(36),
    createdDate,
    sequenceNumber: Number(frame.readBigInt64BE(48)),
    flags: Number(frame.readBigUInt64BE(56)),
    messageId: uuidFromWire(frame.subarray(64, 80)),
    payloadDigest: Buffer.from(payloadDigest),
    payloadType: frame.readUInt32BE(112),
    payloadLength: frame.readUInt32BE(116),
    payload: Buffer.from(payload),
  };
}

/** True for the messages that carry a stream sequence number (acked, ordered, retransmitted). */
export function isSequenced(messageType: string): boolean {
  return messageType === MessageType.InputStreamData || messageType === MessageType.OutputStreamData;
}

// ---- acknowledge -------------------------------------------------------------

export interface AcknowledgeContent {
  AcknowledgedMessageType: string;
  AcknowledgedMessageId: string;
  AcknowledgedMessageSequenceNumber: number;
  IsSequentialMessage: boolean;
}

/** The ack for a sequenced message; key order as seen on the wire. */
export function encodeAcknowledge(
  acked: Pick<ClientMessage, 'messageType' | 'messageId' | 'sequenceNumber'>,
  options: { messageId?: string; createdDate?: number } = {},
): Buffer {
  const content: AcknowledgeContent = {
    AcknowledgedMessageType: acked.messageType,
    AcknowledgedMessageId: acked.messageId,
    AcknowledgedMessageSequenceNumber: acked.sequenceNumber,
    IsSequentialMessage: true,
  };
  return encodeMessage({
    messageType: MessageType.Acknowledge,
    sequenceNumber: 0,
    flags: ACK_FLAGS,
    payloadType: 0,
    payload: JSON.stringify(content),
    ...options,
  });
}

export function parseAcknowledge(message: ClientMessage): AcknowledgeContent {
  const content = parseJsonPayload(message) as Partial<AcknowledgeContent> | null;
  if (
    !content ||
    typeof content.AcknowledgedMessageSequenceNumber !== 'number' ||
    typeof content.AcknowledgedMessageType !== 'string'
  ) {
    throw new MessageDecodeError('acknowledge payload lacks AcknowledgedMessageSequenceNumber');
  }
  return content as AcknowledgeContent;
}

// ---- handshake ---------------------------------------------------------------

export interface RequestedClientAction {
  ActionType: 'SessionType' | 'KMSEncryption' | string;
  ActionParameters: unknown;
}

export interface HandshakeRequestPayload {
  AgentVersion: string;
  RequestedClientActions: RequestedClientAction[];
}

export interface ProcessedClientAction {
  ActionType: string;
  ActionStatus: number;
  ActionResult: unknown;
  Error: string;
}

export interface HandshakeResponsePayload {
  ClientVersion: string;
  ProcessedClientActions: ProcessedClientAction[];
  Errors: string[] | null;
}

export interface HandshakeCompletePayload {
  /** Nanoseconds (a Go time.Duration). */
  HandshakeTimeToComplete: number;
  CustomerMessage: string;
}

// ---- channel_closed ------------------------------------------------------------

export interface ChannelClosedPayload {
  MessageId: string;
  CreatedDate: string;
  DestinationId: string;
  SessionId: string;
  MessageType: 'channel_closed';
  SchemaVersion: number;
  Output: string;
}

export function encodeChannelClosed(sessionId: string, destinationId: string, output: string): Buffer {
  const messageId = randomUUID();
  const now = new Date();
  const content: ChannelClosedPayload = {
    MessageId: messageId,
    CreatedDate: now.toISOString(),
    DestinationId: destinationId,
    SessionId: sessionId,
    MessageType: MessageType.ChannelClosed,
    SchemaVersion: SCHEMA_VERSION,
    Output: output,
  };
  return encodeMessage({
    messageType: MessageType.ChannelClosed,
    sequenceNumber: 0,
    payloadType: 0,
    payload: JSON.stringify(content),
    messageId,
    createdDate: now.getTime(),
  });
}

export function parseJsonPayload(message: ClientMessage): unknown {
  try {
    return JSON.parse(message.payload.toString('utf8'));
  } catch {
    throw new MessageDecodeError(`${message.messageType} payload type ${message.payloadType} is not JSON`);
  }
}

/** The `Size` payload the client sends after HandshakeComplete and on every change. */
export interface SizePayload {
  cols: number;
  rows: number;
}
