import { describe, expect, it } from 'vitest';
import type { TargetRow } from '../../../app/api/calls/browse';
import { filterRows, indexRows } from './filter';

const row = (name: string, extra: Partial<TargetRow> = {}): TargetRow => ({
  key: name,
  accountId: '222222222222',
  accountName: 'prod-workloads',
  permissionSet: 'ReadOnly',
  linuxUser: 'auditor',
  instanceId: `i-${name}`,
  name,
  region: 'eu-west-1',
  platform: 'Amazon Linux',
  pingStatus: 'Online',
  ...extra,
});

describe('filterRows', () => {
  const rows = indexRows([
    row('prod-web-1'),
    row('prod-db-1', { linuxUser: 'ops-admin', permissionSet: 'AdministratorAccess' }),
    row('edge', { region: 'us-east-1' }),
  ]);

  it('returns everything for an empty query', () => {
    expect(filterRows(rows, '  ')).toHaveLength(3);
  });

  it('matches every word, case-insensitively, across name, user, region and permission set', () => {
    expect(filterRows(rows, 'PROD').map((r) => r.name)).toEqual(['prod-web-1', 'prod-db-1', 'edge']); // account name
    expect(filterRows(rows, 'ops-admin').map((r) => r.name)).toEqual(['prod-db-1']);
    expect(filterRows(rows, 'us-east eDGe').map((r) => r.name)).toEqual(['edge']);
    expect(filterRows(rows, 'web auditor').map((r) => r.name)).toEqual(['prod-web-1']);
    expect(filterRows(rows, 'nothing-like-this')).toEqual([]);
  });
});
