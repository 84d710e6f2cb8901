/**
 * One end of a data channel's sequenced stream, shared by the sandbox agent
 * (sending output_stream_data) and the built-in client (sending
 * input_stream_data): acks every sequenced message, orders early arrivals,
 * drops duplicates, and retransmits unacked messages by the RTO rules.
 * The transport (a WebSocket, possibly replaced on resume) stays outside.
 */
import {
  MessageType,
  acknowledgedSequenceNumber,
  decodeMessage,
  encodeAcknowledge,
  encodeMessage,
  isSequenced,
  type ClientMessage,
} from './message';
import { IncomingStream, OutgoingStream, RESEND_INTERVAL_MS } from './streamState';

export interface ReliableChannelOptions {
  /** The message type this end sends its stream as. */
  sendType: typeof MessageType.InputStreamData | typeof MessageType.OutputStreamData;
  /** Puts a frame on the wire; called with nothing connected is fine (the frame is resent later). */
  transmit(frame: Buffer): void;
  /**
   * Handles the next in-order message. Returning false leaves it unprocessed:
   * not acked, not counted, so the peer resends it (the plugin does this with
   * output that arrives before the handshake completes).
   */
  deliver(message: ClientMessage): boolean;
  /** channel_closed and the publication messages (not sequenced). */
  onUnsequenced(message: ClientMessage): void;
  /** An outstanding message was acked (room in the unacked buffer). */
  onAcknowledged?(): void;
  onDropped?(reason: string): void;
  now?: () => number;
}

export class ReliableChannel {
  readonly outgoing = new OutgoingStream();
  readonly incoming = new IncomingStream();
  /** Copies of messages already processed (the peer resent them): a measure of wasted traffic. */
  duplicatesReceived = 0;
  private resendTimer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(private readonly options: ReliableChannelOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Sends one sequenced message and keeps it until acked. */
  send(payloadType: number, payload: Buffer | string): void {
    const frame = this.outgoing.push(
      (sequenceNumber) =>
        encodeMessage({ messageType: this.options.sendType, sequenceNumber, payloadType, payload }),
      this.now(),
    );
    this.options.transmit(frame);
  }

  receive(frame: Buffer): void {
    let message: ClientMessage;
    try {
      message = decodeMessage(frame);
    } catch (error) {
      // The plugin logs and drops malformed frames; so do we.
      this.options.onDropped?.((error as Error).message);
      return;
    }
    if (message.messageType === MessageType.Acknowledge) {
      try {
        const sequenceNumber = acknowledgedSequenceNumber(message);
        if (this.outgoing.acknowledge(sequenceNumber, this.now())) this.options.onAcknowledged?.();
      } catch (error) {
        this.options.onDropped?.((error as Error).message);
      }
      return;
    }
    if (!isSequenced(message.messageType)) {
      this.options.onUnsequenced(message);
      return;
    }
    switch (this.incoming.classify(message.sequenceNumber)) {
      case 'next':
        if (!this.options.deliver(message)) return;
        this.acknowledge(message);
        this.incoming.advance();
        this.drainHeld();
        return;
      case 'early':
        this.acknowledge(message);
        this.incoming.hold(message);
        return;
      case 'duplicate':
        this.duplicatesReceived++;
        // The agent and plugin drop these without an ack. We ack again: if our first ack
        // was lost, the peer would otherwise resend this message forever. Real peers
        // ignore an ack for a message they no longer hold.
        this.acknowledge(message);
        return;
      case 'overflow':
        this.options.onDropped?.(`ordering buffer full; dropped sequence ${message.sequenceNumber}`);
        return;
    }
  }

  /** Starts the 100 ms retransmission check. */
  start(): void {
    if (this.resendTimer) return;
    this.resendTimer = setInterval(() => {
      for (const frame of this.outgoing.takeOverdue(this.now())) this.options.transmit(frame);
    }, RESEND_INTERVAL_MS);
    this.resendTimer.unref();
  }

  stop(): void {
    clearInterval(this.resendTimer);
    this.resendTimer = undefined;
  }

  /** Sends every unacked message again at once (after a resume on a new socket). */
  resendAll(): void {
    for (const frame of this.outgoing.takeAll(this.now())) this.options.transmit(frame);
  }

  private acknowledge(message: ClientMessage): void {
    this.options.transmit(encodeAcknowledge(message));
  }

  private drainHeld(): void {
    for (let next = this.incoming.takeNext(); next; next = this.incoming.takeNext()) {
      if (!this.options.deliver(next)) {
        this.incoming.hold(next);
        return;
      }
      this.incoming.advance();
    }
  }
}
