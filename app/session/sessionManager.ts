/**
 * Owns every session's life: starting → connected → disconnected →
 * reconnecting → closed (with a reason). It starts the session through a
 * `SessionStarter` (the broker, or ssm:StartSession in direct mode), runs it in
 * the session host with one of two backends, resumes a dropped built-in data
 * channel with a fresh token, and terminates what it started — on close, on
 * quit, and after a crash (open sessions are recorded on disk).
 */
import { randomUUID } from 'node:crypto';
import type { SessionStateEvent } from '../api/calls/session';
import type { BackendChoice } from './pluginLookup';
import type { HostedMessage, SessionHost } from './host/sessionHost';
import type { OpenSessionRecord, OpenSessionsFile } from './openSessions';
import { SessionState, type SessionStatus } from './sessionState';
import { ApiError } from '../api/errors';
import { traceHop } from './connectTrace';
import type { ConnectRequest } from '../api/calls/session';

export type { ConnectRequest };

export interface StartedSession {
  record: OpenSessionRecord;
  streamUrl: string;
  tokenValue: string;
  /** The user the shell runs as, when the starter knows it (the broker says). */
  linuxUser?: string;
}

/** Talks to AWS (or the broker) for a session; never to the renderer. */
export interface SessionStarter {
  start(request: ConnectRequest): Promise<StartedSession>;
  /** A fresh token for a dropped data channel (ResumeSession). */
  resumeToken(record: OpenSessionRecord): Promise<string>;
  terminate(record: OpenSessionRecord): Promise<void>;
  /** Environment for session-manager-plugin (no AWS credentials in broker mode). */
  pluginEnv(record: OpenSessionRecord): Promise<Record<string, string>>;
  ssmEndpoint(region: string): string;
}

export interface SessionManagerOptions {
  host: SessionHost;
  starter: SessionStarter;
  chooseBackend(): Promise<BackendChoice>;
  records: OpenSessionsFile;
  emit(owner: string, event: SessionStateEvent): void;
  sendOutput(owner: string, id: string, data: Uint8Array): void;
  log(message: string, error?: unknown): void;
  /** Redial attempts for a dropped data channel before the session is given up (default 5). */
  resumeAttempts?: number;
  /** Each AWS call made while closing or quitting is given this long (default 4 s). */
  terminateTimeoutMs?: number;
}

interface Managed {
  id: string;
  owner: string;
  request: ConnectRequest;
  size: { cols: number; rows: number };
  state: SessionState;
  record?: OpenSessionRecord;
  linuxUser?: string;
  backend?: 'plugin' | 'dataChannel';
  /** Bumped for each fresh start in this tab, so late messages of the old one are ignored. */
  generation: number;
  hostId?: string;
  waiters: Set<(message: HostedMessage) => void>;
  forgotten: boolean;
  /** For the connect trace: the first output has been forwarded. */
  outputSeen?: boolean;
}

export class SessionManager {
  private readonly sessions = new Map<string, Managed>();

  constructor(private readonly options: SessionManagerOptions) {}

  /** Starts a session in a new tab owned by `owner`; resolves with the tab id at once (state follows as events). */
  start(owner: string, request: ConnectRequest, size: { cols: number; rows: number }): string {
    const id = randomUUID();
    const session: Managed = {
      id,
      owner,
      request,
      size,
      generation: 0,
      waiters: new Set(),
      forgotten: false,
      state: new SessionState((view) => this.report(session, view)),
    };
    this.sessions.set(id, session);
    this.report(session, session.state.view);
    void this.run(session);
    return id;
  }

  /** Reconnect: a fresh session in a closed tab. */
  reconnect(owner: string, id: string, size: { cols: number; rows: number }): void {
    const session = this.owned(owner, id);
    if (session.state.status !== 'closed') return;
    session.size = size;
    session.generation++;
    session.record = undefined;
    session.state.move('starting');
    void this.run(session);
  }

  input(owner: string, id: string, data: string): void {
    const session = this.owned(owner, id);
    if (session.state.status === 'connected' && session.hostId)
      this.options.host.send({ type: 'input', id: session.hostId, data });
  }

  resize(owner: string, id: string, cols: number, rows: number): void {
    const session = this.owned(owner, id);
    session.size = { cols, rows };
    if (session.hostId && session.state.status !== 'closed')
      this.options.host.send({ type: 'resize', id: session.hostId, cols, rows });
  }

  ack(owner: string, id: string, bytes: number): void {
    const session = this.owned(owner, id);
    if (session.hostId) this.options.host.send({ type: 'ack', id: session.hostId, bytes });
  }

  attach(owner: string, id: string): void {
    const session = this.owned(owner, id);
    if (session.hostId) this.options.host.send({ type: 'reattach', id: session.hostId });
  }

  /** Ends the session and forgets the tab. */
  async close(owner: string, id: string): Promise<void> {
    const session = this.sessions.get(id);
    if (!session || session.owner !== owner) return;
    await this.end(session, 'Closed.');
  }

  /** The connection went away: its sessions end (nobody could see them any more). */
  async closeOwnedBy(owner: string): Promise<void> {
    await Promise.all(
      [...this.sessions.values()]
        .filter((s) => s.owner === owner)
        .map((s) => this.end(s, 'The window closed.')),
    );
  }

  /** Quit: every open session is terminated, each within its own time limit. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => this.end(s, 'RoleShell is quitting.')));
  }

  /**
   * Sign-out: every open session is terminated (while the credentials to do so
   * still work) and its tab shows `reason`; the tabs stay, so Reconnect after
   * signing in again starts a fresh session.
   */
  async endAll(reason: string): Promise<void> {
    await Promise.all(
      [...this.sessions.values()]
        .filter((s) => s.state.status !== 'closed')
        .map(async (session) => {
          session.generation++; // late host messages and a start still in flight are now stale
          if (session.hostId) this.options.host.send({ type: 'close', id: session.hostId });
          session.hostId = undefined;
          session.state.close(reason);
          const record = session.record;
          session.record = undefined;
          if (record) await this.terminateRecord(record);
        }),
    );
  }

  /** Terminates what an earlier run (that crashed) left open. Entries that cannot be reached yet stay for next time. */
  async terminateLeftovers(isCurrent: (record: OpenSessionRecord) => boolean): Promise<void> {
    const own = new Set([...this.sessions.values()].map((s) => s.record?.sessionId));
    const leftovers = (await this.options.records.list()).filter(
      (r) => !own.has(r.sessionId) && isCurrent(r),
    );
    await Promise.all(
      leftovers.map(async (record) => {
        try {
          await this.withTimeout(this.options.starter.terminate(record)).catch((error: unknown) => {
            if (!isAlreadyEnded(error)) throw error;
          });
          await this.options.records.remove(record.sessionId);
          this.options.log(`terminated session ${record.sessionId} left open by an earlier run`);
        } catch (error) {
          this.options.log(`could not terminate leftover session ${record.sessionId}`, error);
        }
      }),
    );
  }

  get size(): number {
    return this.sessions.size;
  }

  private owned(owner: string, id: string): Managed {
    const session = this.sessions.get(id);
    if (!session || session.owner !== owner) throw new SessionNotFound();
    return session;
  }

  private report(session: Managed, view: { status: SessionStateEvent['status']; reason?: string }) {
    if (session.forgotten) return;
    this.options.emit(session.owner, {
      id: session.id,
      ...view,
      ...(session.linuxUser ? { linuxUser: session.linuxUser } : {}),
      ...(session.record ? { sessionId: session.record.sessionId } : {}),
      ...(session.backend ? { backend: session.backend } : {}),
    });
  }

  private async run(session: Managed): Promise<void> {
    const generation = session.generation;
    const current = () => session.generation === generation && !session.forgotten;
    let started: StartedSession;
    let choice: BackendChoice;
    try {
      [choice, started] = await Promise.all([
        this.options.chooseBackend(),
        this.options.starter.start(session.request),
      ]);
      traceHop('core: backend chosen + started');
    } catch (error) {
      if (!(error instanceof ApiError)) this.options.log('session start failed', error);
      if (current()) session.state.close(messageOf(error, 'The session could not start.'));
      return;
    }
    // Recorded on disk while the channel is dialled, not before: the session exists in AWS either way,
    // and the file's queue keeps this write ahead of the remove when the session ends.
    void this.options.records.add(started.record).catch((error: unknown) => {
      this.options.log('could not record the open session', error);
    });
    if (!current() || session.state.status !== 'starting') {
      // Closed while the broker was starting it: end it at once.
      await this.terminateRecord(started.record);
      return;
    }
    session.record = started.record;
    session.linuxUser = started.linuxUser ?? session.request.linuxUser;
    session.backend = choice.backend;
    const hostId = `${session.id}-${generation}`;
    session.hostId = hostId;
    this.options.host.register(hostId, (message) => this.onHostMessage(session, generation, message));
    const { cols, rows } = session.size;
    traceHop(`core: host.send open (${choice.backend})`);
    if (choice.backend === 'plugin') {
      let env: Record<string, string>;
      try {
        env = await this.options.starter.pluginEnv(started.record);
      } catch (error) {
        await this.fail(session, messageOf(error, 'The session could not start.'));
        return;
      }
      this.options.host.send({
        type: 'open',
        id: hostId,
        backend: 'plugin',
        pluginPath: choice.pluginPath,
        startSessionResponse: {
          SessionId: started.record.sessionId,
          StreamUrl: started.streamUrl,
          TokenValue: started.tokenValue,
        },
        region: started.record.region,
        instanceId: started.record.instanceId,
        ssmEndpoint: this.options.starter.ssmEndpoint(started.record.region),
        env,
        cols,
        rows,
      });
    } else {
      this.options.host.send({
        type: 'open',
        id: hostId,
        backend: 'dataChannel',
        streamUrl: started.streamUrl,
        tokenValue: started.tokenValue,
        cols,
        rows,
      });
    }
  }

  private onHostMessage(session: Managed, generation: number, message: HostedMessage): void {
    if (session.generation !== generation || session.forgotten) return;
    for (const waiter of [...session.waiters]) waiter(message);
    switch (message.type) {
      case 'opened':
        traceHop('core: opened from host');
        if (session.state.canMove('connected')) session.state.move('connected');
        break;
      case 'output':
        if (!session.outputSeen) traceHop('core: first output from host');
        session.outputSeen = true;
        this.options.sendOutput(session.owner, session.id, message.data);
        break;
      case 'disconnected':
        if (session.state.status === 'connected') {
          session.state.move('disconnected', message.reason);
          void this.resume(session, generation);
        }
        break;
      case 'closed':
        session.hostId = undefined;
        void this.afterClosed(session, message.reason);
        break;
    }
  }

  /** The backend ended: the tab shows why; the session is terminated so nothing stays behind. */
  private async afterClosed(session: Managed, reason: string): Promise<void> {
    session.state.close(reason);
    const record = session.record;
    if (record) await this.terminateRecord(record);
  }

  private async fail(session: Managed, reason: string): Promise<void> {
    if (session.hostId) this.options.host.send({ type: 'close', id: session.hostId });
    session.hostId = undefined;
    session.state.close(reason);
    if (session.record) await this.terminateRecord(session.record);
  }

  /** Built-in client: ask for a fresh token and redial, with a few spaced attempts. */
  private async resume(session: Managed, generation: number): Promise<void> {
    const attempts = this.options.resumeAttempts ?? 5;
    const record = session.record;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (session.generation !== generation || statusOf(session) === 'closed' || !record || !session.hostId)
        return;
      if (attempt > 0) await delay(Math.min(500 * 2 ** (attempt - 1), 4000));
      if (statusOf(session) !== 'disconnected') return;
      session.state.move('reconnecting');
      let token: string;
      try {
        token = await this.withTimeout(this.options.starter.resumeToken(record));
      } catch (error) {
        const reason = messageOf(error, 'The session could not be resumed.');
        if (isFinal(error)) {
          await this.fail(session, reason);
          return;
        }
        if (statusOf(session) === 'reconnecting') session.state.move('disconnected', reason);
        continue;
      }
      const hostId = session.hostId;
      if (!hostId || statusOf(session) !== 'reconnecting') return;
      const outcome = await this.waitFor(
        session,
        (m) =>
          m.type === 'resumed' ||
          m.type === 'resumeFailed' ||
          m.type === 'disconnected' ||
          m.type === 'closed'
            ? m
            : undefined,
        () => this.options.host.send({ type: 'resume', id: hostId, tokenValue: token }),
      );
      if (statusOf(session) !== 'reconnecting') return;
      if (outcome?.type === 'resumed') {
        session.state.move('connected');
        return;
      }
      session.state.move(
        'disconnected',
        outcome?.type === 'resumeFailed' ? outcome.message : 'The instance did not answer the redial.',
      );
    }
    if (session.generation === generation && statusOf(session) !== 'closed')
      await this.fail(
        session,
        'The connection dropped and could not be resumed. Reconnect to start a new session.',
      );
  }

  private waitFor<T>(
    session: Managed,
    pick: (message: HostedMessage) => T | undefined,
    kick: () => void,
    timeoutMs = 15_000,
  ): Promise<T | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(undefined), timeoutMs);
      const waiter = (message: HostedMessage) => {
        const picked = pick(message);
        if (picked !== undefined) done(picked);
      };
      const done = (value: T | undefined) => {
        clearTimeout(timer);
        session.waiters.delete(waiter);
        resolve(value);
      };
      session.waiters.add(waiter);
      kick();
    });
  }

  private async end(session: Managed, reason: string): Promise<void> {
    if (session.forgotten) return;
    session.generation++; // late messages and a start still in flight are now stale
    if (session.hostId) this.options.host.send({ type: 'close', id: session.hostId });
    session.hostId = undefined;
    session.state.close(reason);
    session.forgotten = true;
    this.sessions.delete(session.id);
    if (session.record) await this.terminateRecord(session.record);
  }

  private async terminateRecord(record: OpenSessionRecord): Promise<void> {
    try {
      await this.withTimeout(this.options.starter.terminate(record)).catch((error: unknown) => {
        if (!isAlreadyEnded(error)) throw error;
      });
      await this.options.records.remove(record.sessionId);
    } catch (error) {
      // Stays in the record, so the next start tries again.
      this.options.log(`could not terminate session ${record.sessionId}`, error);
    }
  }

  private withTimeout<T>(promise: Promise<T>): Promise<T> {
    const ms = this.options.terminateTimeoutMs ?? 4000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]).finally(() => clearTimeout(timer));
  }
}

export class SessionNotFound extends Error {
  override name = 'SessionNotFound';
  constructor() {
    super('That session tab is not open in this window.');
  }
}

/** Errors a starter marks as final: retrying the resume cannot help (the session is gone). */
export class SessionGone extends Error {
  override name = 'SessionGone';
}

/** Read through a function so TypeScript does not keep a narrowed status across awaits. */
function statusOf(session: Managed): SessionStatus {
  return session.state.status;
}

/** The session had already ended (the shell exited first): nothing left to terminate. */
function isAlreadyEnded(error: unknown): boolean {
  if (error instanceof ApiError) return error.code === 'NotFound';
  return (error as { name?: string } | undefined)?.name === 'DoesNotExistException';
}

function isFinal(error: unknown): boolean {
  return error instanceof SessionGone;
}

function messageOf(error: unknown, fallback: string): string {
  if (error instanceof ApiError || error instanceof SessionGone) return error.message;
  return error instanceof Error && error.name === 'DataChannelOpenError' ? error.message : fallback;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
