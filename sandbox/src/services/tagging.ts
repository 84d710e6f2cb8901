/**
 * Resource Groups Tagging API (JSON 1.1, X-Amz-Target
 * ResourceGroupsTaggingAPI_20170126.*, signing name `tagging`): GetResources
 * over the caller's account and the signing region. The sandbox's only tagged
 * resources are its EC2 instances. Tag filters (AND across keys, OR across a
 * key's values, a key without values = any value), resource-type filters,
 * ResourceARNList lookups and PaginationToken paging behave as AWS documents.
 */
import { instancesIn } from '../org/instanceIndex';
import type { Org, OrgInstance } from '../org/schema';
import { AwsError, type WireResponse } from '../http/awsError';
import { jsonBody } from '../http/context';
import { page } from '../http/pagination';
import type { SignedCall } from '../http/server';
import type { PolicyEnforcer } from '../identity/policyEnforcer';

export const TAGGING_TARGET_PREFIX = 'ResourceGroupsTaggingAPI_20170126.';

const invalidParameter = (message: string) => new AwsError('InvalidParameterException', message, 400);

interface TagFilter {
  key: string;
  values: string[];
}

function strings(value: unknown, member: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
    throw invalidParameter(`${member} must be a list of strings.`);
  return value as string[];
}

function tagFilters(value: unknown): TagFilter[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalidParameter('TagFilters must be a list.');
  if (value.length > 50) throw invalidParameter('TagFilters can have at most 50 entries.');
  return value.map((entry: { Key?: unknown; Values?: unknown }) => {
    if (typeof entry?.Key !== 'string' || entry.Key.length < 1 || entry.Key.length > 128)
      throw invalidParameter('Each TagFilter needs a Key of 1 to 128 characters.');
    const values = strings(entry.Values, 'TagFilter Values');
    if (values.length > 20) throw invalidParameter('A TagFilter can have at most 20 values.');
    return { key: entry.Key, values };
  });
}

export class TaggingService {
  constructor(
    private readonly org: Org,
    private readonly policies: PolicyEnforcer,
  ) {}

  async handle(call: SignedCall, operation: string): Promise<WireResponse> {
    const { ctx } = call;
    ctx.trail.eventSource = 'tagging.amazonaws.com';
    ctx.trail.eventName = operation;
    if (operation !== 'GetResources')
      throw new AwsError(
        'UnknownOperationException',
        `Operation ${operation} is not supported by the sandbox`,
        400,
      );
    return {
      status: 200,
      headers: { 'content-type': 'application/x-amz-json-1.1' },
      body: JSON.stringify(await this.getResources(call)),
    };
  }

  private instanceArn(i: OrgInstance): string {
    return `arn:aws:ec2:${i.region}:${i.account}:instance/${i.id}`;
  }

  private async getResources(call: SignedCall) {
    const body = jsonBody(call.ctx);
    const region = call.scope.region;
    const caller = call.caller.session;
    const filters = tagFilters(body.TagFilters);
    const types = strings(body.ResourceTypeFilters, 'ResourceTypeFilters');
    const arns = strings(body.ResourceARNList, 'ResourceARNList');
    const token = typeof body.PaginationToken === 'string' ? body.PaginationToken : undefined;
    const perPage = body.ResourcesPerPage === undefined ? 50 : Number(body.ResourcesPerPage);
    call.ctx.trail.requestParameters = {
      ...(filters.length ? { tagFilters: body.TagFilters } : {}),
      ...(types.length ? { resourceTypeFilters: types } : {}),
      ...(arns.length ? { resourceARNList: arns } : {}),
      ...(body.ResourcesPerPage !== undefined ? { resourcesPerPage: perPage } : {}),
    };
    // tag:GetResources supports no resource-level permissions.
    await this.policies.authorize(caller, 'tag:GetResources', '*', {
      context: { 'aws:RequestedRegion': region },
    });
    if (!Number.isInteger(perPage) || perPage < 1 || perPage > 100)
      throw invalidParameter('ResourcesPerPage must be between 1 and 100.');
    if (arns.length > 100) throw invalidParameter('ResourceARNList can have at most 100 ARNs.');
    if (arns.length && (token || body.ResourcesPerPage !== undefined || body.TagsPerPage !== undefined))
      throw invalidParameter(
        'You cannot specify ResourceARNList together with PaginationToken, ResourcesPerPage or TagsPerPage.',
      );
    if (types.length > 100) throw invalidParameter('ResourceTypeFilters can have at most 100 entries.');

    // `ec2` covers every EC2 type, `ec2:instance` the instances; other types have nothing tagged here.
    const typeMatches = types.length === 0 || types.some((t) => t === 'ec2' || t === 'ec2:instance');
    const matching = typeMatches
      ? instancesIn(this.org, caller.accountId, region).filter(
          (i) =>
            (arns.length === 0 || arns.includes(this.instanceArn(i))) &&
            Object.keys(i.tags).length > 0 &&
            // The keys are the caller's: own tags only, never a built-in such as `constructor`.
            filters.every(
              (f) =>
                Object.hasOwn(i.tags, f.key) && (f.values.length === 0 || f.values.includes(i.tags[f.key]!)),
            ),
        )
      : [];
    const scope = `tagging/${caller.accountId}/${region}/${JSON.stringify([filters, types])}`;
    const p = page(matching, {
      token,
      size: arns.length ? 100 : perPage,
      scope,
      invalidTokenCode: 'InvalidParameterException',
    });
    return {
      // AWS answers an empty string (not an absent member) on the last page.
      PaginationToken: p.nextToken ?? '',
      ResourceTagMappingList: p.items.map((i) => ({
        ResourceARN: this.instanceArn(i),
        Tags: Object.entries(i.tags).map(([Key, Value]) => ({ Key, Value })),
      })),
    };
  }
}
