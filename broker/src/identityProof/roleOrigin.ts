/**
 * Was the caller's role made by IAM Identity Center? STS's assumed-role ARN
 * carries no path, so `AWSReservedSSO_<PermissionSet>_<suffix>` is only a name
 * anyone able to create roles could choose. IAM knows better: IdC creates its
 * roles under `/aws-reserved/sso.amazonaws.com/` (optionally followed by a
 * region segment), a path only AWS may use. The broker reads the role with
 * iam:GetRole in the caller's account (as the member target role) and also
 * requires its RoleId to be the one STS reported for the caller, so a role
 * deleted and created again under the name is not taken for the one checked.
 * The deployed target role may call GetRole only on roles under that path, so
 * IAM answers AccessDenied for a look-alike elsewhere: that too is a refusal
 * (IdentityRejected, audited), not a broker failure.
 */
import { BrokerError } from '../errors';
import type { RoleFacts, RoleUnreadable } from '../memberAccount';
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

/** IAM's answer for a role, and the caller RoleId it was asked for. */
interface CachedAnswer {
  askedFor: string;
  answer: RoleFacts | 'AccessDenied';
}

export class RoleOriginCheck {
  private readonly cache: TtlCache<CachedAnswer>;

  constructor(
    /** Reads the caller's role in its own account (GetRole as the member target role). */
    private readonly getRole: (caller: Caller) => Promise<RoleFacts | RoleUnreadable>,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.cache = new TtlCache<CachedAnswer>(2000, now);
  }

  /** Throws IdentityRejected unless the caller's role is the IdC-provisioned role STS named. */
  async verify(caller: Caller): Promise<void> {
    const key = `${caller.partition}|${caller.accountId}|${caller.roleName}`;
    const cached = this.cache.get(key);
    let facts = cached?.askedFor === caller.roleId ? cached.answer : undefined;
    // What IAM said is reused only for the same role; another RoleId means asking again.
    if (facts === undefined) {
      const answer = await this.getRole(caller);
      // A missing role is not remembered: IdC may be about to create it.
      if (answer === 'NoSuchEntity')
        throw refused(`role ${caller.roleName} does not exist in ${caller.accountId}`);
      facts = answer;
      this.cache.set(key, { askedFor: caller.roleId, answer }, this.now() + this.ttlMs);
    }
    if (facts === 'AccessDenied')
      throw refused(
        `role ${caller.roleName} in ${caller.accountId} is not under IAM Identity Center's /aws-reserved/sso.amazonaws.com/: IAM denied the target role iam:GetRole on it (it may read only roles there)`,
      );
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
