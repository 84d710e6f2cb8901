/**
 * Every call the sandbox serves is decided by the policy evaluator: for each
 * service an allowed and a denied request, through the real AWS SDK clients,
 * against policies written as IAM JSON in the org file, a function's resource
 * policy, a role's trust policy and an SCP. The sandbox runs with
 * `iamCrossCheck`, so iam-simulate's validating engine confirms each decision.
 */
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  GetResourcesCommand,
  ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
import {
  DescribeInstanceInformationCommand,
  DescribeSessionsCommand,
  GetDocumentCommand,
  SSMClient,
  StartSessionCommand,
  TerminateSessionCommand,
} from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../index';
import { defaultOrgWith } from '../testing/orgs';
import { assumeRole, clientConfig, permissionSetCredentials, signIn } from '../testing/sdk';
import { loadOrg } from '../org';
import { loadEvaluator } from './evaluator';
import { IamRoles } from './iamRoles';
import { mayApplyTo, PolicyEnforcer, resourceKind } from './policyEnforcer';
import type { RoleSession } from './principals';

const CENTRAL = '111111111111';
const PROD = '222222222222';
const WEB_1 = 'i-0a1b2c3d4e5f60001'; // Team web, eu-west-1
const DB_1 = 'i-0a1b2c3d4e5f60003'; // Team data, eu-west-1

const allowAll = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };

const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: Error & { $metadata?: { httpStatusCode?: number } }) => e,
  );

describe('IAM through the policy evaluator, per service', () => {
  let sandbox: Sandbox;
  let developer: AwsCredentialIdentity;
  let reader: AwsCredentialIdentity;
  let denyAll: AwsCredentialIdentity;
  let blocked: AwsCredentialIdentity;

  beforeAll(async () => {
    sandbox = await startSandbox({
      approve: 'alice',
      iamCrossCheck: true,
      org: defaultOrgWith({
        roles: [
          {
            name: 'Reader',
            accounts: [PROD],
            trust: { principals: [PROD] },
            policyDocuments: [
              {
                Version: '2012-10-17',
                Statement: [
                  {
                    Effect: 'Allow',
                    Action: [
                      'ec2:DescribeInstances',
                      'ssm:DescribeInstanceInformation',
                      'ssm:DescribeSessions',
                      'tag:GetResources',
                      'lambda:InvokeFunction',
                    ],
                    Resource: '*',
                    Condition: { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } },
                  },
                  {
                    Effect: 'Allow',
                    Action: 'ssm:GetDocument',
                    Resource: 'arn:aws:ssm:*:${aws:PrincipalAccount}:document/RoleShell-ReadOnly',
                  },
                  {
                    Effect: 'Allow',
                    Action: 'iam:GetRole',
                    Resource: 'arn:aws:iam::${aws:PrincipalAccount}:role/Reader',
                  },
                  {
                    // Instance-tag conditions, with both keys SSM supplies.
                    Effect: 'Allow',
                    Action: 'ssm:StartSession',
                    Resource: 'arn:aws:ec2:*:*:instance/*',
                    Condition: { StringEquals: { 'aws:ResourceTag/Team': 'web' } },
                  },
                  {
                    Effect: 'Allow',
                    Action: 'ssm:StartSession',
                    Resource: 'arn:aws:ssm:*:*:document/RoleShell-ReadOnly',
                  },
                  { Effect: 'Allow', Action: 'ssm:TerminateSession', Resource: '*' },
                ],
              },
            ],
          },
          {
            name: 'DenyAll',
            accounts: [PROD],
            trust: { principals: [PROD] },
            policyDocuments: [
              allowAll,
              { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }] },
            ],
          },
          {
            name: 'Blocked',
            accounts: [PROD],
            trust: { principals: [PROD] },
            tags: { blocked: 'yes' },
            policyDocuments: [allowAll],
          },
        ],
        functions: [
          {
            name: 'readers-only',
            account: CENTRAL,
            region: 'eu-west-1',
            module: 'sandbox/test-fixtures/lambda/echo.ts',
            handler: 'handler',
            role: 'RoleShellBrokerExecution',
            invokers: [`arn:aws:iam::${PROD}:role/Reader`],
          },
        ],
      }),
      iamPolicies: {
        // An SCP on the member accounts: nobody tagged blocked=yes lists instances, whatever they are allowed.
        serviceControlPolicies: [
          {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Deny',
                Action: ['ec2:DescribeInstances', 'ssm:DescribeInstanceInformation'],
                Resource: '*',
                Condition: { StringEquals: { 'aws:PrincipalTag/blocked': 'yes' } },
              },
            ],
          },
        ],
      },
    });
    const { accessToken } = await signIn(sandbox);
    developer = await permissionSetCredentials(sandbox, accessToken, PROD, 'Developer');
    const as = (role: string) =>
      assumeRole(sandbox, developer, {
        RoleArn: `arn:aws:iam::${PROD}:role/${role}`,
        RoleSessionName: 'alice',
      });
    reader = await as('Reader');
    denyAll = await as('DenyAll');
    blocked = await as('Blocked');
  }, 60_000);
  afterAll(() => sandbox?.close());

  const ssm = (c: AwsCredentialIdentity, region = 'eu-west-1') =>
    new SSMClient({ ...clientConfig(sandbox, region, c), maxAttempts: 1 });
  const ec2 = (c: AwsCredentialIdentity, region = 'eu-west-1') =>
    new EC2Client({ ...clientConfig(sandbox, region, c), maxAttempts: 1 });

  it('sts: AssumeRole needs the trust policy and the identity policy; GetCallerIdentity is never denied', async () => {
    // The Reader trusts its account; an explicit deny on the caller still wins.
    const err = await errorOf(
      assumeRole(sandbox, denyAll, { RoleArn: `arn:aws:iam::${PROD}:role/Reader`, RoleSessionName: 'x1' }),
    );
    expect(err).toMatchObject({ name: 'AccessDenied' });
    expect(err?.message).toContain('sts:AssumeRole');
    // RoleShellTarget's trust (its synthesized JSON) names only the broker's execution role.
    const untrusted = await errorOf(
      assumeRole(sandbox, developer, {
        RoleArn: `arn:aws:iam::${PROD}:role/RoleShellTarget`,
        RoleSessionName: 'alice',
        SourceIdentity: 'alice',
      }),
    );
    expect(untrusted).toMatchObject({ name: 'AccessDenied' });
    // AWS: "No permissions are required … even with an explicit deny".
    const sts = new STSClient(clientConfig(sandbox, 'eu-west-1', denyAll));
    const me = await sts.send(new GetCallerIdentityCommand({}));
    sts.destroy();
    expect(me.Arn).toBe(`arn:aws:sts::${PROD}:assumed-role/DenyAll/alice`);
  });

  it('ec2: DescribeInstances allowed in the policy region, UnauthorizedOperation elsewhere and by the SCP', async () => {
    const inRegion = ec2(reader);
    const out = await inRegion.send(new DescribeInstancesCommand({}));
    expect(out.Reservations!.length).toBeGreaterThan(0);
    const elsewhere = ec2(reader, 'us-east-1');
    const err = await errorOf(elsewhere.send(new DescribeInstancesCommand({})));
    expect(err).toMatchObject({ name: 'UnauthorizedOperation' });
    expect(err?.$metadata?.httpStatusCode).toBe(403);
    const scp = ec2(blocked);
    const denied = await errorOf(scp.send(new DescribeInstancesCommand({})));
    expect(denied).toMatchObject({ name: 'UnauthorizedOperation' });
    expect(denied?.message).toContain('with an explicit deny');
    for (const c of [inRegion, elsewhere, scp]) c.destroy();
  });

  it('ssm describe calls: DescribeInstanceInformation and DescribeSessions allowed and denied', async () => {
    const ok = ssm(reader);
    expect((await ok.send(new DescribeInstanceInformationCommand({}))).InstanceInformationList).toBeDefined();
    expect((await ok.send(new DescribeSessionsCommand({ State: 'Active' }))).Sessions).toBeDefined();
    const elsewhere = ssm(reader, 'us-east-1');
    const err = await errorOf(elsewhere.send(new DescribeInstanceInformationCommand({})));
    expect(err).toMatchObject({ name: 'AccessDeniedException' });
    expect(err?.message).toContain('ssm:DescribeInstanceInformation on resource: *');
    const scp = await errorOf(ssm(blocked).send(new DescribeInstanceInformationCommand({})));
    expect(scp?.message).toContain('with an explicit deny');
    // The SCP names only these two actions: the same principal may describe sessions.
    await expect(ssm(blocked).send(new DescribeSessionsCommand({ State: 'Active' }))).resolves.toBeDefined();
    const denied = await errorOf(ssm(denyAll).send(new DescribeSessionsCommand({ State: 'Active' })));
    expect(denied?.message).toContain('ssm:DescribeSessions on resource: * with an explicit deny');
    ok.destroy();
    elsewhere.destroy();
  });

  it('ssm GetDocument: judged on the document ARN', async () => {
    const client = ssm(reader);
    expect((await client.send(new GetDocumentCommand({ Name: 'RoleShell-ReadOnly' }))).Name).toBe(
      'RoleShell-ReadOnly',
    );
    const err = await errorOf(client.send(new GetDocumentCommand({ Name: 'RoleShell-AdministratorAccess' })));
    expect(err?.message).toContain(
      `ssm:GetDocument on resource: arn:aws:ssm:eu-west-1:${PROD}:document/RoleShell-AdministratorAccess`,
    );
    client.destroy();
  });

  it('ssm StartSession: the instance with its tags (aws:ResourceTag) and the document, both must allow', async () => {
    const client = ssm(reader);
    const started = await client.send(
      new StartSessionCommand({ Target: WEB_1, DocumentName: 'RoleShell-ReadOnly' }),
    );
    expect(sandbox.sessions.get(started.SessionId!)?.runAsUser).toBe('auditor');
    const wrongTeam = await errorOf(
      client.send(new StartSessionCommand({ Target: DB_1, DocumentName: 'RoleShell-ReadOnly' })),
    );
    expect(wrongTeam?.message).toContain(
      `ssm:StartSession on resource: arn:aws:ec2:eu-west-1:${PROD}:instance/${DB_1}`,
    );
    const wrongDocument = await errorOf(
      client.send(new StartSessionCommand({ Target: WEB_1, DocumentName: 'SSM-SessionManagerRunShell' })),
    );
    expect(wrongDocument?.message).toContain('document/SSM-SessionManagerRunShell');
    // Allowed every session, the role gets AWS's answer for one that does not exist.
    const unknown = await errorOf(
      client.send(new TerminateSessionCommand({ SessionId: 'alice-00000000000000000' })),
    );
    expect(unknown).toMatchObject({ name: 'DoesNotExistException' });
    await client.send(new TerminateSessionCommand({ SessionId: started.SessionId! }));
    client.destroy();
  });

  it('tagging GetResources: allowed in the policy region, denied elsewhere', async () => {
    const ok = new ResourceGroupsTaggingAPIClient(clientConfig(sandbox, 'eu-west-1', reader));
    const { ResourceTagMappingList } = await ok.send(new GetResourcesCommand({}));
    expect(ResourceTagMappingList!.length).toBeGreaterThan(0);
    const no = new ResourceGroupsTaggingAPIClient({
      ...clientConfig(sandbox, 'us-east-1', reader),
      maxAttempts: 1,
    });
    expect(await errorOf(no.send(new GetResourcesCommand({})))).toMatchObject({
      name: 'AccessDeniedException',
    });
    ok.destroy();
    no.destroy();
  });

  it('iam GetRole: judged on the role ARN', async () => {
    const iam = new IAMClient({ ...clientConfig(sandbox, 'us-east-1', reader), maxAttempts: 1 });
    expect((await iam.send(new GetRoleCommand({ RoleName: 'Reader' }))).Role?.RoleName).toBe('Reader');
    const err = await errorOf(iam.send(new GetRoleCommand({ RoleName: 'RoleShellTarget' })));
    expect(err).toMatchObject({ name: 'AccessDenied' });
    expect(err?.message).toContain(`iam:GetRole on resource: arn:aws:iam::${PROD}:role/RoleShellTarget`);
    iam.destroy();
  });

  it("lambda Invoke: the function's resource policy decides, with the caller's identity policy across accounts", async () => {
    const arn = `arn:aws:lambda:eu-west-1:${CENTRAL}:function:readers-only`;
    const ok = new LambdaClient(clientConfig(sandbox, 'eu-west-1', reader));
    const dry = await ok.send(new InvokeCommand({ FunctionName: arn, InvocationType: 'DryRun' }));
    expect(dry.StatusCode).toBe(204);
    // The Developer permission set may invoke functions, but this one's policy names only the Reader.
    const other = new LambdaClient({ ...clientConfig(sandbox, 'eu-west-1', developer), maxAttempts: 1 });
    const err = await errorOf(other.send(new InvokeCommand({ FunctionName: arn, InvocationType: 'DryRun' })));
    expect(err).toMatchObject({ name: 'AccessDeniedException' });
    expect(err?.$metadata?.httpStatusCode).toBe(403);
    // The org-scoped broker (aws:PrincipalOrgID): any principal of the org with an identity allow.
    const broker = await other.send(
      new InvokeCommand({ FunctionName: sandbox.brokerFunctionArn, InvocationType: 'DryRun' }),
    );
    expect(broker.StatusCode).toBe(204);
    ok.destroy();
    other.destroy();
  });

  it('answers repeated requests from its cache, and drops it when a role is recreated', async () => {
    const client = ssm(reader);
    const before = sandbox.iamStats();
    await client.send(new DescribeSessionsCommand({ State: 'Active' }));
    await client.send(new DescribeSessionsCommand({ State: 'History' }));
    expect(sandbox.iamStats().cached).toBeGreaterThan(before.cached);
    // The Reader made again without policies: its old sessions keep nothing, new ones get nothing.
    sandbox.iam.recreateRole(PROD, 'Reader', { trust: { principals: [PROD] } });
    const err = await errorOf(client.send(new DescribeSessionsCommand({ State: 'Active' })));
    expect(err).toMatchObject({ name: 'AccessDeniedException' });
    client.destroy();
  });
});

describe('the decision cache', () => {
  const { org } = loadOrg(
    defaultOrgWith({
      roles: [
        {
          name: 'ProdOnly',
          accounts: [PROD, '333333333333'],
          policyDocuments: [
            {
              Version: '2012-10-17',
              Statement: [
                { Effect: 'Allow', Action: 'ssm:GetDocument', Resource: `arn:aws:ssm:*:${PROD}:document/*` },
              ],
            },
          ],
        },
      ],
    }),
  );
  const session = (accountId: string, roleName: string): RoleSession => {
    const role = IamRoles.of(org).get(accountId, roleName)!;
    return {
      accountId,
      roleName,
      rolePath: role.path,
      roleId: role.roleId,
      sessionName: 'alice',
      sessionTags: {},
      transitiveTagKeys: [],
      createdAt: new Date(),
    };
  };

  it('answers the same request from another account from one decision when no policy names the account', async () => {
    const enforcer = new PolicyEnforcer(org);
    for (const account of [PROD, '333333333333', '444444444444'])
      expect(
        await enforcer.decide(session(account, 'RoleShellTarget'), 'ssm:DescribeSessions', '*', {
          context: { 'aws:RequestedRegion': 'eu-west-1' },
        }),
      ).toBe('Allowed');
    expect(enforcer.stats).toMatchObject({ evaluated: 1, cached: 2 });
  });

  it('decides again for each account a policy names', async () => {
    const enforcer = new PolicyEnforcer(org);
    const getDocument = (account: string) =>
      enforcer.decide(
        session(account, 'ProdOnly'),
        'ssm:GetDocument',
        `arn:aws:ssm:eu-west-1:${account}:document/RoleShell-ReadOnly`,
      );
    expect(await getDocument(PROD)).toBe('Allowed');
    expect(await getDocument('333333333333')).toBe('ImplicitlyDenied');
    expect(enforcer.stats).toMatchObject({ evaluated: 2, cached: 0 });
  });
});

describe('the decision cache across resources', () => {
  const role = (name: string) => `arn:aws:iam::${PROD}:role/${name}`;
  const idcRole = (suffix: string) =>
    role(`aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Developer_${suffix}`);
  const enforcerWith = (resource: string, others: object[] = []) => {
    const { org: withRole } = loadOrg(
      defaultOrgWith({
        roles: [
          {
            name: 'Checker',
            accounts: [PROD],
            policyDocuments: [
              {
                Version: '2012-10-17',
                Statement: [{ Effect: 'Allow', Action: 'iam:GetRole', Resource: resource }, ...others],
              },
            ],
          },
        ],
      }),
    );
    const r = IamRoles.of(withRole).get(PROD, 'Checker')!;
    const session: RoleSession = {
      accountId: PROD,
      roleName: 'Checker',
      rolePath: r.path,
      roleId: r.roleId,
      sessionName: 'alice',
      sessionTags: {},
      transitiveTagKeys: [],
      createdAt: new Date(),
    };
    const enforcer = new PolicyEnforcer(withRole);
    return { enforcer, getRole: (arn: string) => enforcer.decide(session, 'iam:GetRole', arn) };
  };

  it('decides once for every resource of a kind when no policy tells resources apart', async () => {
    const { enforcer, getRole } = enforcerWith('*');
    for (const suffix of ['0123456789abcdef', 'fedcba9876543210', '00000000000000aa'])
      expect(await getRole(idcRole(suffix))).toBe('Allowed');
    expect(await getRole(role('Deployer'))).toBe('Allowed');
    expect(enforcer.stats).toMatchObject({ evaluated: 1, cached: 3 });
  });

  it('lets statements of other actions name resources without splitting the decision', async () => {
    const { enforcer, getRole } = enforcerWith('*', [
      { Effect: 'Allow', Action: 'ssm:StartSession', Resource: 'arn:aws:ec2:*:*:instance/*' },
      { Effect: 'Deny', Action: ['ssm:Get*', 'ec2:*'], Resource: 'arn:aws:ssm:*:*:document/x' },
    ]);
    expect(await getRole(idcRole('0123456789abcdef'))).toBe('Allowed');
    expect(await getRole(idcRole('fedcba9876543210'))).toBe('Allowed');
    expect(enforcer.stats).toMatchObject({ evaluated: 1, cached: 1 });
    // A statement that may apply to GetRole (a wildcard, NotAction) and names a resource does split it.
    for (const other of [
      { Effect: 'Deny', Action: 'iam:Get*', Resource: idcRole('fedcba9876543210') },
      { Effect: 'Deny', NotAction: 'ssm:*', Resource: idcRole('fedcba9876543210') },
    ]) {
      const split = enforcerWith('*', [other]);
      expect(await split.getRole(idcRole('0123456789abcdef'))).toBe('Allowed');
      expect(await split.getRole(idcRole('fedcba9876543210'))).toBe('ExplicitlyDenied');
      expect(split.enforcer.stats).toMatchObject({ evaluated: 2, cached: 0 });
    }
  });

  it('matches actions as IAM does: case-insensitive, * and ? wildcards', () => {
    const applies = (Action: unknown) =>
      mayApplyTo({ Effect: 'Allow', Action, Resource: '*' }, 'iam:GetRole');
    expect(applies('iam:GetRole')).toBe(true);
    expect(applies('IAM:getrole')).toBe(true);
    expect(applies('iam:Get*')).toBe(true);
    expect(applies('iam:GetRol?')).toBe(true);
    expect(applies('*')).toBe(true);
    expect(applies(['ssm:*', 'iam:*'])).toBe(true);
    expect(applies('iam:GetRolePolicy')).toBe(false);
    expect(applies('iam:List*')).toBe(false);
    expect(applies('ia.:GetRole')).toBe(false);
    expect(mayApplyTo({ Effect: 'Allow', NotAction: 'iam:GetRole', Resource: '*' }, 'iam:GetRole')).toBe(
      true,
    );
  });

  it('decides each resource on its own when a policy names resources', async () => {
    const { enforcer, getRole } = enforcerWith('arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*');
    expect(await getRole(idcRole('0123456789abcdef'))).toBe('Allowed');
    expect(await getRole(idcRole('fedcba9876543210'))).toBe('Allowed');
    // Outside IdC's path: denied, never the cached Allowed of another role.
    expect(await getRole(role('Deployer'))).toBe('ImplicitlyDenied');
    expect(enforcer.stats).toMatchObject({ evaluated: 3, cached: 0 });
  });

  it('keeps resource kinds apart: type, account and region are all in the key', () => {
    expect(resourceKind(idcRole('0123456789abcdef'))).toBe(resourceKind(role('Deployer')));
    expect(resourceKind(role('Deployer'))).not.toBe(resourceKind(`arn:aws:iam::${CENTRAL}:role/Deployer`));
    expect(resourceKind(`arn:aws:iam::${PROD}:policy/Deployer`)).not.toBe(resourceKind(role('Deployer')));
    expect(resourceKind('arn:aws:ssm:eu-west-1:1:document/A')).not.toBe(
      resourceKind('arn:aws:ssm:us-east-1:1:document/A'),
    );
    expect(resourceKind('*')).toBe('*');
  });
});

describe('without the evaluator', () => {
  it('refuses with a message saying what is missing, instead of deciding anything', async () => {
    const evaluator = await loadEvaluator({ module: '@cloud-copilot/not-installed' });
    expect(evaluator.name).toBe('none');
    await expect(
      evaluator.evaluate({
        request: {
          principal: `arn:aws:sts::${PROD}:assumed-role/Reader/alice`,
          action: 'ssm:DescribeSessions',
          resource: { resource: '*', accountId: PROD },
          contextVariables: {},
        },
        identityPolicies: [{ name: 'all', policy: allowAll }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
      }),
    ).rejects.toMatchObject({
      code: 'InternalFailure',
      message: expect.stringMatching(/IAM policy evaluator .* is not installed here/),
    });
  });
});

describe('a sandbox built without the evaluator', () => {
  it('does not start, and says why and what to run instead', async () => {
    await expect(startSandbox({ iamEvaluatorModule: '@cloud-copilot/not-installed' })).rejects.toThrow(
      'The local sandbox needs its IAM policy evaluator (@cloud-copilot/iam-simulate), a development dependency that this build leaves out. Run RoleShell from a source checkout (npm install && npm start) to try the sandbox.',
    );
  });
});
