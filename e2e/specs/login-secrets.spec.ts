/**
 * The renderer never receives credentials or tokens. Records every frame
 * between the page and the app core over the e2e WebSocket (every call result
 * and event of a whole session: sign-in, browse, load all, favourites, a silent
 * token refresh) and searches it for the real values the app holds (tokens and
 * client secret from its token store, role key ids from the sandbox's
 * CloudTrail) and for anything shaped like AWS credentials or IdC tokens.
 */
import path from 'node:path';
import { normalizeStartUrl } from '../../app/auth/cliCache';
import { createEncryptedFileStore, createKeyFileCipher } from '../../app/auth/secretStore';
import { expect, test } from '../fixtures';
import {
  connectMenuItems,
  instanceRow,
  instancesLoaded,
  signIn,
  startTestSandbox,
  type TestSandbox,
} from './loginFlow';

let sandbox: TestSandbox | undefined;
test.afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

const shapes: [string, RegExp][] = [
  ['AWS access key id', /\b(AKIA|ASIA)[A-Z0-9]{12,}\b/],
  ['STS session token', /IQoJb3JpZ2luX2Vj/],
  ['IdC access token', /\baoa[A-Za-z0-9_-]{40,}/],
  ['IdC refresh token', /\baor[A-Za-z0-9_-]{40,}/],
  ['40-character secret key', /"[A-Za-z0-9+/]{38}[A-Za-z0-9+/=]{2}"/],
  [
    'credential field',
    /"(secretAccessKey|sessionToken|accessToken|refreshToken|clientSecret|deviceCode|TokenValue)"/i,
  ],
];

test('nothing sent to the renderer during a whole session contains a credential or token', async ({
  launchApp,
}) => {
  sandbox = await startTestSandbox({ accessTokenLifetimeSeconds: 4 });
  const app = await launchApp({ env: sandbox.env });
  const { page } = app;
  const frames: string[] = [];
  page.on('websocket', (ws) => {
    ws.on('framereceived', (frame) => frames.push(String(frame.payload)));
    ws.on('framesent', (frame) => frames.push(String(frame.payload)));
  });
  // Reconnect so the recording starts with the page's very first call.
  await page.reload();

  const store = createEncryptedFileStore(
    path.join(app.dataDir, 'secrets'),
    createKeyFileCipher(path.join(app.dataDir, 'secrets.key')),
  );
  const secrets = new Set<string>();
  const snapshotStore = async () => {
    const session = await store.get(`idc-session:${normalizeStartUrl(sandbox!.sandbox.startUrl)}`);
    const registration = await store.get(`idc-registration:${sandbox!.sandbox.region}`);
    const parsed = {
      ...(session
        ? (JSON.parse(session) as { tokens: { accessToken: string; refreshToken?: string } }).tokens
        : {}),
      ...(registration
        ? { clientSecret: (JSON.parse(registration) as { clientSecret: string }).clientSecret }
        : {}),
    };
    for (const value of Object.values(parsed))
      if (typeof value === 'string' && value.length > 8) secrets.add(value);
  };

  await signIn(page);
  await snapshotStore();
  await instancesLoaded(page);
  expect(await connectMenuItems(page, 'prod-web-1')).toContain('auditor — ReadOnly');
  await page.getByRole('button', { name: 'Add prod-web-1 to favourites' }).click();
  await expect(page.getByRole('button', { name: 'Remove prod-web-1 from favourites' })).toBeVisible();
  // Let the access token expire so the next call refreshes it silently.
  await page.waitForTimeout(4_500);
  await page.getByRole('button', { name: 'Refresh instances' }).click();
  await instancesLoaded(page);
  await expect(instanceRow(page, 'dev-box-1')).toContainText('dev-sandbox');
  await snapshotStore();

  const trail = sandbox.sandbox.cloudTrail();
  for (const event of trail) {
    const text = JSON.stringify(event);
    for (const match of text.matchAll(/ASIA[A-Z0-9]{12,}/g)) secrets.add(match[0]);
  }
  // The recording and the secrets are real: both sides are non-trivial, and a refresh happened.
  expect(trail.some((e) => JSON.stringify(e).includes('refresh_token'))).toBe(true);
  expect(secrets.size).toBeGreaterThanOrEqual(6);
  const recorded = frames.join('\n');
  expect(recorded).toContain('auditor');
  expect(recorded).toContain('prod-workloads');
  expect(recorded).toContain('auth.state');

  const leaks: string[] = [];
  for (const value of secrets)
    if (recorded.includes(value)) leaks.push(`${value.slice(0, 8)}… (a real value)`);
  for (const [name, pattern] of shapes) {
    const match = pattern.exec(recorded);
    if (match) leaks.push(`${name}: ${match[0].slice(0, 24)}…`);
  }
  expect(leaks).toEqual([]);
});
