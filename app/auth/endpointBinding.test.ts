/**
 * Issue 11 item 2: the AWS endpoint receives the IdC tokens, so the renderer
 * can never set it, plain http goes only to this machine, and tokens issued
 * through one endpoint are never sent to another (a changed endpoint means a
 * new sign-in). Through the real settings store and app API, the real sandbox
 * as the issuing endpoint and a loopback server standing in for an attacker's.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox/src/index';
import type { AuthView } from '../api/calls/auth';
import type { SettingsView } from '../api/calls/settings';
import { createSettingsStore } from '../settings/store';
import { sandboxEnv, startApp, type AppUnderTest } from '../testing/appUnderTest';

let dataDir: string;
let sandbox: Sandbox | undefined;
let app: AppUnderTest | undefined;
let recorder: { server: Server; endpoint: string; requests: string[] } | undefined;

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'roleshell-endpoint-'));
});
afterEach(async () => {
  await app?.close();
  await sandbox?.close();
  if (recorder) await new Promise((resolve) => recorder!.server.close(resolve));
  await rm(dataDir, { recursive: true, force: true });
  app = sandbox = recorder = undefined;
});

/** A loopback "endpoint" that records everything sent to it (the attacker's server in the issue). */
async function startRecorder() {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push(
        `${request.method} ${request.url} ${JSON.stringify(request.headers)} ${Buffer.concat(chunks)}`,
      );
      response.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  recorder = { server, endpoint, requests };
  return recorder;
}

describe('the AWS endpoint setting', () => {
  it('is refused from a settings save, and a value in the file is ignored', async () => {
    app = startApp(dataDir, {});
    await expect(app.call('saveSettings', { awsEndpoint: 'https://attacker.example' })).rejects.toMatchObject(
      {
        code: 'InvalidInput',
        fields: [{ path: 'awsEndpoint', message: expect.stringContaining('ROLESHELL_AWS_ENDPOINT') }],
      },
    );
    // The form may send the value it shows (empty) along with a real change.
    const saved = await app.call<SettingsView>('saveSettings', {
      awsEndpoint: '',
      startUrl: 'https://my-org.awsapps.com/start',
    });
    expect(saved.settings.awsEndpoint).toBe('');
    const onDisk = JSON.parse(await readFile(path.join(dataDir, 'settings.json'), 'utf8'));
    expect(onDisk).not.toHaveProperty('awsEndpoint');
    await app.close();

    // A file written by an older version that still took the endpoint from the renderer.
    const { endpoint, requests } = await startRecorder();
    await writeFile(
      path.join(dataDir, 'settings.json'),
      JSON.stringify({ ...onDisk, awsEndpoint: endpoint }),
    );
    app = startApp(dataDir, {});
    expect((await app.call<SettingsView>('getSettings')).settings.awsEndpoint).toBe('');
    await app.call('auth.getView');
    expect(requests).toEqual([]);
  });

  it('takes plain http from the launch environment only for this machine', () => {
    const problemsFor = (value: string) =>
      createSettingsStore({ dataDir, env: { ROLESHELL_AWS_ENDPOINT: value } }).current().awsEndpoint;
    for (const local of [
      'http://127.0.0.1:4566',
      'http://localhost:4566',
      'http://[::1]:4566',
      'https://sso.vpce.example',
    ]) {
      expect(problemsFor(local)).toBe(local);
    }
    const store = createSettingsStore({
      dataDir,
      env: { ROLESHELL_AWS_ENDPOINT: 'http://192.168.1.20:4566' },
    });
    expect(store.current().awsEndpoint).toBe('');
    return store.load().then((view) =>
      expect(view.envProblems).toEqual([
        {
          path: 'awsEndpoint',
          message: expect.stringMatching(
            /ROLESHELL_AWS_ENDPOINT is ignored: Plain http is allowed only to this machine/,
          ),
        },
      ]),
    );
  });

  it('keys tokens by endpoint: signed in through the sandbox, another endpoint finds no sign-in and receives nothing', async () => {
    sandbox = await startSandbox();
    app = startApp(dataDir, sandboxEnv(sandbox));
    await app.signInAs(sandbox, 'alice');
    await app.close();

    // Same start URL and region, another endpoint: a new sign-in, and not one byte of the old tokens.
    const { endpoint, requests } = await startRecorder();
    app = startApp(dataDir, sandboxEnv(sandbox, endpoint));
    const view = await app.call<AuthView>('auth.getView');
    expect(view.state.status).toBe('signedOut');
    await expect(app.call('browse.listAccounts', {})).rejects.toMatchObject({ code: 'NotSignedIn' });
    expect(requests).toEqual([]);
    await app.close();

    // Back on the issuing endpoint, the sign-in is still there.
    app = startApp(dataDir, sandboxEnv(sandbox));
    expect((await app.call<AuthView>('auth.getView')).state.status).toBe('signedIn');
  });

  it("never offers or adopts the AWS CLI's sign-in (issued by AWS) through an endpoint override", async () => {
    const { endpoint, requests } = await startRecorder();
    const startUrl = 'https://corp.awsapps.com/start';
    const cacheDir = path.join(dataDir, '.aws', 'sso', 'cache');
    await mkdir(cacheDir, { recursive: true });
    const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
    await writeFile(
      path.join(cacheDir, `${createHash('sha1').update('corp').digest('hex')}.json`),
      JSON.stringify({
        startUrl,
        region: 'eu-west-1',
        accessToken: 'aoa-cli-token',
        refreshToken: 'aor-cli-refresh',
        expiresAt: iso(Date.now() + 60_000),
        clientId: 'cli-client',
        clientSecret: 'cli-secret',
        registrationExpiresAt: iso(Date.now() + 86_400_000),
      }),
    );
    const env = { ROLESHELL_START_URL: startUrl, ROLESHELL_SSO_REGION: 'eu-west-1' };
    app = startApp(dataDir, env);
    // Without an override the CLI's sign-in is offered (it would be refreshed at AWS, which issued it).
    expect((await app.call<AuthView>('auth.getView')).cliSignInExpiresAt).toEqual(expect.any(Number));
    await app.close();

    app = startApp(dataDir, { ...env, ROLESHELL_AWS_ENDPOINT: endpoint });
    expect((await app.call<AuthView>('auth.getView')).cliSignInExpiresAt).toBeNull();
    await expect(app.call('auth.useCliSignIn')).rejects.toMatchObject({ code: 'NotFound' });
    await expect(app.call('browse.listAccounts', {})).rejects.toMatchObject({ code: 'NotSignedIn' });
    expect(requests.join('\n')).not.toMatch(/aoa-cli-token|aor-cli-refresh|cli-secret/);
  });
});
