/**
 * One IdC sign-in (one start URL): its state machine, its tokens, silent
 * refresh. The portal and broker code ask it for an access token and tell it
 * when IdC said "unauthorized"; the renderer only ever sees `AuthState`.
 */
import type { SSOOIDCClient } from '@aws-sdk/client-sso-oidc';
import { ApiError } from '../api/errors';
import { systemClock, type Clock } from './clock';
import { findCliCacheEntry, normalizeStartUrl } from './cliCache';
import {
  isRegistrationUsable,
  pollForToken,
  refreshAccessToken,
  registerClient,
  startDeviceAuthorization,
} from './deviceAuthorization';
import type { SecretStore } from './secretStore';
import { SignInError, type AuthState, type ClientRegistration, type TokenSet } from './types';

/** Refresh when less than this remains, as the AWS CLI does. */
export const REFRESH_MARGIN_MS = 15 * 60_000;

export interface AuthSessionOptions {
  startUrl: string;
  region: string;
  /**
   * The endpoint `oidc` talks to instead of AWS's (the sandbox); undefined = AWS. Part of every
   * stored key, so tokens and registrations issued by one endpoint are never sent to another.
   */
  endpoint?: string;
  oidc: Pick<SSOOIDCClient, 'send'>;
  store: SecretStore;
  clock?: Clock;
  /** HOME for the AWS CLI cache lookup; undefined disables the lookup. */
  home?: string;
  onState?: (state: AuthState) => void;
  /** A new sign-in completed (device flow or the AWS CLI's), not a silent refresh. */
  onSignIn?: () => void;
  log?: (message: string, error?: unknown) => void;
}

interface StoredSession {
  tokens: TokenSet;
  /** The endpoint that issued `tokens` ('' = AWS); a refresh token goes back only there. */
  issuer: string;
}

export class AuthSession {
  readonly startUrl: string;
  readonly region: string;
  private readonly clock: Clock;
  private stateValue: AuthState;
  private tokens: TokenSet | undefined;
  /** Who issued `tokens` (see StoredSession.issuer). */
  private tokensIssuer = '';
  private registration: ClientRegistration | undefined;
  private signIn: { controller: AbortController; done: Promise<void> } | undefined;
  private refreshing: Promise<TokenSet> | undefined;

  constructor(private readonly options: AuthSessionOptions) {
    this.startUrl = options.startUrl;
    this.region = options.region;
    this.clock = options.clock ?? systemClock;
    this.stateValue = { status: 'signedOut', startUrl: this.startUrl };
  }

  get state(): AuthState {
    return this.stateValue;
  }

  /** '' for AWS itself, else the endpoint override. */
  private get issuer(): string {
    return this.options.endpoint ?? '';
  }
  /** (start URL, region, endpoint): a changed endpoint finds nothing stored and means a new sign-in. */
  private get scope(): string {
    return JSON.stringify([normalizeStartUrl(this.startUrl), this.region, this.issuer]);
  }
  private get sessionKey() {
    return `idc-session:${this.scope}`;
  }
  private get registrationKey() {
    return `idc-registration:${this.scope}`;
  }

  private async storeTokens(tokens: TokenSet, issuer: string): Promise<void> {
    this.tokens = tokens;
    this.tokensIssuer = issuer;
    await this.options.store.set(this.sessionKey, JSON.stringify({ tokens, issuer } satisfies StoredSession));
  }

  private setState(state: AuthState): void {
    this.stateValue = state;
    this.options.onState?.(state);
  }

  private signedIn(): void {
    if (!this.tokens) return;
    this.setState({
      status: 'signedIn',
      startUrl: this.startUrl,
      region: this.region,
      expiresAt: this.tokens.expiresAt,
    });
  }

  /** Restores a stored sign-in. A stored token that can neither be used nor refreshed is dropped. */
  async init(): Promise<AuthState> {
    // Keys from before the endpoint was part of them: whichever endpoint issued those is unknown.
    await this.options.store.delete(`idc-session:${normalizeStartUrl(this.startUrl)}`);
    const registration = await this.readJson<ClientRegistration>(this.registrationKey);
    if (
      isRegistrationUsable(registration, this.region, this.clock.now()) &&
      (registration.endpoint ?? '') === this.issuer
    )
      this.registration = registration;
    const stored = await this.readJson<StoredSession>(this.sessionKey);
    if (
      stored?.tokens &&
      stored.issuer === this.issuer &&
      (stored.tokens.expiresAt > this.clock.now() || (stored.tokens.refreshToken && this.registration))
    ) {
      this.tokens = stored.tokens;
      this.tokensIssuer = stored.issuer;
      this.signedIn();
    } else {
      this.setState({ status: 'signedOut', startUrl: this.startUrl });
    }
    return this.stateValue;
  }

  /**
   * Starts the device flow and returns once the user code is known; polling
   * continues in the background and ends in `signedIn` or `signedOut` with a
   * message. Starting again cancels a sign-in already under way.
   */
  async startSignIn(): Promise<AuthState> {
    this.cancelSignIn();
    const controller = new AbortController();
    const { oidc } = this.options;
    let registration: ClientRegistration;
    let authorization;
    try {
      registration = await registerClient(oidc, this.region, this.clock, this.registration);
      if (registration !== this.registration) {
        registration = {
          ...registration,
          ...(this.options.endpoint ? { endpoint: this.options.endpoint } : {}),
        };
        this.registration = registration;
        await this.options.store.set(this.registrationKey, JSON.stringify(registration));
      }
      authorization = await startDeviceAuthorization(oidc, registration, this.startUrl, this.clock);
    } catch (error) {
      this.options.log?.('sign-in could not start', error);
      throw new ApiError('Unavailable', this.unreachableMessage(error));
    }
    const previous = this.stateValue;
    this.setState({
      status: 'awaitingApproval',
      startUrl: this.startUrl,
      userCode: authorization.userCode,
      verificationUri: authorization.verificationUri,
      ...(authorization.verificationUriComplete
        ? { verificationUriComplete: authorization.verificationUriComplete }
        : {}),
      expiresAt: authorization.expiresAt,
    });
    const done = pollForToken(oidc, registration, authorization, {
      clock: this.clock,
      signal: controller.signal,
    }).then(
      async (tokens) => {
        await this.storeTokens(tokens, this.issuer);
        this.signedIn();
        this.options.onSignIn?.();
      },
      (error: unknown) => {
        if (this.signIn?.controller !== controller) return; // superseded by a newer sign-in
        if (error instanceof SignInError) {
          // A cancelled re-sign-in returns to "sign in required", keeping the user's place.
          if (error.reason === 'cancelled' && previous.status === 'signInRequired')
            return this.setState(previous);
          return this.setState({ status: 'signedOut', startUrl: this.startUrl, message: error.message });
        }
        this.options.log?.('sign-in failed', error);
        this.setState({
          status: 'signedOut',
          startUrl: this.startUrl,
          message: this.unreachableMessage(error),
        });
      },
    );
    this.signIn = {
      controller,
      done: done.finally(() => {
        if (this.signIn?.controller === controller) this.signIn = undefined;
      }),
    };
    return this.stateValue;
  }

  cancelSignIn(): void {
    this.signIn?.controller.abort();
  }

  /** Resolves when the background sign-in (if any) has finished. */
  async waitForSignIn(): Promise<AuthState> {
    await this.signIn?.done;
    return this.stateValue;
  }

  /**
   * A usable access token, refreshed silently when little time remains.
   * Throws ApiError NotSignedIn / SignInExpired / Unavailable.
   */
  async accessToken(): Promise<string> {
    const tokens = this.tokens;
    if (!tokens) throw this.notSignedIn();
    if (tokens.expiresAt - this.clock.now() > refreshMargin(tokens)) return tokens.accessToken;
    if (!tokens.refreshToken || !this.registration) {
      if (tokens.expiresAt > this.clock.now()) return tokens.accessToken;
      await this.requireSignIn('Your sign-in expired. Sign in again to continue.');
      throw this.notSignedIn();
    }
    return (await this.refresh()).accessToken;
  }

  /** IdC answered UnauthorizedException for `rejectedToken`: refresh once, or ask to sign in. */
  async handleUnauthorized(rejectedToken: string): Promise<string> {
    if (this.tokens && this.tokens.accessToken !== rejectedToken) return this.tokens.accessToken;
    if (!this.tokens?.refreshToken || !this.registration) {
      await this.requireSignIn('Your sign-in is no longer valid. Sign in again to continue.');
      throw this.notSignedIn();
    }
    return (await this.refresh()).accessToken;
  }

  /** One refresh at a time, however many calls need a token meanwhile. */
  private refresh(): Promise<TokenSet> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<TokenSet> {
    const current = this.tokens;
    if (!current?.refreshToken || !this.registration) throw this.notSignedIn();
    if (this.tokensIssuer !== this.issuer || (this.registration.endpoint ?? '') !== this.issuer) {
      // Never hand a refresh token (or the client secret) to an endpoint other than the one that issued it.
      const message = 'The AWS endpoint changed since you signed in. Sign in again to continue.';
      await this.requireSignIn(message);
      throw new ApiError('SignInExpired', message);
    }
    try {
      const tokens = await refreshAccessToken(
        this.options.oidc,
        this.registration,
        current.refreshToken,
        this.clock,
      );
      await this.storeTokens(tokens, this.issuer);
      this.signedIn();
      return tokens;
    } catch (error) {
      if (error instanceof SignInError) {
        await this.requireSignIn(error.message);
        throw new ApiError('SignInExpired', error.message);
      }
      this.options.log?.('token refresh failed', error);
      throw new ApiError('Unavailable', this.unreachableMessage(error));
    }
  }

  private async requireSignIn(message: string): Promise<void> {
    this.tokens = undefined;
    await this.options.store.delete(this.sessionKey);
    this.setState({ status: 'signInRequired', startUrl: this.startUrl, message });
  }

  async signOut(): Promise<AuthState> {
    this.cancelSignIn();
    this.tokens = undefined;
    await this.options.store.delete(this.sessionKey);
    this.setState({ status: 'signedOut', startUrl: this.startUrl });
    return this.stateValue;
  }

  /** Whether the AWS CLI holds a usable sign-in for this start URL (offered on the login screen). */
  async cliCacheOffer(): Promise<{ expiresAt: number } | undefined> {
    // The CLI's tokens were issued by AWS itself: never offered (or refreshed) through an endpoint override.
    if (!this.options.home || this.options.endpoint) return undefined;
    const entry = await findCliCacheEntry({
      home: this.options.home,
      startUrl: this.startUrl,
      now: this.clock.now(),
    });
    return entry && entry.region === this.region ? { expiresAt: entry.tokens.expiresAt } : undefined;
  }

  /** Adopts the AWS CLI's sign-in for this start URL. */
  async useCliCache(): Promise<AuthState> {
    const entry =
      this.options.home && !this.options.endpoint
        ? await findCliCacheEntry({ home: this.options.home, startUrl: this.startUrl, now: this.clock.now() })
        : undefined;
    if (!entry || entry.region !== this.region) {
      throw new ApiError(
        'NotFound',
        'No usable AWS CLI sign-in for this start URL was found. Sign in instead.',
      );
    }
    this.cancelSignIn();
    // The CLI's refresh token belongs to the CLI's client, so refreshing must use that registration.
    if (entry.registration) this.registration = entry.registration;
    await this.storeTokens(entry.tokens, '');
    this.signedIn();
    this.options.onSignIn?.();
    return this.stateValue;
  }

  private notSignedIn(): ApiError {
    return this.stateValue.status === 'signInRequired'
      ? new ApiError('SignInExpired', this.stateValue.message)
      : new ApiError('NotSignedIn', 'Sign in to continue.');
  }

  private unreachableMessage(error: unknown): string {
    const name = error && typeof error === 'object' && 'name' in error ? String(error.name) : '';
    if (name === 'InvalidRequestException' || name === 'InvalidClientException') {
      return `IAM Identity Center refused the sign-in request. Check the start URL (${this.startUrl}) and region (${this.region}).`;
    }
    return `Could not reach IAM Identity Center in ${this.region}. Check your network and try again.`;
  }

  private async readJson<T>(name: string): Promise<T | undefined> {
    const raw = await this.options.store.get(name);
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as T;
    } catch {
      return undefined;
    }
  }
}

/**
 * 15 minutes, or half the token's lifetime when that is shorter: a sandbox token
 * that lives 20 s must not be refreshed on every single call.
 */
function refreshMargin(tokens: TokenSet): number {
  return Math.min(REFRESH_MARGIN_MS, (tokens.expiresAt - tokens.issuedAt) / 2);
}
