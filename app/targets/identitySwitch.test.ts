/**
 * Issue 11 item 5: after alice signs out and bob signs in on the same
 * RoleShell, nothing bob sees comes from alice's session: not her favourites
 * or recents, not her cached instance lists. Through the real app API against
 * the real sandbox (real SDK clients, real broker in the sandbox's Lambda).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { defaultOrgPath, startSandbox, type OrgFile, type Sandbox } from '../../sandbox/src/index';
import type { Account, BrowsePreferences, SavedTarget, TargetList } from '../api/calls/browse';
import { sandboxEnv, startApp, type AppUnderTest } from '../testing/appUnderTest';

let sandbox: Sandbox | undefined;
let app: AppUnderTest | undefined;
let dataDir: string | undefined;

afterEach(async () => {
  await app?.close();
  await sandbox?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  app = sandbox = dataDir = undefined;
});

const prod = '222222222222';
const saved = (list: TargetList): Omit<SavedTarget, 'at'> => {
  const row = list.rows[0]!;
  return {
    key: row.key,
    accountId: row.accountId,
    accountName: row.accountName,
    permissionSet: row.permissionSet,
    region: row.region,
    instanceId: row.instanceId,
    name: row.name,
    linuxUser: row.linuxUser,
  };
};

describe('one identity after another on the same RoleShell', () => {
  it("shows bob none of alice's favourites, recents or cached lists, and gives alice hers back", async () => {
    sandbox = await startSandbox();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'roleshell-identity-'));
    app = startApp(dataDir, sandboxEnv(sandbox));
    const { call } = app;

    await app.signInAs(sandbox, 'alice');
    const admin = await call<TargetList>('browse.listTargets', {
      accountId: prod,
      permissionSet: 'AdministratorAccess',
    });
    expect(admin.linuxUser).toBe('ops-admin');
    await call('browse.setFavourite', { target: saved(admin), favourite: true });
    await call('browse.recordRecent', { target: saved(admin) });
    expect((await call<BrowsePreferences>('browse.getPreferences')).favourites).toHaveLength(1);
    await call('auth.signOut');
    // Signed out: nothing of alice's is listed.
    expect(await call<BrowsePreferences>('browse.getPreferences')).toEqual({ favourites: [], recents: [] });

    await app.signInAs(sandbox, 'bob');
    expect(await call<BrowsePreferences>('browse.getPreferences')).toEqual({ favourites: [], recents: [] });
    // Bob has no AdministratorAccess: alice's cached list must not be served to him.
    await expect(
      call('browse.listTargets', { accountId: prod, permissionSet: 'AdministratorAccess' }),
    ).rejects.toMatchObject({ code: expect.stringMatching(/AccessDenied|NotFound|Unavailable/) });
    const accounts = await call<Account[]>('browse.listAccounts', {});
    expect(accounts.map((a) => a.accountId).sort()).toEqual(['222222222222', '333333333333', '444444444444']);
    const readOnly = await call<TargetList>('browse.listTargets', {
      accountId: prod,
      permissionSet: 'ReadOnly',
    });
    await call('browse.setFavourite', { target: saved(readOnly), favourite: true });
    await call('auth.signOut');

    await app.signInAs(sandbox, 'alice');
    const alices = await call<BrowsePreferences>('browse.getPreferences');
    expect(alices.favourites.map((f) => `${f.permissionSet}:${f.linuxUser}`)).toEqual([
      'AdministratorAccess:ops-admin',
    ]);
    expect(alices.recents.map((r) => r.permissionSet)).toEqual(['AdministratorAccess']);
    // The start URL signed in to is remembered (per-start-URL settings are kept only for such URLs).
    const settings = JSON.parse(await readFile(path.join(dataDir, 'settings.json'), 'utf8'));
    expect(settings.usedStartUrls).toEqual([sandbox.startUrl]);
  });

  it('drops the cached lists when the sign-in is lost and someone else signs in', async () => {
    sandbox = await startSandbox({ accessTokenLifetimeSeconds: 2 });
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'roleshell-identity-'));
    app = startApp(dataDir, sandboxEnv(sandbox));
    const { call } = app;
    await app.signInAs(sandbox, 'alice');
    await call('browse.listTargets', { accountId: prod, permissionSet: 'Support_Tier1' });
    // Alice's IdC session ends (refresh revoked): RoleShell asks to sign in again, and bob does.
    sandbox.revokeRefreshTokens('alice');
    await new Promise((r) => setTimeout(r, 2200));
    // (A call that needs a fresh token; an explicit refresh would clear the lists on its own.)
    await expect(call('browse.listPermissionSets', { accountId: '333333333333' })).rejects.toMatchObject({
      code: 'SignInExpired',
    });
    await app.signInAs(sandbox, 'bob');
    await expect(
      call('browse.listTargets', { accountId: prod, permissionSet: 'Support_Tier1' }),
    ).rejects.toMatchObject({ code: expect.any(String) });
  });

  it('says why favourites cannot be kept for a user with no account, and lists none', async () => {
    // The default org plus carol, who is assigned nothing: nothing tells RoleShell who she is.
    const org = parse(await readFile(defaultOrgPath, 'utf8'), { merge: true }) as OrgFile & {
      users: { userName: string; userId: string }[];
    };
    org.users.push({ ...org.users[0]!, userName: 'carol', userId: `${org.users[0]!.userId.slice(0, -2)}99` });
    sandbox = await startSandbox({ org });
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'roleshell-identity-'));
    app = startApp(dataDir, sandboxEnv(sandbox));
    await app.signInAs(sandbox, 'carol');
    expect(await app.call('browse.listAccounts', {})).toEqual([]);
    expect(await app.call<BrowsePreferences>('browse.getPreferences')).toEqual({
      favourites: [],
      recents: [],
    });
    const target = {
      key: `${prod}/ReadOnly/eu-west-1/i-0123456789abcdef0`,
      accountId: prod,
      accountName: 'prod-workloads',
      permissionSet: 'ReadOnly',
      region: 'eu-west-1',
      instanceId: 'i-0123456789abcdef0',
      name: 'prod-web-1',
      linuxUser: 'auditor',
    };
    await expect(app.call('browse.setFavourite', { target, favourite: true })).rejects.toMatchObject({
      code: 'Unavailable',
      message: expect.stringMatching(/could not tell which IAM Identity Center user is signed in/),
    });
  });
});
