import {
  DescribeInstancesCommand,
  EC2Client,
  paginateDescribeInstances,
  type DescribeInstancesCommandOutput,
} from '@aws-sdk/client-ec2';
import type { AwsCredentialIdentity } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateOrg } from '../org';
import { startSandbox, type Sandbox } from '../index';
import { clientConfig, permissionSetCredentials, signIn } from '../testing/sdk';

const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: Error) => e,
  );
const ids = (r: DescribeInstancesCommandOutput) =>
  (r.Reservations ?? []).flatMap((res) => (res.Instances ?? []).map((i) => i.InstanceId!)).sort();

describe('ec2 DescribeInstances', () => {
  let sandbox: Sandbox;
  let creds: AwsCredentialIdentity;
  let ec2: EC2Client;
  beforeAll(async () => {
    sandbox = await startSandbox({ approve: 'alice' });
    const { accessToken } = await signIn(sandbox);
    creds = await permissionSetCredentials(sandbox, accessToken, '222222222222', 'ReadOnly');
    ec2 = new EC2Client(clientConfig(sandbox, 'eu-west-1', creds));
  });
  afterAll(async () => {
    ec2.destroy();
    await sandbox.close();
  });

  it('returns the account’s instances in the signing region, shaped as the SDK parses them', async () => {
    const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0a1b2c3d4e5f60001'] }));
    const instance = out.Reservations![0]!.Instances![0]!;
    expect(out.Reservations![0]!.OwnerId).toBe('222222222222');
    expect(instance).toMatchObject({
      InstanceId: 'i-0a1b2c3d4e5f60001',
      State: { Code: 16, Name: 'running' },
      InstanceType: 't3.micro',
      PrivateIpAddress: '10.0.1.11',
      Placement: { AvailabilityZone: 'eu-west-1a' },
      PlatformDetails: 'Linux/UNIX',
    });
    expect(Object.fromEntries(instance.Tags!.map((t) => [t.Key, t.Value]))).toEqual({
      Name: 'prod-web-1',
      Environment: 'prod',
      Team: 'web',
      'roleshell:permission-sets': 'AdministratorAccess,ReadOnly,Developer,Support_Tier1',
    });
    const useast = new EC2Client(clientConfig(sandbox, 'us-east-1', creds));
    expect(ids(await useast.send(new DescribeInstancesCommand({})))).toEqual(['i-0a1b2c3d4e5f60005']);
    useast.destroy();
  });

  it('filters by tag:, tag-key, instance-id and instance-state-name', async () => {
    const byTag = await ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'tag:Team', Values: ['web'] }] }),
    );
    expect(ids(byTag)).toEqual(['i-0a1b2c3d4e5f60001', 'i-0a1b2c3d4e5f60002', 'i-0a1b2c3d4e5f60004']);
    const wildcard = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [{ Name: 'tag:roleshell:permission-sets', Values: ['*Support_Tier1*'] }],
      }),
    );
    expect(ids(wildcard)).toEqual(['i-0a1b2c3d4e5f60001', 'i-0a1b2c3d4e5f60002']);
    const combined = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: 'tag-key', Values: ['roleshell:permission-sets'] },
          { Name: 'instance-id', Values: ['i-0a1b2c3d4e5f60003', 'i-0a1b2c3d4e5f60004'] },
          { Name: 'instance-state-name', Values: ['running'] },
        ],
      }),
    );
    expect(ids(combined)).toEqual(['i-0a1b2c3d4e5f60003', 'i-0a1b2c3d4e5f60004']);
    const none = await ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'tag:Team', Values: ['nobody'] }] }),
    );
    expect(none.Reservations).toEqual([]);
  });

  it('refuses unknown instance IDs, unknown filters and bad MaxResults', async () => {
    expect(
      (await errorOf(ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0c1b2c3d4e5f60008'] }))))?.name,
    ).toBe('InvalidInstanceID.NotFound');
    expect(
      (
        await errorOf(
          ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'colour', Values: ['red'] }] })),
        )
      )?.name,
    ).toBe('InvalidParameterValue');
    expect((await errorOf(ec2.send(new DescribeInstancesCommand({ MaxResults: 4 }))))?.name).toBe(
      'InvalidParameterValue',
    );
  });
  it('matches tag filters on own tags only: tag:constructor finds nothing', async () => {
    for (const key of ['constructor', 'toString', '__proto__']) {
      const out = await ec2.send(
        new DescribeInstancesCommand({ Filters: [{ Name: `tag:${key}`, Values: ['*'] }] }),
      );
      expect(ids(out)).toEqual([]);
    }
  });
});

describe('ec2 DescribeInstances pagination', () => {
  it('pages with MaxResults and NextToken', async () => {
    const sandbox = await startSandbox({
      approve: 'alice',
      org: generateOrg({ accounts: 1, permissionSets: 1, instances: 27, regions: ['us-east-1'] }),
    });
    try {
      const { accessToken } = await signIn(sandbox);
      const creds = await permissionSetCredentials(
        sandbox,
        accessToken,
        '200000000000',
        'AdministratorAccess',
      );
      const ec2 = new EC2Client(clientConfig(sandbox, 'us-east-1', creds));
      const sizes: number[] = [];
      const seen = new Set<string>();
      for await (const page of paginateDescribeInstances({ client: ec2, pageSize: 10 }, {})) {
        const pageIds = ids(page);
        sizes.push(pageIds.length);
        pageIds.forEach((id) => seen.add(id));
      }
      expect(sizes).toEqual([10, 10, 7]);
      expect(seen.size).toBe(27);
      ec2.destroy();
    } finally {
      await sandbox.close();
    }
  });
});
