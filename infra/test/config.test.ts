import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadOrg } from '../../sandbox/src/org';
import {
  defaultConfigPath,
  documentNameFor,
  documentOverrides,
  InfraConfigError,
  loadInfraConfig,
  parseInfraConfig,
} from '../src/config';
import { sessionDocuments } from '../src/sessionDocument';

const minimal = {
  organization: { id: 'o-a1b2c3d4e5', targetOUs: ['ou-a1b2-11111111'] },
  regions: ['eu-west-1'],
  broker: { account: '111111111111', region: 'eu-west-1' },
  permissionSets: { ReadOnly: { linuxUser: 'auditor' } },
};

function errorOf(raw: unknown): string {
  try {
    parseInfraConfig(raw, 'test.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(InfraConfigError);
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}

function withSets(permissionSets: unknown) {
  return { ...minimal, permissionSets };
}

describe('infra configuration', () => {
  it('fills in the defaults', () => {
    const config = parseInfraConfig(minimal);
    expect(config.broker.functionName).toBe('roleshell-broker');
    expect(config.member.targetRoleName).toBe('RoleShellTarget');
    expect(config.member.documentPrefix).toBe('RoleShell-');
    expect(config.sessionDefaults.idleSessionTimeoutMinutes).toBe(20);
    expect(documentNameFor(config, 'ReadOnly')).toBe('RoleShell-ReadOnly');
  });

  it('names the path of every bad key', () => {
    const message = errorOf({
      ...minimal,
      broker: { account: 111111111111, region: 'eu-west-1' },
      permissionSets: {
        Developer: { linuxUser: 'Dev User', sudo: ['systemctl restart app'] },
        Admin: { linuxUser: 'root', idleSessionTimeoutMinutes: 61 },
      },
    });
    expect(message).toContain('test.yaml is invalid:');
    expect(message).toContain('broker.account: ');
    expect(message).toContain('permissionSets.Developer.linuxUser: must be a Linux user name');
    expect(message).toContain('permissionSets.Developer.sudo[0]: must be an absolute command path');
    expect(message).toContain('permissionSets.Admin.linuxUser: may not be root');
    expect(message).toContain('permissionSets.Admin.idleSessionTimeoutMinutes: must be at most 60 minutes');
  });

  it('refuses unknown keys, so a typo does not silently drop a setting', () => {
    expect(errorOf(withSets({ ReadOnly: { linuxUser: 'auditor', sudoo: 'all' } }))).toContain(
      'permissionSets.ReadOnly: unknown key sudoo',
    );
    expect(errorOf({ ...minimal, region: 'eu-west-1' })).toContain('(top level): unknown key region');
  });

  it('refuses sudo rules that could smuggle in another sudoers rule', () => {
    for (const command of [
      '/usr/bin/id, ALL',
      '/usr/bin/id : ALL',
      '/bin/sh\\',
      '/usr/bin/id\nALL ALL=(ALL) ALL',
    ]) {
      expect(errorOf(withSets({ Ops: { linuxUser: 'ops', sudo: [command] } }))).toContain(
        'permissionSets.Ops.sudo[0]',
      );
    }
  });

  it('refuses two permission sets sharing one document, and a broker region it does not serve', () => {
    const message = errorOf({
      ...minimal,
      broker: { account: '111111111111', region: 'us-east-1' },
      permissionSets: {
        A: { linuxUser: 'a', documentName: 'Shared-Doc' },
        B: { linuxUser: 'b', documentName: 'Shared-Doc' },
      },
    });
    expect(message).toContain(
      'permissionSets.B.documentName: session document Shared-Doc is already used by permission set A',
    );
    expect(message).toContain('broker.region: must be one of regions (eu-west-1)');
  });

  it('refuses reserved document names and an empty mapping', () => {
    expect(errorOf(withSets({ A: { linuxUser: 'a', documentName: 'AWS-StartSSHSession' } }))).toContain(
      'permissionSets.A.documentName: may not start with aws',
    );
    expect(errorOf(withSets({}))).toContain('permissionSets: must map at least one permission set');
  });

  it('reports YAML syntax errors and a missing file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'roleshell-infra-config-'));
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'regions: [eu-west-1\nbroker: {');
    expect(() => loadInfraConfig(bad)).toThrow(/bad\.yaml is not valid YAML/);
    const duplicate = path.join(dir, 'dup.yaml');
    writeFileSync(duplicate, 'regions: [eu-west-1]\nregions: [us-east-1]\n');
    expect(() => loadInfraConfig(duplicate)).toThrow(/not valid YAML:[\s\S]*unique/);
    expect(() => loadInfraConfig(path.join(dir, 'missing.yaml'))).toThrow(/cannot read .*missing\.yaml/);
  });

  it('keeps document overrides for the broker', () => {
    const config = parseInfraConfig(
      withSets({ A: { linuxUser: 'a', documentName: 'Team-A-Shell' }, B: { linuxUser: 'b' } }),
    );
    expect(documentOverrides(config)).toEqual({ A: 'Team-A-Shell' });
  });
});

describe('the sandbox default org matches the deployment configuration', () => {
  const config = loadInfraConfig(defaultConfigPath);
  const { org } = loadOrg();

  it('has the same session documents, with the same content, in every member account', () => {
    const members = org.accounts.filter((a) => a.member !== false).map((a) => a.id);
    const expected = sessionDocuments(config).map((d) => ({ name: d.name, content: d.content }));
    const actual = org.sessionDocuments.map((d) => ({ name: d.name, content: d.content }));
    expect(actual).toEqual(expected);
    for (const document of org.sessionDocuments)
      expect([...document.accounts].sort()).toEqual(members.sort());
  });

  it('maps the same permission sets to those documents', () => {
    for (const set of org.permissionSets) {
      expect(set.sessionDocuments).toEqual([documentNameFor(config, set.name)]);
    }
    expect(org.permissionSets.map((s) => s.name).sort()).toEqual(Object.keys(config.permissionSets).sort());
  });

  it('runs the broker with the same function, role, target role, regions and prefix', () => {
    const fn = org.functions.find((f) => f.name === config.broker.functionName);
    expect(fn).toBeDefined();
    expect(fn!.account).toBe(config.broker.account);
    expect(fn!.region).toBe(config.broker.region);
    expect(fn!.role).toBe(config.broker.executionRoleName);
    const brokerConfig = JSON.parse(fn!.environment.ROLESHELL_BROKER_CONFIG!);
    expect(brokerConfig.targetRoleName).toBe(config.member.targetRoleName);
    expect(brokerConfig.regions).toEqual(config.regions);
    expect(brokerConfig.documentPrefix).toBe(config.member.documentPrefix);
    expect(brokerConfig.documentOverrides).toEqual(documentOverrides(config));
    expect(brokerConfig.crossAccount).toBe(config.broker.crossAccount);
    const target = org.roles.find((r) => r.name === config.member.targetRoleName);
    expect(target?.trust.principals).toEqual([
      `arn:aws:iam::${config.broker.account}:role/${config.broker.executionRoleName}`,
    ]);
  });

  it('reads as plain YAML too (no custom tags)', async () => {
    const { readFile } = await import('node:fs/promises');
    expect(parse(await readFile(defaultConfigPath, 'utf8'))).toHaveProperty('permissionSets');
  });
});
