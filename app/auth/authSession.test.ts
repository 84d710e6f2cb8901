import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SSOOIDCClient } from '@aws-sdk/client-sso-oidc';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuthSession } from './authSession';
import { ManualClock } from './clock';
import { startOidcWire, type OidcWire } from './fixtures/oidcWire';
import { createMemoryStore } from './secretStore';
import type { AuthState } from './types';

const startUrl = 'https://corp.awsapps.com/start';
let wire: OidcWire;
let client: SSOOIDCClient;
let clock: ManualClock;
let store: ReturnType<typeof createMemoryStore>;
let states: AuthState[];
let tokenCounter: number;

function session(extra: { home?: string; endpoint?: string } = {}) {
  return new AuthSession({
    startUrl,
    region: 'eu-west-1',
    oidc: client,
    store,
    clock,
    onState: (s) => states.push(s),
    ...extra,
  });
}

beforeEach(async () => {
  tokenCounter = 0;
  clock = new ManualClock();
  store = createMemoryStore();
  states = [];
  wire = await startOidcWire({
    register: () => ({
      body: { clientId: 'cid', clientSecret: 'cs', clientSecretExpiresAt: clock.now() / 1000 + 7_776_000 },
    }),
    device: () => ({
      body: {
        deviceCode: 'dc',
        userCode: 'WXYZ-1234',
        verificationUri: 'https://device.sso.eu-west-1.amazonaws.com/',
        verificationUriComplete: 'https://device.sso.eu-west-1.amazonaws.com/?user_code=WXYZ-1234',
        expiresIn: 600,
        interval: 1,
      },
    }),
    token: (body) => {
      tokenCounter++;
      return {
        body: {
          accessToken: `at-${tokenCounter}`,
          refreshToken: `rt-${tokenCounter}`,
          expiresIn: 3600,
          grant: body.grantType,
        },
      };
    },
  });
  client = new SSOOIDCClient({ region: 'eu-west-1', endpoint: wire.endpoint, maxAttempts: 1 });
});
afterEach(async () => {
  client.destroy();
  await wire.close();
});

async function signedInSession() {
  const auth = session();
  await auth.init();
  await auth.startSignIn();
  await auth.waitForSignIn();
  return auth;
}

describe('AuthSession', () => {
  it('signs in: awaitingApproval with the user code, then signedIn; the state never carries a token', async () => {
    const auth = session();
    expect(await auth.init()).toMatchObject({ status: 'signedOut' });
    const pending = await auth.startSignIn();
    expect(pending).toMatchObject({ status: 'awaitingApproval', userCode: 'WXYZ-1234' });
    expect(await auth.waitForSignIn()).toMatchObject({ status: 'signedIn', startUrl });
    expect(await auth.accessToken()).toBe('at-1');
    expect(JSON.stringify(states)).not.toMatch(/at-1|rt-1|cs\b|"dc"/);
  });

  it('reuses the stored registration across sign-ins and restarts', async () => {
    await signedInSession();
    const again = session();
    await again.init();
    await again.startSignIn();
    await again.waitForSignIn();
    expect(wire.requests.filter((r) => r.operation === 'register')).toHaveLength(1);
  });

  it('keeps a sign-in and its registration per endpoint: another endpoint finds neither', async () => {
    const viaA = session({ endpoint: 'http://127.0.0.1:4566' });
    await viaA.init();
    await viaA.startSignIn();
    expect(await viaA.waitForSignIn()).toMatchObject({ status: 'signedIn' });
    const viaB = session({ endpoint: 'http://127.0.0.1:4567' });
    expect(await viaB.init()).toMatchObject({ status: 'signedOut' });
    await viaB.startSignIn();
    await viaB.waitForSignIn();
    // A registration of its own too: the client secret from A is never presented to B.
    expect(wire.requests.filter((r) => r.operation === 'register')).toHaveLength(2);
    expect(await session({ endpoint: 'http://127.0.0.1:4566' }).init()).toMatchObject({ status: 'signedIn' });
    expect(await session().init()).toMatchObject({ status: 'signedOut' });
  });

  it('drops a sign-in stored before the endpoint was part of the key (its issuer is unknown)', async () => {
    const legacyKey = `idc-session:${startUrl}`;
    await store.set(
      legacyKey,
      JSON.stringify({ tokens: { accessToken: 'old', issuedAt: 0, expiresAt: clock.now() + 3_600_000 } }),
    );
    expect(await session().init()).toMatchObject({ status: 'signedOut' });
    expect(store.entries.has(legacyKey)).toBe(false);
  });

  it('restores a stored sign-in after a restart', async () => {
    await signedInSession();
    const restarted = session();
    expect(await restarted.init()).toMatchObject({ status: 'signedIn' });
    expect(await restarted.accessToken()).toBe('at-1');
  });

  it('refreshes silently when less than 15 minutes remain', async () => {
    const auth = await signedInSession();
    clock.advance(44 * 60_000);
    expect(await auth.accessToken()).toBe('at-1');
    clock.advance(2 * 60_000);
    expect(await auth.accessToken()).toBe('at-2');
    expect(wire.requests.at(-1)?.body).toMatchObject({ grantType: 'refresh_token', refreshToken: 'rt-1' });
    expect(states.at(-1)).toMatchObject({ status: 'signedIn' });
  });

  it('refreshes once for many concurrent callers', async () => {
    const auth = await signedInSession();
    clock.advance(50 * 60_000);
    const got = await Promise.all([auth.accessToken(), auth.accessToken(), auth.accessToken()]);
    expect(got).toEqual(['at-2', 'at-2', 'at-2']);
    expect(wire.requests.filter((r) => r.body.grantType === 'refresh_token')).toHaveLength(1);
  });

  it('refreshes on UnauthorizedException even with time left, once per rejected token', async () => {
    const auth = await signedInSession();
    expect(await auth.handleUnauthorized('at-1')).toBe('at-2');
    expect(await auth.handleUnauthorized('at-1')).toBe('at-2');
    expect(wire.requests.filter((r) => r.body.grantType === 'refresh_token')).toHaveLength(1);
  });

  it('InvalidGrantException moves to signInRequired; signing in again returns to signedIn', async () => {
    const auth = await signedInSession();
    wire.handlers.token = () => ({ error: 'InvalidGrantException' });
    clock.advance(50 * 60_000);
    await expect(auth.accessToken()).rejects.toMatchObject({
      code: 'SignInExpired',
      message: expect.stringMatching(/session ended/),
    });
    expect(auth.state).toMatchObject({ status: 'signInRequired' });
    await expect(auth.accessToken()).rejects.toMatchObject({ code: 'SignInExpired' });
    wire.handlers.token = () => ({
      body: { accessToken: 'at-new', refreshToken: 'rt-new', expiresIn: 3600 },
    });
    await auth.startSignIn();
    expect(await auth.waitForSignIn()).toMatchObject({ status: 'signedIn' });
    expect(await auth.accessToken()).toBe('at-new');
  });

  it('a denied sign-in ends signedOut with the reason', async () => {
    wire.handlers.token = () => ({ error: 'AccessDeniedException' });
    const auth = session();
    await auth.startSignIn();
    expect(await auth.waitForSignIn()).toMatchObject({
      status: 'signedOut',
      message: expect.stringMatching(/denied/),
    });
    await expect(auth.accessToken()).rejects.toMatchObject({ code: 'NotSignedIn' });
  });

  it('cancel stops polling; a cancelled re-sign-in keeps signInRequired', async () => {
    const auth = await signedInSession();
    wire.handlers.token = () => ({ error: 'InvalidGrantException' });
    await expect(auth.handleUnauthorized('at-1')).rejects.toMatchObject({ code: 'SignInExpired' });
    wire.handlers.token = () => ({ error: 'AuthorizationPendingException' });
    await auth.startSignIn();
    auth.cancelSignIn();
    expect(await auth.waitForSignIn()).toMatchObject({ status: 'signInRequired' });
  });

  it('reports an unreachable IdC clearly and stays signed out', async () => {
    const auth = session();
    await wire.close();
    await expect(auth.startSignIn()).rejects.toMatchObject({
      code: 'Unavailable',
      message: expect.stringMatching(/Could not reach/),
    });
    expect(auth.state.status).toBe('signedOut');
    wire = await startOidcWire(); // afterEach closes it
  });

  it('offers and adopts a valid AWS CLI cache entry for the same start URL', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'roleshell-home-'));
    try {
      const dir = path.join(home, '.aws', 'sso', 'cache');
      await mkdir(dir, { recursive: true });
      await writeFile(
        path.join(dir, `${createHash('sha1').update('corp').digest('hex')}.json`),
        JSON.stringify({
          startUrl,
          region: 'eu-west-1',
          accessToken: 'aoa-cli',
          expiresAt: new Date(clock.now() + 3_000_000).toISOString(),
          refreshToken: 'aor-cli',
          clientId: 'cli-client',
          clientSecret: 'cli-secret',
          registrationExpiresAt: new Date(clock.now() + 86_400_000).toISOString(),
        }),
      );
      const auth = session({ home });
      await auth.init();
      expect(await auth.cliCacheOffer()).toEqual({ expiresAt: clock.now() + 3_000_000 });
      expect(await auth.useCliCache()).toMatchObject({ status: 'signedIn' });
      expect(await auth.accessToken()).toBe('aoa-cli');
      clock.advance(3_000_000);
      expect(await auth.accessToken()).toBe('at-1');
      expect(wire.requests.at(-1)?.body).toMatchObject({ clientId: 'cli-client', refreshToken: 'aor-cli' });
      expect(wire.requests.filter((r) => r.operation === 'register')).toHaveLength(0);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it('says so when there is no CLI sign-in to use', async () => {
    const auth = session({ home: os.tmpdir() + '/roleshell-no-such-home' });
    expect(await auth.cliCacheOffer()).toBeUndefined();
    await expect(auth.useCliCache()).rejects.toMatchObject({ code: 'NotFound' });
  });
});
