/**
 * Talks to the session broker: every call carries a freshly signed
 * GetCallerIdentity proof (audience = the broker's ARN) made with the permission
 * set's own credentials, and is invoked with those same credentials. The proof
 * is signed by the broker's own signer, so the two sides cannot drift.
 *
 * One long-lived LambdaClient serves every permission set, so its keep-alive
 * connections are reused across a whole "load all": each Invoke is signed with
 * its own caller's credentials by `callerSigner`.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Hash } from '@smithy/hash-node';
import type { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { ApiError } from '../api/errors';
import type {
  BrokerFailure,
  BrokerResponse,
  ListTargetsBatchResult,
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

/** The caller whose credentials sign the Invoke in progress (one store per `send`, so concurrent calls cannot mix). */
const invokeCaller = new AsyncLocalStorage<RoleCredentials>();

/**
 * The Lambda client's request signer: SigV4 (lambda, the broker's region) with
 * the credentials of the Invoke's own caller. Without one it refuses to sign,
 * so nothing goes out under another permission set's name.
 */
function callerSigner(region: string) {
  return {
    sign(request: HttpRequest, options: { signingDate?: Date } = {}) {
      const caller = invokeCaller.getStore();
      if (!caller) throw new Error('broker Invoke without caller credentials');
      return new SignatureV4({
        credentials: {
          accessKeyId: caller.accessKeyId,
          secretAccessKey: caller.secretAccessKey,
          sessionToken: caller.sessionToken,
        },
        region,
        service: 'lambda',
        sha256: Hash.bind(null, 'sha256'),
      }).sign(request, options.signingDate ? { signingDate: options.signingDate } : {});
    },
  };
}

export class BrokerClient {
  readonly region: string;
  private readonly audience: string;
  private lambdaClient: LambdaClient | undefined;

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

  /**
   * Many (account, permission set) listings in one Invoke: each entry carries a
   * proof signed with its own credentials, and gets its own answer — the listing,
   * or the broker's refusal of that entry alone — in the same order. The Invoke
   * itself goes out as the first entry's caller.
   */
  async listTargetsBatch(
    entries: { accountId: string; credentials: RoleCredentials }[],
    regions: string[],
  ): Promise<Array<ListTargetsResult | BrokerRefusal>> {
    const first = entries[0];
    if (!first) return [];
    // Each proof is bound to its own entry: this batch's regions and its account.
    const signed = await Promise.all(
      entries.map(async (entry) => ({
        accountId: entry.accountId,
        identity: await this.proof(entry.credentials, {
          action: 'listTargetsBatch',
          regions,
          accountId: entry.accountId,
        }),
      })),
    );
    const response = await this.send<ListTargetsBatchResult>(first.credentials, {
      action: 'listTargetsBatch',
      regions,
      entries: signed,
    });
    if (!Array.isArray(response.entries) || response.entries.length !== entries.length)
      throw new ApiError(
        'Internal',
        'The broker sent an answer RoleShell could not read. Tell your administrator.',
      );
    return response.entries.map((answer) => (answer?.ok === true ? answer : refusal(answer)));
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

  /** Closes the Lambda client's connections (sign-out, a new configuration); the next call opens new ones. */
  destroy(): void {
    this.lambdaClient?.destroy();
    this.lambdaClient = undefined;
  }

  private get lambda(): LambdaClient {
    return (this.lambdaClient ??= new LambdaClient({
      region: this.region,
      ...(this.options.endpoint ? { endpoint: this.options.endpoint } : {}),
      // The client-wide identity never signs anything: callerSigner signs each Invoke as its caller.
      credentials: { accessKeyId: 'ROLESHELL-NO-CALLER', secretAccessKey: 'none' },
      signer: callerSigner(this.region),
      maxAttempts: 2,
    }));
  }

  private proof(credentials: RoleCredentials, request: BrokerPayload) {
    return signIdentityProof({
      credentials,
      region: this.region,
      audience: this.audience,
      request: proofRequestFor(request),
      ...(this.options.endpoint ? { endpoint: this.options.endpoint } : {}),
    });
  }

  private async invoke<T extends Exclude<BrokerResponse, BrokerFailure>>(
    credentials: RoleCredentials,
    request: BrokerPayload,
  ): Promise<T> {
    // Bound to this exact request; a fresh proof per call (startSession proofs are single-use).
    return this.send<T>(credentials, { ...request, identity: await this.proof(credentials, request) });
  }

  /** One Invoke as `credentials`' caller; resolves with the broker's success answer or throws its refusal. */
  private async send<T extends Exclude<BrokerResponse, BrokerFailure>>(
    credentials: RoleCredentials,
    payload: Record<string, unknown>,
  ): Promise<T> {
    let out;
    try {
      const command = new InvokeCommand({
        FunctionName: this.options.functionArn,
        InvocationType: 'RequestResponse',
        Payload: new TextEncoder().encode(JSON.stringify(payload)),
      });
      out = await invokeCaller.run(credentials, () => this.lambda.send(command));
    } catch (error) {
      this.options.log?.(`broker ${String(payload.action)} invoke failed`, error);
      throw invokeFailure(
        error && typeof error === 'object' && 'name' in error ? String(error.name) : '',
        this.options.functionArn,
      );
    }
    if (out.FunctionError) {
      this.options.log?.(`broker ${String(payload.action)} crashed: ${out.FunctionError}`);
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
    throw refusal(response as BrokerFailure | undefined);
  }
}

/** The broker's refusal, with a code the launcher knows (anything else is Internal). */
function refusal(response: BrokerFailure | undefined): BrokerRefusal {
  const failure = response?.error;
  const code =
    failure && (brokerErrorCodes as readonly string[]).includes(failure.code) ? failure.code : 'Internal';
  return new BrokerRefusal(code, typeof failure?.message === 'string' ? failure.message : 'no reason given');
}
