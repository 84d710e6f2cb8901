/**
 * Direct mode (no broker): the permission set's own credentials list the
 * instances tagged for it (SSM DescribeInstanceInformation for reachability,
 * EC2 DescribeInstances for names and tags), and the Linux user is read from the
 * mapped session document's `runAsDefaultUser`, when the permission set may read it.
 */
import {
  DescribeInstancesCommand,
  EC2Client,
  type DescribeInstancesCommandOutput,
} from '@aws-sdk/client-ec2';
import { DescribeInstanceInformationCommand, GetDocumentCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ApiError } from '../api/errors';
import type { RoleCredentials } from '../portal/types';
import { PERMISSION_SETS_TAG, targetKey, type TargetList, type TargetRow } from './types';

export interface DirectTargetsInput {
  credentials: RoleCredentials;
  accountId: string;
  accountName: string;
  permissionSet: string;
  regions: string[];
  endpoint?: string;
  documentPrefix?: string;
  log?: (message: string, error?: unknown) => void;
}

/** True when the tag value (comma separated) lists the permission set or `*`. */
export function tagAllows(value: string | undefined, permissionSet: string): boolean {
  if (!value) return false;
  return value.split(',').some((p) => {
    const name = p.trim();
    return name === '*' || name === permissionSet;
  });
}

export async function listDirectTargets(input: DirectTargetsInput): Promise<TargetList> {
  const documentName = `${input.documentPrefix ?? 'RoleShell-'}${input.permissionSet}`;
  const clientConfig = (region: string) => ({
    region,
    ...(input.endpoint ? { endpoint: input.endpoint } : {}),
    credentials: {
      accessKeyId: input.credentials.accessKeyId,
      secretAccessKey: input.credentials.secretAccessKey,
      sessionToken: input.credentials.sessionToken,
    },
  });
  const perRegion = await Promise.all(
    input.regions.map(async (region) => {
      const ssm = new SSMClient(clientConfig(region));
      const ec2 = new EC2Client(clientConfig(region));
      try {
        const [rows, linuxUser] = await Promise.all([
          regionRows(ssm, ec2, region, input),
          readRunAsUser(ssm, documentName, input.log),
        ]);
        return { rows, linuxUser };
      } catch (error) {
        input.log?.(`direct listing in ${region} failed`, error);
        const name = error && typeof error === 'object' && 'name' in error ? String(error.name) : '';
        if (/AccessDenied|UnauthorizedOperation/.test(name)) {
          throw new ApiError(
            'AccessDenied',
            `${input.permissionSet} may not list instances in ${region} (ssm:DescribeInstanceInformation, ec2:DescribeInstances). Ask your administrator or use the broker.`,
          );
        }
        throw new ApiError(
          'Unavailable',
          `Could not list instances in ${region}. Check your network and refresh.`,
        );
      } finally {
        ssm.destroy();
        ec2.destroy();
      }
    }),
  );
  const linuxUser = perRegion.find((r) => r.linuxUser)?.linuxUser ?? null;
  const rows = perRegion.flatMap((r) => r.rows).map((row) => ({ ...row, linuxUser }));
  return {
    accountId: input.accountId,
    permissionSet: input.permissionSet,
    mode: 'direct',
    linuxUser,
    documentName,
    rows,
  };
}

async function regionRows(
  ssm: SSMClient,
  ec2: EC2Client,
  region: string,
  input: DirectTargetsInput,
): Promise<TargetRow[]> {
  const ping = new Map<string, { pingStatus: string; platform: string }>();
  let nextToken: string | undefined;
  do {
    const page = await ssm.send(
      new DescribeInstanceInformationCommand({
        Filters: [{ Key: 'tag-key', Values: [PERMISSION_SETS_TAG] }],
        MaxResults: 50,
        NextToken: nextToken,
      }),
    );
    for (const info of page.InstanceInformationList ?? []) {
      if (!info.InstanceId) continue;
      ping.set(info.InstanceId, {
        pingStatus: info.PingStatus ?? 'Unknown',
        platform: info.PlatformName || info.PlatformType || 'Unknown',
      });
    }
    nextToken = page.NextToken || undefined;
  } while (nextToken);

  const rows: TargetRow[] = [];
  nextToken = undefined;
  do {
    const token: string | undefined = nextToken;
    const page: DescribeInstancesCommandOutput = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [{ Name: 'tag-key', Values: [PERMISSION_SETS_TAG] }],
        NextToken: token,
      }),
    );
    for (const reservation of page.Reservations ?? []) {
      for (const instance of reservation.Instances ?? []) {
        if (!instance.InstanceId) continue;
        const tags = Object.fromEntries((instance.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
        if (!tagAllows(tags[PERMISSION_SETS_TAG], input.permissionSet)) continue;
        const info = ping.get(instance.InstanceId);
        const base = {
          accountId: input.accountId,
          permissionSet: input.permissionSet,
          region,
          instanceId: instance.InstanceId,
        };
        rows.push({
          ...base,
          key: targetKey(base),
          accountName: input.accountName,
          linuxUser: null,
          name: tags.Name || instance.InstanceId,
          platform: info?.platform ?? instance.PlatformDetails ?? 'Unknown',
          pingStatus: info?.pingStatus ?? 'NotRegistered',
          tags,
        });
      }
    }
    nextToken = page.NextToken || undefined;
  } while (nextToken);
  return rows;
}

/** The document's runAsDefaultUser, or undefined when it is missing or not readable. */
async function readRunAsUser(
  ssm: SSMClient,
  name: string,
  log?: DirectTargetsInput['log'],
): Promise<string | undefined> {
  try {
    const out = await ssm.send(new GetDocumentCommand({ Name: name }));
    const content = JSON.parse(out.Content ?? '{}') as { inputs?: { runAsDefaultUser?: unknown } };
    const user = content.inputs?.runAsDefaultUser;
    return typeof user === 'string' && user ? user : undefined;
  } catch (error) {
    log?.(`session document ${name} not readable`, error);
    return undefined;
  }
}
