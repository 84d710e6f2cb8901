/**
 * The broker stack, deployed once in the central (broker) account: the
 * Lambda function bundled from broker/ by `npm run build:broker`, its
 * least-privilege execution role, an organization-only resource policy, the
 * audit log group, and the DynamoDB table that makes startSession and
 * resumeSession proofs single-use across concurrent execution environments.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  Aws,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
  aws_dynamodb as dynamodb,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_logs as logs,
} from 'aws-cdk-lib';
import { acknowledge } from '../nag';
import type { Construct } from 'constructs';
import { documentOverrides, type InfraConfig } from '../config';

/** Environment variable naming the proof replay table (read by broker/src/handler.ts). */
export const PROOF_REPLAY_TABLE_ENV = 'ROLESHELL_PROOF_REPLAY_TABLE';

export interface BrokerStackProps extends StackProps {
  config: InfraConfig;
  /** Folder holding the esbuild bundle's index.mjs (dist/broker). */
  brokerBundleDir: string;
}

/** The broker's ROLESHELL_BROKER_CONFIG (docs/contracts.md), from the deployment configuration. */
export function brokerRuntimeConfig(config: InfraConfig) {
  return {
    targetRoleName: config.member.targetRoleName,
    regions: config.regions,
    documentPrefix: config.member.documentPrefix,
    documentOverrides: documentOverrides(config),
    crossAccount: config.broker.crossAccount,
  };
}

export class MissingBrokerBundleError extends Error {
  override readonly name = 'MissingBrokerBundleError';
}

/** The stack deploys the real bundle; synthesizing without one would ship nothing. */
export function requireBrokerBundle(brokerBundleDir: string): void {
  const bundle = path.join(brokerBundleDir, 'index.mjs');
  if (!existsSync(bundle)) {
    throw new MissingBrokerBundleError(
      `${bundle} does not exist; run \`npm run build:broker\` first (npm run synth does).`,
    );
  }
}

export class BrokerStack extends Stack {
  readonly function: lambda.Function;
  readonly executionRole: iam.Role;
  readonly proofReplayTable: dynamodb.Table;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: BrokerStackProps) {
    super(scope, id, props);
    const { config } = props;
    requireBrokerBundle(props.brokerBundleDir);

    this.logGroup = new logs.LogGroup(this, 'AuditLog', {
      logGroupName: `/aws/lambda/${config.broker.functionName}`,
      retention: config.broker.logRetentionDays as logs.RetentionDays,
      // The log group is the audit trail: it outlives the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.proofReplayTable = new dynamodb.Table(this, 'ProofReplayTable', {
      partitionKey: { name: 'signature', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'expiresAt',
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      roleName: config.broker.executionRoleName,
      description: 'RoleShell session broker: assumes the member target role, nothing else on AWS resources',
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      inlinePolicies: {
        AssumeMemberTargetRole: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              sid: 'AssumeTargetRoleInOrganization',
              actions: ['sts:AssumeRole', 'sts:SetSourceIdentity', 'sts:TagSession'],
              resources: [`arn:${Aws.PARTITION}:iam::*:role/${config.member.targetRoleName}`],
              conditions: { StringEquals: { 'aws:ResourceOrgID': config.organization.id } },
            }),
          ],
        }),
        WriteAuditLog: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              sid: 'WriteOwnLogGroup',
              actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              resources: [this.logGroup.logGroupArn],
            }),
          ],
        }),
        ClaimProofs: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              sid: 'ConditionalPutOnProofTable',
              actions: ['dynamodb:PutItem'],
              resources: [this.proofReplayTable.tableArn],
            }),
          ],
        }),
      },
    });

    this.function = new lambda.Function(this, 'Broker', {
      functionName: config.broker.functionName,
      description: 'RoleShell session broker',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      code: lambda.Code.fromAsset(props.brokerBundleDir, { exclude: ['meta.json'] }),
      handler: 'index.handler',
      role: this.executionRole,
      memorySize: 512,
      timeout: Duration.seconds(config.broker.timeoutSeconds),
      reservedConcurrentExecutions: config.broker.reservedConcurrency,
      logGroup: this.logGroup,
      environment: {
        ROLESHELL_BROKER_CONFIG: JSON.stringify(brokerRuntimeConfig(config)),
        [PROOF_REPLAY_TABLE_ENV]: this.proofReplayTable.tableName,
      },
    });

    // Only principals of the organization may invoke the broker; it then verifies each caller itself.
    new lambda.CfnPermission(this, 'InvokeFromOrganization', {
      action: 'lambda:InvokeFunction',
      functionName: this.function.functionArn,
      principal: '*',
      principalOrgId: config.organization.id,
    });

    acknowledge(
      this.executionRole,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:role/${config.member.targetRoleName}]`,
      'The target role exists in every member account, so the account is a wildcard; aws:ResourceOrgID limits it to this organization.',
    );
    acknowledge(
      this.function,
      'AwsSolutions-L1',
      'nodejs22.x is the runtime the bundle is built and tested for (the issue pins it); a newer runtime is a deliberate, tested change, not a silent default.',
    );
    acknowledge(
      this.proofReplayTable,
      'AwsSolutions-DDB3',
      'The table holds only used-proof signatures that expire within minutes (TTL); a point-in-time restore has nothing worth restoring.',
    );
  }
}
