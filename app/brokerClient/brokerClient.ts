/**
 * Talks to the session broker: every call carries a freshly signed
 * GetCallerIdentity proof (audience = the broker's ARN) made with the permission
 * set's own credentials, and is invoked with those same credentials. The proof
 * is signed by the broker's own signer, so the two sides cannot drift.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ApiError } from '../api/errors';
import type {
  BrokerFailure,
  BrokerResponse,
  ListTargetsResult,
  ResumeSessionResult,
  StartSessionResult,
  TerminateSessionResult,
} from '../../broker/src/contract';
import { brokerErrorCodes } from '../../broker/src/errors';
import { proofRequestFor, signIdentityProof } from '../../broker/src/identityProof/sign';
import type { RoleCredentials } from '../portal/types';
import { BrokerRefusal, invokeFailure } from './errorMessages';

export interface BrokerClientOptions {
  /** The broker's function ARN; also the proof's audience. */
  functionArn: string;
  /** One endpoint for Lambda and STS (the sandbox); undefined = real AWS. */
  endpoint?: string;
  log?: (message: string, error?: unknown) => void;
}

/** A broker request without its proof. */
type BrokerPayload = Parameters<typeof proofRequestFor>[0];

const arnPattern = /^arn:(aws[a-z-]*):lambda:([a-z0-9-]+):(\d{12}):function:([A-Za-z0-9_-]+)/;

export class BrokerClient {
  readonly region: string;
  private readonly audience: string;
  private readonly clients = new Map<string, LambdaClient>();

  constructor(private readonly options: BrokerClientOptions) {
    const match = arnPattern.exec(options.functionArn);
    if (!match)
      throw new ApiError(
        'InvalidInput',
        `The broker ARN ${options.functionArn} is not a Lambda function ARN.`,
      );
    this.region = match[2]!;
    // The broker compares the audience with its unqualified ARN.
    this.audience = `arn:${match[1]}:lambda:${match[2]}:${match[3]}:function:${match[4]}`;
  }

  listTargets(credentials: RoleCredentials, regions: string[]): Promise<ListTargetsResult> {
    return this.invoke<ListTargetsResult>(credentials, { action: 'listTargets', regions });
  }

  startSession(
    credentials: RoleCredentials,
    target: { region: string; instanceId: string; accountId?: string },
  ) {
    return this.invoke<StartSessionResult>(credentials, { action: 'startSession', ...target });
  }

  terminateSession(
    credentials: RoleCredentials,
    session: { region: string; sessionId: string; accountId?: string },
  ) {
    return this.invoke<TerminateSessionResult>(credentials, { action: 'terminateSession', ...session });
  }

  /** A new data-channel token for one of the caller's own live sessions (after a dropped socket). */
  resumeSession(
    credentials: RoleCredentials,
    session: { region: string; sessionId: string; accountId?: string },
  ) {
    return this.invoke<ResumeSessionResult>(credentials, { action: 'resumeSession', ...session });
  }

  destroy(): void {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
  }

  private lambdaFor(credentials: RoleCredentials): LambdaClient {
    let client = this.clients.get(credentials.accessKeyId);
    if (!client) {
      // One client per credential set; old ones go when their credentials are replaced.
      if (this.clients.size > 32) this.destroy();
      client = new LambdaClient({
        region: this.region,
        ...(this.options.endpoint ? { endpoint: this.options.endpoint } : {}),
        credentials: {
          accessKeyId: credentials.accessKeyId,
          secretAccessKey: credentials.secretAccessKey,
          sessionToken: credentials.sessionToken,
        },
        maxAttempts: 2,
      });
      this.clients.set(credentials.accessKeyId, client);
    }
    return client;
  }

  private async invoke<T extends Exclude<BrokerResponse, BrokerFailure>>(
    credentials: RoleCredentials,
    request: BrokerPayload,
  ): Promise<T> {
    // Bound to this exact request; a fresh proof per call (startSession proofs are single-use).
    const identity = await signIdentityProof({
      credentials,
      region: this.region,
      audience: this.audience,
      request: proofRequestFor(request),
      ...(this.options.endpoint ? { endpoint: this.options.endpoint } : {}),
    });
    let out;
    try {
      out = await this.lambdaFor(credentials).send(
        new InvokeCommand({
          FunctionName: this.options.functionArn,
          InvocationType: 'RequestResponse',
          Payload: new TextEncoder().encode(JSON.stringify({ ...request, identity })),
        }),
      );
    } catch (error) {
      this.options.log?.(`broker ${String(request.action)} invoke failed`, error);
      throw invokeFailure(
        error && typeof error === 'object' && 'name' in error ? String(error.name) : '',
        this.options.functionArn,
      );
    }
    if (out.FunctionError) {
      this.options.log?.(`broker ${String(request.action)} crashed: ${out.FunctionError}`);
      throw new ApiError(
        'Internal',
        'The broker failed while handling the request. Try again; if it keeps failing, tell your administrator.',
      );
    }
    let response: BrokerResponse;
    try {
      response = JSON.parse(new TextDecoder().decode(out.Payload)) as BrokerResponse;
    } catch {
      throw new ApiError(
        'Internal',
        'The broker sent an answer RoleShell could not read. Tell your administrator.',
      );
    }
    if (response && response.ok === true) return response as T;
    const failure = (response as BrokerFailure | undefined)?.error;
    const code =
      failure && (brokerErrorCodes as readonly string[]).includes(failure.code) ? failure.code : 'Internal';
    throw new BrokerRefusal(code, typeof failure?.message === 'string' ? failure.message : 'no reason given');
  }
}
