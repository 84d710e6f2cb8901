/**
 * From the app core's per-(account, permission set) lists to the launcher's
 * model: one row per instance, carrying every permission set that reaches it
 * with the Linux user each maps to.
 */
import type { SavedTarget, TargetList, TargetRow } from '../../../app/api/calls/browse';

/** One way to reach an instance: a permission set and the Linux user its sessions run as. */
export interface Access {
  permissionSet: string;
  linuxUser: string | null;
  /** The app core's key for this (instance, permission set); favourites and recents use it. */
  targetKey: string;
}

export interface InstanceRow {
  /** `<accountId>/<region>/<instanceId>`. */
  key: string;
  accountId: string;
  accountName: string;
  region: string;
  instanceId: string;
  name: string;
  platform: string;
  pingStatus: string;
  tags: Record<string, string>;
  /** Sorted by permission set name: the stable order of the Connect-as menu. */
  access: Access[];
}

export const instanceKey = (t: { accountId: string; region: string; instanceId: string }) =>
  `${t.accountId}/${t.region}/${t.instanceId}`;

/**
 * Merges lists into rows. `previous` lets a new list be added without rebuilding
 * rows it does not touch (rows arrive one list at a time while loading).
 */
export function mergeLists(
  lists: Iterable<TargetList>,
  previous: ReadonlyMap<string, InstanceRow> = new Map(),
): Map<string, InstanceRow> {
  const rows = new Map(previous);
  for (const list of lists) {
    for (const target of list.rows) addTarget(rows, target);
  }
  return rows;
}

function addTarget(rows: Map<string, InstanceRow>, target: TargetRow): void {
  const key = instanceKey(target);
  const access: Access = {
    permissionSet: target.permissionSet,
    linuxUser: target.linuxUser,
    targetKey: target.key,
  };
  const existing = rows.get(key);
  if (!existing) {
    rows.set(key, {
      key,
      accountId: target.accountId,
      accountName: target.accountName,
      region: target.region,
      instanceId: target.instanceId,
      name: target.name,
      platform: target.platform,
      pingStatus: target.pingStatus,
      tags: target.tags ?? {},
      access: [access],
    });
    return;
  }
  // A copy, so React sees the row change; newest facts (status) win.
  const others = existing.access.filter((a) => a.permissionSet !== target.permissionSet);
  rows.set(key, {
    ...existing,
    pingStatus: target.pingStatus,
    tags: { ...existing.tags, ...target.tags },
    access: [...others, access].sort((a, b) => a.permissionSet.localeCompare(b.permissionSet)),
  });
}

/** The Connect-as main action: the mapping used most recently for this instance, else the first. */
export function defaultAccess(row: InstanceRow, recents: readonly SavedTarget[]): Access {
  for (const recent of recents) {
    if (instanceKey(recent) !== row.key) continue;
    const found = row.access.find((a) => a.permissionSet === recent.permissionSet);
    if (found) return found;
  }
  return row.access[0]!;
}

export const userLabel = (access: Access) => access.linuxUser ?? 'unknown user';

/** What the app core stores for a favourite or recent. */
export function savedTarget(row: InstanceRow, access: Access): Omit<SavedTarget, 'at'> {
  return {
    key: access.targetKey,
    accountId: row.accountId,
    accountName: row.accountName,
    permissionSet: access.permissionSet,
    region: row.region,
    instanceId: row.instanceId,
    name: row.name,
    linuxUser: access.linuxUser,
  };
}

export const statusLabel: Record<string, string> = {
  Online: 'Online',
  ConnectionLost: 'Offline',
  Inactive: 'Inactive',
  NotRegistered: 'Not in SSM',
};

/** Why no session can start on the instance (its SSM agent is not connected), or null when it can. */
export function notConnectableReason(row: Pick<InstanceRow, 'name' | 'pingStatus'>): string | null {
  if (row.pingStatus === 'Online') return null;
  const status = Object.hasOwn(statusLabel, row.pingStatus) ? statusLabel[row.pingStatus] : row.pingStatus;
  return `${row.name} is ${status ?? 'not online'} in Systems Manager: its SSM agent is not connected, so no session can start.`;
}

/**
 * The broker's refusal for an account that has no RoleShell member role. It is
 * not an error the user can fix, so the launcher shows it as a notice in that
 * account's place. Matched on the broker's own sentence (broker/src/aws/memberAccess.ts).
 */
const notSetUp = /RoleShell is not set up in account (\d{12})/;
export function accountWithoutRoleShell(message: string): string | null {
  return notSetUp.exec(message)?.[1] ?? null;
}
