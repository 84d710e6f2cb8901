/**
 * Starts, resumes and terminates sessions in AWS for the signed-in identity:
 * through the broker (`startSession` / `resumeSession` / `terminateSession`,
 * each with a fresh identity proof) in broker mode, or with the permission
 * set's own credentials and its session document (`ssm:StartSession`) in
 * direct mode. Tokens and credentials stay in the core and the session host.
 */
import {
  ResumeSessionCommand,
  SSMClient,
  StartSessionCommand,
  TerminateSessionCommand,
} from '@aws-sdk/client-ssm';
import { SsmClients } from './ssmClients';
import { ApiError } from '../api/errors';
import type { IdentityCenter } from '../auth/identityCenter';
import type { RoleCredentials } from '../portal/types';
import type { OpenSessionRecord } from './openSessions';
import { traceHop } from './connectTrace';
import { SessionGone, type ConnectRequest, type SessionStarter, type StartedSession } from './sessionManager';

/** Environment variables that would hand AWS credentials (or a profile) to the plugin. */
const AWS_CREDENTIAL_ENV =
  /^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|PROFILE|DEFAULT_PROFILE|SHARED_CREDENTIALS_FILE|CONFIG_FILE|WEB_IDENTITY_TOKEN_FILE|ROLE_ARN|CONTAINER_.*|SSO_.*)$/;

export class AwsSessionStarter implements SessionStarter {
  private readonly ssmClients = new SsmClients((region, credentials) =>
    this.newSsmClient(region, credentials),
  );

  constructor(
    private readonly center: IdentityCenter,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** Closes the direct-mode SSM clients (sign-out, quit). */
  dispose(): void {
    this.ssmClients.clear();
  }

  async start(request: ConnectRequest): Promise<StartedSession> {
    traceHop('core: starter.start');
    const connection = await this.center.current();
    traceHop('core: center.current done');
    const { config, portal, broker } = connection;
    const credentials = await portal.roleCredentials(request.accountId, request.permissionSet);
    traceHop('core: roleCredentials done');
    const base = {
      startUrl: config.startUrl,
      accountId: request.accountId,
      permissionSet: request.permissionSet,
      region: request.region,
      instanceId: request.instanceId,
    };
    if (config.mode === 'broker') {
      if (!broker)
        throw new ApiError(
          'Unavailable',
          'Broker mode needs the broker ARN in Settings (or switch to direct mode).',
        );
      const started = await broker.startSession(credentials, {
        region: request.region,
        instanceId: request.instanceId,
        accountId: request.accountId,
      });
      traceHop('core: broker.startSession done');
      return {
        record: { ...base, sessionId: started.session.SessionId, mode: 'broker' },
        streamUrl: started.session.StreamUrl,
        tokenValue: started.session.TokenValue,
        linuxUser: started.linuxUser,
      };
    }
    const ssm = this.ssmClients.get(request.region, request, credentials);
    traceHop('core: ssm client made');
    try {
      const out = await ssm.send(
        new StartSessionCommand({
          Target: request.instanceId,
          DocumentName: `RoleShell-${request.permissionSet}`,
          Reason: `RoleShell via ${request.permissionSet}`.slice(0, 256),
        }),
      );
      traceHop('core: ssm.StartSession done');
      if (!out.SessionId || !out.StreamUrl || !out.TokenValue)
        throw new ApiError('Internal', 'Session Manager did not return a session.');
      return {
        record: { ...base, sessionId: out.SessionId, mode: 'direct' },
        streamUrl: out.StreamUrl,
        tokenValue: out.TokenValue,
      };
    } catch (error) {
      throw ssmFailure(error, 'start a session on', request.instanceId);
    }
  }

  async resumeToken(record: OpenSessionRecord): Promise<string> {
    const { broker, portal } = await this.center.current();
    const credentials = await portal.roleCredentials(record.accountId, record.permissionSet);
    if (record.mode === 'broker') {
      if (!broker) throw new SessionGone('The connection dropped and no broker is configured to resume it.');
      try {
        const out = await broker.resumeSession(credentials, {
          region: record.region,
          sessionId: record.sessionId,
          accountId: record.accountId,
        });
        return out.session.TokenValue;
      } catch (error) {
        // The broker says the session is over (terminated, timed out): redialling cannot help.
        if (error instanceof ApiError && error.code === 'NotFound')
          throw new SessionGone('The session ended while the connection was down.');
        throw error;
      }
    }
    const ssm = this.ssmClients.get(record.region, record, credentials);
    try {
      const out = await ssm.send(new ResumeSessionCommand({ SessionId: record.sessionId }));
      if (!out.TokenValue) throw new Error('ResumeSession returned no token');
      return out.TokenValue;
    } catch (error) {
      if ((error as { name?: string }).name === 'DoesNotExistException')
        throw new SessionGone('The session ended while the connection was down.');
      throw error;
    }
  }

  async terminate(record: OpenSessionRecord): Promise<void> {
    const connection = await this.center.current();
    if (connection.config.startUrl !== record.startUrl)
      throw new Error('signed in to another IAM Identity Center instance');
    const credentials = await connection.portal.roleCredentials(record.accountId, record.permissionSet);
    if (record.mode === 'broker') {
      if (!connection.broker) throw new Error('no broker configured');
      await connection.broker.terminateSession(credentials, {
        region: record.region,
        sessionId: record.sessionId,
        accountId: record.accountId,
      });
      return;
    }
    await this.ssmClients
      .get(record.region, record, credentials)
      .send(new TerminateSessionCommand({ SessionId: record.sessionId }));
  }

  async pluginEnv(record: OpenSessionRecord): Promise<Record<string, string>> {
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(this.env)) {
      if (value !== undefined && !AWS_CREDENTIAL_ENV.test(name) && !name.startsWith('ROLESHELL_'))
        env[name] = value;
    }
    env.TERM = 'xterm-256color';
    if (record.mode === 'direct') {
      // Direct mode: the session is the user's own, so the plugin's own ResumeSession can work with these.
      const { portal } = await this.center.current();
      const credentials = await portal.roleCredentials(record.accountId, record.permissionSet);
      env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
      env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
      env.AWS_SESSION_TOKEN = credentials.sessionToken;
    }
    // Broker mode: none. The session belongs to the broker's role; the user's credentials could not resume it.
    return env;
  }

  ssmEndpoint(region: string): string {
    return this.center.config()?.endpoint ?? `https://ssm.${region}.amazonaws.com`;
  }

  /** Whether a recorded session belongs to the identity signed in now (so it can be terminated). */
  async isCurrentIdentity(record: OpenSessionRecord): Promise<boolean> {
    return this.center.config()?.startUrl === record.startUrl;
  }

  private newSsmClient(region: string, credentials: RoleCredentials): SSMClient {
    const endpoint = this.center.config()?.endpoint;
    return new SSMClient({
      region,
      ...(endpoint ? { endpoint } : {}),
      credentials: {
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        sessionToken: credentials.sessionToken,
      },
      maxAttempts: 2,
    });
  }
}

function ssmFailure(error: unknown, what: string, instanceId: string): ApiError {
  if (error instanceof ApiError) return error;
  const name = (error as { name?: string }).name ?? '';
  if (name === 'AccessDeniedException')
    return new ApiError(
      'AccessDenied',
      `This permission set may not ${what} ${instanceId}. Ask your administrator.`,
    );
  if (name === 'TargetNotConnected')
    return new ApiError(
      'Unavailable',
      `${instanceId} is offline in Session Manager (its agent is not connected).`,
    );
  if (name === 'InvalidDocument')
    return new ApiError(
      'NotFound',
      'The session document for this permission set does not exist in the account.',
    );
  return new ApiError('Unavailable', `Could not ${what} ${instanceId}. Details are in the RoleShell log.`);
}
