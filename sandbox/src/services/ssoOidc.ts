/**
 * IAM Identity Center OIDC (sso-oidc, rest-json, unsigned): RegisterClient,
 * StartDeviceAuthorization, CreateToken (device_code and refresh_token grants),
 * plus the device verification page a person approves or denies on.
 */
import { randomBytes } from 'node:crypto';
import type { Org } from '../org/schema';
import { AwsError, type WireResponse } from '../http/awsError';
import { header, json, jsonBody, type RequestContext } from '../http/context';
import { newOpaqueToken } from '../identity/ids';
import { renderDevicePage, renderDeviceResult } from './devicePage';

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
export const REFRESH_GRANT = 'refresh_token';
/** Refresh tokens are issued only to clients registered with this scope. */
export const PORTAL_SCOPE = 'sso:account:access';

export interface OidcOptions {
  accessTokenLifetimeSeconds: number;
  refreshTokenLifetimeSeconds: number;
  deviceCodeLifetimeSeconds: number;
  /** `interval` returned by StartDeviceAuthorization (AWS returns 1). */
  pollIntervalSeconds: number;
  /** Added to a device code's interval on every slow_down (RFC 8628 §3.5 says 5 s; tests use less). */
  slowDownIncrementSeconds: number;
  clientRegistrationLifetimeSeconds: number;
  /** Auto-approve every device authorization as this IdC user. */
  approve?: string;
}

interface RegisteredClient {
  clientId: string;
  clientSecret: string;
  clientName: string;
  scopes: string[];
  expiresAt: number;
}

interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  clientId: string;
  expiresAt: number;
  interval: number;
  lastPollAt?: number;
  state: 'pending' | 'approved' | 'denied' | 'used';
  userName?: string;
}

export interface AccessTokenGrant {
  userName: string;
  clientId: string;
  expiresAt: number;
}

interface RefreshTokenGrant {
  userName: string;
  clientId: string;
  expiresAt: number;
  revoked: boolean;
}

const oidcError = (code: string, error: string, description: string, status = 400) =>
  new AwsError(code, description, status, { error, error_description: description });

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** Start URLs match regardless of a trailing slash or `#/`. */
const normalizeStartUrl = (u: string) => u.replace(/#\/?$/, '').replace(/\/+$/, '');

export class IdentityCenterOidc {
  private readonly clients = new Map<string, RegisteredClient>();
  private readonly devices = new Map<string, DeviceAuthorization>();
  private readonly byUserCode = new Map<string, DeviceAuthorization>();
  private readonly accessTokens = new Map<string, AccessTokenGrant>();
  private readonly refreshTokens = new Map<string, RefreshTokenGrant>();
  /** CSRF tokens of rendered device pages -> the user code they may act on. */
  private readonly csrf = new Map<string, { userCode: string; expiresAt: number }>();

  constructor(
    private readonly org: Org,
    private readonly options: OidcOptions,
    private readonly endpoint: () => string,
  ) {
    if (options.approve !== undefined && !org.users.some((u) => u.userName === options.approve)) {
      throw new Error(
        `approve: no IdC user ${options.approve} in the org (users: ${org.users.map((u) => u.userName).join(', ')})`,
      );
    }
  }

  /** Routes /client/register, /device_authorization and /token. */
  handle(ctx: RequestContext): WireResponse {
    ctx.trail.eventSource = 'sso-oauth.amazonaws.com';
    ctx.trail.awsRegion = this.org.region;
    ctx.trail.userIdentity = { type: 'Unknown' };
    const path = ctx.url.pathname;
    if (ctx.method !== 'POST')
      throw new AwsError('InvalidRequestException', `${ctx.method} ${path} is not supported`, 400);
    const body = jsonBody(ctx, 'InvalidRequestException');
    if (path === '/client/register') return this.registerClient(ctx, body);
    if (path === '/device_authorization') return this.startDeviceAuthorization(ctx, body);
    return this.createToken(ctx, body);
  }

  private registerClient(ctx: RequestContext, body: Record<string, unknown>): WireResponse {
    ctx.trail.eventName = 'RegisterClient';
    const clientName = str(body.clientName);
    const clientType = str(body.clientType);
    const scopes = Array.isArray(body.scopes)
      ? body.scopes.filter((s): s is string => typeof s === 'string')
      : [];
    ctx.trail.requestParameters = { clientName, clientType, scopes };
    if (!clientName) throw oidcError('InvalidRequestException', 'invalid_request', 'clientName is required');
    if (clientType !== 'public')
      throw oidcError(
        'InvalidClientMetadataException',
        'invalid_client_metadata',
        'clientType must be public',
      );
    const bad = scopes.find(
      (s) => !/^(sso:account:access|sso-portal:\*|openid|aws\.sso\.\w+|codewhisperer:\w+)$/.test(s),
    );
    if (bad) throw oidcError('InvalidScopeException', 'invalid_scope', `Invalid scope: ${bad}`);
    const now = Math.floor(Date.now() / 1000);
    const client: RegisteredClient = {
      clientId: newOpaqueToken(16),
      clientSecret: `eyJraWQiOiJrZXktMTU2NDAyODA5OSIsImFsZyI6IkhTMzg0In0.${newOpaqueToken(96)}`,
      clientName,
      scopes,
      expiresAt: now + this.options.clientRegistrationLifetimeSeconds,
    };
    this.clients.set(client.clientId, client);
    ctx.trail.responseElements = { clientId: client.clientId, clientSecretExpiresAt: client.expiresAt };
    return json(200, {
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      clientIdIssuedAt: now,
      clientSecretExpiresAt: client.expiresAt,
    });
  }

  private authenticateClient(body: Record<string, unknown>): RegisteredClient {
    const client = this.clients.get(str(body.clientId) ?? '');
    if (!client || client.clientSecret !== str(body.clientSecret))
      throw oidcError('InvalidClientException', 'invalid_client', 'Invalid client credentials', 401);
    if (client.expiresAt * 1000 <= Date.now())
      throw oidcError('InvalidClientException', 'invalid_client', 'Client registration expired', 401);
    return client;
  }

  private startDeviceAuthorization(ctx: RequestContext, body: Record<string, unknown>): WireResponse {
    ctx.trail.eventName = 'StartDeviceAuthorization';
    ctx.trail.requestParameters = { clientId: str(body.clientId), startUrl: str(body.startUrl) };
    const client = this.authenticateClient(body);
    const startUrl = str(body.startUrl);
    if (!startUrl) throw oidcError('InvalidRequestException', 'invalid_request', 'startUrl is required');
    if (normalizeStartUrl(startUrl) !== normalizeStartUrl(this.org.startUrl))
      throw oidcError('InvalidRequestException', 'invalid_request', `Unknown start URL ${startUrl}`);
    const device: DeviceAuthorization = {
      deviceCode: newOpaqueToken(48),
      userCode: newUserCode(),
      clientId: client.clientId,
      expiresAt: Date.now() + this.options.deviceCodeLifetimeSeconds * 1000,
      interval: this.options.pollIntervalSeconds,
      state: this.options.approve ? 'approved' : 'pending',
      userName: this.options.approve,
    };
    this.devices.set(device.deviceCode, device);
    this.byUserCode.set(device.userCode, device);
    const verificationUri = `${this.endpoint()}/device`;
    ctx.trail.responseElements = {
      userCode: device.userCode,
      expiresIn: this.options.deviceCodeLifetimeSeconds,
    };
    return json(200, {
      deviceCode: device.deviceCode,
      userCode: device.userCode,
      verificationUri,
      verificationUriComplete: `${verificationUri}?user_code=${encodeURIComponent(device.userCode)}`,
      expiresIn: this.options.deviceCodeLifetimeSeconds,
      interval: device.interval,
    });
  }

  private createToken(ctx: RequestContext, body: Record<string, unknown>): WireResponse {
    ctx.trail.eventName = 'CreateToken';
    const grantType = str(body.grantType);
    ctx.trail.requestParameters = { clientId: str(body.clientId), grantType };
    const client = this.authenticateClient(body);
    if (grantType === DEVICE_GRANT) return this.deviceGrant(ctx, client, str(body.deviceCode));
    if (grantType === REFRESH_GRANT) return this.refreshGrant(ctx, client, str(body.refreshToken));
    if (!grantType) throw oidcError('InvalidRequestException', 'invalid_request', 'grantType is required');
    throw oidcError(
      'UnsupportedGrantTypeException',
      'unsupported_grant_type',
      `Unsupported grant type ${grantType}`,
    );
  }

  private deviceGrant(ctx: RequestContext, client: RegisteredClient, deviceCode?: string): WireResponse {
    const device = this.devices.get(deviceCode ?? '');
    if (!device || device.clientId !== client.clientId)
      throw oidcError('InvalidGrantException', 'invalid_grant', 'Invalid device code provided');
    const now = Date.now();
    if (device.state === 'used')
      throw oidcError('InvalidGrantException', 'invalid_grant', 'Device code has already been used');
    if (device.expiresAt <= now)
      throw oidcError('ExpiredTokenException', 'expired_token', 'Device code has expired');
    if (device.state === 'denied')
      throw oidcError('AccessDeniedException', 'access_denied', 'The user denied the authorization request');
    // Polling faster than `interval` is answered with slow_down (RFC 8628 §3.5).
    const tooSoon = device.lastPollAt !== undefined && now - device.lastPollAt < device.interval * 1000;
    device.lastPollAt = now;
    if (tooSoon) {
      // The interval grows for this and every later poll, so a client that ignores slow_down keeps hitting it.
      device.interval += this.options.slowDownIncrementSeconds;
      throw oidcError('SlowDownException', 'slow_down', 'Client is polling too quickly');
    }
    if (device.state === 'pending')
      throw oidcError(
        'AuthorizationPendingException',
        'authorization_pending',
        'Authorization is still pending',
      );
    device.state = 'used';
    return this.issueTokens(ctx, client, device.userName!);
  }

  private refreshGrant(ctx: RequestContext, client: RegisteredClient, refreshToken?: string): WireResponse {
    const grant = this.refreshTokens.get(refreshToken ?? '');
    if (!grant || grant.clientId !== client.clientId || grant.revoked || grant.expiresAt <= Date.now())
      throw oidcError('InvalidGrantException', 'invalid_grant', 'Invalid refresh token provided');
    return this.issueTokens(ctx, client, grant.userName, refreshToken);
  }

  private issueTokens(
    ctx: RequestContext,
    client: RegisteredClient,
    userName: string,
    existingRefresh?: string,
  ): WireResponse {
    const accessToken = `aoa${newOpaqueToken(96)}`;
    const expiresIn = this.options.accessTokenLifetimeSeconds;
    this.accessTokens.set(accessToken, {
      userName,
      clientId: client.clientId,
      expiresAt: Date.now() + expiresIn * 1000,
    });
    let refreshToken: string | undefined;
    if (client.scopes.includes(PORTAL_SCOPE)) {
      refreshToken = existingRefresh ?? `aor${newOpaqueToken(96)}`;
      if (!existingRefresh)
        this.refreshTokens.set(refreshToken, {
          userName,
          clientId: client.clientId,
          expiresAt: Date.now() + this.options.refreshTokenLifetimeSeconds * 1000,
          revoked: false,
        });
    }
    const user = this.org.users.find((u) => u.userName === userName);
    ctx.trail.userIdentity = {
      type: 'IdentityCenterUser',
      userName,
      ...(user
        ? {
            onBehalfOf: {
              userId: user.userId,
              identityStoreArn: `arn:aws:identitystore::${this.org.accounts[0]!.id}:identitystore/${this.org.identityStoreId}`,
            },
          }
        : {}),
    };
    ctx.trail.responseElements = { tokenType: 'Bearer', expiresIn };
    return json(200, {
      accessToken,
      tokenType: 'Bearer',
      expiresIn,
      ...(refreshToken ? { refreshToken } : {}),
    });
  }

  /** The user behind a live access token, or undefined when unknown or expired. */
  accessTokenGrant(token: string | undefined): AccessTokenGrant | undefined {
    const grant = this.accessTokens.get(token ?? '');
    if (!grant || grant.expiresAt <= Date.now()) return undefined;
    return grant;
  }

  /** Ends IdC sessions: refresh tokens stop working (InvalidGrantException). */
  revokeRefreshTokens(userName?: string): void {
    for (const grant of this.refreshTokens.values())
      if (!userName || grant.userName === userName) grant.revoked = true;
  }

  /** Removes an access token (sso:Logout). */
  logout(token: string | undefined): boolean {
    return this.accessTokens.delete(token ?? '');
  }

  // ---- device verification page ------------------------------------------------

  /** GET/POST /device: the page a person opens from verificationUriComplete. */
  devicePage(ctx: RequestContext): WireResponse {
    const html = (status: number, body: string): WireResponse => ({
      status,
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'x-frame-options': 'DENY',
        'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
      },
      body,
    });
    if (ctx.method === 'GET') {
      const userCode = (ctx.url.searchParams.get('user_code') ?? '').trim().toUpperCase();
      const device = this.byUserCode.get(userCode);
      if (!device || device.expiresAt <= Date.now()) {
        return html(
          userCode ? 404 : 200,
          renderDevicePage({
            users: [],
            userCode,
            error: userCode
              ? 'This code is unknown or has expired. Start signing in again from RoleShell.'
              : undefined,
          }),
        );
      }
      if (device.state !== 'pending') {
        return html(200, renderDeviceResult(device.state === 'denied' ? 'denied' : 'approved', userCode));
      }
      const csrfToken = randomBytes(24).toString('base64url');
      this.csrf.set(csrfToken, { userCode, expiresAt: Date.now() + 10 * 60_000 });
      return html(200, renderDevicePage({ users: this.org.users, userCode, csrfToken }));
    }
    if (ctx.method === 'POST') {
      const form = new URLSearchParams(ctx.body.toString('utf8'));
      const userCode = form.get('user_code') ?? '';
      const token = form.get('csrf_token') ?? '';
      const csrf = this.csrf.get(token);
      // Cross-site form posts carry a foreign Origin; refuse them even before the token check.
      const origin = header(ctx, 'origin');
      if (
        !csrf ||
        csrf.userCode !== userCode ||
        csrf.expiresAt <= Date.now() ||
        (origin && origin !== this.endpoint())
      ) {
        return html(
          403,
          renderDevicePage({
            users: [],
            userCode,
            error: 'This form has expired. Reload the page and try again.',
          }),
        );
      }
      this.csrf.delete(token);
      const device = this.byUserCode.get(userCode);
      if (!device || device.expiresAt <= Date.now() || device.state !== 'pending') {
        return html(
          409,
          renderDevicePage({ users: [], userCode, error: 'This code was already used or has expired.' }),
        );
      }
      const decision = form.get('decision');
      if (decision === 'deny') {
        device.state = 'denied';
        return html(200, renderDeviceResult('denied', userCode));
      }
      const userName = form.get('user') ?? '';
      if (decision !== 'approve' || !this.org.users.some((u) => u.userName === userName)) {
        const csrfToken = randomBytes(24).toString('base64url');
        this.csrf.set(csrfToken, { userCode, expiresAt: Date.now() + 10 * 60_000 });
        return html(
          400,
          renderDevicePage({
            users: this.org.users,
            userCode,
            csrfToken,
            error: 'Choose a user, then Approve or Deny.',
          }),
        );
      }
      device.state = 'approved';
      device.userName = userName;
      return html(200, renderDeviceResult('approved', userCode, userName));
    }
    return html(405, renderDevicePage({ users: [], userCode: '', error: 'Method not allowed.' }));
  }
}

/** XXXX-XXXX from an alphabet without look-alikes, like IdC's codes. */
function newUserCode(): string {
  const alphabet = 'BCDFGHJKLMNPQRSTVWXZ';
  const bytes = randomBytes(8);
  const chars = [...bytes].map((b) => alphabet[b % alphabet.length]);
  return `${chars.slice(0, 4).join('')}-${chars.slice(4).join('')}`;
}
