/**
 * The synthesized deployment enforced by the sandbox: the member template's
 * session documents and target-role policy, the broker's Lambda resource
 * policy and the SCP, read from the synthesized templates and given to the
 * sandbox (its `iamPolicies` option), which judges every call it serves
 * against them with a real IAM evaluator (@cloud-copilot/iam-simulate). The real broker (bundled, invoked through the
 * sandbox's Lambda) runs its end-to-end flow against it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SSMClient, StartSessionCommand, TerminateSessionCommand } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import {
  GetResourcesCommand,
  ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BrokerInvoker,
  roleCredentials,
  signIn,
  type RoleCredentials,
} from '../../broker/src/fixtures/sandboxCaller';
import type { StartSessionResult } from '../../broker/src/contract';
import { loadOrg, startSandbox, type OrgFile, type Sandbox } from '../../sandbox/src/index';
import { buildApp } from '../src/app';
import { brokerFunctionArn, defaultConfigPath, loadInfraConfig } from '../src/config';
import { brokerModePermissionSetPolicy } from '../src/policies';
import { brokerRuntimeConfig } from '../src/stacks/brokerStack';
import {
  lambdaResourcePolicyOf,
  rolesOf,
  serviceControlPoliciesOf,
  sessionDocumentsOf,
  type CfnTemplate,
} from '../src/templatePolicies';

const config = loadInfraConfig(defaultConfigPath);
const CENTRAL = config.broker.account;
const PROD = '222222222222';
const REGION = 'eu-west-1';
const PROD_WEB_1 = 'i-0a1b2c3d4e5f60001'; // tagged for all four permission sets

let dir: string;
let sandbox: Sandbox;
let invoker: BrokerInvoker;
const logLines: string[] = [];
const alice: Record<string, RoleCredentials> = {};

const allow = (actions: string[]) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }],
});

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'roleshell-infra-sandbox-'));
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
  const member = Template.fromStack(built.member).toJSON() as CfnTemplate;
  const organization = Template.fromStack(built.organization).toJSON() as CfnTemplate;
  const broker = Template.fromStack(built.broker).toJSON() as CfnTemplate;

  // The target role's policy is written with ${AWS::AccountId}; the sandbox's member accounts all
  // carry it, and this test's calls are in prod-workloads.
  const [target] = rolesOf(member, { partition: 'aws', account: PROD, region: REGION });
  const [execution] = rolesOf(broker, { partition: 'aws', account: CENTRAL, region: config.broker.region });
  const { org } = loadOrg();
  const members = org.accounts.filter((a) => a.member !== false).map((a) => a.id);
  const brokerFunction = org.functions.find((f) => f.name === config.broker.functionName)!;
  // Stand-ins for the permission sets' AWS-managed policies, plus guard rail (a) from the synthesized JSON.
  const guardRail = brokerModePermissionSetPolicy(config);
  const managed = (permissionSet: string) =>
    permissionSet === 'AdministratorAccess'
      ? allow(['*'])
      : allow(['ssm:*', 'ec2:Describe*', 'lambda:InvokeFunction', 'sts:GetCallerIdentity', 'sts:AssumeRole']);

  sandbox = await startSandbox({
    // Both of iam-simulate's engines judge every call, and must agree.
    iamCrossCheck: true,
    log: (line) => logLines.push(line),
    org: {
      ...org,
      sessionDocuments: Object.entries(sessionDocumentsOf(member)).map(([name, content]) => ({
        name,
        accounts: members,
        content,
      })),
      roles: [
        ...org.roles,
        {
          name: 'AccountAdmin',
          accounts: [PROD],
          description: "An account administrator's own role",
          trust: { principals: [PROD] },
          // Its AdministratorAccess is given in iamPolicies below.
        },
      ],
      functions: [
        {
          ...brokerFunction,
          environment: {
            ...brokerFunction.environment,
            // As deployed, plus the sandbox's own STS (on AWS the broker allows only AWS's).
            ROLESHELL_BROKER_CONFIG: JSON.stringify({
              ...brokerRuntimeConfig(config),
              extraStsEndpoints: ['${SANDBOX_ENDPOINT}'],
            }),
          },
        },
        // Hands out the broker execution role's credentials, to act as the broker would.
        {
          name: 'execution-credentials',
          account: CENTRAL,
          region: REGION,
          module: 'broker/src/fixtures/executionCredentialsFunction.ts',
          handler: 'handler',
          role: config.broker.executionRoleName,
          invokers: ['org'],
        },
      ],
    } as OrgFile,
    iamPolicies: {
      organizationId: config.organization.id,
      rolePolicies: {
        [target!.roleName]: target!.inlinePolicies.map((p) => p.policy as Record<string, unknown>),
        [execution!.roleName]: execution!.inlinePolicies.map((p) => p.policy as Record<string, unknown>),
        AccountAdmin: [allow(['*'])],
      },
      roleTrustPolicies: { [target!.roleName]: target!.trustPolicy as Record<string, unknown> },
      permissionSetPolicies: Object.fromEntries(
        Object.keys(config.permissionSets).map((ps) => [
          ps,
          [managed(ps), guardRail as unknown as Record<string, unknown>],
        ]),
      ),
      serviceControlPolicies: serviceControlPoliciesOf(organization).map(
        (p) => p.policy as Record<string, unknown>,
      ),
      functionResourcePolicies: {
        [config.broker.functionName]: lambdaResourcePolicyOf(broker, brokerFunctionArn(config)) as Record<
          string,
          unknown
        >,
      },
    },
  });
  invoker = new BrokerInvoker(sandbox);
  const token = await signIn(sandbox, 'alice');
  for (const permissionSet of Object.keys(config.permissionSets)) {
    alice[permissionSet] = await roleCredentials(sandbox, token, PROD, permissionSet);
  }
}, 180_000);

afterAll(async () => {
  invoker?.destroy();
  await sandbox?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function ssm(credentials: RoleCredentials) {
  return new SSMClient({ region: REGION, endpoint: sandbox.endpoint, credentials, maxAttempts: 1 });
}

async function assumeRole(credentials: RoleCredentials, roleArn: string, sourceIdentity?: string) {
  const sts = new STSClient({ region: REGION, endpoint: sandbox.endpoint, credentials });
  try {
    const { Credentials: c } = await sts.send(
      new AssumeRoleCommand({
        RoleArn: roleArn,
        RoleSessionName: sourceIdentity ?? 'admin',
        ...(sourceIdentity ? { SourceIdentity: sourceIdentity } : {}),
      }),
    );
    return {
      accessKeyId: c!.AccessKeyId!,
      secretAccessKey: c!.SecretAccessKey!,
      sessionToken: c!.SessionToken!,
    };
  } finally {
    sts.destroy();
  }
}

/** The broker's target role in prod-workloads, assumed as the broker does (execution role, SourceIdentity). */
async function targetRoleAs(user: string): Promise<RoleCredentials> {
  const lambda = new LambdaClient({
    region: REGION,
    endpoint: sandbox.endpoint,
    credentials: alice.Developer!,
  });
  try {
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: `arn:aws:lambda:${REGION}:${CENTRAL}:function:execution-credentials`,
      }),
    );
    const execution = JSON.parse(new TextDecoder().decode(out.Payload)) as RoleCredentials;
    return await assumeRole(execution, `arn:aws:iam::${PROD}:role/${config.member.targetRoleName}`, user);
  } finally {
    lambda.destroy();
  }
}

async function startDirectly(credentials: RoleCredentials, documentName: string) {
  const client = ssm(credentials);
  try {
    return await client.send(new StartSessionCommand({ Target: PROD_WEB_1, DocumentName: documentName }));
  } finally {
    client.destroy();
  }
}

async function startThroughBroker(permissionSet: string): Promise<StartSessionResult> {
  const response = await invoker.call(alice[permissionSet]!, {
    action: 'startSession',
    region: REGION,
    instanceId: PROD_WEB_1,
  });
  if (!response.ok) throw new Error(`${permissionSet}: ${response.error.code} ${response.error.message}`);
  return response as StartSessionResult;
}

describe('the synthesized deployment, enforced by the sandbox', () => {
  it("works end to end through the broker: each permission set's session runs as its own Linux user", async () => {
    for (const [permissionSet, { linuxUser }] of Object.entries(config.permissionSets)) {
      const { session, documentName, linuxUser: reported } = await startThroughBroker(permissionSet);
      expect(documentName).toBe(`RoleShell-${permissionSet}`);
      expect(reported).toBe(linuxUser);
      expect(sandbox.sessions.get(session.SessionId)!.runAsUser).toBe(linuxUser);
      const ended = await invoker.call(alice[permissionSet]!, {
        action: 'terminateSession',
        region: REGION,
        sessionId: session.SessionId,
      });
      expect(ended).toEqual({ ok: true, sessionId: session.SessionId });
    }
  });

  it("denies a permission-set user's own StartSession with SSM-SessionManagerRunShell (guard rail and SCP)", async () => {
    for (const permissionSet of ['Developer', 'AdministratorAccess']) {
      const error = await startDirectly(alice[permissionSet]!, 'SSM-SessionManagerRunShell').catch(
        (e: Error) => e,
      );
      expect(error).toMatchObject({ name: 'AccessDeniedException' });
      expect((error as Error).message).toContain('ssm:StartSession');
      expect((error as Error).message).toContain('with an explicit deny');
    }
  });

  it("denies an account administrator's StartSession by the SCP, whatever the document", async () => {
    const admin = await assumeRole(alice.Developer!, `arn:aws:iam::${PROD}:role/AccountAdmin`);
    for (const documentName of ['SSM-SessionManagerRunShell', 'RoleShell-AdministratorAccess']) {
      const error = await startDirectly(admin, documentName).catch((e: Error) => e);
      expect(error).toMatchObject({ name: 'AccessDeniedException' });
      expect((error as Error).message).toContain(`instance/${PROD_WEB_1} with an explicit deny`);
    }
  });

  it('denies the target role a non-RoleShell document', async () => {
    const target = await targetRoleAs('mallory');
    const error = await startDirectly(target, 'SSM-SessionManagerRunShell').catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'AccessDeniedException' });
    expect((error as Error).message).toContain(
      'document/SSM-SessionManagerRunShell because no identity-based policy allows the ssm:StartSession action',
    );
    // With a RoleShell document the same role session may.
    const own = await startDirectly(target, 'RoleShell-Developer');
    expect(sandbox.sessions.get(own.SessionId!)!.runAsUser).toBe('developer');
  });

  it('lets only the broker execution role assume the target role, and only with a SourceIdentity', async () => {
    // The broker's own AssumeRole (with SourceIdentity) passed the synthesized trust policy in every test above.
    const lambda = new LambdaClient({
      region: REGION,
      endpoint: sandbox.endpoint,
      credentials: alice.Developer!,
    });
    let execution: RoleCredentials;
    try {
      const out = await lambda.send(
        new InvokeCommand({
          FunctionName: `arn:aws:lambda:${REGION}:${CENTRAL}:function:execution-credentials`,
        }),
      );
      execution = JSON.parse(new TextDecoder().decode(out.Payload)) as RoleCredentials;
    } finally {
      lambda.destroy();
    }
    const targetArn = `arn:aws:iam::${PROD}:role/${config.member.targetRoleName}`;
    const withoutSourceIdentity = await assumeRole(execution, targetArn).catch((e: Error) => e);
    expect(withoutSourceIdentity).toMatchObject({ name: 'AccessDenied' });
    expect((withoutSourceIdentity as Error).message).toContain('sts:AssumeRole');
    // An account administrator in the member account is not trusted, SourceIdentity or not.
    const admin = await assumeRole(alice.Developer!, `arn:aws:iam::${PROD}:role/AccountAdmin`);
    expect(await assumeRole(admin, targetArn, 'alice').catch((e: Error) => e)).toMatchObject({
      name: 'AccessDenied',
    });
  });

  it("lists targets through the broker: tags from tag:GetResources, only in the broker's regions", async () => {
    const listed = await invoker.call(alice.Developer!, { action: 'listTargets', region: REGION });
    expect(listed).toMatchObject({ ok: true });
    expect(JSON.stringify(listed)).toContain(PROD_WEB_1);
    const target = await targetRoleAs('mallory');
    const tagging = (region: string) =>
      new ResourceGroupsTaggingAPIClient({
        region,
        endpoint: sandbox.endpoint,
        credentials: target,
        maxAttempts: 1,
      });
    const inRegion = tagging(REGION);
    const elsewhere = tagging('ap-southeast-2');
    try {
      const { ResourceTagMappingList } = await inRegion.send(new GetResourcesCommand({}));
      expect(ResourceTagMappingList?.map((r) => r.ResourceARN)).toContain(
        `arn:aws:ec2:${REGION}:${PROD}:instance/${PROD_WEB_1}`,
      );
      const error = await elsewhere.send(new GetResourcesCommand({})).catch((e: Error) => e);
      expect(error).toMatchObject({ name: 'AccessDeniedException' });
      expect((error as Error).message).toContain('tag:GetResources');
    } finally {
      inRegion.destroy();
      elsewhere.destroy();
    }
  });

  it('refuses an impostor role (IdC name, path /) as IdentityRejected: IAM denies the target role GetRole on it', async () => {
    const IMPOSTOR = 'AWSReservedSSO_AdministratorAccess_0123456789abcdef';
    // Anyone in prod-workloads may assume it, under any session name: "alice" makes it look like hers.
    const sts = new STSClient({ region: REGION, endpoint: sandbox.endpoint, credentials: alice.Developer! });
    let impostor: RoleCredentials;
    try {
      const { Credentials: c } = await sts.send(
        new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${PROD}:role/${IMPOSTOR}`, RoleSessionName: 'alice' }),
      );
      impostor = {
        accessKeyId: c!.AccessKeyId!,
        secretAccessKey: c!.SecretAccessKey!,
        sessionToken: c!.SessionToken!,
      };
    } finally {
      sts.destroy();
    }
    const auditBefore = logLines.length;
    const response = await invoker.call(impostor, {
      action: 'startSession',
      region: REGION,
      instanceId: PROD_WEB_1,
    });
    expect(response).toEqual({ ok: false, error: { code: 'IdentityRejected', message: expect.any(String) } });
    const audit = logLines
      .slice(auditBefore)
      .map((line) => /^\[lambda roleshell-broker\] (\{"audit":"roleshell-broker".*)$/.exec(line)?.[1])
      .filter((json): json is string => json !== undefined)
      .map((json) => JSON.parse(json) as Record<string, unknown>);
    expect(audit).toEqual([
      expect.objectContaining({
        outcome: 'denied',
        code: 'IdentityRejected',
        user: 'alice',
        permissionSet: 'AdministratorAccess',
        reason: expect.stringMatching(/denied the target role iam:GetRole/),
      }),
    ]);
    // Real IAM's answer, as the sandbox recorded it: the synthesized policy reads only IdC's path.
    const getRole = sandbox
      .cloudTrail()
      .filter(
        (e) =>
          e.eventName === 'GetRole' &&
          (e.requestParameters as { roleName?: string } | null)?.roleName === IMPOSTOR,
      );
    expect(getRole).toHaveLength(1);
    expect(getRole[0]!.errorCode).toBe('AccessDenied');
  });

  it('lets the target role terminate only the sessions its own role session started', async () => {
    const alicesSession = (await startThroughBroker('ReadOnly')).session.SessionId;
    const mallory = await targetRoleAs('mallory');
    const client = ssm(mallory);
    try {
      const error = await client
        .send(new TerminateSessionCommand({ SessionId: alicesSession }))
        .catch((e: Error) => e);
      expect(error).toMatchObject({ name: 'AccessDeniedException' });
      expect(sandbox.sessions.get(alicesSession)!.status).not.toBe('Terminated');
      const own = await startDirectly(mallory, 'RoleShell-ReadOnly');
      await expect(
        client.send(new TerminateSessionCommand({ SessionId: own.SessionId! })),
      ).resolves.toMatchObject({
        SessionId: own.SessionId,
      });
    } finally {
      client.destroy();
    }
    // The broker, acting for alice, still ends hers.
    expect(
      await invoker.call(alice.ReadOnly!, {
        action: 'terminateSession',
        region: REGION,
        sessionId: alicesSession,
      }),
    ).toEqual({ ok: true, sessionId: alicesSession });
  });
});
