/**
 * Which instances a permission set may reach: those tagged
 * roleshell:permission-sets with the permission set's name or `*`.
 */
import { BrokerError } from './errors';

export const PERMISSION_SETS_TAG = 'roleshell:permission-sets';

/** True when the comma-separated tag value lists the permission set (exact, case-sensitive) or `*`. */
export function tagAllowsPermissionSet(tagValue: string | undefined, permissionSet: string): boolean {
  if (tagValue === undefined) return false;
  return tagValue
    .split(',')
    .map((entry) => entry.trim())
    .some((entry) => entry === '*' || entry === permissionSet);
}

export interface TargetFacts {
  instanceId: string;
  /** Instance tags; undefined when the instance does not exist in the account and region. */
  tags: Record<string, string> | undefined;
}

/**
 * Throws the right BrokerError unless the permission set may open a session on the target.
 * Whether its agent is connected is StartSession's own check (TargetNotConnected): asking SSM
 * first as well would only add a round trip to every start.
 */
export function authorizeTarget(facts: TargetFacts, permissionSet: string): void {
  if (facts.tags === undefined) {
    throw new BrokerError(
      'TargetNotFound',
      `Instance ${facts.instanceId} was not found in this account and region.`,
      'instance not found',
    );
  }
  if (!tagAllowsPermissionSet(facts.tags[PERMISSION_SETS_TAG], permissionSet)) {
    const tag = facts.tags[PERMISSION_SETS_TAG];
    throw new BrokerError(
      'AccessDenied',
      `Permission set ${permissionSet} may not open sessions on instance ${facts.instanceId}.`,
      tag === undefined
        ? `instance has no ${PERMISSION_SETS_TAG} tag`
        : `${PERMISSION_SETS_TAG}=${tag} does not list ${permissionSet}`,
    );
  }
}

/** StartSession's TargetNotConnected, worded for the caller. */
export function targetNotConnected(instanceId: string): BrokerError {
  return new BrokerError(
    'TargetNotConnected',
    `Instance ${instanceId} is not connected to Session Manager right now; check that it is running and its SSM agent is online.`,
    'StartSession: TargetNotConnected',
  );
}
