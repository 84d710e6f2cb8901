/** Org objects for tests: the default org plus whatever a test adds. */
import { loadOrg } from '../org/load';
import type { OrgFile } from '../org/schema';

/** The default org (parsed), with `extra` roles / functions / instances / documents appended. */
export function defaultOrgWith(
  extra: Partial<
    Pick<OrgFile, 'roles' | 'functions' | 'instances' | 'sessionDocuments' | 'permissionSets'>
  > = {},
): OrgFile {
  const org = structuredClone(loadOrg().org) as OrgFile;
  return {
    ...org,
    roles: [...(org.roles ?? []), ...(extra.roles ?? [])],
    functions: [...(org.functions ?? []), ...(extra.functions ?? [])],
    instances: [...(org.instances ?? []), ...(extra.instances ?? [])],
    sessionDocuments: [...(org.sessionDocuments ?? []), ...(extra.sessionDocuments ?? [])],
    permissionSets: [...(org.permissionSets ?? []), ...(extra.permissionSets ?? [])],
  };
}
