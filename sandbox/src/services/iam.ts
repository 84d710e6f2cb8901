/**
 * IAM (awsQuery, XML, global: signed for us-east-1): GetRole, in the caller's
 * own account, answered from the sandbox's role registry (identity/iamRoles.ts)
 * in the shape @aws-sdk/client-iam reads.
 */
import type { Org } from '../org/schema';
import { AwsError, type WireResponse } from '../http/awsError';
import type { SignedCall } from '../http/server';
import { IamRoles, type IamRole } from '../identity/iamRoles';
import { trustPolicyOf } from '../identity/orgPolicies';
import type { PolicyEnforcer } from '../identity/policyEnforcer';
import { xmlResponse } from './sts';

const NS = 'https://iam.amazonaws.com/doc/2010-05-08/';
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

/** The role's trust policy as IAM returns it: URL-encoded JSON. */
function trustPolicy(org: Org, role: IamRole): string {
  return encodeURIComponent(JSON.stringify(trustPolicyOf(org, role)));
}

export class IamService {
  constructor(
    private readonly org: Org,
    private readonly policies: PolicyEnforcer,
  ) {}

  async handle(call: SignedCall, form: URLSearchParams): Promise<WireResponse> {
    const { ctx, caller } = call;
    const action = form.get('Action') ?? '';
    ctx.trail.eventSource = 'iam.amazonaws.com';
    ctx.trail.eventName = action;
    ctx.trail.awsRegion = 'us-east-1';
    if (form.get('Version') !== '2010-05-08' || action !== 'GetRole')
      throw new AwsError(
        'InvalidAction',
        `Could not find operation ${action} for version ${form.get('Version')}`,
        400,
      );
    ctx.trail.readOnly = true;
    const roleName = form.get('RoleName') ?? '';
    ctx.trail.requestParameters = { roleName };
    if (!ROLE_NAME.test(roleName))
      throw new AwsError(
        'ValidationError',
        `1 validation error detected: Value '${roleName}' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+`,
        400,
      );
    const accountId = caller.session.accountId;
    const role = IamRoles.of(this.org).get(accountId, roleName);
    // IAM authorizes against the role's ARN, path included, so a policy can limit GetRole to a path.
    const tags = Object.entries(role?.definition?.tags ?? {});
    await this.policies.authorize(
      caller.session,
      'iam:GetRole',
      role?.arn ?? `arn:aws:iam::${accountId}:role/${roleName}`,
      {
        code: 'AccessDenied',
        context: Object.fromEntries(
          tags.flatMap(([k, v]) => [
            [`aws:ResourceTag/${k}`, v],
            [`iam:ResourceTag/${k}`, v],
          ]),
        ),
      },
    );
    if (!role) throw new AwsError('NoSuchEntity', `The role with name ${roleName} cannot be found.`, 404);
    return xmlResponse(
      'GetRole',
      {
        Role: {
          Path: role.path,
          RoleName: role.roleName,
          RoleId: role.roleId,
          Arn: role.arn,
          CreateDate: role.createDate,
          AssumeRolePolicyDocument: trustPolicy(this.org, role),
          Description: role.description,
          MaxSessionDuration: role.maxSessionDurationSeconds,
          Tags: tags.length ? { member: tags.map(([Key, Value]) => ({ Key, Value })) } : undefined,
          RoleLastUsed: {},
        },
      },
      ctx.requestId,
      NS,
    );
  }
}
