import { describe, expect, it } from 'vitest';
import { MAX_BATCH_ENTRIES } from '../../broker/src/contract';
import type { ListTargetsResult } from '../../broker/src/contract';
import { ApiError } from '../api/errors';
import { BrokerRefusal } from '../brokerClient/errorMessages';
import type { RoleCredentials } from '../portal/types';
import { BATCH_TARGET_PAIRS, loadAllBrokerTargets, planBatches } from './loadAllBroker';
import type { TargetList } from './types';

const pairs = (accounts: number, perAccount: number) =>
  Array.from({ length: accounts }, (_, a) =>
    Array.from({ length: perAccount }, (_, p) => ({
      accountId: String(100000000000 + a),
      permissionSet: `PS${p}`,
    })),
  ).flat();

describe('planBatches', () => {
  it('keeps each account whole and fills batches to at least the target', () => {
    const batches = planBatches(pairs(1000, 3));
    expect(batches.flat()).toHaveLength(3000);
    // At most one Invoke per 25 pairs.
    expect(batches.length).toBeLessThanOrEqual(3000 / 25);
    for (const batch of batches.slice(0, -1)) expect(batch.length).toBeGreaterThanOrEqual(BATCH_TARGET_PAIRS);
    const accountsIn = batches.map((b) => new Set(b.map((p) => p.accountId)));
    for (let i = 1; i < accountsIn.length; i++)
      for (const id of accountsIn[i]!) expect(accountsIn[i - 1]!.has(id)).toBe(false);
  });

  it('never exceeds the broker cap: a huge account is split, a full batch closes before the next account', () => {
    const batches = planBatches([
      ...pairs(1, 250),
      ...pairs(3, 40).map((p) => ({ ...p, accountId: `9${p.accountId.slice(1)}` })),
    ]);
    expect(batches.every((b) => b.length <= MAX_BATCH_ENTRIES)).toBe(true);
    expect(batches.flat()).toHaveLength(250 + 120);
    expect(batches.map((b) => b.length)).toEqual([100, 100, 50, 40, 40, 40]);
  });

  it('plans nothing for nothing', () => {
    expect(planBatches([])).toEqual([]);
  });
});

describe('loadAllBrokerTargets', () => {
  const credentials = (accountId: string, ps: string): RoleCredentials => ({
    accessKeyId: `AK-${accountId}-${ps}`,
    secretAccessKey: 's',
    sessionToken: 't',
    expiration: Date.now() + 3600_000,
  });
  const listing = (ps: string): ListTargetsResult => ({
    ok: true,
    permissionSet: ps,
    linuxUser: `user-${ps}`,
    documentName: `RoleShell-${ps}`,
    targets: [],
  });

  it('gives every pair its own outcome, retrying transient refusals once and stopping on a lost sign-in', async () => {
    const calls: string[][] = [];
    let flaky = true;
    const broker = {
      listTargetsBatch: async (entries: { accountId: string; credentials: RoleCredentials }[]) => {
        calls.push(entries.map((e) => e.credentials.accessKeyId));
        return entries.map((e) => {
          const ps = e.credentials.accessKeyId.split('-').at(-1)!;
          if (ps === 'Denied') return new BrokerRefusal('AccessDenied', 'Not mapped');
          if (ps === 'Flaky' && flaky) {
            flaky = false;
            return new BrokerRefusal('Internal', 'The broker could not reach STS');
          }
          return listing(ps);
        });
      },
    };
    const pairs = pairs2(['ReadOnly', 'Denied', 'Flaky', 'NoCredentials']);
    const outcomes = new Map<string, TargetList | Error>();
    await loadAllBrokerTargets({
      broker,
      pairs,
      regions: ['eu-west-1'],
      credentialsFor: async (p) => {
        if (p.permissionSet === 'NoCredentials')
          throw new ApiError('AccessDenied', 'You are not assigned it');
        return credentials(p.accountId, p.permissionSet);
      },
      accountName: (id) => `name-${id}`,
      onOutcome: (p, o) => outcomes.set(`${p.accountId}/${p.permissionSet}`, o),
    });
    expect(outcomes.size).toBe(pairs.length);
    expect(outcomes.get('100000000000/ReadOnly')).toMatchObject({
      linuxUser: 'user-ReadOnly',
      mode: 'broker',
    });
    expect(outcomes.get('100000000000/Denied')).toMatchObject({ code: 'AccessDenied' });
    expect(outcomes.get('100000000000/Flaky')).toMatchObject({ linuxUser: 'user-Flaky' });
    expect(outcomes.get('100000000000/NoCredentials')).toMatchObject({ message: 'You are not assigned it' });
    // One batch, then one retry of the transient pair alone.
    expect(calls.map((c) => c.length)).toEqual([3, 1]);

    await expect(
      loadAllBrokerTargets({
        broker,
        pairs,
        regions: ['eu-west-1'],
        credentialsFor: async () => {
          throw new ApiError('SignInExpired', 'Sign in again');
        },
        accountName: (id) => id,
        onOutcome: () => {},
      }),
    ).rejects.toMatchObject({ code: 'SignInExpired' });
  });
});

function pairs2(sets: string[]) {
  return sets.map((permissionSet) => ({ accountId: '100000000000', permissionSet }));
}
