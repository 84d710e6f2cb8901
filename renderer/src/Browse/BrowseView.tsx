/**
 * Accounts → permission sets → instances. Selection and loaded data live here
 * and survive a "sign in again" prompt: when the sign-in comes back
 * (`authEpoch` changes) whatever failed for lack of a token is loaded again and
 * the user is where they were.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import type {
  Account,
  BrowsePreferences,
  BrowseProgress,
  SavedTarget,
  TargetList,
  TargetRow,
} from '../../../app/api/calls/browse';
import { ApiError, call, errorMessage, on } from '../bridge';
import { useShell } from '../shell';
import { filterRows, indexRows } from './filter';
import { TargetTable } from './TargetTable';
import { useSessions } from '../Terminal';

type Loadable<T> =
  { status: 'loading' } | { status: 'ok'; value: T } | { status: 'error'; message: string; code: string };

const listKey = (accountId: string, permissionSet: string) => `${accountId}/${permissionSet}`;

function failed(error: unknown): { status: 'error'; message: string; code: string } {
  return {
    status: 'error',
    message: errorMessage(error),
    code: error instanceof ApiError ? error.code : 'Internal',
  };
}

function saved(row: TargetRow): Omit<SavedTarget, 'at'> {
  return {
    key: row.key,
    accountId: row.accountId,
    accountName: row.accountName,
    permissionSet: row.permissionSet,
    region: row.region,
    instanceId: row.instanceId,
    name: row.name,
    linuxUser: row.linuxUser,
  };
}

export function BrowseView({ authEpoch }: { authEpoch: number }) {
  const { setStatus, navigate } = useShell();
  const sessions = useSessions();
  const [accounts, setAccounts] = useState<Loadable<Account[]>>({ status: 'loading' });
  const [accountFilter, setAccountFilter] = useState('');
  const [selectedAccount, setSelectedAccount] = useState<string | null>(null);
  const [selectedSet, setSelectedSet] = useState<string | null>(null);
  const [permissionSets, setPermissionSets] = useState<Record<string, Loadable<string[]>>>({});
  const [lists, setLists] = useState<Record<string, Loadable<TargetList>>>({});
  const [filter, setFilter] = useState('');
  const [prefs, setPrefs] = useState<BrowsePreferences>({ favourites: [], recents: [] });
  const [progress, setProgress] = useState<BrowseProgress | null>(null);
  const [loadAllProblem, setLoadAllProblem] = useState<string | null>(null);

  const loadAccounts = useCallback(async (refresh = false) => {
    setAccounts({ status: 'loading' });
    try {
      setAccounts({ status: 'ok', value: await call('browse.listAccounts', { refresh }) });
      if (refresh) {
        setPermissionSets({});
        setLists({});
      }
    } catch (error) {
      setAccounts(failed(error));
    }
  }, []);

  const loadPermissionSets = useCallback(async (accountId: string) => {
    setPermissionSets((p) => ({ ...p, [accountId]: { status: 'loading' } }));
    try {
      const value = await call('browse.listPermissionSets', { accountId });
      setPermissionSets((p) => ({ ...p, [accountId]: { status: 'ok', value } }));
    } catch (error) {
      setPermissionSets((p) => ({ ...p, [accountId]: failed(error) }));
    }
  }, []);

  const loadTargets = useCallback(async (accountId: string, permissionSet: string, refresh = false) => {
    const key = listKey(accountId, permissionSet);
    setLists((l) => ({ ...l, [key]: { status: 'loading' } }));
    try {
      const value = await call('browse.listTargets', { accountId, permissionSet, refresh });
      setLists((l) => ({ ...l, [key]: { status: 'ok', value } }));
    } catch (error) {
      setLists((l) => ({ ...l, [key]: failed(error) }));
    }
  }, []);

  useEffect(() => {
    const off = on('browse.progress', setProgress);
    call('browse.getPreferences').then(setPrefs, (e: unknown) => setStatus(errorMessage(e)));
    return off;
  }, [setStatus]);

  // On mount, and whenever the sign-in comes back: reload what is missing, keep the selection.
  useEffect(() => {
    void loadAccounts();
    if (selectedAccount) {
      const sets = permissionSets[selectedAccount];
      if (!sets || sets.status === 'error') void loadPermissionSets(selectedAccount);
      if (selectedSet) {
        const list = lists[listKey(selectedAccount, selectedSet)];
        if (!list || list.status === 'error') void loadTargets(selectedAccount, selectedSet);
      }
    }
    // Only the sign-in epoch triggers this; the selection is read as it is at that moment.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [authEpoch]);

  function selectAccount(accountId: string) {
    setSelectedAccount(accountId);
    setSelectedSet(null);
    const sets = permissionSets[accountId];
    if (!sets || sets.status === 'error') void loadPermissionSets(accountId);
  }

  function selectSet(accountId: string, permissionSet: string) {
    setSelectedAccount(accountId);
    setSelectedSet(permissionSet);
    if (!permissionSets[accountId]) void loadPermissionSets(accountId);
    const list = lists[listKey(accountId, permissionSet)];
    if (!list || list.status === 'error') void loadTargets(accountId, permissionSet);
  }

  async function loadAll() {
    setLoadAllProblem(null);
    try {
      const all = await call('browse.loadAllTargets', {});
      const next: Record<string, Loadable<TargetList>> = {};
      for (const list of all.lists)
        next[listKey(list.accountId, list.permissionSet)] = { status: 'ok', value: list };
      for (const f of all.failures)
        next[listKey(f.accountId, f.permissionSet)] = {
          status: 'error',
          message: f.message,
          code: 'Unavailable',
        };
      setLists((l) => ({ ...l, ...next }));
      if (all.failures.length)
        setLoadAllProblem(
          `${all.failures.length} permission set(s) could not be listed; select one to see why.`,
        );
    } catch (error) {
      setLoadAllProblem(errorMessage(error));
    } finally {
      setProgress(null);
    }
  }

  async function toggleFavourite(row: TargetRow | SavedTarget) {
    const isFavourite = prefs.favourites.some((f) => f.key === row.key);
    const target = 'pingStatus' in row ? saved(row) : { ...row, at: undefined };
    delete (target as { at?: number }).at;
    try {
      setPrefs(await call('browse.setFavourite', { target, favourite: !isFavourite }));
    } catch (error) {
      setStatus(errorMessage(error));
    }
  }

  const allRows = useMemo(() => {
    const rows: TargetRow[] = [];
    for (const entry of Object.values(lists)) if (entry.status === 'ok') rows.push(...entry.value.rows);
    return rows;
  }, [lists]);
  const indexed = useMemo(() => indexRows(allRows), [allRows]);
  const selectedList =
    selectedAccount && selectedSet ? lists[listKey(selectedAccount, selectedSet)] : undefined;
  const filtering = filter.trim() !== '';
  const shownRows = useMemo(() => {
    if (filtering) return filterRows(indexed, filter);
    if (selectedList?.status === 'ok') return selectedList.value.rows;
    return selectedSet ? [] : allRows;
  }, [filtering, indexed, filter, selectedList, selectedSet, allRows]);
  const favouriteKeys = useMemo(() => new Set(prefs.favourites.map((f) => f.key)), [prefs]);

  const accountList = accounts.status === 'ok' ? accounts.value : [];
  const visibleAccounts = accountFilter.trim()
    ? accountList.filter((a) =>
        `${a.accountName} ${a.accountId}`.toLowerCase().includes(accountFilter.trim().toLowerCase()),
      )
    : accountList;
  const account = accountList.find((a) => a.accountId === selectedAccount);
  const sets = selectedAccount ? permissionSets[selectedAccount] : undefined;

  return (
    <div className="browse">
      <aside className="browse-side">
        {prefs.favourites.length > 0 && (
          <section aria-label="Favourites" data-testid="favourites">
            <h2>Favourites</h2>
            <ul className="saved-list">
              {prefs.favourites.map((f) => (
                <li key={f.key}>
                  <button
                    type="button"
                    onClick={() => selectSet(f.accountId, f.permissionSet)}
                    title={`${f.accountName} · ${f.permissionSet}`}
                  >
                    ★ {f.name} <span className="muted">as {f.linuxUser ?? 'unknown'}</span>
                  </button>
                </li>
              ))}
            </ul>
          </section>
        )}
        {prefs.recents.length > 0 && (
          <section aria-label="Recent connections">
            <h2>Recent</h2>
            <ul className="saved-list">
              {prefs.recents.slice(0, 5).map((r) => (
                <li key={r.key}>
                  <button type="button" onClick={() => selectSet(r.accountId, r.permissionSet)}>
                    {r.name} <span className="muted">as {r.linuxUser ?? 'unknown'}</span>
                  </button>
                </li>
              ))}
            </ul>
          </section>
        )}
        <section aria-label="Accounts" className="accounts">
          <div className="accounts-head">
            <h2>
              Accounts {accounts.status === 'ok' && <span className="muted">({accountList.length})</span>}
            </h2>
            <button
              type="button"
              onClick={() => void loadAccounts(true)}
              title="Reload accounts and permission sets from IAM Identity Center"
            >
              Refresh
            </button>
          </div>
          <input
            type="search"
            placeholder="Filter accounts"
            aria-label="Filter accounts"
            value={accountFilter}
            onChange={(e) => setAccountFilter(e.target.value)}
          />
          {accounts.status === 'loading' && <p className="muted">Loading accounts…</p>}
          {accounts.status === 'error' && (
            <p className="error-text" role="alert">
              {accounts.message}
            </p>
          )}
          {accounts.status === 'ok' && accountList.length === 0 && (
            <p className="muted">You are not assigned to any AWS account in IAM Identity Center.</p>
          )}
          <ul className="account-list" data-testid="account-list">
            {visibleAccounts.map((a) => (
              <li key={a.accountId}>
                <button
                  type="button"
                  className="account"
                  aria-expanded={a.accountId === selectedAccount}
                  onClick={() => selectAccount(a.accountId)}
                >
                  <span className="account-name">{a.accountName}</span>{' '}
                  <span className="muted mono">{a.accountId}</span>
                </button>
                {a.accountId === selectedAccount && (
                  <PermissionSetList
                    sets={sets}
                    selected={selectedSet}
                    onSelect={(ps) => selectSet(a.accountId, ps)}
                    onRetry={() => void loadPermissionSets(a.accountId)}
                  />
                )}
              </li>
            ))}
          </ul>
        </section>
      </aside>
      <section className="browse-main" aria-label="Instances">
        <div className="browse-toolbar">
          <input
            type="search"
            className="filter"
            placeholder={`Filter ${allRows.length} loaded instances (name, id, user, region…)`}
            aria-label="Filter instances"
            value={filter}
            onChange={(e) => setFilter(e.target.value)}
          />
          <button
            type="button"
            onClick={() => void loadAll()}
            disabled={!!progress && progress.phase !== 'accounts'}
          >
            Load all instances
          </button>
        </div>
        {progress && progress.phase !== 'accounts' && (
          <p className="muted" role="status">
            Loading {progress.phase === 'permissionSets' ? 'permission sets' : 'instances'}: {progress.loaded}{' '}
            / {progress.total}
          </p>
        )}
        {loadAllProblem && <p className="notice">{loadAllProblem}</p>}
        {!filtering && account && selectedSet && (
          <TargetHeader
            accountName={account.accountName}
            permissionSet={selectedSet}
            list={selectedList}
            onRefresh={() => void loadTargets(account.accountId, selectedSet, true)}
          />
        )}
        {filtering && (
          <p className="muted" data-testid="filter-count">
            {shownRows.length} of {allRows.length} loaded instances match.
          </p>
        )}
        {!filtering && !selectedSet && allRows.length === 0 && (
          <p className="muted">Pick an account and a permission set, or load all instances.</p>
        )}
        {shownRows.length > 0 && (
          <TargetTable
            rows={shownRows}
            favourites={favouriteKeys}
            onToggleFavourite={(row) => void toggleFavourite(row)}
            onConnect={(row) => {
              sessions.connect({
                accountId: row.accountId,
                accountName: row.accountName,
                permissionSet: row.permissionSet,
                linuxUser: row.linuxUser ?? '',
                region: row.region,
                instanceId: row.instanceId,
                instanceName: row.name,
              });
              navigate('sessions');
            }}
            showContext={filtering || !selectedSet}
          />
        )}
      </section>
    </div>
  );
}

function PermissionSetList({
  sets,
  selected,
  onSelect,
  onRetry,
}: {
  sets: Loadable<string[]> | undefined;
  selected: string | null;
  onSelect: (permissionSet: string) => void;
  onRetry: () => void;
}) {
  if (!sets || sets.status === 'loading') return <p className="muted nested">Loading permission sets…</p>;
  if (sets.status === 'error')
    return (
      <p className="error-text nested" role="alert">
        {sets.message}{' '}
        <button type="button" onClick={onRetry}>
          Retry
        </button>
      </p>
    );
  if (sets.value.length === 0)
    return <p className="muted nested">You have no permission sets in this account.</p>;
  return (
    <ul className="permission-sets" aria-label="Permission sets" data-testid="permission-sets">
      {sets.value.map((ps) => (
        <li key={ps}>
          <button
            type="button"
            aria-current={ps === selected ? 'true' : undefined}
            onClick={() => onSelect(ps)}
          >
            {ps}
          </button>
        </li>
      ))}
    </ul>
  );
}

function TargetHeader({
  accountName,
  permissionSet,
  list,
  onRefresh,
}: {
  accountName: string;
  permissionSet: string;
  list: Loadable<TargetList> | undefined;
  onRefresh: () => void;
}) {
  return (
    <div className="target-header" data-testid="target-header">
      <div>
        <strong>{accountName}</strong> › <strong>{permissionSet}</strong>
        {list?.status === 'ok' && (
          <span>
            {' '}
            — sessions run as{' '}
            <strong className="linux-user" data-testid="linux-user">
              {list.value.linuxUser ?? 'unknown (the session document is not readable)'}
            </strong>
            {list.value.mode === 'direct' && <span className="muted"> (direct mode)</span>}
          </span>
        )}
        <button type="button" onClick={onRefresh}>
          Refresh
        </button>
      </div>
      {(!list || list.status === 'loading') && <p className="muted">Loading instances…</p>}
      {list?.status === 'error' && (
        <p className="error-text" role="alert" data-testid="targets-error">
          {list.message}
        </p>
      )}
      {list?.status === 'ok' && list.value.rows.length === 0 && (
        <p className="muted">No instances are tagged for {permissionSet} in this account&apos;s regions.</p>
      )}
    </div>
  );
}
