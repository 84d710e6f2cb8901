/**
 * Web mode only: "Open sign-in page" (shell.openExternal in Electron) opens a
 * new tab in the browser that shows the app, for allowed URLs only.
 */
import { expect, target, test } from '../fixtures';
import { startTestSandbox, type TestSandbox } from './loginFlow';

test.skip(target !== 'web', 'the browser tab stands in for shell.openExternal in web mode only');

let sandbox: TestSandbox | undefined;
test.afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

test('"Open sign-in page" opens the verification page in a new tab', async ({ launchApp }) => {
  sandbox = await startTestSandbox();
  const { page } = await launchApp({ env: sandbox.env });
  await page.getByRole('button', { name: 'Sign in' }).click();
  const verificationUrl = (await page.getByTestId('verification-url').textContent())!;
  expect(verificationUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);

  const newTab = page.context().waitForEvent('page');
  await page.getByRole('button', { name: 'Open sign-in page' }).click();
  const tab = await newTab;
  await tab.waitForLoadState();
  expect(tab.url()).toBe(verificationUrl);
  // noopener: the opened page cannot reach back into RoleShell.
  expect(await tab.evaluate(() => (globalThis as unknown as { opener: unknown }).opener)).toBeNull();
});
