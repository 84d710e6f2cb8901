import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { permissionSetRoleName } from '../identity/iamRoles';
import { startSandbox, type Sandbox } from '../index';
import { defaultOrgWith } from '../testing/orgs';
import { PROD } from '../testing/roles';
import { assumeRole, clientConfig, permissionSetCredentials, signIn } from '../testing/sdk';

const IMPOSTOR = 'AWSReservedSSO_AdministratorAccess_0123456789abcdef';

const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: Error) => e,
  );

describe('iam GetRole', () => {
  let sandbox: Sandbox;
  let aliceDeveloper: AwsCredentialIdentity;
  let reader: AwsCredentialIdentity;
  const iam = (c: AwsCredentialIdentity) => new IAMClient(clientConfig(sandbox, 'us-east-1', c));
  const sts = (c: AwsCredentialIdentity) => new STSClient(clientConfig(sandbox, 'eu-west-1', c));

  beforeAll(async () => {
    sandbox = await startSandbox({
      approve: 'alice',
      org: defaultOrgWith({
        roles: [
          {
            name: 'RoleReader',
            path: '/tools/',
            accounts: [PROD],
            trust: { principals: [PROD] },
            policy: { actions: ['iam:GetRole'] },
          },
        ],
      }),
    });
    const { accessToken } = await signIn(sandbox);
    aliceDeveloper = await permissionSetCredentials(sandbox, accessToken, PROD, 'Developer');
    reader = await assumeRole(sandbox, aliceDeveloper, {
      RoleArn: `arn:aws:iam::${PROD}:role/tools/RoleReader`,
      RoleSessionName: 'reader',
    });
  });
  afterAll(() => sandbox.close());

  it("reads a permission set's role: IdC's reserved path and the RoleId STS reports for its sessions", async () => {
    const roleName = permissionSetRoleName(sandbox.org, PROD, 'Developer');
    const { Role } = await iam(reader).send(new GetRoleCommand({ RoleName: roleName }));
    expect(Role).toMatchObject({
      Path: '/aws-reserved/sso.amazonaws.com/eu-west-1/',
      RoleName: roleName,
      Arn: `arn:aws:iam::${PROD}:role/aws-reserved/sso.amazonaws.com/eu-west-1/${roleName}`,
      MaxSessionDuration: 3600,
    });
    expect(Role?.CreateDate).toBeInstanceOf(Date);
    const caller = await sts(aliceDeveloper).send(new GetCallerIdentityCommand({}));
    expect(caller.UserId).toBe(`${Role?.RoleId}:alice`);
    const trust = JSON.parse(decodeURIComponent(Role!.AssumeRolePolicyDocument!)) as {
      Statement: { Principal: { Federated?: string }; Action: string[] }[];
    };
    expect(trust.Statement[0]?.Principal.Federated).toMatch(
      /:saml-provider\/AWSSSO_[0-9a-f]+_DO_NOT_DELETE$/,
    );
    expect(trust.Statement[0]?.Action).toContain('sts:AssumeRoleWithSAML');
  });

  it('reads an ordinary role with its own path, and the impostor with "/"', async () => {
    const { Role: own } = await iam(reader).send(new GetRoleCommand({ RoleName: 'RoleReader' }));
    expect(own?.Path).toBe('/tools/');
    expect(own?.Arn).toBe(`arn:aws:iam::${PROD}:role/tools/RoleReader`);
    const { Role: impostor } = await iam(reader).send(new GetRoleCommand({ RoleName: IMPOSTOR }));
    expect(impostor?.Path).toBe('/');
    expect(impostor?.RoleId).toMatch(/^AROA[A-Z2-7]{17}$/);
    const assumed = await assumeRole(sandbox, aliceDeveloper, {
      RoleArn: `arn:aws:iam::${PROD}:role/${IMPOSTOR}`,
      RoleSessionName: 'alice',
    });
    const caller = await sts(assumed).send(new GetCallerIdentityCommand({}));
    // STS's assumed-role ARN carries no path: the name alone cannot tell the impostor apart.
    expect(caller.Arn).toBe(`arn:aws:sts::${PROD}:assumed-role/${IMPOSTOR}/alice`);
    expect(caller.UserId).toBe(`${impostor?.RoleId}:alice`);
  });

  it('answers NoSuchEntity, a validation error, and AccessDenied without iam:GetRole', async () => {
    expect((await errorOf(iam(reader).send(new GetRoleCommand({ RoleName: 'Nope' }))))?.name).toBe(
      'NoSuchEntityException',
    );
    expect((await errorOf(iam(reader).send(new GetRoleCommand({ RoleName: 'a/b' }))))?.name).toBe(
      'ValidationError',
    );
    const denied = await errorOf(iam(aliceDeveloper).send(new GetRoleCommand({ RoleName: 'RoleReader' })));
    expect(denied?.name).toBe('AccessDenied');
    expect(denied?.message).toContain('is not authorized to perform: iam:GetRole');
    const events = sandbox.cloudTrail().filter((e) => e.eventSource === 'iam.amazonaws.com');
    expect(events.at(-1)).toMatchObject({
      eventName: 'GetRole',
      errorCode: 'AccessDenied',
      awsRegion: 'us-east-1',
    });
  });

  it('gives a deleted-and-recreated role a new RoleId; sessions of the old one keep theirs and lose its policy', async () => {
    const before = await iam(reader).send(new GetRoleCommand({ RoleName: 'RoleReader' }));
    sandbox.iam.recreateRole(PROD, 'RoleReader', {
      path: '/tools/',
      trust: { principals: [PROD] },
      policy: { actions: ['iam:GetRole'] },
    });
    const old = await errorOf(iam(reader).send(new GetRoleCommand({ RoleName: 'RoleReader' })));
    expect(old?.name).toBe('AccessDenied');
    const fresh = await assumeRole(sandbox, aliceDeveloper, {
      RoleArn: `arn:aws:iam::${PROD}:role/tools/RoleReader`,
      RoleSessionName: 'reader',
    });
    const after = await iam(fresh).send(new GetRoleCommand({ RoleName: 'RoleReader' }));
    expect(after.Role?.RoleId).not.toBe(before.Role?.RoleId);
    expect((await sts(fresh).send(new GetCallerIdentityCommand({}))).UserId).toBe(
      `${after.Role?.RoleId}:reader`,
    );
    expect((await sts(reader).send(new GetCallerIdentityCommand({}))).UserId).toBe(
      `${before.Role?.RoleId}:reader`,
    );
  });
});
