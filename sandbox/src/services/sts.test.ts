import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DescribeSessionsCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { AwsCredentialIdentity } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../index';
import { defaultOrgWith } from '../testing/orgs';
import { PROD, testRoles } from '../testing/roles';
import { assumeRole, clientConfig, permissionSetCredentials, signIn } from '../testing/sdk';

const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: Error) => e,
  );

describe('sts AssumeRole', () => {
  let sandbox: Sandbox;
  let alice: AwsCredentialIdentity;
  beforeAll(async () => {
    sandbox = await startSandbox({ approve: 'alice', org: defaultOrgWith({ roles: testRoles }) });
    const { accessToken } = await signIn(sandbox);
    alice = await permissionSetCredentials(sandbox, accessToken, PROD, 'Developer');
  });
  afterAll(() => sandbox.close());
  const sts = (c: AwsCredentialIdentity) => new STSClient(clientConfig(sandbox, 'eu-west-1', c));

  it('honours the trust policy: RoleShellTarget trusts only the broker role', async () => {
    const err = await errorOf(
      sts(alice).send(
        new AssumeRoleCommand({
          RoleArn: `arn:aws:iam::${PROD}:role/RoleShellTarget`,
          RoleSessionName: 'alice',
        }),
      ),
    );
    expect(err?.name).toBe('AccessDenied');
    expect(err?.message).toContain('is not authorized to perform: sts:AssumeRole');
    const missing = await errorOf(
      sts(alice).send(
        new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${PROD}:role/NoSuchRole`, RoleSessionName: 'alice' }),
      ),
    );
    expect(missing?.name).toBe('AccessDenied');
  });

  it('issues role credentials with RoleSessionName, SourceIdentity and an expiry', async () => {
    const out = await sts(alice).send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${PROD}:role/ChainTarget`,
        RoleSessionName: 'alice@corp',
        SourceIdentity: 'alice',
        DurationSeconds: 900,
      }),
    );
    expect(out.SourceIdentity).toBe('alice');
    expect(out.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${PROD}:assumed-role/ChainTarget/alice@corp`);
    expect(out.AssumedRoleUser?.AssumedRoleId).toMatch(/^AROA[A-Z2-7]{17}:alice@corp$/);
    const ttl = out.Credentials!.Expiration!.getTime() - Date.now();
    expect(ttl).toBeGreaterThan(890_000);
    expect(ttl).toBeLessThanOrEqual(900_000);
    const id = await sts({
      accessKeyId: out.Credentials!.AccessKeyId!,
      secretAccessKey: out.Credentials!.SecretAccessKey!,
      sessionToken: out.Credentials!.SessionToken!,
    }).send(new GetCallerIdentityCommand({}));
    expect(id.Arn).toBe(out.AssumedRoleUser?.Arn);
    expect(id.UserId).toBe(out.AssumedRoleUser?.AssumedRoleId);
  });

  it('keeps SourceIdentity immutable through role chaining', async () => {
    const chained = await assumeRole(sandbox, alice, {
      RoleArn: `arn:aws:iam::${PROD}:role/ChainTarget`,
      RoleSessionName: 'alice',
      SourceIdentity: 'alice',
    });
    const changed = await errorOf(
      sts(chained).send(
        new AssumeRoleCommand({
          RoleArn: `arn:aws:iam::${PROD}:role/ChainTarget2`,
          RoleSessionName: 'alice',
          SourceIdentity: 'mallory',
        }),
      ),
    );
    expect(changed?.name).toBe('AccessDenied');
    expect(changed?.message).toContain('SourceIdentity cannot be changed');
    // Omitted, it is carried: the next hop's calls still show alice in CloudTrail.
    const second = await assumeRole(sandbox, chained, {
      RoleArn: `arn:aws:iam::${PROD}:role/ChainTarget2`,
      RoleSessionName: 'hop2',
    });
    await new SSMClient(clientConfig(sandbox, 'eu-west-1', second)).send(
      new DescribeSessionsCommand({ State: 'Active' }),
    );
    const event = sandbox
      .cloudTrail()
      .filter((e) => e.eventName === 'DescribeSessions')
      .at(-1);
    expect(event?.userIdentity.arn).toBe(`arn:aws:sts::${PROD}:assumed-role/ChainTarget2/hop2`);
    expect(event?.userIdentity.sessionContext?.sourceIdentity).toBe('alice');
  });

  it('validates SourceIdentity and RoleSessionName', async () => {
    for (const bad of ['a', 'aws:alice', 'alice smith', 'x'.repeat(65)]) {
      const err = await errorOf(
        sts(alice).send(
          new AssumeRoleCommand({
            RoleArn: `arn:aws:iam::${PROD}:role/ChainTarget`,
            RoleSessionName: 'alice',
            SourceIdentity: bad,
          }),
        ),
      );
      expect(err?.name, bad).toBe('ValidationError');
    }
    const badName = await errorOf(
      sts(alice).send(
        new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${PROD}:role/ChainTarget`, RoleSessionName: 'a b' }),
      ),
    );
    expect(badName?.name).toBe('ValidationError');
  });

  it('needs sts:SetSourceIdentity in the trust policy', async () => {
    const err = await errorOf(
      sts(alice).send(
        new AssumeRoleCommand({
          RoleArn: `arn:aws:iam::${PROD}:role/NoSourceIdentity`,
          RoleSessionName: 'alice',
          SourceIdentity: 'alice',
        }),
      ),
    );
    expect(err?.name).toBe('AccessDenied');
    expect(err?.message).toContain('sts:SetSourceIdentity');
    // Without SourceIdentity the same role is fine.
    await sts(alice).send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${PROD}:role/NoSourceIdentity`,
        RoleSessionName: 'alice',
      }),
    );
  });

  it('limits chained sessions to one hour and refuses less than 15 minutes', async () => {
    for (const DurationSeconds of [899, 3601]) {
      const err = await errorOf(
        sts(alice).send(
          new AssumeRoleCommand({
            RoleArn: `arn:aws:iam::${PROD}:role/ChainTarget`,
            RoleSessionName: 'alice',
            DurationSeconds,
          }),
        ),
      );
      expect(err?.name).toBe('ValidationError');
    }
  });

  it('needs sts:TagSession in the trust policy for session tags', async () => {
    const err = await errorOf(
      sts(alice).send(
        new AssumeRoleCommand({
          RoleArn: `arn:aws:iam::${PROD}:role/NoSourceIdentity`,
          RoleSessionName: 'alice',
          Tags: [{ Key: 'SSMSessionRunAs', Value: 'x' }],
        }),
      ),
    );
    expect(err?.name).toBe('AccessDenied');
  });

  it('treats tag keys named like Object built-ins as plain keys', async () => {
    const tagged = await assumeRole(sandbox, alice, {
      RoleArn: `arn:aws:iam::${PROD}:role/ChainTarget`,
      RoleSessionName: 'alice',
      Tags: [
        { Key: 'constructor', Value: 'c' },
        { Key: '__proto__', Value: 'p' },
      ],
      TransitiveTagKeys: ['constructor', '__proto__'],
    });
    // A second hop carries both transitive tags and refuses to override either.
    for (const Key of ['constructor', '__proto__']) {
      const err = await errorOf(
        sts(tagged).send(
          new AssumeRoleCommand({
            RoleArn: `arn:aws:iam::${PROD}:role/ChainTarget`,
            RoleSessionName: 'alice',
            Tags: [{ Key, Value: 'other' }],
          }),
        ),
      );
      expect(err?.message).toBe(`Transitive session tag ${Key} cannot be overridden`);
    }
    // A key that is only a built-in (not a tag of the session) is not carried and may be set.
    await assumeRole(sandbox, tagged, {
      RoleArn: `arn:aws:iam::${PROD}:role/ChainTarget`,
      RoleSessionName: 'alice',
      Tags: [{ Key: 'toString', Value: 't' }],
    });
    const err = await errorOf(
      sts(alice).send(
        new AssumeRoleCommand({
          RoleArn: `arn:aws:iam::${PROD}:role/ChainTarget`,
          RoleSessionName: 'alice',
          Tags: [{ Key: 'Team', Value: 'web' }],
          TransitiveTagKeys: ['toString'],
        }),
      ),
    );
    expect(err?.message).toBe('TransitiveTagKeys toString is not among the session Tags');
  });
});
