/**
 * "Load all" in broker mode: every (account, permission set) pair, in batches
 * of whole accounts (about BATCH_TARGET_PAIRS pairs, never more than the
 * broker's MAX_BATCH_ENTRIES) so that the broker lists each account once per
 * region for all its permission sets. The credentials of a batch are fetched
 * concurrently (the portal bounds how many are in flight), and a few batches
 * are in flight at once. Every pair gets its own outcome: its list, or why not.
 */
import { MAX_BATCH_ENTRIES } from '../../broker/src/contract';
import { ApiError } from '../api/errors';
import type { BrokerClient } from '../brokerClient/brokerClient';
import { BrokerRefusal } from '../brokerClient/errorMessages';
import { mapWithConcurrency } from '../portal/backoff';
import type { AccountPermissionSet, RoleCredentials } from '../portal/types';
import { toTargetList } from './brokerTargets';
import type { TargetList } from './types';

/** Pairs per broker Invoke (whole accounts): a 1,000 × 3 organisation takes about 100 Invokes. */
export const BATCH_TARGET_PAIRS = 30;
/** Broker Invokes in flight at once. */
export const BATCHES_IN_FLIGHT = 4;

/** Consecutive whole accounts until a batch holds at least `target` pairs; a huge account is split at `max`. */
export function planBatches(
  pairs: readonly AccountPermissionSet[],
  target = BATCH_TARGET_PAIRS,
  max = MAX_BATCH_ENTRIES,
): AccountPermissionSet[][] {
  const byAccount = new Map<string, AccountPermissionSet[]>();
  for (const pair of pairs) {
    const list = byAccount.get(pair.accountId) ?? [];
    list.push(pair);
    byAccount.set(pair.accountId, list);
  }
  const batches: AccountPermissionSet[][] = [];
  let current: AccountPermissionSet[] = [];
  for (const accountPairs of byAccount.values()) {
    if (current.length > 0 && current.length + accountPairs.length > max) {
      batches.push(current);
      current = [];
    }
    for (let i = 0; i < accountPairs.length; i += max) {
      current.push(...accountPairs.slice(i, i + max));
      if (current.length >= max) {
        batches.push(current);
        current = [];
      }
    }
    if (current.length >= target) {
      batches.push(current);
      current = [];
    }
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Sign-in problems stop the whole load; anything else refuses only its own pair. */
export const stopsEverything = (error: unknown) =>
  error instanceof ApiError && (error.code === 'SignInExpired' || error.code === 'NotSignedIn');

/** A refusal that says "try again" (the broker could not reach STS, AWS throttled): worth one more pass. */
const isTransient = (outcome: Error) =>
  outcome instanceof BrokerRefusal &&
  (outcome.brokerCode === 'Internal' || outcome.brokerCode === 'Throttled');

export async function loadAllBrokerTargets(input: {
  broker: Pick<BrokerClient, 'listTargetsBatch'>;
  pairs: readonly AccountPermissionSet[];
  regions: string[];
  credentialsFor(pair: AccountPermissionSet): Promise<RoleCredentials>;
  accountName(accountId: string): string;
  onOutcome(pair: AccountPermissionSet, outcome: TargetList | Error): void;
}): Promise<void> {
  // Pairs refused for a transient reason get one more pass, after everything else, with fresh proofs.
  const again: AccountPermissionSet[] = [];
  const pass = async (pairs: readonly AccountPermissionSet[], last: boolean) => {
    const settle = (pair: AccountPermissionSet, outcome: TargetList | Error) => {
      if (!last && outcome instanceof Error && isTransient(outcome)) again.push(pair);
      else input.onOutcome(pair, outcome);
    };
    await mapWithConcurrency(planBatches(pairs), BATCHES_IN_FLIGHT, async (batch) => {
      const credentials = await Promise.allSettled(batch.map((pair) => input.credentialsFor(pair)));
      const ready: { pair: AccountPermissionSet; credentials: RoleCredentials }[] = [];
      credentials.forEach((result, i) => {
        const pair = batch[i]!;
        if (result.status === 'fulfilled') ready.push({ pair, credentials: result.value });
        else if (stopsEverything(result.reason)) throw result.reason;
        else input.onOutcome(pair, asError(result.reason));
      });
      if (ready.length === 0) return;
      let answers;
      try {
        answers = await input.broker.listTargetsBatch(
          ready.map(({ pair, credentials: c }) => ({ accountId: pair.accountId, credentials: c })),
          input.regions,
        );
      } catch (error) {
        // The Invoke itself failed: every pair of the batch shares the reason.
        for (const { pair } of ready) input.onOutcome(pair, asError(error));
        return;
      }
      answers.forEach((answer, i) => {
        const { pair } = ready[i]!;
        settle(
          pair,
          answer instanceof Error
            ? answer
            : toTargetList(answer, { ...pair, accountName: input.accountName(pair.accountId) }),
        );
      });
    });
  };
  await pass(input.pairs, false);
  if (again.length > 0) await pass(again, true);
}

const asError = (error: unknown) => (error instanceof Error ? error : new Error(String(error)));
