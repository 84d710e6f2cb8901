/**
 * The agent end of one Session Manager shell session, as the session-manager-plugin
 * sees a real SSM agent: handshake, acks and ordering, retransmission, a login
 * shell in a pty, Size and stdin applied to it, channel_closed when it ends.
 * The session outlives its WebSocket: a resumed socket picks up the same
 * sequence numbers and unacked output.
 */
import WebSocket from 'ws';
import {
  ActionStatus,
  PayloadType,
  PayloadTypeFlag,
  MessageType,
  encodeChannelClosed,
  parseJsonPayload,
  type ClientMessage,
  type HandshakeRequestPayload,
  type HandshakeResponsePayload,
  type RequestedClientAction,
} from '../../../app/session/dataChannel/message';
import { FrameWriter } from '../../../app/session/dataChannel/frameWriter';
import { ReliableChannel } from '../../../app/session/dataChannel/reliableChannel';
import type { SandboxSession, SessionStatus, SessionStore } from '../sessionStore';
import { FaultyLink, newFaultCounts, type FaultCounts } from './faults';
import type { FaultOptions } from './index';
import type { InstanceHosts } from './instanceHost';
import { killSession, spawnLoginShell, type LoginShell } from './loginShell';
import { traceHop } from '../../../app/session/connectTrace';

export const AGENT_VERSION = '3.3.1142.0';
/** Output payloads are cut at this size, as the real agent reads its pty. */
export const OUTPUT_CHUNK_BYTES = 1024;
/**
 * Output read from the pty but not yet sent, above which the pty is paused (the shell then blocks on write).
 * The real agent reads a payload's worth from its pty and writes it before it reads more, so once its write
 * blocks, the shell does: it holds no more than a read. This agent holds about a read of node-pty's (up to
 * 64 KiB) more, not a megabyte: every byte held here is one more in front of a keystroke's echo when the
 * client has paused the flood.
 */
const PENDING_HIGH_WATER = 64 * 1024;
const PENDING_LOW_WATER = 16 * 1024;
/** Unsent bytes on the socket above which the agent's write counts as blocked. */
const SOCKET_HIGH_WATER = 64 * 1024;
const DEFAULT_IDLE_MINUTES = 20;
/** A killed shell reports its exit at once; this only guards against waiting forever. */
const SHELL_EXIT_TIMEOUT_MS = 5000;

export const IDLE_TIMEOUT_OUTPUT = 'Your session timed out due to inactivity and has been terminated.';
export const MAX_DURATION_OUTPUT =
  'Your session has reached the maximum session duration and has been terminated.';

export interface ShellSessionAgentOptions {
  session: SandboxSession;
  sessions: SessionStore;
  faults?: FaultOptions;
  /** The org's instances as hosts; without it (or for an unknown target) the shell runs on the machine itself. */
  hosts?: InstanceHosts;
  log: (message: string) => void;
  /** Length of a document "minute" (idleSessionTimeout, maxSessionDuration); tests shrink it. */
  minuteMs: number;
  /** After the shell exits, how long to wait for the client to ack the last output. */
  drainTimeoutMs: number;
  /** Called once the session has fully ended (shell gone, channel closed): the host forgets the agent. */
  onEnded?: () => void;
}

interface Ending {
  status: Extract<SessionStatus, 'Terminated' | 'Failed'>;
  output: string;
  /** Wait for unsent and unacked output to reach the client first. */
  drain: boolean;
}

export class ShellSessionAgent {
  readonly sessionId: string;
  /** Frames disturbed by fault injection over the session's life, per direction. */
  readonly faultCounts: { toClient: FaultCounts; toAgent: FaultCounts } = {
    toClient: newFaultCounts(),
    toAgent: newFaultCounts(),
  };
  /** The most output bytes ever queued unsent in front of the socket (diagnostics). */
  peakUnsentBytes = 0;
  /** The most output ever held read from the pty but not yet sent (a test's measure). */
  peakPendingBytes = 0;
  private socket: WebSocket | undefined;
  private toClient: FaultyLink | undefined;
  private writer: FrameWriter | undefined;
  private toAgent: FaultyLink | undefined;
  private clientId = '';
  private readonly channel: ReliableChannel;
  private shell: LoginShell | undefined;
  private shellExited: Promise<{ exitCode: number; signal?: number }> | undefined;
  private shellHasExited = false;
  private handshake: 'none' | 'requested' | 'complete' | 'failed' = 'none';
  private handshakeStartedAt = 0n;
  private kmsKeyRequested = false;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private ptyPaused = false;
  private ending: Promise<void> | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private maxDurationTimer: NodeJS.Timeout | undefined;
  private drainWaiter: (() => void) | undefined;

  constructor(private readonly options: ShellSessionAgentOptions) {
    this.sessionId = options.session.sessionId;
    this.channel = new ReliableChannel({
      sendType: MessageType.OutputStreamData,
      transmit: (frame) => this.toClient?.send(frame),
      deliver: (message) => this.deliver(message),
      onUnsequenced: () => {}, // a client sends no unsequenced messages but acks
      onAcknowledged: () => {
        this.flushOutput();
        this.checkDrained();
      },
      onDropped: (reason) => this.log(`dropped a frame: ${reason}`),
    });
  }

  get ended(): boolean {
    return this.ending !== undefined;
  }

  /** Takes a validated socket: the first one starts the session, a later one resumes it. */
  attach(socket: WebSocket, clientId: string): void {
    if (this.ending) {
      socket.close(1008, `Session ${this.sessionId} has ended`);
      return;
    }
    const resuming = this.socket !== undefined || this.shell !== undefined;
    this.detach();
    this.socket = socket;
    this.clientId = clientId;
    // Frames of one event-loop turn (a burst of output, acks) go out in one write.
    const writer = new FrameWriter(() => socket);
    this.writer = writer;
    const dropAfter = resuming ? undefined : this.options.faults?.dropAfterMessages;
    let sent = 0;
    this.toClient = new FaultyLink(
      this.options.faults,
      'toClient',
      (frame) => {
        writer.send(frame);
        if (dropAfter !== undefined && ++sent === dropAfter) {
          // Not from inside the channel's send: cut the socket once this turn is done.
          setImmediate(() => {
            if (this.socket === socket) this.dropSocket();
          });
        }
      },
      this.faultCounts.toClient,
    );
    const toAgent = new FaultyLink(
      this.options.faults,
      'toAgent',
      (frame) => {
        try {
          this.channel.receive(frame);
        } catch (error) {
          // A bad frame must not take the sandbox down with it.
          this.log(`error handling a client frame: ${(error as Error).message}`);
        }
      },
      this.faultCounts.toAgent,
    );
    this.toAgent = toAgent;
    socket.on('message', (data, isBinary) => {
      if (isBinary) toAgent.send(toBuffer(data));
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.detach();
      if (!this.ending) this.setStatus('Disconnected');
    });
    socket.on('error', (error) => this.log(`socket error: ${error.message}`));
    (socket as unknown as { _socket?: NodeJS.EventEmitter })._socket?.on('drain', () => {
      if (this.socket === socket) this.flushOutput();
    });
    this.setStatus('Connected');
    this.channel.start();
    if (!resuming) {
      this.start();
      return;
    }
    this.log('client resumed the session');
    this.channel.resendAll();
    this.flushOutput();
  }

  /**
   * Fault injection: destroys the current socket without a close frame, as a
   * dead network path would. The shell keeps running; the socket's close
   * handler marks the session Disconnected and a resume picks it up.
   * Returns false when no socket is attached or the session is ending.
   */
  dropSocket(): boolean {
    if (this.ending || !this.socket) return false;
    this.log('fault injection: dropping the data channel socket');
    this.socket.terminate();
    return true;
  }

  /** TerminateSession: ends the shell's whole session and closes the channel. */
  async terminate(output = ''): Promise<void> {
    if (this.ending) {
      this.drainWaiter?.(); // stop waiting for the client to ack the last output
      return this.ending;
    }
    this.setStatus('Terminating');
    return this.end({ status: 'Terminated', output, drain: false });
  }

  private start(): void {
    traceHop('agent: attach → spawn shell');
    const { session } = this.options;
    let shell: LoginShell;
    try {
      const { hosts } = this.options;
      shell = spawnLoginShell(
        session.runAsUser,
        { cols: 80, rows: 24 },
        {
          host: hosts?.host(session.target),
          isolation: hosts?.isolation(),
          profile: session.inputs.shellProfile?.linux,
        },
      );
    } catch (error) {
      this.log(`cannot start the shell: ${(error as Error).message}`);
      void this.end({
        status: 'Failed',
        // The agent's wording (agent/session/shell), which the plugin prints.
        output: `Unable to start command: ${(error as Error).message}`,
        drain: false,
      });
      return;
    }
    this.shell = shell;
    this.log(`shell pid ${shell.pty.pid} runs as ${shell.user}`);
    shell.pty.onData((data) => this.onShellOutput(typeof data === 'string' ? Buffer.from(data) : data));
    this.shellExited = new Promise((resolve) => shell.pty.onExit(resolve));
    void this.shellExited.then(({ exitCode, signal }) => {
      this.shellHasExited = true;
      killSession(shell.pty.pid, { leaderAlive: false }); // nothing the shell left behind keeps running
      const code = signal ? 128 + signal : exitCode;
      if (!this.ending) this.options.sessions.update(this.sessionId, { exitCode: code });
      void this.end({ status: 'Terminated', output: '', drain: true });
    });
    this.startTimers();
    this.sendHandshakeRequest();
  }

  private sendHandshakeRequest(): void {
    const { session } = this.options;
    const actions: RequestedClientAction[] = [
      {
        ActionType: 'SessionType',
        ActionParameters: { SessionType: session.sessionType, Properties: {} },
      },
    ];
    if (session.inputs.kmsKeyId) {
      this.kmsKeyRequested = true;
      actions.push({ ActionType: 'KMSEncryption', ActionParameters: { KMSKeyId: session.inputs.kmsKeyId } });
    }
    const request: HandshakeRequestPayload = { AgentVersion: AGENT_VERSION, RequestedClientActions: actions };
    this.handshake = 'requested';
    this.handshakeStartedAt = process.hrtime.bigint();
    this.channel.send(PayloadType.HandshakeRequest, JSON.stringify(request));
  }

  private deliver(message: ClientMessage): boolean {
    switch (message.payloadType) {
      case PayloadType.HandshakeResponse:
        this.onHandshakeResponse(message);
        return true;
      case PayloadType.Output:
        this.resetIdleTimer();
        // Never after the shell has gone: node-pty writes by fd number, which a new socket may have taken.
        if (!this.ending && !this.shellHasExited) this.shell?.pty.write(message.payload);
        return true;
      case PayloadType.Size: {
        const size = parseSize(message);
        if (size) {
          if (!this.ending && !this.shellHasExited) this.shell?.pty.resize(size.cols, size.rows);
        } else
          this.log(`ignored a malformed Size payload: ${message.payload.toString('utf8').slice(0, 100)}`);
        return true;
      }
      case PayloadType.Flag:
        if (
          message.payload.length >= 4 &&
          message.payload.readUInt32BE(0) === PayloadTypeFlag.TerminateSession
        ) {
          void this.terminate();
        }
        return true;
      default:
        return true;
    }
  }

  private onHandshakeResponse(message: ClientMessage): void {
    if (this.handshake !== 'requested') return;
    let response: HandshakeResponsePayload;
    try {
      response = parseJsonPayload(message) as HandshakeResponsePayload;
    } catch {
      this.failHandshake('Could not parse the HandshakeResponse.');
      return;
    }
    const processed = Array.isArray(response.ProcessedClientActions) ? response.ProcessedClientActions : [];
    const required = ['SessionType', ...(this.kmsKeyRequested ? ['KMSEncryption'] : [])];
    for (const actionType of required) {
      const action = processed.find((a) => a.ActionType === actionType);
      if (!action) {
        this.failHandshake(`${actionType} was not processed by the client.`);
        return;
      }
      if (action.ActionStatus !== ActionStatus.Success) {
        // The wording the agent reports and the plugin prints.
        this.failHandshake(
          `${actionType} failed on client with status ${action.ActionStatus} error: ${action.Error ?? ''}`,
        );
        return;
      }
    }
    if (this.kmsKeyRequested) {
      this.failHandshake('KMSEncryption failed: the RoleShell sandbox has no KMS to decrypt the data key.');
      return;
    }
    this.handshake = 'complete';
    const elapsed = Number(process.hrtime.bigint() - this.handshakeStartedAt);
    this.channel.send(
      PayloadType.HandshakeComplete,
      JSON.stringify({ HandshakeTimeToComplete: elapsed, CustomerMessage: this.shell?.notice ?? '' }),
    );
    this.flushOutput();
  }

  private failHandshake(reason: string): void {
    this.handshake = 'failed';
    this.log(`handshake failed: ${reason}`);
    void this.end({
      status: 'Failed',
      output: `----------ERROR-------\nEncountered error while initiating handshake. ${reason}`,
      drain: false,
    });
  }

  private tracedShell = false;
  private onShellOutput(data: Buffer): void {
    if (!this.tracedShell) traceHop('agent: first shell output');
    this.tracedShell = true;
    if (this.ending && !this.drainWaiter) return;
    this.pending.push(data);
    this.pendingBytes += data.length;
    if (this.pendingBytes > this.peakPendingBytes) this.peakPendingBytes = this.pendingBytes;
    if (!this.ptyPaused && this.pendingBytes > PENDING_HIGH_WATER) {
      this.ptyPaused = true;
      this.shell?.pty.pause();
    }
    this.flushOutput();
  }

  /** Cuts pending output into sequenced messages while the handshake is done and the buffer has room. */
  private flushOutput(): void {
    if (this.handshake !== 'complete' || !this.socket) return;
    while (this.pendingBytes > 0 && this.channel.outgoing.hasCapacity && !this.socketFull()) {
      const chunk = this.takePending(OUTPUT_CHUNK_BYTES);
      this.channel.send(PayloadType.Output, chunk);
    }
    if (this.ptyPaused && this.pendingBytes < PENDING_LOW_WATER) {
      this.ptyPaused = false;
      this.shell?.pty.resume();
    }
  }

  /**
   * The real agent writes each message to its WebSocket synchronously: once the
   * TCP path is full (the client stopped reading) the write blocks, and with it
   * the pty reader and the shell. `ws` queues instead, so unsent bytes above a
   * socket buffer's worth count as that blocked write; the socket's drain resumes it.
   */
  private socketFull(): boolean {
    const socket = this.socket;
    if (!socket) return false;
    const unsent = socket.bufferedAmount + (this.writer?.queuedBytes ?? 0);
    if (unsent > this.peakUnsentBytes) this.peakUnsentBytes = unsent;
    return unsent > SOCKET_HIGH_WATER;
  }

  private takePending(max: number): Buffer {
    const parts: Buffer[] = [];
    let size = 0;
    while (size < max && this.pending.length > 0) {
      const head = this.pending[0]!;
      const take = Math.min(max - size, head.length);
      parts.push(head.subarray(0, take));
      size += take;
      if (take === head.length) this.pending.shift();
      else this.pending[0] = head.subarray(take);
    }
    this.pendingBytes -= size;
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
  }

  private end(ending: Ending): Promise<void> {
    this.ending ??= this.finish(ending);
    return this.ending;
  }

  private async finish(ending: Ending): Promise<void> {
    clearTimeout(this.idleTimer);
    clearTimeout(this.maxDurationTimer);
    const shell = this.shell;
    if (ending.drain && this.handshake === 'complete') await this.drainOutput();
    if (shell) {
      // After a natural exit the exit handler already cleared the session; scanning again
      // later could hit a new session that reuses the pid.
      if (!this.shellHasExited) killSession(shell.pty.pid, { leaderAlive: true });
      if (this.ptyPaused) shell.pty.resume(); // let node-pty see the pty close
      const exited = await Promise.race([this.shellExited, delay(SHELL_EXIT_TIMEOUT_MS)]);
      if (!exited) this.log(`shell pid ${shell.pty.pid} did not report its exit`);
      const exitCode = exited?.signal ? 128 + exited.signal : exited?.exitCode;
      const current = this.options.sessions.get(this.sessionId);
      if (current?.exitCode === undefined && exitCode !== undefined) {
        this.options.sessions.update(this.sessionId, { exitCode });
      }
    }
    // channel_closed travels outside fault injection: the real service sends it over TCP.
    const socket = this.socket;
    this.writer?.flush(); // what was sent before must not be overtaken by channel_closed
    if (socket?.readyState === WebSocket.OPEN) {
      socket.send(encodeChannelClosed(this.sessionId, this.clientId, ending.output), { binary: true });
      socket.close(1000, 'Session ended');
    }
    this.detach();
    this.channel.stop();
    this.setStatus(ending.status, new Date());
    this.log(
      `session ended: ${ending.status}${ending.output ? ` (${ending.output.split('\n').pop()})` : ''}`,
    );
    this.options.onEnded?.();
  }

  /** Waits until every byte of output is sequenced and acked, or the drain timeout. */
  private async drainOutput(): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(finish, this.options.drainTimeoutMs);
      function finish(): void {
        clearTimeout(timer);
        resolve();
      }
      this.drainWaiter = finish;
      this.flushOutput();
      this.checkDrained();
    });
    this.drainWaiter = undefined;
  }

  private checkDrained(): void {
    if (this.drainWaiter && this.pendingBytes === 0 && this.channel.outgoing.unackedCount === 0) {
      this.drainWaiter();
    }
  }

  private startTimers(): void {
    const { inputs } = this.options.session;
    const maxMinutes = Number(inputs.maxSessionDuration);
    if (inputs.maxSessionDuration && Number.isFinite(maxMinutes) && maxMinutes > 0) {
      this.maxDurationTimer = setTimeout(
        () => void this.terminate(MAX_DURATION_OUTPUT),
        maxMinutes * this.options.minuteMs,
      );
    }
    this.resetIdleTimer();
  }

  private resetIdleTimer(): void {
    if (this.ending) return;
    clearTimeout(this.idleTimer);
    const configured = Number(this.options.session.inputs.idleSessionTimeout);
    const minutes = Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_IDLE_MINUTES;
    this.idleTimer = setTimeout(
      () => void this.terminate(IDLE_TIMEOUT_OUTPUT),
      minutes * this.options.minuteMs,
    );
  }

  private detach(): void {
    this.toClient?.close();
    this.toAgent?.close();
    this.toClient = undefined;
    this.toAgent = undefined;
    this.writer?.flush();
    this.writer = undefined;
    const socket = this.socket;
    this.socket = undefined;
    if (socket && socket.readyState === WebSocket.OPEN)
      socket.close(1000, 'Replaced by a resumed connection');
  }

  private setStatus(status: SessionStatus, endDate?: Date): void {
    if (!this.options.sessions.get(this.sessionId)) return;
    this.options.sessions.update(this.sessionId, endDate ? { status, endDate } : { status });
  }

  private log(message: string): void {
    this.options.log(`data-channel ${this.sessionId}: ${message}`);
  }
}

function parseSize(message: ClientMessage): { cols: number; rows: number } | undefined {
  try {
    const size = parseJsonPayload(message) as { cols?: unknown; rows?: unknown } | null;
    const { cols, rows } = size ?? {};
    if (
      typeof cols === 'number' &&
      typeof rows === 'number' &&
      cols >= 1 &&
      rows >= 1 &&
      cols <= 10_000 &&
      rows <= 10_000
    ) {
      return { cols: Math.floor(cols), rows: Math.floor(rows) };
    }
  } catch {
    // fall through
  }
  return undefined;
}

function delay(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms).unref());
}

function toBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
