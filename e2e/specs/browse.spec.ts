/**
 * Browse through the real renderer against a real sandbox: the Linux user each
 * permission set maps to matches the org file, filtering narrows the list, and
 * favourites survive a restart.
 */
import { expect, test } from '../fixtures';
import { openPermissionSet, signIn, startTestSandbox, type TestSandbox } from './loginFlow';

let sandbox: TestSandbox | undefined;
test.afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

test('each permission set shows its instances and the Linux user from the org file', async ({
  launchApp,
}) => {
  sandbox = await startTestSandbox();
  const { page } = await launchApp({ env: sandbox.env });
  await signIn(page);
  const docs = new Map(
    sandbox.sandbox.org.sessionDocuments.map((d) => [d.name, d.content.inputs.runAsDefaultUser]),
  );
  for (const permissionSet of ['AdministratorAccess', 'Developer', 'ReadOnly', 'Support_Tier1']) {
    await openPermissionSet(page, 'prod-workloads', permissionSet);
    const expected = docs.get(`RoleShell-${permissionSet}`)!;
    await expect(page.getByTestId('linux-user')).toHaveText(expected);
    const users = await page.getByTestId('row-linux-user').allTextContents();
    expect(users.length).toBeGreaterThan(0);
    expect(new Set(users)).toEqual(new Set([expected]));
  }
  // Offline instances are marked as such.
  await openPermissionSet(page, 'prod-workloads', 'ReadOnly');
  await expect(page.locator('[data-instance-id="i-0a1b2c3d4e5f60004"]')).toContainText('Offline');
});

test('the filter narrows all loaded instances; favourites survive a restart', async ({ launchApp }) => {
  sandbox = await startTestSandbox();
  const app = await launchApp({ env: sandbox.env });
  const { page } = app;
  await signIn(page);
  await page.getByRole('button', { name: 'Load all instances' }).click();
  const filter = page.getByLabel('Filter instances');
  // The rows arrive together when every permission set has been listed (each one is a broker Invoke).
  await expect(filter).toHaveAttribute('placeholder', /Filter [1-9]\d* loaded/, { timeout: 45_000 });
  await filter.fill('staging');
  await expect(page.getByTestId('filter-count')).toContainText(/^\d+ of \d+/);
  const names = await page.locator('[data-testid="target-row"] .target-name').allTextContents();
  expect(names.length).toBeGreaterThan(0);
  expect(names.every((n) => n.includes('staging'))).toBe(true);
  // Every word must match: one instance, as the one permission set that maps to `support`.
  await filter.fill('prod-web-1 support');
  await expect(page.getByTestId('target-row')).toHaveCount(1);
  await expect(page.getByTestId('target-row')).toContainText('Support_Tier1');
  await filter.fill('no-such-instance');
  await expect(page.getByTestId('filter-count')).toContainText('0 of');

  await filter.fill('');
  await openPermissionSet(page, 'prod-workloads', 'ReadOnly');
  await page.getByRole('button', { name: 'Add prod-web-1 to favourites' }).click();
  await expect(page.getByTestId('favourites')).toContainText('prod-web-1');

  await app.restart();
  await expect(app.page.getByTestId('signed-in')).toBeVisible();
  await expect(app.page.getByTestId('favourites')).toContainText('prod-web-1');
  await expect(app.page.getByTestId('favourites')).toContainText('as auditor');
  await app.page
    .getByTestId('favourites')
    .getByRole('button', { name: /prod-web-1/ })
    .click();
  await expect(app.page.getByTestId('linux-user')).toHaveText('auditor');
  await expect(app.page.getByRole('button', { name: 'Remove prod-web-1 from favourites' })).toBeVisible();
});

test('a broker that does not exist is reported with what to do next', async ({ launchApp }) => {
  sandbox = await startTestSandbox();
  const { page } = await launchApp({
    env: {
      ...sandbox.env,
      ROLESHELL_BROKER_ARN: 'arn:aws:lambda:eu-west-1:111111111111:function:no-such-broker',
    },
  });
  await signIn(page);
  await openPermissionSet(page, 'prod-workloads', 'ReadOnly');
  await expect(page.getByTestId('targets-error')).toContainText(
    'does not exist. Check the broker ARN in Settings.',
  );
  // The rest of the view still works: accounts and permission sets are IdC's, not the broker's.
  await expect(page.getByTestId('account-list')).toContainText('dev-sandbox');
});

test('the central account is not onboarded for the broker: it says so, other accounts still list', async ({
  launchApp,
}) => {
  sandbox = await startTestSandbox();
  const { page } = await launchApp({ env: sandbox.env });
  await signIn(page);
  await openPermissionSet(page, 'roleshell-central', 'AdministratorAccess');
  await expect(page.getByTestId('targets-error')).toContainText(
    /^The broker refused: RoleShell is not set up in account 111111111111/,
  );
  await openPermissionSet(page, 'dev-sandbox', 'Developer');
  await expect(page.getByTestId('linux-user')).toHaveText('developer');
});
