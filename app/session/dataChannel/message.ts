/**
 * The SSM Session Manager data-channel message codec, shared by the sandbox's
 * agent and RoleShell's built-in client. Layout and rules follow
 * `../shared/design/ssm-data-channel.md` ("Binary message"): every integer is
 * big-endian, the header is 116 bytes, the payload starts at HeaderLength + 4.
 */
import * as crypto from 'node:crypto';
import { randomFillSync, randomUUID } from 'node:crypto';

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
  /** The 16 MessageId bytes as on the wire (acks are built from these, no string round trip). */
  messageIdBytes?: Buffer;
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

// Random message ids are taken from a pool filled 1,024 ids at a time (one getrandom call, not one per message).
const ID_POOL_IDS = 1024;
const idPool = Buffer.allocUnsafe(16 * ID_POOL_IDS);
let idPoolNext = ID_POOL_IDS;

/** Writes a fresh random (version 4) UUID in wire order at `offset`: what randomUUID() + uuidToWire() give. */
function writeRandomWireUuid(target: Buffer, offset: number): void {
  if (idPoolNext === ID_POOL_IDS) {
    randomFillSync(idPool);
    idPoolNext = 0;
  }
  const start = 16 * idPoolNext++;
  idPool.copy(target, offset, start, start + 16);
  // In wire order UUID byte 6 (version) sits at 14 and byte 8 (variant) at 0.
  target[offset + 14] = (target[offset + 14]! & 0x0f) | 0x40;
  target[offset] = (target[offset]! & 0x3f) | 0x80;
}

/** One-shot SHA-256 where Node has it (crypto.hash, Node 20.12+), else a Hash object. */
const hashOnce = (crypto as { hash?: (algorithm: string, data: Buffer, encoding: 'buffer') => Buffer }).hash;

export function sha256(payload: Buffer): Buffer {
  return hashOnce
    ? hashOnce('sha256', payload, 'buffer')
    : crypto.createHash('sha256').update(payload).digest();
}

/** Message types padded to their 32-byte field, built once per type. */
const paddedTypes = new Map<string, Buffer>();

function paddedType(messageType: string): Buffer {
  let padded = paddedTypes.get(messageType);
  if (!padded) {
    if (messageType.length === 0 || messageType.length > MESSAGE_TYPE_LENGTH) {
      throw new Error(`message type must be 1..${MESSAGE_TYPE_LENGTH} characters`);
    }
    padded = Buffer.from(messageType.padEnd(MESSAGE_TYPE_LENGTH, ' '), 'ascii');
    if (paddedTypes.size < 64) paddedTypes.set(messageType, padded);
  }
  return padded;
}

const TWO_32 = 2 ** 32;

/** A non-negative safe integer as u64/i64 big-endian, without a BigInt per field. */
function writeUInt64(frame: Buffer, value: number, offset: number): void {
  if (value < 0 || !Number.isSafeInteger(value)) {
    frame.writeBigInt64BE(BigInt(value), offset);
    return;
  }
  frame.writeUInt32BE(Math.floor(value / TWO_32), offset);
  frame.writeUInt32BE(value >>> 0, offset + 4);
}

function readUInt64(frame: Buffer, offset: number): number {
  return frame.readUInt32BE(offset) * TWO_32 + frame.readUInt32BE(offset + 4);
}

export function encodeMessage(message: NewMessage): Buffer {
  const payload =
    typeof message.payload === 'string' ? Buffer.from(message.payload, 'utf8') : message.payload;
  const type = paddedType(message.messageType);
  // Every byte below is written, so the frame needs no zero-fill.
  const frame = Buffer.allocUnsafe(PAYLOAD_OFFSET + payload.length);
  frame.writeUInt32BE(HEADER_LENGTH, 0);
  type.copy(frame, 4);
  frame.writeUInt32BE(message.schemaVersion ?? SCHEMA_VERSION, 36);
  writeUInt64(frame, message.createdDate ?? Date.now(), 40);
  writeUInt64(frame, message.sequenceNumber, 48);
  writeUInt64(frame, message.flags ?? 0, 56);
  if (message.messageId === undefined) writeRandomWireUuid(frame, 64);
  else uuidToWire(message.messageId).copy(frame, 64);
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
  const messageType = knownMessageType(frame) ?? frame.toString('ascii', 4, 36).trim();
  if (messageType.length === 0) throw new MessageDecodeError('MessageType is empty');
  const createdDate = readUInt64(frame, 40);
  if (createdDate === 0) throw new MessageDecodeError('CreatedDate is 0');
  const payload = frame.subarray(headerLength + 4);
  const payloadDigest = frame.subarray(80, 112);
  const publicationControl =
    messageType === MessageType.StartPublication || messageType === MessageType.PausePublication;
  if (!publicationControl && !sha256(payload).equals(payloadDigest)) {
    throw new MessageDecodeError(`payload digest mismatch on ${messageType}`);
  }
  // Views into the frame, not copies: a frame is one WebSocket message of its own.
  return new DecodedMessage(
    headerLength,
    messageType,
    frame.readUInt32BE(36),
    createdDate,
    Number(frame.readBigInt64BE(48)),
    readUInt64(frame, 56),
    frame.subarray(64, 80),
    payloadDigest,
    frame.readUInt32BE(112),
    frame.readUInt32BE(116),
    payload,
  );
}

const KNOWN_TYPES = Object.values(MessageType).map((type) => ({ type, padded: paddedType(type) }));

/** The MessageType field compared as bytes with the known types, sparing a string per frame. */
function knownMessageType(frame: Buffer): string | undefined {
  for (const { type, padded } of KNOWN_TYPES) {
    if (frame.compare(padded, 0, MESSAGE_TYPE_LENGTH, 4, 36) === 0) return type;
  }
  return undefined;
}

/** A decoded frame; the MessageId string is made only when asked for (acks use the bytes). */
class DecodedMessage implements ClientMessage {
  private id: string | undefined;

  constructor(
    readonly headerLength: number,
    readonly messageType: string,
    readonly schemaVersion: number,
    readonly createdDate: number,
    readonly sequenceNumber: number,
    readonly flags: number,
    readonly messageIdBytes: Buffer,
    readonly payloadDigest: Buffer,
    readonly payloadType: number,
    readonly payloadLength: number,
    readonly payload: Buffer,
  ) {}

  get messageId(): string {
    return (this.id ??= uuidFromWire(this.messageIdBytes));
  }
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
  acked: Pick<ClientMessage, 'messageType' | 'messageId' | 'sequenceNumber' | 'messageIdBytes'>,
  options: { messageId?: string; createdDate?: number } = {},
): Buffer {
  if (options.messageId === undefined && acked.messageIdBytes && isSequenced(acked.messageType)) {
    return encodeAcknowledgeFromTemplate(
      acked.messageType,
      acked.messageIdBytes,
      acked.sequenceNumber,
      options,
    );
  }
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

/**
 * The same bytes as JSON.stringify of the ack content, written into a copy of a
 * per-type template: the UUID as hex straight from its wire bytes, then the
 * sequence number.
 */
function encodeAcknowledgeFromTemplate(
  messageType: string,
  idBytes: Buffer,
  sequenceNumber: number,
  options: { createdDate?: number },
): Buffer {
  const template = ackTemplate(messageType);
  const digits = String(sequenceNumber);
  const payloadLength = template.payloadLength + digits.length;
  const frame = Buffer.allocUnsafe(PAYLOAD_OFFSET + payloadLength);
  template.header.copy(frame, 0);
  writeUInt64(frame, options.createdDate ?? Date.now(), 40);
  writeRandomWireUuid(frame, 64);
  frame.writeUInt32BE(payloadLength, 116);
  let at = PAYLOAD_OFFSET + template.prefix.copy(frame, PAYLOAD_OFFSET);
  // Canonical UUID order is wire bytes 8..15 then 0..7, dashes after canonical bytes 4, 6, 8, 10.
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) frame[at++] = 0x2d;
    const byte = idBytes[(i + 8) & 15]!;
    frame[at++] = HEX[byte >> 4]!;
    frame[at++] = HEX[byte & 15]!;
  }
  at += template.middle.copy(frame, at);
  at += frame.write(digits, at, 'ascii');
  template.suffix.copy(frame, at);
  sha256(frame.subarray(PAYLOAD_OFFSET)).copy(frame, 80);
  return frame;
}

const HEX = Buffer.from('0123456789abcdef', 'ascii');
const ackTemplates = new Map<string, ReturnType<typeof buildAckTemplate>>();

function ackTemplate(messageType: string) {
  let template = ackTemplates.get(messageType);
  if (!template) {
    template = buildAckTemplate(messageType);
    ackTemplates.set(messageType, template);
  }
  return template;
}

function buildAckTemplate(messageType: string) {
  const header = Buffer.alloc(PAYLOAD_OFFSET);
  header.writeUInt32BE(HEADER_LENGTH, 0);
  paddedType(MessageType.Acknowledge).copy(header, 4);
  header.writeUInt32BE(SCHEMA_VERSION, 36);
  writeUInt64(header, 0, 48);
  writeUInt64(header, ACK_FLAGS, 56);
  header.writeUInt32BE(0, 112);
  const prefix = Buffer.from(
    `{"AcknowledgedMessageType":${JSON.stringify(messageType)},"AcknowledgedMessageId":"`,
    'utf8',
  );
  const middle = Buffer.from('","AcknowledgedMessageSequenceNumber":', 'ascii');
  const suffix = Buffer.from(',"IsSequentialMessage":true}', 'ascii');
  return {
    header,
    prefix,
    middle,
    suffix,
    payloadLength: prefix.length + 36 + middle.length + suffix.length,
  };
}

/**
 * AcknowledgedMessageSequenceNumber of an ack, read in place when the payload
 * has the exact layout both ends write (encodeAcknowledge, the plugin's and
 * agent's json.Marshal); anything else goes through JSON.parse.
 */
export function acknowledgedSequenceNumber(message: ClientMessage): number {
  const payload = message.payload;
  for (const type of [MessageType.OutputStreamData, MessageType.InputStreamData]) {
    const { prefix, middle, suffix } = ackTemplate(type);
    const digitsStart = prefix.length + 36 + middle.length;
    const digitsEnd = payload.length - suffix.length;
    if (digitsEnd <= digitsStart || digitsEnd - digitsStart > 15) continue;
    if (payload.compare(prefix, 0, prefix.length, 0, prefix.length) !== 0) continue;
    if (payload.compare(middle, 0, middle.length, prefix.length + 36, digitsStart) !== 0) continue;
    if (payload.compare(suffix, 0, suffix.length, digitsEnd, payload.length) !== 0) continue;
    let value = 0;
    for (let i = digitsStart; i < digitsEnd; i++) {
      const digit = payload[i]! - 0x30;
      if (digit < 0 || digit > 9) return parseAcknowledge(message).AcknowledgedMessageSequenceNumber;
      value = value * 10 + digit;
    }
    return value;
  }
  return parseAcknowledge(message).AcknowledgedMessageSequenceNumber;
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
