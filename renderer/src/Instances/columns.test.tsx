// @vitest-environment jsdom
/**
 * The instance table's cells by position: the table's items are positions, each cell shows the instance
 * PageRowsContext puts there, and the Connect-as control (the one cell with state) starts again when its
 * position shows another instance.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import Table from '@cloudscape-design/components/table';
import { instanceColumns, PageRowsContext, rowSlots, type RowSlot } from './columns';
import type { InstanceRow } from './model';

afterEach(cleanup);

const instance = (n: number): InstanceRow => ({
  key: `222222222222/eu-west-1/i-${n}`,
  accountId: '222222222222',
  accountName: 'prod-workloads',
  region: 'eu-west-1',
  instanceId: `i-${n}`,
  name: `host-${n}`,
  platform: 'Amazon Linux',
  pingStatus: 'Online',
  tags: {},
  access: [{ permissionSet: 'ReadOnly', linuxUser: `user-${n}`, targetKey: `k${n}` }],
});

const columns = instanceColumns({
  favourites: new Set(),
  recents: [],
  onConnect: vi.fn(),
  onToggleFavourite: vi.fn(),
  onShowDetails: vi.fn(),
});

function Page({ rows }: { rows: InstanceRow[] }) {
  return (
    <PageRowsContext.Provider value={rows}>
      <Table<RowSlot>
        items={rowSlots(rows.length)}
        columnDefinitions={columns}
        ariaLabels={{ tableLabel: 'Instances' }}
      />
    </PageRowsContext.Provider>
  );
}

const names = () =>
  screen
    .getAllByRole('link')
    .map((link) => link.textContent)
    .filter(Boolean);

describe('instance cells by position', () => {
  it('keeps one array of positions per row count', () => {
    expect(rowSlots(3)).toBe(rowSlots(3));
    expect(rowSlots(3).map((s) => s.index)).toEqual([0, 1, 2]);
    expect(rowSlots(0)).toEqual([]);
  });

  it('shows the instances the page holds, and others in the same rows when the page changes', () => {
    const view = render(<Page rows={[instance(1), instance(2)]} />);
    expect(names()).toEqual(['host-1', 'host-2']);
    const rowsBefore = screen.getAllByRole('row');
    view.rerender(<Page rows={[instance(3), instance(4)]} />);
    expect(names()).toEqual(['host-3', 'host-4']);
    expect(screen.getByRole('button', { name: 'Connect as user-4' })).toBeTruthy();
    // Updated in place: the same row elements.
    expect(screen.getAllByRole('row')).toEqual(rowsBefore);
    view.rerender(<Page rows={[instance(5)]} />);
    expect(names()).toEqual(['host-5']);
  });

  it('a Connect-as control made live goes back to the stand-in when its row shows another instance', async () => {
    const user = userEvent.setup();
    const view = render(<Page rows={[instance(1)]} />);
    await user.hover(screen.getByRole('button', { name: 'More ways to connect to host-1' }));
    const cell = () =>
      screen.getByRole('group', { name: /^More ways to connect to/ }).closest('[data-connect-as]')!;
    expect(cell().getAttribute('data-connect-as')).toBe('live');
    view.rerender(<Page rows={[instance(2)]} />);
    expect(cell().getAttribute('data-connect-as')).toBe('stand-in');
    expect(within(cell() as HTMLElement).getByRole('button', { name: 'Connect as user-2' })).toBeTruthy();
  });
});
