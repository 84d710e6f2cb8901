/**
 * The IdC OIDC device-authorization flow, done the way the AWS CLI does it and
 * most other tools do not: one client registration reused until 15 minutes
 * before it expires, the `sso:account:access` scope and the refresh-token grant
 * (so IdC hands out refresh tokens and nobody signs in again every 8 hours), and
 * CreateToken polling that honours `interval` and `slow_down`.
 */
import {
  CreateTokenCommand,
  RegisterClientCommand,
  StartDeviceAuthorizationCommand,
  type SSOOIDCClient,
} from '@aws-sdk/client-sso-oidc';
import type { Clock } from './clock';
import { SignInError, type ClientRegistration, type DeviceAuthorization, type TokenSet } from './types';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
export const REFRESH_TOKEN_GRANT = 'refresh_token';
export const SSO_SCOPES = ['sso:account:access'];
/** The CLI re-registers 15 minutes before the client secret expires; so do we. */
export const REGISTRATION_MARGIN_MS = 15 * 60_000;
/** RFC 8628 §3.5 and IdC: 5 s when the response names no interval; +5 s per slow_down. */
export const DEFAULT_INTERVAL_SECONDS = 5;
export const SLOW_DOWN_STEP_SECONDS = 5;

type OidcClient = Pick<SSOOIDCClient, 'send'>;

export function isRegistrationUsable(
  registration: ClientRegistration | undefined,
  region: string,
  now: number,
): registration is ClientRegistration {
  return (
    !!registration && registration.region === region && registration.expiresAt - REGISTRATION_MARGIN_MS > now
  );
}

/** Returns `cached` while it is usable, otherwise registers a new public client. */
export async function registerClient(
  client: OidcClient,
  region: string,
  clock: Clock,
  cached?: ClientRegistration,
): Promise<ClientRegistration> {
  if (isRegistrationUsable(cached, region, clock.now())) return cached;
  const out = await client.send(
    new RegisterClientCommand({
      clientName: 'RoleShell',
      clientType: 'public',
      scopes: SSO_SCOPES,
      grantTypes: [DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT],
    }),
  );
  if (!out.clientId || !out.clientSecret || !out.clientSecretExpiresAt) {
    throw new Error('RegisterClient returned an incomplete registration.');
  }
  return {
    region,
    clientId: out.clientId,
    clientSecret: out.clientSecret,
    expiresAt: out.clientSecretExpiresAt * 1000,
  };
}

export async function startDeviceAuthorization(
  client: OidcClient,
  registration: ClientRegistration,
  startUrl: string,
  clock: Clock,
): Promise<DeviceAuthorization> {
  const out = await client.send(
    new StartDeviceAuthorizationCommand({
      clientId: registration.clientId,
      clientSecret: registration.clientSecret,
      startUrl,
    }),
  );
  if (!out.deviceCode || !out.userCode || !out.verificationUri || !out.expiresIn) {
    throw new Error('StartDeviceAuthorization returned an incomplete answer.');
  }
  return {
    deviceCode: out.deviceCode,
    userCode: out.userCode,
    verificationUri: out.verificationUri,
    ...(out.verificationUriComplete ? { verificationUriComplete: out.verificationUriComplete } : {}),
    expiresAt: clock.now() + out.expiresIn * 1000,
    intervalSeconds: out.interval && out.interval > 0 ? out.interval : DEFAULT_INTERVAL_SECONDS,
  };
}

function errorName(error: unknown): string {
  return error && typeof error === 'object' && 'name' in error
    ? String((error as { name: unknown }).name)
    : '';
}

export interface PollOptions {
  clock: Clock;
  signal?: AbortSignal;
  /** Told every time the interval changes (slow_down), for logs and tests. */
  onInterval?: (seconds: number) => void;
}

/**
 * Polls CreateToken until the user approves, refuses, the code expires, or the
 * caller aborts. Waits `interval` before every poll (RFC 8628 §3.4).
 */
export async function pollForToken(
  client: OidcClient,
  registration: ClientRegistration,
  authorization: DeviceAuthorization,
  { clock, signal, onInterval }: PollOptions,
): Promise<TokenSet> {
  let interval = authorization.intervalSeconds;
  for (;;) {
    try {
      await clock.sleep(interval * 1000, signal);
    } catch {
      throw new SignInError('cancelled', 'Sign-in was cancelled.');
    }
    if (clock.now() >= authorization.expiresAt) throw expired();
    const issuedAt = clock.now();
    try {
      const out = await client.send(
        new CreateTokenCommand({
          clientId: registration.clientId,
          clientSecret: registration.clientSecret,
          grantType: DEVICE_CODE_GRANT,
          deviceCode: authorization.deviceCode,
        }),
        signal ? { abortSignal: signal } : {},
      );
      return toTokenSet(out, issuedAt);
    } catch (error) {
      if (signal?.aborted) throw new SignInError('cancelled', 'Sign-in was cancelled.');
      switch (errorName(error)) {
        case 'AuthorizationPendingException':
          continue;
        case 'SlowDownException':
          interval += SLOW_DOWN_STEP_SECONDS;
          onInterval?.(interval);
          continue;
        case 'ExpiredTokenException':
          throw expired();
        case 'AccessDeniedException':
          throw new SignInError(
            'denied',
            'The sign-in request was denied in the browser. Start again to retry.',
          );
        default:
          throw error;
      }
    }
  }
}

function expired(): SignInError {
  return new SignInError(
    'expired',
    'The sign-in code expired before it was approved. Start again for a new code.',
  );
}

/** Exchanges a refresh token; InvalidGrantException (IdC session ended) becomes `invalidGrant`. */
export async function refreshAccessToken(
  client: OidcClient,
  registration: ClientRegistration,
  refreshToken: string,
  clock: Clock,
): Promise<TokenSet> {
  const issuedAt = clock.now();
  try {
    const out = await client.send(
      new CreateTokenCommand({
        clientId: registration.clientId,
        clientSecret: registration.clientSecret,
        grantType: REFRESH_TOKEN_GRANT,
        refreshToken,
      }),
    );
    const tokens = toTokenSet(out, issuedAt);
    // IdC may not rotate the refresh token; keep the one we have then.
    return tokens.refreshToken ? tokens : { ...tokens, refreshToken };
  } catch (error) {
    const name = errorName(error);
    if (
      name === 'InvalidGrantException' ||
      name === 'ExpiredTokenException' ||
      name === 'InvalidClientException'
    ) {
      throw new SignInError(
        'invalidGrant',
        'Your IAM Identity Center session ended. Sign in again to continue.',
      );
    }
    throw error;
  }
}

function toTokenSet(
  out: { accessToken?: string; refreshToken?: string; expiresIn?: number },
  issuedAt: number,
): TokenSet {
  if (!out.accessToken || !out.expiresIn) throw new Error('CreateToken returned no access token.');
  return {
    accessToken: out.accessToken,
    ...(out.refreshToken ? { refreshToken: out.refreshToken } : {}),
    issuedAt,
    expiresAt: issuedAt + out.expiresIn * 1000,
  };
}
