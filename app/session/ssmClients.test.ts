import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RoleCredentials } from '../portal/types';
import { SsmClients } from './ssmClients';

const credentials = (accessKeyId: string): RoleCredentials => ({
  accessKeyId,
  secretAccessKey: 'secret',
  sessionToken: 'token',
  expiration: Date.now() + 3600_000,
});
const admin = { accountId: '222222222222', permissionSet: 'AdministratorAccess' };

function pool(graceMs = 1000) {
  const made: Array<{ region: string; accessKeyId: string; destroyed: boolean }> = [];
  const clients = new SsmClients((region, c) => {
    const record = { region, accessKeyId: c.accessKeyId, destroyed: false };
    made.push(record);
    return { send: vi.fn(), destroy: () => void (record.destroyed = true) };
  }, graceMs);
  return { clients, made };
}

afterEach(() => vi.useRealTimers());

describe('SsmClients', () => {
  it('reuses one client per region and permission set while its credentials stay the same', () => {
    const { clients, made } = pool();
    const first = clients.get('eu-west-1', admin, credentials('AKIA1'));
    expect(clients.get('eu-west-1', admin, credentials('AKIA1'))).toBe(first);
    clients.get('us-east-1', admin, credentials('AKIA1'));
    clients.get('eu-west-1', { ...admin, permissionSet: 'ReadOnly' }, credentials('AKIA2'));
    expect(made.map((m) => m.region)).toEqual(['eu-west-1', 'us-east-1', 'eu-west-1']);
  });

  it('makes a new client for new credentials and closes the old one only after its grace period', () => {
    vi.useFakeTimers();
    const { clients, made } = pool(1000);
    const old = clients.get('eu-west-1', admin, credentials('AKIA1'));
    const fresh = clients.get('eu-west-1', admin, credentials('AKIA-REFRESHED'));
    expect(fresh).not.toBe(old);
    expect(made[1]).toMatchObject({ accessKeyId: 'AKIA-REFRESHED', destroyed: false });
    // A call still in flight on the old client may finish first.
    expect(made[0]!.destroyed).toBe(false);
    vi.advanceTimersByTime(1000);
    expect(made[0]!.destroyed).toBe(true);
    expect(made[1]!.destroyed).toBe(false);
  });

  it('closes every client on clear, and the next call makes a new one', () => {
    const { clients, made } = pool();
    const first = clients.get('eu-west-1', admin, credentials('AKIA1'));
    clients.get('us-east-1', admin, credentials('AKIA1'));
    clients.clear();
    expect(made.every((m) => m.destroyed)).toBe(true);
    expect(clients.get('eu-west-1', admin, credentials('AKIA1'))).not.toBe(first);
  });
});
