/**
 * Seeded fault injection on one direction of a data channel: drops,
 * duplicates, reorders (holds a frame back until the next one has passed) or
 * delays a fraction of frames. Off unless a fraction is set; the same seed
 * gives the same decisions.
 */
import type { FaultOptions } from './index';

/** mulberry32: small, fast, good enough to pick which frames to disturb. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type FaultDirection = 'toClient' | 'toAgent';

const DEFAULT_DELAY_MS = 20;
/** A reordered frame is released after the next frame, or after this long if none comes. */
const REORDER_HOLD_MS = 5;

export interface FaultCounts {
  passed: number;
  dropped: number;
  duplicated: number;
  reordered: number;
  delayed: number;
}

export function newFaultCounts(): FaultCounts {
  return { passed: 0, dropped: 0, duplicated: 0, reordered: 0, delayed: 0 };
}

export class FaultyLink {
  private readonly random: () => number;
  private readonly active: boolean;
  private held: { frame: Buffer; timer: NodeJS.Timeout } | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly faults: FaultOptions | undefined,
    direction: FaultDirection,
    private readonly deliver: (frame: Buffer) => void,
    /** Tallies, shareable across the links of successive sockets. */
    readonly counts: FaultCounts = newFaultCounts(),
  ) {
    const applies = !faults?.direction || faults.direction === 'both' || faults.direction === direction;
    this.active =
      !!faults &&
      applies &&
      [faults.drop, faults.duplicate, faults.reorder, faults.delay].some((f) => (f ?? 0) > 0);
    // Each direction gets its own stream so one side's traffic does not shift the other's faults.
    this.random = seededRandom((faults?.seed ?? 1) + (direction === 'toClient' ? 0 : 0x9e3779b9));
  }

  send(frame: Buffer): void {
    if (this.closed) return;
    if (!this.active || !this.faults) {
      this.pass(frame);
      return;
    }
    const { drop = 0, duplicate = 0, reorder = 0, delay = 0 } = this.faults;
    if (this.random() < drop) {
      this.counts.dropped++;
      return;
    }
    if (this.random() < delay) {
      this.counts.delayed++;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (!this.closed) this.pass(frame);
      }, this.faults.delayMs ?? DEFAULT_DELAY_MS);
      this.timers.add(timer);
      return;
    }
    if (!this.held && this.random() < reorder) {
      this.counts.reordered++;
      const timer = setTimeout(() => this.releaseHeld(), REORDER_HOLD_MS);
      this.held = { frame, timer };
      return;
    }
    this.pass(frame);
    if (this.random() < duplicate) {
      this.counts.duplicated++;
      this.deliver(frame);
    }
    this.releaseHeld();
  }

  /** Stops delivering; frames held or delayed are lost, as on a dropped connection. */
  close(): void {
    this.closed = true;
    if (this.held) clearTimeout(this.held.timer);
    this.held = undefined;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private pass(frame: Buffer): void {
    this.counts.passed++;
    this.deliver(frame);
  }

  private releaseHeld(): void {
    const held = this.held;
    if (!held) return;
    this.held = undefined;
    clearTimeout(held.timer);
    if (!this.closed) this.pass(held.frame);
  }
}
