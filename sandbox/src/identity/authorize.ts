/**
 * IAM, reduced to what RoleShell's flows touch: which actions a role session may
 * call, which session documents it may name (ssm:SessionDocumentAccessCheck),
 * and which instances it may reach.
 */
import type { Org, OrgInstance, OrgRole } from '../org/schema';
import { AwsError } from '../http/awsError';
import { IamRoles } from './iamRoles';
import { assumedRoleArn, type RoleSession } from './principals';

/** What an IdC permission-set role may call in the sandbox (its policies are AWS-managed). */
export const PERMISSION_SET_ACTIONS = [
  'sts:GetCallerIdentity',
  // Role trust policies still decide; these only let the permission set ask.
  'sts:AssumeRole',
  'sts:SetSourceIdentity',
  'sts:TagSession',
  'ssm:StartSession',
  'ssm:TerminateSession',
  'ssm:ResumeSession',
  'ssm:DescribeSessions',
  'ssm:DescribeInstanceInformation',
  'ssm:GetDocument',
  'ec2:DescribeInstances',
  'lambda:InvokeFunction',
];

export const PERMISSION_SETS_TAG = 'roleshell:permission-sets';

const glob = (pattern: string) =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);

/** The org-defined trust and policy of a role as IAM holds it now (IdC's own roles have none here). */
export function findRole(org: Org, accountId: string, roleName: string): OrgRole | undefined {
  return IamRoles.of(org).get(accountId, roleName)?.definition;
}

/** A session's role policy; none once its role was deleted (a role made again under the name is another role). */
function sessionRole(org: Org, session: RoleSession): OrgRole | undefined {
  const role = IamRoles.of(org).get(session.accountId, session.roleName);
  return role?.roleId === session.roleId ? role.definition : undefined;
}

export function allowedActions(org: Org, session: RoleSession): string[] {
  if (session.permissionSet) return PERMISSION_SET_ACTIONS;
  return ['sts:GetCallerIdentity', ...(sessionRole(org, session)?.policy.actions ?? [])];
}

export function isActionAllowed(org: Org, session: RoleSession, action: string): boolean {
  return allowedActions(org, session).some((a) => glob(a).test(action));
}

/** Throws AccessDeniedException in the words AWS uses. */
export function requireAction(
  org: Org,
  session: RoleSession,
  action: string,
  resource: string,
  code = 'AccessDeniedException',
): void {
  if (!isActionAllowed(org, session, action)) {
    throw new AwsError(
      code,
      `User: ${assumedRoleArn(session)} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`,
      code === 'AccessDenied' ? 403 : 400,
    );
  }
}

export function isDocumentAllowed(org: Org, session: RoleSession, documentName: string): boolean {
  const patterns = session.permissionSet
    ? (org.permissionSets.find((p) => p.name === session.permissionSet)?.sessionDocuments ?? [])
    : (sessionRole(org, session)?.policy.sessionDocuments ?? []);
  return patterns.some((p) => glob(p).test(documentName));
}

/** Permission sets listed on an instance's roleshell:permission-sets tag (`*` = all). */
export function permissionSetsOf(instance: OrgInstance): string[] {
  return (instance.tags[PERMISSION_SETS_TAG] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A permission-set role reaches instances tagged for it; other roles reach every instance of their account. */
export function isInstanceReachable(session: RoleSession, instance: OrgInstance): boolean {
  if (instance.account !== session.accountId) return false;
  if (!session.permissionSet) return true;
  const sets = permissionSetsOf(instance);
  return sets.includes('*') || sets.includes(session.permissionSet);
}
