/**
 * The Instances screen stays mounted while a session shows: after a Connect
 * and back, the same filter text, page, rows and scroll position, in the same
 * table element (not mounted again), with its sticky header laid out over the
 * columns it heads. Real renderer, real core, real sandbox.
 */
import type { Locator, Page } from '@playwright/test';
import { generateOrg } from '../../sandbox/src/index';
import { expect, test } from '../fixtures';
import { showScreen } from './connectFlow';
import { instanceRow, instancesLoaded, signIn, startTestSandbox, type TestSandbox } from './loginFlow';

let sandbox: TestSandbox | undefined;
test.afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

/** The content area that scrolls the Instances screen (the layout's, not the window). */
function scroller(table: Locator): Promise<{ top: number; height: number }> {
  return table.evaluate((element) => {
    type El = { parentElement: El | null; scrollTop: number; scrollHeight: number; clientHeight: number };
    const style = (globalThis as unknown as { getComputedStyle(e: El): { overflowY: string } })
      .getComputedStyle;
    const scrolls = (e: El) => /auto|scroll/.test(style(e).overflowY) && e.scrollHeight > e.clientHeight + 1;
    let at = (element as unknown as El).parentElement;
    while (at && !scrolls(at)) at = at.parentElement;
    return { top: at?.scrollTop ?? -1, height: at ? at.scrollHeight - at.clientHeight : 0 };
  });
}

/** Left edge and width of each header cell shown (the sticky copy when stuck) and of the first row's cells. */
async function columnEdges(page: Page): Promise<{ headers: number[][]; cells: number[][] }> {
  const table = page.getByRole('table', { name: 'Instances' });
  const round = (r: { x: number; width: number }) => [Math.round(r.x), Math.round(r.width)];
  const headers: number[][] = [];
  for (const header of await page.getByRole('columnheader').all())
    if (await header.isVisible()) headers.push(round((await header.boundingBox())!));
  const cells: number[][] = [];
  for (const cell of await table.getByRole('row').nth(1).locator('td, th').all())
    if (await cell.isVisible()) cells.push(round((await cell.boundingBox())!));
  return { headers, cells };
}

test('a Connect and back keeps the Instances screen: same filter, page, rows and scroll, not mounted again', async ({
  launchApp,
}) => {
  // 300 instances named host-0 … host-299: "host-1" matches 111 of them, six pages of twenty.
  sandbox = await startTestSandbox({ org: generateOrg({ accounts: 2, permissionSets: 2, instances: 300 }) });
  const { page } = await launchApp({ env: sandbox.env });
  await page.setViewportSize({ width: 1280, height: 800 });
  await signIn(page);
  await instancesLoaded(page, 300);

  const table = page.getByRole('table', { name: 'Instances' });
  const names = table.getByRole('link', { name: /: show details$/ });
  const input = page.getByRole('combobox', { name: 'Filter instances' });
  const pageTwo = page.getByRole('button', { name: 'Page 2', exact: true });
  // Twenty rows a page (more than the window shows) and no Platform column.
  await page.getByRole('button', { name: 'Preferences' }).click();
  const dialog = page.getByRole('dialog', { name: 'Preferences' });
  await dialog.getByRole('radio', { name: '20', exact: true }).check();
  await dialog.getByRole('checkbox', { name: 'Platform', exact: true }).uncheck();
  await dialog.getByRole('button', { name: 'Confirm' }).click();
  await expect(dialog).toBeHidden();
  await input.pressSequentially('host-1');
  await expect(page.getByRole('heading', { name: 'Instances (111/300)', level: 1 })).toBeVisible();
  await page.getByRole('button', { name: 'Next page' }).click();
  await expect(pageTwo).toHaveAttribute('aria-current', 'true');
  await expect(names).toHaveCount(20);
  const rows = await names.allTextContents();
  const headers = await table.getByRole('columnheader').allTextContents();
  expect(headers.join(' ')).not.toContain('Platform');

  // Scrolled down, so the table's header is stuck to the top of the content area.
  await table.hover();
  await page.mouse.wheel(0, 400);
  await expect.poll(async () => (await scroller(table)).top).toBeGreaterThan(0);
  const scrolled = await scroller(table);
  await page.screenshot({ path: test.info().outputPath('instances-before-connect.png') });
  const before = await columnEdges(page);

  // The table element as it is now: the same one must be there after the round trip.
  await table.evaluate((element) => {
    (globalThis as unknown as { keptTable: unknown }).keptTable = element;
  });

  // With the mouse where the button is: a locator's click would first scroll it into view.
  const target = rows[rows.length - 1]!;
  const connect = await instanceRow(page, target)
    .getByRole('button', { name: /^Connect as / })
    .boundingBox();
  expect(connect!.y + connect!.height).toBeLessThan(800);
  await page.mouse.click(connect!.x + connect!.width / 2, connect!.y + connect!.height / 2);
  await expect(page.getByRole('heading', { name: /^Sessions/, level: 1 })).toBeVisible();
  const opened = page.getByRole('tab', { name: new RegExp(`@${target}$`) });
  await expect(opened).toBeVisible();
  // Hidden, not gone: neither shown nor reachable by Tab or a screen reader, and the landmark is the session's.
  await expect(page.getByTestId('instances-screen')).toBeHidden();
  await expect(page.getByRole('table', { name: 'Instances' })).toHaveCount(0);
  await expect(page.locator('main[aria-label]')).toHaveAccessibleName('Sessions');
  // Tab goes round the page without ever landing in the hidden screen (its filter, pages, rows).
  await page
    .getByRole('navigation', { name: 'Views' })
    .getByRole('link', { name: /^Sessions\b/ })
    .focus();
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    const inHidden = await page.evaluate(() => {
      const doc = (
        globalThis as unknown as { document: { activeElement: { closest(s: string): unknown } | null } }
      ).document;
      return !!doc.activeElement?.closest('[data-testid="instances-screen"]');
    });
    expect(inHidden, `Tab ${i + 1} reached the hidden Instances screen`).toBe(false);
  }
  await expect(page.getByTestId('session-status')).toHaveAttribute('data-status', /connected|closed/, {
    timeout: 20_000,
  });

  await showScreen(page, 'Instances');
  await expect(page.locator('main[aria-label]')).toHaveAccessibleName('Instances');
  await expect(input).toHaveValue('host-1');
  await expect(page.getByRole('heading', { name: 'Instances (111/300)', level: 1 })).toBeVisible();
  await expect(pageTwo).toHaveAttribute('aria-current', 'true');
  expect(await names.allTextContents()).toEqual(rows);
  expect(await table.getByRole('columnheader').allTextContents()).toEqual(headers);
  const same = await table.evaluate(
    (element) => element === (globalThis as unknown as { keptTable: unknown }).keptTable,
  );
  expect(same, 'the table on screen is the element from before the Connect (not mounted again)').toBe(true);
  expect((await scroller(table)).top).toBe(scrolled.top);
  // The sticky header heads the same columns as before, at the same places (measured again once shown).
  await expect.poll(() => columnEdges(page)).toEqual(before);
  await page.screenshot({ path: test.info().outputPath('instances-after-connect.png') });
});
