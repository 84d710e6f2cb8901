/**
 * The caller as STS reported it: account, permission set and IdC user, parsed
 * from the assumed-role ARN of an IAM Identity Center permission-set role.
 */
import { BrokerError } from '../errors';

export interface StsIdentity {
  Arn: string;
  UserId: string;
  Account: string;
}

export interface Caller {
  arn: string;
  /** STS UserId, `<role id>:<session name>`; AWS's recommended stable key. */
  userId: string;
  /** The role's unique ID (AROA…), the part of UserId before the colon. */
  roleId: string;
  /** The role's name, AWSReservedSSO_<PermissionSet>_<suffix>. */
  roleName: string;
  accountId: string;
  partition: string;
  permissionSet: string;
  /** The role session name: the IdC user name. */
  user: string;
}

// Permission set names are 1-32 of [\w+=,.@-] and may contain '_', so the greedy
// name group backtracks until the 16-hex suffix matches at the end of the role name.
const SSO_SESSION_ARN =
  /^arn:(aws|aws-cn|aws-us-gov):sts::(\d{12}):assumed-role\/(AWSReservedSSO_([\w+=,.@-]{1,32})_[0-9a-f]{16})\/([\w+=,.@-]{2,64})$/;
/** A role session's UserId: the role's unique ID, a colon, the role session name. */
const ROLE_SESSION_USER_ID = /^(AROA[A-Z0-9]{1,128}):(.+)$/;

export function parseCallerIdentity(identity: StsIdentity): Caller {
  const match = SSO_SESSION_ARN.exec(identity.Arn);
  if (!match) {
    throw new BrokerError(
      'IdentityRejected',
      'RoleShell works only with IAM Identity Center permission sets; sign in through your start URL.',
      `caller ${identity.Arn} is not an AWSReservedSSO_ assumed role`,
    );
  }
  const [, partition, accountId, roleName, permissionSet, user] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (identity.Account !== accountId) {
    throw new BrokerError(
      'IdentityRejected',
      'The identity proof was refused.',
      `STS Account ${identity.Account} differs from ARN account ${accountId}`,
    );
  }
  const userId = ROLE_SESSION_USER_ID.exec(identity.UserId);
  if (!userId || userId[2] !== user) {
    throw new BrokerError(
      'IdentityRejected',
      'The identity proof was refused.',
      `STS UserId ${identity.UserId} is not <role id>:${user}`,
    );
  }
  return {
    arn: identity.Arn,
    userId: identity.UserId,
    roleId: userId[1]!,
    roleName,
    accountId,
    partition,
    permissionSet,
    user,
  };
}
