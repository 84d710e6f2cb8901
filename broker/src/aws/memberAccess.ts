/**
 * MemberAccess over AWS SDK v3: sts:AssumeRole into the member account's
 * target role with RoleSessionName = SourceIdentity = the user, credentials
 * cached per (account, user) until 5 minutes before they expire, and SSM and
 * Resource Groups Tagging clients (and the account's IAM client) cached with
 * them. Tags come from the tagging API (one tag-filtered GetResources), not
 * EC2: the EC2 client's schemas alone were half the bundle and its cold start,
 * for one call. Endpoints come from the environment (AWS_ENDPOINT_URL in the
 * sandbox), so the code is the same on AWS.
 */
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  DescribeInstanceInformationCommand,
  DescribeSessionsCommand,
  GetDocumentCommand,
  paginateDescribeInstanceInformation,
  ResumeSessionCommand,
  SSMClient,
  StartSessionCommand,
  TerminateSessionCommand,
  type InstanceInformation,
} from '@aws-sdk/client-ssm';
import {
  GetResourcesCommand,
  paginateGetResources,
  ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
import { Hash } from '@smithy/hash-node';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { SignatureV4 } from '@smithy/signature-v4';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { awsErrorName, BrokerError } from '../errors';
import { PERMISSION_SETS_TAG } from '../authorization';
import type { MemberAccess, MemberAccount, ManagedInstance, TaggedInstance } from '../memberAccount';
import { TtlCache } from '../ttlCache';

/** Assumed credentials are dropped this long before they expire. */
export const CREDENTIAL_REFRESH_MARGIN_MS = 5 * 60 * 1000;

export interface MemberAccessOptions {
  sts: STSClient;
  targetRoleName: string;
  /** Seconds the assumed role session lasts (900-3600 for role chaining). */
  durationSeconds?: number;
  /** Extra SDK client config for SSM/tagging (tests; on Lambda the environment decides). */
  clientConfig?: { endpoint?: string };
  /** Connection pool every member client shares (default: one per createMemberAccess, keep-alive). */
  requestHandler?: NodeHttpHandler;
  now?: () => number;
}

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

type Endpoints = Awaited<ReturnType<typeof configuredEndpoints>>;

interface CachedMember {
  credentials: Credentials;
  assumedRoleArn: string;
  /** The configured endpoints as read once per container (none on AWS). */
  endpoints: Endpoints;
  clients: Map<string, { ssm: SSMClient; tagging: ResourceGroupsTaggingAPIClient }>;
  iam?: IAMClient;
}

/** IAM is global; each partition signs it for one region. */
const IAM_SIGNING_REGION = new Map([
  ['aws', 'us-east-1'],
  ['aws-cn', 'cn-north-1'],
  ['aws-us-gov', 'us-gov-west-1'],
]);

/** The resource types an SSM target can be: EC2 instances and hybrid (mi-) managed instances. */
const INSTANCE_RESOURCE_TYPES = ['ec2:instance', 'ssm:managed-instance'];

/** The ARN the tagging API names an instance by. */
export function instanceArn(
  partition: string,
  region: string,
  accountId: string,
  instanceId: string,
): string {
  return instanceId.startsWith('mi-')
    ? `arn:${partition}:ssm:${region}:${accountId}:managed-instance/${instanceId}`
    : `arn:${partition}:ec2:${region}:${accountId}:instance/${instanceId}`;
}

/** The instance ID at the end of an instance or managed-instance ARN. */
const instanceIdOfArn = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

/** Own properties only (fromEntries): a tag key such as `__proto__` is kept as a tag, never a prototype. */
export function tagsToRecord(
  tags: readonly { Key?: string; Value?: string }[] | undefined,
): Record<string, string> {
  return Object.fromEntries(
    (tags ?? []).flatMap((tag) => (tag.Key !== undefined ? [[tag.Key, tag.Value ?? '']] : [])),
  );
}

function toManaged(info: InstanceInformation): ManagedInstance | undefined {
  if (!info.InstanceId) return undefined;
  return {
    instanceId: info.InstanceId,
    pingStatus: info.PingStatus ?? 'Unknown',
    platform:
      [info.PlatformName, info.PlatformVersion].filter(Boolean).join(' ') || info.PlatformType || 'Unknown',
    ...(info.ComputerName ? { computerName: info.ComputerName } : {}),
  };
}

/** Keep-alive HTTP(S) agents sized for a batch's fan-out. */
export function sharedRequestHandler(): NodeHttpHandler {
  return new NodeHttpHandler({
    httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 32 }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 32 }),
  });
}

/**
 * The settings every client resolves alike from the environment and the shared
 * config files (FIPS, dual-stack, retries, app id, defaults mode), as one probe
 * client resolves them: its memoized providers are handed to every member
 * client, so each setting is looked up once per container instead of once per
 * client (a batch creates hundreds of clients; each lookup walks env, then
 * ~/.aws/config, raising and catching an error per miss).
 */
function containerSettings() {
  const { config } = new SSMClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'probe', secretAccessKey: 'probe' },
  });
  return {
    useFipsEndpoint: config.useFipsEndpoint,
    useDualstackEndpoint: config.useDualstackEndpoint,
    maxAttempts: config.maxAttempts,
    retryMode: config.retryMode,
    userAgentAppId: config.userAgentAppId,
    defaultsMode: config.defaultsMode,
    authSchemePreference: config.authSchemePreference,
    // Each client sends several commands of one kind (pages, documents): build each handler once.
    cacheMiddleware: true,
  };
}

/**
 * One SigV4 signer per client (the SDK's `signer` setting): without it the SDK builds a new
 * SignatureV4 for every request from a copy of the whole client config. Each request still
 * signs for the region and service its endpoint names; these are the defaults only.
 */
const signerFor = (service: string, region: string, credentials: Credentials) =>
  new SignatureV4({ service, region, credentials, sha256: Hash.bind(null, 'sha256') });

/** A service's endpoint as the SDK reads it from the environment and config (AWS_ENDPOINT_URL…), if any. */
type ConfiguredEndpoint = () => Promise<string | undefined>;

/**
 * The endpoint each member service is configured with (AWS_ENDPOINT_URL_<SERVICE>,
 * AWS_ENDPOINT_URL, the config file's endpoint_url), read once per container by one probe
 * client per service and handed to every member client: otherwise every new client reads the
 * environment and config again on its first call (a miss raises and catches several errors each).
 * Undefined on AWS, where the SDK resolves the regional endpoint.
 */
function configuredEndpoints(): Promise<{
  ssm: string | undefined;
  tagging: string | undefined;
  iam: string | undefined;
}> {
  const probe = { region: 'us-east-1', credentials: { accessKeyId: 'probe', secretAccessKey: 'probe' } };
  const of = (config: object) =>
    ((config as { serviceConfiguredEndpoint?: ConfiguredEndpoint }).serviceConfiguredEndpoint?.() ??
      Promise.resolve(undefined)) as Promise<string | undefined>;
  return Promise.all([
    of(new SSMClient(probe).config),
    of(new ResourceGroupsTaggingAPIClient(probe).config),
    of(new IAMClient(probe).config),
  ]).then(([ssm, tagging, iam]) => ({ ssm, tagging, iam }));
}

/**
 * The configured endpoint as read once, or (none configured, as on AWS) that there is none,
 * so the client does not look for one again: the SDK then resolves the regional endpoint.
 */
const endpointSetting = (url: string | undefined) =>
  url ? { endpoint: url } : { ignoreConfiguredEndpointUrls: true };

export function createMemberAccess(options: MemberAccessOptions): MemberAccess {
  const now = options.now ?? Date.now;
  const settings = containerSettings();
  let endpoints: ReturnType<typeof configuredEndpoints> | undefined;
  // Read with the first AssumeRole, not at import: a failed read is tried again by the next one.
  const endpointsOnce = () =>
    (endpoints ??= configuredEndpoints().catch((error: unknown) => {
      endpoints = undefined;
      throw error;
    }));
  // One keep-alive pool for every account's and region's clients: a batch touching hundreds of
  // accounts reuses a few sockets instead of opening new ones per client. Clients of expired
  // credentials are simply dropped; the pool lives as long as the container.
  const requestHandler = options.requestHandler ?? sharedRequestHandler();
  const cache = new TtlCache<CachedMember>(2000, now);
  const inFlight = new Map<string, Promise<CachedMember>>();

  async function assume(
    accountId: string,
    partition: string,
    roleSessionName: string,
  ): Promise<CachedMember> {
    const roleArn = `arn:${partition}:iam::${accountId}:role/${options.targetRoleName}`;
    // Both at once; Promise.all also observes the endpoints' failure when AssumeRole fails first.
    const [output, endpoints] = await Promise.all([
      options.sts
        .send(
          new AssumeRoleCommand({
            RoleArn: roleArn,
            RoleSessionName: roleSessionName,
            SourceIdentity: roleSessionName,
            DurationSeconds: options.durationSeconds ?? 3600,
          }),
        )
        .catch((error: unknown) => {
          // STS says AccessDenied both when the role is missing and when it does not trust the
          // broker: either way the account is not (or not fully) onboarded, which the user can
          // only report, not fix. Other failures stay Internal.
          if (awsErrorName(error) === 'AccessDenied')
            throw new BrokerError(
              'AccessDenied',
              `RoleShell is not set up in account ${accountId}; ask your administrator to add the account to RoleShell's member-account deployment.`,
              `AssumeRole ${roleArn} refused: ${error instanceof Error ? error.message : String(error)}`,
            );
          throw error;
        }),
      endpointsOnce(),
    ]);
    const c = output.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration)
      throw new Error('AssumeRole returned no credentials');
    return {
      credentials: {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
        expiration: c.Expiration,
      },
      assumedRoleArn:
        output.AssumedRoleUser?.Arn ??
        `arn:${partition}:sts::${accountId}:assumed-role/${options.targetRoleName}/${roleSessionName}`,
      endpoints,
      clients: new Map(),
    };
  }

  async function memberFor(
    accountId: string,
    partition: string,
    roleSessionName: string,
  ): Promise<CachedMember> {
    const key = `${accountId}|${roleSessionName}`;
    const cached = cache.get(key);
    if (cached) return cached;
    // Concurrent requests for one user share one AssumeRole call.
    let pending = inFlight.get(key);
    if (!pending) {
      pending = assume(accountId, partition, roleSessionName)
        .then((member) => {
          cache.set(key, member, member.credentials.expiration.getTime() - CREDENTIAL_REFRESH_MARGIN_MS);
          return member;
        })
        .finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    return pending;
  }

  const open = async (accountId: string, partition: string, roleSessionName: string) =>
    memberAccount(await memberFor(accountId, partition, roleSessionName), accountId, partition);
  const opened = (accountId: string, partition: string, roleSessionName: string) => {
    const member = cache.get(`${accountId}|${roleSessionName}`);
    return member ? memberAccount(member, accountId, partition) : undefined;
  };
  return Object.assign(open, { opened });

  function memberAccount(member: CachedMember, accountId: string, partition: string): MemberAccount {
    const clients = (region: string) => {
      let entry = member.clients.get(region);
      if (!entry) {
        const config = { ...settings, region, credentials: member.credentials, requestHandler };
        const withEndpoint = (url: string | undefined) => ({
          ...config,
          ...endpointSetting(url),
          ...options.clientConfig,
        });
        entry = {
          ssm: new SSMClient({
            ...withEndpoint(member.endpoints.ssm),
            signer: signerFor('ssm', region, member.credentials),
          }),
          tagging: new ResourceGroupsTaggingAPIClient({
            ...withEndpoint(member.endpoints.tagging),
            signer: signerFor('tagging', region, member.credentials),
          }),
        };
        member.clients.set(region, entry);
      }
      return entry;
    };

    const iamRegion = IAM_SIGNING_REGION.get(partition) ?? 'us-east-1';
    const iam = () =>
      (member.iam ??= new IAMClient({
        ...settings,
        region: iamRegion,
        credentials: member.credentials,
        signer: signerFor('iam', iamRegion, member.credentials),
        requestHandler,
        ...endpointSetting(member.endpoints.iam),
        ...options.clientConfig,
      }));

    const account: MemberAccount = {
      accountId,
      sessionArn: member.assumedRoleArn,

      async getRole(roleName) {
        try {
          const { Role } = await iam().send(new GetRoleCommand({ RoleName: roleName }));
          if (!Role?.Path || !Role.RoleId) throw new Error('GetRole returned no role');
          return { path: Role.Path, roleId: Role.RoleId };
        } catch (error) {
          const name = awsErrorName(error);
          if (name === 'NoSuchEntityException' || name === 'NoSuchEntity') return 'NoSuchEntity';
          // The deployed target role may read only roles under IdC's path: a denial names a role outside it.
          if (name === 'AccessDenied' || name === 'AccessDeniedException') return 'AccessDenied';
          throw error;
        }
      },

      async getSessionDocument(region, name) {
        try {
          const doc = await clients(region).ssm.send(
            new GetDocumentCommand({ Name: name, DocumentFormat: 'JSON' }),
          );
          if (doc.Content === undefined) return undefined;
          return { name, documentType: doc.DocumentType ?? 'Unknown', content: doc.Content };
        } catch (error) {
          if (awsErrorName(error) === 'InvalidDocument') return undefined;
          throw error;
        }
      },

      async describeManagedInstance(region, instanceId) {
        const output = await clients(region).ssm.send(
          new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [instanceId] }] }),
        );
        const info = output.InstanceInformationList?.find((entry) => entry.InstanceId === instanceId);
        return info ? toManaged(info) : undefined;
      },

      async instanceTags(region, instanceId) {
        // An ARN list: a missing instance is an empty answer, not an error.
        const output = await clients(region).tagging.send(
          new GetResourcesCommand({
            ResourceARNList: [instanceArn(partition, region, accountId, instanceId)],
          }),
        );
        const mapping = output.ResourceTagMappingList?.find(
          (entry) => entry.ResourceARN && instanceIdOfArn(entry.ResourceARN) === instanceId,
        );
        return mapping ? tagsToRecord(mapping.Tags) : undefined;
      },

      async listTaggedInstances(region) {
        const { ssm, tagging } = clients(region);
        // The two listings are independent: SSM says what is managed, the tagging API what it is tagged.
        const [managed, tagsById] = await Promise.all([
          (async () => {
            const found: ManagedInstance[] = [];
            for await (const page of paginateDescribeInstanceInformation(
              { client: ssm, pageSize: 50 },
              { Filters: [{ Key: 'tag-key', Values: [PERMISSION_SETS_TAG] }] },
            )) {
              for (const info of page.InstanceInformationList ?? []) {
                const entry = toManaged(info);
                if (entry) found.push(entry);
              }
            }
            return found;
          })(),
          (async () => {
            const tags = new Map<string, Record<string, string>>();
            for await (const page of paginateGetResources(
              { client: tagging, pageSize: 100 },
              { ResourceTypeFilters: INSTANCE_RESOURCE_TYPES, TagFilters: [{ Key: PERMISSION_SETS_TAG }] },
            )) {
              for (const entry of page.ResourceTagMappingList ?? []) {
                if (entry.ResourceARN) tags.set(instanceIdOfArn(entry.ResourceARN), tagsToRecord(entry.Tags));
              }
            }
            return tags;
          })(),
        ]);
        const result: TaggedInstance[] = [];
        for (const entry of managed) {
          const tags = tagsById.get(entry.instanceId);
          if (tags) result.push({ ...entry, tags });
        }
        return result;
      },

      async startSession(region, start) {
        const output = await clients(region).ssm.send(
          new StartSessionCommand({
            Target: start.target,
            DocumentName: start.documentName,
            Reason: start.reason,
          }),
        );
        if (!output.SessionId || !output.StreamUrl || !output.TokenValue)
          throw new Error('StartSession returned no session');
        return { SessionId: output.SessionId, StreamUrl: output.StreamUrl, TokenValue: output.TokenValue };
      },

      async describeSession(region, sessionId) {
        const output = await clients(region).ssm.send(
          new DescribeSessionsCommand({ State: 'Active', Filters: [{ key: 'SessionId', value: sessionId }] }),
        );
        const session = output.Sessions?.find((s) => s.SessionId === sessionId);
        if (!session) return undefined;
        return {
          sessionId,
          owner: session.Owner ?? '',
          status: session.Status ?? 'Unknown',
          target: session.Target ?? '',
        };
      },

      async terminateSession(region, sessionId) {
        await clients(region).ssm.send(new TerminateSessionCommand({ SessionId: sessionId }));
      },

      async resumeSession(region, sessionId) {
        let output;
        try {
          output = await clients(region).ssm.send(new ResumeSessionCommand({ SessionId: sessionId }));
        } catch (error) {
          if (awsErrorName(error) === 'DoesNotExistException') return undefined;
          throw error;
        }
        if (!output.SessionId || !output.StreamUrl || !output.TokenValue)
          throw new Error('ResumeSession returned no session');
        return { SessionId: output.SessionId, StreamUrl: output.StreamUrl, TokenValue: output.TokenValue };
      },
    };
    return account;
  }
}
