/**
 * Instances, search-first: one row per instance across every loaded account,
 * Cloudscape's property filter over every field (and the text being typed),
 * favourites and recents as filters, paginated so 20,000 instances stay smooth.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useCollection } from '@cloudscape-design/collection-hooks';
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
import Table from '@cloudscape-design/components/table';
import {
  columnLabels,
  instanceColumns,
  loadPreferences,
  savePreferences,
  type TablePreferences,
} from './columns';
import { emptyQuery, filterOptions, filterProperties, narrowingFilter } from './filter';
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

export function InstancesView({
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

  const [filter] = useState(narrowingFilter);
  const recentKeys = useMemo(() => new Set(prefs.recents.map((r) => instanceKey(r))), [prefs.recents]);
  const filtered = useMemo(() => {
    const scoped =
      scope === 'favourites'
        ? indexed.filter((i) => favouriteKeys.has(i.row.key))
        : scope === 'recent'
          ? indexed.filter((i) => recentKeys.has(i.row.key))
          : indexed;
    return filter(scoped, query, typing).map((i) => i.row);
  }, [filter, indexed, scope, favouriteKeys, recentKeys, query, typing]);
  // A few suggestions per property: the dropdown filters and draws them on every keystroke. Not a virtual
  // list: that measures every option's height (a forced layout) in each keystroke's commit.
  const options = useMemo(() => filterOptions(rows, 15), [rows]);

  const searched = [
    ...query.tokens.map((t) => String(t.value ?? '')),
    ...(typing.trim() ? [typing.trim()] : []),
  ].join(' ');
  const clear = () => {
    setQuery(emptyQuery);
    setTyping('');
    setScope('all');
  };
  const { items, collectionProps, paginationProps } = useCollection(filtered, {
    pagination: { pageSize: tablePrefs.pageSize },
    sorting: {},
  });

  // The parent may pass a new onSelect on each of its renders; the columns (and memoised cells) keep one.
  const onSelectRef = useRef(onSelect);
  onSelectRef.current = onSelect;
  const showDetails = useCallback((row: InstanceRow) => onSelectRef.current(row), []);
  const { toggleFavourite } = inventory;
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
  const updatePrefs = (next: TablePreferences) => {
    setTablePrefs(next);
    savePreferences(next);
  };
  const total = rows.length;
  const accountsCount = inventory.accounts?.length ?? 0;

  return (
    // data-filtered-text: the typed text the table on screen is filtered by (the bench waits for it).
    <div className="instances-view" data-filtered-text={typing}>
      <SpaceBetween size="s">
        {inventory.error && (
          <Alert
            type="error"
            header="The instances could not be loaded"
            data-testid="inventory-error"
            action={<Button onClick={() => void inventory.reload(true)}>Retry</Button>}
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
      <Table<InstanceRow>
        {...collectionProps}
        items={items}
        columnDefinitions={columns}
        columnDisplay={tablePrefs.contentDisplay}
        resizableColumns
        onColumnWidthsChange={({ detail }) => {
          const widths: Record<string, number> = {};
          tablePrefs.contentDisplay
            .filter((c) => c.visible)
            .forEach((c, i) => {
              const w = detail.widths[i];
              if (w) widths[c.id] = w;
            });
          updatePrefs({ ...tablePrefs, widths: { ...tablePrefs.widths, ...widths } });
        }}
        trackBy="key"
        variant="full-page"
        stickyHeader
        stickyColumns={{ first: 0, last: 1 }}
        ariaLabels={{ tableLabel: 'Instances' }}
        loading={loading && total === 0}
        loadingText="Loading instances"
        empty={
          total === 0 ? (
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
                <Button onClick={clear}>Clear filter</Button>
              </Box>
            </Box>
          )
        }
        header={
          <Header
            variant="awsui-h1-sticky"
            counter={
              filtered.length !== total
                ? `(${filtered.length.toLocaleString('en-US')}/${total.toLocaleString('en-US')})`
                : `(${total.toLocaleString('en-US')}${loading ? '…' : ''})`
            }
            description={`Every instance your permission sets reach, in ${accountsCount.toLocaleString('en-US')} account${accountsCount === 1 ? '' : 's'}.`}
            actions={
              <SpaceBetween direction="horizontal" size="xs">
                <Button onClick={onQuickConnect}>
                  Quick connect <span className="kbd">Ctrl+K</span>
                </Button>
                <Button
                  iconName="refresh"
                  ariaLabel="Refresh instances"
                  loading={loading}
                  onClick={() => void inventory.reload(true)}
                />
              </SpaceBetween>
            }
          >
            Instances
          </Header>
        }
        filter={
          <div
            className="instances-filter"
            onInput={(e) => {
              const value = (e.target as HTMLInputElement).value ?? '';
              // Not a transition: measured, deferring the table cost a frame more to the filtered paint.
              setTyping(value);
            }}
          >
            <PropertyFilter
              query={query}
              onChange={({ detail }) => {
                setQuery(detail);
                setTyping('');
              }}
              filteringProperties={filteringProperties}
              filteringOptions={options}
              filteringPlaceholder="Find instances by name, ID, tag, account, region, user…"
              filteringAriaLabel="Filter instances"
              countText={`${filtered.length.toLocaleString('en-US')} match${filtered.length === 1 ? '' : 'es'}`}
              customControl={
                <SegmentedControl
                  label="Show"
                  selectedId={scope}
                  onChange={({ detail }) => setScope(detail.selectedId as Scope)}
                  options={[
                    { id: 'all', text: 'All' },
                    { id: 'favourites', text: 'Favourites' },
                    { id: 'recent', text: 'Recent' },
                  ]}
                />
              }
              expandToViewport
              i18nStrings={{ clearFiltersText: 'Clear filters' }}
            />
          </div>
        }
        pagination={
          <Pagination
            {...paginationProps}
            ariaLabels={{
              nextPageLabel: 'Next page',
              previousPageLabel: 'Previous page',
              pageLabel: (n) => `Page ${n}`,
            }}
          />
        }
        preferences={
          <CollectionPreferences
            title="Preferences"
            confirmLabel="Confirm"
            cancelLabel="Cancel"
            preferences={{ pageSize: tablePrefs.pageSize, contentDisplay: tablePrefs.contentDisplay }}
            onConfirm={({ detail }) =>
              updatePrefs({
                ...tablePrefs,
                pageSize: detail.pageSize ?? tablePrefs.pageSize,
                contentDisplay: [...(detail.contentDisplay ?? tablePrefs.contentDisplay)],
              })
            }
            pageSizePreference={{
              title: 'Instances per page',
              options: [
                { value: 10, label: '10' },
                { value: 20, label: '20' },
                { value: 50, label: '50' },
                { value: 100, label: '100' },
              ],
            }}
            contentDisplayPreference={{
              title: 'Columns',
              options: Object.entries(columnLabels).map(([id, label]) => ({
                id,
                label,
                alwaysVisible: id === 'name' || id === 'connect',
              })),
            }}
          />
        }
      />
    </div>
  );
}
