/**
 * Lambda (rest-json): Invoke (`POST /2015-03-31/functions/{name}/invocations`)
 * of the functions the org file declares, with the resource-policy check of who
 * may invoke, RequestResponse / Event / DryRun invocation types and
 * `X-Amz-Function-Error` on a failed handler.
 */
import type { PolicyEnforcer } from '../identity/policyEnforcer';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Org, OrgFunction } from '../org/schema';
import { AwsError, type WireResponse } from '../http/awsError';
import { header } from '../http/context';
import type { SignedCall } from '../http/server';
import type { CredentialStore, RoleSession } from '../identity/principals';
import { FunctionRuntime } from '../lambda/functionRuntime';

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
const MAX_PAYLOAD = 6 * 1024 * 1024;

export class LambdaService {
  private readonly runtimes = new Map<string, FunctionRuntime>();
  private workDir?: string;
  private readonly background = new Set<Promise<unknown>>();
  /** Prebuilt handler bundles by function name (a Map: org names never index a plain object). */
  private readonly bundles: Map<string, string>;

  constructor(
    private readonly org: Org,
    private readonly root: string,
    private readonly credentials: CredentialStore,
    private readonly endpoint: () => string,
    private readonly log: (line: string) => void,
    bundles: Record<string, string> = {},
    private readonly policies: PolicyEnforcer,
  ) {
    this.bundles = new Map(Object.entries(bundles));
  }

  private runtime(fn: OrgFunction): FunctionRuntime {
    let rt = this.runtimes.get(fn.name);
    if (!rt) {
      this.workDir ??= mkdtempSync(join(tmpdir(), 'roleshell-sandbox-lambda-'));
      rt = new FunctionRuntime({
        fn,
        root: this.root,
        prebuiltBundle: this.bundles.get(fn.name),
        workDir: this.workDir,
        credentials: this.credentials,
        endpoint: this.endpoint,
        log: this.log,
      });
      this.runtimes.set(fn.name, rt);
    }
    return rt;
  }

  /** Name, partial ARN (acct:function:name) or full ARN, as Lambda accepts them. */
  private resolve(
    raw: string,
    caller: RoleSession,
    region: string,
  ): { fn?: OrgFunction; qualifier?: string; arn: string } {
    const m =
      /^(?:arn:aws:lambda:([a-z0-9-]+):)?(?:(\d{12}):function:)?([a-zA-Z0-9-_]{1,64})(?::([a-zA-Z0-9-_$]+))?$/.exec(
        raw,
      );
    if (!m)
      throw new AwsError(
        'ValidationException',
        `1 validation error detected: Value '${raw}' at 'functionName' failed to satisfy constraint`,
        400,
      );
    const [, arnRegion, account = caller.accountId, name, qualifier] = m;
    const arn = `arn:aws:lambda:${region}:${account}:function:${name}`;
    if (arnRegion && arnRegion !== region) return { arn };
    const fn = this.org.functions.find(
      (f) => f.name === name && f.account === account && f.region === region,
    );
    return { fn, qualifier, arn };
  }

  async handle(call: SignedCall): Promise<WireResponse> {
    const { ctx, caller, scope } = call;
    ctx.trail.eventSource = 'lambda.amazonaws.com';
    ctx.trail.eventName = 'Invoke';
    const m = INVOKE_PATH.exec(ctx.url.pathname);
    if (!m || ctx.method !== 'POST')
      throw new AwsError(
        'UnknownOperationException',
        `The sandbox's Lambda supports only Invoke, not ${ctx.method} ${ctx.url.pathname}`,
        404,
      );
    const invocationType = header(ctx, 'x-amz-invocation-type') ?? 'RequestResponse';
    const logType = header(ctx, 'x-amz-log-type') ?? 'None';
    const { fn, qualifier, arn } = this.resolve(decodeURIComponent(m[1]!), caller.session, scope.region);
    const q = ctx.url.searchParams.get('Qualifier') ?? qualifier;
    ctx.trail.requestParameters = { functionName: arn, invocationType, ...(q ? { qualifier: q } : {}) };
    if (!fn || (q !== undefined && q !== '$LATEST'))
      throw new AwsError('ResourceNotFoundException', `Function not found: ${arn}${q ? `:${q}` : ''}`, 404, {
        Type: 'User',
      });
    ctx.trail.recipientAccountId = fn.account;
    // The function's resource policy and, for a caller in another account, its identity policy.
    await this.policies.authorize(caller.session, 'lambda:InvokeFunction', arn, {
      resourceAccount: fn.account,
      resourcePolicy: this.policies.functionResourcePolicy(fn),
      context: { 'aws:RequestedRegion': fn.region },
      status: 403,
    });
    if (!['RequestResponse', 'Event', 'DryRun'].includes(invocationType))
      throw new AwsError(
        'InvalidParameterValueException',
        `Unsupported invocation type ${invocationType}`,
        400,
        { Type: 'User' },
      );
    if (ctx.body.length > MAX_PAYLOAD)
      throw new AwsError(
        'RequestTooLargeException',
        'Request must be smaller than 6291456 bytes for the InvokeFunction operation',
        413,
        { Type: 'User' },
      );
    const payload = ctx.body.length ? ctx.body.toString('utf8') : '{}';
    try {
      JSON.parse(payload);
    } catch {
      throw new AwsError(
        'InvalidRequestContentException',
        'Could not parse request body into json: Unexpected character',
        400,
        { Type: 'User' },
      );
    }
    if (invocationType === 'DryRun') return { status: 204, headers: {}, body: '' };
    const runtime = this.runtime(fn);
    const functionArn = runtime.arn;
    if (invocationType === 'Event') {
      const run = runtime
        .invoke(payload, ctx.requestId, functionArn)
        .catch((e: unknown) => this.log(`[lambda ${fn.name}] ${String(e)}`));
      this.background.add(run);
      void run.finally(() => this.background.delete(run));
      return { status: 202, headers: {}, body: '' };
    }
    const result = await runtime.invoke(payload, ctx.requestId, functionArn);
    return {
      status: 200,
      headers: {
        'content-type': 'application/json',
        'x-amz-executed-version': '$LATEST',
        ...(result.functionError ? { 'x-amz-function-error': result.functionError } : {}),
        ...(logType === 'Tail'
          ? {
              'x-amz-log-result': Buffer.from(
                `START RequestId: ${ctx.requestId} Version: $LATEST\n${result.logs}END RequestId: ${ctx.requestId}\n` +
                  `REPORT RequestId: ${ctx.requestId}\tDuration: ${result.durationMs.toFixed(2)} ms` +
                  (result.initDurationMs !== undefined
                    ? `\tInit Duration: ${result.initDurationMs.toFixed(2)} ms`
                    : '') +
                  '\n',
              )
                .subarray(-4096)
                .toString('base64'),
            }
          : {}),
      },
      body: result.payload,
    };
  }

  /** Bundles every function now (in the background); failures surface again at invoke. */
  prepare(): void {
    for (const fn of this.org.functions) {
      const run = this.runtime(fn)
        .prepare()
        .catch((e: unknown) => this.log(`[lambda ${fn.name}] not bundled yet: ${(e as Error).message}`));
      this.background.add(run);
      void run.finally(() => this.background.delete(run));
    }
  }

  async close(): Promise<void> {
    // Ending the workers first also ends in-flight Event invocations; then wait for pending bundles.
    await Promise.all([...this.runtimes.values()].map((r) => r.close()));
    await Promise.allSettled([...this.background]);
    if (this.workDir) rmSync(this.workDir, { recursive: true, force: true });
  }
}
