/**
 * The local AWS sandbox: IdC OIDC + portal, STS, Lambda, SSM, EC2 and the
 * Resource Groups Tagging API on one
 * loopback endpoint, SigV4-verified, with a CloudTrail-style log. See
 * sandbox/README.md and docs/contracts.md.
 */
import type { AddressInfo } from 'node:net';
import { CloudTrail, type CloudTrailEvent } from './cloudTrail';
import { createDataChannelHost, type DataChannelOptions, type FaultOptions } from './dataChannel';
import { InstanceHosts, type Isolation } from './dataChannel/instanceHost';
import { IamRoles, type IamRole, type RoleReplacement } from './identity/iamRoles';
import { SandboxUnavailable } from './identity/evaluator';
import { PolicyEnforcer, type IamPolicies } from './identity/policyEnforcer';
import { CredentialStore } from './identity/principals';
import { createSandboxServer } from './http/server';
import { loadOrg, type Org, type OrgFile } from './org';
import { SessionStore } from './sessionStore';
import { Ec2Service } from './services/ec2';
import { IamService } from './services/iam';
import { LambdaService } from './services/lambda';
import { SsmService } from './services/ssm';
import { IdentityCenterOidc } from './services/ssoOidc';
import { IdentityCenterPortal } from './services/ssoPortal';
import { SecurityTokenService } from './services/sts';
import { TaggingService } from './services/tagging';

export type { CloudTrailEvent } from './cloudTrail';
export type { IamRole, RoleReplacement } from './identity/iamRoles';
export type { IamPolicies } from './identity/policyEnforcer';
export type { Org, OrgFile } from './org';
export { generateOrg, loadOrg, defaultOrgPath } from './org';

export interface SandboxOptions {
  /** 0 (default) = any free port; always binds 127.0.0.1. */
  port?: number;
  /** Path to a YAML org file, or a parsed object; default sandbox/org/default.yaml. */
  org?: string | OrgFile;
  /** Auto-approve every device authorization as this IdC user name. */
  approve?: string;
  /** sso-oidc access tokens (default 3600). */
  accessTokenLifetimeSeconds?: number;
  /** sso-oidc refresh tokens (default 90 days). */
  refreshTokenLifetimeSeconds?: number;
  /** Device codes (default 600). */
  deviceCodeLifetimeSeconds?: number;
  /** `interval` StartDeviceAuthorization returns (default 1, as IdC does); polling faster -> SlowDownException. */
  pollIntervalSeconds?: number;
  /** Added to a device code's interval on each slow_down (default 5, as RFC 8628 says). */
  slowDownIncrementSeconds?: number;
  /** Portal role credentials' lifetime, overriding each permission set's session duration. */
  roleCredentialLifetimeSeconds?: number;
  /** Per access token, over which the portal answers TooManyRequestsException. */
  portalRateLimit?: { requests: number; perSeconds: number };
  /** Also append CloudTrail events to this file as JSON lines. */
  cloudTrailFile?: string;
  /** CloudTrail events kept in memory, the oldest dropped first (default 50,000; the file keeps all). */
  cloudTrailCapacity?: number;
  dataChannelFaults?: FaultOptions;
  /** State kept across sessions (each instance's home folders); default a temporary folder removed by close(). */
  stateDir?: string;
  /** The bubblewrap binary sessions run under (default `bwrap`); a path that does not exist turns isolation off. */
  bwrap?: string;
  /** More data-channel agent settings (document minute length, timeouts). */
  dataChannel?: Omit<DataChannelOptions, 'sessions' | 'faults' | 'log' | 'hosts'>;
  /** Bundle Lambda handlers right away instead of at their first invoke (the CLI does). */
  prebundleFunctions?: boolean;
  /** Folder Lambda handler modules are relative to (default: the project root above the org file). */
  root?: string;
  /**
   * Already-bundled handlers by function name, run as they are instead of bundling the org's
   * `module` (a packaged app ships the broker bundle and no sources or esbuild).
   */
  functionBundles?: Record<string, string>;
  log?: (line: string) => void;
  /**
   * IAM policies replacing, per role, permission set or function, those the org file gives (e.g.
   * read from infra's synthesized templates), and SCPs above the member accounts. Every call is
   * judged by the policy evaluator against them (identity/policyEnforcer.ts).
   */
  iamPolicies?: IamPolicies;
  /** Check each IAM decision with iam-simulate's validating engine too (tests; slower). */
  iamCrossCheck?: boolean;
  /** Another IAM evaluator module name (tests of a build without it). */
  iamEvaluatorModule?: string;
}

export interface Sandbox {
  /** http://127.0.0.1:<port>, every AWS client's `endpoint`. */
  endpoint: string;
  /** The IdC (home) region. */
  region: string;
  startUrl: string;
  brokerFunctionName: string;
  brokerFunctionArn: string;
  /** IdC user names. */
  users: string[];
  org: Org;
  sessions: SessionStore;
  /** Whether sessions run in their instance's namespaces, or why not and what to install. */
  isolation: Isolation;
  /** The accounts' IAM roles (what iam:GetRole answers). */
  iam: {
    getRole(accountId: string, roleName: string): IamRole | undefined;
    /** Deletes the role and creates one of the same name (a new RoleId; `/` and no trust unless given). */
    recreateRole(accountId: string, roleName: string, replacement?: RoleReplacement): IamRole;
  };
  /** The most recent CloudTrail events (at most `cloudTrailCapacity`), oldest first. */
  cloudTrail(): CloudTrailEvent[];
  /** Every call served since the start, per `service:Operation`, including events no longer kept. */
  callCounts(): Map<string, number>;
  /** IAM decisions evaluated and answered from the cache so far, and the time spent evaluating. */
  iamStats(): { evaluated: number; cached: number; evaluatingMs: number };
  /**
   * Fault injection: closes the session's data-channel WebSocket abruptly from the agent side (the
   * shell keeps running, the session goes Disconnected until ResumeSession and a redial). Returns
   * false when the session has no socket attached (unknown, ended, or already disconnected).
   */
  dropDataChannel(sessionId: string): boolean;
  /** Next refresh of these users' tokens -> InvalidGrantException. */
  revokeRefreshTokens(userName?: string): void;
  /** Ends shells, workers and sockets; nothing is left running. */
  close(): Promise<void>;
}

export const BROKER_FUNCTION_NAME = 'roleshell-broker';

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const log = options.log ?? (() => {});
  const loaded = loadOrg(options.org);
  const { org } = loaded;
  const root = options.root ?? loaded.root;
  // One IAM decision point for every service: the org file's policies, or those given.
  const policies = new PolicyEnforcer(org, options.iamPolicies, {
    crossCheck: options.iamCrossCheck,
    ...(options.iamEvaluatorModule ? { evaluatorModule: options.iamEvaluatorModule } : {}),
  });
  // Without its evaluator the sandbox could refuse every call after sign-in; say so now, once, instead.
  if ((await policies.evaluatorName()) === 'none') throw new SandboxUnavailable();
  let endpoint = '';
  const credentials = new CredentialStore();
  const cloudTrail = new CloudTrail(options.cloudTrailFile, options.cloudTrailCapacity);
  const sessions = new SessionStore();
  const hosts = new InstanceHosts({ org, stateDir: options.stateDir, bwrap: options.bwrap });
  const dataChannel = createDataChannelHost({
    ...options.dataChannel,
    sessions,
    hosts,
    faults: options.dataChannelFaults,
    log,
  });
  const oidc = new IdentityCenterOidc(
    org,
    {
      accessTokenLifetimeSeconds: options.accessTokenLifetimeSeconds ?? 3600,
      refreshTokenLifetimeSeconds: options.refreshTokenLifetimeSeconds ?? 90 * 24 * 3600,
      deviceCodeLifetimeSeconds: options.deviceCodeLifetimeSeconds ?? 600,
      pollIntervalSeconds: options.pollIntervalSeconds ?? 1,
      slowDownIncrementSeconds: options.slowDownIncrementSeconds ?? 5,
      clientRegistrationLifetimeSeconds: 90 * 24 * 3600,
      approve: options.approve,
    },
    () => endpoint,
  );
  const portal = new IdentityCenterPortal(org, oidc, credentials, {
    rateLimit: options.portalRateLimit,
    roleCredentialLifetimeSeconds: options.roleCredentialLifetimeSeconds,
  });
  const sts = new SecurityTokenService(org, credentials, policies);
  const ssm = new SsmService(org, sessions, dataChannel, () => endpoint, policies);
  const ec2 = new Ec2Service(org, policies);
  const tagging = new TaggingService(org, policies);
  const iam = new IamService(org, policies);
  const lambda = new LambdaService(
    org,
    root,
    credentials,
    () => endpoint,
    log,
    options.functionBundles,
    policies,
  );

  const server = createSandboxServer({
    credentials,
    cloudTrail,
    dataChannel,
    log,
    routes: {
      oidc: (ctx) => oidc.handle(ctx),
      devicePage: (ctx) => oidc.devicePage(ctx),
      portal: (ctx) => portal.handle(ctx),
      sts: (call, form) => sts.handle(call.ctx, form, call.caller, call.scope.region),
      ec2: (call, form) => ec2.handle(call, form),
      iam: (call, form) => iam.handle(call, form),
      ssm: (call, operation) => ssm.handle(call, operation),
      tagging: (call, operation) => tagging.handle(call, operation),
      lambda: (call) => lambda.handle(call),
    },
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await Promise.all([dataChannel.close(), lambda.close()]);
    hosts.close();
    throw new Error(`Cannot listen on 127.0.0.1:${options.port ?? 0}: ${(err as Error).message}`);
  }
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  if (options.prebundleFunctions) lambda.prepare();
  const pruner = setInterval(() => credentials.prune(), 3600_000);
  pruner.unref();

  const broker = org.functions.find((f) => f.name === BROKER_FUNCTION_NAME) ?? org.functions[0];
  let closing: Promise<void> | undefined;
  return {
    endpoint,
    region: org.region,
    startUrl: org.startUrl,
    brokerFunctionName: broker?.name ?? '',
    brokerFunctionArn: broker
      ? `arn:aws:lambda:${broker.region}:${broker.account}:function:${broker.name}`
      : '',
    users: org.users.map((u) => u.userName),
    org,
    sessions,
    isolation: hosts.isolation(),
    iam: {
      getRole: (accountId, roleName) => IamRoles.of(org).get(accountId, roleName),
      recreateRole: (accountId, roleName, replacement) =>
        IamRoles.of(org).recreate(accountId, roleName, replacement),
    },
    cloudTrail: () => cloudTrail.list(),
    callCounts: () => cloudTrail.callCounts(),
    iamStats: () => ({ ...policies.stats }),
    dropDataChannel: (sessionId) => dataChannel.dropDataChannel(sessionId),
    revokeRefreshTokens: (userName) => oidc.revokeRefreshTokens(userName),
    close: () =>
      (closing ??= (async () => {
        clearInterval(pruner);
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await Promise.all([dataChannel.close(), lambda.close()]);
        hosts.close();
        await closed;
      })()),
  };
}
