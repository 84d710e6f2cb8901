/**
 * The data-channel agent (`/v1/data-channel/<SessionId>`). PLACEHOLDER until the
 * data-channel issue lands: it claims no upgrades, so StartSession works but no
 * shell can be opened yet.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { SessionStore } from '../sessionStore';

export interface FaultOptions {
  /** Fractions 0..1 of frames to drop, duplicate, reorder and delay, per direction. */
  drop?: number;
  duplicate?: number;
  reorder?: number;
  delay?: number;
  delayMs?: number;
  seed?: number;
  direction?: 'toClient' | 'toAgent' | 'both';
}

export interface DataChannelOptions {
  sessions: SessionStore;
  faults?: FaultOptions;
  log?: (message: string) => void;
}

export interface DataChannelHost {
  /** Takes an HTTP upgrade for `/v1/data-channel/...`; returns false when the path is not its own. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Ends the session's shell and closes its channel; resolves when the shell process is gone. */
  terminate(sessionId: string): Promise<void>;
  /** Ends every shell and channel. */
  close(): Promise<void>;
}

export function createDataChannelHost(_options: DataChannelOptions): DataChannelHost {
  return {
    handleUpgrade: () => false,
    terminate: async () => {},
    close: async () => {},
  };
}
