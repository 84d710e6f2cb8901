/**
 * Real IAM evaluation for the calls that start, end and resume sessions, read
 * tags (tag:GetResources) and roles (iam:GetRole) and invoke functions, when the sandbox is given policies (the `iamPolicies`
 * option, e.g. read from infra's synthesized templates): identity policies,
 * the function's resource policy and the SCPs of member accounts, judged by
 * @cloud-copilot/iam-simulate. Without the option the sandbox keeps its
 * reduced model (authorize.ts); with it, these calls are decided here.
 */
import type { runSimulation as RunSimulation } from '@cloud-copilot/iam-simulate';
import type { Org } from '../org/schema';
import { AwsError } from '../http/awsError';
import { IamRoles } from './iamRoles';
import { PERMISSION_SET_ACTIONS } from './authorize';
import { assumedRoleArn, roleArn, userIdOf, type RoleSession } from './principals';
import { roleIdFor } from './ids';

type PolicyJson = Record<string, unknown>;

export interface IamPolicies {
  /** aws:PrincipalOrgID of every principal in the org. */
  organizationId: string;
  /** Identity policies by role name, for org-file roles (the member target role from the template). */
  rolePolicies?: Record<string, PolicyJson[]>;
  /** Identity policies by permission set name; absent = allow what a permission set may ask in the sandbox. */
  permissionSetPolicies?: Record<string, PolicyJson[]>;
  /** SCPs attached above every member account (FullAWSAccess is implied at each level). */
  serviceControlPolicies?: PolicyJson[];
  /** Trust policies by role name, replacing the org file's reduced trust for AssumeRole (the target role's). */
  roleTrustPolicies?: Record<string, PolicyJson>;
  /** Resource policies by function name (the broker's, from its Lambda permission). */
  functionResourcePolicies?: Record<string, PolicyJson>;
}

/**
 * A dev dependency under AGPL-3.0, used only by tests that pass `iamPolicies`. Named through a
 * variable so bundlers (the packaged app's sandbox bundle) leave it out instead of inlining it.
 */
const EVALUATOR_MODULE: string = '@cloud-copilot/iam-simulate';

const allowAll: PolicyJson = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
};

export class PolicyEnforcer {
  /** Loaded on first use: only sandboxes given policies pay for the evaluator and its IAM data. */
  private simulate?: Promise<{ runSimulation: typeof RunSimulation }>;

  constructor(
    private readonly org: Org,
    private readonly policies: IamPolicies,
  ) {}

  private identityPolicies(session: RoleSession): PolicyJson[] {
    if (session.permissionSet) {
      return (
        this.policies.permissionSetPolicies?.[session.permissionSet] ?? [
          {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: PERMISSION_SET_ACTIONS, Resource: '*' }],
          },
        ]
      );
    }
    const fromPolicies = this.policies.rolePolicies?.[session.roleName];
    if (fromPolicies) return fromPolicies;
    const role = IamRoles.of(this.org).get(session.accountId, session.roleName)?.definition;
    const actions = role?.policy.actions ?? [];
    return actions.length > 0
      ? [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }] }]
      : [];
  }

  private isMember(accountId: string): boolean {
    return this.org.accounts.some((a) => a.id === accountId && a.member !== false);
  }

  /** Throws AccessDeniedException unless IAM would allow `action` on `resource`. */
  async authorize(
    session: RoleSession,
    action: string,
    resource: string,
    options: {
      context?: Record<string, string>;
      resourceAccount?: string;
      resourcePolicy?: PolicyJson;
      /** The error code the service uses (STS: AccessDenied, 403). */
      code?: string;
    } = {},
  ): Promise<void> {
    this.simulate ??= import(EVALUATOR_MODULE) as Promise<{ runSimulation: typeof RunSimulation }>;
    const { runSimulation } = await this.simulate;
    const scps = this.isMember(session.accountId) ? (this.policies.serviceControlPolicies ?? []) : [];
    const result = await runSimulation(
      {
        request: {
          principal: assumedRoleArn(session),
          action,
          resource: { resource, accountId: options.resourceAccount ?? session.accountId },
          contextVariables: {
            'aws:PrincipalArn': roleArn(session),
            'aws:PrincipalAccount': session.accountId,
            'aws:userid': userIdOf(session),
            'aws:PrincipalOrgID': this.policies.organizationId,
            ...(session.sourceIdentity ? { 'aws:SourceIdentity': session.sourceIdentity } : {}),
            ...options.context,
          },
        },
        identityPolicies: this.identityPolicies(session).map((policy, i) => ({ name: `policy${i}`, policy })),
        serviceControlPolicies: [
          { orgIdentifier: 'r-root', policies: [{ name: 'FullAWSAccess', policy: allowAll }] },
          {
            orgIdentifier: 'ou-roleshell',
            policies: [
              { name: 'FullAWSAccess', policy: allowAll },
              ...scps.map((policy, i) => ({ name: `scp${i}`, policy })),
            ],
          },
          { orgIdentifier: session.accountId, policies: [{ name: 'FullAWSAccess', policy: allowAll }] },
        ],
        resourceControlPolicies: [],
        ...(options.resourcePolicy ? { resourcePolicy: options.resourcePolicy } : {}),
      },
      {},
    );
    if (result.resultType === 'error') {
      throw new AwsError(
        'InternalFailure',
        `The sandbox could not evaluate IAM policies: ${result.errors.message}`,
        500,
      );
    }
    if (result.overallResult !== 'Allowed') {
      const why =
        result.overallResult === 'ExplicitlyDenied' ? 'with an explicit deny' : 'because no policy allows it';
      const code = options.code ?? 'AccessDeniedException';
      throw new AwsError(
        code,
        `User: ${assumedRoleArn(session)} is not authorized to perform: ${action} on resource: ${resource} ${why}`,
        code === 'AccessDenied' ? 403 : 400,
      );
    }
  }

  /** aws:userid of the role session that started a session (SSM tags the session with it). */
  ownerUserId(ownerArn: string): string | undefined {
    const m = /^arn:aws:sts::(\d{12}):assumed-role\/([\w+=,.@-]+)\/([\w+=,.@-]+)$/.exec(ownerArn);
    if (!m) return undefined;
    const [, accountId, roleName, sessionName] = m as unknown as [string, string, string, string];
    const roleId = IamRoles.of(this.org).get(accountId, roleName)?.roleId ?? roleIdFor(accountId, roleName);
    return `${roleId}:${sessionName}`;
  }

  /**
   * sts:AssumeRole (and SetSourceIdentity / TagSession when asked for) against the role's trust
   * policy, for roles given in roleTrustPolicies; other roles keep the reduced trust model.
   */
  async authorizeAssumeRole(session: RoleSession, form: URLSearchParams): Promise<void> {
    const roleArnParam = form.get('RoleArn') ?? '';
    const m = /^arn:aws:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/.exec(roleArnParam);
    if (!m) return;
    const [, accountId, roleName] = m as unknown as [string, string, string];
    const trust = this.policies.roleTrustPolicies?.[roleName];
    if (!trust) return;
    const sourceIdentity = form.get('SourceIdentity') ?? undefined;
    const tagged = form.has('Tags.member.1.Key');
    const context = {
      'aws:ResourceOrgID': this.policies.organizationId,
      'sts:RoleSessionName': form.get('RoleSessionName') ?? '',
      ...(sourceIdentity !== undefined ? { 'sts:SourceIdentity': sourceIdentity } : {}),
    };
    const actions = [
      'sts:AssumeRole',
      ...(sourceIdentity !== undefined ? ['sts:SetSourceIdentity'] : []),
      ...(tagged ? ['sts:TagSession'] : []),
    ];
    for (const action of actions) {
      await this.authorize(session, action, roleArnParam, {
        resourceAccount: accountId,
        resourcePolicy: trust,
        context,
        code: 'AccessDenied',
      });
    }
  }

  functionResourcePolicy(name: string): PolicyJson | undefined {
    return this.policies.functionResourcePolicies?.[name];
  }
}
