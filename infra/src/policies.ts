/**
 * Every IAM policy RoleShell deploys or asks an organization to attach, as
 * plain policy JSON. The CDK stacks embed these (with CloudFormation tokens for
 * account and partition), and `npm run synth` also writes the guard rails as
 * JSON files for organizations that attach policies by other means.
 */
import { brokerExecutionRoleArn, brokerFunctionArn, documentNameFor, type InfraConfig } from './config';

export const PERMISSION_SETS_TAG = 'roleshell:permission-sets';
/** SSM tags every session with the starting principal's aws:userid. */
export const SESSION_OWNER_TAG = 'aws:ssmmessages:session-id';
export const SSO_ROLE_PATH = '/aws-reserved/sso.amazonaws.com/';

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Principal?: Record<string, string | string[]>;
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

/** Where a policy is evaluated: literal values for JSON files, CloudFormation tokens in a template. */
export interface PolicyScope {
  partition: string;
  /** The member account the policy lives in. */
  account: string;
}

const taggedForRoleShell = { Null: { [`ssm:resourceTag/${PERMISSION_SETS_TAG}`]: 'false' } };
/** Makes Session Manager check the document the session uses against the policy's resources. */
const documentAccessCheck = { BoolIfExists: { 'ssm:SessionDocumentAccessCheck': 'true' } };
const ownSessions = { StringLike: { [`ssm:resourceTag/${SESSION_OWNER_TAG}`]: '${aws:userid}' } };

function instanceArns(config: InfraConfig, scope: PolicyScope): string[] {
  return config.regions.flatMap((region) => [
    `arn:${scope.partition}:ec2:${region}:${scope.account}:instance/*`,
    `arn:${scope.partition}:ssm:${region}:${scope.account}:managed-instance/*`,
  ]);
}

function documentArns(config: InfraConfig, scope: PolicyScope, documents: string[]): string[] {
  return config.regions.flatMap((region) =>
    documents.map((name) => `arn:${scope.partition}:ssm:${region}:${scope.account}:document/${name}`),
  );
}

function sessionArns(config: InfraConfig, scope: PolicyScope): string[] {
  return config.regions.map((region) => `arn:${scope.partition}:ssm:${region}:${scope.account}:session/*`);
}

export function roleShellDocumentNames(config: InfraConfig): string[] {
  return Object.keys(config.permissionSets).map((name) => documentNameFor(config, name));
}

/**
 * The member target role's permissions: exactly the calls the broker makes
 * with it, and StartSession only with RoleShell documents on tagged instances.
 */
export function targetRolePolicy(config: InfraConfig, scope: PolicyScope): PolicyDocument {
  const documents = documentArns(config, scope, roleShellDocumentNames(config));
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'StartSessionOnRoleShellInstances',
        Effect: 'Allow',
        Action: 'ssm:StartSession',
        Resource: instanceArns(config, scope),
        Condition: { ...taggedForRoleShell, ...documentAccessCheck },
      },
      {
        Sid: 'StartSessionWithRoleShellDocuments',
        Effect: 'Allow',
        Action: 'ssm:StartSession',
        Resource: documents,
        Condition: documentAccessCheck,
      },
      {
        Sid: 'ReadRoleShellDocuments',
        Effect: 'Allow',
        Action: 'ssm:GetDocument',
        Resource: documents,
      },
      {
        Sid: 'EndOrResumeOwnSessions',
        Effect: 'Allow',
        Action: ['ssm:TerminateSession', 'ssm:ResumeSession'],
        Resource: sessionArns(config, scope),
        Condition: ownSessions,
      },
      {
        Sid: 'CheckCallerIsAnIdentityCenterRole',
        Effect: 'Allow',
        Action: 'iam:GetRole',
        Resource: `arn:${scope.partition}:iam::${scope.account}:role${SSO_ROLE_PATH}*`,
      },
      {
        // These three support no resource-level permissions. Tags come from the tagging API
        // (EC2 and mi- instances alike): the broker makes no EC2 or ssm:ListTagsForResource call.
        Sid: 'DescribeTargetsAndSessions',
        Effect: 'Allow',
        Action: ['ssm:DescribeInstanceInformation', 'ssm:DescribeSessions', 'tag:GetResources'],
        Resource: '*',
        Condition: { StringEquals: { 'aws:RequestedRegion': config.regions } },
      },
    ],
  };
}

/** Trust of the member target role: only the broker's execution role, and only with a SourceIdentity. */
export function targetRoleTrustPolicy(config: InfraConfig, partition: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'OnlyTheBrokerWithSourceIdentity',
        Effect: 'Allow',
        Principal: { AWS: brokerExecutionRoleArn(config, partition) },
        Action: ['sts:AssumeRole', 'sts:SetSourceIdentity', 'sts:TagSession'],
        Condition: {
          Null: { 'sts:SourceIdentity': 'false' },
          StringEquals: { 'aws:PrincipalOrgID': config.organization.id },
        },
      },
    ],
  };
}

/** (a) Inline policy for every permission set in broker mode. */
export function brokerModePermissionSetPolicy(config: InfraConfig, partition = 'aws'): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'InvokeTheRoleShellBroker',
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: brokerFunctionArn(config, partition),
      },
      {
        Sid: 'NoDirectSessionsOnRoleShellInstances',
        Effect: 'Deny',
        Action: 'ssm:StartSession',
        Resource: [`arn:${partition}:ec2:*:*:instance/*`, `arn:${partition}:ssm:*:*:managed-instance/*`],
        Condition: taggedForRoleShell,
      },
    ],
  };
}

function protectRoleShellResources(config: InfraConfig): PolicyStatement {
  return {
    // The StackSet owns the target role and the documents; nobody in the member account may bend them.
    Sid: 'ProtectRoleShellResources',
    Effect: 'Deny',
    Action: [
      'iam:AttachRolePolicy',
      'iam:DeleteRole',
      'iam:DeleteRolePolicy',
      'iam:DetachRolePolicy',
      'iam:PutRolePermissionsBoundary',
      'iam:PutRolePolicy',
      'iam:TagRole',
      'iam:UntagRole',
      'iam:UpdateAssumeRolePolicy',
      'iam:UpdateRole',
      'ssm:DeleteDocument',
      'ssm:ModifyDocumentPermission',
      'ssm:UpdateDocument',
      'ssm:UpdateDocumentDefaultVersion',
    ],
    Resource: [
      `arn:*:iam::*:role/${config.member.targetRoleName}`,
      ...roleShellDocumentNames(config).map((name) => `arn:*:ssm:*:*:document/${name}`),
    ],
    Condition: { ArnNotLike: { 'aws:PrincipalArn': 'arn:*:iam::*:role/stacksets-exec-*' } },
  };
}

/**
 * (b) Service control policy for the target OUs in broker mode: nobody but the
 * RoleShell target role starts a session on a RoleShell-tagged instance, so an
 * account administrator cannot use SSM-SessionManagerRunShell (or any other
 * document) to get around the mapping.
 */
export function brokerModeServiceControlPolicy(config: InfraConfig): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'OnlyRoleShellStartsSessionsOnRoleShellInstances',
        Effect: 'Deny',
        Action: 'ssm:StartSession',
        Resource: ['arn:*:ec2:*:*:instance/*', 'arn:*:ssm:*:*:managed-instance/*'],
        Condition: {
          ...taggedForRoleShell,
          ArnNotLike: { 'aws:PrincipalArn': `arn:*:iam::*:role/${config.member.targetRoleName}` },
        },
      },
      protectRoleShellResources(config),
    ],
  };
}

/**
 * (b, direct mode) The same SCP when permission sets start sessions themselves:
 * only the target role and Identity Center permission-set roles (each limited
 * to its own document by policy (c)) may start sessions on tagged instances.
 */
export function directModeServiceControlPolicy(config: InfraConfig): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'OnlyPermissionSetsStartSessionsOnRoleShellInstances',
        Effect: 'Deny',
        Action: 'ssm:StartSession',
        Resource: ['arn:*:ec2:*:*:instance/*', 'arn:*:ssm:*:*:managed-instance/*'],
        Condition: {
          ...taggedForRoleShell,
          ArnNotLike: {
            'aws:PrincipalArn': [
              `arn:*:iam::*:role/${config.member.targetRoleName}`,
              `arn:*:iam::*:role${SSO_ROLE_PATH}*`,
            ],
          },
        },
      },
      protectRoleShellResources(config),
    ],
  };
}

/** StringLike patterns for a tag that lists the permission set: alone, first, last or in the middle. */
function tagListsPermissionSet(permissionSet: string): string[] {
  return [permissionSet, `${permissionSet},*`, `*,${permissionSet}`, `*,${permissionSet},*`];
}

/**
 * (c) Direct mode: the inline policy for one permission set, which may start
 * sessions on instances whose tag lists it, and only with its own document.
 * The Deny also binds permission sets that carry broad managed policies.
 */
export function directModePermissionSetPolicy(
  config: InfraConfig,
  permissionSet: string,
  partition = 'aws',
): PolicyDocument {
  const own = documentNameFor(config, permissionSet);
  const ownDocuments = config.regions.map((region) => `arn:${partition}:ssm:${region}:*:document/${own}`);
  const anyInstance = [`arn:${partition}:ec2:*:*:instance/*`, `arn:${partition}:ssm:*:*:managed-instance/*`];
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'StartSessionOnInstancesTaggedForThisPermissionSet',
        Effect: 'Allow',
        Action: 'ssm:StartSession',
        Resource: anyInstance,
        Condition: {
          StringLike: { [`ssm:resourceTag/${PERMISSION_SETS_TAG}`]: tagListsPermissionSet(permissionSet) },
          ...documentAccessCheck,
        },
      },
      {
        // `*` means every permission set; StringLike cannot match a literal `*`, so it is its own statement.
        Sid: 'StartSessionOnInstancesTaggedForAll',
        Effect: 'Allow',
        Action: 'ssm:StartSession',
        Resource: anyInstance,
        Condition: {
          StringEquals: { [`ssm:resourceTag/${PERMISSION_SETS_TAG}`]: '*' },
          ...documentAccessCheck,
        },
      },
      {
        Sid: 'StartSessionWithOwnDocument',
        Effect: 'Allow',
        Action: ['ssm:StartSession', 'ssm:GetDocument'],
        Resource: ownDocuments,
        Condition: documentAccessCheck,
      },
      {
        Sid: 'OnlyOwnDocument',
        Effect: 'Deny',
        Action: 'ssm:StartSession',
        NotResource: [...ownDocuments, ...anyInstance],
      },
      {
        Sid: 'EndOrResumeOwnSessions',
        Effect: 'Allow',
        Action: ['ssm:TerminateSession', 'ssm:ResumeSession'],
        Resource: `arn:${partition}:ssm:*:*:session/*`,
        Condition: ownSessions,
      },
      {
        Sid: 'DescribeTargetsAndSessions',
        Effect: 'Allow',
        Action: ['ssm:DescribeInstanceInformation', 'ssm:DescribeSessions', 'ec2:DescribeInstances'],
        Resource: '*',
      },
    ],
  };
}

/** The guard-rail files `npm run synth` writes next to the templates. */
export function guardRailFiles(config: InfraConfig, partition = 'aws'): Record<string, PolicyDocument> {
  const files: Record<string, PolicyDocument> = {
    'broker-mode-permission-set-policy.json': brokerModePermissionSetPolicy(config, partition),
    'broker-mode-scp.json': brokerModeServiceControlPolicy(config),
    'direct-mode-scp.json': directModeServiceControlPolicy(config),
  };
  for (const name of Object.keys(config.permissionSets)) {
    files[`direct-mode-permission-set-policy-${name}.json`] = directModePermissionSetPolicy(
      config,
      name,
      partition,
    );
  }
  return files;
}
