/**
 * Reliability state of one direction pair of a data channel, the same on both
 * ends (wire facts, "Acknowledgements and ordering"): the ordering buffer for
 * incoming sequenced messages, and the unacked buffer with the RTT/RTO rules
 * for outgoing ones. Both survive a reconnect: a resumed channel carries them over.
 */
import type { ClientMessage } from './message';

/** Messages buffered on either side, as the plugin and agent cap them. */
export const BUFFER_CAPACITY = 10_000;
/** How often the oldest unacked messages are checked for retransmission. */
export const RESEND_INTERVAL_MS = 100;

const INITIAL_RTT_MS = 100;
const INITIAL_RTO_MS = 200;
const MIN_RTO_VARIANCE_MS = 10;
const MAX_RTO_MS = 1000;

/** RFC 6298-style estimator with the constants the plugin uses. */
export class RetransmissionTimeout {
  roundTripTimeMs = INITIAL_RTT_MS;
  roundTripTimeVariationMs = 0;
  timeoutMs = INITIAL_RTO_MS;

  addSample(sampleMs: number): void {
    this.roundTripTimeVariationMs =
      0.75 * this.roundTripTimeVariationMs + 0.25 * Math.abs(this.roundTripTimeMs - sampleMs);
    this.roundTripTimeMs = 0.875 * this.roundTripTimeMs + 0.125 * sampleMs;
    this.timeoutMs = Math.min(
      MAX_RTO_MS,
      this.roundTripTimeMs + Math.max(MIN_RTO_VARIANCE_MS, 4 * this.roundTripTimeVariationMs),
    );
  }
}

export interface OutgoingEntry {
  sequenceNumber: number;
  frame: Buffer;
  lastSentAt: number;
  /** Sent more than once: its ack cannot tell which copy it answers (Karn), so it gives no RTT sample. */
  resent: boolean;
}

/** Sequence counter plus the messages sent and not yet acknowledged, oldest first. */
export class OutgoingStream {
  nextSequenceNumber = 0;
  readonly rto = new RetransmissionTimeout();
  private readonly unacked = new Map<number, OutgoingEntry>();
  /** The highest sequence number the peer has acked, -1 before the first ack. */
  private highestAcked = -1;

  get unackedCount(): number {
    return this.unacked.size;
  }

  get hasCapacity(): boolean {
    return this.unacked.size < BUFFER_CAPACITY;
  }

  /** Takes the next sequence number for a frame built with it, and keeps the frame until acked. */
  push(build: (sequenceNumber: number) => Buffer, now: number): Buffer {
    const sequenceNumber = this.nextSequenceNumber++;
    const frame = build(sequenceNumber);
    this.unacked.set(sequenceNumber, { sequenceNumber, frame, lastSentAt: now, resent: false });
    return frame;
  }

  /** Removes the acked message and feeds the RTT estimate; false when it was not outstanding. */
  acknowledge(sequenceNumber: number, now: number): boolean {
    const entry = this.unacked.get(sequenceNumber);
    if (!entry) return false;
    this.unacked.delete(sequenceNumber);
    if (sequenceNumber > this.highestAcked) this.highestAcked = sequenceNumber;
    if (!entry.resent) this.rto.addSample(Math.max(0, now - entry.lastSentAt));
    return true;
  }

  /**
   * Frames to send again, oldest first, each stamped as sent now:
   * - every message older than RTO that the peer has acked a later message
   *   past: it acks early arrivals at once, so that one was lost (the plugin
   *   resends only the oldest per tick, which under frame loss recovers one
   *   message per 100 ms);
   * - and, past the highest ack, only the oldest one older than RTO, as the
   *   plugin does. A peer that acks nothing has stopped reading (flow
   *   control) or is gone: resending its whole window every RTO would only
   *   queue copies of up to 10,000 messages in front of the socket it is not
   *   reading, again every RTO, until their backlog outgrows what it can ever
   *   catch up with.
   */
  takeOverdue(now: number): Buffer[] {
    const frames: Buffer[] = [];
    for (const entry of this.unacked.values()) {
      if (now - entry.lastSentAt <= this.rto.timeoutMs) continue;
      const behindAnAck = entry.sequenceNumber < this.highestAcked;
      entry.lastSentAt = now;
      entry.resent = true;
      frames.push(entry.frame);
      if (!behindAnAck) break;
    }
    return frames;
  }

  /** Every unacked frame, oldest first, stamped as sent now (used right after a resume). */
  takeAll(now: number): Buffer[] {
    return [...this.unacked.values()].map((entry) => {
      entry.lastSentAt = now;
      entry.resent = true;
      return entry.frame;
    });
  }
}

export type Arrival = 'next' | 'early' | 'duplicate' | 'overflow';

/** Expected sequence number plus the ordering buffer for messages that arrived early. */
export class IncomingStream {
  expectedSequenceNumber = 0;
  private readonly early = new Map<number, ClientMessage>();

  classify(sequenceNumber: number): Arrival {
    if (sequenceNumber === this.expectedSequenceNumber) return 'next';
    if (sequenceNumber < this.expectedSequenceNumber) return 'duplicate';
    if (this.early.has(sequenceNumber)) return 'early';
    return this.early.size < BUFFER_CAPACITY ? 'early' : 'overflow';
  }

  /** Keeps an early message for later (a repeat of one already held is ignored). */
  hold(message: ClientMessage): void {
    if (!this.early.has(message.sequenceNumber)) this.early.set(message.sequenceNumber, message);
  }

  advance(): void {
    this.expectedSequenceNumber++;
  }

  /** The held message that is now next in order, removed from the buffer. */
  takeNext(): ClientMessage | undefined {
    const message = this.early.get(this.expectedSequenceNumber);
    if (message) this.early.delete(this.expectedSequenceNumber);
    return message;
  }

  get heldCount(): number {
    return this.early.size;
  }
}
