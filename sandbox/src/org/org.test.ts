import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { permissionSetsOf } from '../identity/orgPolicies';
import { permissionSetRoleName } from '../identity/iamRoles';
import { generateOrg, loadOrg, OrgFileError, type OrgFile } from './index';

describe('default org', () => {
  const { org, root } = loadOrg();

  it('has the shape the other parts rely on (docs/contracts.md)', () => {
    expect(org.users.map((u) => u.userName)).toEqual(['alice', 'bob']);
    expect(org.accounts.length).toBeGreaterThanOrEqual(3);
    expect(org.permissionSets.map((p) => p.name)).toEqual([
      'AdministratorAccess',
      'ReadOnly',
      'Developer',
      'Support_Tier1',
    ]);
    const linuxUser = (ps: string) =>
      org.sessionDocuments.find((d) => d.name === `RoleShell-${ps}`)?.content.inputs.runAsDefaultUser;
    expect(['AdministratorAccess', 'ReadOnly', 'Developer', 'Support_Tier1'].map(linuxUser)).toEqual([
      'ops-admin',
      'auditor',
      'developer',
      'support',
    ]);
    const members = org.accounts.filter((a) => a.member).map((a) => a.id);
    for (const doc of org.sessionDocuments) expect(doc.accounts).toEqual(members);
    const target = org.roles.find((r) => r.name === 'RoleShellTarget')!;
    expect(target.accounts).toEqual(members);
    expect(target.tags.SSMSessionRunAs).toBeUndefined();
    expect(target.trust.principals).toEqual(['arn:aws:iam::111111111111:role/RoleShellBrokerExecution']);
    const broker = org.functions.find((f) => f.name === 'roleshell-broker')!;
    expect(broker).toMatchObject({
      module: 'broker/src/handler.ts',
      handler: 'handler',
      role: 'RoleShellBrokerExecution',
    });
    expect(JSON.parse(broker.environment.ROLESHELL_BROKER_CONFIG!)).toMatchObject({
      targetRoleName: 'RoleShellTarget',
      documentPrefix: 'RoleShell-',
      extraStsEndpoints: ['${SANDBOX_ENDPOINT}'],
    });
    expect(root).toMatch(/main$|\/[^/]+$/);
  });

  it('gives alice and bob different assignments', () => {
    const assigned = (user: string) =>
      org.permissionSets.flatMap((p) =>
        p.assignments
          .filter((a) => a.user === user)
          .flatMap((a) => a.accounts.map((acc) => `${p.name}@${acc}`)),
      );
    expect(assigned('alice')).not.toEqual(assigned('bob'));
    expect(assigned('bob').length).toBeGreaterThan(0);
  });

  it('has at least 8 instances in two regions, mixed tags, one offline, and one reachable by all four permission sets', () => {
    expect(org.instances.length).toBeGreaterThanOrEqual(8);
    expect(new Set(org.instances.map((i) => i.region))).toEqual(new Set(['eu-west-1', 'us-east-1']));
    expect(org.instances.filter((i) => i.pingStatus === 'ConnectionLost')).toHaveLength(1);
    expect(org.instances.some((i) => !('roleshell:permission-sets' in i.tags))).toBe(true);
    const all4 = org.instances.filter((i) => {
      const sets = permissionSetsOf(i);
      return (
        ['AdministratorAccess', 'ReadOnly', 'Developer', 'Support_Tier1'].every((p) => sets.includes(p)) &&
        i.pingStatus === 'Online'
      );
    });
    // alice holds all four in prod-workloads, where this instance lives.
    expect(all4.map((i) => i.account)).toContain('222222222222');
  });
});

describe('org file validation', () => {
  const withFile = (text: string, run: (path: string) => void) => {
    const dir = mkdtempSync(join(tmpdir(), 'roleshell-org-'));
    try {
      const path = join(dir, 'org.yaml');
      writeFileSync(path, text);
      run(path);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('names the path of every problem', () => {
    const org = structuredClone(loadOrg().org) as Record<string, unknown> & {
      instances: { id: string; account: string; linuxUsers?: string[] }[];
    };
    org.instances[2]!.id = 'i-123';
    org.instances[3]!.account = '999999999999';
    org.instances[4]!.linuxUsers = ['root', 'Ops Admin'];
    try {
      loadOrg(org as unknown as OrgFile);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(OrgFileError);
      expect((err as Error).message).toContain('instances[2].id: must be i- followed by 17 hex digits');
      expect((err as Error).message).toContain('instances[3].account: unknown account 999999999999');
      expect((err as Error).message).toContain(
        'instances[4].linuxUsers[1]: must be a Linux user name ([a-z_][a-z0-9_-]{0,31})',
      );
    }
  });

  it('reports unreadable files and bad YAML clearly', () => {
    expect(() => loadOrg('/nonexistent/org.yaml')).toThrow(/Cannot read org file \/nonexistent\/org.yaml/);
    withFile('users: [\n', (path) => expect(() => loadOrg(path)).toThrow(/is not valid YAML/));
    withFile('startUrl: not-a-url\n', (path) => {
      expect(() => loadOrg(path)).toThrow(/startUrl: /);
    });
  });

  it('refuses unknown users in assignments and functions without their role', () => {
    const org = structuredClone(loadOrg().org);
    org.permissionSets[0]!.assignments.push({ user: 'mallory', accounts: ['222222222222'] });
    org.functions[0]!.role = 'NoSuchRole';
    expect(() => loadOrg(org)).toThrow(
      /permissionSets\[0\]\.assignments\[1\]\.user: unknown user mallory[\s\S]*functions\[0\]\.role: no role NoSuchRole/,
    );
  });
});

describe('role paths', () => {
  it('declares the impostor with an ordinary path and gives the target role iam:GetRole', () => {
    const { org } = loadOrg();
    const impostor = org.roles.find((r) => r.name === 'AWSReservedSSO_AdministratorAccess_0123456789abcdef');
    expect(impostor).toMatchObject({ path: '/', accounts: ['222222222222'] });
    expect(org.roles.find((r) => r.name === 'RoleShellTarget')?.policy.actions).toContain('iam:GetRole');
  });

  it('refuses a declared role under /aws-reserved/ and one that takes the name of an IdC role', () => {
    const org = structuredClone(loadOrg().org);
    org.roles.push({
      ...structuredClone(org.roles[0]!),
      name: 'Sneaky',
      path: '/aws-reserved/sso.amazonaws.com/',
    });
    org.roles.push({
      ...structuredClone(org.roles[0]!),
      name: permissionSetRoleName(loadOrg().org, '222222222222', 'Developer'),
      accounts: ['222222222222'],
    });
    const n = org.roles.length;
    expect(() => loadOrg(org)).toThrow(
      new RegExp(
        `roles\\[${n - 2}\\]\\.path: paths under /aws-reserved/ are created by AWS only[\\s\\S]*roles\\[${n - 1}\\]\\.accounts\\[0\\]: account 222222222222 already has a role named AWSReservedSSO_Developer_`,
      ),
    );
  });
});

describe('generateOrg', () => {
  it('builds a large valid org for benchmarks', () => {
    const { org } = loadOrg(generateOrg({ accounts: 1000, permissionSets: 3, instances: 20_000 }));
    expect(org.accounts).toHaveLength(1001);
    expect(org.instances).toHaveLength(20_000);
    expect(org.permissionSets.map((p) => p.name)).toEqual([
      'AdministratorAccess',
      'Support_Tier1',
      'PermissionSet2',
    ]);
    expect(new Set(org.instances.map((i) => i.id)).size).toBe(20_000);
    expect(org.functions.map((f) => f.name)).toEqual(['roleshell-broker']);
  });
});
