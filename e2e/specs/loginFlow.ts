/**
 * Helpers for the login and browse specs: a sandbox started by the spec, the
 * environment that points the app at it, and signing in the way a person does
 * (open the verification page in a second page, pick the user, Approve).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../sandbox/src/index';
import { expect } from '../fixtures';

export interface TestSandbox {
  sandbox: Sandbox;
  /** Environment for launchApp: every AWS client at the sandbox, HOME in a throwaway folder. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startTestSandbox(options: SandboxOptions = {}): Promise<TestSandbox> {
  const sandbox = await startSandbox(options);
  const home = await mkdtemp(path.join(os.tmpdir(), 'roleshell-e2e-home-'));
  return {
    sandbox,
    env: {
      HOME: home,
      ROLESHELL_START_URL: sandbox.startUrl,
      ROLESHELL_SSO_REGION: sandbox.region,
      ROLESHELL_AWS_ENDPOINT: sandbox.endpoint,
      ROLESHELL_BROKER_ARN: sandbox.brokerFunctionArn,
      ROLESHELL_REGIONS: 'eu-west-1,us-east-1',
    },
    async close() {
      await sandbox.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** Approves the sign-in shown on `page` as `userName`, in a second page of the same browser. */
export async function approveInSecondPage(page: Page, userName = 'alice'): Promise<void> {
  const code = (await page.getByTestId('user-code').textContent())?.trim();
  const url = (await page.getByTestId('verification-url').textContent())?.trim();
  expect(code).toMatch(/^[A-Z0-9-]{4,}$/);
  const approval = await page.context().newPage();
  try {
    await approval.goto(url!);
    await expect(approval.locator('#user-code')).toHaveText(code!);
    await approval.getByLabel(new RegExp(`\\(${userName},`)).check();
    await approval.getByRole('button', { name: 'Approve' }).click();
    await expect(approval.getByRole('status')).toContainText('approved');
  } finally {
    await approval.close();
  }
}

/** The top navigation's identity menu: it names the start URL and only exists while signed in. */
export function signedInMenu(page: Page) {
  return page.getByRole('button', { name: /^Signed in (as \S+ )?to / });
}

/** From the sign-in panel to the signed-in instance list. */
export async function signIn(page: Page, userName = 'alice'): Promise<void> {
  await page.getByRole('button', { name: /^Sign in( again)?$/ }).click();
  await expect(page.getByTestId('user-code')).toBeVisible();
  await approveInSecondPage(page, userName);
  await expect(signedInMenu(page)).toBeVisible({ timeout: 20_000 });
}

/** The instance table's row for `name` (its name cell is the row header). */
export function instanceRow(page: Page, name: string) {
  return page
    .getByRole('table', { name: 'Instances' })
    .getByRole('row')
    .filter({ has: page.getByRole('link', { name: `${name}: show details`, exact: true }) });
}

/** Waits until "load all" has finished and `count` instances are listed. */
export async function instancesLoaded(page: Page, count?: number): Promise<void> {
  await expect(page.getByRole('status')).toHaveText(
    count === undefined ? /^\d+ instances? in \d+ accounts?$/ : new RegExp(`^${count} instances? in `),
    { timeout: 45_000 },
  );
}

/** Opens the Connect-as menu of an instance row and returns its item texts. */
export async function connectMenuItems(page: Page, name: string): Promise<string[]> {
  await page.getByRole('button', { name: `More ways to connect to ${name}`, exact: true }).click();
  const items = page.getByRole('menuitem');
  await expect(items.first()).toBeVisible();
  const texts = (await items.allTextContents()).map((t) => t.trim());
  await page.keyboard.press('Escape');
  return texts;
}

/** Types a property-filter token ("Tag value = web") or free text and applies it with Enter. */
export async function filterInstances(page: Page, text: string): Promise<void> {
  const input = page.getByRole('combobox', { name: 'Filter instances' });
  await input.fill(text);
  await input.press('Enter');
}
