/**
 * MemberAccess over AWS SDK v3: sts:AssumeRole into the member account's
 * target role with RoleSessionName = SourceIdentity = the user, credentials
 * cached per (account, user) until 5 minutes before they expire, and SSM/EC2
 * clients (and the account's IAM client) cached with them. Endpoints come from the environment
 * (AWS_ENDPOINT_URL in the sandbox), so the code is the same on AWS.
 */
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  DescribeInstanceInformationCommand,
  DescribeSessionsCommand,
  GetDocumentCommand,
  ListTagsForResourceCommand,
  paginateDescribeInstanceInformation,
  ResumeSessionCommand,
  SSMClient,
  StartSessionCommand,
  TerminateSessionCommand,
  type InstanceInformation,
} from '@aws-sdk/client-ssm';
import {
  DescribeInstancesCommand,
  EC2Client,
  paginateDescribeInstances,
  type Tag,
} from '@aws-sdk/client-ec2';
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
  /** Extra SDK client config for SSM/EC2 (tests; on Lambda the environment decides). */
  clientConfig?: { endpoint?: string };
  now?: () => number;
}

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

interface CachedMember {
  credentials: Credentials;
  assumedRoleArn: string;
  clients: Map<string, { ssm: SSMClient; ec2: EC2Client }>;
  iam?: IAMClient;
}

/** IAM is global; each partition signs it for one region. */
const IAM_SIGNING_REGION = new Map([
  ['aws', 'us-east-1'],
  ['aws-cn', 'cn-north-1'],
  ['aws-us-gov', 'us-gov-west-1'],
]);

/** Own properties only (fromEntries): a tag key such as `__proto__` is kept as a tag, never a prototype. */
export function tagsToRecord(tags: readonly Tag[] | undefined): Record<string, string> {
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

export function createMemberAccess(options: MemberAccessOptions): MemberAccess {
  const now = options.now ?? Date.now;
  // Clients of expired credentials are closed so their keep-alive sockets do not linger.
  const cache = new TtlCache<CachedMember>(500, now, (member) => {
    for (const { ssm, ec2 } of member.clients.values()) {
      ssm.destroy();
      ec2.destroy();
    }
    member.iam?.destroy();
  });
  const inFlight = new Map<string, Promise<CachedMember>>();

  async function assume(
    accountId: string,
    partition: string,
    roleSessionName: string,
  ): Promise<CachedMember> {
    const roleArn = `arn:${partition}:iam::${accountId}:role/${options.targetRoleName}`;
    const output = await options.sts
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
      });
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

  return async (accountId, partition, roleSessionName) => {
    const member = await memberFor(accountId, partition, roleSessionName);
    const clients = (region: string) => {
      let entry = member.clients.get(region);
      if (!entry) {
        const config = { region, credentials: member.credentials, ...options.clientConfig };
        entry = { ssm: new SSMClient(config), ec2: new EC2Client(config) };
        member.clients.set(region, entry);
      }
      return entry;
    };

    const iam = () =>
      (member.iam ??= new IAMClient({
        region: IAM_SIGNING_REGION.get(partition) ?? 'us-east-1',
        credentials: member.credentials,
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
          if (awsErrorName(error) === 'NoSuchEntityException' || awsErrorName(error) === 'NoSuchEntity')
            return undefined;
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
        const { ssm, ec2 } = clients(region);
        if (instanceId.startsWith('mi-')) {
          try {
            const output = await ssm.send(
              new ListTagsForResourceCommand({ ResourceType: 'ManagedInstance', ResourceId: instanceId }),
            );
            return tagsToRecord(output.TagList);
          } catch (error) {
            if (awsErrorName(error) === 'InvalidResourceId') return undefined;
            throw error;
          }
        }
        // A filter (not InstanceIds) so a missing instance is an empty answer, not an error.
        const output = await ec2.send(
          new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: [instanceId] }] }),
        );
        const instance = output.Reservations?.flatMap((r) => r.Instances ?? []).find(
          (i) => i.InstanceId === instanceId,
        );
        return instance ? tagsToRecord(instance.Tags) : undefined;
      },

      async listTaggedInstances(region) {
        const { ssm, ec2 } = clients(region);
        const managed: ManagedInstance[] = [];
        for await (const page of paginateDescribeInstanceInformation(
          { client: ssm, pageSize: 50 },
          { Filters: [{ Key: 'tag-key', Values: [PERMISSION_SETS_TAG] }] },
        )) {
          for (const info of page.InstanceInformationList ?? []) {
            const entry = toManaged(info);
            if (entry) managed.push(entry);
          }
        }
        const tagsById = new Map<string, Record<string, string>>();
        for await (const page of paginateDescribeInstances(
          { client: ec2, pageSize: 200 },
          { Filters: [{ Name: 'tag-key', Values: [PERMISSION_SETS_TAG] }] },
        )) {
          for (const instance of page.Reservations?.flatMap((r) => r.Instances ?? []) ?? []) {
            if (instance.InstanceId) tagsById.set(instance.InstanceId, tagsToRecord(instance.Tags));
          }
        }
        const result: TaggedInstance[] = [];
        for (const entry of managed) {
          const tags =
            tagsById.get(entry.instanceId) ??
            (entry.instanceId.startsWith('mi-')
              ? await account.instanceTags(region, entry.instanceId)
              : undefined);
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
  };
}
