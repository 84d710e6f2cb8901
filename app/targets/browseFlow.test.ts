/**
 * The whole sign-in → browse flow through the real app API (the object main/
 * and the e2e host bind), against the real local sandbox: real SDK clients,
 * real broker in the sandbox's Lambda runtime, SigV4 everywhere.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../sandbox/src/index';
import type { AuthView } from '../api/calls/auth';
import { dispatchCall } from '../api/dispatch';
import { createAppApi, type AppApi } from '../createAppApi';

let sandbox: Sandbox | undefined;
let app: AppApi | undefined;
let dataDir: string | undefined;

afterEach(async () => {
  await app?.close();
  await sandbox?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  app = sandbox = dataDir = undefined;
});

async function setup(options: SandboxOptions = {}) {
  sandbox = await startSandbox({ approve: 'alice', ...options });
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'roleshell-flow-'));
  const env = {
    HOME: dataDir,
    ROLESHELL_START_URL: sandbox.startUrl,
    ROLESHELL_SSO_REGION: sandbox.region,
    ROLESHELL_AWS_ENDPOINT: sandbox.endpoint,
    ROLESHELL_BROKER_ARN: sandbox.brokerFunctionArn,
    ROLESHELL_REGIONS: 'eu-west-1,us-east-1',
  };
  app = createAppApi({ dataDir, env, mode: 'web', log: () => {} });
  const events: { event: string; payload: unknown }[] = [];
  app.subscribe((event, payload) => events.push({ event, payload }));
  const call = async (name: string, input?: unknown) => {
    const result = await dispatchCall(app!.handlers, name, input);
    if (!result.ok) throw Object.assign(new Error(result.error.message), result.error);
    return result.value as never;
  };
  const signedIn = async () => {
    for (let i = 0; i < 200; i++) {
      const view: AuthView = await call('auth.getView');
      if (view.state.status === 'signedIn') return view;
      if (view.state.status === 'signedOut' && view.state.message) throw new Error(view.state.message);
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('not signed in');
  };
  return { sandbox, call, events, signedIn };
}

describe('sign in and browse against the sandbox', () => {
  it('lists accounts, permission sets and instances with the Linux user each permission set maps to', async () => {
    const { call, signedIn, sandbox } = await setup();
    const pending: AuthView = await call('auth.signIn');
    expect(pending.state).toMatchObject({ status: 'awaitingApproval', userCode: expect.any(String) });
    await signedIn();

    const accounts: { accountId: string; accountName: string }[] = await call('browse.listAccounts', {});
    expect(accounts.map((a) => a.accountName)).toEqual(
      expect.arrayContaining(['prod-workloads', 'dev-sandbox']),
    );
    const prod = accounts.find((a) => a.accountName === 'prod-workloads')!;
    const sets: string[] = await call('browse.listPermissionSets', { accountId: prod.accountId });
    expect(sets).toEqual(['AdministratorAccess', 'Developer', 'ReadOnly', 'Support_Tier1']);

    const docs = new Map(
      sandbox.org.sessionDocuments.map((d) => [d.name, d.content.inputs.runAsDefaultUser]),
    );
    for (const permissionSet of sets) {
      const list: { linuxUser: string; rows: { linuxUser: string; name: string; region: string }[] } =
        await call('browse.listTargets', { accountId: prod.accountId, permissionSet });
      expect(list.linuxUser).toBe(docs.get(`RoleShell-${permissionSet}`));
      expect(list.rows.length).toBeGreaterThan(0);
      expect(list.rows.every((r) => r.linuxUser === list.linuxUser)).toBe(true);
    }
    const readOnly: { rows: { name: string; region: string; pingStatus: string }[] } = await call(
      'browse.listTargets',
      {
        accountId: prod.accountId,
        permissionSet: 'ReadOnly',
      },
    );
    expect(readOnly.rows.map((r) => r.name).sort()).toEqual([
      'prod-edge-use1',
      'prod-legacy-1',
      'prod-web-1',
      'prod-web-2',
    ]);
    expect(readOnly.rows.find((r) => r.name === 'prod-legacy-1')?.pingStatus).toBe('ConnectionLost');
    expect(readOnly.rows.find((r) => r.name === 'prod-edge-use1')?.region).toBe('us-east-1');
  });

  it('lists the same instances in direct mode with the permission set credentials', async () => {
    const { call, signedIn, sandbox } = await setup();
    await call('saveSettings', { modes: { [sandbox.startUrl]: 'direct' } });
    await call('auth.signIn');
    await signedIn();
    const list: { mode: string; linuxUser: string; rows: { name: string }[] } = await call(
      'browse.listTargets',
      {
        accountId: '222222222222',
        permissionSet: 'ReadOnly',
      },
    );
    expect(list.mode).toBe('direct');
    expect(list.linuxUser).toBe('auditor');
    expect(list.rows.map((r) => r.name).sort()).toEqual([
      'prod-edge-use1',
      'prod-legacy-1',
      'prod-web-1',
      'prod-web-2',
    ]);
  });

  it('loads every instance of every permission set with progress events', async () => {
    const { call, signedIn, events, sandbox } = await setup();
    await call('auth.signIn');
    await signedIn();
    const all: { lists: { rows: { key: string }[] }[]; failures: { accountId: string; message: string }[] } =
      await call('browse.loadAllTargets', {});
    // The central account holds no session documents, so the broker cannot map anything there;
    // that one failure is reported with a message and does not stop the member accounts loading.
    expect(all.failures.every((f) => f.accountId === '111111111111' && /broker/.test(f.message))).toBe(true);
    const rows = all.lists.flatMap((l) => l.rows);
    expect(new Set(rows.map((r) => r.key)).size).toBe(rows.length);
    expect(rows.length).toBeGreaterThan(10);
    const progress = events
      .filter((e) => e.event === 'browse.progress')
      .map((e) => e.payload as { phase: string; loaded: number; total: number })
      .filter((p) => p.phase === 'targets');
    // Coalesced: the last event says everything is done.
    expect(progress.at(-1)).toMatchObject({ loaded: progress.at(-1)!.total });
    const pairs = all.lists.length + all.failures.length;
    expect(pairs).toBeGreaterThan(5);
    // Batched: every pair in one broker Invoke, each proof replayed to STS on its own.
    const invokes = sandbox.cloudTrail().filter((e) => e.eventName === 'Invoke');
    expect(invokes).toHaveLength(1);
    expect(sandbox.cloudTrail().filter((e) => e.eventName === 'GetCallerIdentity')).toHaveLength(pairs);
    // A single listing afterwards comes from the load, not another Invoke.
    const again: { rows: unknown[] } = await call('browse.listTargets', {
      accountId: '222222222222',
      permissionSet: 'ReadOnly',
    });
    expect(again.rows.length).toBeGreaterThan(0);
    expect(sandbox.cloudTrail().filter((e) => e.eventName === 'Invoke')).toHaveLength(1);
    // Each list is also announced as it arrives (the renderer shows rows before the whole load ends),
    // with the instances' tags for searching.
    const arrived = events.filter((e) => e.event === 'browse.targets');
    expect(arrived.length).toBe(all.lists.length);
    const tagged = arrived.flatMap((e) => (e.payload as { rows: { tags: Record<string, string> }[] }).rows);
    expect(tagged.every((r) => typeof r.tags['roleshell:permission-sets'] === 'string')).toBe(true);
  });

  it('refreshes an expiring token silently, and after revocation asks to sign in again', async () => {
    const { call, signedIn, sandbox, events } = await setup({ accessTokenLifetimeSeconds: 2 });
    await call('auth.signIn');
    await signedIn();
    await call('browse.listAccounts', {});
    await new Promise((r) => setTimeout(r, 2200));
    // The token has expired: the next call refreshes it without the user noticing.
    await call('browse.listAccounts', { refresh: true });
    const refreshes = sandbox.cloudTrail().filter((e) => JSON.stringify(e).includes('refresh_token'));
    expect(refreshes.length).toBeGreaterThan(0);

    sandbox.revokeRefreshTokens('alice');
    await new Promise((r) => setTimeout(r, 2200));
    await expect(call('browse.listAccounts', { refresh: true })).rejects.toMatchObject({
      code: 'SignInExpired',
    });
    expect(((await call('auth.getView')) as AuthView).state.status).toBe('signInRequired');
    expect(
      events.some(
        (e) => e.event === 'auth.state' && (e.payload as AuthView).state.status === 'signInRequired',
      ),
    ).toBe(true);
    await call('auth.signIn');
    await signedIn();
    expect(((await call('browse.listAccounts', {})) as unknown[]).length).toBeGreaterThan(0);
  });
});
