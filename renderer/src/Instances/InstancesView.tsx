/**
 * Instances, search-first: one row per instance across every loaded account,
 * Cloudscape's property filter over every field (and the text being typed),
 * favourites and recents as filters, paginated so 20,000 instances stay smooth.
 */
import { createContext, memo, useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';
import Alert from '@cloudscape-design/components/alert';
import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import CollectionPreferences from '@cloudscape-design/components/collection-preferences';
import ExpandableSection from '@cloudscape-design/components/expandable-section';
import Header from '@cloudscape-design/components/header';
import Pagination from '@cloudscape-design/components/pagination';
import ProgressBar from '@cloudscape-design/components/progress-bar';
import PropertyFilter, { type PropertyFilterProps } from '@cloudscape-design/components/property-filter';
import SegmentedControl from '@cloudscape-design/components/segmented-control';
import SpaceBetween from '@cloudscape-design/components/space-between';
import Table, { type TableProps } from '@cloudscape-design/components/table';
import {
  columnLabels,
  instanceColumns,
  loadPreferences,
  PageRowsContext,
  rowSlots,
  savePreferences,
  type RowSlot,
  type TablePreferences,
} from './columns';
import {
  emptyQuery,
  filterOptions,
  filterProperties,
  narrowingFilter,
  textsOf,
  type IndexedInstance,
} from './filter';
import { useInventory } from './inventory';
import { instanceKey, type Access, type InstanceRow } from './model';

type Scope = 'all' | 'favourites' | 'recent';

/** Built once: a new array on every render would make the property filter redo its own derivations. */
const filteringProperties: PropertyFilterProps.FilteringProperty[] = filterProperties.map((p) => ({
  key: p.key,
  propertyLabel: p.label,
  groupValuesLabel: `${p.label} values`,
  operators: [':', '!:', '=', '!='],
  defaultOperator: ':',
}));

/** The filter and scope survive a reload of the window (not a restart). */
function useSessionState<T>(key: string, initial: T): [T, (value: T) => void] {
  const [value, setValue] = useState<T>(() => {
    try {
      const saved = sessionStorage.getItem(key);
      return saved ? (JSON.parse(saved) as T) : initial;
    } catch {
      return initial;
    }
  });
  useEffect(() => {
    try {
      sessionStorage.setItem(key, JSON.stringify(value));
    } catch {
      // Not remembered; nothing else depends on it.
    }
  }, [key, value]);
  return [value, setValue];
}

export function progressText(p: { phase: string; loaded: number; total: number }): string {
  const n = (x: number) => x.toLocaleString('en-US');
  return p.phase === 'permissionSets'
    ? `${n(p.loaded)} of ${n(p.total)} accounts' permission sets listed`
    : `${n(p.loaded)} of ${n(p.total)} permission sets`;
}

/**
 * What changes on every keystroke while the page of rows often does not: the counts and the searched text.
 * The table element is memoised on its row positions; these reach the header, the filter and the empty state
 * through context, so a keystroke that leaves the page as it was re-renders only them, not every row.
 */
interface Counts {
  shown: number;
  total: number;
  loading: boolean;
  searched: string;
}
const CountsContext = createContext<Counts>({ shown: 0, total: 0, loading: false, searched: '' });

/**
 * The page number and count, also changed by most keystrokes (a narrower filter has fewer pages): through
 * context as well, so the Cloudscape table is not rendered again for them. Its render lays out the page
 * (its sticky header measures itself in a layout effect on every render).
 */
interface Paging {
  pageIndex: number;
  pagesCount: number;
  onPage: (index: number) => void;
}
const PagingContext = createContext<Paging>({ pageIndex: 1, pagesCount: 1, onPage: () => {} });

/** The same array as last time when the page holds the same rows, so no cell re-renders. */
function useStablePage(page: InstanceRow[]): InstanceRow[] {
  const last = useRef(page);
  const previous = last.current;
  if (previous.length !== page.length || page.some((row, i) => row !== previous[i])) last.current = page;
  return last.current;
}

type Sorting = { column: TableProps.SortingColumn<RowSlot>; descending: boolean } | null;

/** Sorted by the sorting column; the filter answer itself (same array) when unsorted. */
function sortRows(found: readonly IndexedInstance[], sorting: Sorting): readonly IndexedInstance[] {
  const field = sorting?.column.sortingField as keyof InstanceRow | undefined;
  if (!sorting || !field) return found;
  const direction = sorting.descending ? -1 : 1;
  return [...found].sort((a, b) => direction * String(a.row[field]).localeCompare(String(b.row[field])));
}

/** Memoised: it stays mounted while another screen shows (App.tsx) and has nothing to redo for the frame's renders. */
export const InstancesView = memo(function InstancesView({
  onSelect,
  onConnect,
  onQuickConnect,
}: {
  onSelect: (row: InstanceRow | null) => void;
  onConnect: (row: InstanceRow, access: Access) => void;
  onQuickConnect: () => void;
}) {
  const inventory = useInventory();
  const { indexed, rows, prefs, favouriteKeys, loading, progress } = inventory;
  const [query, setQuery] = useSessionState<PropertyFilterProps.Query>('roleshell.filter', emptyQuery);
  const [scope, setScope] = useSessionState<Scope>('roleshell.scope', 'all');
  const [typing, setTyping] = useState('');
  const [tablePrefs, setTablePrefs] = useState<TablePreferences>(loadPreferences);
  const [failuresDismissed, setFailuresDismissed] = useState(false);
  const [sorting, setSorting] = useState<Sorting>(null);

  const [filter] = useState(narrowingFilter);
  // Once every list is in, the search's layout of the rows is made while the window is idle, so the first
  // keystroke does not pay for it (tens of milliseconds over 20,000 rows). Not while lists still arrive:
  // each would make a new one.
  useEffect(() => {
    if (loading || indexed.length === 0) return;
    const id = requestIdleCallback(() => textsOf(indexed));
    return () => cancelIdleCallback(id);
  }, [indexed, loading]);
  const recentKeys = useMemo(() => new Set(prefs.recents.map((r) => instanceKey(r))), [prefs.recents]);
  const scoped = useMemo(
    () =>
      scope === 'favourites'
        ? indexed.filter((i) => favouriteKeys.has(i.row.key))
        : scope === 'recent'
          ? indexed.filter((i) => recentKeys.has(i.row.key))
          : indexed,
    [indexed, scope, favouriteKeys, recentKeys],
  );
  // Indexed rows all the way to the page: only the page's ten or so rows are mapped back to rows.
  const filtered = useMemo(() => filter(scoped, query, typing), [filter, scoped, query, typing]);
  const sorted = useMemo(() => sortRows(filtered, sorting), [filtered, sorting]);
  // A few suggestions per property: the dropdown filters and draws them on every keystroke. Not a virtual
  // list: that measures every option's height (a forced layout) in each keystroke's commit.
  const options = useMemo(() => filterOptions(rows, 15), [rows]);

  // Back to the first page whenever the filtered rows change (as the collection hooks did).
  const [page, setPage] = useState<{ of: readonly IndexedInstance[]; index: number }>({
    of: sorted,
    index: 1,
  });
  const pageSize = tablePrefs.pageSize;
  const pagesCount = Math.max(1, Math.ceil(sorted.length / pageSize));
  const pageIndex = page.of === sorted ? Math.min(page.index, pagesCount) : 1;
  const pageRows = useStablePage(
    sorted.slice((pageIndex - 1) * pageSize, pageIndex * pageSize).map((i) => i.row),
  );
  // The table's items: positions, the same array while the page holds as many rows (columns.tsx).
  const items = rowSlots(pageRows.length);

  const searched = [
    ...query.tokens.map((t) => String(t.value ?? '')),
    ...(typing.trim() ? [typing.trim()] : []),
  ].join(' ');
  const total = rows.length;
  const noRows = total === 0;
  const counts = useMemo<Counts>(
    () => ({ shown: filtered.length, total, loading, searched }),
    [filtered.length, total, loading, searched],
  );
  const paging = useMemo<Paging>(
    () => ({
      pageIndex,
      pagesCount,
      onPage: (index: number) => setPage({ of: sorted, index }),
    }),
    [pageIndex, pagesCount, sorted],
  );
  const clear = useCallback(() => {
    setQuery(emptyQuery);
    setTyping('');
    setScope('all');
  }, [setQuery, setScope]);

  // The parent may pass a new onSelect on each of its renders; the columns (and memoised cells) keep one.
  const onSelectRef = useRef(onSelect);
  onSelectRef.current = onSelect;
  const showDetails = useCallback((row: InstanceRow) => onSelectRef.current(row), []);
  const { toggleFavourite, reload } = inventory;
  const onToggleFavourite = useCallback(
    (row: InstanceRow) => void toggleFavourite(row, row.access[0]!),
    [toggleFavourite],
  );
  const columns = useMemo(
    () =>
      instanceColumns({
        favourites: favouriteKeys,
        recents: prefs.recents,
        onConnect,
        onShowDetails: showDetails,
        onToggleFavourite,
      }).map((c) => (c.id && tablePrefs.widths[c.id] ? { ...c, width: tablePrefs.widths[c.id] } : c)),
    [favouriteKeys, prefs.recents, onConnect, showDetails, onToggleFavourite, tablePrefs.widths],
  );
  const updatePrefs = useCallback((next: TablePreferences) => {
    setTablePrefs(next);
    savePreferences(next);
  }, []);
  const accountsCount = inventory.accounts?.length ?? 0;
  const onTyping = useCallback((value: string) => setTyping(value), []);
  const onQuery = useCallback(
    (next: PropertyFilterProps.Query) => {
      setQuery(next);
      setTyping('');
    },
    [setQuery],
  );

  const table = useMemo(
    () => (
      <Table<RowSlot>
        items={items}
        columnDefinitions={columns}
        columnDisplay={tablePrefs.contentDisplay}
        resizableColumns
        onColumnWidthsChange={({ detail }) => {
          // One width per column definition, in definition order (hidden columns included), not display order.
          const widths: Record<string, number> = {};
          columns.forEach((c, i) => {
            const w = detail.widths[i];
            if (c.id && w) widths[c.id] = w;
          });
          updatePrefs({ ...tablePrefs, widths: { ...tablePrefs.widths, ...widths } });
        }}
        sortingColumn={sorting?.column}
        sortingDescending={sorting?.descending}
        onSortingChange={({ detail }) =>
          setSorting({ column: detail.sortingColumn, descending: detail.isDescending ?? false })
        }
        // Items are positions (columns.tsx) and, without trackBy, rows are keyed by position: a keystroke
        // that changes the page re-renders the cells on screen, not the table, and does not unmount rows and
        // mount new ones (measured: most of such a keystroke's cost). The table has no selection or expanded
        // rows to keep per instance, and the one stateful cell, Connect as, goes back to its stand-in when
        // its position shows another instance (ConnectAs.tsx), so no open menu outlives its instance.
        variant="full-page"
        stickyHeader
        stickyColumns={{ first: 0, last: 1 }}
        ariaLabels={{ tableLabel: 'Instances' }}
        loading={loading && noRows}
        loadingText="Loading instances"
        empty={<EmptyState accountsCount={accountsCount} onClear={clear} />}
        header={
          <InstancesHeader
            accountsCount={accountsCount}
            onQuickConnect={onQuickConnect}
            onRefresh={() => void reload(true)}
          />
        }
        filter={
          <InstancesFilter
            query={query}
            onQuery={onQuery}
            onTyping={onTyping}
            options={options}
            scope={scope}
            onScope={setScope}
          />
        }
        pagination={<InstancesPagination />}
        preferences={<Preferences prefs={tablePrefs} onChange={updatePrefs} />}
      />
    ),
    [
      items,
      columns,
      tablePrefs,
      updatePrefs,
      sorting,
      loading,
      noRows,
      accountsCount,
      clear,
      onQuickConnect,
      reload,
      query,
      onQuery,
      onTyping,
      options,
      scope,
      setScope,
    ],
  );

  return (
    // data-filtered-text: the typed text the table on screen is filtered by (the bench waits for it).
    <div className="instances-view" data-filtered-text={typing}>
      {/* Notices keep a gap above the table's heading (the table's own header has none of its own). */}
      <SpaceBetween size="s" className="instances-notices">
        {inventory.error && (
          <Alert
            type="error"
            header="The instances could not be loaded"
            data-testid="inventory-error"
            action={<Button onClick={() => void reload(true)}>Retry</Button>}
          >
            {inventory.error}
          </Alert>
        )}
        {inventory.withoutRoleShell.length > 0 && (
          <Alert type="info" data-testid="not-set-up">
            {inventory.withoutRoleShell.map((a) => (
              <div key={a.accountId}>
                RoleShell is not set up in account {a.accountName} ({a.accountId}) — nothing here to connect
                to.
              </div>
            ))}
          </Alert>
        )}
        {inventory.failures.length > 0 && !failuresDismissed && (
          <Alert
            type="warning"
            dismissible
            dismissAriaLabel="Dismiss"
            onDismiss={() => setFailuresDismissed(true)}
            header={`${inventory.failures.length} permission set${inventory.failures.length === 1 ? '' : 's'} could not be listed`}
            data-testid="list-failures"
          >
            <ExpandableSection headerText="Details">
              <ul className="plain-list">
                {inventory.failures.map((f) => (
                  <li key={`${f.accountId}/${f.permissionSet}`}>
                    <b>
                      {f.accountName} · {f.permissionSet}
                    </b>
                    : {f.message}
                  </li>
                ))}
              </ul>
            </ExpandableSection>
          </Alert>
        )}
        {loading && progress && progress.total > 0 && (
          <ProgressBar
            label="Loading instances"
            value={Math.round((100 * progress.loaded) / progress.total)}
            additionalInfo={progressText(progress)}
            data-testid="load-progress"
          />
        )}
      </SpaceBetween>
      <CountsContext.Provider value={counts}>
        <PagingContext.Provider value={paging}>
          <PageRowsContext.Provider value={pageRows}>{table}</PageRowsContext.Provider>
        </PagingContext.Provider>
      </CountsContext.Provider>
    </div>
  );
});

const InstancesHeader = memo(function InstancesHeader({
  accountsCount,
  onQuickConnect,
  onRefresh,
}: {
  accountsCount: number;
  onQuickConnect: () => void;
  onRefresh: () => void;
}) {
  const { shown, total, loading } = useContext(CountsContext);
  return (
    <Header
      variant="awsui-h1-sticky"
      counter={
        shown !== total
          ? `(${shown.toLocaleString('en-US')}/${total.toLocaleString('en-US')})`
          : `(${total.toLocaleString('en-US')}${loading ? '…' : ''})`
      }
      description={`Every instance your permission sets reach, in ${accountsCount.toLocaleString('en-US')} account${accountsCount === 1 ? '' : 's'}.`}
      actions={
        <SpaceBetween direction="horizontal" size="xs">
          <Button onClick={onQuickConnect}>
            Quick connect <span className="kbd">Ctrl+K</span>
          </Button>
          <Button iconName="refresh" ariaLabel="Refresh instances" loading={loading} onClick={onRefresh} />
        </SpaceBetween>
      }
    >
      Instances
    </Header>
  );
});

const paginationLabels = {
  nextPageLabel: 'Next page',
  previousPageLabel: 'Previous page',
  pageLabel: (n: number) => `Page ${n}`,
};

const InstancesPagination = memo(function InstancesPagination() {
  const { pageIndex, pagesCount, onPage } = useContext(PagingContext);
  return (
    <Pagination
      currentPageIndex={pageIndex}
      pagesCount={pagesCount}
      onChange={({ detail }) => onPage(detail.currentPageIndex)}
      ariaLabels={paginationLabels}
    />
  );
});

const InstancesFilter = memo(function InstancesFilter({
  query,
  onQuery,
  onTyping,
  options,
  scope,
  onScope,
}: {
  query: PropertyFilterProps.Query;
  onQuery: (query: PropertyFilterProps.Query) => void;
  onTyping: (text: string) => void;
  options: PropertyFilterProps.FilteringOption[];
  scope: Scope;
  onScope: (scope: Scope) => void;
}) {
  const { shown } = useContext(CountsContext);
  return (
    <div
      className="instances-filter"
      // Not a transition: measured, deferring the table cost a frame more to the filtered paint.
      onInput={(e) => onTyping((e.target as HTMLInputElement).value ?? '')}
    >
      <PropertyFilter
        query={query}
        onChange={({ detail }) => onQuery(detail)}
        filteringProperties={filteringProperties}
        filteringOptions={options}
        filteringPlaceholder="Find instances by name, ID, tag, account, region, user…"
        filteringAriaLabel="Filter instances"
        countText={`${shown.toLocaleString('en-US')} match${shown === 1 ? '' : 'es'}`}
        customControl={
          <SegmentedControl
            label="Show"
            selectedId={scope}
            onChange={({ detail }) => onScope(detail.selectedId as Scope)}
            options={scopeOptions}
          />
        }
        expandToViewport
        i18nStrings={filterStrings}
      />
    </div>
  );
});

const scopeOptions = [
  { id: 'all', text: 'All' },
  { id: 'favourites', text: 'Favourites' },
  { id: 'recent', text: 'Recent' },
];
const filterStrings = { clearFiltersText: 'Clear filters' };

const EmptyState = memo(function EmptyState({
  accountsCount,
  onClear,
}: {
  accountsCount: number;
  onClear: () => void;
}) {
  const { total, searched } = useContext(CountsContext);
  return total === 0 ? (
    <Box textAlign="center" color="inherit" padding="l">
      <b>No instances</b>
      <Box variant="p" color="inherit">
        {accountsCount === 0
          ? 'You are not assigned to any AWS account in IAM Identity Center.'
          : 'None of your permission sets reaches an instance in the configured regions.'}
      </Box>
    </Box>
  ) : (
    <Box textAlign="center" color="inherit" padding="l" data-testid="no-match">
      <b>{searched ? `No instance matches '${searched}'` : 'No instance in this view'}</b>
      <Box variant="p" color="inherit">
        <Button onClick={onClear}>Clear filter</Button>
      </Box>
    </Box>
  );
});

const pageSizeOptions = [10, 20, 50, 100].map((n) => ({ value: n, label: String(n) }));
const columnOptions = Object.entries(columnLabels).map(([id, label]) => ({
  id,
  label,
  alwaysVisible: id === 'name' || id === 'connect',
}));

const Preferences = memo(function Preferences({
  prefs,
  onChange,
}: {
  prefs: TablePreferences;
  onChange: (prefs: TablePreferences) => void;
}) {
  return (
    <CollectionPreferences
      title="Preferences"
      confirmLabel="Confirm"
      cancelLabel="Cancel"
      preferences={{ pageSize: prefs.pageSize, contentDisplay: prefs.contentDisplay }}
      onConfirm={({ detail }) =>
        onChange({
          ...prefs,
          pageSize: detail.pageSize ?? prefs.pageSize,
          contentDisplay: [...(detail.contentDisplay ?? prefs.contentDisplay)],
        })
      }
      pageSizePreference={{ title: 'Instances per page', options: pageSizeOptions }}
      contentDisplayPreference={{
        title: 'Columns',
        description: 'Drag a column, or use Space and the arrow keys on its handle, to change the order.',
        options: columnOptions,
        dragHandleAriaLabel: 'Reorder column',
      }}
    />
  );
});
