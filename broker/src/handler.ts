/**
 * The Lambda entry point. Everything that can be done once per container is
 * done at cold start: the configuration is validated (a bad one fails the init
 * with a message naming each bad field) and the STS client is created.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { STSClient } from '@aws-sdk/client-sts';
import { streamAuditSink } from './audit';
import { createBroker, type BrokerLog } from './broker';
import { loadBrokerConfig } from './config';
import type { BrokerResponse } from './contract';
import { createMemberAccess } from './aws/memberAccess';
import { DynamoProofReplayStore } from './identityProof/dynamoProofReplayStore';
import { MemoryProofReplayStore } from './identityProof/proofReplayStore';
import { keepAliveAgents, replayIdentityProof } from './identityProof/replay';

interface LambdaContext {
  awsRequestId: string;
  invokedFunctionArn: string;
}

const logger = new Logger({ serviceName: 'roleshell-broker' });

const config = (() => {
  try {
    return loadBrokerConfig(process.env);
  } catch (error) {
    logger.error((error as Error).message);
    throw error;
  }
})();

// One handler per command kind, built once: AssumeRole is sent for every account a batch opens.
const sts = new STSClient({ cacheMiddleware: true });
const stsAgents = keepAliveAgents();
const log: BrokerLog = (level, message, fields) => logger[level](message, fields ?? {});

const broker = createBroker({
  config,
  replayIdentityProof: (proof) => replayIdentityProof(proof, config.stsTimeoutSeconds * 1000, stsAgents),
  memberAccess: createMemberAccess({ sts, targetRoleName: config.targetRoleName }),
  audit: streamAuditSink(process.stdout),
  // The deployed broker shares one DynamoDB table across execution environments (infra/);
  // without one, each environment remembers its own used proofs (README).
  proofReplayStore: process.env.ROLESHELL_PROOF_REPLAY_TABLE
    ? new DynamoProofReplayStore(new DynamoDBClient({}), process.env.ROLESHELL_PROOF_REPLAY_TABLE)
    : new MemoryProofReplayStore(),
  log,
});

export async function handler(event: unknown, context: LambdaContext): Promise<BrokerResponse> {
  logger.appendKeys({ requestId: context.awsRequestId });
  try {
    return await broker.handle(event, {
      requestId: context.awsRequestId,
      functionArn: context.invokedFunctionArn,
    });
  } finally {
    logger.removeKeys(['requestId']);
  }
}
