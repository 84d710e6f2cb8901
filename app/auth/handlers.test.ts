/** The sign-in calls through the app API: opening the approval page, and "Try the local sandbox". */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox/src/index';
import type { AuthView } from '../api/calls/auth';
import { dispatchCall } from '../api/dispatch';
import { createAppApi, type AppApi } from '../createAppApi';
import { isAllowedExternalUrl } from '../externalUrl';

let sandbox: Sandbox | undefined;
let app: AppApi | undefined;
let dataDir: string | undefined;
afterEach(async () => {
  await app?.close();
  await sandbox?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  app = sandbox = dataDir = undefined;
});

async function call(
  name: string,
  input?: unknown,
): Promise<{ ok: boolean; value?: unknown; error?: { code: string; message: string } }> {
  return (await dispatchCall(app!.handlers, name, input)) as never;
}

describe('the sandbox approval page in the openExternal allow-list', () => {
  it('allows exactly the configured loopback sandbox origin', () => {
    const sandboxEndpoint = 'http://127.0.0.1:4567';
    expect(isAllowedExternalUrl('http://127.0.0.1:4567/device?user_code=AB', { sandboxEndpoint })).toBe(true);
    expect(isAllowedExternalUrl('http://127.0.0.1:4568/device', { sandboxEndpoint })).toBe(false);
    expect(isAllowedExternalUrl('http://127.0.0.1:4567/device')).toBe(false);
    expect(isAllowedExternalUrl('http://evil.example:4567/device', { sandboxEndpoint })).toBe(false);
    // A configured endpoint that is not loopback is real AWS or a stranger: only IdC's https pages then.
    expect(isAllowedExternalUrl('http://10.0.0.5:80/device', { sandboxEndpoint: 'http://10.0.0.5:80' })).toBe(
      false,
    );
  });
});

describe('auth calls', () => {
  it('opens the verification page IdC returned, and only while a sign-in is waiting', async () => {
    sandbox = await startSandbox();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'roleshell-auth-'));
    const opened: string[] = [];
    app = createAppApi({
      dataDir,
      mode: 'web',
      log: () => {},
      openExternal: async (url) => void opened.push(url),
      env: {
        HOME: dataDir,
        ROLESHELL_START_URL: sandbox.startUrl,
        ROLESHELL_SSO_REGION: sandbox.region,
        ROLESHELL_AWS_ENDPOINT: sandbox.endpoint,
      },
    });
    expect((await call('auth.openVerificationPage')).error).toMatchObject({ code: 'InvalidInput' });
    const started = await call('auth.signIn');
    const state = (started.value as AuthView).state;
    expect(state.status).toBe('awaitingApproval');
    expect((await call('auth.openVerificationPage')).ok).toBe(true);
    expect(opened).toEqual([
      `${sandbox.endpoint}/device?user_code=${encodeURIComponent((state as { userCode: string }).userCode)}`,
    ]);
    expect(((await call('auth.cancelSignIn')).value as AuthView).state).toMatchObject({
      status: 'signedOut',
      message: /cancelled/,
    });
  });

  it('"Try the local sandbox" starts it, signs in against it, and browsing works', async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'roleshell-auth-'));
    app = createAppApi({
      dataDir,
      mode: 'web',
      log: () => {},
      env: { HOME: dataDir },
      startSandbox: async () => {
        sandbox = await startSandbox({ approve: 'bob' });
        return { ...sandbox, regions: ['eu-west-1', 'us-east-1'] };
      },
    });
    expect(((await call('auth.getView')).value as AuthView).configured).toBe(false);
    expect((await call('auth.getUser')).value).toBeNull();
    const view = (await call('auth.tryLocalSandbox')).value as AuthView;
    // The sandbox's settings are what is in use now.
    expect(view.inUse).toMatchObject({
      mode: 'broker',
      endpoint: sandbox!.endpoint,
      brokerArn: sandbox!.brokerFunctionArn,
    });
    expect(view).toMatchObject({ configured: true, sandbox: true, state: { status: 'awaitingApproval' } });
    for (
      let i = 0;
      i < 100 && ((await call('auth.getView')).value as AuthView).state.status !== 'signedIn';
      i++
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const accounts = (await call('browse.listAccounts', {})).value as { accountName: string }[];
    // bob's assignments in the default org.
    expect(accounts.map((a) => a.accountName).sort()).toEqual([
      'dev-sandbox',
      'prod-workloads',
      'staging-workloads',
    ]);
    // Who is signed in, as IdC named the permission-set session.
    expect((await call('auth.getUser')).value).toBe('bob');
  });

  it('says so when the local sandbox cannot start, and stays on the first-run screen', async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'roleshell-auth-'));
    app = createAppApi({
      dataDir,
      mode: 'web',
      log: () => {},
      env: {},
      startSandbox: () => Promise.reject(new Error('EADDRINUSE')),
    });
    expect((await call('auth.tryLocalSandbox')).error).toMatchObject({
      code: 'Unavailable',
      message: 'The local sandbox could not start. EADDRINUSE. Details are in the RoleShell log.',
    });
    expect(((await call('auth.getView')).value as AuthView).configured).toBe(false);
  });

  it('asks for a start URL before anything else', async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'roleshell-auth-'));
    app = createAppApi({ dataDir, mode: 'web', log: () => {}, env: {} });
    expect((await call('auth.signIn')).error).toMatchObject({ code: 'NotSignedIn', message: /start URL/ });
    expect((await call('browse.listAccounts', {})).error).toMatchObject({ code: 'NotSignedIn' });
  });
});
