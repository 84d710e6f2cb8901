/** Handlers for the browse calls (`app/api/calls/browse.ts`). Credentials stay in here. */
import type { AllTargets } from '../api/calls/browse';
import type { CallHandlers } from '../api/dispatch';
import { ApiError } from '../api/errors';
import type { AppContext } from '../appContext';
import { type IdentityCenter } from '../auth/identityCenter';
import { mapWithConcurrency } from '../portal/backoff';
import { listBrokerTargets } from './brokerTargets';
import { listDirectTargets } from './directTargets';
import { loadAllBrokerTargets, stopsEverything } from './loadAllBroker';
import { coalescedProgress } from './progress';
import { PreferencesStore, type PreferencesOwner } from './preferences';
import type { TargetList } from './types';

/** How many permission sets' instances load at once in "load all" in direct mode (broker mode batches). */
const TARGET_CONCURRENCY = 4;

export function createBrowseHandlers(
  ctx: AppContext,
  center: IdentityCenter,
): Pick<
  CallHandlers,
  | 'browse.listAccounts'
  | 'browse.listPermissionSets'
  | 'browse.listTargets'
  | 'browse.loadAllTargets'
  | 'browse.getPreferences'
  | 'browse.setFavourite'
  | 'browse.recordRecent'
> {
  const preferences = new PreferencesStore(ctx.dataDir);
  // Per connection and signed-in identity: a new start URL, endpoint, sign-out or sign-in starts a new cache.
  let cacheKey = '';
  const targetLists = new Map<string, Promise<TargetList>>();

  /** Whose favourites and recents these are: the signed-in (start URL, IdC user). */
  async function ownerOf(required: boolean): Promise<PreferencesOwner | undefined> {
    const connection = await center.current();
    if (connection.session.state.status !== 'signedIn') {
      if (required) throw new ApiError('NotSignedIn', 'Sign in to continue.');
      return undefined;
    }
    const userName = await center.idcUserOf(connection);
    if (!userName && required)
      throw new ApiError(
        'Unavailable',
        'RoleShell could not tell which IAM Identity Center user is signed in (no account is assigned), so it cannot keep favourites.',
      );
    return userName ? { startUrl: connection.config.startUrl, userName } : undefined;
  }

  /** Drops the cached lists when the connection or the signed-in identity changed. */
  function keepCacheFor(connection: { key: string; generation: number }): void {
    const identity = `${connection.key}#${connection.generation}`;
    if (identity !== cacheKey) {
      cacheKey = identity;
      targetLists.clear();
    }
  }

  async function listTargets(accountId: string, permissionSet: string, refresh = false): Promise<TargetList> {
    const connection = await center.current();
    keepCacheFor(connection);
    const key = `${accountId}/${permissionSet}`;
    if (!refresh && targetLists.has(key)) return targetLists.get(key)!;
    const loading = (async () => {
      const { config, portal, broker } = connection;
      const accounts = await portal.listAccounts();
      const account = accounts.find((a) => a.accountId === accountId);
      if (!account)
        throw new ApiError(
          'NotFound',
          `You have no access to account ${accountId}. Refresh the account list.`,
        );
      const credentials = await portal.roleCredentials(accountId, permissionSet);
      const common = {
        credentials,
        accountId,
        accountName: account.accountName,
        permissionSet,
        regions: config.regions,
      };
      if (config.mode === 'broker') {
        if (!broker)
          throw new ApiError(
            'Unavailable',
            'Broker mode needs the broker ARN in Settings (or switch to direct mode).',
          );
        return listBrokerTargets({ ...common, broker });
      }
      return listDirectTargets({
        ...common,
        ...(config.endpoint ? { endpoint: config.endpoint } : {}),
        log: ctx.log,
      });
    })();
    targetLists.set(key, loading);
    loading.catch(() => {
      if (targetLists.get(key) === loading) targetLists.delete(key);
    });
    return loading;
  }

  return {
    async 'browse.listAccounts'({ refresh }) {
      const { portal } = await center.current();
      if (refresh) targetLists.clear();
      ctx.emit('browse.progress', { phase: 'accounts', loaded: 0, total: 0 });
      const accounts = await portal.listAccounts({ refresh: !!refresh });
      ctx.emit('browse.progress', { phase: 'accounts', loaded: accounts.length, total: accounts.length });
      return accounts;
    },
    async 'browse.listPermissionSets'({ accountId, refresh }) {
      const { portal } = await center.current();
      const sets = await portal.listPermissionSets(accountId, { refresh: !!refresh });
      return sets.map((s) => s.permissionSet);
    },
    'browse.listTargets': ({ accountId, permissionSet, refresh }) =>
      listTargets(accountId, permissionSet, refresh),
    async 'browse.loadAllTargets'({ refresh }) {
      const connection = await center.current();
      const { portal, config, broker } = connection;
      const permissionSetProgress = coalescedProgress<{ loaded: number; total: number }>((p) =>
        ctx.emit('browse.progress', { phase: 'permissionSets', ...p }),
      );
      const all = await portal
        .listAllPermissionSets((p) =>
          permissionSetProgress.update({ loaded: p.accountsLoaded, total: p.accountsTotal }),
        )
        .finally(() => permissionSetProgress.flush());
      const pairs = [...all.values()].flat();
      const targetProgress = coalescedProgress<{ loaded: number; total: number }>((p) =>
        ctx.emit('browse.progress', { phase: 'targets', ...p }),
      );
      let loaded = 0;
      const result: AllTargets = { lists: [], failures: [] };
      const outcomes = new Map<string, TargetList | Error>();
      const record = (pair: { accountId: string; permissionSet: string }, outcome: TargetList | Error) => {
        outcomes.set(`${pair.accountId}/${pair.permissionSet}`, outcome);
        // Each list is announced as it arrives, so the renderer shows rows before the whole load ends.
        if (!(outcome instanceof Error)) ctx.emit('browse.targets', outcome);
        targetProgress.update({ loaded: ++loaded, total: pairs.length });
      };
      try {
        if (config.mode === 'broker' && broker) {
          keepCacheFor(connection);
          const accountNames = new Map(
            (await portal.listAccounts()).map((a) => [a.accountId, a.accountName]),
          );
          const cached = refresh
            ? []
            : pairs.filter((p) => targetLists.has(`${p.accountId}/${p.permissionSet}`));
          for (const pair of cached) {
            const list = await targetLists
              .get(`${pair.accountId}/${pair.permissionSet}`)!
              .catch((e: unknown) => e);
            record(pair, list instanceof Error ? list : (list as TargetList));
          }
          await loadAllBrokerTargets({
            broker,
            pairs: refresh ? pairs : pairs.filter((p) => !cached.includes(p)),
            regions: config.regions,
            credentialsFor: (pair) => portal.roleCredentials(pair.accountId, pair.permissionSet),
            accountName: (id) => accountNames.get(id) ?? id,
            onOutcome: (pair, outcome) => {
              // Later single listings of the pair come from this load.
              if (!(outcome instanceof Error))
                targetLists.set(`${pair.accountId}/${pair.permissionSet}`, Promise.resolve(outcome));
              record(pair, outcome);
            },
          });
        } else {
          await mapWithConcurrency(pairs, TARGET_CONCURRENCY, async (pair) => {
            try {
              record(pair, await listTargets(pair.accountId, pair.permissionSet, refresh));
            } catch (error) {
              if (stopsEverything(error)) throw error;
              record(pair, error instanceof Error ? error : new Error(String(error)));
            }
          });
        }
      } finally {
        targetProgress.flush();
      }
      for (const pair of pairs) {
        const outcome = outcomes.get(`${pair.accountId}/${pair.permissionSet}`);
        if (outcome === undefined) continue;
        if (!(outcome instanceof Error)) {
          result.lists.push(outcome);
          continue;
        }
        // One refusing permission set does not stop the others.
        result.failures.push({
          ...pair,
          message: outcome instanceof ApiError ? outcome.message : 'Could not list the instances.',
        });
        if (!(outcome instanceof ApiError)) ctx.log('listing targets failed', outcome);
      }
      return result;
    },
    async 'browse.getPreferences'() {
      const owner = await ownerOf(false);
      return owner ? preferences.get(owner) : { favourites: [], recents: [] };
    },
    async 'browse.setFavourite'({ target, favourite }) {
      return preferences.setFavourite((await ownerOf(true))!, target, favourite);
    },
    async 'browse.recordRecent'({ target }) {
      return preferences.recordRecent((await ownerOf(true))!, target);
    },
  };
}
