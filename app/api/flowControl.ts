/**
 * Flow control for terminal output, after VS Code's integrated terminal: the
 * source (a pty or a data-channel socket) counts the bytes it has sent that the
 * renderer has not yet acknowledged; above a high watermark it pauses, and it
 * resumes once acknowledgements bring the count below a low watermark. The
 * renderer acknowledges from xterm's write callback, in batches, so the ack
 * traffic stays small. Output is batched for a few milliseconds before it
 * crosses a process boundary. One module, used by the session host (source
 * side) and the renderer (ack side; the one app/ module besides errors it may load), so both agree on the numbers.
 */

/** Pause the source above this many unacknowledged bytes (VS Code: 100 000 chars). */
export const HIGH_WATERMARK_BYTES = 100_000;
/** Resume it below this many (VS Code: 5 000 chars). */
export const LOW_WATERMARK_BYTES = 5_000;
/** The renderer acknowledges once it has written this many bytes (VS Code: 5 000 chars). */
export const ACK_BATCH_BYTES = 5_000;
/** Output in a burst waits at most this long to be sent as one message across a process boundary. */
export const OUTPUT_BATCH_MS = 5;
/** … or until this much has gathered. */
export const OUTPUT_BATCH_MAX_BYTES = 64 * 1024;

export interface FlowControllerOptions {
  pause(): void;
  resume(): void;
  highWatermark?: number;
  lowWatermark?: number;
}

/** The source side: counts unacknowledged bytes and pauses/resumes the source. */
export class FlowController {
  private unacknowledged = 0;
  private paused = false;
  private readonly high: number;
  private readonly low: number;

  constructor(private readonly options: FlowControllerOptions) {
    this.high = options.highWatermark ?? HIGH_WATERMARK_BYTES;
    this.low = options.lowWatermark ?? LOW_WATERMARK_BYTES;
    if (!(this.low < this.high)) throw new RangeError('the low watermark must be below the high one');
  }

  get pending(): number {
    return this.unacknowledged;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** The source produced `bytes` that are on their way to the renderer. */
  sent(bytes: number): void {
    this.unacknowledged += bytes;
    if (!this.paused && this.unacknowledged > this.high) {
      this.paused = true;
      this.options.pause();
    }
  }

  /** The renderer has written `bytes` to the terminal. Never below zero: an ack for output of an earlier attach is ignored. */
  acknowledge(bytes: number): void {
    if (!Number.isFinite(bytes) || bytes <= 0) return;
    this.unacknowledged = Math.max(0, this.unacknowledged - bytes);
    if (this.paused && this.unacknowledged < this.low) {
      this.paused = false;
      this.options.resume();
    }
  }

  /** A renderer (re)attached and will acknowledge from zero: forget what the previous one owed. */
  reset(): void {
    this.unacknowledged = 0;
    if (this.paused) {
      this.paused = false;
      this.options.resume();
    }
  }
}

/** The renderer side: sums the bytes xterm has written and acknowledges them in batches. */
export class AckBatcher {
  private written = 0;

  constructor(
    private readonly acknowledge: (bytes: number) => void,
    private readonly batch = ACK_BATCH_BYTES,
  ) {}

  /** Call from xterm's write callback with the size of the chunk written. */
  onWritten(bytes: number): void {
    this.written += bytes;
    if (this.written >= this.batch) this.flush();
  }

  flush(): void {
    if (this.written === 0) return;
    const bytes = this.written;
    this.written = 0;
    this.acknowledge(bytes);
  }
}

/**
 * Gathers output for a few ms (or up to a size) and hands it on as one chunk.
 * Output after a quiet spell goes at once (a keystroke's echo, a prompt, the
 * session's first byte) and opens a window of `delayMs`; what arrives within
 * it waits for the window's end, so a flood still crosses as few large chunks.
 */
export class OutputBatcher {
  private chunks: Uint8Array[] = [];
  private size = 0;
  /** Set while a batch window is open. */
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly flushTo: (data: Uint8Array) => void,
    private readonly delayMs = OUTPUT_BATCH_MS,
    private readonly maxBytes = OUTPUT_BATCH_MAX_BYTES,
  ) {}

  push(data: Uint8Array): void {
    if (data.length === 0) return;
    this.chunks.push(data);
    this.size += data.length;
    if (this.size >= this.maxBytes) this.flush();
    else if (!this.timer) {
      this.flush();
      this.openWindow();
    }
  }

  /** Hands on what is pending now (the window, if open, stays open). */
  flush(): void {
    if (this.size === 0) return;
    const data = this.chunks.length === 1 ? this.chunks[0]! : concat(this.chunks, this.size);
    this.chunks = [];
    this.size = 0;
    this.flushTo(data);
  }

  /** Drops anything pending (the session is gone). */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.chunks = [];
    this.size = 0;
  }

  private openWindow(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.size === 0) return; // quiet: the next output goes at once
      this.flush();
      this.openWindow();
    }, this.delayMs);
  }
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
