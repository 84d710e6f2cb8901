/**
 * 1,000 accounts through the sandbox's real portal with its rate limit on: the
 * real SSOClient, real 429s, real waits. Every account's permission sets load,
 * none fails.
 */
import { SSOClient } from '@aws-sdk/client-sso';
import { SSOOIDCClient } from '@aws-sdk/client-sso-oidc';
import { afterEach, expect, it } from 'vitest';
import { generateOrg, startSandbox, type Sandbox } from '../../sandbox/src/index';
import { systemClock } from '../auth/clock';
import { pollForToken, registerClient, startDeviceAuthorization } from '../auth/deviceAuthorization';
import { Portal } from './portal';

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

it('loads 1,000 accounts and all their permission sets through the rate limit without a failure', async () => {
  sandbox = await startSandbox({
    org: generateOrg({ accounts: 1000, permissionSets: 3, instances: 10 }),
    approve: 'alice',
    portalRateLimit: { requests: 150, perSeconds: 1 },
  });
  const oidc = new SSOOIDCClient({ region: sandbox.region, endpoint: sandbox.endpoint });
  const sso = new SSOClient({ region: sandbox.region, endpoint: sandbox.endpoint, maxAttempts: 1 });
  try {
    const registration = await registerClient(oidc, sandbox.region, systemClock);
    const authorization = await startDeviceAuthorization(oidc, registration, sandbox.startUrl, systemClock);
    const { accessToken } = await pollForToken(oidc, registration, authorization, { clock: systemClock });
    const portal = new Portal({
      sso,
      auth: { accessToken: async () => accessToken, handleUnauthorized: async () => accessToken },
      concurrency: 4,
    });
    const all = await portal.listAllPermissionSets();
    expect(all.size).toBe(1000);
    expect([...all.values()].every((sets) => sets.length === 3)).toBe(true);
    const throttled = sandbox.cloudTrail().filter((e) => e.errorCode === 'TooManyRequestsException');
    expect(throttled.length).toBeGreaterThan(0);
  } finally {
    oidc.destroy();
    sso.destroy();
  }
}, 120_000);
