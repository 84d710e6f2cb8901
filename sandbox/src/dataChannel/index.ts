/**
 * The data-channel endpoint (`/v1/data-channel/<SessionId>?role=publish_subscribe`):
 * takes HTTP upgrades from the sandbox's server, checks the open frame against
 * the session's tokens, and hands the socket to the session's agent (a new
 * shell on the first open, the same one on a resume).
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import { WebSocketServer } from 'ws';
import { z } from 'zod';
import type { SessionStore } from '../sessionStore';
import type { FaultCounts } from './faults';
import type { InstanceHosts } from './instanceHost';
import { ShellSessionAgent } from './shellSessionAgent';

export interface FaultOptions {
  /** Fractions 0..1 of frames to drop, duplicate, reorder and delay, per direction. */
  drop?: number;
  duplicate?: number;
  reorder?: number;
  delay?: number;
  delayMs?: number;
  seed?: number;
  direction?: 'toClient' | 'toAgent' | 'both';
  /**
   * Socket drop: after sending this many frames on a session's first socket, the agent destroys
   * it without a close frame (once per session, so a resumed socket always makes progress).
   */
  dropAfterMessages?: number;
}

export interface DataChannelOptions {
  sessions: SessionStore;
  faults?: FaultOptions;
  /** The org's instances as little hosts (namespaces, users, homes); see instanceHost.ts. */
  hosts?: InstanceHosts;
  log?: (message: string) => void;
  /** Milliseconds in a session-document minute (idleSessionTimeout, maxSessionDuration); default 60 000. */
  minuteMs?: number;
  /** After the shell exits, how long the agent waits for the client to ack the last output (default 10 s). */
  drainTimeoutMs?: number;
  /** How long a new socket may take to send its open frame (default 10 s). */
  openFrameTimeoutMs?: number;
}

export interface DataChannelHost {
  /** Takes an HTTP upgrade for `/v1/data-channel/...`; returns false when the path is not its own. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Ends the session's shell and closes its channel; resolves when the shell process is gone. */
  terminate(sessionId: string): Promise<void>;
  /**
   * Fault injection for tests: drops the session's WebSocket abruptly from the agent side (no close
   * frame, as a dead network path would); the shell keeps running and the session goes Disconnected
   * until the client resumes. Returns false when the session has no socket attached.
   */
  dropDataChannel(sessionId: string): boolean;
  /** Ends every shell and channel. */
  close(): Promise<void>;
  /** Sessions whose agent is held (opened and not yet ended). */
  liveSessionCount(): number;
  /** Frames disturbed by fault injection so far for a session, per direction (undefined before its first open). */
  faultCounts?(sessionId: string): { toClient: FaultCounts; toAgent: FaultCounts } | undefined;
  /** The most output a live session's agent has had queued unsent in front of its socket. */
  peakUnsentBytes?(sessionId: string): number | undefined;
  /** The most output a live session's agent has held read from its pty but not yet sent. */
  peakPendingBytes?(sessionId: string): number | undefined;
}

const DATA_CHANNEL_PATH = /^\/v1\/data-channel\/([^/?]+)$/;
const MAX_ENDED_FAULT_COUNTS = 1000;
/** Close code for a refused open (policy violation); the reason says why. */
export const REFUSED = 1008;

const OpenFrame = z.object({
  MessageSchemaVersion: z.literal('1.0'),
  RequestId: z.uuid(),
  TokenValue: z.string().min(1),
  ClientId: z.string().min(1),
  ClientVersion: z.string().min(1),
});

export function createDataChannelHost(options: DataChannelOptions): DataChannelHost {
  const { sessions } = options;
  const log = options.log ?? (() => {});
  /** Live sessions only: an agent is forgotten when its session ends, so a long-running sandbox stays flat. */
  const agents = new Map<string, ShellSessionAgent>();
  /** With fault injection on, what was disturbed in ended sessions (a few numbers each, the newest kept). */
  const endedFaultCounts = new Map<string, { toClient: FaultCounts; toAgent: FaultCounts }>();
  // Clients send stdin in chunks of at most 1 KiB; nothing legitimate comes near 1 MiB.
  const server = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1 << 20 });
  let closing = false;

  function refuse(socket: WebSocket, reason: string): void {
    log(`data-channel refused: ${reason}`);
    socket.close(REFUSED, reason.slice(0, 120));
  }

  function onConnection(socket: WebSocket, sessionId: string): void {
    const timer = setTimeout(
      () => refuse(socket, 'No open frame received'),
      options.openFrameTimeoutMs ?? 10_000,
    );
    socket.on('error', () => {});
    socket.once('close', () => clearTimeout(timer));
    socket.once('message', (data, isBinary) => {
      clearTimeout(timer);
      if (isBinary) {
        refuse(socket, 'The first frame must be the text open frame');
        return;
      }
      let frame: z.infer<typeof OpenFrame>;
      try {
        const parsed = OpenFrame.safeParse(JSON.parse(data.toString()));
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          refuse(
            socket,
            `Invalid open frame: ${issue?.path.join('.') || 'frame'} ${issue?.message ?? ''}`.trim(),
          );
          return;
        }
        frame = parsed.data;
      } catch {
        refuse(socket, 'Invalid open frame: not JSON');
        return;
      }
      const session = sessions.get(sessionId);
      if (!session) {
        refuse(socket, `Session ${sessionId} not found`);
        return;
      }
      if (!session.tokens.some((token) => sameToken(token, frame.TokenValue))) {
        refuse(socket, `Authentication failed: the token is not valid for session ${sessionId}`);
        return;
      }
      if (!sessions.isActive(session) || session.status === 'Terminating' || closing) {
        refuse(socket, `Session ${sessionId} is terminated`);
        return;
      }
      let agent = agents.get(sessionId);
      if (!agent) {
        agent = new ShellSessionAgent({
          session,
          sessions,
          faults: options.faults,
          hosts: options.hosts,
          log,
          minuteMs: options.minuteMs ?? 60_000,
          drainTimeoutMs: options.drainTimeoutMs ?? 10_000,
          onEnded: () => {
            const ended = agents.get(sessionId);
            if (!ended) return;
            agents.delete(sessionId);
            if (options.faults) {
              endedFaultCounts.set(sessionId, ended.faultCounts);
              if (endedFaultCounts.size > MAX_ENDED_FAULT_COUNTS) {
                endedFaultCounts.delete(endedFaultCounts.keys().next().value!);
              }
            }
          },
        });
        agents.set(sessionId, agent);
      }
      agent.attach(socket, frame.ClientId);
    });
  }

  return {
    handleUpgrade(req, socket, head) {
      const url = new URL(req.url ?? '/', 'http://sandbox');
      const match = DATA_CHANNEL_PATH.exec(url.pathname);
      if (!match) return false;
      const sessionId = decodeURIComponent(match[1]!);
      const role = url.searchParams.get('role');
      server.handleUpgrade(req, socket, head, (ws) => {
        if (role !== 'publish_subscribe')
          refuse(ws, `Unsupported role ${role ?? '(none)'}: use role=publish_subscribe`);
        else onConnection(ws, sessionId);
      });
      return true;
    },

    liveSessionCount() {
      return agents.size;
    },

    dropDataChannel(sessionId) {
      return agents.get(sessionId)?.dropSocket() ?? false;
    },

    peakUnsentBytes(sessionId) {
      return agents.get(sessionId)?.peakUnsentBytes;
    },
    peakPendingBytes(sessionId) {
      return agents.get(sessionId)?.peakPendingBytes;
    },
    faultCounts(sessionId) {
      return agents.get(sessionId)?.faultCounts ?? endedFaultCounts.get(sessionId);
    },

    async terminate(sessionId) {
      const agent = agents.get(sessionId);
      if (agent) {
        await agent.terminate();
        return;
      }
      // Never opened: there is no shell, only the record to close.
      const session = sessions.get(sessionId);
      if (session && sessions.isActive(session)) {
        sessions.update(sessionId, { status: 'Terminated', endDate: new Date() });
      }
    },

    async close() {
      closing = true;
      await Promise.all([...agents.values()].map((agent) => agent.terminate()));
      for (const client of server.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function sameToken(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
