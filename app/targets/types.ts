/** One instance a permission set can reach, as the browse list shows it. No credentials. */
export interface TargetRow {
  /** `<accountId>/<permissionSet>/<region>/<instanceId>`: stable across reloads, used for favourites. */
  key: string;
  accountId: string;
  accountName: string;
  permissionSet: string;
  /** The Linux user a session as this permission set runs as; null when it cannot be known. */
  linuxUser: string | null;
  instanceId: string;
  name: string;
  region: string;
  platform: string;
  /** SSM ping status: Online, ConnectionLost, Inactive; NotRegistered for EC2 instances SSM does not know. */
  pingStatus: string;
  /** The instance's EC2/SSM tags (searchable in the launcher). */
  tags: Record<string, string>;
}

/** The instances of one (account, permission set), with the mapped Linux user. */
export interface TargetList {
  accountId: string;
  permissionSet: string;
  mode: 'broker' | 'direct';
  linuxUser: string | null;
  documentName: string;
  rows: TargetRow[];
}

export const PERMISSION_SETS_TAG = 'roleshell:permission-sets';

export function targetKey(t: {
  accountId: string;
  permissionSet: string;
  region: string;
  instanceId: string;
}): string {
  return `${t.accountId}/${t.permissionSet}/${t.region}/${t.instanceId}`;
}
