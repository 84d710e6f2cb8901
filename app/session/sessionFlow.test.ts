/**
 * Sessions through the real app API against the real sandbox: sign in, start
 * a shell through the broker (built-in client, in the session host process),
 * type into it, see output only on the owning connection, close it and find
 * nothing left running; direct mode resumes a dropped data channel.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox/src/index';
import type { AuthView } from '../api/calls/auth';
import type { SessionStateEvent } from '../api/calls/session';
import { createAppApi, type AppApi, type AppConnection } from '../createAppApi';

let sandbox: Sandbox | undefined;
let app: AppApi | undefined;
let dataDir: string | undefined;
const logs: string[] = [];

afterEach(async () => {
  await app?.close();
  await sandbox?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  app = sandbox = dataDir = undefined;
});

interface Window {
  connection: AppConnection;
  states: SessionStateEvent[];
  output: Map<string, string>;
  call(name: string, input?: unknown): Promise<never>;
}

async function setup(env: Record<string, string> = {}) {
  sandbox = await startSandbox({ approve: 'alice' });
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'roleshell-session-'));
  app = createAppApi({
    dataDir,
    env: {
      HOME: dataDir,
      PATH: process.env.PATH ?? '',
      ROLESHELL_START_URL: sandbox.startUrl,
      ROLESHELL_SSO_REGION: sandbox.region,
      ROLESHELL_AWS_ENDPOINT: sandbox.endpoint,
      ROLESHELL_BROKER_ARN: sandbox.brokerFunctionArn,
      ROLESHELL_REGIONS: 'eu-west-1',
      ...env,
    },
    mode: 'web',
    log: (message, error) => logs.push(`${message} ${error instanceof Error ? error.message : ''}`),
  });
  const open = (): Window => {
    const states: SessionStateEvent[] = [];
    const output = new Map<string, string>();
    const connection = app!.connect({
      sendEvent: (name, payload) => {
        if (name === 'session.state') states.push(payload as SessionStateEvent);
      },
      sendOutput: (id, data) => output.set(id, (output.get(id) ?? '') + Buffer.from(data).toString('utf8')),
    });
    return {
      connection,
      states,
      output,
      async call(name, input) {
        const result = await connection.call(name, input);
        if (!result.ok) throw Object.assign(new Error(result.error.message), result.error);
        return result.value as never;
      },
    };
  };
  const window = open();
  await window.call('auth.signIn');
  await until(async () => ((await window.call('auth.getView')) as AuthView).state.status === 'signedIn');
  return { window, open, sandbox: sandbox! };
}

async function until(check: () => boolean | Promise<boolean>, what = 'condition', tries = 400) {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const request = (permissionSet: string, linuxUser: string) => ({
  accountId: '222222222222',
  accountName: 'prod-workloads',
  permissionSet,
  linuxUser,
  region: 'eu-west-1',
  instanceId: 'i-0a1b2c3d4e5f60001',
  instanceName: 'prod-web-1',
});

async function activeSessions(sandbox: Sandbox): Promise<string[]> {
  return sandbox.sessions
    .list()
    .filter((s) => sandbox.sessions.isActive(s))
    .map((s) => s.sessionId);
}

describe('sessions through the app API', () => {
  it('runs a shell as the mapped Linux user, streams output only to its own connection, and terminates on close', async () => {
    const { window, open, sandbox } = await setup({ ROLESHELL_E2E_UNUSED: '1' });
    const other = open();
    const { id } = (await window.call('session.start', {
      request: request('AdministratorAccess', 'ops-admin'),
      cols: 100,
      rows: 30,
    })) as { id: string };
    await until(() => window.states.some((s) => s.id === id && s.status === 'connected'), 'connected');
    expect(window.states.find((s) => s.status === 'connected')).toMatchObject({
      linuxUser: 'ops-admin',
      backend: 'dataChannel',
      sessionId: expect.any(String),
    });
    await window.call('session.input', { id, data: 'whoami; stty size\r' });
    await until(() => /ops-admin[\s\S]*30 100/.test(window.output.get(id) ?? ''), 'whoami output');
    await window.call('session.resize', { id, cols: 120, rows: 40 });
    await window.call('session.input', { id, data: 'stty size\r' });
    await until(() => (window.output.get(id) ?? '').includes('40 120'), 'resized');

    // Another window sees neither the output nor the state, and may not type into it.
    expect(other.output.size).toBe(0);
    expect(other.states).toEqual([]);
    await expect(other.call('session.input', { id, data: 'x' })).rejects.toMatchObject({ code: 'NotFound' });

    const record = JSON.parse(await readFile(path.join(dataDir!, 'sessions', 'open.json'), 'utf8'));
    expect(record).toHaveLength(1);
    expect(JSON.stringify(record)).not.toMatch(/Token/i);

    await window.call('session.close', { id });
    await until(async () => (await activeSessions(sandbox)).length === 0, 'no active session');
    expect(logs).toEqual([]);
    expect(JSON.parse(await readFile(path.join(dataDir!, 'sessions', 'open.json'), 'utf8'))).toEqual([]);
  });

  it('exit closes the tab state with the reason; a connection that goes away ends its sessions', async () => {
    const { window, sandbox } = await setup();
    const { id } = (await window.call('session.start', {
      request: request('ReadOnly', 'auditor'),
      cols: 80,
      rows: 24,
    })) as { id: string };
    await until(() => window.states.some((s) => s.id === id && s.status === 'connected'), 'connected');
    await window.call('session.input', { id, data: 'exit\r' });
    await until(() => window.states.some((s) => s.id === id && s.status === 'closed'), 'closed');
    expect(window.states.at(-1)).toMatchObject({ status: 'closed', reason: expect.any(String) });

    const second = (await window.call('session.start', {
      request: request('Developer', 'developer'),
      cols: 80,
      rows: 24,
    })) as { id: string };
    await until(() => window.states.some((s) => s.id === second.id && s.status === 'connected'), 'connected');
    window.connection.close();
    await until(async () => (await activeSessions(sandbox)).length === 0, 'no active session');
  });

  it('signing out terminates every open session; its tab shows why and can start a new one after signing in', async () => {
    const { window, sandbox } = await setup();
    const ids: string[] = [];
    for (const [permissionSet, linuxUser] of [
      ['AdministratorAccess', 'ops-admin'],
      ['ReadOnly', 'auditor'],
    ] as const) {
      const { id } = (await window.call('session.start', {
        request: request(permissionSet, linuxUser),
        cols: 80,
        rows: 24,
      })) as { id: string };
      ids.push(id);
    }
    for (const id of ids)
      await until(() => window.states.some((s) => s.id === id && s.status === 'connected'), 'connected');
    expect(await activeSessions(sandbox)).toHaveLength(2);

    await window.call('auth.signOut');
    // Terminated before the sign-out answered, not eventually.
    expect(await activeSessions(sandbox)).toEqual([]);
    for (const id of ids)
      expect(window.states.filter((s) => s.id === id).at(-1)).toMatchObject({
        status: 'closed',
        reason: 'Signed out.',
      });
    expect(JSON.parse(await readFile(path.join(dataDir!, 'sessions', 'open.json'), 'utf8'))).toEqual([]);
    const terminated = sandbox.cloudTrail().filter((e) => e.eventName === 'TerminateSession');
    expect(terminated).toHaveLength(2);

    await window.call('auth.signIn');
    await until(async () => ((await window.call('auth.getView')) as AuthView).state.status === 'signedIn');
    await window.call('session.reconnect', { id: ids[0], cols: 80, rows: 24 });
    await until(() => window.states.at(-1)?.id === ids[0] && window.states.at(-1)?.status === 'connected');
    expect(await activeSessions(sandbox)).toHaveLength(1);
  });

  it('a start after a crash terminates what the last run left open; quitting ends every session', async () => {
    const { window, sandbox } = await setup();
    const first = (await window.call('session.start', {
      request: request('AdministratorAccess', 'ops-admin'),
      cols: 80,
      rows: 24,
    })) as { id: string };
    await until(() => window.states.some((s) => s.id === first.id && s.status === 'connected'), 'connected');
    const [leftover] = await activeSessions(sandbox);
    // "Crash": this run stops without closing anything; a new run starts on the same data folder.
    const crashed = app!;
    const envOf = {
      HOME: dataDir!,
      PATH: process.env.PATH ?? '',
      ROLESHELL_START_URL: sandbox.startUrl,
      ROLESHELL_SSO_REGION: sandbox.region,
      ROLESHELL_AWS_ENDPOINT: sandbox.endpoint,
      ROLESHELL_BROKER_ARN: sandbox.brokerFunctionArn,
      ROLESHELL_REGIONS: 'eu-west-1',
    };
    app = createAppApi({ dataDir: dataDir!, env: envOf, mode: 'web', log: () => {} });
    const states: SessionStateEvent[] = [];
    const next = app.connect({
      sendEvent: (name, payload) => {
        if (name === 'session.state') states.push(payload as SessionStateEvent);
      },
      sendOutput: () => {},
    });
    await until(async () => {
      const view = await next.call('auth.getView', undefined);
      return view.ok && (view.value as AuthView).state.status === 'signedIn';
    }, 'still signed in');
    const started = await next.call('session.start', {
      request: request('ReadOnly', 'auditor'),
      cols: 80,
      rows: 24,
    });
    expect(started.ok).toBe(true);
    await until(() => states.some((s) => s.status === 'connected'), 'connected');
    await until(async () => !(await activeSessions(sandbox)).includes(leftover!), 'leftover terminated');
    const records = JSON.parse(await readFile(path.join(dataDir!, 'sessions', 'open.json'), 'utf8'));
    expect(records.map((r: { sessionId: string }) => r.sessionId)).not.toContain(leftover);
    expect(await activeSessions(sandbox)).toHaveLength(1);

    // Quitting terminates every open session.
    await app.close();
    app = undefined;
    expect(await activeSessions(sandbox)).toEqual([]);
    await crashed.close();
  });

  it('direct mode: a dropped data channel is resumed (ssm:ResumeSession) with the shell state intact', async () => {
    const { window, sandbox } = await setup({ ROLESHELL_BROKER_ARN: '' });
    const { id } = (await window.call('session.start', {
      request: request('AdministratorAccess', 'ops-admin'),
      cols: 80,
      rows: 24,
    })) as { id: string };
    await until(() => window.states.some((s) => s.id === id && s.status === 'connected'), 'connected');
    await window.call('session.input', { id, data: 'export ROLESHELL_MARK=kept-$((6*7))\r' });
    await window.call('session.input', { id, data: 'echo set-$ROLESHELL_MARK\r' });
    await until(() => (window.output.get(id) ?? '').includes('set-kept-42'), 'variable set');

    // The sandbox's agent cuts the socket without a close frame, as a dead network path would.
    const [sessionId] = await activeSessions(sandbox);
    expect(sandbox.dropDataChannel(sessionId!)).toBe(true);
    await until(() => window.states.some((s) => s.id === id && s.status === 'reconnecting'), 'reconnecting');
    await until(() => window.states.at(-1)?.status === 'connected', 'connected again');
    await window.call('session.input', { id, data: 'echo after-$ROLESHELL_MARK\r' });
    await until(() => (window.output.get(id) ?? '').includes('after-kept-42'), 'variable intact');
    const statuses = window.states.filter((s) => s.id === id).map((s) => s.status);
    expect(statuses).toEqual(['starting', 'connected', 'disconnected', 'reconnecting', 'connected']);
    const resumes = sandbox.cloudTrail().filter((e) => e.eventName === 'ResumeSession');
    expect(resumes).toHaveLength(1);
  });
});
