/**
 * Every screen at 1280×800, in light and dark: an accessibility scan (axe, no
 * serious or critical violation) and a screenshot of each. The screenshots go to
 * the test's output folder, and to docs/screenshots/ when ROLESHELL_SCREENSHOTS_DIR
 * says so (`npm run screenshots` refreshes the ones the README shows).
 */
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Page, TestInfo } from '@playwright/test';
import { expect, test } from '../fixtures';
import {
  approveInSecondPage,
  instancesLoaded,
  signedInMenu,
  startTestSandbox,
  type TestSandbox,
} from './loginFlow';

// Nine scans and screenshots per test, on a shared machine.
test.describe.configure({ timeout: 240_000 });

let sandbox: TestSandbox | undefined;
test.afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

const docsDir = process.env.ROLESHELL_SCREENSHOTS_DIR;

/** Scans what is on screen and keeps a picture of it. */
async function screen(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  // Let transitions (menus, modals) settle before scanning and taking the picture.
  await page.waitForTimeout(400);
  const scan = await new AxeBuilder({ page }).analyze();
  const serious = scan.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(serious, `accessibility of "${name}"`).toEqual([]);
  const file = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path: file });
  if (docsDir) {
    await mkdir(docsDir, { recursive: true });
    await copyFile(file, path.join(docsDir, `${name}.png`));
  }
}

for (const scheme of ['light', 'dark'] as const) {
  test(`every screen passes an accessibility scan (${scheme})`, async ({ launchApp }, testInfo) => {
    sandbox = await startTestSandbox();
    const suffix = scheme === 'dark' ? '-dark' : '';
    // First run: no start URL anywhere.
    const first = await launchApp({ env: { HOME: '/nonexistent-roleshell-home' } });
    await first.page.setViewportSize({ width: 1280, height: 800 });
    await first.page.emulateMedia({ colorScheme: scheme });
    await expect(first.page.getByTestId('first-run')).toBeVisible();
    await screen(first.page, testInfo, `first-run${suffix}`);
    await first.close();

    const { page } = await launchApp({ env: sandbox.env });
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.emulateMedia({ colorScheme: scheme });
    await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
    await screen(page, testInfo, `sign-in${suffix}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByTestId('user-code')).toBeVisible();
    await screen(page, testInfo, `sign-in-code${suffix}`);
    await approveInSecondPage(page);
    await expect(signedInMenu(page)).toBeVisible({ timeout: 20_000 });
    await instancesLoaded(page);
    await screen(page, testInfo, `instances${suffix}`);

    // With the mouse, as a user opens it: a locator's click first scrolls its target into view, and
    // Chromium scrolls a sticky column's button to where it would sit unstuck, hiding the Name column.
    const trigger = await page
      .getByRole('button', { name: 'More ways to connect to prod-web-1', exact: true })
      .boundingBox();
    expect(trigger).not.toBeNull();
    await page.mouse.click(trigger!.x + trigger!.width / 2, trigger!.y + trigger!.height / 2);
    await expect(page.getByRole('menuitem', { name: 'auditor — ReadOnly' })).toBeVisible();
    await screen(page, testInfo, `connect-menu${suffix}`);
    await page.keyboard.press('Escape');

    await page.getByRole('link', { name: 'prod-web-1: show details' }).click();
    await expect(page.getByRole('heading', { name: 'Who can connect' })).toBeVisible();
    await screen(page, testInfo, `instance-details${suffix}`);

    await page.keyboard.press('Control+k');
    await page.keyboard.type('web');
    await expect(page.getByRole('option').first()).toBeVisible();
    await screen(page, testInfo, `quick-connect${suffix}`);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');

    await expect(page.getByRole('heading', { name: /^Sessions/, level: 1 })).toBeVisible();
    await screen(page, testInfo, `terminal${suffix}`);

    await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Settings' }).click();
    await expect(page.getByRole('heading', { name: 'In use now' })).toBeVisible();
    await screen(page, testInfo, `settings${suffix}`);
  });
}
