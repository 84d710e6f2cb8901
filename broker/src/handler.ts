/**
 * The Lambda entry point. Everything that can be done once per container is
 * done at cold start: the configuration is validated (a bad one fails the init
 * with a message naming each bad field) and the STS client is created.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { STSClient } from '@aws-sdk/client-sts';
import { streamAuditSink } from './audit';
import { createBroker, type BrokerLog } from './broker';
import { loadBrokerConfig } from './config';
import type { BrokerResponse } from './contract';
import { createMemberAccess } from './aws/memberAccess';
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

const sts = new STSClient({});
const stsAgents = keepAliveAgents();
const log: BrokerLog = (level, message, fields) => logger[level](message, fields ?? {});

const broker = createBroker({
  config,
  replayIdentityProof: (proof) => replayIdentityProof(proof, config.stsTimeoutSeconds * 1000, stsAgents),
  memberAccess: createMemberAccess({ sts, targetRoleName: config.targetRoleName }),
  audit: streamAuditSink(process.stdout),
  // One per execution environment; a shared store closes replays across environments (README).
  proofReplayStore: new MemoryProofReplayStore(),
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
