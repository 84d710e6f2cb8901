/**
 * The app core's one IdC connection per app instance, shared by the auth,
 * browse and session handlers: the effective configuration (settings, or RoleShell's own
 * local sandbox), the sign-in session, the portal and the broker client. These
 * are rebuilt whenever the start URL, region or endpoint changes, so a settings
 * save takes effect on the next call.
 */
import path from 'node:path';
import { SSOOIDCClient } from '@aws-sdk/client-sso-oidc';
import { SSOClient } from '@aws-sdk/client-sso';
import type { AuthView } from '../api/calls/auth';
import { ApiError } from '../api/errors';
import type { AppContext } from '../appContext';
import { BrokerClient } from '../brokerClient/brokerClient';
import { Portal } from '../portal/portal';
import { sessionModeFor, targetRegions, type SessionMode } from '../settings/schema';
import { AuthSession } from './authSession';
import { resolveIdcUser } from './idcUser';
import { systemClock, type Clock } from './clock';
import { createEncryptedFileStore, createKeyFileCipher, type SecretStore } from './secretStore';

/** What every AWS client of this sign-in is built from. */
export interface IdcConfig {
  startUrl: string;
  region: string;
  /** One endpoint for every AWS client (the sandbox); undefined = real AWS. */
  endpoint: string | undefined;
  brokerArn: string;
  regions: string[];
  mode: SessionMode;
  sandbox: boolean;
}

/** The local sandbox as the app core uses it (a subset of sandbox/src `Sandbox`). */
export interface RunningSandbox {
  /** The sandbox's own process (it never runs inside the app core). */
  pid?: number;
  endpoint: string;
  region: string;
  startUrl: string;
  brokerFunctionArn: string;
  regions: string[];
  close(): Promise<void>;
}

export interface IdentityCenterOptions {
  clock?: Clock;
  /** Starts the local sandbox for "Try the local sandbox"; injectable for tests. */
  startSandbox?: () => Promise<RunningSandbox>;
}

interface Connection {
  key: string;
  config: IdcConfig;
  session: AuthSession;
  ready: Promise<void>;
  portal: Portal;
  broker: BrokerClient | undefined;
  oidc: SSOOIDCClient;
  sso: SSOClient;
  cliSignInExpiresAt: number | null;
  /**
   * Bumped on every sign-out, lost sign-in and new sign-in: whoever caches anything listed for the
   * signed-in identity keys it by this, so nothing survives into the next identity's session.
   */
  generation: number;
  /** The signed-in IdC user, resolved once per generation (see `idcUserOf`). */
  user: Promise<string | undefined> | undefined;
}

/**
 * The signed-in identity, one per app: `createAppApi` creates it and passes it
 * to every domain that needs it (auth, browse, sessions), and closes it.
 */
export class IdentityCenter {
  private connection: Connection | undefined;
  private sandbox: RunningSandbox | undefined;
  private sandboxStarting: Promise<RunningSandbox> | undefined;
  private readonly store: SecretStore;
  private readonly clock: Clock;

  constructor(
    private readonly ctx: AppContext,
    private readonly options: IdentityCenterOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    // Electron: safeStorage. Web/e2e host: AES-GCM with a 0600 key file (see createKeyFileCipher for why it is weaker).
    const cipher = ctx.secretCipher ?? createKeyFileCipher(path.join(ctx.dataDir, 'secrets.key'));
    this.store = createEncryptedFileStore(path.join(ctx.dataDir, 'secrets'), cipher);
  }

  private readonly signOutCleanups: (() => Promise<void>)[] = [];

  /** Runs before a sign-out forgets the tokens (sessions are terminated while their credentials still work). */
  beforeSignOut(cleanup: () => Promise<void>): void {
    this.signOutCleanups.push(cleanup);
  }

  /** Everything registered with beforeSignOut; one failing cleanup does not stop the sign-out. */
  async prepareSignOut(): Promise<void> {
    await Promise.allSettled(this.signOutCleanups.map((cleanup) => cleanup()));
  }

  /** The effective configuration, or undefined before a start URL is set (first run). */
  config(): IdcConfig | undefined {
    if (this.sandbox) {
      return {
        startUrl: this.sandbox.startUrl,
        region: this.sandbox.region,
        endpoint: this.sandbox.endpoint,
        brokerArn: this.sandbox.brokerFunctionArn,
        regions: this.sandbox.regions,
        mode: 'broker',
        sandbox: true,
      };
    }
    const settings = this.ctx.settings.current();
    if (!settings.startUrl) return undefined;
    return {
      startUrl: settings.startUrl,
      region: settings.ssoRegion,
      endpoint: settings.awsEndpoint || undefined,
      brokerArn: settings.brokerArn,
      regions: targetRegions(settings),
      mode: sessionModeFor(settings),
      sandbox: false,
    };
  }

  /** The connection for the current configuration, ready to use. */
  async current(): Promise<Connection> {
    const config = this.config();
    if (!config)
      throw new ApiError('NotSignedIn', 'Set your IAM Identity Center start URL, or try the local sandbox.');
    const key = JSON.stringify([
      config.startUrl,
      config.region,
      config.endpoint,
      config.brokerArn,
      config.regions,
      config.mode,
    ]);
    if (this.connection?.key !== key) {
      this.dispose(this.connection);
      this.connection = this.connect(key, config);
    }
    const connection = this.connection;
    await connection.ready;
    return connection;
  }

  private connect(key: string, config: IdcConfig): Connection {
    const endpoint = config.endpoint ? { endpoint: config.endpoint } : {};
    // Our own polling and backoff decide retries; the SDK's would hide 429s and double the waits.
    const oidc = new SSOOIDCClient({ region: config.region, ...endpoint, maxAttempts: 1 });
    // A load-all sends thousands of portal calls of two kinds: build each kind's handler once
    // (about a tenth of the client's CPU per call, measured against the sandbox).
    const sso = new SSOClient({ region: config.region, ...endpoint, maxAttempts: 1, cacheMiddleware: true });
    const session: AuthSession = new AuthSession({
      startUrl: config.startUrl,
      region: config.region,
      endpoint: config.endpoint,
      oidc,
      store: this.store,
      clock: this.clock,
      home: this.ctx.env.HOME || undefined,
      log: this.ctx.log,
      onState: () => {
        if (this.connection?.session !== session) return;
        if (session.state.status === 'signedOut' || session.state.status === 'signInRequired')
          this.forgetIdentity(connection);
        this.ctx.emit('auth.state', this.viewOf(connection));
      },
      onSignIn: () => {
        this.forgetIdentity(connection);
        // Remembered so per-start-URL settings are kept for start URLs that were actually used.
        if (!config.sandbox)
          this.ctx.settings
            .recordSignIn(config.startUrl)
            .catch((error: unknown) => this.ctx.log('could not record the signed-in start URL', error));
      },
    });
    const portal = new Portal({ sso, auth: session, clock: this.clock, log: this.ctx.log });
    const broker =
      config.mode === 'broker' && config.brokerArn
        ? new BrokerClient({ functionArn: config.brokerArn, ...endpoint, log: this.ctx.log })
        : undefined;
    const connection: Connection = {
      key,
      config,
      session,
      portal,
      broker,
      oidc,
      sso,
      cliSignInExpiresAt: null,
      generation: 0,
      user: undefined,
      ready: Promise.resolve(),
    };
    connection.ready = (async () => {
      await session.init();
      // The CLI cache is only offered for real IdC: the sandbox's start URL never appears there.
      if (!config.sandbox) connection.cliSignInExpiresAt = (await session.cliCacheOffer())?.expiresAt ?? null;
    })();
    return connection;
  }

  /** Drops everything cached for the identity that was signed in (see Connection.generation). */
  private forgetIdentity(connection: Connection): void {
    connection.generation++;
    connection.user = undefined;
    connection.portal.clear();
    // Its Lambda clients hold the previous identity's permission-set credentials.
    connection.broker?.destroy();
  }

  /**
   * The IdC user signed in on `connection`, or undefined when it cannot be told (no account
   * assigned). IdC's tokens are opaque, so this asks STS who a permission set's credentials
   * belong to: IdC names the role session after the user.
   */
  idcUserOf(connection: Connection): Promise<string | undefined> {
    const generation = connection.generation;
    if (!connection.user) {
      const resolving = resolveIdcUser(connection.portal, connection.config).catch((error: unknown) => {
        if (connection.user === resolving) connection.user = undefined;
        throw error;
      });
      connection.user = resolving;
    }
    const user = connection.user;
    return user.then((name) => {
      // Signed out (or in as someone else) meanwhile: this answer belongs to the previous identity.
      if (connection.generation !== generation) throw new ApiError('NotSignedIn', 'Sign in to continue.');
      return name;
    });
  }

  viewOf(connection: Connection | undefined): AuthView {
    const config = connection?.config ?? this.config();
    return {
      state: connection?.session.state ?? { status: 'signedOut' },
      configured: !!config,
      startUrl: config?.startUrl ?? '',
      region: config?.region ?? '',
      sandbox: !!config?.sandbox,
      inUse: config
        ? {
            mode: config.mode,
            endpoint: config.endpoint ?? '',
            brokerArn: config.brokerArn,
            regions: config.regions,
          }
        : null,
      cliSignInExpiresAt:
        connection?.session.state.status === 'signedIn' ? null : (connection?.cliSignInExpiresAt ?? null),
    };
  }

  async view(): Promise<AuthView> {
    if (!this.config()) return this.viewOf(undefined);
    return this.viewOf(await this.current());
  }

  /** Starts (once) the local sandbox with its default org and makes it the endpoint of every client. */
  async useLocalSandbox(): Promise<void> {
    if (this.sandbox) return;
    const start = this.options.startSandbox;
    if (!start) throw new ApiError('Unavailable', 'The local sandbox is not available in this build.');
    this.sandboxStarting ??= start();
    try {
      this.sandbox = await this.sandboxStarting;
    } catch (error) {
      this.sandboxStarting = undefined;
      this.ctx.log('the local sandbox did not start', error);
      // The sandbox's own reason is for people (a missing build, its evaluator left out of this build …).
      const reason = error instanceof Error ? ` ${error.message.replace(/\.?$/, '.')}` : '';
      throw new ApiError(
        'Unavailable',
        `The local sandbox could not start.${reason} Details are in the RoleShell log.`,
      );
    }
  }

  private dispose(connection: Connection | undefined): void {
    if (!connection) return;
    connection.session.cancelSignIn();
    connection.broker?.destroy();
    connection.oidc.destroy();
    connection.sso.destroy();
  }

  async close(): Promise<void> {
    this.dispose(this.connection);
    this.connection = undefined;
    const sandbox = this.sandbox;
    this.sandbox = undefined;
    await sandbox?.close();
  }
}
