import { describe, expect, it } from 'vitest';
import { loadBrokerConfig } from './config';
import { BrokerError } from './errors';
import { fakeMemberAccount, sessionDocument, type FakeAccountState } from './fixtures/fakeMember';
import { linuxUserFromDocument, PermissionSetMapping } from './mapping';

const config = (extra: object = {}) =>
  loadBrokerConfig({
    ROLESHELL_BROKER_CONFIG: JSON.stringify({
      targetRoleName: 'RoleShellTarget',
      regions: ['eu-west-1'],
      ...extra,
    }),
  });

describe('linuxUserFromDocument', () => {
  const doc = (content: unknown, documentType = 'Session') => ({
    name: 'D',
    documentType,
    content: JSON.stringify(content),
  });

  it('reads runAsDefaultUser when run-as is enabled', () => {
    expect(
      linuxUserFromDocument(doc({ inputs: { runAsEnabled: true, runAsDefaultUser: 'ops-admin' } })),
    ).toEqual({ linuxUser: 'ops-admin' });
  });

  it.each([
    ['run-as disabled', doc({ inputs: { runAsEnabled: false, runAsDefaultUser: 'ops-admin' } })],
    ['run-as not set', doc({ inputs: { runAsDefaultUser: 'ops-admin' } })],
    ['no runAsDefaultUser', doc({ inputs: { runAsEnabled: true } })],
    ['an empty runAsDefaultUser', doc({ inputs: { runAsEnabled: true, runAsDefaultUser: '' } })],
    ['root', doc({ inputs: { runAsEnabled: true, runAsDefaultUser: 'root' } })],
    [
      'a user name with a shell metacharacter',
      doc({ inputs: { runAsEnabled: true, runAsDefaultUser: 'ops;rm' } }),
    ],
    ['no inputs', doc({ schemaVersion: '1.0' })],
    ['a Command document', doc({ inputs: { runAsEnabled: true, runAsDefaultUser: 'x' } }, 'Command')],
    ['content that is not JSON', { name: 'D', documentType: 'Session', content: 'inputs: {}' }],
  ])('finds no user with %s', (_label, document) => {
    expect(linuxUserFromDocument(document)).toHaveProperty('problem');
  });
});

describe('PermissionSetMapping', () => {
  const state = (): FakeAccountState => ({
    documents: {
      'RoleShell-Developer': sessionDocument('developer'),
      'Custom-Ops': sessionDocument('ops-admin'),
      'RoleShell-NoUser': sessionDocument(undefined),
    },
    instances: [],
    sessions: [],
    calls: [],
  });

  it('maps by the default convention and by override', async () => {
    const s = state();
    const member = fakeMemberAccount('111122223333', 'alice', s);
    const mapping = new PermissionSetMapping(
      config({ documentOverrides: { AdministratorAccess: 'Custom-Ops' } }),
    );
    expect(await mapping.resolve(member, 'eu-west-1', 'Developer')).toEqual({
      permissionSet: 'Developer',
      documentName: 'RoleShell-Developer',
      linuxUser: 'developer',
    });
    expect((await mapping.resolve(member, 'eu-west-1', 'AdministratorAccess')).linuxUser).toBe('ops-admin');
  });

  it('caches for mappingCacheSeconds, per account and region', async () => {
    const s = state();
    let clock = 1_000_000;
    const mapping = new PermissionSetMapping(config({ mappingCacheSeconds: 60 }), () => clock);
    const member = fakeMemberAccount('111122223333', 'alice', s);
    await mapping.resolve(member, 'eu-west-1', 'Developer');
    await mapping.resolve(member, 'eu-west-1', 'Developer');
    expect(s.calls).toHaveLength(1);
    await mapping.resolve(fakeMemberAccount('444455556666', 'alice', s), 'eu-west-1', 'Developer');
    expect(s.calls).toHaveLength(2);
    clock += 61_000;
    await mapping.resolve(member, 'eu-west-1', 'Developer');
    expect(s.calls).toHaveLength(3);
  });

  it.each([
    ['no document', 'Unknown'],
    ['a document without a user', 'NoUser'],
  ])('refuses a permission set with %s: AccessDenied, no fallback', async (_label, permissionSet) => {
    const mapping = new PermissionSetMapping(config());
    const error = await mapping
      .resolve(fakeMemberAccount('111122223333', 'alice', state()), 'eu-west-1', permissionSet)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokerError);
    expect((error as BrokerError).code).toBe('AccessDenied');
    expect((error as BrokerError).message).toContain(permissionSet);
  });
});
