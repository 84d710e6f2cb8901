/**
 * The synthesized member template's documents and the broker's generated
 * configuration, loaded into the sandbox; the real broker (bundled, invoked
 * through the sandbox's Lambda) starts and ends sessions with them, and every
 * SSM request the sandbox served is then judged by the real IAM evaluator
 * against the synthesized target-role policy and SCP.
 *
 * What this does not do: the sandbox itself still authorizes with its reduced
 * IAM model (sandbox/src/identity/authorize.ts); here the evaluator judges the
 * requests it served, it does not yet decide them.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { App } from 'aws-cdk-lib';
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
import type { CloudTrailEvent } from '../../sandbox/src/cloudTrail';
import { defaultConfigPath, loadInfraConfig } from '../src/config';
import { brokerModePermissionSetPolicy, brokerModeServiceControlPolicy } from '../src/policies';
import { brokerRuntimeConfig } from '../src/stacks/brokerStack';
import { MemberStack } from '../src/stacks/memberStack';
import { rolesOf, sessionDocumentsOf, type CfnTemplate, type RolePolicies } from '../src/templatePolicies';

const config = loadInfraConfig(defaultConfigPath);
const PROD = '222222222222';
const REGION = 'eu-west-1';
const PROD_WEB_1 = 'i-0a1b2c3d4e5f60001';

let sandbox: Sandbox;
let invoker: BrokerInvoker;
let memberTemplate: CfnTemplate;
let targetRole: RolePolicies;
const alice: Record<string, RoleCredentials> = {};

beforeAll(async () => {
  // The member template exactly as the StackSet carries it (the same stack class and configuration).
  memberTemplate = Template.fromStack(
    new MemberStack(new App({ analyticsReporting: false }), 'RoleShellMember', { config }),
  ).toJSON() as CfnTemplate;
  [targetRole] = rolesOf(memberTemplate, { partition: 'aws', account: PROD, region: REGION }) as [
    RolePolicies,
  ];
  const documents = sessionDocumentsOf(memberTemplate);
  const { org } = loadOrg();
  const members = org.accounts.filter((a) => a.member !== false).map((a) => a.id);
  const broker = org.functions.find((f) => f.name === config.broker.functionName)!;
  sandbox = await startSandbox({
    org: {
      ...org,
      sessionDocuments: Object.entries(documents).map(([name, content]) => ({
        name,
        accounts: members,
        content,
      })),
      functions: [
        {
          ...broker,
          environment: {
            ...broker.environment,
            // As deployed, plus the sandbox's own STS (on AWS the broker allows only AWS's).
            ROLESHELL_BROKER_CONFIG: JSON.stringify({
              ...brokerRuntimeConfig(config),
              extraStsEndpoints: ['${SANDBOX_ENDPOINT}'],
            }),
          },
        },
      ],
    } as OrgFile,
  });
  invoker = new BrokerInvoker(sandbox);
  const token = await signIn(sandbox, 'alice');
  for (const permissionSet of Object.keys(config.permissionSets)) {
    alice[permissionSet] = await roleCredentials(sandbox, token, PROD, permissionSet);
  }
}, 120_000);

afterAll(async () => {
  invoker?.destroy();
  await sandbox?.close();
});

const allowAll = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };

/** Judges one request the sandbox served, as the member account's IAM would. */
async function judge(
  event: CloudTrailEvent,
  action: string,
  resource: string,
  identityPolicies: { name: string; policy: unknown }[],
  context: Record<string, string> = {},
) {
  const issuer = event.userIdentity.sessionContext!.sessionIssuer;
  const result = await runSimulation(
    {
      request: {
        principal: event.userIdentity.arn!,
        action,
        resource: { resource, accountId: PROD },
        contextVariables: {
          'aws:PrincipalArn': issuer.arn,
          'aws:PrincipalAccount': PROD,
          'aws:userid': event.userIdentity.principalId!,
          'aws:PrincipalOrgID': config.organization.id,
          'aws:RequestedRegion': event.awsRegion,
          ...context,
        },
      },
      identityPolicies,
      serviceControlPolicies: [
        { orgIdentifier: 'r-a1b2', policies: [{ name: 'FullAWSAccess', policy: allowAll }] },
        {
          orgIdentifier: config.organization.targetOUs[0]!,
          policies: [
            { name: 'FullAWSAccess', policy: allowAll },
            { name: 'RoleShell-GuardRails', policy: brokerModeServiceControlPolicy(config) },
          ],
        },
        { orgIdentifier: PROD, policies: [{ name: 'FullAWSAccess', policy: allowAll }] },
      ],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
  return result.overallResult;
}

function ssmEvents(name: string): CloudTrailEvent[] {
  return sandbox.cloudTrail().filter((e) => e.eventSource === 'ssm.amazonaws.com' && e.eventName === name);
}

const instanceTag = (instanceId: string) =>
  sandbox.org.instances.find((i) => i.id === instanceId)!.tags['roleshell:permission-sets']!;

describe('the synthesized deployment in the sandbox', () => {
  it('starts each permission set’s session as its Linux user with the synthesized documents, every request allowed by the synthesized policies', async () => {
    for (const [permissionSet, { linuxUser }] of Object.entries(config.permissionSets)) {
      const response = await invoker.call(alice[permissionSet]!, {
        action: 'startSession',
        region: REGION,
        instanceId: PROD_WEB_1,
      });
      if (!response.ok) throw new Error(`${permissionSet}: ${response.error.code} ${response.error.message}`);
      const { session, documentName, linuxUser: reported } = response as StartSessionResult;
      expect(documentName).toBe(`RoleShell-${permissionSet}`);
      expect(reported).toBe(linuxUser);
      expect(sandbox.sessions.get(session.SessionId)!.runAsUser).toBe(linuxUser);
      const ended = await invoker.call(alice[permissionSet]!, {
        action: 'terminateSession',
        region: REGION,
        sessionId: session.SessionId,
      });
      expect(ended.ok).toBe(true);
    }

    const started = ssmEvents('StartSession').filter((e) => !e.errorCode);
    expect(started).toHaveLength(Object.keys(config.permissionSets).length);
    for (const event of started) {
      expect(event.userIdentity.sessionContext!.sessionIssuer.userName).toBe('RoleShellTarget');
      const { target, documentName } = event.requestParameters as { target: string; documentName: string };
      const instanceArn = `arn:aws:ec2:${REGION}:${PROD}:instance/${target}`;
      const documentArn = `arn:aws:ssm:${REGION}:${PROD}:document/${documentName}`;
      const tag = { 'ssm:resourceTag/roleshell:permission-sets': instanceTag(target) };
      expect(await judge(event, 'ssm:StartSession', instanceArn, targetRole.inlinePolicies, tag)).toBe(
        'Allowed',
      );
      expect(await judge(event, 'ssm:StartSession', documentArn, targetRole.inlinePolicies)).toBe('Allowed');
      // The same caller with the default document would not have been.
      const defaultArn = `arn:aws:ssm:${REGION}:${PROD}:document/SSM-SessionManagerRunShell`;
      expect(await judge(event, 'ssm:StartSession', defaultArn, targetRole.inlinePolicies)).toBe(
        'ImplicitlyDenied',
      );
    }

    const terminated = ssmEvents('TerminateSession').filter((e) => !e.errorCode);
    expect(terminated).toHaveLength(started.length);
    for (const event of terminated) {
      const { sessionId } = event.requestParameters as { sessionId: string };
      const sessionArn = `arn:aws:ssm:${REGION}:${PROD}:session/${sessionId}`;
      // SSM tags each session with its starter's aws:userid; the broker ends sessions as the same role session.
      const owner = started.find(
        (s) => (s.responseElements as { sessionId: string }).sessionId === sessionId,
      )!;
      const ownTag = { 'ssm:resourceTag/aws:ssmmessages:session-id': owner.userIdentity.principalId! };
      expect(await judge(event, 'ssm:TerminateSession', sessionArn, targetRole.inlinePolicies, ownTag)).toBe(
        'Allowed',
      );
      const otherTag = { 'ssm:resourceTag/aws:ssmmessages:session-id': 'AROAOTHERROLE0000001:bob' };
      expect(
        await judge(event, 'ssm:TerminateSession', sessionArn, targetRole.inlinePolicies, otherTag),
      ).toBe('ImplicitlyDenied');
    }
  });

  it('judges a permission-set user’s own StartSession with the default document as denied (guard rail and SCP)', async () => {
    const { SSMClient, StartSessionCommand } = await import('@aws-sdk/client-ssm');
    const ssm = new SSMClient({ region: REGION, endpoint: sandbox.endpoint, credentials: alice.Developer! });
    try {
      await ssm.send(
        new StartSessionCommand({ Target: PROD_WEB_1, DocumentName: 'SSM-SessionManagerRunShell' }),
      );
    } catch {
      // Whatever the sandbox's reduced model answered, the request is on record.
    } finally {
      ssm.destroy();
    }
    const event = ssmEvents('StartSession').find(
      (e) => (e.requestParameters as { documentName?: string }).documentName === 'SSM-SessionManagerRunShell',
    )!;
    expect(event.userIdentity.arn).toContain('assumed-role/AWSReservedSSO_Developer_');
    const policies = [
      {
        name: 'AmazonSSMFullAccess',
        policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ssm:*', Resource: '*' }] },
      },
      { name: 'RoleShellBrokerMode', policy: brokerModePermissionSetPolicy(config) },
    ];
    const instanceArn = `arn:aws:ec2:${REGION}:${PROD}:instance/${PROD_WEB_1}`;
    const tag = { 'ssm:resourceTag/roleshell:permission-sets': instanceTag(PROD_WEB_1) };
    expect(await judge(event, 'ssm:StartSession', instanceArn, policies, tag)).toBe('ExplicitlyDenied');
  });
});
