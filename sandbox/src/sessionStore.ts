/**
 * Sessions shared by the sandbox's SSM API (StartSession, TerminateSession,
 * ResumeSession, DescribeSessions) and its data-channel agent. The SSM side
 * creates and describes sessions; the agent attaches a shell to them.
 */
import { EventEmitter } from 'node:events';

export type SessionStatus =
  'Connecting' | 'Connected' | 'Disconnected' | 'Terminating' | 'Terminated' | 'Failed';

/** The `inputs` of a Session document (schemaVersion 1.0), as AWS defines them. */
export interface SessionDocumentInputs {
  runAsEnabled?: boolean;
  runAsDefaultUser?: string;
  idleSessionTimeout?: string;
  maxSessionDuration?: string;
  shellProfile?: { linux?: string; windows?: string };
  kmsKeyId?: string;
  s3BucketName?: string;
  s3KeyPrefix?: string;
  s3EncryptionEnabled?: boolean;
  cloudWatchLogGroupName?: string;
  cloudWatchEncryptionEnabled?: boolean;
  cloudWatchStreamingEnabled?: boolean;
}

export interface SandboxSession {
  sessionId: string;
  /** Instance ID the session targets. */
  target: string;
  accountId: string;
  region: string;
  documentName: string;
  sessionType: 'Standard_Stream' | 'InteractiveCommands' | 'NonInteractiveCommands' | 'Port';
  inputs: SessionDocumentInputs;
  /** Linux user the shell runs as (run-as precedence already applied). */
  runAsUser: string;
  /** ARN of the caller that started the session (DescribeSessions `Owner`). */
  owner: string;
  reason?: string;
  /** Every token issued for this session (StartSession, then each ResumeSession); any of them opens the channel. */
  tokens: string[];
  status: SessionStatus;
  startDate: Date;
  endDate?: Date;
  /** Shell exit code once it ended. */
  exitCode?: number;
}

/**
 * Ended sessions kept for DescribeSessions' History. AWS keeps 30 days of it; a sandbox left
 * running keeps this many, forgetting the one that ended first.
 */
export const ENDED_SESSIONS_KEPT = 10_000;

export class SessionStore extends EventEmitter<{ created: [SandboxSession]; updated: [SandboxSession] }> {
  private readonly sessions = new Map<string, SandboxSession>();
  /** IDs of ended sessions, in the order they ended. */
  private readonly ended = new Set<string>();

  constructor(private readonly endedKept = ENDED_SESSIONS_KEPT) {
    super();
  }

  create(session: SandboxSession): SandboxSession {
    if (this.sessions.has(session.sessionId)) throw new Error(`session ${session.sessionId} exists`);
    this.sessions.set(session.sessionId, session);
    this.noteIfEnded(session);
    this.emit('created', session);
    return session;
  }

  get(sessionId: string): SandboxSession | undefined {
    return this.sessions.get(sessionId);
  }

  list(): SandboxSession[] {
    return [...this.sessions.values()];
  }

  update(sessionId: string, patch: Partial<Omit<SandboxSession, 'sessionId'>>): SandboxSession {
    const session = this.sessions.get(sessionId);
    if (!session) throw new Error(`no session ${sessionId}`);
    Object.assign(session, patch);
    this.noteIfEnded(session);
    this.emit('updated', session);
    return session;
  }

  private noteIfEnded(session: SandboxSession): void {
    if (this.isActive(session) || this.ended.has(session.sessionId)) return;
    this.ended.add(session.sessionId);
    if (this.ended.size <= this.endedKept) return;
    const oldest = this.ended.values().next().value!;
    this.ended.delete(oldest);
    this.sessions.delete(oldest);
  }

  isActive(session: SandboxSession): boolean {
    return session.status !== 'Terminated' && session.status !== 'Failed';
  }
}
