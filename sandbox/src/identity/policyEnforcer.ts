/**
 * IAM for every call the sandbox serves: each service asks `authorize` with
 * the resource ARN and the condition keys AWS supplies for that call, and the
 * request is judged against the caller's identity policies, the resource's
 * policy (trust policy, function policy) and the SCPs above member accounts,
 * by @cloud-copilot/iam-simulate. The policies come from the org file
 * (orgPolicies.ts) or, per role / permission set, from the `iamPolicies`
 * option (e.g. read from infra's synthesized templates).
 *
 * Decisions are cached: the policies of a sandbox are fixed except when a role
 * is recreated (IamRoles.generation), which clears the cache.
 */
import type { Org, OrgFunction } from '../org/schema';
import { AwsError } from '../http/awsError';
import { IamRoles, type IamRole } from './iamRoles';
import { roleIdFor } from './ids';
import {
  functionResourcePolicy,
  isPerAccount,
  organizationIdOf,
  permissionSetPolicy,
  rolePolicies,
  trustPolicyOf,
  type PolicyJson,
} from './orgPolicies';
import { assumedRoleArn, roleArn, userIdOf, type RoleSession } from './principals';
import { loadEvaluator, type Decision, type Evaluator, type Simulation } from './evaluator';

export type { PolicyJson } from './orgPolicies';

export interface IamPolicies {
  /** aws:PrincipalOrgID of every principal in the org (default: the org file's). */
  organizationId?: string;
  /** Identity policies by role name, replacing what the org file gives those roles. */
  rolePolicies?: Record<string, PolicyJson[]>;
  /** Identity policies by permission set name, replacing the sandbox's stand-in (orgPolicies.ts). */
  permissionSetPolicies?: Record<string, PolicyJson[]>;
  /** SCPs attached above every member account (FullAWSAccess is implied at each level). */
  serviceControlPolicies?: PolicyJson[];
  /** Trust policies by role name, replacing the org file's. */
  roleTrustPolicies?: Record<string, PolicyJson>;
  /** Resource policies by function name, replacing the one the org file's `invokers` make. */
  functionResourcePolicies?: Record<string, PolicyJson>;
}

export interface AuthorizeOptions {
  /** Condition keys of this request beyond the principal's (resource tags, request parameters). */
  context?: Record<string, string | string[]>;
  /** The account that owns the resource (default: the caller's). */
  resourceAccount?: string;
  resourcePolicy?: PolicyJson;
  /** The error the service answers a denial with (default AccessDeniedException, 400). */
  code?: string;
  status?: number;
}

const allowAll: PolicyJson = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
};
const CACHE_LIMIT = 100_000;

/**
 * Whether a statement may apply to `action`: false only when it lists Actions (no NotAction)
 * and none matches, IAM-style (case-insensitive, `*` and `?` wildcards).
 */
export function mayApplyTo(statement: PolicyJson, action: string): boolean {
  if ('NotAction' in statement || !('Action' in statement)) return true;
  const patterns = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
  return patterns.some((pattern) => {
    if (typeof pattern !== 'string') return true;
    const glob = pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    return new RegExp(`^${glob}$`, 'i').test(action);
  });
}

/**
 * An ARN up to its resource type (`arn:aws:iam::111122223333:role`), the resource ID left
 * out; anything else (`*`) as it is.
 */
export function resourceKind(resource: string): string {
  const parts = resource.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return resource;
  const id = parts.slice(5).join(':');
  const type = /^[^/:]*/.exec(id)![0];
  return `${parts.slice(0, 5).join(':')}:${type}\u0000`;
}

/** Every condition key (under any operator) and `${…}` variable a policy names, lower-cased. */
export function conditionKeysOf(policy: PolicyJson): Set<string> {
  const keys = new Set<string>();
  const text = JSON.stringify(policy);
  for (const m of text.matchAll(/\$\{([^}]+)\}/g)) keys.add(m[1]!.split(',')[0]!.trim().toLowerCase());
  const statements = policy.Statement;
  for (const statement of (Array.isArray(statements) ? statements : [statements]) as PolicyJson[]) {
    const condition = statement?.Condition as Record<string, Record<string, unknown>> | undefined;
    for (const operands of Object.values(condition ?? {}))
      for (const key of Object.keys(operands ?? {})) keys.add(key.toLowerCase());
  }
  return keys;
}

export interface PolicyEnforcerOptions {
  /** Also run iam-simulate's validating engine on every decision and fail on any disagreement (tests). */
  crossCheck?: boolean;
  /** Another evaluator module name (tests of the missing case). */
  evaluatorModule?: string;
}

export class PolicyEnforcer {
  private evaluator?: Promise<Evaluator>;
  private readonly decisions = new Map<string, Decision>();
  private readonly derived = new Map<string, PolicyJson[]>();
  private readonly ids = new WeakMap<object, number>();
  private nextId = 1;
  private generation = 0;
  /** Decisions evaluated and answered from the cache, and the time spent evaluating (bench, tests). */
  readonly stats = { evaluated: 0, cached: 0, evaluatingMs: 0 };
  readonly organizationId: string;

  constructor(
    private readonly org: Org,
    private readonly policies: IamPolicies = {},
    private readonly options: PolicyEnforcerOptions = {},
  ) {
    this.organizationId = policies.organizationId ?? organizationIdOf(org);
  }

  /** Which evaluator decides (loaded on first use): see evaluator.ts. */
  evaluatorName(): Promise<string> {
    return this.load().then((e) => e.name);
  }

  private load(): Promise<Evaluator> {
    return (this.evaluator ??= loadEvaluator({
      crossCheck: this.options.crossCheck === true,
      ...(this.options.evaluatorModule ? { module: this.options.evaluatorModule } : {}),
    }));
  }

  private id(value: object): number {
    let id = this.ids.get(value);
    if (id === undefined) this.ids.set(value, (id = this.nextId++));
    return id;
  }

  private memo(key: string, make: () => PolicyJson[]): PolicyJson[] {
    let policies = this.derived.get(key);
    if (!policies) this.derived.set(key, (policies = make()));
    return policies;
  }

  /** The org-file role behind a session, unless it was deleted since (a role made again is another role). */
  private currentRole(session: RoleSession): IamRole | undefined {
    const role = IamRoles.of(this.org).get(session.accountId, session.roleName);
    return role?.roleId === session.roleId ? role : undefined;
  }

  private fromOrgFile(role: IamRole): boolean {
    return role.definition !== undefined && this.org.roles.includes(role.definition);
  }

  /** No identity policy (a deleted role, IdC's roles outside a permission set): one array, so it caches. */
  private static readonly NONE: PolicyJson[] = [];

  private identityPolicies(session: RoleSession): PolicyJson[] {
    const ps = session.permissionSet;
    if (ps) {
      const given = this.policies.permissionSetPolicies?.[ps];
      if (given) return given;
      const set = this.org.permissionSets.find((p) => p.name === ps);
      return set ? this.memo(`ps/${ps}`, () => [permissionSetPolicy(set)]) : PolicyEnforcer.NONE;
    }
    const role = this.currentRole(session);
    if (!role?.definition) return PolicyEnforcer.NONE;
    if (this.fromOrgFile(role)) {
      const given = this.policies.rolePolicies?.[role.roleName];
      if (given) return given;
    }
    const definition = role.definition;
    // One copy for all accounts of the role, unless its JSON names its own account.
    const perAccount = definition.policyDocuments?.some(isPerAccount) ? `/${role.accountId}` : '';
    return this.memo(`role/${this.id(definition)}${perAccount}`, () =>
      rolePolicies(definition, role.accountId),
    );
  }

  private readonly textByPolicy = new WeakMap<object, { text: string; renamable: boolean }>();

  /**
   * Whether the policy's decisions cannot depend on which account ID `account` is: it never
   * names it, has no wildcard next to a digit (that could match part of an ID) and no numeric
   * condition.
   */
  private neverNames(policy: PolicyJson, account: string): boolean {
    let entry = this.textByPolicy.get(policy);
    if (!entry) {
      const text = JSON.stringify(policy);
      entry = { text, renamable: !/[0-9][*?]|[*?][0-9]|Numeric/.test(text) };
      this.textByPolicy.set(policy, entry);
    }
    return entry.renamable && !entry.text.includes(account);
  }

  private readonly anyResourceByPolicy = new WeakMap<object, Map<string, boolean>>();

  /**
   * Whether no statement of the policy that may apply to `action` can tell one resource from
   * another: each has `Resource: "*"` (alone or in its list) and no NotResource. A statement
   * applies unless its Action list (no NotAction) matches no pattern of `action`. Conditions
   * on the resource's tags or account still can, but those are in the request's context and
   * account, not its ARN.
   */
  private anyResource(policy: PolicyJson, action: string): boolean {
    let byAction = this.anyResourceByPolicy.get(policy);
    if (!byAction) this.anyResourceByPolicy.set(policy, (byAction = new Map()));
    let known = byAction.get(action);
    if (known === undefined) {
      const statements = policy.Statement;
      known = ((Array.isArray(statements) ? statements : [statements]) as PolicyJson[]).every((statement) => {
        if (statement === null || typeof statement !== 'object') return false;
        if (!mayApplyTo(statement, action)) return true;
        return (
          !('NotResource' in statement) &&
          (statement.Resource === '*' ||
            (Array.isArray(statement.Resource) && statement.Resource.includes('*')))
        );
      });
      byAction.set(action, known);
    }
    return known;
  }

  private readonly keysByPolicy = new WeakMap<object, Set<string>>();

  /** Condition keys and policy variables (lower case) the policies read. */
  private keysRead(policies: PolicyJson[]): Set<string> {
    const all = new Set<string>();
    for (const policy of policies) {
      let keys = this.keysByPolicy.get(policy);
      if (!keys) this.keysByPolicy.set(policy, (keys = conditionKeysOf(policy)));
      for (const k of keys) all.add(k);
    }
    return all;
  }

  private principalTags(session: RoleSession): Record<string, string> {
    const roleTags = session.permissionSet ? {} : (this.currentRole(session)?.definition?.tags ?? {});
    return { ...roleTags, ...session.sessionTags };
  }

  private memberAccounts?: { of: Org['accounts']; ids: Set<string> };

  /** A Set, not a scan of the org's accounts: this is asked on every call, of thousands of accounts. */
  private isMember(accountId: string): boolean {
    if (this.memberAccounts?.of !== this.org.accounts)
      this.memberAccounts = {
        of: this.org.accounts,
        ids: new Set(this.org.accounts.filter((a) => a.member !== false).map((a) => a.id)),
      };
    return this.memberAccounts.ids.has(accountId);
  }

  /** Throws the service's access-denied error unless IAM allows `action` on `resource`. */
  async authorize(
    session: RoleSession,
    action: string,
    resource: string,
    options: AuthorizeOptions = {},
  ): Promise<void> {
    const decision = await this.decide(session, action, resource, options);
    if (decision === 'Allowed') return;
    const why =
      decision === 'ExplicitlyDenied'
        ? 'with an explicit deny'
        : options.resourcePolicy
          ? `because no identity-based or resource-based policy allows the ${action} action`
          : `because no identity-based policy allows the ${action} action`;
    const code = options.code ?? 'AccessDeniedException';
    throw new AwsError(
      code,
      `User: ${assumedRoleArn(session)} is not authorized to perform: ${action} on resource: ${resource} ${why}`,
      options.status ?? (code === 'AccessDenied' ? 403 : 400),
    );
  }

  async decide(
    session: RoleSession,
    action: string,
    resource: string,
    options: AuthorizeOptions = {},
  ): Promise<Decision> {
    const roles = IamRoles.of(this.org);
    if (roles.generation !== this.generation) {
      this.generation = roles.generation;
      this.decisions.clear();
      this.derived.clear();
    }
    const identityPolicies = this.identityPolicies(session);
    const scps = this.isMember(session.accountId) ? (this.policies.serviceControlPolicies ?? []) : [];
    const tags = this.principalTags(session);
    const contextVariables: Record<string, string | string[]> = {
      'aws:PrincipalArn': roleArn(session),
      'aws:PrincipalAccount': session.accountId,
      'aws:PrincipalType': 'AssumedRole',
      'aws:userid': userIdOf(session),
      'aws:PrincipalOrgID': this.organizationId,
      'aws:PrincipalIsAWSService': 'false',
      ...(session.sourceIdentity !== undefined ? { 'aws:SourceIdentity': session.sourceIdentity } : {}),
      ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:PrincipalTag/${k}`, v])),
      ...options.context,
    };
    const resourceAccount = options.resourceAccount ?? session.accountId;
    // Only keys some policy of this request reads can change its decision: the others are left
    // out of the request (faster to evaluate) and out of the cache key (more hits).
    const read = this.keysRead([
      ...identityPolicies,
      ...scps,
      ...(options.resourcePolicy ? [options.resourcePolicy] : []),
    ]);
    for (const name of Object.keys(contextVariables))
      if (!read.has(name.toLowerCase())) delete contextVariables[name];
    const involved = [
      ...identityPolicies,
      ...scps,
      ...(options.resourcePolicy ? [options.resourcePolicy] : []),
    ];
    // When no policy of the request tells resources apart, one decision serves every resource of
    // the same kind (service, region, account, type): e.g. iam:GetRole of each account's many
    // IdC roles under a `Resource: "*"` policy, instead of one evaluation per role.
    const resourceInKey = involved.every((policy) => this.anyResource(policy, action))
      ? resourceKind(resource)
      : resource;
    let key = JSON.stringify([
      this.id(identityPolicies),
      scps.length > 0,
      options.resourcePolicy ? this.id(options.resourcePolicy) : 0,
      assumedRoleArn(session),
      action,
      resourceInKey,
      resourceAccount,
      contextVariables,
    ]);
    // An account no policy of the request names can be renamed without changing the decision
    // (caller and resource account keep being equal or not): the cache key names it by its role,
    // so one decision serves the same request from every such account. NUL never occurs in a request.
    [...new Set([session.accountId, resourceAccount])].forEach((account, i) => {
      if (involved.every((policy) => this.neverNames(policy, account)))
        key = key.replaceAll(account, `\u0000${i}\u0000`);
    });
    const known = this.decisions.get(key);
    if (known !== undefined) {
      this.stats.cached++;
      return known;
    }
    const simulation: Simulation = {
      request: {
        principal: assumedRoleArn(session),
        action,
        resource: { resource, accountId: resourceAccount },
        contextVariables,
      },
      identityPolicies: identityPolicies.map((policy, i) => ({ name: `identity${i}`, policy })),
      // No SCP given: nothing above the account restricts it (as FullAWSAccess at every level).
      serviceControlPolicies:
        scps.length === 0
          ? []
          : [
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
    };
    const evaluator = await this.load();
    const started = performance.now();
    const decision = await evaluator.evaluate(simulation);
    this.stats.evaluatingMs += performance.now() - started;
    this.stats.evaluated++;
    if (this.decisions.size >= CACHE_LIMIT) this.decisions.clear();
    this.decisions.set(key, decision);
    return decision;
  }

  /**
   * sts:AssumeRole, and sts:SetSourceIdentity / sts:TagSession when the request
   * sets a source identity or session tags, against the role's trust policy.
   * A role that does not exist is denied as AWS denies it (AccessDenied).
   */
  async authorizeAssumeRole(
    session: RoleSession,
    request: {
      roleArn: string;
      accountId: string;
      role: IamRole | undefined;
      sessionName: string;
      sourceIdentity?: string;
      tags: Map<string, string>;
      transitiveTagKeys: string[];
    },
  ): Promise<void> {
    const { role } = request;
    const denied = (action: string) =>
      new AwsError(
        'AccessDenied',
        `User: ${assumedRoleArn(session)} is not authorized to perform: ${action} on resource: ${request.roleArn}`,
        403,
      );
    if (!role) throw denied('sts:AssumeRole');
    const trust =
      (this.fromOrgFile(role) ? this.policies.roleTrustPolicies?.[role.roleName] : undefined) ??
      this.memo(this.trustKey(role), () => [trustPolicyOf(this.org, role)])[0]!;
    const roleTags = Object.entries(role.definition?.tags ?? {});
    const context: Record<string, string | string[]> = {
      'aws:ResourceOrgID': this.organizationId,
      'aws:ResourceAccount': role.accountId,
      'sts:RoleSessionName': request.sessionName,
      ...(request.sourceIdentity !== undefined ? { 'sts:SourceIdentity': request.sourceIdentity } : {}),
      ...Object.fromEntries(
        roleTags.flatMap(([k, v]) => [
          [`aws:ResourceTag/${k}`, v],
          [`iam:ResourceTag/${k}`, v],
        ]),
      ),
      ...Object.fromEntries([...request.tags].map(([k, v]) => [`aws:RequestTag/${k}`, v])),
      ...(request.tags.size > 0 ? { 'aws:TagKeys': [...request.tags.keys()] } : {}),
      ...(request.transitiveTagKeys.length > 0 ? { 'sts:TransitiveTagKeys': request.transitiveTagKeys } : {}),
    };
    const actions = [
      'sts:AssumeRole',
      ...(request.sourceIdentity !== undefined ? ['sts:SetSourceIdentity'] : []),
      ...(request.tags.size > 0 ? ['sts:TagSession'] : []),
    ];
    for (const action of actions) {
      const decision = await this.decide(session, action, role.arn, {
        resourceAccount: role.accountId,
        resourcePolicy: trust,
        context,
      });
      if (decision !== 'Allowed') throw denied(action);
    }
  }

  /** Trust written in short form is the same in every account; IdC's and per-account JSON are not. */
  private trustKey(role: IamRole): string {
    const definition = role.definition;
    if (!definition || (definition.trustPolicy && isPerAccount(definition.trustPolicy)))
      return `trust/${role.roleId}`;
    return `trust/${this.id(definition)}`;
  }

  /** The function's resource policy: given in `iamPolicies`, else what its `invokers` make. */
  functionResourcePolicy(fn: OrgFunction): PolicyJson {
    return (
      this.policies.functionResourcePolicies?.[fn.name] ??
      this.memo(`fn/${fn.account}/${fn.region}/${fn.name}`, () => [
        functionResourcePolicy(fn, this.organizationId),
      ])[0]!
    );
  }

  /** aws:userid of the role session that started a session (SSM tags the session with it). */
  ownerUserId(ownerArn: string): string | undefined {
    const m = /^arn:aws:sts::(\d{12}):assumed-role\/([\w+=,.@-]+)\/([\w+=,.@-]+)$/.exec(ownerArn);
    if (!m) return undefined;
    const [, accountId, roleName, sessionName] = m as unknown as [string, string, string, string];
    const roleId = IamRoles.of(this.org).get(accountId, roleName)?.roleId ?? roleIdFor(accountId, roleName);
    return `${roleId}:${sessionName}`;
  }
}
