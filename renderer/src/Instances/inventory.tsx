/**
 * Every instance of every loaded account, shared by the instance table, the
 * quick-connect palette and the status bar. "Load all" is one app-core call;
 * each (account, permission set) arrives as a `browse.targets` event, and
 * arrivals are applied at most once per animation frame so rows appear as they
 * come without re-rendering per event.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';
import type { Account, BrowsePreferences, BrowseProgress, TargetList } from '../../../app/api/calls/browse';
import { ApiError, call, errorMessage, on } from '../bridge';
import { indexInstance, type IndexedInstance } from './filter';
import {
  accountWithoutRoleShell,
  instanceKey,
  mergeLists,
  savedTarget,
  type Access,
  type InstanceRow,
} from './model';

export interface ListFailure {
  accountId: string;
  accountName: string;
  permissionSet: string;
  message: string;
}

export interface Inventory {
  accounts: Account[] | null;
  /** Why the whole load failed (sign-in, network), or null. */
  error: string | null;
  loading: boolean;
  progress: BrowseProgress | null;
  rows: InstanceRow[];
  indexed: IndexedInstance[];
  /** Permission sets that could not be listed, except accounts without RoleShell. */
  failures: ListFailure[];
  /** Accounts with no RoleShell member role: a notice, not an error. */
  withoutRoleShell: Account[];
  prefs: BrowsePreferences;
  favouriteKeys: ReadonlySet<string>;
  reload(refresh?: boolean): Promise<void>;
  toggleFavourite(row: InstanceRow, access: Access): Promise<void>;
  recordRecent(row: InstanceRow, access: Access): Promise<void>;
}

/** Name, then instance ID: the table's order before the user sorts (sorting once here keeps keystrokes cheap). */
function byName(items: IndexedInstance[]): IndexedInstance[] {
  return items.sort(
    (a, b) => a.row.name.localeCompare(b.row.name) || a.row.instanceId.localeCompare(b.row.instanceId),
  );
}

const InventoryContext = createContext<Inventory | null>(null);

/**
 * Below it, the inventory as it was when `frozen` became true, until it is false again: a hidden screen that
 * stays mounted is not rendered again for each change while nobody sees it, and catches up once when shown.
 */
export function FrozenInventory({ frozen, children }: { frozen: boolean; children: React.ReactNode }) {
  const inventory = useInventory();
  const shown = useRef(inventory);
  if (!frozen) shown.current = inventory;
  return <InventoryContext.Provider value={shown.current}>{children}</InventoryContext.Provider>;
}

export function useInventory(): Inventory {
  const inventory = useContext(InventoryContext);
  if (!inventory) throw new Error('useInventory outside InventoryProvider');
  return inventory;
}

export function InventoryProvider({
  signedIn,
  signedOut,
  authEpoch,
  onProblem,
  children,
}: {
  signedIn: boolean;
  /** Signed out (not merely lapsed): what the previous identity could see is dropped. */
  signedOut: boolean;
  /** Changes on every new sign-in: what failed for lack of a token is loaded again. */
  authEpoch: number;
  onProblem: (message: string) => void;
  children: React.ReactNode;
}) {
  const [accounts, setAccounts] = useState<Account[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [progress, setProgress] = useState<BrowseProgress | null>(null);
  const [failures, setFailures] = useState<Omit<ListFailure, 'accountName'>[]>([]);
  const [prefs, setPrefs] = useState<BrowsePreferences>({ favourites: [], recents: [] });
  const [snapshot, setSnapshot] = useState<{ rows: InstanceRow[]; indexed: IndexedInstance[] }>({
    rows: [],
    indexed: [],
  });
  const rowsRef = useRef(new Map<string, InstanceRow>());
  const indexRef = useRef(new Map<string, IndexedInstance>());
  const pending = useRef<TargetList[]>([]);
  const frame = useRef<number | null>(null);
  const loadId = useRef(0);

  const flush = useCallback(() => {
    frame.current = null;
    const lists = pending.current;
    pending.current = [];
    if (lists.length === 0) return;
    const before = rowsRef.current;
    const after = mergeLists(lists, before);
    for (const list of lists)
      for (const target of list.rows) {
        const key = instanceKey(target);
        indexRef.current.set(key, indexInstance(after.get(key)!));
      }
    rowsRef.current = after;
    setSnapshot({ rows: [...after.values()], indexed: byName([...indexRef.current.values()]) });
  }, []);

  const arrive = useCallback(
    (list: TargetList) => {
      pending.current.push(list);
      frame.current ??= requestAnimationFrame(flush);
    },
    [flush],
  );

  useEffect(() => {
    const offTargets = on('browse.targets', arrive);
    const offProgress = on('browse.progress', (p) => setProgress(p.phase === 'accounts' ? null : p));
    return () => {
      offTargets();
      offProgress();
      if (frame.current !== null) cancelAnimationFrame(frame.current);
    };
  }, [arrive]);

  const reload = useCallback(
    async (refresh = false) => {
      const id = ++loadId.current;
      setLoading(true);
      setError(null);
      try {
        const listed = await call('browse.listAccounts', { refresh });
        if (id !== loadId.current) return;
        setAccounts(listed);
        if (refresh) {
          rowsRef.current = new Map();
          indexRef.current = new Map();
          setSnapshot({ rows: [], indexed: [] });
        }
        const all = await call('browse.loadAllTargets', { refresh });
        if (id !== loadId.current) return;
        // Whatever the events did not deliver (e.g. a cached list) is in the answer.
        for (const list of all.lists) arrive(list);
        setFailures(all.failures);
      } catch (e) {
        if (id !== loadId.current) return;
        const signIn = e instanceof ApiError && (e.code === 'SignInExpired' || e.code === 'NotSignedIn');
        // A sign-in problem is shown by the sign-in prompt; do not say it twice.
        setError(signIn ? null : errorMessage(e));
      } finally {
        if (id === loadId.current) {
          setLoading(false);
          setProgress(null);
        }
      }
    },
    [arrive],
  );

  useEffect(() => {
    if (!signedIn) return;
    void reload();
    call('browse.getPreferences').then(setPrefs, (e: unknown) => onProblem(errorMessage(e)));
    // Only a new sign-in triggers this.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [authEpoch, signedIn]);

  useEffect(() => {
    if (!signedOut) return;
    loadId.current++;
    pending.current = [];
    rowsRef.current = new Map();
    indexRef.current = new Map();
    setSnapshot({ rows: [], indexed: [] });
    setAccounts(null);
    setFailures([]);
    setError(null);
    setPrefs({ favourites: [], recents: [] });
  }, [signedOut]);

  const toggleFavourite = useCallback(
    async (row: InstanceRow, access: Access) => {
      const keys = new Set(row.access.map((a) => a.targetKey));
      const current = prefs.favourites.filter((f) => keys.has(f.key));
      try {
        if (current.length > 0) {
          let next = prefs;
          for (const { at: _at, ...target } of current)
            next = await call('browse.setFavourite', { target, favourite: false });
          setPrefs(next);
        } else {
          setPrefs(await call('browse.setFavourite', { target: savedTarget(row, access), favourite: true }));
        }
      } catch (e) {
        onProblem(errorMessage(e));
      }
    },
    [prefs, onProblem],
  );

  const recordRecent = useCallback(
    async (row: InstanceRow, access: Access) => {
      try {
        setPrefs(await call('browse.recordRecent', { target: savedTarget(row, access) }));
      } catch (e) {
        onProblem(errorMessage(e));
      }
    },
    [onProblem],
  );

  const value = useMemo<Inventory>(() => {
    const names = new Map((accounts ?? []).map((a) => [a.accountId, a]));
    const notSetUp = new Map<string, Account>();
    const other: ListFailure[] = [];
    for (const f of failures) {
      const account = names.get(f.accountId) ?? { accountId: f.accountId, accountName: f.accountId };
      if (accountWithoutRoleShell(f.message) === f.accountId) notSetUp.set(f.accountId, account);
      else other.push({ ...f, accountName: account.accountName });
    }
    const favouriteKeys = new Set<string>();
    for (const f of prefs.favourites) favouriteKeys.add(instanceKey(f));
    return {
      accounts,
      error,
      loading,
      progress,
      rows: snapshot.rows,
      indexed: snapshot.indexed,
      failures: other,
      withoutRoleShell: [...notSetUp.values()],
      prefs,
      favouriteKeys,
      reload,
      toggleFavourite,
      recordRecent,
    };
  }, [accounts, error, loading, progress, failures, prefs, reload, toggleFavourite, recordRecent, snapshot]);

  return <InventoryContext.Provider value={value}>{children}</InventoryContext.Provider>;
}
