import {
  AccessDeniedException,
  AuthorizationPendingException,
  CreateTokenCommand,
  ExpiredTokenException,
  InvalidClientException,
  InvalidGrantException,
  InvalidRequestException,
  RegisterClientCommand,
  SlowDownException,
  SSOOIDCClient,
  StartDeviceAuthorizationCommand,
} from '@aws-sdk/client-sso-oidc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../index';
import { clientConfig } from '../testing/sdk';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('sso-oidc device authorization', () => {
  let sandbox: Sandbox;
  let oidc: SSOOIDCClient;
  beforeAll(async () => {
    sandbox = await startSandbox({
      deviceCodeLifetimeSeconds: 2,
      pollIntervalSeconds: 1,
      accessTokenLifetimeSeconds: 60,
    });
    oidc = new SSOOIDCClient(clientConfig(sandbox));
  });
  afterAll(async () => {
    oidc.destroy();
    await sandbox.close();
  });

  async function register(scopes = ['sso:account:access']) {
    return oidc.send(new RegisterClientCommand({ clientName: 'test', clientType: 'public', scopes }));
  }
  async function start(reg: { clientId?: string; clientSecret?: string }) {
    return oidc.send(
      new StartDeviceAuthorizationCommand({
        clientId: reg.clientId,
        clientSecret: reg.clientSecret,
        startUrl: sandbox.startUrl,
      }),
    );
  }
  const poll = (reg: { clientId?: string; clientSecret?: string }, deviceCode?: string) =>
    oidc.send(
      new CreateTokenCommand({
        clientId: reg.clientId,
        clientSecret: reg.clientSecret,
        grantType: DEVICE_GRANT,
        deviceCode,
      }),
    );

  /** Opens the verification page like a browser, picks `user` and presses `decision`. */
  async function decide(verificationUriComplete: string, user: string, decision: 'approve' | 'deny') {
    const page = await fetch(verificationUriComplete);
    expect(page.status).toBe(200);
    const html = await page.text();
    const csrf = /name="csrf_token" value="([^"]+)"/.exec(html)?.[1];
    const userCode = /name="user_code" value="([^"]+)"/.exec(html)?.[1];
    expect(csrf).toBeTruthy();
    const res = await fetch(`${sandbox.endpoint}/device`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ user_code: userCode!, csrf_token: csrf!, user, decision }).toString(),
    });
    return { status: res.status, html: await res.text(), pageHtml: html };
  }

  it('issues tokens after a person approves on the verification page', async () => {
    const reg = await register();
    const device = await start(reg);
    expect(device.verificationUriComplete).toBe(`${sandbox.endpoint}/device?user_code=${device.userCode}`);
    expect(device.interval).toBe(1);
    await expect(poll(reg, device.deviceCode)).rejects.toBeInstanceOf(AuthorizationPendingException);

    const { status, html, pageHtml } = await decide(device.verificationUriComplete!, 'bob', 'approve');
    expect(pageHtml).toContain(device.userCode);
    expect(pageHtml).toMatch(/<label><input type="radio" name="user" value="alice"/);
    expect(pageHtml).toContain('<button type="submit" name="decision" value="deny">Deny</button>');
    expect(status).toBe(200);
    expect(html).toContain('approved as bob');

    await sleep(1100);
    const token = await poll(reg, device.deviceCode);
    expect(token.tokenType).toBe('Bearer');
    expect(token.expiresIn).toBe(60);
    expect(token.accessToken).toBeTruthy();
    expect(token.refreshToken).toBeTruthy();
    // A device code works once.
    await sleep(1100);
    await expect(poll(reg, device.deviceCode)).rejects.toBeInstanceOf(InvalidGrantException);
  });

  it('expires device codes (ExpiredTokenException)', async () => {
    const reg = await register();
    const device = await start(reg);
    expect(device.expiresIn).toBe(2);
    await sleep(2100);
    await expect(poll(reg, device.deviceCode)).rejects.toBeInstanceOf(ExpiredTokenException);
    const page = await fetch(device.verificationUriComplete!);
    expect(page.status).toBe(404);
    expect(await page.text()).toContain('unknown or has expired');
  });

  it('reports a denial as AccessDeniedException', async () => {
    const reg = await register();
    const device = await start(reg);
    const { html } = await decide(device.verificationUriComplete!, 'alice', 'deny');
    expect(html).toContain('was denied');
    await expect(poll(reg, device.deviceCode)).rejects.toBeInstanceOf(AccessDeniedException);
  });

  it('refuses a form post without a valid CSRF token and keeps the authorization pending', async () => {
    const reg = await register();
    const device = await start(reg);
    const res = await fetch(`${sandbox.endpoint}/device`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        user_code: device.userCode!,
        csrf_token: 'forged',
        user: 'alice',
        decision: 'approve',
      }).toString(),
    });
    expect(res.status).toBe(403);
    await expect(poll(reg, device.deviceCode)).rejects.toBeInstanceOf(AuthorizationPendingException);
  });

  it('asks for the code on the plain verificationUri', async () => {
    const reg = await register();
    const device = await start(reg);
    const res = await fetch(device.verificationUri!);
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(html).toContain('<label for="user_code">Code shown by the application</label>');
    // Typing the code (any case) leads to the approval form.
    const form = await fetch(`${device.verificationUri}?user_code=${device.userCode!.toLowerCase()}`);
    expect(await form.text()).toContain('name="csrf_token"');
  });

  it('escapes what it echoes on the page', async () => {
    const res = await fetch(
      `${sandbox.endpoint}/device?user_code=${encodeURIComponent('<script>alert(1)</script>')}`,
    );
    const html = await res.text();
    expect(html).not.toContain('<script>');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  it('refreshes with scope sso:account:access, never without it, and stops after revocation', async () => {
    const withScope = await register();
    const device = await start(withScope);
    await decide(device.verificationUriComplete!, 'alice', 'approve');
    const first = await poll(withScope, device.deviceCode);
    const refreshed = await oidc.send(
      new CreateTokenCommand({
        clientId: withScope.clientId,
        clientSecret: withScope.clientSecret,
        grantType: 'refresh_token',
        refreshToken: first.refreshToken,
      }),
    );
    expect(refreshed.accessToken).toBeTruthy();
    expect(refreshed.accessToken).not.toBe(first.accessToken);

    sandbox.revokeRefreshTokens('alice');
    await expect(
      oidc.send(
        new CreateTokenCommand({
          clientId: withScope.clientId,
          clientSecret: withScope.clientSecret,
          grantType: 'refresh_token',
          refreshToken: first.refreshToken,
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidGrantException);
    await expect(
      oidc.send(
        new CreateTokenCommand({
          clientId: withScope.clientId,
          clientSecret: withScope.clientSecret,
          grantType: 'refresh_token',
          refreshToken: 'bogus',
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidGrantException);

    const noScope = await register([]);
    const d2 = await start(noScope);
    await decide(d2.verificationUriComplete!, 'alice', 'approve');
    const t2 = await poll(noScope, d2.deviceCode);
    expect(t2.accessToken).toBeTruthy();
    expect(t2.refreshToken).toBeUndefined();
  });

  it('refuses bad client credentials and unknown start URLs', async () => {
    const reg = await register();
    await expect(start({ clientId: reg.clientId, clientSecret: 'wrong' })).rejects.toBeInstanceOf(
      InvalidClientException,
    );
    await expect(
      oidc.send(
        new StartDeviceAuthorizationCommand({
          clientId: reg.clientId,
          clientSecret: reg.clientSecret,
          startUrl: 'https://someone-else.awsapps.com/start',
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidRequestException);
  });
});

/** Starts a device authorization on its own sandbox; `poll` answers CreateToken's result or error. */
async function deviceFlow(options: Parameters<typeof startSandbox>[0]) {
  const sandbox = await startSandbox(options);
  const oidc = new SSOOIDCClient(clientConfig(sandbox));
  const reg = await oidc.send(new RegisterClientCommand({ clientName: 't', clientType: 'public' }));
  const device = await oidc.send(
    new StartDeviceAuthorizationCommand({
      clientId: reg.clientId,
      clientSecret: reg.clientSecret,
      startUrl: sandbox.startUrl,
    }),
  );
  const poll = () =>
    oidc
      .send(
        new CreateTokenCommand({
          clientId: reg.clientId,
          clientSecret: reg.clientSecret,
          grantType: DEVICE_GRANT,
          deviceCode: device.deviceCode,
        }),
      )
      .catch((e: unknown) => e);
  const close = async () => {
    oidc.destroy();
    await sandbox.close();
  };
  return { device, poll, close };
}

describe('sso-oidc polling interval', () => {
  it('answers SlowDownException when polled faster than the interval', async () => {
    // A long interval, so the second poll is "too soon" however slow the machine is.
    const { device, poll, close } = await deviceFlow({ pollIntervalSeconds: 30 });
    try {
      expect(device.interval).toBe(30);
      expect(await poll()).toBeInstanceOf(AuthorizationPendingException);
      const err = await poll();
      expect(err).toBeInstanceOf(SlowDownException);
      expect((err as SlowDownException).error).toBe('slow_down');
    } finally {
      await close();
    }
  });

  it('keeps answering slow_down to a client that polls at the old interval', async () => {
    const { poll, close } = await deviceFlow({ pollIntervalSeconds: 1, slowDownIncrementSeconds: 2 });
    try {
      expect(await poll()).toBeInstanceOf(AuthorizationPendingException);
      expect(await poll()).toBeInstanceOf(SlowDownException); // at once: interval is now 1 + 2 = 3 s
      await sleep(1_500); // the original interval has passed, the grown one has not
      expect(await poll()).toBeInstanceOf(SlowDownException); // interval is now 5 s
      await sleep(5_300); // a client that added the increment polls now
      expect(await poll()).toBeInstanceOf(AuthorizationPendingException);
    } finally {
      await close();
    }
  });
});

describe('sso-oidc with --approve', () => {
  it('approves every authorization as the given user', async () => {
    const sandbox = await startSandbox({ approve: 'bob' });
    try {
      const oidc = new SSOOIDCClient(clientConfig(sandbox));
      const reg = await oidc.send(new RegisterClientCommand({ clientName: 't', clientType: 'public' }));
      const device = await oidc.send(
        new StartDeviceAuthorizationCommand({
          clientId: reg.clientId,
          clientSecret: reg.clientSecret,
          startUrl: `${sandbox.startUrl}/`,
        }),
      );
      const token = await oidc.send(
        new CreateTokenCommand({
          clientId: reg.clientId,
          clientSecret: reg.clientSecret,
          grantType: DEVICE_GRANT,
          deviceCode: device.deviceCode,
        }),
      );
      expect(token.accessToken).toBeTruthy();
      const created = sandbox.cloudTrail().find((e) => e.eventName === 'CreateToken' && !e.errorCode);
      expect(created?.userIdentity.userName).toBe('bob');
      oidc.destroy();
    } finally {
      await sandbox.close();
    }
  });

  it('refuses to start with an unknown approve user', async () => {
    await expect(startSandbox({ approve: 'mallory' })).rejects.toThrow(/no IdC user mallory/);
  });
});
