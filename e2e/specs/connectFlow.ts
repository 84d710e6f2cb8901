/**
 * The connect specs reach the UI only through these helpers, so a new layout
 * changes this file and not the specs: connect as a permission set from the
 * instance list, read and type into the active terminal, switch screens,
 * close a tab.
 */
import type { Locator, Page } from '@playwright/test';
import { expect } from '../fixtures';
import { instanceRow, instancesLoaded } from './loginFlow';

export interface ConnectTarget {
  accountName: string;
  permissionSet: string;
  instanceName: string;
  linuxUser: string;
}

/**
 * From the instance table: open the row's Connect-as menu and choose "<linuxUser> — <permissionSet>"
 * (the menu names every mapping explicitly, whichever one is the row's default).
 */
export async function connectAs(page: Page, target: ConnectTarget): Promise<Locator> {
  await showScreen(page, 'Instances');
  await instancesLoaded(page);
  const row = instanceRow(page, target.instanceName).filter({ hasText: target.accountName }).first();
  await row
    .getByRole('button', { name: `More ways to connect to ${target.instanceName}`, exact: true })
    .click();
  await page
    .getByRole('menuitem', { name: `${target.linuxUser} — ${target.permissionSet}`, exact: true })
    .click();
  const pane = activePane(page);
  await expect(pane).toHaveAttribute('aria-label', `${target.linuxUser}@${target.instanceName}`);
  return pane;
}

export function activePane(page: Page): Locator {
  return page.locator('[data-testid="terminal-pane"]:visible');
}

export function tab(page: Page, title: string): Locator {
  return page.getByRole('tab', { name: title });
}

export async function showScreen(page: Page, name: 'Instances' | 'Sessions' | 'Settings'): Promise<void> {
  // The Sessions link may carry a count of open tabs ("Sessions 2").
  await page
    .getByRole('navigation', { name: 'Views' })
    .getByRole('link', { name: new RegExp(`^${name}\\b`) })
    .click();
}

export async function waitForStatus(pane: Locator, status: string, timeout = 20_000): Promise<void> {
  await expect(pane.getByTestId('session-status')).toHaveAttribute('data-status', status, { timeout });
}

/** The terminal's whole buffer (scrollback included): the WebGL renderer has no text in the DOM. */
export async function terminalText(pane: Locator): Promise<string> {
  return pane.getByTestId('terminal').evaluate((element) => {
    const terminal = (element as unknown as { roleshellTerminal?: { text(): string } }).roleshellTerminal;
    return terminal?.text() ?? '';
  });
}

export async function terminalSize(pane: Locator): Promise<{ cols: number; rows: number }> {
  return pane.getByTestId('terminal').evaluate((element) => {
    const terminal = (element as unknown as { roleshellTerminal: { size(): { cols: number; rows: number } } })
      .roleshellTerminal;
    return terminal.size();
  });
}

/** Types a command line into the terminal as the user would, then Enter. */
export async function run(page: Page, pane: Locator, command: string): Promise<void> {
  await pane.getByTestId('terminal').click();
  await page.keyboard.type(command);
  await page.keyboard.press('Enter');
}

/**
 * Waits until the remote shell's `stty size` is the size the pane's terminal shows, asking again until the
 * shell has caught up (the plugin polls its terminal's size twice a second).
 */
export async function expectShellSize(page: Page, pane: Locator): Promise<void> {
  const size = await terminalSize(pane);
  await expect
    .poll(
      async () => {
        await run(page, pane, 'echo "size=$(stty size)"');
        await page.waitForTimeout(300);
        return terminalText(pane);
      },
      { timeout: 15_000, intervals: [700] },
    )
    .toMatch(new RegExp(`size=${size.rows} ${size.cols}`));
}

/** Waits until the terminal shows text matching `pattern`. */
export async function expectTerminal(pane: Locator, pattern: RegExp, timeout = 15_000): Promise<void> {
  await expect.poll(() => terminalText(pane), { timeout }).toMatch(pattern);
}

export async function closeTab(page: Page, title: string): Promise<void> {
  // The tab's Close button is in its pane's header: show the tab, then close it.
  await tab(page, title).click();
  await page.getByRole('button', { name: `Close ${title}` }).click();
  await expect(tab(page, title)).toHaveCount(0);
}
