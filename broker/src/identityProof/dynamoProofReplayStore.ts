/**
 * The proof replay store shared by every execution environment of the broker:
 * one DynamoDB item per used proof, keyed by the proof's signature, written
 * with a conditional PutItem so that of two concurrent claims exactly one
 * succeeds. DynamoDB's TTL (attribute `expiresAt`, epoch seconds) removes the
 * items, lazily; until then an item past its expiry counts as free, which is
 * what the condition says. Deployed by infra/ (ROLESHELL_PROOF_REPLAY_TABLE).
 */
import {
  ConditionalCheckFailedException,
  PutItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { awsErrorName, BrokerError } from '../errors';
import type { ProofReplayStore } from './proofReplayStore';

const capacityErrors = new Set([
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'ThrottlingException',
]);

export class DynamoProofReplayStore implements ProofReplayStore {
  constructor(
    private readonly client: Pick<DynamoDBClient, 'send'>,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async claim(signature: string, expiresAt: Date): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            signature: { S: signature },
            // Rounded up: the proof stays used at least as long as it is valid.
            expiresAt: { N: String(Math.ceil(expiresAt.getTime() / 1000)) },
          },
          ConditionExpression: 'attribute_not_exists(#signature) OR #expiresAt <= :now',
          ExpressionAttributeNames: { '#signature': 'signature', '#expiresAt': 'expiresAt' },
          ExpressionAttributeValues: { ':now': { N: String(Math.floor(this.now() / 1000)) } },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      if (capacityErrors.has(awsErrorName(error) ?? '')) {
        throw new BrokerError(
          'Throttled',
          'The broker is handling too many sessions right now; try again in a few seconds.',
          `proof replay table throttled: ${String(error)}`,
        );
      }
      // Failing closed: without a record of the claim the proof must not be accepted.
      throw error;
    }
  }
}
