import { describe, expect, it } from 'vitest';
import { MAX_BATCH_ENTRIES } from '../../broker/src/contract';
import { BATCH_TARGET_PAIRS, planBatches } from './loadAllBroker';

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
