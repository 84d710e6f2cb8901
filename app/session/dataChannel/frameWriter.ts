/**
 * Writes data-channel frames to a WebSocket in batches, one batch per
 * event-loop turn: `ws` puts each frame on the TCP socket with its own write,
 * so a burst of output messages (or of the acks for them) would cost one
 * syscall each. Corking the TCP socket around the batch makes it one writev.
 * Frames keep their order; a frame queued while no socket is open is dropped,
 * as an unsent frame was before (the reliable channel resends what counts).
 */
import type { Socket } from 'node:net';
import WebSocket from 'ws';

export class FrameWriter {
  private queued: Buffer[] = [];
  private queuedSize = 0;
  private scheduled = false;

  /** `socket()` is read at flush time, so a resumed connection gets what is queued. */
  constructor(private readonly socket: () => WebSocket | undefined) {}

  /** Bytes waiting for this turn's write. */
  get queuedBytes(): number {
    return this.queuedSize;
  }

  send(frame: Buffer): void {
    this.queued.push(frame);
    this.queuedSize += frame.length;
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flush);
  }

  /** Writes everything queued now (before a frame that must not overtake them). */
  readonly flush = (): void => {
    this.scheduled = false;
    const frames = this.queued;
    if (frames.length === 0) return;
    this.queued = [];
    this.queuedSize = 0;
    const socket = this.socket();
    if (socket?.readyState !== WebSocket.OPEN) return;
    // ws keeps its TCP socket in `_socket`; cork() nests, so ws's own cork per frame joins ours.
    const tcp = (socket as unknown as { _socket?: Socket })._socket;
    tcp?.cork();
    for (const frame of frames) socket.send(frame, { binary: true });
    tcp?.uncork();
  };

  /** Forgets what is queued (the socket it was meant for is gone). */
  clear(): void {
    this.queued = [];
    this.queuedSize = 0;
  }
}
