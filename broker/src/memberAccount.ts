/**
 * What the broker does inside a member account, as one user: the seam between
 * the broker's decisions (broker.ts) and the AWS calls (aws/memberAccess.ts).
 */

export interface SessionDocument {
  name: string;
  documentType: string;
  /** Document content as JSON text. */
  content: string;
}

export interface ManagedInstance {
  instanceId: string;
  pingStatus: string;
  platform: string;
  computerName?: string;
}

export interface TaggedInstance extends ManagedInstance {
  tags: Record<string, string>;
}

export interface SessionStart {
  target: string;
  documentName: string;
  reason: string;
}

export interface StartedSession {
  SessionId: string;
  StreamUrl: string;
  TokenValue: string;
}

export interface SessionInfo {
  sessionId: string;
  owner: string;
  status: string;
  target: string;
}

/**
 * Why iam:GetRole gave no role to check: there is none by that name, or IAM
 * denied the read (the target role may read only roles under IdC's path).
 */
export type RoleUnreadable = 'NoSuchEntity' | 'AccessDenied';

/** What IAM says about a role (iam:GetRole). */
export interface RoleFacts {
  /** IAM path, e.g. `/aws-reserved/sso.amazonaws.com/eu-west-1/`. */
  path: string;
  /** Unique ID (AROA…); a role deleted and created again under its name gets a new one. */
  roleId: string;
}

export interface MemberAccount {
  readonly accountId: string;
  /** ARN the broker's calls in this account run as (DescribeSessions Owner of its sessions). */
  readonly sessionArn: string;
  getSessionDocument(region: string, name: string): Promise<SessionDocument | undefined>;
  /** SSM's view of one instance, or undefined when SSM does not manage it. */
  describeManagedInstance(region: string, instanceId: string): Promise<ManagedInstance | undefined>;
  /** The instance's tags, or undefined when the instance does not exist or has never been tagged. */
  instanceTags(region: string, instanceId: string): Promise<Record<string, string> | undefined>;
  /** Every managed instance carrying the roleshell:permission-sets tag, with its tags. */
  listTaggedInstances(region: string): Promise<TaggedInstance[]>;
  startSession(region: string, start: SessionStart): Promise<StartedSession>;
  describeSession(region: string, sessionId: string): Promise<SessionInfo | undefined>;
  terminateSession(region: string, sessionId: string): Promise<void>;
  /** The role of this account named `roleName`, or why IAM gave none. */
  getRole(roleName: string): Promise<RoleFacts | RoleUnreadable>;
  /** A new token (and stream URL) for a live session; undefined when SSM says it no longer exists. */
  resumeSession(region: string, sessionId: string): Promise<StartedSession | undefined>;
}

/** Opens a member account as the given role session name (SourceIdentity too). */
export type MemberAccess = ((
  accountId: string,
  partition: string,
  roleSessionName: string,
) => Promise<MemberAccount>) & {
  /**
   * The account as already opened, from cached credentials, or undefined: never
   * calls STS. For reads started ahead of a caller's verification.
   */
  opened?: (accountId: string, partition: string, roleSessionName: string) => MemberAccount | undefined;
};
