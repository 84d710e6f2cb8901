import { SSOClient } from '@aws-sdk/client-sso';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../auth/clock';
import { startPortalWire, type PortalWire, type PortalWireOptions } from './fixtures/portalWire';
import { isRetryablePortalError, Portal } from './portal';
import type { AccessTokenSource } from './types';

let wire: PortalWire | undefined;
let client: SSOClient | undefined;
afterEach(async () => {
  client?.destroy();
  await wire?.close();
  wire = undefined;
});

function tokenSource(validTokens: Set<string>): AccessTokenSource & { refreshes: number } {
  let current = 'token-1';
  const source = {
    refreshes: 0,
    accessToken: async () => current,
    handleUnauthorized: async (rejected: string) => {
      if (rejected === current) {
        source.refreshes++;
        current = `token-${source.refreshes + 1}`;
        validTokens.add(current);
      }
      return current;
    },
  };
  return source;
}

async function setup(
  options: Partial<PortalWireOptions> & { accounts: PortalWireOptions['accounts'] },
  portal: { concurrency?: number } = {},
) {
  const validTokens = new Set(['token-1']);
  wire = await startPortalWire({
    rolesFor: () => ['ReadOnly', 'Developer', 'AdministratorAccess'],
    validTokens,
    ...options,
  });
  client = new SSOClient({ region: 'eu-west-1', endpoint: wire.endpoint, maxAttempts: 1 });
  const auth = tokenSource(validTokens);
  const clock = new ManualClock();
  return {
    auth,
    validTokens,
    clock,
    portal: new Portal({ sso: client, auth, clock, concurrency: portal.concurrency ?? 4 }),
  };
}

const accounts = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    accountId: String(100000000000 + i),
    accountName: `account-${String(i).padStart(4, '0')}`,
  }));

describe('Portal', () => {
  it('pages through every account and permission set, sorted', async () => {
    const { portal } = await setup({ accounts: accounts(250).reverse() });
    const got = await portal.listAccounts();
    expect(got).toHaveLength(250);
    expect(got[0]).toMatchObject({ accountName: 'account-0000', emailAddress: '100000000000@example.com' });
    expect(wire!.requests.filter((r) => r.path === '/assignment/accounts')).toHaveLength(3);
    expect((await portal.listPermissionSets(got[0]!.accountId)).map((p) => p.permissionSet)).toEqual([
      'AdministratorAccess',
      'Developer',
      'ReadOnly',
    ]);
  });

  it('loads 1,000 accounts and their permission sets under heavy 429s without a single failure', async () => {
    let n = 0;
    const { portal, clock } = await setup({ accounts: accounts(1000), throttle: () => ++n % 3 === 0 });
    const progress: number[] = [];
    const all = await portal.listAllPermissionSets((p) => progress.push(p.accountsLoaded));
    expect(all.size).toBe(1000);
    expect([...all.values()].every((l) => l.length === 3)).toBe(true);
    expect(progress.at(-1)).toBe(1000);
    const throttled = wire!.requests.filter((r) => r.status === 429).length;
    expect(throttled).toBeGreaterThan(300);
    expect(clock.sleeps.length).toBe(throttled); // every 429 was followed by a backoff wait
  });

  it('keeps at most `concurrency` portal requests in flight', async () => {
    const { portal } = await setup({ accounts: accounts(40) }, { concurrency: 4 });
    let inFlight = 0;
    let peak = 0;
    const original = portal.listPermissionSets.bind(portal);
    portal.listPermissionSets = async (id, o) => {
      peak = Math.max(peak, ++inFlight);
      try {
        return await original(id, o);
      } finally {
        inFlight--;
      }
    };
    await portal.listAllPermissionSets();
    expect(peak).toBe(4);
  });

  it('fetches many role credentials at once, at most `credentialConcurrency` in flight, backing off on 429', async () => {
    let n = 0;
    const { auth, clock } = await setup({ accounts: accounts(30), throttle: () => ++n % 4 === 0 });
    let inFlight = 0;
    let peak = 0;
    const sso = {
      send: (async (command: never) => {
        peak = Math.max(peak, ++inFlight);
        try {
          return await client!.send(command);
        } finally {
          inFlight--;
        }
      }) as SSOClient['send'],
    };
    const portal = new Portal({ sso, auth, clock, credentialConcurrency: 6 });
    const pairs = accounts(30).flatMap((a) =>
      ['ReadOnly', 'Developer'].map((ps) => [a.accountId, ps] as const),
    );
    const all = await Promise.all(pairs.map(([id, ps]) => portal.roleCredentials(id, ps)));
    expect(new Set(all.map((c) => c.accessKeyId)).size).toBe(60);
    expect(peak).toBe(6);
    const throttled = wire!.requests.filter((r) => r.status === 429).length;
    expect(throttled).toBeGreaterThan(5);
    expect(clock.sleeps.length).toBe(throttled);
  });

  it('caches lists for the session and reloads on explicit refresh', async () => {
    const { portal } = await setup({ accounts: accounts(3) });
    await portal.listAccounts();
    await portal.listAccounts();
    expect(wire!.requests).toHaveLength(1);
    await portal.listAccounts({ refresh: true });
    expect(wire!.requests).toHaveLength(2);
  });

  it('retries once with a fresh token when IdC says unauthorized', async () => {
    const { portal, auth, validTokens } = await setup({ accounts: accounts(2) });
    validTokens.delete('token-1');
    expect(await portal.listAccounts()).toHaveLength(2);
    expect(auth.refreshes).toBe(1);
  });

  it('caches role credentials until 5 minutes before they expire', async () => {
    const { portal, clock } = await setup({ accounts: accounts(1), credentialLifetimeMs: 20 * 60_000 });
    clock.advance(Date.now() - clock.now()); // the wire stamps real time
    const first = await portal.roleCredentials('100000000000', 'ReadOnly');
    expect(first.accessKeyId).toMatch(/^ASIA/);
    expect(await portal.roleCredentials('100000000000', 'ReadOnly')).toBe(first);
    clock.advance(14 * 60_000);
    expect(await portal.roleCredentials('100000000000', 'ReadOnly')).toBe(first);
    clock.advance(2 * 60_000);
    const second = await portal.roleCredentials('100000000000', 'ReadOnly');
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
  });

  it('explains an unassigned permission set and does not cache the failure', async () => {
    const { portal } = await setup({ accounts: accounts(1) });
    await expect(portal.roleCredentials('100000000000', 'Gone')).rejects.toMatchObject({
      code: 'AccessDenied',
      message: expect.stringMatching(/not assigned Gone in 100000000000/),
    });
    await expect(portal.roleCredentials('100000000000', 'Gone')).rejects.toMatchObject({
      code: 'AccessDenied',
    });
    expect(wire!.requests.filter((r) => r.path === '/federation/credentials')).toHaveLength(2);
  });

  it('reports an unreachable portal as Unavailable', async () => {
    const { portal } = await setup({ accounts: accounts(1) });
    await wire!.close();
    wire = undefined;
    await expect(portal.listAccounts()).rejects.toMatchObject({
      code: 'Unavailable',
      message: /Could not load your accounts/,
    });
  });
});

describe('isRetryablePortalError', () => {
  it('retries throttling and a dropped connection, nothing else', () => {
    expect(
      isRetryablePortalError(Object.assign(new Error('slow down'), { name: 'TooManyRequestsException' })),
    ).toBe(true);
    expect(isRetryablePortalError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(
      true,
    );
    expect(isRetryablePortalError(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))).toBe(true);
    expect(isRetryablePortalError(Object.assign(new Error('no'), { name: 'UnauthorizedException' }))).toBe(
      false,
    );
    expect(
      isRetryablePortalError(Object.assign(new Error('gone'), { name: 'ResourceNotFoundException' })),
    ).toBe(false);
    expect(isRetryablePortalError('ECONNRESET')).toBe(false);
  });
});
