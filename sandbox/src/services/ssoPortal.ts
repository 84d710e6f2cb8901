/**
 * IAM Identity Center portal (sso, rest-json, bearer token in
 * `x-amz-sso_bearer_token`): ListAccounts, ListAccountRoles, GetRoleCredentials,
 * Logout. Role credentials are for AWSReservedSSO_<PermissionSet>_<suffix> roles
 * with the IdC user name as the role session name.
 */
import type { Org } from '../org/schema';
import { AwsError, type WireResponse } from '../http/awsError';
import { header, json, type RequestContext } from '../http/context';
import { page } from '../http/pagination';
import { IamRoles, permissionSetRoleName } from '../identity/iamRoles';
import type { CredentialStore } from '../identity/principals';
import type { IdentityCenterOidc } from './ssoOidc';

export interface PortalOptions {
  rateLimit?: { requests: number; perSeconds: number };
  /** Overrides each permission set's session duration (tests use seconds). */
  roleCredentialLifetimeSeconds?: number;
}

export { permissionSetRoleName };

/** The permission sets `userName` holds in each account, in org order. */
export function assignmentsOf(org: Org, userName: string): Map<string, string[]> {
  const byAccount = new Map<string, string[]>();
  for (const account of org.accounts) {
    const sets = org.permissionSets
      .filter((ps) => ps.assignments.some((a) => a.user === userName && a.accounts.includes(account.id)))
      .map((ps) => ps.name);
    if (sets.length) byAccount.set(account.id, sets);
  }
  return byAccount;
}

export class IdentityCenterPortal {
  private readonly calls = new Map<string, number[]>();
  private readonly assignmentCache = new Map<string, Map<string, string[]>>();

  constructor(
    private readonly org: Org,
    private readonly oidc: IdentityCenterOidc,
    private readonly credentials: CredentialStore,
    private readonly options: PortalOptions,
  ) {}

  handle(ctx: RequestContext): WireResponse {
    ctx.trail.eventSource = 'sso.amazonaws.com';
    ctx.trail.awsRegion = this.org.region;
    ctx.trail.userIdentity = { type: 'Unknown' };
    const path = ctx.url.pathname;
    const q = ctx.url.searchParams;
    ctx.trail.eventName =
      path === '/assignment/accounts'
        ? 'ListAccounts'
        : path === '/assignment/roles'
          ? 'ListAccountRoles'
          : path === '/federation/credentials'
            ? 'GetRoleCredentials'
            : path === '/logout'
              ? 'Logout'
              : undefined;
    if (!ctx.trail.eventName)
      throw new AwsError('ResourceNotFoundException', `No such resource ${path}`, 404);
    const token = header(ctx, 'x-amz-sso_bearer_token');
    const grant = this.oidc.accessTokenGrant(token);
    if (!grant) throw new AwsError('UnauthorizedException', 'Session token not found or invalid', 401);
    const user = this.org.users.find((u) => u.userName === grant.userName)!;
    ctx.trail.userIdentity = {
      type: 'IdentityCenterUser',
      userName: user.userName,
      onBehalfOf: {
        userId: user.userId,
        identityStoreArn: `arn:aws:identitystore::${this.org.accounts[0]!.id}:identitystore/${this.org.identityStoreId}`,
      },
    };
    this.throttle(token!);

    if (path === '/logout') {
      this.oidc.logout(token);
      return { status: 200, headers: {}, body: '' };
    }
    const assignments = this.assignments(user.userName);
    const maxResults = (name: string) => {
      const raw = q.get(name);
      if (raw === null) return 20;
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 1 || n > 100)
        throw new AwsError('InvalidRequestException', `${name} must be an integer from 1 to 100`, 400);
      return n;
    };

    if (path === '/assignment/accounts') {
      const size = maxResults('max_result');
      ctx.trail.requestParameters = { maxResults: size };
      const scope = `accounts/${user.userName}`;
      const accounts = this.org.accounts.filter((a) => assignments.has(a.id));
      const p = page(accounts, {
        token: q.get('next_token'),
        size,
        scope,
        invalidTokenCode: 'InvalidRequestException',
      });
      return json(200, {
        accountList: p.items.map((a) => ({ accountId: a.id, accountName: a.name, emailAddress: a.email })),
        ...(p.nextToken ? { nextToken: p.nextToken } : {}),
      });
    }

    const accountId = q.get('account_id') ?? '';
    if (path === '/assignment/roles') {
      const size = maxResults('max_result');
      ctx.trail.requestParameters = { accountId, maxResults: size };
      if (!/^\d{12}$/.test(accountId))
        throw new AwsError('InvalidRequestException', 'account_id must be a 12-digit account ID', 400);
      const scope = `roles/${user.userName}/${accountId}`;
      const p = page(assignments.get(accountId) ?? [], {
        token: q.get('next_token'),
        size,
        scope,
        invalidTokenCode: 'InvalidRequestException',
      });
      return json(200, {
        roleList: p.items.map((roleName) => ({ roleName, accountId })),
        ...(p.nextToken ? { nextToken: p.nextToken } : {}),
      });
    }

    // GetRoleCredentials
    const roleName = q.get('role_name') ?? '';
    ctx.trail.requestParameters = { accountId, roleName };
    if (!roleName || !/^\d{12}$/.test(accountId))
      throw new AwsError('InvalidRequestException', 'role_name and a 12-digit account_id are required', 400);
    const ps = this.org.permissionSets.find((p) => p.name === roleName);
    if (!ps || !(assignments.get(accountId) ?? []).includes(roleName))
      throw new AwsError('ForbiddenException', 'No access', 403);
    // The role IdC provisioned in the account; one deleted and made again by someone else is not it.
    const role = IamRoles.of(this.org).get(accountId, permissionSetRoleName(this.org, accountId, ps.name));
    if (role?.permissionSet !== ps.name)
      throw new AwsError('ForbiddenException', 'No access: the permission set role is missing', 403);
    const issued = this.credentials.issue(
      {
        accountId,
        roleName: role.roleName,
        rolePath: role.path,
        roleId: role.roleId,
        sessionName: user.userName,
        permissionSet: ps.name,
        idcUser: { userName: user.userName, userId: user.userId },
      },
      this.options.roleCredentialLifetimeSeconds ?? ps.sessionDurationSeconds,
    );
    ctx.trail.responseElements = {
      roleCredentials: { accessKeyId: issued.accessKeyId, expiration: issued.expiration.getTime() },
    };
    ctx.trail.recipientAccountId = accountId;
    return json(200, {
      roleCredentials: {
        accessKeyId: issued.accessKeyId,
        secretAccessKey: issued.secretAccessKey,
        sessionToken: issued.sessionToken,
        expiration: issued.expiration.getTime(),
      },
    });
  }

  private assignments(userName: string): Map<string, string[]> {
    let a = this.assignmentCache.get(userName);
    if (!a) this.assignmentCache.set(userName, (a = assignmentsOf(this.org, userName)));
    return a;
  }

  /** Per-token sliding window; over the limit -> TooManyRequestsException (429). */
  private throttle(token: string): void {
    const limit = this.options.rateLimit;
    if (!limit) return;
    const now = Date.now();
    const windowStart = now - limit.perSeconds * 1000;
    const calls = (this.calls.get(token) ?? []).filter((t) => t > windowStart);
    if (calls.length >= limit.requests) {
      this.calls.set(token, calls);
      throw new AwsError('TooManyRequestsException', 'Rate exceeded', 429);
    }
    calls.push(now);
    this.calls.set(token, calls);
  }
}
