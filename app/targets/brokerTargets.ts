/** Broker mode: the broker lists what this permission set may reach, and the Linux user it maps to. */
import type { ListTargetsResult } from '../../broker/src/contract';
import type { BrokerClient } from '../brokerClient/brokerClient';
import type { RoleCredentials } from '../portal/types';
import { targetKey, type TargetList } from './types';

export interface BrokerListingInput {
  accountId: string;
  accountName: string;
  permissionSet: string;
}

export async function listBrokerTargets(
  input: BrokerListingInput & { broker: BrokerClient; credentials: RoleCredentials; regions: string[] },
): Promise<TargetList> {
  return toTargetList(await input.broker.listTargets(input.credentials, input.regions), input);
}

/** The broker's answer for one (account, permission set) as the browse list shows it: deduplicated, sorted. */
export function toTargetList(result: ListTargetsResult, input: BrokerListingInput): TargetList {
  const seen = new Set<string>();
  const rows = [];
  for (const t of result.targets) {
    const base = {
      accountId: t.accountId || input.accountId,
      permissionSet: input.permissionSet,
      region: t.region,
      instanceId: t.instanceId,
    };
    const key = targetKey(base);
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push({
      ...base,
      key,
      accountName: input.accountName,
      linuxUser: t.linuxUser || result.linuxUser || null,
      name: t.name || t.instanceId,
      platform: t.platform || 'Unknown',
      pingStatus: t.pingStatus || 'Unknown',
      tags: t.tags ?? {},
    });
  }
  rows.sort((a, b) => a.name.localeCompare(b.name) || a.instanceId.localeCompare(b.instanceId));
  return {
    accountId: input.accountId,
    permissionSet: input.permissionSet,
    mode: 'broker',
    linuxUser: result.linuxUser || null,
    documentName: result.documentName,
    rows,
  };
}
