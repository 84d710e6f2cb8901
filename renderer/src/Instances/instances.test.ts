import { describe, expect, it } from 'vitest';
import type { TargetList, TargetRow } from '../../../app/api/calls/browse';
import { emptyQuery, filterInstances, filterOptions, indexInstance, narrowingFilter } from './filter';
import { accountWithoutRoleShell, defaultAccess, mergeLists } from './model';

function target(permissionSet: string, linuxUser: string, over: Partial<TargetRow> = {}): TargetRow {
  const base = { accountId: '222222222222', region: 'eu-west-1', instanceId: 'i-0a1b2c3d4e5f60001', ...over };
  return {
    key: `${base.accountId}/${permissionSet}/${base.region}/${base.instanceId}`,
    accountName: 'prod-workloads',
    permissionSet,
    linuxUser,
    name: 'prod-web-1',
    platform: 'Amazon Linux',
    pingStatus: 'Online',
    tags: { Name: 'prod-web-1', team: 'payments' },
    ...base,
  };
}
const list = (permissionSet: string, rows: TargetRow[]): TargetList => ({
  accountId: '222222222222',
  permissionSet,
  mode: 'broker',
  linuxUser: rows[0]?.linuxUser ?? null,
  documentName: `RoleShell-${permissionSet}`,
  rows,
});

describe('mergeLists', () => {
  it('makes one row per instance with every permission set that reaches it, in a stable order', () => {
    const rows = mergeLists([
      list('ReadOnly', [target('ReadOnly', 'auditor')]),
      list('AdministratorAccess', [target('AdministratorAccess', 'ops-admin')]),
      list('ReadOnly', [target('ReadOnly', 'auditor', { instanceId: 'i-0a1b2c3d4e5f60002' })]),
    ]);
    expect(rows.size).toBe(2);
    const web1 = rows.get('222222222222/eu-west-1/i-0a1b2c3d4e5f60001')!;
    expect(web1.access.map((a) => `${a.linuxUser} — ${a.permissionSet}`)).toEqual([
      'ops-admin — AdministratorAccess',
      'auditor — ReadOnly',
    ]);
  });

  it('adds a list to earlier rows without losing them, and the same instance in another region is another row', () => {
    const first = mergeLists([list('ReadOnly', [target('ReadOnly', 'auditor')])]);
    const next = mergeLists(
      [
        list('Developer', [
          target('Developer', 'developer'),
          target('Developer', 'developer', { region: 'us-east-1' }),
        ]),
      ],
      first,
    );
    expect(next.size).toBe(2);
    expect(next.get('222222222222/eu-west-1/i-0a1b2c3d4e5f60001')!.access).toHaveLength(2);
    // The earlier map is not changed in place (React compares rows by identity).
    expect(first.get('222222222222/eu-west-1/i-0a1b2c3d4e5f60001')!.access).toHaveLength(1);
  });
});

describe('defaultAccess', () => {
  const row = mergeLists([
    list('AdministratorAccess', [target('AdministratorAccess', 'ops-admin')]),
    list('ReadOnly', [target('ReadOnly', 'auditor')]),
  ]).get('222222222222/eu-west-1/i-0a1b2c3d4e5f60001')!;

  it('is the first permission set when this instance was never used', () => {
    expect(defaultAccess(row, []).permissionSet).toBe('AdministratorAccess');
  });

  it('is the most recently used mapping of this instance', () => {
    const recent = (permissionSet: string, instanceId = row.instanceId) => ({
      key: 'k',
      accountId: row.accountId,
      accountName: row.accountName,
      permissionSet,
      region: row.region,
      instanceId,
      name: row.name,
      linuxUser: null,
      at: 1,
    });
    expect(
      defaultAccess(row, [recent('Developer', 'i-0a1b2c3d4e5f60009'), recent('ReadOnly')]).linuxUser,
    ).toBe('auditor');
    // A permission set that no longer reaches it is skipped.
    expect(defaultAccess(row, [recent('Gone'), recent('AdministratorAccess')]).permissionSet).toBe(
      'AdministratorAccess',
    );
  });
});

describe('filterInstances', () => {
  const rows = mergeLists([
    list('ReadOnly', [
      target('ReadOnly', 'auditor'),
      target('ReadOnly', 'auditor', {
        instanceId: 'i-0a1b2c3d4e5f60002',
        name: 'prod-db-1',
        pingStatus: 'ConnectionLost',
        tags: { team: 'storage' },
      }),
    ]),
  ]);
  const indexed = [...rows.values()].map(indexInstance);
  const names = (found: { name: string }[]) => found.map((r) => r.name);

  it('matches free text against any field, tag values included, every word required', () => {
    expect(names(filterInstances(indexed, { tokens: [], operation: 'and' }, 'payments'))).toEqual([
      'prod-web-1',
    ]);
    expect(names(filterInstances(indexed, { tokens: [], operation: 'and' }, 'PROD auditor offline'))).toEqual(
      ['prod-db-1'],
    );
    expect(filterInstances(indexed, { tokens: [], operation: 'and' }, 'nothing-like-this')).toEqual([]);
  });

  it('matches words within one row only, and searches a new array of rows afresh', () => {
    // The first row's text ends with its permission set ("readonly"), the second's starts with its name:
    // a word made of the end of one and the start of the next is in neither.
    expect(indexed[0]!.text.endsWith('readonly')).toBe(true);
    expect(indexed[1]!.text.startsWith('prod-db-1')).toBe(true);
    expect(filterInstances(indexed, emptyQuery, 'readonlyprod')).toEqual([]);
    expect(filterInstances(indexed, emptyQuery, 'only\n\nprod')).toHaveLength(2);
    const filter = narrowingFilter();
    expect(filter(indexed, emptyQuery, 'prod-db')).toHaveLength(1);
    // More rows arrive (a new array): the next keystroke finds them too.
    const more = [
      ...indexed,
      indexInstance({
        ...rows.get('222222222222/eu-west-1/i-0a1b2c3d4e5f60001')!,
        name: 'prod-db-2',
        instanceId: 'i-3',
      }),
    ];
    expect(filter(more, emptyQuery, 'prod-db').map((i) => i.row.name)).toEqual(['prod-db-1', 'prod-db-2']);
  });

  it('answers with the same array when the text filters nothing out, so nothing derived from it is rebuilt', () => {
    const filter = narrowingFilter();
    const none = { tokens: [], operation: 'and' as const };
    // Every row has an account id with a 2 in it: nothing is filtered out, first from all rows, then
    // from the previous answer.
    expect(filter(indexed, none, '2')).toBe(indexed);
    const web = filter(indexed, none, 'web');
    expect(web.map((i) => i.row.name)).toEqual(['prod-web-1']);
    expect(filter(indexed, none, 'web-')).toBe(web);
    expect(filterInstances(indexed, none, '')).toEqual(indexed.map((i) => i.row));
  });

  it('narrows from the previous matches as the text grows, and starts over when it does not extend', () => {
    const filter = narrowingFilter();
    const none = { tokens: [], operation: 'and' as const };
    const rowNames = (found: readonly { row: { name: string } }[]) => found.map((i) => i.row.name);
    expect(rowNames(filter(indexed, none, 'prod'))).toEqual(['prod-web-1', 'prod-db-1']);
    const narrowed = filter(indexed, none, 'prod-d');
    expect(rowNames(narrowed)).toEqual(['prod-db-1']);
    // Only the previous matches were scanned: the same answer as a full scan, for every step.
    expect(rowNames(filter(indexed, none, 'prod-db offline'))).toEqual(['prod-db-1']);
    for (const text of ['prod-w', 'PROD-WEB', 'prod-web-1', 'payments', 'pay'])
      expect(rowNames(filter(indexed, none, text))).toEqual(names(filterInstances(indexed, none, text)));
    expect(rowNames(filter(indexed, none, 'payments'))).toEqual(['prod-web-1']);
    expect(rowNames(filter(indexed, none, ''))).toEqual(['prod-web-1', 'prod-db-1']);
    // A new query (or new rows) is a full scan even if the text extends the previous one.
    const storage = {
      tokens: [{ propertyKey: 'tag', operator: '=', value: 'storage' }],
      operation: 'and' as const,
    };
    expect(rowNames(filter(indexed, storage, 'prod'))).toEqual(['prod-db-1']);
    expect(rowNames(filter(indexed, none, 'prod'))).toEqual(['prod-web-1', 'prod-db-1']);
  });

  it('applies property tokens with their operators, joined by and/or', () => {
    const q = (
      operation: 'and' | 'or',
      ...tokens: { propertyKey?: string; operator: string; value: string }[]
    ) => ({
      operation,
      tokens,
    });
    expect(
      names(filterInstances(indexed, q('and', { propertyKey: 'tag', operator: '=', value: 'storage' }))),
    ).toEqual(['prod-db-1']);
    expect(
      names(filterInstances(indexed, q('and', { propertyKey: 'status', operator: '!=', value: 'Online' }))),
    ).toEqual(['prod-db-1']);
    expect(
      names(
        filterInstances(
          indexed,
          q(
            'or',
            { propertyKey: 'name', operator: ':', value: 'web' },
            { propertyKey: 'tag', operator: ':', value: 'stor' },
          ),
        ),
      ),
    ).toEqual(['prod-web-1', 'prod-db-1']);
    expect(
      filterInstances(indexed, q('and', { propertyKey: 'linuxUser', operator: '=', value: 'ops-admin' })),
    ).toEqual([]);
  });

  it('offers distinct values per property for the filter dropdown', () => {
    const options = filterOptions(rows.values());
    expect(options).toContainEqual({ propertyKey: 'tag', value: 'storage' });
    expect(options.filter((o) => o.propertyKey === 'linuxUser')).toEqual([
      { propertyKey: 'linuxUser', value: 'auditor' },
    ]);
  });
});

describe('accountWithoutRoleShell', () => {
  it("recognises the broker's refusal for an account with no RoleShell member role", () => {
    expect(
      accountWithoutRoleShell(
        'The broker refused: RoleShell is not set up in account 111111111111; ask your administrator to add the account. Ask your administrator to map this permission set or tag the instance for it.',
      ),
    ).toBe('111111111111');
    expect(accountWithoutRoleShell('The broker refused: AccessDenied.')).toBeNull();
  });
});
