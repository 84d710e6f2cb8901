/**
 * The org's instances by (account, region), built once: the SSM and tagging
 * listings are asked per account and region, and a 5,000-account org has
 * 100,000 instances, which a scan per request would walk every time.
 */
import type { Org, OrgInstance } from './schema';

const indexes = new WeakMap<Org, Map<string, OrgInstance[]>>();

export function instancesIn(org: Org, accountId: string, region: string): OrgInstance[] {
  let index = indexes.get(org);
  if (!index) {
    index = new Map();
    for (const instance of org.instances) {
      const key = `${instance.account}|${instance.region}`;
      const list = index.get(key);
      if (list) list.push(instance);
      else index.set(key, [instance]);
    }
    indexes.set(org, index);
  }
  return index.get(`${accountId}|${region}`) ?? [];
}
