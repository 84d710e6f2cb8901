/**
 * The DynamoDB replay store through the real SDK client: its serializer,
 * SigV4 signer and error deserializer run; only the HTTP hop is replaced by a
 * request handler that records the wire request and answers as DynamoDB does
 * (JSON 1.0 protocol). No DynamoDB is reachable here, so what is tested is the
 * exact request the store sends and how it reads DynamoDB's answers.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HttpResponse, type HttpRequest } from '@smithy/protocol-http';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BrokerError } from '../errors';
import { DynamoProofReplayStore } from './dynamoProofReplayStore';

interface Answer {
  status: number;
  body: unknown;
}

function clientAnswering(answers: Answer[]) {
  const requests: { headers: Record<string, string>; body: Record<string, unknown> }[] = [];
  const client = new DynamoDBClient({
    region: 'eu-west-1',
    endpoint: 'https://dynamodb.eu-west-1.amazonaws.com',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    maxAttempts: 1,
    requestHandler: {
      async handle(request: HttpRequest) {
        requests.push({ headers: request.headers, body: JSON.parse(String(request.body)) });
        const answer = answers.shift();
        if (!answer) throw new Error('unexpected request');
        return {
          response: new HttpResponse({
            statusCode: answer.status,
            headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'req-1' },
            body: Readable.from([Buffer.from(JSON.stringify(answer.body))]),
          }),
        };
      },
    },
  });
  return { client, requests };
}

const conditionFailed: Answer = {
  status: 400,
  body: {
    __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
    message: 'The conditional request failed',
  },
};

describe('DynamoProofReplayStore', () => {
  const now = Date.parse('2026-12-01T10:00:00.400Z');

  it('claims a proof with one conditional PutItem on its signature, expiring with the proof', async () => {
    const { client, requests } = clientAnswering([{ status: 200, body: {} }]);
    const store = new DynamoProofReplayStore(client, 'RoleShellProofs', () => now);
    await expect(store.claim('ab'.repeat(32), new Date('2026-12-01T10:05:00.200Z'))).resolves.toBe(true);
    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request!.headers['x-amz-target']).toBe('DynamoDB_20120810.PutItem');
    expect(request!.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/dynamodb\//,
    );
    expect(request!.body).toEqual({
      TableName: 'RoleShellProofs',
      Item: {
        signature: { S: 'ab'.repeat(32) },
        expiresAt: { N: String(Date.parse('2026-12-01T10:05:01Z') / 1000) },
      },
      ConditionExpression: 'attribute_not_exists(#signature) OR #expiresAt <= :now',
      ExpressionAttributeNames: { '#signature': 'signature', '#expiresAt': 'expiresAt' },
      ExpressionAttributeValues: { ':now': { N: String(Date.parse('2026-12-01T10:00:00Z') / 1000) } },
    });
  });

  it('reports a replay when DynamoDB refuses the condition', async () => {
    const { client } = clientAnswering([{ status: 200, body: {} }, conditionFailed]);
    const store = new DynamoProofReplayStore(client, 'RoleShellProofs', () => now);
    const expiresAt = new Date(now + 300_000);
    expect(await store.claim('sig', expiresAt)).toBe(true);
    expect(await store.claim('sig', expiresAt)).toBe(false);
  });

  it('is Throttled when the table is over capacity', async () => {
    const { client } = clientAnswering([
      {
        status: 400,
        body: {
          __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
          message: 'The level of configured provisioned throughput for the table was exceeded.',
        },
      },
    ]);
    const store = new DynamoProofReplayStore(client, 'RoleShellProofs', () => now);
    const error = await store.claim('sig', new Date(now + 300_000)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokerError);
    expect((error as BrokerError).code).toBe('Throttled');
  });

  it('fails closed on any other error, so an unrecorded proof is never accepted', async () => {
    const { client } = clientAnswering([
      {
        status: 400,
        body: {
          __type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException',
          message: 'Requested resource not found',
        },
      },
    ]);
    const store = new DynamoProofReplayStore(client, 'Missing', () => now);
    await expect(store.claim('sig', new Date(now + 300_000))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });
});
