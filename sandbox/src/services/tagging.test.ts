import {
  GetResourcesCommand,
  paginateGetResources,
  ResourceGroupsTaggingAPIClient,
  type GetResourcesCommandOutput,
} from '@aws-sdk/client-resource-groups-tagging-api';
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
const arns = (r: GetResourcesCommandOutput) => (r.ResourceTagMappingList ?? []).map((m) => m.ResourceARN!);
const PROD = '222222222222';
const arn = (id: string, region = 'eu-west-1') => `arn:aws:ec2:${region}:${PROD}:instance/${id}`;

describe('tagging GetResources', () => {
  let sandbox: Sandbox;
  let creds: AwsCredentialIdentity;
  let tagging: ResourceGroupsTaggingAPIClient;
  beforeAll(async () => {
    sandbox = await startSandbox({ approve: 'alice' });
    const { accessToken } = await signIn(sandbox);
    creds = await permissionSetCredentials(sandbox, accessToken, PROD, 'ReadOnly');
    tagging = new ResourceGroupsTaggingAPIClient(clientConfig(sandbox, 'eu-west-1', creds));
  });
  afterAll(async () => {
    tagging.destroy();
    await sandbox.close();
  });

  it('returns the account’s tagged instances in the signing region with their tags, and records the call', async () => {
    const out = await tagging.send(
      new GetResourcesCommand({
        ResourceTypeFilters: ['ec2:instance'],
        TagFilters: [{ Key: 'roleshell:permission-sets' }],
      }),
    );
    expect(arns(out)).toEqual([
      arn('i-0a1b2c3d4e5f60001'),
      arn('i-0a1b2c3d4e5f60002'),
      arn('i-0a1b2c3d4e5f60003'),
      arn('i-0a1b2c3d4e5f60004'),
    ]);
    expect(out.PaginationToken).toBe('');
    const first = out.ResourceTagMappingList![0]!;
    expect(Object.fromEntries(first.Tags!.map((t) => [t.Key, t.Value]))).toEqual({
      Name: 'prod-web-1',
      Environment: 'prod',
      Team: 'web',
      'roleshell:permission-sets': 'AdministratorAccess,ReadOnly,Developer,Support_Tier1',
    });
    const event = sandbox
      .cloudTrail()
      .findLast((e) => e.eventSource === 'tagging.amazonaws.com' && e.eventName === 'GetResources');
    expect(event).toMatchObject({
      awsRegion: 'eu-west-1',
      readOnly: true,
      requestParameters: { resourceTypeFilters: ['ec2:instance'] },
      userIdentity: { type: 'AssumedRole' },
    });

    const useast = new ResourceGroupsTaggingAPIClient(clientConfig(sandbox, 'us-east-1', creds));
    expect(arns(await useast.send(new GetResourcesCommand({})))).toEqual([
      arn('i-0a1b2c3d4e5f60005', 'us-east-1'),
    ]);
    useast.destroy();
  });

  it('filters by tag values (OR within a key, AND across keys), resource type and ARN list', async () => {
    const web = await tagging.send(
      new GetResourcesCommand({
        TagFilters: [
          { Key: 'Team', Values: ['web', 'data'] },
          { Key: 'roleshell:permission-sets', Values: ['AdministratorAccess'] },
        ],
      }),
    );
    expect(arns(web)).toEqual([arn('i-0a1b2c3d4e5f60003')]);
    // A built-in property name is no tag.
    const builtIn = await tagging.send(
      new GetResourcesCommand({ TagFilters: [{ Key: 'constructor' }, { Key: '__proto__' }] }),
    );
    expect(arns(builtIn)).toEqual([]);
    const buckets = await tagging.send(new GetResourcesCommand({ ResourceTypeFilters: ['s3:bucket'] }));
    expect(arns(buckets)).toEqual([]);
    // A missing ARN is no error: it is simply not in the answer.
    const listed = await tagging.send(
      new GetResourcesCommand({
        ResourceARNList: [arn('i-0a1b2c3d4e5f60002'), arn('i-0c1b2c3d4e5f60099')],
      }),
    );
    expect(arns(listed)).toEqual([arn('i-0a1b2c3d4e5f60002')]);
  });

  it('refuses bad page sizes, foreign tokens and ARN lists with paging', async () => {
    expect((await errorOf(tagging.send(new GetResourcesCommand({ ResourcesPerPage: 101 }))))?.name).toBe(
      'InvalidParameterException',
    );
    expect(
      (await errorOf(tagging.send(new GetResourcesCommand({ PaginationToken: 'not-a-token' }))))?.name,
    ).toBe('InvalidParameterException');
    expect(
      (
        await errorOf(
          tagging.send(
            new GetResourcesCommand({ ResourceARNList: [arn('i-0a1b2c3d4e5f60001')], ResourcesPerPage: 5 }),
          ),
        )
      )?.name,
    ).toBe('InvalidParameterException');
  });

  it('refuses a call signed with the wrong secret', async () => {
    const bad = new ResourceGroupsTaggingAPIClient(
      clientConfig(sandbox, 'eu-west-1', { ...creds, secretAccessKey: 'wrong' }),
    );
    expect((await errorOf(bad.send(new GetResourcesCommand({}))))?.name).toBe('InvalidSignatureException');
    bad.destroy();
  });
});

describe('tagging GetResources pagination', () => {
  it('pages with ResourcesPerPage and PaginationToken', async () => {
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
      const tagging = new ResourceGroupsTaggingAPIClient(clientConfig(sandbox, 'us-east-1', creds));
      const sizes: number[] = [];
      const seen = new Set<string>();
      for await (const page of paginateGetResources({ client: tagging, pageSize: 10 }, {})) {
        sizes.push(arns(page).length);
        arns(page).forEach((a) => seen.add(a));
      }
      expect(sizes).toEqual([10, 10, 7]);
      expect(seen.size).toBe(27);
      tagging.destroy();
    } finally {
      await sandbox.close();
    }
  });
});
