/**
 * The sequenced stream rules from the wire facts, one end at a time: acks,
 * ordering buffer, duplicates, the RTO estimate and retransmission.
 */
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, type ClientMessage } from './message';
import { ReliableChannel } from './reliableChannel';
import { OutgoingStream, RetransmissionTimeout } from './streamState';

function output(sequenceNumber: number, text: string): Buffer {
  return encodeMessage({ messageType: 'output_stream_data', sequenceNumber, payloadType: 1, payload: text });
}

function receiver() {
  const delivered: string[] = [];
  const sent: ClientMessage[] = [];
  let ready = true;
  const channel = new ReliableChannel({
    sendType: 'input_stream_data',
    transmit: (frame) => sent.push(decodeMessage(frame)),
    deliver: (message) => {
      if (!ready) return false;
      delivered.push(message.payload.toString());
      return true;
    },
    onUnsequenced: () => {},
  });
  const acked = () =>
    sent
      .filter((m) => m.messageType === 'acknowledge')
      .map((m) => JSON.parse(m.payload.toString()).AcknowledgedMessageSequenceNumber as number);
  return { channel, delivered, acked, setReady: (value: boolean) => (ready = value) };
}

describe('receiving', () => {
  it('processes in order, acks early messages at once and buffers them, re-acks duplicates', () => {
    const { channel, delivered, acked } = receiver();
    channel.receive(output(1, 'b'));
    expect(delivered).toEqual([]);
    expect(acked()).toEqual([1]);
    channel.receive(output(0, 'a'));
    expect(delivered).toEqual(['a', 'b']);
    expect(acked()).toEqual([1, 0]);
    channel.receive(output(0, 'a'));
    expect(delivered).toEqual(['a', 'b']);
    expect(acked()).toEqual([1, 0, 0]);
    expect(channel.incoming.expectedSequenceNumber).toBe(2);
  });

  it('leaves a message it cannot process yet unacked and uncounted', () => {
    const { channel, delivered, acked, setReady } = receiver();
    setReady(false);
    channel.receive(output(0, 'early'));
    expect(acked()).toEqual([]);
    expect(channel.incoming.expectedSequenceNumber).toBe(0);
    setReady(true);
    channel.receive(output(0, 'early'));
    expect(delivered).toEqual(['early']);
  });

  it('drops frames that fail to decode', () => {
    const dropped: string[] = [];
    const channel = new ReliableChannel({
      sendType: 'input_stream_data',
      transmit: () => {},
      deliver: () => true,
      onUnsequenced: () => {},
      onDropped: (reason) => dropped.push(reason),
    });
    const frame = output(0, 'x');
    frame[120] = 0x79; // "x" -> "y"
    channel.receive(frame);
    expect(dropped).toEqual(['payload digest mismatch on output_stream_data']);
    expect(channel.incoming.expectedSequenceNumber).toBe(0);
  });
});

describe('sending', () => {
  it('numbers every message, keeps it until acked and feeds the RTT from the ack', () => {
    let now = 1000;
    const sent: Buffer[] = [];
    const channel = new ReliableChannel({
      sendType: 'input_stream_data',
      transmit: (frame) => sent.push(frame),
      deliver: () => true,
      onUnsequenced: () => {},
      now: () => now,
    });
    channel.send(6, '{}');
    channel.send(1, 'ls\r');
    expect(sent.map((f) => decodeMessage(f).sequenceNumber)).toEqual([0, 1]);
    expect(channel.outgoing.unackedCount).toBe(2);
    now += 40;
    const ack = encodeMessage({
      messageType: 'acknowledge',
      sequenceNumber: 0,
      flags: 3,
      payloadType: 0,
      payload: JSON.stringify({
        AcknowledgedMessageType: 'input_stream_data',
        AcknowledgedMessageId: decodeMessage(sent[1]!).messageId,
        AcknowledgedMessageSequenceNumber: 1,
        IsSequentialMessage: true,
      }),
    });
    channel.receive(ack);
    expect(channel.outgoing.unackedCount).toBe(1);
    // RTTVAR = 0.25·|100 − 40| = 15; RTT = 0.875·100 + 0.125·40 = 92.5; RTO = 92.5 + 60
    expect(channel.outgoing.rto.timeoutMs).toBeCloseTo(152.5);
  });

  it('computes RTO with a 10 ms variance floor and a 1 s cap', () => {
    const rto = new RetransmissionTimeout();
    expect(rto.timeoutMs).toBe(200);
    for (let i = 0; i < 200; i++) rto.addSample(100);
    expect(rto.timeoutMs).toBeCloseTo(110);
    for (let i = 0; i < 50; i++) rto.addSample(5000);
    expect(rto.timeoutMs).toBe(1000);
  });

  it('resends each unacked message once it is older than RTO, oldest first', () => {
    const stream = new OutgoingStream();
    const frames = [0, 1, 2].map((n) => stream.push(() => Buffer.from([n]), 0));
    expect(stream.takeOverdue(150)).toEqual([]);
    stream.acknowledge(1, 150);
    const overdue = stream.takeOverdue(400);
    expect(overdue).toEqual([frames[0], frames[2]]);
    expect(stream.takeOverdue(401)).toEqual([]);
  });

  it('to a peer that acks nothing (it stopped reading) resends only the oldest message per check, never the window', () => {
    const stream = new OutgoingStream();
    const frames = Array.from({ length: 1000 }, (_, n) => stream.push(() => Buffer.from([n % 256]), 0));
    // Ten checks, 100 ms apart, all long past RTO: one probe each, walking from the oldest.
    const resent: Buffer[] = [];
    for (let tick = 1; tick <= 10; tick++) resent.push(...stream.takeOverdue(5000 + tick * 100));
    expect(resent).toHaveLength(10);
    expect(resent[0]).toBe(frames[0]);
    expect(new Set(resent).size).toBeLessThanOrEqual(10);
  });

  it('resends at once every overdue message the peer has acked a later one past (it was lost)', () => {
    const stream = new OutgoingStream();
    const frames = Array.from({ length: 10 }, (_, n) => stream.push(() => Buffer.from([n]), 0));
    for (const n of [1, 3, 4, 6]) stream.acknowledge(n, 50);
    // Lost: 0, 2, 5 (behind the ack of 6); past it only the oldest, 7.
    expect(stream.takeOverdue(500)).toEqual([frames[0], frames[2], frames[5], frames[7]]);
  });

  it('takes no RTT sample from the ack of a resent message (Karn): it cannot tell which copy it answers', () => {
    const stream = new OutgoingStream();
    stream.push(() => Buffer.from([0]), 0);
    stream.push(() => Buffer.from([1]), 0);
    expect(stream.takeOverdue(300)).toHaveLength(1); // 0 resent at 300
    const before = stream.rto.timeoutMs;
    stream.acknowledge(0, 301); // a 1 ms "sample" from the resend would pull RTO down
    expect(stream.rto.timeoutMs).toBe(before);
    stream.acknowledge(1, 340); // never resent: a real 340 ms sample
    expect(stream.rto.roundTripTimeMs).toBeCloseTo(0.875 * 100 + 0.125 * 340);
  });
});
