/**
 * The IdC portal (sso): accounts, the permission sets in each, and their role
 * credentials. Built for users with hundreds of accounts: full pagination, at
 * most `concurrency` requests in flight, and full-jitter backoff on
 * TooManyRequestsException so a 1,000-account listing completes instead of
 * failing on the first 429. GetRoleCredentials calls from every caller share
 * one limit (`credentialConcurrency`), so "load all" can ask for thousands at
 * once and the portal still sees a bounded number in flight. Lists are cached
 * for the session until an explicit refresh; credentials until 5 minutes
 * before they expire.
 */
import {
  GetRoleCredentialsCommand,
  ListAccountRolesCommand,
  ListAccountsCommand,
  type SSOClient,
} from '@aws-sdk/client-sso';
import { ApiError } from '../api/errors';
import { systemClock, type Clock } from '../auth/clock';
import { createLimiter, mapWithConcurrency, withBackoff } from './backoff';
import type { AccessTokenSource, Account, AccountPermissionSet, RoleCredentials } from './types';

export const CREDENTIALS_MARGIN_MS = 5 * 60_000;
const PAGE_SIZE = 100;
/** GetRoleCredentials in flight at once (each still backs off on 429 on its own). */
export const DEFAULT_CREDENTIAL_CONCURRENCY = 8;

export interface PortalOptions {
  sso: Pick<SSOClient, 'send'>;
  auth: AccessTokenSource;
  clock?: Clock;
  random?: () => number;
  concurrency?: number;
  /** GetRoleCredentials requests in flight across all callers; default 8. */
  credentialConcurrency?: number;
  log?: (message: string, error?: unknown) => void;
}

export interface LoadProgress {
  accountsLoaded: number;
  accountsTotal: number;
}

const errorName = (error: unknown) =>
  error && typeof error === 'object' && 'name' in error ? String((error as { name: unknown }).name) : '';

/**
 * Worth another try with backoff: the portal throttling (429), or the connection
 * dropped under the request (a keep-alive socket the other end closed as it was
 * reused). Every portal request is a read, so repeating one is safe.
 */
export function isRetryablePortalError(error: unknown): boolean {
  if (errorName(error) === 'TooManyRequestsException') return true;
  const code = error && typeof error === 'object' && 'code' in error ? (error as { code: unknown }).code : '';
  return code === 'ECONNRESET' || code === 'EPIPE';
}

export class Portal {
  private readonly clock: Clock;
  private accounts: Promise<Account[]> | undefined;
  private readonly permissionSets = new Map<string, Promise<AccountPermissionSet[]>>();
  private readonly credentials = new Map<string, Promise<RoleCredentials>>();
  private readonly credentialLimit: ReturnType<typeof createLimiter>;

  constructor(private readonly options: PortalOptions) {
    this.clock = options.clock ?? systemClock;
    this.credentialLimit = createLimiter(options.credentialConcurrency ?? DEFAULT_CREDENTIAL_CONCURRENCY);
  }

  /** Drops every cached list and credential (explicit refresh, sign-out). */
  clear(): void {
    this.accounts = undefined;
    this.permissionSets.clear();
    this.credentials.clear();
  }

  listAccounts(options: { refresh?: boolean } = {}): Promise<Account[]> {
    if (options.refresh) this.clear();
    this.accounts ??= this.cacheOnSuccess(this.loadAccounts(), () => (this.accounts = undefined));
    return this.accounts;
  }

  listPermissionSets(
    accountId: string,
    options: { refresh?: boolean } = {},
  ): Promise<AccountPermissionSet[]> {
    if (options.refresh) this.permissionSets.delete(accountId);
    let cached = this.permissionSets.get(accountId);
    if (!cached) {
      cached = this.cacheOnSuccess(this.loadPermissionSets(accountId), () =>
        this.permissionSets.delete(accountId),
      );
      this.permissionSets.set(accountId, cached);
    }
    return cached;
  }

  /** Every account's permission sets, `concurrency` accounts at a time. */
  async listAllPermissionSets(
    onProgress?: (progress: LoadProgress) => void,
  ): Promise<Map<string, AccountPermissionSet[]>> {
    const accounts = await this.listAccounts();
    let loaded = 0;
    const lists = await mapWithConcurrency(accounts, this.options.concurrency ?? 4, async (account) => {
      const list = await this.listPermissionSets(account.accountId);
      onProgress?.({ accountsLoaded: ++loaded, accountsTotal: accounts.length });
      return list;
    });
    return new Map(accounts.map((a, i) => [a.accountId, lists[i] ?? []]));
  }

  /** The permission set's credentials, from cache while more than 5 minutes remain. */
  roleCredentials(accountId: string, permissionSet: string): Promise<RoleCredentials> {
    const key = `${accountId}/${permissionSet}`;
    const cached = this.credentials.get(key);
    if (cached) {
      return cached.then((c) =>
        c.expiration - this.clock.now() > CREDENTIALS_MARGIN_MS
          ? c
          : this.fetchCredentials(key, accountId, permissionSet),
      );
    }
    return this.fetchCredentials(key, accountId, permissionSet);
  }

  private fetchCredentials(key: string, accountId: string, permissionSet: string): Promise<RoleCredentials> {
    const loading = this.cacheOnSuccess(
      this.call(async (accessToken) => {
        const out = await this.credentialLimit(() =>
          this.options.sso.send(
            new GetRoleCredentialsCommand({ accessToken, accountId, roleName: permissionSet }),
          ),
        );
        const c = out.roleCredentials;
        if (!c?.accessKeyId || !c.secretAccessKey || !c.sessionToken || !c.expiration) {
          throw new ApiError(
            'Unavailable',
            'IAM Identity Center returned incomplete credentials. Try again.',
          );
        }
        return {
          accessKeyId: c.accessKeyId,
          secretAccessKey: c.secretAccessKey,
          sessionToken: c.sessionToken,
          expiration: c.expiration,
        };
      }, `${permissionSet} in ${accountId}`),
      () => this.credentials.delete(key),
    );
    this.credentials.set(key, loading);
    return loading;
  }

  private async loadAccounts(): Promise<Account[]> {
    const accounts = await this.allPages(
      (accessToken, nextToken) =>
        this.options.sso.send(new ListAccountsCommand({ accessToken, maxResults: PAGE_SIZE, nextToken })),
      'your accounts',
      (page) =>
        (page.accountList ?? []).flatMap((a) =>
          a.accountId
            ? [
                {
                  accountId: a.accountId,
                  accountName: a.accountName ?? a.accountId,
                  ...(a.emailAddress ? { emailAddress: a.emailAddress } : {}),
                },
              ]
            : [],
        ),
    );
    return accounts.sort(
      (a, b) => a.accountName.localeCompare(b.accountName) || a.accountId.localeCompare(b.accountId),
    );
  }

  private async loadPermissionSets(accountId: string): Promise<AccountPermissionSet[]> {
    const sets = await this.allPages(
      (accessToken, nextToken) =>
        this.options.sso.send(
          new ListAccountRolesCommand({ accessToken, accountId, maxResults: PAGE_SIZE, nextToken }),
        ),
      `the permission sets in ${accountId}`,
      (page) =>
        (page.roleList ?? []).flatMap((r) => (r.roleName ? [{ accountId, permissionSet: r.roleName }] : [])),
    );
    return sets.sort((a, b) => a.permissionSet.localeCompare(b.permissionSet));
  }

  /** Every page of a portal listing, each page one `call` (so each gets backoff and token refresh). */
  private async allPages<P extends { nextToken?: string }, T>(
    send: (accessToken: string, nextToken: string | undefined) => Promise<P>,
    what: string,
    itemsOf: (page: P) => T[],
  ): Promise<T[]> {
    const items: T[] = [];
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await this.call((accessToken) => send(accessToken, token), what);
      items.push(...itemsOf(page));
      nextToken = page.nextToken || undefined;
    } while (nextToken);
    return items;
  }

  /**
   * One portal request: backoff on 429, one retry with a fresh token on 401,
   * and every AWS error turned into a message the user can act on.
   */
  private async call<T>(request: (accessToken: string) => Promise<T>, what: string): Promise<T> {
    const { auth } = this.options;
    const attempt = (accessToken: string) =>
      withBackoff(() => request(accessToken), {
        clock: this.clock,
        isRetryable: isRetryablePortalError,
        ...(this.options.random ? { random: this.options.random } : {}),
      });
    const token = await auth.accessToken();
    try {
      return await attempt(token);
    } catch (error) {
      if (errorName(error) === 'UnauthorizedException') {
        const fresh = await auth.handleUnauthorized(token);
        try {
          return await attempt(fresh);
        } catch (again) {
          throw this.translate(again, what);
        }
      }
      throw this.translate(error, what);
    }
  }

  private translate(error: unknown, what: string): unknown {
    if (error instanceof ApiError) return error;
    switch (errorName(error)) {
      case 'UnauthorizedException':
        return new ApiError(
          'SignInExpired',
          'IAM Identity Center no longer accepts your sign-in. Sign in again.',
        );
      case 'TooManyRequestsException':
        return new ApiError(
          'Throttled',
          `IAM Identity Center is rate-limiting requests for ${what}. Wait a minute and refresh.`,
        );
      case 'ResourceNotFoundException':
        return new ApiError(
          'NotFound',
          `IAM Identity Center could not find ${what}. It may have been unassigned; refresh.`,
        );
      // Not in the service model, but what IdC answers for a permission set no longer assigned.
      case 'ForbiddenException':
        return new ApiError('AccessDenied', `You are not assigned ${what} any more. Refresh the list.`);
      default:
        this.options.log?.(`portal request for ${what} failed`, error);
        return new ApiError(
          'Unavailable',
          `Could not load ${what} from IAM Identity Center. Check your network and refresh.`,
        );
    }
  }

  /** Caches a promise, but forgets it if it fails so the next call retries. */
  private cacheOnSuccess<T>(promise: Promise<T>, forget: () => void): Promise<T> {
    promise.catch(() => forget());
    return promise;
  }
}
