import {
  DescribeInstanceInformationCommand,
  DescribeSessionsCommand,
  GetDocumentCommand,
  ResumeSessionCommand,
  SSMClient,
  StartSessionCommand,
  TerminateSessionCommand,
  paginateDescribeInstanceInformation,
} from '@aws-sdk/client-ssm';
import type { AwsCredentialIdentity } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateOrg } from '../org';
import { startSandbox, type Sandbox } from '../index';
import { defaultOrgWith } from '../testing/orgs';
import { PROD, testRoles } from '../testing/roles';
import { assumeRole, clientConfig, permissionSetCredentials, signIn } from '../testing/sdk';

const WEB_1 = 'i-0a1b2c3d4e5f60001'; // tagged for all four permission sets
const DB_1 = 'i-0a1b2c3d4e5f60003'; // AdministratorAccess only
const LEGACY = 'i-0a1b2c3d4e5f60004'; // ConnectionLost
const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: Error) => e,
  );

describe('ssm sessions', () => {
  let sandbox: Sandbox;
  let developer: AwsCredentialIdentity;
  let bobReadOnly: AwsCredentialIdentity;
  let aliceReadOnly: AwsCredentialIdentity;
  beforeAll(async () => {
    sandbox = await startSandbox({ org: defaultOrgWith({ roles: testRoles }) });
    const { accessToken } = await signIn(sandbox, undefined, 'alice');
    developer = await permissionSetCredentials(sandbox, accessToken, PROD, 'Developer');
    aliceReadOnly = await permissionSetCredentials(sandbox, accessToken, PROD, 'ReadOnly');
  });
  afterAll(() => sandbox.close());
  const ssm = (c: AwsCredentialIdentity, region = 'eu-west-1') =>
    new SSMClient(clientConfig(sandbox, region, c));
  const chain = (RoleSessionName: string, tags?: Record<string, string>, role = 'ChainTarget') =>
    assumeRole(sandbox, developer, {
      RoleArn: `arn:aws:iam::${PROD}:role/${role}`,
      RoleSessionName,
      ...(tags ? { Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) } : {}),
    });
  const runAsOf = (sessionId?: string) => sandbox.sessions.get(sessionId!)?.runAsUser;

  it('starts a session as the document’s runAsDefaultUser, with an ID starting with the role session name', async () => {
    const out = await ssm(developer).send(
      new StartSessionCommand({
        Target: WEB_1,
        DocumentName: 'RoleShell-Developer',
        Reason: 'RoleShell for alice via Developer',
      }),
    );
    expect(out.SessionId).toMatch(/^alice-[0-9a-f]{17}$/);
    expect(out.StreamUrl).toBe(
      `${sandbox.endpoint.replace('http', 'ws')}/v1/data-channel/${out.SessionId}?role=publish_subscribe`,
    );
    expect(out.TokenValue!.length).toBeGreaterThan(64);
    const session = sandbox.sessions.get(out.SessionId!)!;
    expect(session).toMatchObject({
      runAsUser: 'developer',
      target: WEB_1,
      accountId: PROD,
      region: 'eu-west-1',
      reason: 'RoleShell for alice via Developer',
      tokens: [out.TokenValue],
    });
    expect(session.inputs.runAsDefaultUser).toBe('developer');
  });

  it('lets an SSMSessionRunAs session tag win over runAsDefaultUser', async () => {
    const creds = await chain('alice', { SSMSessionRunAs: 'tagged-user' });
    const out = await ssm(creds).send(
      new StartSessionCommand({ Target: WEB_1, DocumentName: 'RoleShell-ReadOnly' }),
    );
    expect(runAsOf(out.SessionId)).toBe('tagged-user');
  });

  it('uses the role’s SSMSessionRunAs tag, and a session tag over the role tag', async () => {
    const roleTagged = await chain('alice', undefined, 'TaggedRunAs');
    const a = await ssm(roleTagged).send(
      new StartSessionCommand({ Target: WEB_1, DocumentName: 'RoleShell-ReadOnly' }),
    );
    expect(runAsOf(a.SessionId)).toBe('role-tag-user');
    const both = await chain('alice', { SSMSessionRunAs: 'session-user' }, 'TaggedRunAs');
    const b = await ssm(both).send(
      new StartSessionCommand({ Target: WEB_1, DocumentName: 'RoleShell-ReadOnly' }),
    );
    expect(runAsOf(b.SessionId)).toBe('session-user');
  });

  it('never runs as root', async () => {
    const creds = await chain('alice', { SSMSessionRunAs: 'root' });
    const err = await errorOf(
      ssm(creds).send(new StartSessionCommand({ Target: WEB_1, DocumentName: 'RoleShell-ReadOnly' })),
    );
    expect(err?.name).toBe('AccessDeniedException');
  });

  it('runs as ssm-user with the default document (Run As disabled)', async () => {
    const creds = await chain('alice');
    const out = await ssm(creds).send(new StartSessionCommand({ Target: WEB_1 }));
    expect(sandbox.sessions.get(out.SessionId!)?.documentName).toBe('SSM-SessionManagerRunShell');
    expect(runAsOf(out.SessionId)).toBe('ssm-user');
  });

  it('answers TargetNotConnected for offline and unknown instances', async () => {
    const creds = await chain('alice');
    for (const Target of [LEGACY, 'i-0fffffffffffffff0']) {
      const err = await errorOf(
        ssm(creds).send(new StartSessionCommand({ Target, DocumentName: 'RoleShell-ReadOnly' })),
      );
      expect(err?.name, Target).toBe('TargetNotConnected');
    }
  });

  it('answers InvalidDocument for a document the account does not have', async () => {
    const creds = await chain('alice');
    const err = await errorOf(
      ssm(creds).send(new StartSessionCommand({ Target: WEB_1, DocumentName: 'RoleShell-Nope' })),
    );
    expect(err?.name).toBe('InvalidDocument');
  });

  it('lets a permission set use only the documents its policy names, on instances tagged for it', async () => {
    const wrongDoc = await errorOf(
      ssm(developer).send(
        new StartSessionCommand({ Target: WEB_1, DocumentName: 'RoleShell-AdministratorAccess' }),
      ),
    );
    expect(wrongDoc?.name).toBe('AccessDeniedException');
    expect(wrongDoc?.message).toContain(':document/RoleShell-AdministratorAccess');
    const defaultDoc = await errorOf(ssm(developer).send(new StartSessionCommand({ Target: WEB_1 })));
    expect(defaultDoc?.name).toBe('AccessDeniedException');
    const untagged = await errorOf(
      ssm(developer).send(new StartSessionCommand({ Target: DB_1, DocumentName: 'RoleShell-Developer' })),
    );
    expect(untagged?.name).toBe('AccessDeniedException');
    expect(untagged?.message).toContain(`:instance/${DB_1}`);
  });

  it('validates Reason', async () => {
    const err = await errorOf(
      ssm(developer).send(
        new StartSessionCommand({
          Target: WEB_1,
          DocumentName: 'RoleShell-Developer',
          Reason: 'x'.repeat(257),
        }),
      ),
    );
    expect(err?.name).toBe('ValidationException');
  });

  it('terminates, resumes and describes sessions; a permission set ends only its own', async () => {
    const mine = await ssm(aliceReadOnly).send(
      new StartSessionCommand({ Target: WEB_1, DocumentName: 'RoleShell-ReadOnly' }),
    );
    const resumed = await ssm(aliceReadOnly).send(new ResumeSessionCommand({ SessionId: mine.SessionId }));
    expect(resumed.SessionId).toBe(mine.SessionId);
    expect(resumed.TokenValue).not.toBe(mine.TokenValue);
    expect(sandbox.sessions.get(mine.SessionId!)?.tokens).toEqual([mine.TokenValue, resumed.TokenValue]);

    // Another user's permission-set session may not end it.
    const bob = await signIn(sandbox, undefined, 'bob');
    bobReadOnly = await permissionSetCredentials(sandbox, bob.accessToken, PROD, 'ReadOnly');
    const foreign = await errorOf(
      ssm(bobReadOnly).send(new TerminateSessionCommand({ SessionId: mine.SessionId })),
    );
    expect(foreign?.name).toBe('AccessDeniedException');

    const active = await ssm(aliceReadOnly).send(
      new DescribeSessionsCommand({
        State: 'Active',
        Filters: [{ key: 'SessionId', value: mine.SessionId }],
      }),
    );
    expect(active.Sessions).toHaveLength(1);
    expect(active.Sessions![0]).toMatchObject({
      SessionId: mine.SessionId,
      Target: WEB_1,
      DocumentName: 'RoleShell-ReadOnly',
      Owner: expect.stringMatching(/assumed-role\/AWSReservedSSO_ReadOnly_[0-9a-f]{16}\/alice$/),
    });
    expect(active.Sessions![0]!.StartDate).toBeInstanceOf(Date);

    const ended = await ssm(aliceReadOnly).send(new TerminateSessionCommand({ SessionId: mine.SessionId }));
    expect(ended.SessionId).toBe(mine.SessionId);
    expect(sandbox.sessions.get(mine.SessionId!)?.status).toBe('Terminated');
    const history = await ssm(aliceReadOnly).send(
      new DescribeSessionsCommand({ State: 'History', Filters: [{ key: 'Target', value: WEB_1 }] }),
    );
    expect(history.Sessions!.map((s) => s.SessionId)).toContain(mine.SessionId);
    expect(history.Sessions!.find((s) => s.SessionId === mine.SessionId)?.Status).toBe('Terminated');
    const resumeEnded = await errorOf(
      ssm(aliceReadOnly).send(new ResumeSessionCommand({ SessionId: mine.SessionId })),
    );
    expect(resumeEnded?.name).toBe('DoesNotExistException');
    const unknown = await errorOf(
      ssm(aliceReadOnly).send(new TerminateSessionCommand({ SessionId: 'alice-00000000000000000' })),
    );
    // IAM judges first: a session that does not exist carries no owner tag, so the permission
    // set's own-sessions condition cannot match (a role allowed every session gets DoesNotExist).
    expect(unknown?.name).toBe('AccessDeniedException');
    const badFilter = await errorOf(
      ssm(aliceReadOnly).send(
        new DescribeSessionsCommand({ State: 'Active', Filters: [{ key: 'Nope' as 'Target', value: 'x' }] }),
      ),
    );
    expect(badFilter?.name).toBe('InvalidFilterKey');
  });

  it('returns session documents as AWS does', async () => {
    const doc = await ssm(developer).send(new GetDocumentCommand({ Name: 'RoleShell-Developer' }));
    expect(doc).toMatchObject({
      Name: 'RoleShell-Developer',
      DocumentType: 'Session',
      DocumentFormat: 'JSON',
      DocumentVersion: '1',
    });
    const content = JSON.parse(doc.Content!);
    expect(content).toMatchObject({
      schemaVersion: '1.0',
      sessionType: 'Standard_Stream',
      inputs: { runAsEnabled: true, runAsDefaultUser: 'developer' },
    });
    const yaml = await ssm(developer).send(
      new GetDocumentCommand({ Name: 'RoleShell-Developer', DocumentFormat: 'YAML' }),
    );
    expect(yaml.Content).toContain('runAsDefaultUser: developer');
    const missing = await errorOf(ssm(developer).send(new GetDocumentCommand({ Name: 'RoleShell-Nope' })));
    expect(missing?.name).toBe('InvalidDocument');
  });

  it('filters DescribeInstanceInformation by tag, PingStatus and instance ID, per region', async () => {
    const c = ssm(developer);
    const all = await c.send(new DescribeInstanceInformationCommand({}));
    expect(all.InstanceInformationList!.map((i) => i.InstanceId).sort()).toEqual([
      'i-0a1b2c3d4e5f60001',
      'i-0a1b2c3d4e5f60002',
      'i-0a1b2c3d4e5f60003',
      'i-0a1b2c3d4e5f60004',
    ]);
    const lost = await c.send(
      new DescribeInstanceInformationCommand({
        Filters: [{ Key: 'PingStatus', Values: ['ConnectionLost'] }],
      }),
    );
    expect(lost.InstanceInformationList!.map((i) => i.InstanceId)).toEqual([LEGACY]);
    const data = await c.send(
      new DescribeInstanceInformationCommand({ Filters: [{ Key: 'tag:Team', Values: ['data'] }] }),
    );
    expect(data.InstanceInformationList!.map((i) => i.InstanceId)).toEqual([DB_1]);
    const byId = await c.send(
      new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [WEB_1] }] }),
    );
    expect(byId.InstanceInformationList).toHaveLength(1);
    expect(byId.InstanceInformationList![0]).toMatchObject({
      PlatformType: 'Linux',
      ResourceType: 'EC2Instance',
      PingStatus: 'Online',
    });
    const useast = await ssm(developer, 'us-east-1').send(new DescribeInstanceInformationCommand({}));
    expect(useast.InstanceInformationList!.map((i) => i.InstanceId)).toEqual(['i-0a1b2c3d4e5f60005']);
    const mixed = await errorOf(
      c.send(
        new DescribeInstanceInformationCommand({
          Filters: [
            { Key: 'tag:Team', Values: ['web'] },
            { Key: 'PingStatus', Values: ['Online'] },
          ],
        }),
      ),
    );
    expect(mixed?.name).toBe('InvalidFilter');
    const badMax = await errorOf(c.send(new DescribeInstanceInformationCommand({ MaxResults: 4 })));
    expect(badMax?.name).toBe('ValidationException');
    const badKey = await errorOf(
      c.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'Colour', Values: ['red'] }] })),
    );
    expect(badKey?.name).toBe('InvalidInstanceInformationFilterValue');
  });
  it('matches tag filters on own tags only: tag:constructor and tag-key toString find nothing', async () => {
    const c = ssm(aliceReadOnly);
    for (const Filters of [
      [{ Key: 'tag:constructor', Values: ['function Object() { [native code] }'] }],
      [{ Key: 'tag-key', Values: ['toString', '__proto__'] }],
    ]) {
      const out = await c.send(new DescribeInstanceInformationCommand({ Filters }));
      expect(out.InstanceInformationList).toEqual([]);
    }
  });
});

describe('ssm DescribeInstanceInformation pagination', () => {
  it('pages with MaxResults and NextToken', async () => {
    const org = generateOrg({ accounts: 1, permissionSets: 2, instances: 24, regions: ['eu-west-1'] });
    const sandbox = await startSandbox({ approve: 'alice', org });
    try {
      const { accessToken } = await signIn(sandbox);
      const creds = await permissionSetCredentials(
        sandbox,
        accessToken,
        '200000000000',
        'AdministratorAccess',
      );
      const ssm = new SSMClient(clientConfig(sandbox, 'eu-west-1', creds));
      const pages: number[] = [];
      const ids: string[] = [];
      for await (const page of paginateDescribeInstanceInformation({ client: ssm, pageSize: 10 }, {})) {
        pages.push(page.InstanceInformationList!.length);
        ids.push(...page.InstanceInformationList!.map((i) => i.InstanceId!));
      }
      expect(pages).toEqual([10, 10, 4]);
      expect(new Set(ids).size).toBe(24);
      const first = await ssm.send(new DescribeInstanceInformationCommand({ MaxResults: 5 }));
      const foreign = await errorOf(
        ssm.send(
          new DescribeInstanceInformationCommand({
            MaxResults: 5,
            NextToken: first.NextToken,
            Filters: [{ Key: 'PingStatus', Values: ['Online'] }],
          }),
        ),
      );
      expect(foreign?.name).toBe('InvalidNextToken');
      ssm.destroy();
    } finally {
      await sandbox.close();
    }
  });
});
