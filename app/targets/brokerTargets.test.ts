import { describe, expect, it } from 'vitest';
import type { ListTargetsResult } from '../../broker/src/contract';
import type { BrokerClient } from '../brokerClient/brokerClient';
import { listBrokerTargets } from './brokerTargets';

const credentials = { accessKeyId: 'ASIAX', secretAccessKey: 's', sessionToken: 't', expiration: 0 };
const target = (instanceId: string, name: string, region = 'eu-west-1') => ({
  instanceId,
  name,
  region,
  accountId: '222222222222',
  platform: 'Amazon Linux',
  pingStatus: 'Online',
  tags: {},
  linuxUser: 'auditor',
  documentName: 'RoleShell-ReadOnly',
});

/** One unit at a time: a broker client that answers a fixed listTargets result. */
function brokerAnswering(result: Omit<ListTargetsResult, 'ok'>, seen: string[][] = []): BrokerClient {
  return {
    listTargets: async (_c: unknown, regions: string[]) => {
      seen.push(regions);
      return { ok: true, ...result };
    },
  } as unknown as BrokerClient;
}

describe('listBrokerTargets', () => {
  it('asks for every configured region, sorts by name and drops duplicates', async () => {
    const seen: string[][] = [];
    const broker = brokerAnswering(
      {
        permissionSet: 'ReadOnly',
        linuxUser: 'auditor',
        documentName: 'RoleShell-ReadOnly',
        targets: [
          target('i-0000000000000000b', 'web-b'),
          target('i-0000000000000000a', 'web-a'),
          target('i-0000000000000000b', 'web-b'),
        ],
      },
      seen,
    );
    const list = await listBrokerTargets({
      broker,
      credentials,
      accountId: '222222222222',
      accountName: 'prod',
      permissionSet: 'ReadOnly',
      regions: ['eu-west-1', 'us-east-1'],
    });
    expect(seen).toEqual([['eu-west-1', 'us-east-1']]);
    expect(list.rows.map((r) => r.name)).toEqual(['web-a', 'web-b']);
    expect(list.rows[0]).toMatchObject({
      key: '222222222222/ReadOnly/eu-west-1/i-0000000000000000a',
      accountName: 'prod',
      linuxUser: 'auditor',
    });
    expect(list).toMatchObject({ mode: 'broker', linuxUser: 'auditor', documentName: 'RoleShell-ReadOnly' });
  });

  it('keeps the same instance reached in two regions apart', async () => {
    const broker = brokerAnswering({
      permissionSet: 'ReadOnly',
      linuxUser: 'auditor',
      documentName: 'RoleShell-ReadOnly',
      targets: [
        target('i-0000000000000000a', 'a', 'eu-west-1'),
        target('i-0000000000000000a', 'a', 'us-east-1'),
      ],
    });
    const list = await listBrokerTargets({
      broker,
      credentials,
      accountId: '222222222222',
      accountName: 'prod',
      permissionSet: 'ReadOnly',
      regions: ['eu-west-1', 'us-east-1'],
    });
    expect(list.rows).toHaveLength(2);
  });
});
