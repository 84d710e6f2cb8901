/** Broker mode: the broker lists what this permission set may reach, and the Linux user it maps to. */
import type { BrokerClient } from '../brokerClient/brokerClient';
import type { RoleCredentials } from '../portal/types';
import { targetKey, type TargetList } from './types';

export async function listBrokerTargets(input: {
  broker: BrokerClient;
  credentials: RoleCredentials;
  accountId: string;
  accountName: string;
  permissionSet: string;
  regions: string[];
}): Promise<TargetList> {
  const result = await input.broker.listTargets(input.credentials, input.regions);
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
