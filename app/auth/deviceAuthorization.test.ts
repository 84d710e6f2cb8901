import { SSOOIDCClient } from '@aws-sdk/client-sso-oidc';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from './clock';
import {
  DEVICE_CODE_GRANT,
  pollForToken,
  refreshAccessToken,
  registerClient,
  startDeviceAuthorization,
} from './deviceAuthorization';
import { startOidcWire, type OidcWire } from './fixtures/oidcWire';
import { SignInError, type ClientRegistration, type DeviceAuthorization } from './types';

let wire: OidcWire;
let client: SSOOIDCClient;
let clock: ManualClock;

beforeEach(async () => {
  wire = await startOidcWire();
  client = new SSOOIDCClient({ region: 'eu-west-1', endpoint: wire.endpoint, maxAttempts: 1 });
  clock = new ManualClock();
});
afterEach(async () => {
  client.destroy();
  await wire.close();
});

const registration: ClientRegistration = {
  region: 'eu-west-1',
  clientId: 'client-1',
  clientSecret: 'secret-1',
  expiresAt: Date.UTC(2026, 3, 1),
};

function authorization(overrides: Partial<DeviceAuthorization> = {}): DeviceAuthorization {
  return {
    deviceCode: 'device-1',
    userCode: 'ABCD-EFGH',
    verificationUri: 'https://device.sso.eu-west-1.amazonaws.com/',
    expiresAt: clock.now() + 600_000,
    intervalSeconds: 5,
    ...overrides,
  };
}

const token = { body: { accessToken: 'at-1', refreshToken: 'rt-1', expiresIn: 3600, tokenType: 'Bearer' } };

describe('registerClient', () => {
  it('registers a public client with the account-access scope and both grants', async () => {
    wire.handlers.register = () => ({
      body: {
        clientId: 'c',
        clientSecret: 's',
        clientIdIssuedAt: 1,
        clientSecretExpiresAt: clock.now() / 1000 + 86400 * 90,
      },
    });
    const got = await registerClient(client, 'eu-west-1', clock);
    expect(got).toMatchObject({ clientId: 'c', clientSecret: 's', region: 'eu-west-1' });
    expect(wire.requests[0]?.body).toMatchObject({
      clientName: 'RoleShell',
      clientType: 'public',
      scopes: ['sso:account:access'],
      grantTypes: [DEVICE_CODE_GRANT, 'refresh_token'],
    });
  });

  it('reuses a cached registration until 15 minutes before it expires', async () => {
    let n = 0;
    wire.handlers.register = () => ({
      body: { clientId: `c${++n}`, clientSecret: 's', clientSecretExpiresAt: clock.now() / 1000 + 3600 },
    });
    const first = await registerClient(client, 'eu-west-1', clock);
    clock.advance(44 * 60_000); // 16 min left: reuse
    expect(await registerClient(client, 'eu-west-1', clock, first)).toBe(first);
    clock.advance(2 * 60_000); // 14 min left: register again
    const second = await registerClient(client, 'eu-west-1', clock, first);
    expect(second.clientId).toBe('c2');
    expect(wire.requests.filter((r) => r.operation === 'register')).toHaveLength(2);
  });

  it('does not reuse a registration made for another region', async () => {
    wire.handlers.register = () => ({
      body: { clientId: 'c-us', clientSecret: 's', clientSecretExpiresAt: 4e9 },
    });
    const got = await registerClient(client, 'us-east-1', clock, registration);
    expect(got.clientId).toBe('c-us');
  });
});

describe('startDeviceAuthorization', () => {
  it('defaults the interval to 5 s when IdC names none', async () => {
    wire.handlers.device = () => ({
      body: { deviceCode: 'd', userCode: 'U', verificationUri: 'https://x/', expiresIn: 600 },
    });
    const got = await startDeviceAuthorization(client, registration, 'https://corp.awsapps.com/start', clock);
    expect(got.intervalSeconds).toBe(5);
    expect(got.expiresAt).toBe(clock.now() + 600_000);
    expect(wire.requests[0]?.body).toMatchObject({
      clientId: 'client-1',
      startUrl: 'https://corp.awsapps.com/start',
    });
  });

  it('keeps the interval IdC asks for', async () => {
    wire.handlers.device = () => ({
      body: { deviceCode: 'd', userCode: 'U', verificationUri: 'https://x/', expiresIn: 600, interval: 2 },
    });
    expect((await startDeviceAuthorization(client, registration, 'https://s', clock)).intervalSeconds).toBe(
      2,
    );
  });
});

describe('pollForToken', () => {
  it('keeps polling at the interval while authorization is pending', async () => {
    let polls = 0;
    wire.handlers.token = () => (++polls < 4 ? { error: 'AuthorizationPendingException' } : token);
    const got = await pollForToken(client, registration, authorization(), { clock });
    expect(got).toMatchObject({ accessToken: 'at-1', refreshToken: 'rt-1' });
    expect(got.expiresAt - got.issuedAt).toBe(3600_000);
    expect(clock.sleeps).toEqual([5000, 5000, 5000, 5000]);
    expect(
      wire.requests.every((r) => r.body.grantType === DEVICE_CODE_GRANT && r.body.deviceCode === 'device-1'),
    ).toBe(true);
  });

  it('adds 5 s to the interval on every slow_down and keeps the larger interval', async () => {
    const replies = [
      'SlowDownException',
      'AuthorizationPendingException',
      'SlowDownException',
      'AuthorizationPendingException',
    ];
    wire.handlers.token = () => {
      const next = replies.shift();
      return next ? { error: next } : token;
    };
    const intervals: number[] = [];
    await pollForToken(client, registration, authorization(), {
      clock,
      onInterval: (s) => intervals.push(s),
    });
    expect(clock.sleeps).toEqual([5000, 10000, 10000, 15000, 15000]);
    expect(intervals).toEqual([10, 15]);
  });

  it('stops with a clear message when IdC says the code expired', async () => {
    wire.handlers.token = () => ({ error: 'ExpiredTokenException' });
    const error = await pollForToken(client, registration, authorization(), { clock }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SignInError);
    expect(error).toMatchObject({
      reason: 'expired',
      message: expect.stringMatching(/expired.*Start again/),
    });
  });

  it('stops without another poll once the code has expired locally', async () => {
    wire.handlers.token = () => ({ error: 'AuthorizationPendingException' });
    const error = await pollForToken(
      client,
      registration,
      authorization({ expiresAt: clock.now() + 12_000 }),
      {
        clock,
      },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: 'expired' });
    expect(wire.requests).toHaveLength(2); // at 5 s and 10 s; at 15 s the code is gone
  });

  it('stops when the user denies the request', async () => {
    wire.handlers.token = () => ({ error: 'AccessDeniedException' });
    await expect(pollForToken(client, registration, authorization(), { clock })).rejects.toMatchObject({
      reason: 'denied',
      message: expect.stringMatching(/denied/),
    });
  });

  it('can be cancelled between polls', async () => {
    const controller = new AbortController();
    let polls = 0;
    wire.handlers.token = () => {
      if (++polls === 2) controller.abort();
      return { error: 'AuthorizationPendingException' };
    };
    await expect(
      pollForToken(client, registration, authorization(), { clock, signal: controller.signal }),
    ).rejects.toMatchObject({ reason: 'cancelled' });
    expect(polls).toBe(2);
  });

  it('passes through errors it does not understand', async () => {
    wire.handlers.token = () => ({ error: 'InvalidClientException', status: 401 });
    await expect(pollForToken(client, registration, authorization(), { clock })).rejects.toMatchObject({
      name: 'InvalidClientException',
    });
  });
});

describe('refreshAccessToken', () => {
  it('uses the refresh grant and keeps the refresh token when IdC does not rotate it', async () => {
    wire.handlers.token = () => ({ body: { accessToken: 'at-2', expiresIn: 3600 } });
    const got = await refreshAccessToken(client, registration, 'rt-1', clock);
    expect(got).toMatchObject({ accessToken: 'at-2', refreshToken: 'rt-1' });
    expect(wire.requests[0]?.body).toMatchObject({ grantType: 'refresh_token', refreshToken: 'rt-1' });
  });

  it('turns InvalidGrantException into an "ended session" sign-in error', async () => {
    wire.handlers.token = () => ({ error: 'InvalidGrantException' });
    await expect(refreshAccessToken(client, registration, 'rt-1', clock)).rejects.toMatchObject({
      reason: 'invalidGrant',
      message: expect.stringMatching(/session ended/),
    });
  });
});
