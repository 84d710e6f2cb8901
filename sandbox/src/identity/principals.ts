/**
 * Credentials the sandbox issued and the role sessions behind them. Every signed
 * request is verified against this store; nothing else is trusted.
 */
import { newSecretAccessKey, newSessionToken, newTemporaryAccessKeyId, roleIdFor } from './ids';

/** A role session: what an assumed-role ARN names. */
export interface RoleSession {
  accountId: string;
  roleName: string;
  /** IAM path of the role ("/" or "/aws-reserved/sso.amazonaws.com/<region>/"). */
  rolePath: string;
  roleId: string;
  sessionName: string;
  sourceIdentity?: string;
  /** Session tags (from AssumeRole Tags or carried transitively). */
  sessionTags: Record<string, string>;
  transitiveTagKeys: string[];
  /** Set for AWSReservedSSO_* roles issued by the portal. */
  permissionSet?: string;
  idcUser?: { userName: string; userId: string };
  /** Set for a Lambda execution role session. */
  lambdaFunction?: string;
  createdAt: Date;
}

export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
  session: RoleSession;
}

export const roleArn = (s: Pick<RoleSession, 'accountId' | 'rolePath' | 'roleName'>) =>
  `arn:aws:iam::${s.accountId}:role${s.rolePath}${s.roleName}`;

export const assumedRoleArn = (s: Pick<RoleSession, 'accountId' | 'roleName' | 'sessionName'>) =>
  `arn:aws:sts::${s.accountId}:assumed-role/${s.roleName}/${s.sessionName}`;

/** `aws:userid` of a role session. */
export const userIdOf = (s: RoleSession) => `${s.roleId}:${s.sessionName}`;

export class CredentialStore {
  private readonly byKey = new Map<string, IssuedCredentials>();

  issue(
    session: Omit<RoleSession, 'roleId' | 'createdAt' | 'sessionTags' | 'transitiveTagKeys'> &
      Partial<Pick<RoleSession, 'roleId' | 'sessionTags' | 'transitiveTagKeys'>>,
    lifetimeSeconds: number,
    now = new Date(),
  ): IssuedCredentials {
    const creds: IssuedCredentials = {
      accessKeyId: newTemporaryAccessKeyId(),
      secretAccessKey: newSecretAccessKey(),
      sessionToken: newSessionToken(),
      // AWS reports whole seconds.
      expiration: new Date(Math.floor(now.getTime() / 1000) * 1000 + lifetimeSeconds * 1000),
      session: {
        sessionTags: {},
        transitiveTagKeys: [],
        roleId: roleIdFor(session.accountId, session.roleName),
        ...session,
        createdAt: now,
      },
    };
    this.byKey.set(creds.accessKeyId, creds);
    return creds;
  }

  get(accessKeyId: string): IssuedCredentials | undefined {
    return this.byKey.get(accessKeyId);
  }

  /** Drops expired entries (kept a while so an expired key is reported as expired, not unknown). */
  prune(now = Date.now(), graceMs = 24 * 3600_000): void {
    for (const [key, c] of this.byKey) if (c.expiration.getTime() + graceMs < now) this.byKey.delete(key);
  }
}
