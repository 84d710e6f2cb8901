/**
 * The instance list through the real renderer against a real sandbox: one row
 * per instance with every permission set that reaches it (and the Linux user
 * from the org file) in its Connect-as menu, a layout that fits the window,
 * filtering and quick connect by tag value, favourites that survive a restart,
 * failures said once, and sign-out back to the first-run choice.
 */
import type { Page } from '@playwright/test';
import { generateOrg, type Sandbox } from '../../sandbox/src/index';
import { expect, test } from '../fixtures';
import {
  connectMenuItems,
  filterInstances,
  instanceRow,
  instancesLoaded,
  signedInMenu,
  signIn,
  startTestSandbox,
  type TestSandbox,
} from './loginFlow';

/** The instance table's columns, in order, as a new user first sees them. */
const DEFAULT_COLUMNS = ['Name', 'Instance ID', 'Status', 'Account', 'Region', 'Platform', 'Connect as'];

let sandbox: TestSandbox | undefined;
test.afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

/** From the org file: per instance name, the Connect-as menu alice should see ("<linuxUser> — <permissionSet>"). */
function expectedMenus(org: Sandbox['org'], user = 'alice'): Map<string, string[]> {
  const runAs = new Map(org.sessionDocuments.map((d) => [d.name, d.content.inputs.runAsDefaultUser]));
  const menus = new Map<string, string[]>();
  for (const instance of org.instances) {
    const tag = instance.tags['roleshell:permission-sets'];
    if (!tag || instance.state !== 'running') continue;
    const allowed = tag.split(',').map((p) => p.trim());
    const sets = org.permissionSets
      .filter((ps) => ps.assignments.some((a) => a.user === user && a.accounts.includes(instance.account)))
      .filter((ps) => allowed.includes('*') || allowed.includes(ps.name))
      .filter((ps) =>
        org.sessionDocuments.some(
          (d) => d.name === `RoleShell-${ps.name}` && d.accounts.includes(instance.account),
        ),
      )
      .map((ps) => ps.name)
      .sort((a, b) => a.localeCompare(b));
    if (sets.length > 0)
      menus.set(
        instance.name,
        sets.map((ps) => `${runAs.get(`RoleShell-${ps}`)} — ${ps}`),
      );
  }
  return menus;
}

/** Neither the document nor the body scrolls: only content areas do. */
async function pageScrollbars(page: Page): Promise<{ vertical: boolean; horizontal: boolean }> {
  return page.evaluate(() => {
    const doc = (globalThis as unknown as { document: { documentElement: Elem; body: Elem } }).document;
    type Elem = { scrollHeight: number; clientHeight: number; scrollWidth: number; clientWidth: number };
    const over = (e: Elem, axis: 'v' | 'h') =>
      axis === 'v' ? e.scrollHeight > e.clientHeight + 1 : e.scrollWidth > e.clientWidth + 1;
    return {
      vertical: over(doc.documentElement, 'v') || over(doc.body, 'v'),
      horizontal: over(doc.documentElement, 'h') || over(doc.body, 'h'),
    };
  });
}

/** Each visible header of the instance table, with its cell width and the width its text needs. */
async function headerWidths(page: Page): Promise<{ header: string; width: number; needed: number }[]> {
  const headers = page.getByRole('table', { name: 'Instances' }).getByRole('columnheader');
  const out: { header: string; width: number; needed: number }[] = [];
  for (const header of await headers.all()) {
    if (!(await header.isVisible())) continue;
    const measured = await header.evaluate((th) => {
      type El = {
        textContent: string | null;
        scrollWidth: number;
        clientWidth: number;
        getBoundingClientRect(): { width: number };
      };
      const text = (th as unknown as { querySelector(s: string): El | null }).querySelector(
        '[class*="header-cell-text"]',
      );
      return {
        header: (text?.textContent ?? '').trim(),
        width: (th as unknown as El).getBoundingClientRect().width,
        // The text element's own scroll width: what it needs to show the header without an ellipsis.
        needed: text?.scrollWidth ?? 0,
        shown: text?.clientWidth ?? 0,
      };
    });
    if (!measured.header || measured.header === 'Favourite') continue;
    out.push({
      header: measured.header,
      width: measured.width,
      needed: Math.max(measured.needed, measured.shown),
    });
    expect(measured.needed, `the "${measured.header}" header is cut off`).toBeLessThanOrEqual(
      measured.shown + 1,
    );
  }
  return out;
}

for (const viewport of [
  { width: 1024, height: 700 },
  { width: 1280, height: 800 },
  { width: 1920, height: 1080 },
]) {
  test(`at ${viewport.width}×${viewport.height}: one row per instance, every permission set in its Connect-as menu, nothing cut off or scrolling the page`, async ({
    launchApp,
  }) => {
    sandbox = await startTestSandbox();
    const { page } = await launchApp({ env: sandbox.env });
    await page.setViewportSize(viewport);
    await signIn(page);
    await expect(signedInMenu(page)).toHaveAccessibleName(/^Signed in as alice to https:\/\/\S+ until /);
    const menus = expectedMenus(sandbox.sandbox.org);
    await instancesLoaded(page, menus.size);
    await expect(
      page.getByRole('table', { name: 'Instances' }).getByRole('link', { name: /: show details$/ }),
    ).toHaveCount(menus.size);

    const widths = await headerWidths(page);
    expect(widths.map((w) => w.header)).toEqual(expect.arrayContaining(DEFAULT_COLUMNS));
    for (const w of widths) expect(w.width, w.header).toBeGreaterThanOrEqual(w.needed);
    expect(await pageScrollbars(page)).toEqual({ vertical: false, horizontal: false });

    for (const [name, items] of menus) {
      await expect(instanceRow(page, name)).toHaveCount(1);
      expect(await connectMenuItems(page, name), name).toEqual(items);
      // The main action connects as the first of them (nothing has been used yet).
      const firstUser = items[0]!.split(' — ')[0]!;
      await expect(
        instanceRow(page, name).getByRole('button', { name: `Connect as ${firstUser}`, exact: true }),
      ).toBeVisible();
    }
  });
}

test('Connect as opens a Sessions tab for that user and instance, and becomes the default for it', async ({
  launchApp,
}) => {
  sandbox = await startTestSandbox();
  const { page } = await launchApp({ env: sandbox.env });
  await signIn(page);
  await instancesLoaded(page);
  await page.getByRole('button', { name: 'More ways to connect to prod-web-1', exact: true }).click();
  await page.getByRole('menuitem', { name: 'auditor — ReadOnly' }).click();
  await expect(page.getByRole('heading', { name: /^Sessions/, level: 1 })).toBeVisible();
  await expect(page.getByRole('tab', { name: 'auditor@prod-web-1' })).toBeVisible();

  await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Instances' }).click();
  // The most recently used mapping is now the row's main action.
  const main = instanceRow(page, 'prod-web-1').getByRole('button', {
    name: 'Connect as auditor',
    exact: true,
  });
  await expect(main).toBeVisible();
  await main.click();
  await expect(page.getByRole('tab', { name: 'auditor@prod-web-1' })).toHaveCount(2);
});

test('an offline instance cannot be connected and says why', async ({ launchApp }) => {
  sandbox = await startTestSandbox();
  const { page } = await launchApp({ env: sandbox.env });
  await signIn(page);
  await instancesLoaded(page);
  const main = instanceRow(page, 'prod-legacy-1').getByRole('button', { name: /^Connect as / });
  await expect(main).toBeDisabled();
  const reason = /^prod-legacy-1 is Offline in Systems Manager: its SSM agent is not connected/;
  // Said to screen readers as the button's description, and shown on hover.
  await expect(main).toHaveAccessibleDescription(reason);
  await main.hover();
  await expect(page.getByRole('tooltip')).toHaveText(reason);
  // An online instance beside it still connects.
  await expect(instanceRow(page, 'prod-web-1').getByRole('button', { name: /^Connect as / })).toBeEnabled();
  await expect(page.getByRole('tab')).toHaveCount(0);
});

test('the property filter and quick connect find an instance by a tag value', async ({ launchApp }) => {
  sandbox = await startTestSandbox();
  const { page } = await launchApp({ env: sandbox.env });
  await signIn(page);
  await instancesLoaded(page);
  // Team=platform is a tag value only: no name, account or platform contains it.
  await filterInstances(page, 'Tag value = platform');
  const names = page.getByRole('table', { name: 'Instances' }).getByRole('link', { name: /: show details$/ });
  await expect(names).toHaveAccessibleName('dev-box-1: show details');
  await expect(page.getByRole('heading', { name: 'Instances (1/7)', level: 1 })).toBeVisible();
  // A reload keeps the view and the filter.
  await page.reload();
  await instancesLoaded(page);
  await expect(page.getByRole('heading', { name: 'Instances (1/7)', level: 1 })).toBeVisible();
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await filterInstances(page, 'no-such-instance');
  await expect(page.getByText("No instance matches 'no-such-instance'")).toBeVisible();
  await page.getByRole('button', { name: 'Clear filter', exact: true }).click();
  await expect(names).toHaveCount(7);

  // Quick connect, keyboard only.
  await page.keyboard.press('Control+k');
  const search = page.getByRole('combobox', { name: 'Find an instance to connect to' });
  await expect(search).toBeFocused();
  await page.keyboard.type('platform');
  await expect(page.getByRole('option', { name: /developer@dev-box-1/ })).toBeVisible();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('tab', { name: /@dev-box-1$/ })).toBeVisible();
  await expect(page.getByRole('dialog')).toHaveCount(0);
});

test('pages of instances follow the filter as it is typed, and a narrower filter starts again at page 1', async ({
  launchApp,
}) => {
  // 45 instances named host-0 … host-44: five pages of ten.
  sandbox = await startTestSandbox({ org: generateOrg({ accounts: 2, permissionSets: 2, instances: 45 }) });
  const { page } = await launchApp({ env: sandbox.env });
  await signIn(page);
  await instancesLoaded(page, 45);
  const names = page.getByRole('table', { name: 'Instances' }).getByRole('link', { name: /: show details$/ });
  const pageButton = (n: number) => page.getByRole('button', { name: `Page ${n}`, exact: true });
  await expect(names).toHaveCount(10);
  await expect(pageButton(5)).toBeVisible();
  await expect(pageButton(6)).toHaveCount(0);
  await page.getByRole('button', { name: 'Next page' }).click();
  await page.getByRole('button', { name: 'Next page' }).click();
  await expect(pageButton(3)).toHaveAttribute('aria-current', 'true');
  const third = await names.allTextContents();
  await page.getByRole('button', { name: 'Previous page' }).click();
  await expect(pageButton(2)).toHaveAttribute('aria-current', 'true');
  expect(await names.allTextContents()).not.toEqual(third);

  // Typed, not yet a token: host-1 and host-10 … host-19 are two pages, shown from the first.
  const input = page.getByRole('combobox', { name: 'Filter instances' });
  await input.pressSequentially('host-1');
  await expect(page.getByRole('heading', { name: 'Instances (11/45)', level: 1 })).toBeVisible();
  await expect(pageButton(1)).toHaveAttribute('aria-current', 'true');
  await expect(pageButton(2)).toBeVisible();
  await expect(pageButton(3)).toHaveCount(0);
  await page.getByRole('button', { name: 'Next page' }).click();
  await expect(names).toHaveAccessibleName('host-19: show details');
  await input.press('End');
  await input.pressSequentially('2');
  await expect(names).toHaveAccessibleName('host-12: show details');
  await expect(pageButton(1)).toHaveAttribute('aria-current', 'true');
  await expect(pageButton(2)).toHaveCount(0);
});

test('a starred instance is a favourite after a restart', async ({ launchApp }) => {
  sandbox = await startTestSandbox();
  const app = await launchApp({ env: sandbox.env });
  await signIn(app.page);
  await instancesLoaded(app.page);
  await app.page.getByRole('button', { name: 'Add prod-web-1 to favourites' }).click();
  await expect(app.page.getByRole('button', { name: 'Remove prod-web-1 from favourites' })).toBeVisible();

  await app.restart();
  const { page } = app;
  await expect(signedInMenu(page)).toBeVisible();
  await instancesLoaded(page);
  await page.getByRole('button', { name: 'Favourites', exact: true }).click();
  const names = page.getByRole('table', { name: 'Instances' }).getByRole('link', { name: /: show details$/ });
  await expect(names).toHaveAccessibleName('prod-web-1: show details');
  await expect(page.getByRole('button', { name: 'Remove prod-web-1 from favourites' })).toBeVisible();
});

test('a broker that does not exist is said once, with what to do next', async ({ launchApp }) => {
  sandbox = await startTestSandbox();
  const { page } = await launchApp({
    env: {
      ...sandbox.env,
      ROLESHELL_BROKER_ARN: 'arn:aws:lambda:eu-west-1:111111111111:function:no-such-broker',
    },
  });
  await signIn(page);
  const summary = page.getByTestId('list-failures');
  await expect(summary).toContainText(/\d+ permission sets could not be listed/, { timeout: 45_000 });
  await summary.getByRole('button', { name: 'Details' }).click();
  await expect(summary).toContainText('does not exist. Check the broker ARN in Settings.');
  await expect(page.getByTestId('list-failures')).toHaveCount(1);
  await expect(page.getByText('No instances', { exact: true })).toBeVisible();
  // Not repeated on other views (the Instances screen is only hidden there, so: not shown).
  await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Settings' }).click();
  await expect(page.getByTestId('list-failures').filter({ visible: true })).toHaveCount(0);
});

test('an account without RoleShell shows a notice in its place and no error anywhere', async ({
  launchApp,
}) => {
  sandbox = await startTestSandbox();
  const { page } = await launchApp({ env: sandbox.env });
  await signIn(page);
  await instancesLoaded(page);
  await expect(page.getByTestId('not-set-up')).toHaveText(
    'RoleShell is not set up in account roleshell-central (111111111111) — nothing here to connect to.',
  );
  await expect(page.getByTestId('list-failures')).toHaveCount(0);
  await expect(page.getByTestId('inventory-error')).toHaveCount(0);
  for (const view of ['Sessions', 'Settings']) {
    await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: view }).click();
    // The Instances screen is only hidden on the other views: nothing of it is shown there.
    await expect(page.getByTestId('not-set-up').filter({ visible: true })).toHaveCount(0);
    await expect(page.getByText(/RoleShell is not set up/).filter({ visible: true })).toHaveCount(0);
  }
});

/** The instance table's visible column headers, in order, with their widths. */
async function columns(page: Page): Promise<{ header: string; width: number }[]> {
  return page
    .getByRole('table', { name: 'Instances' })
    .locator('thead')
    .first()
    .locator('th')
    .evaluateAll((cells) =>
      cells.map((th) => {
        const cell = th as unknown as {
          textContent: string | null;
          querySelector(s: string): { textContent: string | null } | null;
          getBoundingClientRect(): { width: number };
        };
        return {
          header: (cell.querySelector('[class*="header-cell-text"]')?.textContent ?? '').trim(),
          width: Math.round(cell.getBoundingClientRect().width),
        };
      }),
    );
}

test('column order, visibility, widths and page size set in the preferences are kept after a reload', async ({
  launchApp,
}) => {
  sandbox = await startTestSandbox();
  const { page } = await launchApp({ env: sandbox.env });
  await page.setViewportSize({ width: 1920, height: 1080 });
  await signIn(page);
  await instancesLoaded(page, 7);
  const headers = async () =>
    (await columns(page)).map((c) => c.header).filter((h) => h && h !== 'Favourite');
  expect(await headers()).toEqual(DEFAULT_COLUMNS);

  await page.getByRole('button', { name: 'Preferences' }).click();
  const dialog = page.getByRole('dialog', { name: 'Preferences' });
  // Hide Platform, show Tags, and move Region up above Account with the keyboard (as the drag handle allows).
  await dialog.getByRole('checkbox', { name: 'Platform', exact: true }).uncheck();
  await dialog.getByRole('checkbox', { name: 'Tags', exact: true }).check();
  const reorder = dialog.getByRole('button', { name: 'Reorder column Region', exact: true });
  const fifth = dialog.getByRole('checkbox').nth(4);
  // The list listens for the keys from a task after the pick-up, so a busy machine can miss a press (the
  // move, or the drop): pick up unless still picked up, move, drop, until Region has moved (the order
  // changes on the drop).
  await expect(async () => {
    if ((await fifth.getAttribute('id'))?.endsWith('-region') !== true) {
      await reorder.focus();
      if ((await reorder.getAttribute('aria-pressed')) !== 'true') {
        await page.keyboard.press('Space');
        await expect(reorder).toHaveAttribute('aria-pressed', 'true', { timeout: 2_000 });
        await page.keyboard.press('ArrowUp');
      }
      await page.keyboard.press('Space');
      await expect(reorder).toHaveAttribute('aria-pressed', 'false', { timeout: 2_000 });
    }
    await expect(fifth).toHaveAccessibleName('Region', { timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
  await dialog.getByRole('radio', { name: '50', exact: true }).check();
  await dialog.getByRole('button', { name: 'Confirm' }).click();
  await expect(dialog).toBeHidden();
  const changed = ['Name', 'Instance ID', 'Status', 'Region', 'Account', 'Tags', 'Connect as'];
  expect(await headers()).toEqual(changed);

  // Widen the Name column by dragging its resize handle.
  const nameWidth = (await columns(page)).find((c) => c.header === 'Name')!.width;
  const handle = page
    .getByRole('table', { name: 'Instances' })
    .locator('thead th')
    .filter({ hasText: 'Name' })
    .first()
    .locator('[class*="resizer"]')
    .first();
  const box = (await handle.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 + 60, box.y + box.height / 2, { steps: 5 });
  // Released once the column shows its new width, as a person lets go where they see it.
  await expect
    .poll(async () => (await columns(page)).find((c) => c.header === 'Name')!.width)
    .toBeGreaterThanOrEqual(nameWidth + 50);
  await page.mouse.up();
  // Every column but the last (which takes the rest of the row) keeps its width, moved ones included.
  const widths = async () =>
    (await columns(page)).filter((c) => c.header !== 'Connect as').map((c) => [c.header, c.width] as const);
  const widened = await widths();

  await page.reload();
  await instancesLoaded(page, 7);
  expect(await headers()).toEqual(changed);
  const kept = await widths();
  expect(kept.map(([header]) => header)).toEqual(widened.map(([header]) => header));
  kept.forEach(([header, width], i) =>
    expect(
      Math.abs(width - widened[i]![1]),
      `${header}: ${width} px after the reload, ${widened[i]![1]} px before`,
    ).toBeLessThanOrEqual(2),
  );
  await page.getByRole('button', { name: 'Preferences' }).click();
  await expect(dialog.getByRole('radio', { name: '50', exact: true })).toBeChecked();
});

test('signing out returns to the first-run choice; signing in again brings the instances back', async ({
  launchApp,
}) => {
  sandbox = await startTestSandbox();
  const { page } = await launchApp({ env: sandbox.env });
  await signIn(page);
  await instancesLoaded(page);
  await signedInMenu(page).click();
  await page.getByRole('menuitem', { name: 'Sign out' }).click();
  await expect(page.getByTestId('first-run')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Try the local sandbox' })).toBeVisible();
  await expect(page.getByLabel('IAM Identity Center start URL')).toBeVisible();
  await expect(signedInMenu(page)).toHaveCount(0);
  await signIn(page);
  await instancesLoaded(page, 7);
});

test('dark mode follows the system', async ({ launchApp }) => {
  sandbox = await startTestSandbox();
  const { page } = await launchApp({ env: sandbox.env });
  await page.emulateMedia({ colorScheme: 'dark' });
  await signIn(page);
  await instancesLoaded(page);
  const colours = await page.evaluate(() => {
    type El = { classList: { contains(c: string): boolean } };
    const g = globalThis as unknown as {
      document: { body: El; querySelector(s: string): El | null };
      getComputedStyle(e: El): { backgroundColor: string; color: string };
    };
    const table = g.document.querySelector('table')!;
    return {
      dark: g.document.body.classList.contains('awsui-dark-mode'),
      text: g.getComputedStyle(table).color,
    };
  });
  expect(colours.dark).toBe(true);
  // Light text on a dark page.
  const [r, gr, b] = colours.text.match(/\d+/g)!.map(Number);
  expect((r! + gr! + b!) / 3).toBeGreaterThan(150);
  // And back to light when the system changes.
  await page.emulateMedia({ colorScheme: 'light' });
  await expect(page.locator('body')).not.toHaveClass(/awsui-dark-mode/);
});
