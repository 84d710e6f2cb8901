/**
 * Issue 11 in the Settings screen, through the real renderer and app core: a
 * start URL that is not IdC's is refused with what is wrong (and nothing is
 * saved), the AWS endpoint cannot be changed from here, and the screen says
 * how tokens are kept.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { expect, test } from '../fixtures';

async function openSettings(page: Page): Promise<void> {
  await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Settings' }).click();
  await expect(page.getByRole('heading', { name: 'Settings', level: 1 })).toBeVisible();
}

test('a mistyped start URL is refused with a suggestion, and the endpoint cannot be set here', async ({
  launchApp,
}, testInfo) => {
  const app = await launchApp();
  const { page } = app;
  await page.setViewportSize({ width: 1280, height: 800 });
  await openSettings(page);
  // Web host: no OS keystore, so RoleShell's key file, and the screen says so.
  await expect(page.getByText(/Tokens are encrypted with RoleShell's own key file/)).toBeVisible();

  await page.getByLabel('IAM Identity Center start URL').fill('https://my-org.awsaps.com/start');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(
    page.getByText(
      'my-org.awsaps.com is not an IAM Identity Center address. Did you mean my-org.awsapps.com?',
    ),
  ).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath('settings-start-url-typo.png') });

  await page.getByLabel('IAM Identity Center start URL').fill('https://my-org.awsapps.com/start');
  await page.getByLabel('AWS endpoint').fill('https://collector.example');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(
    page.getByText(/The AWS endpoint is set only when RoleShell starts \(ROLESHELL_AWS_ENDPOINT/).first(),
  ).toBeVisible();
  // Nothing was saved by either attempt.
  await expect(stat(path.join(app.dataDir, 'settings.json'))).rejects.toMatchObject({ code: 'ENOENT' });
});
