/** Handlers for the browse calls (`app/api/calls/browse.ts`). Credentials stay in here. */
import type { AllTargets } from '../api/calls/browse';
import type { CallHandlers } from '../api/dispatch';
import { ApiError } from '../api/errors';
import type { AppContext } from '../appContext';
import { identityCenterFor, type IdentityCenterOptions } from '../auth/identityCenter';
import { mapWithConcurrency } from '../portal/backoff';
import { listBrokerTargets } from './brokerTargets';
import { listDirectTargets } from './directTargets';
import { PreferencesStore, type PreferencesOwner } from './preferences';
import type { TargetList } from './types';

/** How many permission sets' instances load at once in "load all". */
const TARGET_CONCURRENCY = 4;

export function createBrowseHandlers(
  ctx: AppContext,
  options: IdentityCenterOptions = {},
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
  const center = identityCenterFor(ctx, options);
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

  async function listTargets(accountId: string, permissionSet: string, refresh = false): Promise<TargetList> {
    const connection = await center.current();
    const identity = `${connection.key}#${connection.generation}`;
    if (identity !== cacheKey) {
      cacheKey = identity;
      targetLists.clear();
    }
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
      const { portal } = await center.current();
      const all = await portal.listAllPermissionSets((p) =>
        ctx.emit('browse.progress', {
          phase: 'permissionSets',
          loaded: p.accountsLoaded,
          total: p.accountsTotal,
        }),
      );
      const pairs = [...all.values()].flat();
      let loaded = 0;
      const result: AllTargets = { lists: [], failures: [] };
      const lists = await mapWithConcurrency(pairs, TARGET_CONCURRENCY, async (pair) => {
        try {
          const list = await listTargets(pair.accountId, pair.permissionSet, refresh);
          ctx.emit('browse.targets', list);
          return list;
        } catch (error) {
          // Sign-in problems stop everything; one refusing permission set does not.
          if (error instanceof ApiError && (error.code === 'SignInExpired' || error.code === 'NotSignedIn'))
            throw error;
          result.failures.push({
            ...pair,
            message: error instanceof ApiError ? error.message : 'Could not list the instances.',
          });
          if (!(error instanceof ApiError)) ctx.log('listing targets failed', error);
          return undefined;
        } finally {
          ctx.emit('browse.progress', { phase: 'targets', loaded: ++loaded, total: pairs.length });
        }
      });
      for (const list of lists) if (list) result.lists.push(list);
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
