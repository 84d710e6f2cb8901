import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { expect, test } from '../fixtures';

/** The app lands on Instances (first run); settings are one click away in the side navigation. */
async function openSettings(page: Page): Promise<void> {
  await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Settings' }).click();
  await expect(page.getByRole('heading', { name: 'Settings', level: 1 })).toBeVisible();
}

test('edits settings, reloads, and sees them persisted through the real API', async ({ launchApp }) => {
  const app = await launchApp();
  const { page } = app;
  await openSettings(page);

  await page.getByLabel('IAM Identity Center start URL').fill('https://my-org.awsapps.com/start');
  await page.getByLabel('IAM Identity Center region').fill('eu-west-1');
  await page.getByLabel('Regions').fill('eu-west-1, us-east-1');
  await page.getByLabel('Session mode for this start URL').click();
  await page.getByRole('option', { name: /^Direct:/ }).click();
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Settings saved.' })).toBeVisible();

  // Written by the app core, on disk.
  const onDisk = JSON.parse(await readFile(path.join(app.dataDir, 'settings.json'), 'utf8'));
  expect(onDisk).toMatchObject({
    startUrl: 'https://my-org.awsapps.com/start',
    ssoRegion: 'eu-west-1',
    regions: ['eu-west-1', 'us-east-1'],
    modes: { 'https://my-org.awsapps.com/start': 'direct' },
  });

  await page.reload();
  // A reload keeps the user on the screen they were on.
  await expect(page.getByRole('heading', { name: 'Settings', level: 1 })).toBeVisible();
  await expect(page.getByLabel('IAM Identity Center start URL')).toHaveValue(
    'https://my-org.awsapps.com/start',
  );
  await expect(page.getByLabel('Regions')).toHaveValue('eu-west-1, us-east-1');
  await expect(page.getByLabel('Session mode for this start URL')).toContainText(/^Direct:/);

  // And after the whole app restarts on the same data folder.
  await app.restart();
  await openSettings(app.page);
  await expect(app.page.getByLabel('IAM Identity Center region')).toHaveValue('eu-west-1');
});

test('an invalid start URL shows an inline error and saves nothing', async ({ launchApp }) => {
  const app = await launchApp();
  const { page } = app;
  await openSettings(page);
  const startUrl = page.getByLabel('IAM Identity Center start URL');
  await startUrl.fill('http://my-org.awsapps.com/start');
  await page.getByLabel('IAM Identity Center region').fill('eu-central-1');
  await page.getByRole('button', { name: 'Save' }).click();

  await expect(page.getByText('The start URL must begin with https://')).toBeVisible();
  await expect(startUrl).toHaveAttribute('aria-invalid', 'true');
  await expect(startUrl).toHaveAccessibleDescription(/must begin with https:\/\//);
  // The user's input stays in the form to be corrected.
  await expect(startUrl).toHaveValue('http://my-org.awsapps.com/start');
  await expect(stat(path.join(app.dataDir, 'settings.json'))).rejects.toMatchObject({ code: 'ENOENT' });

  // Correcting it clears the error and saves.
  await startUrl.fill('https://my-org.awsapps.com/start');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('The start URL must begin with https://')).toHaveCount(0);
  await expect(page.getByRole('status').filter({ hasText: 'Settings saved.' })).toBeVisible();
});

test('fields set by environment variables are read-only and say which variable', async ({ launchApp }) => {
  const app = await launchApp({
    env: { ROLESHELL_START_URL: 'https://env-org.awsapps.com/start', ROLESHELL_REGIONS: 'ap-south-1' },
  });
  await openSettings(app.page);
  const startUrl = app.page.getByLabel('IAM Identity Center start URL');
  await expect(startUrl).toHaveValue('https://env-org.awsapps.com/start');
  await expect(startUrl).toHaveAttribute('readonly', '');
  await expect(startUrl).toHaveAccessibleDescription(/ROLESHELL_START_URL/);
  await expect(app.page.getByLabel('Regions')).toHaveAttribute('readonly', '');

  await app.page.getByLabel('IAM Identity Center region').fill('ap-south-1');
  await app.page.getByRole('button', { name: 'Save' }).click();
  await expect(app.page.getByRole('status').filter({ hasText: 'Settings saved.' })).toBeVisible();
  const onDisk = JSON.parse(await readFile(path.join(app.dataDir, 'settings.json'), 'utf8'));
  // Overrides are not copied into the file.
  expect(onDisk).toMatchObject({ startUrl: '', regions: [], ssoRegion: 'ap-south-1' });
});

test('a malformed settings file is reported, and saving keeps it aside and says so', async ({
  launchApp,
}) => {
  const app = await launchApp();
  const file = path.join(app.dataDir, 'settings.json');
  await writeFile(file, '{ "startUrl": ');
  await app.page.reload();
  await openSettings(app.page);
  await expect(app.page.getByRole('alert').filter({ hasText: 'is not valid JSON' })).toBeVisible();

  await app.page.getByLabel('IAM Identity Center region').fill('eu-north-1');
  await app.page.getByRole('button', { name: 'Save' }).click();
  const saved = app.page.getByRole('status').filter({ hasText: 'it was kept as' });
  await expect(saved).toBeVisible();
  const keptAs = /kept as (\S+)\.$/.exec((await saved.textContent()) ?? '')?.[1];
  expect(keptAs).toBeTruthy();
  expect(await readFile(keptAs!, 'utf8')).toBe('{ "startUrl": ');
  expect(JSON.parse(await readFile(file, 'utf8')).ssoRegion).toBe('eu-north-1');
});
