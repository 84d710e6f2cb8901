/**
 * The org file's IAM as policy JSON, the form AWS evaluates: identity policies
 * of permission-set roles and org-file roles, roles' trust policies and the
 * functions' resource policies. The org file may give a role its policy JSON
 * as deployed (`policyDocuments`, `trustPolicy`); otherwise its short form
 * (`policy.actions` / `policy.sessionDocuments`, `trust.*`, `invokers`) is
 * written out here as the equivalent JSON. The policy evaluator
 * (policyEnforcer.ts) then judges every call against these.
 */
import { createHash } from 'node:crypto';
import type { Org, OrgFunction, OrgInstance, OrgPermissionSet, OrgRole } from '../org/schema';
import { samlProviderArn, type IamRole } from './iamRoles';

export type PolicyJson = Record<string, unknown>;

export const PERMISSION_SETS_TAG = 'roleshell:permission-sets';
/** SSM tags each session with the aws:userid of the role session that started it. */
export const SESSION_OWNER_TAG = 'aws:ssmmessages:session-id';

/**
 * What an IdC permission-set role may call in the sandbox: a stand-in for the
 * AWS-managed policies a permission set carries, narrowed as RoleShell's direct
 * mode deploys it (sessions only on instances tagged for the permission set,
 * with its own documents, ending only its own sessions).
 */
export const PERMISSION_SET_ACTIONS = [
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
  'tag:GetResources',
  'lambda:InvokeFunction',
];

/** Every action the sandbox authorizes (GetCallerIdentity needs no permission, as on AWS). */
export const SERVED_ACTIONS = [...PERMISSION_SET_ACTIONS, 'iam:GetRole'];

const INSTANCES = ['arn:aws:ec2:*:*:instance/*', 'arn:aws:ssm:*:*:managed-instance/*'];
const documentArn = (pattern: string) => `arn:aws:ssm:*:*:document/${pattern}`;
const ownSessions = { StringLike: { [`ssm:resourceTag/${SESSION_OWNER_TAG}`]: '${aws:userid}' } };
const SESSION_ACTIONS = new Set(['ssm:StartSession', 'ssm:TerminateSession', 'ssm:ResumeSession']);

const glob = (pattern: string) =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i');

/** The served actions an action list (with `*` globs, as IAM matches them) covers. */
export function expandActions(patterns: string[]): string[] {
  const tests = patterns.map(glob);
  return SERVED_ACTIONS.filter((a) => tests.some((t) => t.test(a)));
}

const policy = (statements: PolicyJson[]): PolicyJson => ({ Version: '2012-10-17', Statement: statements });

/** Written in the org file for the role's own account (iam-simulate resolves no variables in ARNs). */
export const ACCOUNT_VARIABLE = '${aws:PrincipalAccount}';

/** Whether a policy given as JSON names the role's own account (so each account has its own copy). */
export const isPerAccount = (p: PolicyJson) => JSON.stringify(p).includes(ACCOUNT_VARIABLE);

function inAccount(p: PolicyJson, accountId: string): PolicyJson {
  return isPerAccount(p)
    ? (JSON.parse(JSON.stringify(p).replaceAll(ACCOUNT_VARIABLE, accountId)) as PolicyJson)
    : p;
}

/** Permission sets listed on an instance's roleshell:permission-sets tag (`*` = all). */
export function permissionSetsOf(instance: OrgInstance): string[] {
  return (instance.tags[PERMISSION_SETS_TAG] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** StringLike patterns for a tag value that lists the permission set: alone, first, last or in between. */
function tagListsPermissionSet(permissionSet: string): string[] {
  return [permissionSet, `${permissionSet},*`, `*,${permissionSet}`, `*,${permissionSet},*`];
}

export function permissionSetPolicy(permissionSet: OrgPermissionSet): PolicyJson {
  const tagKey = `ssm:resourceTag/${PERMISSION_SETS_TAG}`;
  const statements: PolicyJson[] = [
    {
      Sid: 'Describe',
      Effect: 'Allow',
      Action: PERMISSION_SET_ACTIONS.filter((a) => !SESSION_ACTIONS.has(a)),
      Resource: '*',
    },
    {
      Sid: 'StartSessionOnInstancesTaggedForThisPermissionSet',
      Effect: 'Allow',
      Action: 'ssm:StartSession',
      Resource: INSTANCES,
      Condition: { StringLike: { [tagKey]: tagListsPermissionSet(permissionSet.name) } },
    },
    {
      // StringLike cannot match a literal `*` (every permission set), so it is its own statement.
      Sid: 'StartSessionOnInstancesTaggedForAll',
      Effect: 'Allow',
      Action: 'ssm:StartSession',
      Resource: INSTANCES,
      Condition: { StringEquals: { [tagKey]: '*' } },
    },
    {
      Sid: 'EndOrResumeOwnSessions',
      Effect: 'Allow',
      Action: ['ssm:TerminateSession', 'ssm:ResumeSession'],
      Resource: 'arn:aws:ssm:*:*:session/*',
      Condition: ownSessions,
    },
  ];
  if (permissionSet.sessionDocuments.length > 0)
    statements.push({
      Sid: 'StartSessionWithOwnDocuments',
      Effect: 'Allow',
      Action: 'ssm:StartSession',
      Resource: permissionSet.sessionDocuments.map(documentArn),
      Condition: { BoolIfExists: { 'ssm:SessionDocumentAccessCheck': 'true' } },
    });
  return policy(statements);
}

/**
 * A role's identity policies: its `policyDocuments` as given, or its short
 * form: the listed actions on every resource, except StartSession, which is
 * allowed on the instances of its account and only with the listed documents.
 */
export function rolePolicies(role: OrgRole, accountId: string): PolicyJson[] {
  if (role.policyDocuments) return role.policyDocuments.map((p) => inAccount(p, accountId));
  const actions = expandActions(role.policy.actions);
  if (actions.length === 0) return [];
  const others = actions.filter((a) => a !== 'ssm:StartSession');
  const statements: PolicyJson[] = [];
  if (others.length > 0) statements.push({ Sid: 'Actions', Effect: 'Allow', Action: others, Resource: '*' });
  if (actions.includes('ssm:StartSession')) {
    statements.push({
      Sid: 'StartSessionOnInstances',
      Effect: 'Allow',
      Action: 'ssm:StartSession',
      Resource: INSTANCES,
    });
    if (role.policy.sessionDocuments.length > 0)
      statements.push({
        Sid: 'StartSessionWithDocuments',
        Effect: 'Allow',
        Action: 'ssm:StartSession',
        Resource: role.policy.sessionDocuments.map(documentArn),
        Condition: { BoolIfExists: { 'ssm:SessionDocumentAccessCheck': 'true' } },
      });
  }
  return statements.length > 0 ? [policy(statements)] : [];
}

/**
 * A role's trust policy as IAM holds it: IdC's roles trust only its SAML
 * provider; org-file roles their `trustPolicy`, or the short form written out.
 */
export function trustPolicyOf(org: Org, role: IamRole): PolicyJson {
  if (role.definition?.trustPolicy) return inAccount(role.definition.trustPolicy, role.accountId);
  const statements: PolicyJson[] = [];
  if (role.permissionSet) {
    statements.push({
      Effect: 'Allow',
      Principal: { Federated: samlProviderArn(org, role.accountId) },
      Action: ['sts:AssumeRoleWithSAML', 'sts:TagSession'],
      Condition: { StringEquals: { 'SAML:aud': 'https://signin.aws.amazon.com/saml' } },
    });
  }
  const trust = role.definition?.trust;
  if (trust && (trust.principals.length > 0 || trust.services.length > 0)) {
    const principal: Record<string, string[]> = {};
    if (trust.principals.length > 0)
      principal.AWS = trust.principals.map((p) => (/^\d{12}$/.test(p) ? `arn:aws:iam::${p}:root` : p));
    if (trust.services.length > 0) principal.Service = trust.services;
    statements.push({
      Effect: 'Allow',
      Principal: principal,
      Action: [
        'sts:AssumeRole',
        ...(trust.setSourceIdentity ? ['sts:SetSourceIdentity'] : []),
        ...(trust.tagSession ? ['sts:TagSession'] : []),
      ],
    });
  }
  return policy(statements);
}

/** aws:PrincipalOrgID of every principal of the org: the org file's, or one derived from the identity store. */
export function organizationIdOf(org: Org): string {
  return (
    org.organizationId ?? `o-${createHash('sha256').update(org.identityStoreId).digest('hex').slice(0, 10)}`
  );
}

export const functionArn = (fn: OrgFunction) =>
  `arn:aws:lambda:${fn.region}:${fn.account}:function:${fn.name}`;

/**
 * A function's resource policy, as Lambda builds it from its permissions:
 * `org` = any principal of the organization (aws:PrincipalOrgID).
 */
export function functionResourcePolicy(fn: OrgFunction, organizationId: string): PolicyJson {
  const statements: PolicyJson[] = fn.invokers.map((invoker, i) => ({
    Sid: `invoker${i}`,
    Effect: 'Allow',
    Principal:
      invoker === 'org' || invoker === '*'
        ? '*'
        : { AWS: /^\d{12}$/.test(invoker) ? `arn:aws:iam::${invoker}:root` : invoker },
    Action: 'lambda:InvokeFunction',
    Resource: functionArn(fn),
    ...(invoker === 'org' ? { Condition: { StringEquals: { 'aws:PrincipalOrgID': organizationId } } } : {}),
  }));
  return policy(statements);
}
