/**
 * RoleShell's built-in data-channel client: speaks to a Session Manager
 * `StreamUrl` as AWS's session-manager-plugin does (wire facts in
 * `../shared/design/ssm-data-channel.md`), for a shell session: handshake,
 * stdin and terminal size in, output events out, channel_closed at the end,
 * and resume on a new socket with a token from ResumeSession.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import {
  ActionStatus,
  MessageType,
  PayloadType,
  PayloadTypeFlag,
  parseJsonPayload,
  type ChannelClosedPayload,
  type ClientMessage,
  type HandshakeCompletePayload,
  type HandshakeRequestPayload,
  type HandshakeResponsePayload,
  type ProcessedClientAction,
  type SizePayload,
} from './message';
import { FrameWriter } from './frameWriter';
import { ReliableChannel } from './reliableChannel';
import { traceHop } from '../connectTrace';

export const CLIENT_VERSION = '1.2.0.0';
/** Stdin goes out in chunks of at most this many bytes, as the plugin sends it. */
export const STDIN_CHUNK_BYTES = 1024;
/** The plugin pings with payload `keepalive` at open and every 5 minutes. */
const KEEPALIVE_INTERVAL_MS = 5 * 60_000;
const SHELL_SESSION_TYPES = new Set(['Standard_Stream', 'InteractiveCommands', 'NonInteractiveCommands']);

/** ClientId is fixed per process, as in the plugin. */
const processClientId = randomUUID();

export interface DataChannelClientOptions {
  clientId?: string;
  clientVersion?: string;
  /** Terminal size sent right after HandshakeComplete (default 80×24). */
  size?: SizePayload;
  /** How long open() waits for the handshake to complete (default 30 s). */
  handshakeTimeoutMs?: number;
}

/** The channel was refused or ended before the session started; `message` is what to show the user. */
export class DataChannelOpenError extends Error {
  override name = 'DataChannelOpenError';
}

export interface DataChannelClientEvents {
  /** Shell output, in order, exactly once. */
  output: [Buffer];
  /** The agent closed the channel: the session is over. */
  closed: [ChannelClosedPayload];
  /** The socket dropped without channel_closed; the session lives on: resume() with a new token. */
  disconnected: [{ code: number; reason: string }];
}

/** What the plugin prints when the channel closes. */
export function describeChannelClosed(closed: Pick<ChannelClosedPayload, 'SessionId' | 'Output'>): string {
  return closed.Output
    ? `\n\nSessionId: ${closed.SessionId} : ${closed.Output}\n\n`
    : `\n\nExiting session with sessionId: ${closed.SessionId}.\n\n`;
}

export class DataChannelClient extends EventEmitter<DataChannelClientEvents> {
  readonly clientId: string;
  readonly clientVersion: string;
  agentVersion: string | undefined;
  customerMessage: string | undefined;
  closedWith: ChannelClosedPayload | undefined;

  private socket: WebSocket | undefined;
  private handshakeComplete = false;
  private handshakeStarted = false;
  private size: SizePayload;
  private readonly channel: ReliableChannel;
  private readonly writer = new FrameWriter(() => this.socket);
  private settleOpen: ((error?: Error) => void) | undefined;
  /** Output that arrives before open() has resolved, replayed once the caller can listen. */
  private earlyOutput: Buffer[] | undefined = [];
  private outputPaused = false;
  private tracedOutput = false;

  private constructor(
    readonly streamUrl: string,
    options: DataChannelClientOptions,
  ) {
    super();
    this.clientId = options.clientId ?? processClientId;
    this.clientVersion = options.clientVersion ?? CLIENT_VERSION;
    this.size = options.size ?? { cols: 80, rows: 24 };
    this.channel = new ReliableChannel({
      sendType: MessageType.InputStreamData,
      // Batched per event-loop turn: the acks for a burst of output go out in one write.
      transmit: (frame) => this.writer.send(frame),
      deliver: (message) => this.deliver(message),
      onUnsequenced: (message) => this.onUnsequenced(message),
    });
  }

  /** Dials the stream URL and resolves once the handshake is complete and the size has been sent. */
  static async open(
    streamUrl: string,
    token: string,
    options: DataChannelClientOptions = {},
  ): Promise<DataChannelClient> {
    const client = new DataChannelClient(streamUrl, options);
    const timeoutMs = options.handshakeTimeoutMs ?? 30_000;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        client.settleOpen?.(
          new DataChannelOpenError(`The session did not start within ${timeoutMs / 1000} s.`),
        );
      }, timeoutMs);
      client.settleOpen = (error) => {
        clearTimeout(timer);
        client.settleOpen = undefined;
        if (error) {
          client.shutdown();
          reject(error);
          return;
        }
        resolve();
        // The caller's `await open()` continues before this runs, so its 'output' listener sees everything.
        setImmediate(() => {
          const early = client.earlyOutput ?? [];
          client.earlyOutput = undefined;
          for (const chunk of early) client.emit('output', chunk);
        });
      };
      client.dial(token);
    });
    return client;
  }

  get isOpen(): boolean {
    return this.handshakeComplete && !this.closedWith && this.socket?.readyState === WebSocket.OPEN;
  }

  /** Output messages that arrived again after they had been processed (the agent resent them). */
  get duplicatesReceived(): number {
    return this.channel.duplicatesReceived;
  }

  get sessionEnded(): boolean {
    return this.closedWith !== undefined;
  }

  /** Sends keystrokes or pasted text; a chunk that is exactly "\n" goes as "\r", as the plugin sends Enter. */
  sendInput(data: string | Uint8Array): void {
    this.assertUsable();
    let bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
    if (bytes.length === 1 && bytes[0] === 0x0a) bytes = Buffer.from([0x0d]);
    for (let offset = 0; offset < bytes.length; offset += STDIN_CHUNK_BYTES) {
      this.channel.send(PayloadType.Output, bytes.subarray(offset, offset + STDIN_CHUNK_BYTES));
    }
  }

  resize(cols: number, rows: number): void {
    this.assertUsable();
    if (!Number.isInteger(cols) || !Number.isInteger(rows) || cols < 1 || rows < 1) {
      throw new RangeError(`terminal size must be positive integers, got ${cols}×${rows}`);
    }
    this.size = { cols, rows };
    this.channel.send(PayloadType.Size, JSON.stringify(this.size));
  }

  /** Asks the agent to end the session (the plugin's TerminateSession flag). */
  sendTerminateFlag(): void {
    this.assertUsable();
    const flag = Buffer.alloc(4);
    flag.writeUInt32BE(PayloadTypeFlag.TerminateSession);
    this.channel.send(PayloadType.Flag, flag);
  }

  /**
   * Redials the original StreamUrl with the same ClientId and a token from
   * ResumeSession; sequence numbers and unacked input carry over.
   */
  async resume(token: string): Promise<void> {
    if (this.closedWith) throw new Error('The session has ended; start a new one.');
    this.socket?.removeAllListeners();
    this.socket?.terminate();
    await new Promise<void>((resolve, reject) => {
      const socket = this.dial(token);
      socket.once('open', () => {
        this.channel.resendAll();
        resolve();
      });
      socket.once('error', reject);
    });
  }

  /**
   * Flow control: stop reading the WebSocket, so the agent's send window fills
   * and the remote shell blocks on its output instead of RoleShell buffering it.
   */
  pauseOutput(): void {
    this.outputPaused = true;
    this.socket?.pause();
  }

  resumeOutput(): void {
    this.outputPaused = false;
    this.socket?.resume();
  }

  /** Closes the socket; the session itself keeps running until it ends or is terminated. */
  close(): void {
    this.shutdown();
  }

  private dial(token: string): WebSocket {
    traceHop('dc: dial');
    const socket = new WebSocket(this.streamUrl, { perMessageDeflate: false });
    this.socket = socket;
    socket.on('open', () => {
      traceHop('dc: ws open');
      socket.send(
        JSON.stringify({
          MessageSchemaVersion: '1.0',
          RequestId: randomUUID(),
          TokenValue: token,
          ClientId: this.clientId,
          ClientVersion: this.clientVersion,
        }),
      );
      socket.ping('keepalive');
      const keepalive = setInterval(() => socket.ping('keepalive'), KEEPALIVE_INTERVAL_MS);
      keepalive.unref();
      socket.once('close', () => clearInterval(keepalive));
      this.channel.start();
      // A redial while paused stays paused until the renderer catches up.
      if (this.outputPaused) socket.pause();
    });
    socket.on('message', (data, isBinary) => {
      if (isBinary) this.channel.receive(toBuffer(data));
    });
    socket.on('error', (error) => {
      this.settleOpen?.(
        new DataChannelOpenError(`Cannot reach the session's data channel: ${error.message}`),
      );
    });
    socket.on('close', (code, reasonBuffer) => {
      if (this.socket !== socket) return;
      const reason = reasonBuffer.toString('utf8');
      if (this.settleOpen) {
        this.settleOpen(
          new DataChannelOpenError(
            reason ? `The session was refused: ${reason}` : `The data channel closed (code ${code}).`,
          ),
        );
        return;
      }
      if (!this.closedWith) this.emit('disconnected', { code, reason });
    });
    return socket;
  }

  private deliver(message: ClientMessage): boolean {
    switch (message.payloadType) {
      case PayloadType.HandshakeRequest: {
        traceHop('dc: handshake request');
        const request = parseJsonPayload(message) as HandshakeRequestPayload;
        this.handshakeStarted = true;
        this.agentVersion = request.AgentVersion;
        // Answer after this message's ack is on the wire, as the plugin orders them.
        queueMicrotask(() => this.answerHandshake(request));
        return true;
      }
      case PayloadType.HandshakeComplete: {
        traceHop('dc: handshake complete');
        const complete = parseJsonPayload(message) as HandshakeCompletePayload;
        this.customerMessage = complete.CustomerMessage || undefined;
        this.handshakeComplete = true;
        queueMicrotask(() => {
          this.channel.send(PayloadType.Size, JSON.stringify(this.size));
          this.settleOpen?.();
        });
        return true;
      }
      case PayloadType.EncChallengeRequest:
        return true; // only sent after a successful KMSEncryption action, which this client never reports
      default:
        if (!this.handshakeComplete) {
          // A legacy agent without handshake starts with output: the session is then a shell.
          if (this.handshakeStarted || message.payloadType !== PayloadType.Output) return false;
          this.handshakeComplete = true;
          queueMicrotask(() => this.settleOpen?.());
        }
        if (!this.tracedOutput) traceHop('dc: first output');
        this.tracedOutput = true;
        if (this.earlyOutput) this.earlyOutput.push(message.payload);
        else this.emit('output', message.payload);
        return true;
    }
  }

  private answerHandshake(request: HandshakeRequestPayload): void {
    const processed: ProcessedClientAction[] = request.RequestedClientActions.map((action) => {
      if (action.ActionType === 'SessionType') {
        const sessionType = (action.ActionParameters as { SessionType?: string } | null)?.SessionType ?? '';
        return SHELL_SESSION_TYPES.has(sessionType)
          ? {
              ActionType: action.ActionType,
              ActionStatus: ActionStatus.Success,
              ActionResult: null,
              Error: '',
            }
          : {
              ActionType: action.ActionType,
              ActionStatus: ActionStatus.Unsupported,
              ActionResult: null,
              Error: `Unsupported session type ${sessionType}`,
            };
      }
      // KMSEncryption needs KMS, which RoleShell's built-in client does not call.
      return {
        ActionType: action.ActionType,
        ActionStatus: ActionStatus.Unsupported,
        ActionResult: null,
        Error: `Unsupported action ${action.ActionType}`,
      };
    });
    const response: HandshakeResponsePayload = {
      ClientVersion: this.clientVersion,
      ProcessedClientActions: processed,
      Errors: null,
    };
    this.channel.send(PayloadType.HandshakeResponse, JSON.stringify(response));
  }

  private onUnsequenced(message: ClientMessage): void {
    if (message.messageType !== MessageType.ChannelClosed) return; // start/pause_publication: ignored, as the plugin does
    let closed: ChannelClosedPayload;
    try {
      closed = parseJsonPayload(message) as ChannelClosedPayload;
    } catch {
      return;
    }
    this.closedWith = closed;
    if (this.settleOpen) {
      this.settleOpen(
        new DataChannelOpenError(closed.Output || `Session ${closed.SessionId} ended before it started.`),
      );
      return;
    }
    this.shutdown();
    this.emit('closed', closed);
  }

  private assertUsable(): void {
    if (this.closedWith) throw new Error('The session has ended; start a new one.');
    if (!this.handshakeComplete) throw new Error('The session has not started yet.');
  }

  private shutdown(): void {
    this.channel.stop();
    this.writer.flush(); // e.g. a TerminateSession flag sent just before close()
    const socket = this.socket;
    if (socket && socket.readyState !== WebSocket.CLOSED) {
      // Keep the socket's identity so its close is not reported as a disconnect.
      socket.removeAllListeners('message');
      socket.removeAllListeners('close');
      socket.on('error', () => {});
      socket.close(1000);
    }
  }
}

function toBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
