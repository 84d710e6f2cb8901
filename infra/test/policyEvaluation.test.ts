/**
 * The synthesized policies judged by a real IAM policy evaluator
 * (@cloud-copilot/iam-simulate): identity policies, the target role's trust,
 * the broker's resource policy and the SCP, loaded from the templates exactly
 * as deployed, for one member account.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runSimulation, type EvaluationResult } from '@cloud-copilot/iam-simulate';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { brokerExecutionRoleArn, brokerFunctionArn, defaultConfigPath, loadInfraConfig } from '../src/config';
import {
  brokerModePermissionSetPolicy,
  directModePermissionSetPolicy,
  directModeServiceControlPolicy,
} from '../src/policies';
import {
  lambdaResourcePolicyOf,
  rolesOf,
  serviceControlPoliciesOf,
  type CfnTemplate,
  type RolePolicies,
} from '../src/templatePolicies';

const config = loadInfraConfig(defaultConfigPath);
const MEMBER = '222222222222';
const REGION = 'eu-west-1';
const ORG = config.organization.id;
const TAGGED = `arn:aws:ec2:${REGION}:${MEMBER}:instance/i-0a1b2c3d4e5f60001`;
const document = (name: string) => `arn:aws:ssm:${REGION}:${MEMBER}:document/${name}`;
const DEFAULT_DOCUMENT = `arn:aws:ssm:${REGION}:${MEMBER}:document/SSM-SessionManagerRunShell`;

let dir: string;
let target: RolePolicies;
let scp: unknown;
let lambdaPolicy: unknown;

const allowAll = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
const fullAccess = { name: 'FullAWSAccess', policy: allowAll };

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'roleshell-infra-eval-'));
  // @ts-expect-error: plain ESM build script without type declarations
  const { buildBroker } = (await import('../../scripts/build-broker.mjs')) as {
    buildBroker(options: { outDir: string; minify?: boolean }): Promise<unknown>;
  };
  await buildBroker({ outDir: path.join(dir, 'broker'), minify: false });
  const built = buildApp({
    config,
    outdir: path.join(dir, 'cdk.out'),
    brokerBundleDir: path.join(dir, 'broker'),
  });
  const scope = { partition: 'aws', account: MEMBER, region: REGION };
  [target] = rolesOf(Template.fromStack(built.member).toJSON() as CfnTemplate, scope) as [RolePolicies];
  const policies = serviceControlPoliciesOf(Template.fromStack(built.organization).toJSON() as CfnTemplate);
  expect(policies).toHaveLength(1);
  scp = policies[0]!.policy;
  lambdaPolicy = lambdaResourcePolicyOf(
    Template.fromStack(built.broker).toJSON() as CfnTemplate,
    brokerFunctionArn(config),
  );
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Caller {
  /** The session ARN the request is signed with. */
  session: string;
  /** aws:PrincipalArn: the role (or user) behind it. */
  principalArn: string;
  userId: string;
  account: string;
  policies: { name: string; policy: unknown }[];
}

async function evaluate(
  caller: Caller,
  action: string,
  resource: string,
  context: Record<string, string | string[]> = {},
  options: { resourcePolicy?: unknown; resourceAccount?: string; scp?: unknown } = {},
): Promise<EvaluationResult> {
  const result = await runSimulation(
    {
      request: {
        principal: caller.session,
        action,
        resource: { resource, accountId: options.resourceAccount ?? MEMBER },
        contextVariables: {
          'aws:PrincipalArn': caller.principalArn,
          'aws:PrincipalAccount': caller.account,
          'aws:userid': caller.userId,
          'aws:PrincipalOrgID': ORG,
          'aws:RequestedRegion': REGION,
          ...context,
        },
      },
      identityPolicies: caller.policies,
      serviceControlPolicies: [
        { orgIdentifier: 'r-a1b2', policies: [fullAccess] },
        {
          orgIdentifier: config.organization.targetOUs[0]!,
          policies: [fullAccess, { name: 'RoleShell-GuardRails', policy: options.scp ?? scp }],
        },
        { orgIdentifier: caller.account, policies: [fullAccess] },
      ],
      resourceControlPolicies: [],
      ...(options.resourcePolicy ? { resourcePolicy: options.resourcePolicy } : {}),
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
  return result.overallResult;
}

/** StartSession is authorized against the instance and against the document; both must allow. */
async function startSession(
  caller: Caller,
  documentArn: string,
  tag: string | undefined,
  options: { scp?: unknown } = {},
) {
  const onInstance = await evaluate(
    caller,
    'ssm:StartSession',
    TAGGED,
    tag === undefined ? {} : { 'ssm:resourceTag/roleshell:permission-sets': tag },
    options,
  );
  const onDocument = await evaluate(caller, 'ssm:StartSession', documentArn, {}, options);
  return { onInstance, onDocument, allowed: onInstance === 'Allowed' && onDocument === 'Allowed' };
}

const targetRole = (): Caller => ({
  session: `arn:aws:sts::${MEMBER}:assumed-role/RoleShellTarget/alice`,
  principalArn: `arn:aws:iam::${MEMBER}:role/RoleShellTarget`,
  userId: 'AROATARGETROLE000001:alice',
  account: MEMBER,
  policies: target.inlinePolicies,
});
const permissionSetUser = (permissionSet: string, policies: { name: string; policy: unknown }[]): Caller => ({
  session: `arn:aws:sts::${MEMBER}:assumed-role/AWSReservedSSO_${permissionSet}_0123456789abcdef/alice`,
  principalArn: `arn:aws:iam::${MEMBER}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_${permissionSet}_0123456789abcdef`,
  userId: 'AROAPERMISSIONSET001:alice',
  account: MEMBER,
  policies,
});
const accountAdmin: Caller = {
  session: `arn:aws:sts::${MEMBER}:assumed-role/OrganizationAccountAccessRole/admin`,
  principalArn: `arn:aws:iam::${MEMBER}:role/OrganizationAccountAccessRole`,
  userId: 'AROAACCOUNTADMIN0001:admin',
  account: MEMBER,
  policies: [{ name: 'AdministratorAccess', policy: allowAll }],
};

describe('broker mode, as synthesized', () => {
  it("denies a permission-set user's own StartSession with SSM-SessionManagerRunShell on a tagged instance", async () => {
    const user = permissionSetUser('Developer', [
      {
        name: 'AmazonSSMFullAccess',
        policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ssm:*', Resource: '*' }] },
      },
      { name: 'RoleShellBrokerMode', policy: brokerModePermissionSetPolicy(config) },
    ]);
    const result = await startSession(user, DEFAULT_DOCUMENT, 'Developer');
    expect(result.onInstance).toBe('ExplicitlyDenied');
    expect(result.allowed).toBe(false);
  });

  it("denies an account administrator's StartSession by the SCP, with any document", async () => {
    for (const doc of [DEFAULT_DOCUMENT, document('RoleShell-AdministratorAccess')]) {
      const result = await startSession(accountAdmin, doc, 'AdministratorAccess');
      expect(result.onInstance).toBe('ExplicitlyDenied');
    }
    // Untagged instances are not RoleShell's business.
    expect((await startSession(accountAdmin, DEFAULT_DOCUMENT, undefined)).allowed).toBe(true);
  });

  it("lets the broker's target role start a session with a RoleShell document on a tagged instance", async () => {
    for (const permissionSet of Object.keys(config.permissionSets)) {
      expect(
        (await startSession(targetRole(), document(`RoleShell-${permissionSet}`), permissionSet)).allowed,
      ).toBe(true);
    }
  });

  it('denies the target role a non-RoleShell document, and untagged instances', async () => {
    const withDefault = await startSession(targetRole(), DEFAULT_DOCUMENT, 'Developer');
    expect(withDefault.onInstance).toBe('Allowed');
    expect(withDefault.onDocument).toBe('ImplicitlyDenied');
    expect(
      (await startSession(targetRole(), document('AWS-StartPortForwardingSession'), 'Developer')).allowed,
    ).toBe(false);
    expect((await startSession(targetRole(), document('RoleShell-Developer'), undefined)).onInstance).toBe(
      'ImplicitlyDenied',
    );
  });

  it('lets the target role terminate or resume only the sessions it started', async () => {
    const caller = targetRole();
    const session = `arn:aws:ssm:${REGION}:${MEMBER}:session/alice-0123456789abcdef0`;
    for (const action of ['ssm:TerminateSession', 'ssm:ResumeSession']) {
      expect(
        await evaluate(caller, action, session, {
          'ssm:resourceTag/aws:ssmmessages:session-id': caller.userId,
        }),
      ).toBe('Allowed');
      expect(
        await evaluate(caller, action, session, {
          'ssm:resourceTag/aws:ssmmessages:session-id': 'AROASOMEONEELSE00001:bob',
        }),
      ).toBe('ImplicitlyDenied');
    }
  });

  it("lets the target role read Identity Center roles only (an impostor's role at another path is AccessDenied)", async () => {
    const role = (p: string) =>
      `arn:aws:iam::${MEMBER}:role${p}AWSReservedSSO_AdministratorAccess_0123456789abcdef`;
    expect(
      await evaluate(targetRole(), 'iam:GetRole', role('/aws-reserved/sso.amazonaws.com/eu-west-1/')),
    ).toBe('Allowed');
    expect(await evaluate(targetRole(), 'iam:GetRole', role('/'))).toBe('ImplicitlyDenied');
  });

  it('lets only the broker execution role assume the target role, and only with a SourceIdentity', async () => {
    const roleArn = `arn:aws:iam::${MEMBER}:role/RoleShellTarget`;
    const broker: Caller = {
      session: `arn:aws:sts::${config.broker.account}:assumed-role/RoleShellBrokerExecution/roleshell-broker`,
      principalArn: brokerExecutionRoleArn(config),
      userId: 'AROABROKEREXECUTION1:roleshell-broker',
      account: config.broker.account,
      policies: [
        {
          name: 'AssumeMemberTargetRole',
          policy: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Action: ['sts:AssumeRole', 'sts:SetSourceIdentity', 'sts:TagSession'],
                Resource: 'arn:aws:iam::*:role/RoleShellTarget',
                Condition: { StringEquals: { 'aws:ResourceOrgID': ORG } },
              },
            ],
          },
        },
      ],
    };
    const assume = (caller: Caller, context: Record<string, string>) =>
      evaluate(
        caller,
        'sts:AssumeRole',
        roleArn,
        { 'aws:ResourceOrgID': ORG, ...context },
        { resourcePolicy: target.trustPolicy },
      );
    expect(await assume(broker, { 'sts:SourceIdentity': 'alice' })).toBe('Allowed');
    expect(await assume(broker, {})).not.toBe('Allowed');
    const impostor: Caller = {
      ...broker,
      session: `arn:aws:sts::${MEMBER}:assumed-role/RoleShellBrokerExecution/x`,
      principalArn: `arn:aws:iam::${MEMBER}:role/RoleShellBrokerExecution`,
      account: MEMBER,
      policies: [{ name: 'AdministratorAccess', policy: allowAll }],
    };
    // Same name in a member account: not the broker's role, so the trust policy does not apply.
    expect(await assume(impostor, { 'sts:SourceIdentity': 'alice' })).not.toBe('Allowed');
    expect(target.tags.filter((t) => t.Key === 'SSMSessionRunAs')).toEqual([]);
  });

  it('lets organization principals invoke the broker, and nobody outside', async () => {
    const fn = brokerFunctionArn(config);
    const user = permissionSetUser('Developer', [
      { name: 'RoleShellBrokerMode', policy: brokerModePermissionSetPolicy(config) },
    ]);
    expect(
      await evaluate(
        user,
        'lambda:InvokeFunction',
        fn,
        {},
        { resourcePolicy: lambdaPolicy, resourceAccount: config.broker.account },
      ),
    ).toBe('Allowed');
    const outsider: Caller = {
      session: 'arn:aws:sts::999999999999:assumed-role/Attacker/x',
      principalArn: 'arn:aws:iam::999999999999:role/Attacker',
      userId: 'AROAOUTSIDER00000001:x',
      account: '999999999999',
      policies: [{ name: 'AdministratorAccess', policy: allowAll }],
    };
    expect(
      await evaluate(
        outsider,
        'lambda:InvokeFunction',
        fn,
        { 'aws:PrincipalOrgID': 'o-zzzzzzzzzz' },
        { resourcePolicy: lambdaPolicy, resourceAccount: config.broker.account },
      ),
    ).not.toBe('Allowed');
  });
});

describe('direct mode guard rails', () => {
  const directScp = () => directModeServiceControlPolicy(config);
  const developer = () =>
    permissionSetUser('Developer', [
      { name: 'RoleShellDirectMode', policy: directModePermissionSetPolicy(config, 'Developer') },
    ]);

  it('lets a permission set start sessions only with its own document, on instances whose tag lists it', async () => {
    const own = document('RoleShell-Developer');
    for (const tag of ['Developer', 'ReadOnly,Developer', 'Developer,ReadOnly', 'A,Developer,B', '*']) {
      expect((await startSession(developer(), own, tag, { scp: directScp() })).allowed, tag).toBe(true);
    }
    for (const tag of ['ReadOnly', 'Developers', 'NotDeveloper,ReadOnly']) {
      expect((await startSession(developer(), own, tag, { scp: directScp() })).allowed, tag).toBe(false);
    }
    expect(
      (await startSession(developer(), document('RoleShell-ReadOnly'), 'Developer', { scp: directScp() }))
        .allowed,
    ).toBe(false);
  });

  it('binds a permission set with AdministratorAccess to its own document too', async () => {
    const admin = permissionSetUser('AdministratorAccess', [
      { name: 'AdministratorAccess', policy: allowAll },
      { name: 'RoleShellDirectMode', policy: directModePermissionSetPolicy(config, 'AdministratorAccess') },
    ]);
    const withDefault = await startSession(admin, DEFAULT_DOCUMENT, 'AdministratorAccess', {
      scp: directScp(),
    });
    expect(withDefault.onDocument).toBe('ExplicitlyDenied');
    expect(
      (await startSession(admin, document('RoleShell-AdministratorAccess'), '*', { scp: directScp() }))
        .allowed,
    ).toBe(true);
    // Someone who is not a permission-set role is stopped by the direct-mode SCP.
    expect((await startSession(accountAdmin, DEFAULT_DOCUMENT, '*', { scp: directScp() })).onInstance).toBe(
      'ExplicitlyDenied',
    );
  });
});
