/**
 * STS (awsQuery, XML): GetCallerIdentity and AssumeRole with trust policies,
 * RoleSessionName, SourceIdentity (validated, immutable through chaining) and
 * session tags (transitive ones carried through chaining).
 */
import type { Org } from '../org/schema';
import { AwsError, type WireResponse } from '../http/awsError';
import type { RequestContext } from '../http/context';
import { toXml, type XmlNode } from '../http/xml';
import { IamRoles } from '../identity/iamRoles';
import type { PolicyEnforcer } from '../identity/policyEnforcer';
import {
  assumedRoleArn,
  userIdOf,
  type CredentialStore,
  type IssuedCredentials,
  type RoleSession,
} from '../identity/principals';

const NS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const NAME_PATTERN = /^[\w+=,.@-]*$/;

export function xmlResponse(
  action: string,
  result: XmlNode | undefined,
  requestId: string,
  ns = NS,
): WireResponse {
  const inner = result ? `<${action}Result>${toXml(result)}</${action}Result>` : '';
  return {
    status: 200,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body: `<${action}Response xmlns="${ns}">${inner}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
  };
}

const validation = (message: string) => new AwsError('ValidationError', message, 400);

/** `Prefix.member.N.Key` style lists from a query-protocol form. */
export function memberList(form: URLSearchParams, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 1; form.has(`${prefix}.member.${i}`); i++) out.push(form.get(`${prefix}.member.${i}`)!);
  return out;
}

export class SecurityTokenService {
  constructor(
    private readonly org: Org,
    private readonly credentials: CredentialStore,
    private readonly policies: PolicyEnforcer,
  ) {}

  async handle(
    ctx: RequestContext,
    form: URLSearchParams,
    caller: IssuedCredentials,
    region: string,
  ): Promise<WireResponse> {
    const action = form.get('Action') ?? '';
    ctx.trail.eventSource = 'sts.amazonaws.com';
    ctx.trail.eventName = action;
    ctx.trail.awsRegion = region;
    if (form.get('Version') !== '2011-06-15')
      throw new AwsError(
        'InvalidAction',
        `Could not find operation ${action} for version ${form.get('Version')}`,
        400,
      );
    if (action === 'GetCallerIdentity') {
      // No IAM check: AWS answers GetCallerIdentity even when a policy explicitly denies it.
      ctx.trail.readOnly = true;
      const s = caller.session;
      ctx.trail.responseElements = null;
      return xmlResponse(
        'GetCallerIdentity',
        { Arn: assumedRoleArn(s), UserId: userIdOf(s), Account: s.accountId },
        ctx.requestId,
      );
    }
    if (action === 'AssumeRole') return this.assumeRole(ctx, form, caller);
    throw new AwsError('InvalidAction', `Could not find operation ${action} for version 2011-06-15`, 400);
  }

  private async assumeRole(
    ctx: RequestContext,
    form: URLSearchParams,
    caller: IssuedCredentials,
  ): Promise<WireResponse> {
    const roleArnParam = form.get('RoleArn') ?? '';
    const sessionName = form.get('RoleSessionName') ?? '';
    const sourceIdentity = form.get('SourceIdentity') ?? undefined;
    const durationRaw = form.get('DurationSeconds');
    // Tag keys are the caller's: a Map, so `__proto__` or `constructor` are keys like any other.
    const tags = new Map<string, string>();
    for (let i = 1; form.has(`Tags.member.${i}.Key`); i++) {
      tags.set(form.get(`Tags.member.${i}.Key`)!, form.get(`Tags.member.${i}.Value`) ?? '');
    }
    const transitive = memberList(form, 'TransitiveTagKeys');
    ctx.trail.requestParameters = {
      roleArn: roleArnParam,
      roleSessionName: sessionName,
      ...(durationRaw ? { durationSeconds: Number(durationRaw) } : {}),
      ...(sourceIdentity !== undefined ? { sourceIdentity } : {}),
      ...(tags.size
        ? {
            tags: [...tags].map(([key, value]) => ({ key, value })),
            transitiveTagKeys: transitive,
          }
        : {}),
    };

    if (sessionName.length < 2 || sessionName.length > 64 || !NAME_PATTERN.test(sessionName))
      throw validation(
        `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must have length between 2 and 64 and satisfy regular expression pattern: [\\w+=,.@-]*`,
      );
    if (sourceIdentity !== undefined) {
      if (sourceIdentity.length < 2 || sourceIdentity.length > 64 || !NAME_PATTERN.test(sourceIdentity))
        throw validation(
          `1 validation error detected: Value '${sourceIdentity}' at 'sourceIdentity' failed to satisfy constraint: Member must have length between 2 and 64 and satisfy regular expression pattern: [\\w+=,.@-]*`,
        );
      if (sourceIdentity.toLowerCase().startsWith('aws:'))
        throw validation('SourceIdentity may not start with the reserved prefix aws:');
    }

    const m = /^arn:aws:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/.exec(roleArnParam);
    if (!m) throw validation(`${roleArnParam} is invalid (RoleArn must be an IAM role ARN)`);
    const [, accountId, roleName] = m as unknown as [string, string, string];
    const s = caller.session;
    const iamRole = IamRoles.of(this.org).get(accountId, roleName);
    // The role's trust policy and, as IAM requires, the caller's identity policy (policyEnforcer.ts).
    // IdC's own roles trust only its SAML provider: AssumeRoleWithSAML, never AssumeRole.
    await this.policies.authorizeAssumeRole(s, {
      roleArn: roleArnParam,
      accountId,
      role: iamRole,
      sessionName,
      ...(sourceIdentity !== undefined ? { sourceIdentity } : {}),
      tags,
      transitiveTagKeys: transitive,
    });
    // SourceIdentity is immutable for the role session and carried through chaining.
    let effectiveSourceIdentity = s.sourceIdentity;
    if (sourceIdentity !== undefined) {
      if (s.sourceIdentity !== undefined && s.sourceIdentity !== sourceIdentity)
        throw new AwsError(
          'AccessDenied',
          `SourceIdentity cannot be changed: this role session's source identity is ${s.sourceIdentity}`,
          403,
        );
      effectiveSourceIdentity = sourceIdentity;
    }

    // Transitive tags from the caller's session carry over and cannot be overridden.
    const carried = new Map<string, string>();
    for (const key of s.transitiveTagKeys)
      if (Object.hasOwn(s.sessionTags, key)) carried.set(key, s.sessionTags[key]!);
    if (tags.size > 0) {
      if (tags.size > 50) throw validation('Tags may contain at most 50 tags');
      for (const key of tags.keys()) {
        if (key.toLowerCase().startsWith('aws:'))
          throw validation(`Tag key ${key} uses the reserved prefix aws:`);
        if (carried.has(key))
          throw new AwsError(
            'InvalidParameterValue',
            `Transitive session tag ${key} cannot be overridden`,
            400,
          );
      }
    }
    const badTransitive = transitive.find((k) => !tags.has(k));
    if (badTransitive) throw validation(`TransitiveTagKeys ${badTransitive} is not among the session Tags`);

    // Every sandbox caller is itself a role session, so this is role chaining: one hour at most.
    const maxDuration = Math.min(3600, iamRole!.maxSessionDurationSeconds);
    const duration = durationRaw === null ? 3600 : Number(durationRaw);
    if (!Number.isInteger(duration) || duration < 900)
      throw validation(
        `1 validation error detected: Value '${durationRaw}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900`,
      );
    if (duration > maxDuration)
      throw validation(
        'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
      );

    const issued = this.credentials.issue(
      {
        accountId,
        roleName,
        rolePath: iamRole!.path,
        roleId: iamRole!.roleId,
        sessionName,
        sourceIdentity: effectiveSourceIdentity,
        // fromEntries: own properties, whatever the keys are called.
        sessionTags: Object.fromEntries([...carried, ...tags]),
        transitiveTagKeys: [...new Set([...carried.keys(), ...transitive])],
      },
      duration,
    );
    const assumed: RoleSession = issued.session;
    ctx.trail.recipientAccountId = accountId;
    ctx.trail.responseElements = {
      credentials: { accessKeyId: issued.accessKeyId, expiration: issued.expiration.toISOString() },
      assumedRoleUser: { assumedRoleId: userIdOf(assumed), arn: assumedRoleArn(assumed) },
      ...(effectiveSourceIdentity ? { sourceIdentity: effectiveSourceIdentity } : {}),
    };
    return xmlResponse(
      'AssumeRole',
      {
        ...(effectiveSourceIdentity ? { SourceIdentity: effectiveSourceIdentity } : {}),
        AssumedRoleUser: { AssumedRoleId: userIdOf(assumed), Arn: assumedRoleArn(assumed) },
        Credentials: {
          AccessKeyId: issued.accessKeyId,
          SecretAccessKey: issued.secretAccessKey,
          SessionToken: issued.sessionToken,
          Expiration: issued.expiration,
        },
        PackedPolicySize: tags.size ? 6 : undefined,
      },
      ctx.requestId,
    );
  }
}
