/**
 * Was the caller's role made by IAM Identity Center? STS's assumed-role ARN
 * carries no path, so `AWSReservedSSO_<PermissionSet>_<suffix>` is only a name
 * anyone able to create roles could choose. IAM knows better: IdC creates its
 * roles under `/aws-reserved/sso.amazonaws.com/` (optionally followed by a
 * region segment), a path only AWS may use. The broker reads the role with
 * iam:GetRole in the caller's account (as the member target role) and also
 * requires its RoleId to be the one STS reported for the caller, so a role
 * deleted and created again under the name is not taken for the one checked.
 */
import { BrokerError } from '../errors';
import type { RoleFacts } from '../memberAccount';
import { TtlCache } from '../ttlCache';
import type { Caller } from './callerIdentity';

/** `/aws-reserved/sso.amazonaws.com/` or `/aws-reserved/sso.amazonaws.com/<region>/`. */
export const IDENTITY_CENTER_ROLE_PATH =
  /^\/aws-reserved\/sso\.amazonaws\.com\/(?:[a-z]{2}(?:-[a-z]+)+-\d{1,2}\/)?$/;

const refused = (reason: string) =>
  new BrokerError(
    'IdentityRejected',
    'RoleShell works only with IAM Identity Center permission sets; sign in through your start URL.',
    reason,
  );

export class RoleOriginCheck {
  private readonly cache: TtlCache<RoleFacts>;

  constructor(
    /** Reads the caller's role in its own account (GetRole as the member target role). */
    private readonly getRole: (caller: Caller) => Promise<RoleFacts | undefined>,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.cache = new TtlCache<RoleFacts>(2000, now);
  }

  /** Throws IdentityRejected unless the caller's role is the IdC-provisioned role STS named. */
  async verify(caller: Caller): Promise<void> {
    const key = `${caller.partition}|${caller.accountId}|${caller.roleName}`;
    let facts = this.cache.get(key);
    // What IAM said is reused only for the same role; another RoleId means asking again.
    if (facts?.roleId !== caller.roleId) {
      facts = await this.getRole(caller);
      if (facts) this.cache.set(key, facts, this.now() + this.ttlMs);
    }
    if (!facts) throw refused(`role ${caller.roleName} does not exist in ${caller.accountId}`);
    if (!IDENTITY_CENTER_ROLE_PATH.test(facts.path))
      throw refused(
        `role ${caller.roleName} has path ${facts.path}, not IAM Identity Center's /aws-reserved/sso.amazonaws.com/`,
      );
    if (facts.roleId !== caller.roleId)
      throw refused(
        `role ${caller.roleName} is ${facts.roleId} but the caller's session is of ${caller.roleId} (deleted and recreated)`,
      );
  }
}
