/** The instance table's columns and the preferences (order, visibility, widths, page size) kept per user. */
import { createContext, memo, useContext, type ReactNode } from 'react';
import Button from '@cloudscape-design/components/button';
import Link from '@cloudscape-design/components/link';
import StatusIndicator from '@cloudscape-design/components/status-indicator';
import type { TableProps } from '@cloudscape-design/components/table';
import type { SavedTarget } from '../../../app/api/calls/browse';
import { ConnectAs } from './ConnectAs';
import { statusLabel, type Access, type InstanceRow } from './model';

export interface ColumnContext {
  favourites: ReadonlySet<string>;
  recents: readonly SavedTarget[];
  onConnect(row: InstanceRow, access: Access): void;
  onToggleFavourite(row: InstanceRow): void;
  onShowDetails(row: InstanceRow): void;
}

/** Wide enough for the header text in Cloudscape's header font, plus the sort and resize handles. */
const minFor = (header: string) => Math.max(80, Math.ceil(header.length * 8.5) + 44);

export function pingIndicator(pingStatus: string) {
  const online = pingStatus === 'Online';
  return (
    <StatusIndicator type={online ? 'success' : pingStatus === 'NotRegistered' ? 'info' : 'stopped'}>
      {statusLabel[pingStatus] ?? pingStatus}
    </StatusIndicator>
  );
}

/*
 * Cells are memoised components: every cell re-renders when the page changes, and a position that still
 * shows the same instance (same row object, same callbacks) keeps its Cloudscape subtree untouched.
 */
const FavouriteCell = memo(function FavouriteCell({
  row,
  on,
  onToggle,
}: {
  row: InstanceRow;
  on: boolean;
  onToggle: (row: InstanceRow) => void;
}) {
  return (
    <Button
      variant="icon"
      iconName={on ? 'star-filled' : 'star'}
      ariaLabel={on ? `Remove ${row.name} from favourites` : `Add ${row.name} to favourites`}
      onClick={() => onToggle(row)}
    />
  );
});

const NameCell = memo(function NameCell({
  row,
  onShowDetails,
}: {
  row: InstanceRow;
  onShowDetails: (row: InstanceRow) => void;
}) {
  return (
    <Link
      href={`#instances/${row.key}`}
      onFollow={(event) => {
        event.preventDefault();
        onShowDetails(row);
      }}
      ariaLabel={`${row.name}: show details`}
    >
      {row.name}
    </Link>
  );
});

const StatusCell = memo(function StatusCell({ pingStatus }: { pingStatus: string }) {
  return pingIndicator(pingStatus);
});

/**
 * The table's items are row positions on the page, not instances: the instance shown at each position comes
 * from PageRowsContext. A keystroke that changes which instances the page shows (but not how many) then
 * leaves the Cloudscape table itself untouched (its two header rows, resize handles, sticky-column and
 * sticky-header work) and re-renders only the cells, each from its position's new instance.
 */
export interface RowSlot {
  index: number;
}
export const PageRowsContext = createContext<readonly InstanceRow[]>([]);

const slotCache: RowSlot[][] = [];
/** The same array of positions for the same number of rows on the page. */
export function rowSlots(count: number): RowSlot[] {
  return (slotCache[count] ??= Array.from({ length: count }, (_, index) => ({ index })));
}

/** A cell's content for the instance at its position (memoised cells below skip an unchanged instance). */
function AtSlot({ slot, render }: { slot: RowSlot; render: (row: InstanceRow) => ReactNode }) {
  const row = useContext(PageRowsContext)[slot.index];
  return row ? render(row) : null;
}

export function instanceColumns(ctx: ColumnContext): TableProps.ColumnDefinition<RowSlot>[] {
  const column = (
    def: Omit<TableProps.ColumnDefinition<RowSlot>, 'header' | 'minWidth' | 'cell'> & {
      header: string;
      cell: (row: InstanceRow) => ReactNode;
    },
  ): TableProps.ColumnDefinition<RowSlot> => ({
    ...def,
    cell: (slot) => <AtSlot slot={slot} render={def.cell} />,
    minWidth: minFor(def.header),
  });
  return [
    {
      id: 'favourite',
      header: <span className="visually-hidden">Favourite</span>,
      ariaLabel: () => 'Favourite',
      width: 52,
      minWidth: 52,
      cell: (slot) => (
        <AtSlot
          slot={slot}
          render={(row) => (
            <FavouriteCell row={row} on={ctx.favourites.has(row.key)} onToggle={ctx.onToggleFavourite} />
          )}
        />
      ),
    },
    column({
      id: 'name',
      header: 'Name',
      cell: (row) => <NameCell row={row} onShowDetails={ctx.onShowDetails} />,
      sortingField: 'name',
      isRowHeader: true,
      width: 180,
    }),
    column({
      id: 'instanceId',
      header: 'Instance ID',
      cell: (row) => row.instanceId,
      sortingField: 'instanceId',
      width: 200,
    }),
    column({
      id: 'status',
      header: 'Status',
      cell: (row) => <StatusCell pingStatus={row.pingStatus} />,
      sortingField: 'pingStatus',
      width: 130,
    }),
    column({
      id: 'account',
      header: 'Account',
      cell: (row) => (
        <span title={row.accountId}>
          {row.accountName} <span className="muted">{row.accountId}</span>
        </span>
      ),
      sortingField: 'accountName',
      width: 240,
    }),
    column({ id: 'region', header: 'Region', cell: (row) => row.region, sortingField: 'region', width: 120 }),
    column({
      id: 'platform',
      header: 'Platform',
      cell: (row) => row.platform,
      sortingField: 'platform',
      width: 160,
    }),
    column({
      id: 'users',
      header: 'Linux users',
      cell: (row) => [...new Set(row.access.map((a) => a.linuxUser ?? 'unknown'))].join(', '),
      width: 180,
    }),
    column({
      id: 'tags',
      header: 'Tags',
      cell: (row) =>
        Object.entries(row.tags)
          .filter(([key]) => !key.startsWith('roleshell:') && key !== 'Name')
          .map(([key, value]) => `${key}=${value}`)
          .join(', '),
      width: 220,
    }),
    column({
      id: 'connect',
      header: 'Connect as',
      cell: (row) => (
        <span className="connect-as">
          <ConnectAs row={row} recents={ctx.recents} onConnect={ctx.onConnect} />
        </span>
      ),
      width: 280,
    }),
  ];
}

export const columnLabels: Record<string, string> = {
  favourite: 'Favourite',
  name: 'Name',
  instanceId: 'Instance ID',
  status: 'Status',
  account: 'Account',
  region: 'Region',
  platform: 'Platform',
  users: 'Linux users',
  tags: 'Tags',
  connect: 'Connect as',
};

export interface TablePreferences {
  pageSize: number;
  contentDisplay: { id: string; visible: boolean }[];
  widths: Record<string, number>;
}

const defaultPreferences: TablePreferences = {
  // About what a 1280×800 window shows: every row on a page is mounted when the filter changes the page,
  // and measured, 10 rows paint a page-changing keystroke in about half the time 20 do.
  pageSize: 10,
  contentDisplay: [
    { id: 'favourite', visible: true },
    { id: 'name', visible: true },
    { id: 'instanceId', visible: true },
    { id: 'status', visible: true },
    { id: 'account', visible: true },
    { id: 'region', visible: true },
    { id: 'platform', visible: true },
    { id: 'users', visible: false },
    { id: 'tags', visible: false },
    { id: 'connect', visible: true },
  ],
  widths: {},
};

const storageKey = 'roleshell.instanceTable';

/** Column layout is a display preference of this window's user: kept in the renderer's own storage. */
export function loadPreferences(): TablePreferences {
  try {
    const saved = JSON.parse(localStorage.getItem(storageKey) ?? 'null') as Partial<TablePreferences> | null;
    if (!saved) return defaultPreferences;
    const known = new Set(defaultPreferences.contentDisplay.map((c) => c.id));
    const display = (saved.contentDisplay ?? []).filter((c) => known.has(c.id));
    // Columns added since the preference was saved are appended with their default visibility.
    for (const c of defaultPreferences.contentDisplay)
      if (!display.some((d) => d.id === c.id)) display.push(c);
    return {
      pageSize: typeof saved.pageSize === 'number' ? saved.pageSize : defaultPreferences.pageSize,
      contentDisplay: display,
      widths: saved.widths ?? {},
    };
  } catch {
    return defaultPreferences;
  }
}

export function savePreferences(prefs: TablePreferences): void {
  try {
    localStorage.setItem(storageKey, JSON.stringify(prefs));
  } catch {
    // Storage full or disabled: the layout simply is not remembered.
  }
}
