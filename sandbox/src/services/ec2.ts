/**
 * EC2 (ec2Query, XML): DescribeInstances with tag:/tag-key/tag-value/instance-id/
 * instance-state-name filters and MaxResults/NextToken pagination, scoped to the
 * caller's account and the signing region.
 */
import { createHash } from 'node:crypto';
import type { Org, OrgInstance } from '../org/schema';
import { AwsError, type WireResponse } from '../http/awsError';
import { page } from '../http/pagination';
import type { SignedCall } from '../http/server';
import { toXml } from '../http/xml';
import type { PolicyEnforcer } from '../identity/policyEnforcer';

const NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

/** `Prefix.N` / `Prefix.N.Sub.M` lists of the EC2 query protocol. */
function indexed(form: URLSearchParams, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 1; form.has(`${prefix}.${i}`); i++) out.push(form.get(`${prefix}.${i}`)!);
  return out;
}

const stableHex = (seed: string, n: number) => createHash('sha256').update(seed).digest('hex').slice(0, n);

export class Ec2Service {
  constructor(
    private readonly org: Org,
    private readonly policies: PolicyEnforcer,
  ) {}

  async handle(call: SignedCall, form: URLSearchParams): Promise<WireResponse> {
    const { ctx, caller, scope } = call;
    const action = form.get('Action') ?? '';
    ctx.trail.eventSource = 'ec2.amazonaws.com';
    ctx.trail.eventName = action;
    if (action !== 'DescribeInstances')
      throw new AwsError('InvalidAction', `The action ${action} is not valid for this web service.`, 400);
    const session = caller.session;
    const region = scope.region;

    const filters: { name: string; values: string[] }[] = [];
    for (let i = 1; form.has(`Filter.${i}.Name`); i++)
      filters.push({ name: form.get(`Filter.${i}.Name`)!, values: indexed(form, `Filter.${i}.Value`) });
    const instanceIds = indexed(form, 'InstanceId');
    const maxRaw = form.get('MaxResults');
    const nextToken = form.get('NextToken');
    ctx.trail.requestParameters = {
      instancesSet: { items: instanceIds.map((instanceId) => ({ instanceId })) },
      filterSet: {
        items: filters.map((f) => ({
          name: f.name,
          valueSet: { items: f.values.map((value) => ({ value })) },
        })),
      },
      ...(maxRaw ? { maxResults: Number(maxRaw) } : {}),
    };
    // DescribeInstances supports no resource-level permissions: IAM judges it on `*`.
    await this.policies.authorize(session, 'ec2:DescribeInstances', '*', {
      code: 'UnauthorizedOperation',
      status: 403,
      context: { 'aws:RequestedRegion': region },
    });
    if (maxRaw !== null && instanceIds.length)
      throw new AwsError(
        'InvalidParameterCombination',
        'The parameter instancesSet cannot be used with the parameter maxResults',
        400,
      );
    const max = maxRaw === null ? 1000 : Number(maxRaw);
    if (!Number.isInteger(max) || max < 5 || max > 1000)
      throw new AwsError(
        'InvalidParameterValue',
        `Value ( ${maxRaw} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`,
        400,
      );

    const tests = filters.map(({ name, values }) => {
      if (name.startsWith('tag:')) {
        const key = name.slice(4);
        // The key is the caller's: an own tag only, never a built-in such as `constructor`.
        return (i: OrgInstance) =>
          Object.hasOwn(i.tags, key) && values.some((v) => wildcard(v).test(i.tags[key]!));
      }
      switch (name) {
        case 'tag-key':
          return (i: OrgInstance) => values.some((v) => Object.keys(i.tags).some((k) => wildcard(v).test(k)));
        case 'tag-value':
          return (i: OrgInstance) =>
            values.some((v) => Object.values(i.tags).some((t) => wildcard(v).test(t)));
        case 'instance-id':
          return (i: OrgInstance) => values.includes(i.id);
        case 'instance-state-name':
          return (i: OrgInstance) => values.includes(i.state);
        case 'platform-details':
          return () => values.includes('Linux/UNIX');
        default:
          throw new AwsError('InvalidParameterValue', `The filter '${name}' is invalid`, 400);
      }
    });
    const visible = this.org.instances.filter((i) => i.account === session.accountId && i.region === region);
    const missing = instanceIds.filter((id) => !visible.some((i) => i.id === id));
    if (missing.length)
      throw new AwsError(
        'InvalidInstanceID.NotFound',
        `The instance ID${missing.length > 1 ? 's' : ''} '${missing.join(', ')}' ${missing.length > 1 ? 'do' : 'does'} not exist`,
        400,
      );
    const matching = visible.filter(
      (i) => (!instanceIds.length || instanceIds.includes(i.id)) && tests.every((t) => t(i)),
    );
    const pageScope = `ec2/${session.accountId}/${region}/${JSON.stringify(filters)}`;
    const p = page(matching, {
      token: nextToken,
      size: max,
      scope: pageScope,
      invalidTokenCode: 'InvalidParameterValue',
    });

    const reservations = p.items.map((i) => ({
      reservationId: `r-${stableHex(`r/${i.id}`, 17)}`,
      ownerId: i.account,
      instancesSet: { item: this.instanceXml(i) },
    }));
    const body =
      `<?xml version="1.0" encoding="UTF-8"?>\n<DescribeInstancesResponse xmlns="${NS}">` +
      toXml({ requestId: ctx.requestId, reservationSet: { item: reservations } }) +
      (p.nextToken ? toXml({ nextToken: p.nextToken }) : '') +
      `</DescribeInstancesResponse>`;
    return { status: 200, headers: { 'content-type': 'text/xml;charset=UTF-8' }, body };
  }

  private instanceXml(i: OrgInstance) {
    const ip = i.privateIpAddress ?? '10.0.0.10';
    const running = i.state === 'running';
    return {
      instanceId: i.id,
      imageId: `ami-${stableHex(`ami/${i.platformName}`, 17)}`,
      instanceState: { code: running ? 16 : 80, name: i.state },
      privateDnsName: `ip-${ip.replace(/\./g, '-')}.${i.region}.compute.internal`,
      dnsName: '',
      amiLaunchIndex: 0,
      instanceType: i.instanceType,
      launchTime: new Date('2026-01-05T09:00:00Z'),
      placement: { availabilityZone: `${i.region}a`, tenancy: 'default' },
      monitoring: { state: 'disabled' },
      subnetId: `subnet-${stableHex(`subnet/${i.account}/${i.region}`, 17)}`,
      vpcId: `vpc-${stableHex(`vpc/${i.account}/${i.region}`, 17)}`,
      privateIpAddress: ip,
      architecture: 'x86_64',
      rootDeviceType: 'ebs',
      rootDeviceName: '/dev/xvda',
      iamInstanceProfile: {
        arn: `arn:aws:iam::${i.account}:instance-profile/AmazonSSMRoleForInstancesQuickSetup`,
        id: `AIPA${stableHex(`profile/${i.account}`, 17).toUpperCase()}`,
      },
      tagSet: { item: Object.entries(i.tags).map(([key, value]) => ({ key, value })) },
      virtualizationType: 'hvm',
      hypervisor: 'xen',
      platformDetails: 'Linux/UNIX',
      usageOperation: 'RunInstances',
    };
  }
}

/** EC2 filter values accept * and ? wildcards. */
function wildcard(v: string): RegExp {
  return new RegExp(
    `^${v
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
}
