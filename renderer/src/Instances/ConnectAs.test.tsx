// @vitest-environment jsdom
/**
 * The Connect-as control: a markup-only stand-in that Cloudscape's real split button replaces on hover,
 * focus or click, with the same look, names, menu and keyboard behaviour as the real one alone.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import ButtonDropdown from '@cloudscape-design/components/button-dropdown';
import { ConnectAs } from './ConnectAs';
import { notConnectableReason, type Access, type InstanceRow } from './model';

afterEach(cleanup);

function instance(over: Partial<InstanceRow> = {}): InstanceRow {
  const access = (permissionSet: string, linuxUser: string): Access => ({
    permissionSet,
    linuxUser,
    targetKey: `222222222222/${permissionSet}/eu-west-1/i-0a1b2c3d4e5f60001`,
  });
  return {
    key: '222222222222/eu-west-1/i-0a1b2c3d4e5f60001',
    accountId: '222222222222',
    accountName: 'prod-workloads',
    region: 'eu-west-1',
    instanceId: 'i-0a1b2c3d4e5f60001',
    name: 'prod-web-1',
    platform: 'Amazon Linux',
    pingStatus: 'Online',
    tags: {},
    access: [access('AdministratorAccess', 'ops-admin'), access('ReadOnly', 'auditor')],
    ...over,
  };
}

function renderConnectAs(row = instance()) {
  const onConnect = vi.fn<(row: InstanceRow, access: Access) => void>();
  const view = render(
    <>
      <button type="button">before</button>
      <ConnectAs row={row} recents={[]} onConnect={onConnect} />
      <button type="button">after</button>
    </>,
  );
  const control = () => view.container.querySelector<HTMLElement>('[data-connect-as]')!.dataset.connectAs;
  return { onConnect, control, view };
}

/** Markup without what differs per mount (generated ids, analytics and performance marks). */
function normalised(element: Element): string {
  const copy = element.cloneNode(true) as Element;
  for (const el of [copy, ...copy.querySelectorAll('*')]) {
    const kept = [...el.attributes]
      .filter(
        ({ name }) => name !== 'id' && name !== 'aria-describedby' && !name.startsWith('data-analytics-'),
      )
      .map(({ name, value }) => [name, value] as const)
      .sort(([a], [b]) => a.localeCompare(b));
    // Attribute order is not markup that matters: compare them sorted.
    for (const { name } of [...el.attributes]) el.removeAttribute(name);
    for (const [name, value] of kept) el.setAttribute(name, value);
  }
  return copy.outerHTML;
}

describe('ConnectAs stand-in', () => {
  for (const pingStatus of ['Online', 'ConnectionLost']) {
    it(`renders the same markup as Cloudscape's split button (${pingStatus})`, () => {
      const row = instance({ pingStatus });
      const reason = notConnectableReason(row) ?? undefined;
      const real = render(
        <ButtonDropdown
          variant="normal"
          expandToViewport
          ariaLabel="More ways to connect to prod-web-1"
          mainAction={{ text: 'Connect as ops-admin', disabled: !!reason, disabledReason: reason }}
          items={[{ id: 'AdministratorAccess', text: 'ops-admin — AdministratorAccess' }]}
        />,
      );
      const expected = normalised(real.container.firstElementChild!);
      real.unmount();
      const { view, control } = renderConnectAs(row);
      expect(control()).toBe('stand-in');
      expect(normalised(view.container.querySelector('[data-connect-as] > *')!)).toBe(expected);
    });
  }

  it('has the real control’s accessible names', () => {
    renderConnectAs();
    expect(screen.getByRole('group', { name: 'More ways to connect to prod-web-1' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Connect as ops-admin' })).toBeTruthy();
    const trigger = screen.getByRole('button', { name: 'More ways to connect to prod-web-1' });
    expect(trigger.getAttribute('aria-haspopup')).toBe('true');
    expect(trigger.getAttribute('aria-expanded')).toBe('false');
  });

  it('mounts the real control on hover, in place, and its menu lists every permission set', async () => {
    const user = userEvent.setup();
    const { control, onConnect } = renderConnectAs();
    await user.hover(screen.getByRole('button', { name: 'More ways to connect to prod-web-1' }));
    expect(control()).toBe('live');
    await user.click(screen.getByRole('button', { name: 'More ways to connect to prod-web-1' }));
    expect(screen.getAllByRole('menuitem').map((item) => item.textContent)).toEqual([
      'ops-admin — AdministratorAccess',
      'auditor — ReadOnly',
    ]);
    await user.click(screen.getByRole('menuitem', { name: 'auditor — ReadOnly' }));
    expect(onConnect).toHaveBeenCalledWith(
      expect.objectContaining({ name: 'prod-web-1' }),
      expect.objectContaining({ linuxUser: 'auditor' }),
    );
  });

  it('Tab reaches the main action: the real control takes its place with the focus kept, Enter connects', async () => {
    const user = userEvent.setup();
    const { control, onConnect } = renderConnectAs();
    screen.getByRole('button', { name: 'before' }).focus();
    await user.tab();
    expect(control()).toBe('live');
    expect(document.activeElement?.textContent).toBe('Connect as ops-admin');
    await user.keyboard('{Enter}');
    expect(onConnect).toHaveBeenCalledWith(
      expect.objectContaining({ name: 'prod-web-1' }),
      expect.objectContaining({ linuxUser: 'ops-admin' }),
    );
  });

  // ArrowDown as the browser sends it: Cloudscape reads keyCode, which user-event leaves out.
  const keys: Record<string, (user: ReturnType<typeof userEvent.setup>) => Promise<unknown>> = {
    Enter: (user) => user.keyboard('{Enter}'),
    Space: (user) => user.keyboard(' '),
    ArrowDown: async () =>
      fireEvent.keyDown(document.activeElement!, { key: 'ArrowDown', code: 'ArrowDown', keyCode: 40 }),
  };
  for (const [key, press] of Object.entries(keys)) {
    it(`Shift+Tab reaches the trigger with the focus kept on the real one; ${key} opens the menu`, async () => {
      const user = userEvent.setup();
      const { control } = renderConnectAs();
      screen.getByRole('button', { name: 'after' }).focus();
      await user.tab({ shift: true });
      expect(control()).toBe('live');
      expect(document.activeElement?.getAttribute('aria-label')).toBe('More ways to connect to prod-web-1');
      expect(screen.queryAllByRole('menuitem')).toEqual([]);
      await press(user);
      expect(screen.getAllByRole('menuitem')).toHaveLength(2);
    });
  }

  it('Tab goes from the main action on to the trigger, then out, as with the real control alone', async () => {
    const user = userEvent.setup();
    renderConnectAs();
    screen.getByRole('button', { name: 'before' }).focus();
    await user.tab();
    await user.tab();
    expect(document.activeElement?.getAttribute('aria-label')).toBe('More ways to connect to prod-web-1');
    await user.tab();
    expect(document.activeElement?.textContent).toBe('after');
  });

  it('a click that reaches the stand-in (no hover or focus first) opens the menu or connects', () => {
    const first = renderConnectAs();
    fireEvent.click(screen.getByRole('button', { name: 'More ways to connect to prod-web-1' }));
    expect(first.control()).toBe('live');
    expect(screen.getAllByRole('menuitem')).toHaveLength(2);
    cleanup();
    const second = renderConnectAs();
    fireEvent.click(screen.getByRole('button', { name: 'Connect as ops-admin' }));
    expect(second.onConnect).toHaveBeenCalledWith(
      expect.objectContaining({ name: 'prod-web-1' }),
      expect.objectContaining({ linuxUser: 'ops-admin' }),
    );
  });

  it('an instance that is not online: the stand-in says why and does not connect', () => {
    const { onConnect } = renderConnectAs(instance({ pingStatus: 'ConnectionLost' }));
    const main = screen.getByRole('button', { name: 'Connect as ops-admin' });
    expect(main.getAttribute('aria-disabled')).toBe('true');
    expect(document.getElementById(main.getAttribute('aria-describedby')!)?.textContent).toMatch(
      /prod-web-1 is Offline in Systems Manager/,
    );
    fireEvent.click(main);
    expect(onConnect).not.toHaveBeenCalled();
  });
});
