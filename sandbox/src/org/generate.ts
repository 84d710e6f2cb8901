/**
 * A large, deterministic org for benchmarks: many accounts, a few permission sets
 * assigned to one user everywhere, and many instances spread across accounts and
 * two regions.
 */
import type { OrgFile } from './schema';

export interface GenerateOrgOptions {
  accounts: number;
  permissionSets: number;
  instances: number;
  /** IdC user names; the first is assigned every permission set in every member account. */
  users?: string[];
  regions?: string[];
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

export function generateOrg(options: GenerateOrgOptions): OrgFile {
  const users = options.users ?? ['alice', 'bob'];
  const regions = options.regions ?? ['eu-west-1', 'us-east-1'];
  const central = '100000000000';
  const memberIds = Array.from({ length: options.accounts }, (_, i) => String(200_000_000_000 + i));
  const psNames = Array.from({ length: options.permissionSets }, (_, i) =>
    i === 0 ? 'AdministratorAccess' : i === 1 ? 'Support_Tier1' : `PermissionSet${i}`,
  );
  return {
    startUrl: 'https://roleshell-bench.awsapps.com/start',
    region: regions[0] ?? 'eu-west-1',
    identityStoreId: 'd-00000000b0',
    users: users.map((userName, i) => ({
      userName,
      userId: `00000000-0000-4000-8000-${hex(i, 12)}`,
      displayName: userName,
      email: `${userName}@example.com`,
    })),
    accounts: [
      { id: central, name: 'central', email: 'central@example.com', member: false },
      ...memberIds.map((id, i) => ({ id, name: `member-${i}`, email: `member-${i}@example.com` })),
    ],
    permissionSets: psNames.map((name, p) => ({
      name,
      sessionDocuments: [`RoleShell-${name}`],
      assignments: users
        .map((user, u) => ({
          user,
          // The first user has everything; others get every other account.
          accounts: u === 0 ? memberIds : memberIds.filter((_, i) => (i + p) % 2 === 0).slice(0, 1000),
        }))
        .filter((a) => a.accounts.length > 0),
    })),
    sessionDocuments: psNames.map((name, p) => ({
      name: `RoleShell-${name}`,
      accounts: memberIds,
      content: {
        schemaVersion: '1.0',
        sessionType: 'Standard_Stream',
        inputs: { runAsEnabled: true, runAsDefaultUser: `ps${p}-user`, idleSessionTimeout: '20' },
      },
    })),
    roles: [
      {
        name: 'RoleShellBrokerExecution',
        accounts: [central],
        trust: { services: ['lambda.amazonaws.com'] },
        policy: { actions: ['sts:AssumeRole', 'sts:SetSourceIdentity', 'sts:TagSession'] },
      },
      {
        name: 'RoleShellTarget',
        accounts: memberIds,
        trust: {
          principals: [`arn:aws:iam::${central}:role/RoleShellBrokerExecution`],
          setSourceIdentity: true,
          tagSession: true,
        },
        policy: {
          actions: [
            'ssm:StartSession',
            'ssm:TerminateSession',
            'ssm:ResumeSession',
            'ssm:DescribeSessions',
            'ssm:DescribeInstanceInformation',
            'ssm:GetDocument',
            'tag:GetResources',
            'iam:GetRole',
          ],
          sessionDocuments: ['RoleShell-*'],
        },
      },
    ],
    functions: [
      {
        name: 'roleshell-broker',
        account: central,
        region: regions[0] ?? 'eu-west-1',
        module: 'broker/src/handler.ts',
        handler: 'handler',
        role: 'RoleShellBrokerExecution',
        environment: {
          ROLESHELL_BROKER_CONFIG: JSON.stringify({
            targetRoleName: 'RoleShellTarget',
            regions,
            documentPrefix: 'RoleShell-',
            documentOverrides: {},
            crossAccount: false,
            extraStsEndpoints: ['${SANDBOX_ENDPOINT}'],
            mappingCacheSeconds: 300,
          }),
        },
        invokers: ['org'],
      },
    ],
    instances: Array.from({ length: options.instances }, (_, i) => ({
      id: `i-${hex(i, 17)}`,
      name: `host-${i}`,
      account: memberIds[i % memberIds.length] ?? central,
      region: regions[Math.floor(i / Math.max(1, memberIds.length)) % regions.length] ?? 'eu-west-1',
      pingStatus: i % 97 === 96 ? ('ConnectionLost' as const) : ('Online' as const),
      tags: {
        Name: `host-${i}`,
        'roleshell:permission-sets':
          i % 5 === 0 ? '*' : psNames.filter((_, p) => (i + p) % 2 === 0).join(','),
      },
    })),
  };
}
